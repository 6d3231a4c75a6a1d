package pipeline

import (
	"testing"

	"github.com/zkafka/zkafka/jute"
)

// The cache as Apache's ResponseCache: a hit while the stat is unchanged, a changed stat replaces the entry, and an
// insertion-ordered map that drops its eldest entry on reaching its size (so size 3 keeps two, size 1 none).
func TestResponseCache(t *testing.T) {
	c := newResponseCache(3)
	encodes := 0
	get := func(path string, mzxid int64) string {
		return string(c.body(path, jute.Stat{Mzxid: mzxid}, func() []byte {
			encodes++
			return []byte(path)
		}))
	}
	counts := func(hits, misses int64) {
		t.Helper()
		if h, m := c.counters.Hits.Load(), c.counters.Misses.Load(); h != hits || m != misses {
			t.Fatalf("hits %d misses %d, want %d %d", h, m, hits, misses)
		}
	}
	if get("/a", 1) != "/a" || get("/a", 1) != "/a" || encodes != 1 {
		t.Fatal("second read not from the cache")
	}
	counts(1, 1)
	get("/a", 2) // changed: a miss, /a now last
	get("/b", 1)
	counts(1, 3)
	get("/a", 2)
	counts(2, 3)
	get("/c", 1) // three entries: the eldest, /a, goes
	get("/b", 1)
	get("/a", 2)
	counts(3, 5)
	one := newResponseCache(1)
	for range 2 {
		one.body("/x", jute.Stat{}, func() []byte { return nil })
	}
	if one.counters.Hits.Load() != 0 || one.counters.Misses.Load() != 2 {
		t.Fatal("a cache of size 1 holds nothing")
	}
}

package javahash

import (
	"slices"
	"testing"
)

func TestString(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int32
	}{
		{"abc", 96354},
		{"hello", 99162322},
		{"polygenelubricants", -1 << 31},
		{"my-group", -1906497762},
		{"😀", 0xD83D*31 + 0xDE00}, // a surrogate pair counts as two UTF-16 units
		{"", 0},
	} {
		if got := String(c.s); got != c.want {
			t.Errorf("String(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}

func TestHashMapOrder(t *testing.T) {
	// Java: new HashMap<>() with these keys iterates by (h ^ h>>>16) & 15, not by insertion.
	keys := []string{"retention.ms", "cleanup.policy", "segment.bytes", "retention.ms"}
	got := HashMapOrder(keys)
	if len(got) != 3 {
		t.Fatalf("a repeated key is one entry: %v", got)
	}
	bins := make([]uint32, len(got))
	for i, k := range got {
		bins[i] = Spread(String(k)) & 15
	}
	if !slices.IsSorted(bins) {
		t.Fatalf("order %v bins %v", got, bins)
	}
	// 13 keys outgrow 16 bins (load factor 0.75): the order is by bin of 32.
	var many []string
	for i := range 13 {
		many = append(many, string(rune('a'+i))+"-key")
	}
	bins = bins[:0]
	for _, k := range HashMapOrder(many) {
		bins = append(bins, Spread(String(k))&31)
	}
	if !slices.IsSorted(bins) {
		t.Fatalf("13 keys: bins %v", bins)
	}
}

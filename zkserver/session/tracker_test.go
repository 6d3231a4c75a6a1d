package session

import (
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
)

func TestInitialSessionID(t *testing.T) {
	cases := []struct {
		sid, now, want int64
	}{
		{0, 0, 0},
		{1, 0, 0x0100000000000000},
		// bits 16..55 hold the low 40 bits of the clock
		{1, 0x123, 0x0100000001230000},
		{5, 1700000000000, 5<<56 | (1700000000000&(1<<40-1))<<16},
		// a clock above 40 bits loses its high bits instead of touching the sid byte
		{3, 1<<40 | 7, 3<<56 | 7<<16},
		{255, 1, -0x100000000000000 | 1<<16},
		// the only way to reach Long.MIN_VALUE: sid 128 and a zero clock
		{128, 0, math.MinInt64 + 1},
	}
	for _, c := range cases {
		if got := InitialSessionID(c.sid, c.now); got != c.want {
			t.Errorf("InitialSessionID(%d, %#x) = %#x, want %#x", c.sid, c.now, got, c.want)
		}
	}
}

func TestCreateIncrementsAndSkips(t *testing.T) {
	tr := NewTracker(1, 2000, 0x42)
	first := tr.Create(4000, 0)
	if first != 0x0100000000420000 {
		t.Fatalf("first id %#x", first)
	}
	for i := int64(1); i < 5; i++ {
		if id := tr.Create(4000, 0); id != first+i {
			t.Fatalf("id %d = %#x, want %#x", i, id, first+i)
		}
	}
	if tr.Count() != 5 {
		t.Fatalf("count %d", tr.Count())
	}

	// A server id of 0 and a zero clock would start at id 0, which means "no
	// session".
	tr = NewTracker(0, 2000, 0)
	if id := tr.Create(4000, 0); id != 1 {
		t.Fatalf("got %#x, want 1", id)
	}

	// Ids in use (restored sessions) are not handed out again.
	tr = NewTracker(1, 2000, 0)
	tr.Add(1<<56, 4000, 0)
	tr.Add(1<<56+1, 4000, 0)
	if id := tr.Create(4000, 0); id != 1<<56+2 {
		t.Fatalf("got %#x, want %#x", id, int64(1<<56+2))
	}

	// Wrapping through Long.MIN_VALUE skips it.
	tr = NewTracker(0, 2000, 0)
	tr.next = math.MaxInt64
	if a, b := tr.Create(1, 0), tr.Create(1, 0); a != math.MaxInt64 || b != math.MinInt64+1 {
		t.Fatalf("got %#x %#x", a, b)
	}
}

func TestExpiryBuckets(t *testing.T) {
	const tick = 2000
	tr := NewTracker(1, tick, 0)
	a := tr.Create(5000, 1000)  // (1000+5000)/2000+1 = 4 -> 8000
	b := tr.Create(10000, 1000) // 11000/2000+1 = 6 -> 12000
	c := tr.Create(5000, 2999)  // 7999/2000+1 = 4 -> 8000
	want := map[int64][]int64{8000: {a, c}, 12000: {b}}
	if got := tr.ExpiryBuckets(); !mapsEqual(got, want) {
		t.Fatalf("buckets %v, want %v", got, want)
	}
	if tr.NextExpiry() != 8000 {
		t.Fatalf("next expiry %d", tr.NextExpiry())
	}

	// Touching a at 3000 moves it to (8000/2000+1)*2000 = 10000; the emptied
	// bucket stays until it is due, as Apache's ExpiryQueue keeps it.
	if !tr.Touch(a, 3000) {
		t.Fatal("touch failed")
	}
	want = map[int64][]int64{8000: {c}, 10000: {a}, 12000: {b}}
	if got := tr.ExpiryBuckets(); !mapsEqual(got, want) {
		t.Fatalf("buckets %v, want %v", got, want)
	}

	if got := tr.Expired(7999); len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	if got := tr.Expired(8000); !slices.Equal(got, []int64{c}) {
		t.Fatalf("expired at 8000: %v", got)
	}
	if !tr.IsClosing(c) || tr.Check(c) != jute.ErrSessionExpired {
		t.Fatal("expired session is not closing")
	}
	if tr.Touch(c, 8000) {
		t.Fatal("touch of a closing session succeeded")
	}
	// Expired sessions stay tracked (and in snapshots) until removed.
	if tr.Count() != 3 {
		t.Fatalf("count %d", tr.Count())
	}

	// Touch a so it becomes empty at 10000, then jump past everything.
	tr.Touch(a, 9000) // 14000/2000+1 = 8 -> 16000
	if got := tr.Expired(12000); !slices.Equal(got, []int64{b}) {
		t.Fatalf("expired at 12000: %v", got)
	}
	want = map[int64][]int64{16000: {a}}
	if got := tr.ExpiryBuckets(); !mapsEqual(got, want) {
		t.Fatalf("buckets %v, want %v", got, want)
	}
	if got := tr.Expired(100000); !slices.Equal(got, []int64{a}) {
		t.Fatalf("expired: %v", got)
	}
	if tr.NextExpiry() != 0 {
		t.Fatalf("next expiry %d", tr.NextExpiry())
	}
	for _, id := range []int64{a, b, c} {
		tr.Remove(id)
	}
	if tr.Count() != 0 || tr.Check(a) != jute.ErrUnknownSession {
		t.Fatal("remove left sessions behind")
	}
}

func TestTouchSameBucketIsNoop(t *testing.T) {
	tr := NewTracker(1, 1000, 0)
	id := tr.Create(3000, 100) // 3100 -> 4000
	tr.Touch(id, 900)          // 3900 -> 4000, unchanged
	if got := tr.ExpiryBuckets(); len(got) != 1 || !slices.Equal(got[4000], []int64{id}) {
		t.Fatalf("buckets %v", got)
	}
}

func TestAddKeepsTimeoutRenewsExpiry(t *testing.T) {
	tr := NewTracker(1, 1000, 0)
	tr.Add(7, 3000, 0) // -> 4000
	tr.Add(7, 9000, 0) // existing session: timeout kept, expiry -> 10000
	if to, ok := tr.Timeout(7); !ok || to != 3000 {
		t.Fatalf("timeout %d %v", to, ok)
	}
	if got := tr.ExpiryBuckets(); !mapsEqual(got, map[int64][]int64{4000: {}, 10000: {7}}) {
		t.Fatalf("buckets %v", got)
	}
	if _, ok := tr.Timeout(8); ok {
		t.Fatal("unknown session has a timeout")
	}
	if got := tr.Sessions(); len(got) != 1 || got[7] != 3000 {
		t.Fatalf("sessions %v", got)
	}
}

func TestCheckAndOwner(t *testing.T) {
	tr := NewTracker(1, 1000, 0)
	id := tr.Create(3000, 0)
	if tr.Check(id) != jute.ErrOK || tr.Check(id+1) != jute.ErrUnknownSession {
		t.Fatal("check")
	}
	if tr.Touch(id+1, 0) {
		t.Fatal("touch of an unknown session succeeded")
	}
	type conn struct{ n int }
	c1, c2 := &conn{1}, &conn{2}
	if tr.CheckOwner(id, c1) != jute.ErrOK || tr.CheckOwner(id, c1) != jute.ErrOK {
		t.Fatal("first owner refused")
	}
	if tr.CheckOwner(id, c2) != jute.ErrSessionMoved {
		t.Fatal("second owner not refused")
	}
	if tr.SetOwner(id, c2) != jute.ErrOK || tr.CheckOwner(id, c2) != jute.ErrOK || tr.CheckOwner(id, c1) != jute.ErrSessionMoved {
		t.Fatal("SetOwner did not move the session")
	}
	if tr.SetOwner(id+1, c1) != jute.ErrSessionExpired || tr.CheckOwner(id+1, c1) != jute.ErrUnknownSession {
		t.Fatal("unknown session")
	}
	if !tr.SetClosing(id) || tr.SetClosing(id+1) {
		t.Fatal("SetClosing")
	}
	if tr.CheckOwner(id, c2) != jute.ErrSessionExpired || tr.SetOwner(id, c2) != jute.ErrSessionExpired {
		t.Fatal("closing session")
	}
}

func TestDump(t *testing.T) {
	tr := NewTracker(1, 1000, 0)
	tr.Add(0x100, 3000, 0)    // 4000
	tr.Add(-0x200, 3000, 500) // 4000
	tr.Add(0x300, 3000, 0)
	tr.Touch(0x300, 1500) // 5000, leaves nothing behind (4000 still has two)
	tr.Add(0x400, 9000, 0)
	tr.Touch(0x400, 1000) // 10000 -> 11000, leaves an empty 10000 bucket
	got := tr.DumpIn(time.UTC)
	want := "Session Sets (4)/(4):\n" +
		"2 expire at Thu Jan 01 00:00:04 UTC 1970:\n\t0xfffffffffffffe00\n\t0x100\n" +
		"1 expire at Thu Jan 01 00:00:05 UTC 1970:\n\t0x300\n" +
		"0 expire at Thu Jan 01 00:00:10 UTC 1970:\n" +
		"1 expire at Thu Jan 01 00:00:11 UTC 1970:\n\t0x400\n"
	if got != want {
		t.Fatalf("dump:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasPrefix(tr.Dump(), "Session Sets (4)/(4):\n") {
		t.Fatal("Dump")
	}
}

func TestConcurrentUse(t *testing.T) {
	tr := NewTracker(2, 100, 0)
	var wg sync.WaitGroup
	ids := make([][]int64, 4)
	for g := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				id := tr.Create(1000, int64(i))
				ids[g] = append(ids[g], id)
				tr.Touch(id, int64(i+1))
				tr.Check(id)
				_ = tr.NextExpiry()
			}
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, l := range ids {
		for _, id := range l {
			if seen[id] {
				t.Fatalf("id %#x handed out twice", id)
			}
			seen[id] = true
		}
	}
	if len(tr.Expired(1<<40)) != 800 {
		t.Fatal("not every session expired")
	}
}

func mapsEqual(a, b map[int64][]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

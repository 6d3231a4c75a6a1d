package fetchsession

import (
	"math"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func tp(t string, p int32) TopicPartition { return TopicPartition{Topic: t, Partition: p} }

func preq(t string, p int32, off int64) PartitionRequest {
	return PartitionRequest{TopicPartition: tp(t, p), FetchOffset: off, MaxBytes: 1 << 20, LogStartOffset: -1,
		CurrentLeaderEpoch: -1, LastFetchedEpoch: -1}
}

// quiet is a result with nothing new: the given high watermark, log start 0.
func quiet(hw int64) PartitionResult {
	return PartitionResult{HighWatermark: hw, LastStableOffset: hw, PreferredReadReplica: -1}
}

func names(ps []PartitionRequest) []TopicPartition {
	var out []TopicPartition
	for _, p := range ps {
		out = append(out, p.TopicPartition)
	}
	return out
}

func included(x *Context, r Response) []TopicPartition {
	var out []TopicPartition
	for i, p := range x.Partitions() {
		if r.Include == nil || r.Include[i] {
			out = append(out, p.TopicPartition)
		}
	}
	return out
}

// openSession runs a full fetch of parts at time now and returns the new session id.
func openSession(t *testing.T, c *Cache, now int64, follower bool, parts ...PartitionRequest) int32 {
	t.Helper()
	x := c.NewContext(now, 0, InitialEpoch, parts, nil, follower)
	if x.Kind() != Full {
		t.Fatalf("kind %v, want full", x.Kind())
	}
	res := make([]PartitionResult, len(parts))
	for i := range res {
		res[i] = quiet(10)
	}
	r := x.Respond(now, res)
	if r.ErrorCode != 0 || r.Include != nil {
		t.Fatalf("full response %+v", r)
	}
	return r.SessionID
}

func TestNextEpoch(t *testing.T) {
	for _, c := range []struct{ in, want int32 }{{-1, -1}, {-7, -1}, {0, 1}, {1, 2}, {math.MaxInt32, 1}} {
		if got := NextEpoch(c.in); got != c.want {
			t.Errorf("NextEpoch(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestSessionlessAndDedupe(t *testing.T) {
	c := NewCache(10, DefaultEvictionMs, 1)
	parts := []PartitionRequest{preq("a", 0, 1), preq("b", 0, 2), preq("a", 0, 3)}
	x := c.NewContext(0, 0, FinalEpoch, parts, nil, false)
	if x.Kind() != Sessionless {
		t.Fatalf("kind %v", x.Kind())
	}
	// Kafka's LinkedHashMap: first position, last value.
	if got := x.Partitions(); len(got) != 2 || got[0].TopicPartition != tp("a", 0) || got[0].FetchOffset != 3 || got[1].FetchOffset != 2 {
		t.Fatalf("partitions %+v", got)
	}
	r := x.Respond(0, []PartitionResult{quiet(1), quiet(1)})
	if r.ErrorCode != 0 || r.SessionID != 0 || r.Include != nil || c.Len() != 0 {
		t.Fatalf("response %+v, %d sessions", r, c.Len())
	}
}

func TestFullThenIncremental(t *testing.T) {
	c := NewCache(10, DefaultEvictionMs, 1)
	id := openSession(t, c, 0, false, preq("a", 0, 0), preq("a", 1, 0), preq("b", 0, 0))
	if id == InvalidSessionID {
		t.Fatal("no session")
	}
	if ep, ok := c.Epoch(id); !ok || ep != 1 {
		t.Fatalf("epoch %d %v, want 1", ep, ok)
	}
	if c.Len() != 1 || c.NumPartitions() != 3 {
		t.Fatalf("len %d partitions %d", c.Len(), c.NumPartitions())
	}

	// Nothing listed: every cached partition is read, only the one with data is sent.
	x := c.NewContext(1, id, 1, nil, nil, false)
	if x.Kind() != Incremental {
		t.Fatalf("kind %v", x.Kind())
	}
	if got := names(x.Partitions()); !slices.Equal(got, []TopicPartition{tp("a", 0), tp("a", 1), tp("b", 0)}) {
		t.Fatalf("partitions %v", got)
	}
	res := []PartitionResult{quiet(10), quiet(10), quiet(10)}
	res[0].RecordBytes = 100
	r := x.Respond(1, res)
	if r.SessionID != id || r.ErrorCode != 0 {
		t.Fatalf("response %+v", r)
	}
	if got := included(x, r); !slices.Equal(got, []TopicPartition{tp("a", 0)}) {
		t.Fatalf("included %v", got)
	}

	// a-0 answered, so it moved to the back; a new fetch offset for b-0 comes in the request.
	p := preq("b", 0, 5)
	x = c.NewContext(2, id, 2, []PartitionRequest{p}, nil, false)
	if got := names(x.Partitions()); !slices.Equal(got, []TopicPartition{tp("a", 1), tp("b", 0), tp("a", 0)}) {
		t.Fatalf("partitions %v", got)
	}
	if x.Partitions()[1].FetchOffset != 5 {
		t.Fatalf("b-0 fetch offset %d", x.Partitions()[1].FetchOffset)
	}
	// High watermark change on a-1, log start change on a-0, LSO change on b-0.
	res = []PartitionResult{quiet(11), quiet(10), quiet(10)}
	res[1].LastStableOffset = 9
	res[2].LogStartOffset = 3
	r = x.Respond(2, res)
	if got := included(x, r); !slices.Equal(got, []TopicPartition{tp("a", 1), tp("b", 0), tp("a", 0)}) {
		t.Fatalf("included %v", got)
	}

	// The same values again: nothing to send.
	x = c.NewContext(3, id, 3, nil, nil, false)
	// The order is a-1, b-0, a-0 again (all three answered).
	res = []PartitionResult{quiet(11), quiet(10), quiet(10)}
	res[1].LastStableOffset = 9
	res[2].LogStartOffset = 3
	r = x.Respond(3, res)
	if got := included(x, r); len(got) != 0 {
		t.Fatalf("included %v", got)
	}
}

func TestIncrementalErrorsAndAdds(t *testing.T) {
	c := NewCache(10, DefaultEvictionMs, 1)
	id := openSession(t, c, 0, false, preq("a", 0, 0))

	// An error is always sent and invalidates the cached high watermark ...
	x := c.NewContext(0, id, 1, nil, nil, false)
	res := []PartitionResult{{HighWatermark: -1, LastStableOffset: -1, LogStartOffset: -1, PreferredReadReplica: -1,
		ErrorCode: kerr.NotLeaderForPartition.Code}}
	if got := included(x, x.Respond(0, res)); len(got) != 1 {
		t.Fatalf("error not included: %v", got)
	}
	// ... so the partition is sent again when the error is gone, even with the old values.
	x = c.NewContext(0, id, 2, nil, nil, false)
	if got := included(x, x.Respond(0, []PartitionResult{quiet(10)})); len(got) != 1 {
		t.Fatalf("recovered partition not included: %v", got)
	}

	// A partition added by an incremental fetch is always sent the first time.
	x = c.NewContext(0, id, 3, []PartitionRequest{preq("b", 0, 0)}, nil, false)
	if got := names(x.Partitions()); !slices.Equal(got, []TopicPartition{tp("a", 0), tp("b", 0)}) {
		t.Fatalf("partitions %v", got)
	}
	if got := included(x, x.Respond(0, []PartitionResult{quiet(10), quiet(0)})); !slices.Equal(got, []TopicPartition{tp("b", 0)}) {
		t.Fatalf("included %v", got)
	}
	if c.NumPartitions() != 2 {
		t.Fatalf("cached partitions %d", c.NumPartitions())
	}
	// A preferred read replica and a diverging epoch force the partition out too.
	x = c.NewContext(0, id, 4, nil, nil, false)
	res = []PartitionResult{quiet(10), quiet(0)}
	res[0].PreferredReadReplica = 2
	res[1].DivergingEpoch = true
	if got := included(x, x.Respond(0, res)); len(got) != 2 {
		t.Fatalf("included %v", got)
	}
}

func TestForgottenAndEmptySession(t *testing.T) {
	c := NewCache(10, DefaultEvictionMs, 1)
	id := openSession(t, c, 0, false, preq("a", 0, 0), preq("a", 1, 0))
	x := c.NewContext(0, id, 1, nil, []TopicPartition{tp("a", 0), tp("zz", 9)}, false)
	if got := names(x.Partitions()); !slices.Equal(got, []TopicPartition{tp("a", 1)}) {
		t.Fatalf("partitions %v", got)
	}
	x.Respond(0, []PartitionResult{quiet(10)})
	// Forgetting the last partition closes the session; the fetch itself goes on without one.
	x = c.NewContext(0, id, 2, []PartitionRequest{preq("c", 0, 0)}, []TopicPartition{tp("a", 1), tp("c", 0)}, false)
	if x.Kind() != Sessionless || c.Len() != 0 || c.NumPartitions() != 0 {
		t.Fatalf("kind %v, %d sessions, %d partitions", x.Kind(), c.Len(), c.NumPartitions())
	}
	if got := names(x.Partitions()); !slices.Equal(got, []TopicPartition{tp("c", 0)}) {
		t.Fatalf("partitions %v", got)
	}
	if x := c.NewContext(0, id, 3, nil, nil, false); x.ErrorCode() != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("closed session: kind %v code %d", x.Kind(), x.ErrorCode())
	}
}

func TestSessionErrors(t *testing.T) {
	c := NewCache(10, DefaultEvictionMs, 1)
	x := c.NewContext(0, 12345, 1, []PartitionRequest{preq("a", 0, 0)}, nil, false)
	if x.Kind() != SessionError || x.ErrorCode() != kerr.FetchSessionIDNotFound.Code || len(x.Partitions()) != 0 {
		t.Fatalf("unknown session: %v %d", x.Kind(), x.ErrorCode())
	}
	if r := x.Respond(0, nil); r.ErrorCode != kerr.FetchSessionIDNotFound.Code || r.SessionID != 0 {
		t.Fatalf("response %+v", r)
	}
	// An incremental epoch with no session id is not found either.
	if x := c.NewContext(0, 0, 5, nil, nil, false); x.ErrorCode() != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("session 0: %d", x.ErrorCode())
	}

	id := openSession(t, c, 0, false, preq("a", 0, 0))
	for _, ep := range []int32{2, 7, -3} {
		if x := c.NewContext(0, id, ep, nil, nil, false); x.ErrorCode() != kerr.InvalidFetchSessionEpoch.Code {
			t.Fatalf("epoch %d: kind %v code %d", ep, x.Kind(), x.ErrorCode())
		}
	}
	// A wrong epoch leaves the session alone.
	if ep, _ := c.Epoch(id); ep != 1 {
		t.Fatalf("epoch moved to %d", ep)
	}

	// Two requests race with one epoch: the first context wins, a duplicate gets INVALID_FETCH_SESSION_EPOCH.
	x1 := c.NewContext(0, id, 1, nil, nil, false)
	if x2 := c.NewContext(0, id, 1, nil, nil, false); x2.ErrorCode() != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("duplicate: %v", x2.Kind())
	}
	// A response made after the session moved on is refused with the session's id.
	x3 := c.NewContext(0, id, 2, nil, nil, false)
	if r := x1.Respond(0, []PartitionResult{quiet(10)}); r.ErrorCode != kerr.InvalidFetchSessionEpoch.Code || r.SessionID != id {
		t.Fatalf("stale response %+v", r)
	}
	if r := x3.Respond(0, []PartitionResult{quiet(10)}); r.ErrorCode != 0 {
		t.Fatalf("current response %+v", r)
	}
}

func TestFullFetchClosesNamedSession(t *testing.T) {
	c := NewCache(10, DefaultEvictionMs, 1)
	id := openSession(t, c, 0, false, preq("a", 0, 0))
	// A full fetch naming the session closes it and opens another.
	x := c.NewContext(0, id, InitialEpoch, []PartitionRequest{preq("a", 0, 0)}, nil, false)
	if _, ok := c.Epoch(id); ok {
		t.Fatal("old session still there")
	}
	id2 := x.Respond(0, []PartitionResult{quiet(1)}).SessionID
	if id2 == InvalidSessionID || id2 == id || c.Len() != 1 {
		t.Fatalf("new session %d (old %d), %d sessions", id2, id, c.Len())
	}
	// FINAL_EPOCH with a session id closes it and answers without a session.
	x = c.NewContext(0, id2, FinalEpoch, []PartitionRequest{preq("a", 0, 0)}, nil, false)
	if x.Kind() != Sessionless || c.Len() != 0 {
		t.Fatalf("kind %v, %d sessions", x.Kind(), c.Len())
	}
}

func TestEviction(t *testing.T) {
	const ev = DefaultEvictionMs
	t.Run("full cache refuses fresh consumers", func(t *testing.T) {
		c := NewCache(2, ev, 1)
		openSession(t, c, 0, false, preq("a", 0, 0))
		openSession(t, c, 0, false, preq("a", 0, 0))
		if id := openSession(t, c, 10, false, preq("a", 0, 0), preq("a", 1, 0)); id != InvalidSessionID {
			t.Fatalf("got session %d in a full cache", id)
		}
		if c.Len() != 2 || c.Evictions() != 0 {
			t.Fatalf("len %d evictions %d", c.Len(), c.Evictions())
		}
	})
	t.Run("followers evict consumers", func(t *testing.T) {
		c := NewCache(2, ev, 1)
		a := openSession(t, c, 0, false, preq("a", 0, 0), preq("a", 1, 0))
		b := openSession(t, c, 0, false, preq("a", 0, 0))
		f := openSession(t, c, 10, true, preq("a", 0, 0))
		if f == InvalidSessionID {
			t.Fatal("follower got no session")
		}
		// The smaller consumer session goes first.
		if _, ok := c.Epoch(b); ok {
			t.Fatal("smaller session kept")
		}
		if _, ok := c.Epoch(a); !ok {
			t.Fatal("larger session evicted")
		}
		// Fresh privileged sessions are safe from other followers with fewer partitions ...
		g := openSession(t, c, 20, true, preq("x", 0, 0))
		if _, ok := c.Epoch(a); ok || g == InvalidSessionID {
			t.Fatal("consumer a should have gone for the second follower")
		}
		if id := openSession(t, c, 30, true, preq("y", 0, 0)); id != InvalidSessionID {
			t.Fatal("a fresh follower session was evicted")
		}
		// ... and from consumers.
		if id := openSession(t, c, 30, false, preq("y", 0, 0), preq("y", 1, 0), preq("y", 2, 0)); id != InvalidSessionID {
			t.Fatal("a consumer evicted a follower")
		}
		_ = f
	})
	t.Run("stale sessions go to anyone", func(t *testing.T) {
		c := NewCache(2, ev, 1)
		a := openSession(t, c, 0, true, preq("a", 0, 0), preq("a", 1, 0))
		b := openSession(t, c, 100, true, preq("a", 0, 0), preq("a", 1, 0))
		id := openSession(t, c, ev+1, false, preq("c", 0, 0))
		if id == InvalidSessionID {
			t.Fatal("no session though one was stale")
		}
		if _, ok := c.Epoch(a); ok {
			t.Fatal("least recently used session kept")
		}
		if _, ok := c.Epoch(b); !ok {
			t.Fatal("wrong session evicted")
		}
		if c.Evictions() != 1 {
			t.Fatalf("evictions %d", c.Evictions())
		}
	})
	t.Run("old sessions by size", func(t *testing.T) {
		c := NewCache(1, ev, 1)
		a := openSession(t, c, 0, false, preq("a", 0, 0), preq("a", 1, 0), preq("a", 2, 0))
		// Used recently (not stale), but touched after it was older than the eviction time: evictable by all.
		now := int64(ev + 10)
		x := c.NewContext(now, a, 1, nil, nil, false)
		x.Respond(now, []PartitionResult{quiet(10), quiet(10), quiet(10)})
		if id := openSession(t, c, now+1, false, preq("b", 0, 0), preq("b", 1, 0)); id != InvalidSessionID {
			t.Fatal("a smaller consumer session evicted a larger one")
		}
		if id := openSession(t, c, now+1, false, preq("b", 0, 0), preq("b", 1, 0), preq("b", 2, 0), preq("b", 3, 0)); id == InvalidSessionID {
			t.Fatal("a larger session could not evict an old one")
		}
		if _, ok := c.Epoch(a); ok {
			t.Fatal("old session kept")
		}
	})
	t.Run("no slots", func(t *testing.T) {
		c := NewCache(0, ev, 1)
		if id := openSession(t, c, 0, true, preq("a", 0, 0)); id != InvalidSessionID {
			t.Fatal("session in a zero-slot cache")
		}
	})
}

func TestSessionIDsAreDeterministic(t *testing.T) {
	ids := func() []int32 {
		c := NewCache(100, DefaultEvictionMs, 42)
		var out []int32
		for range 5 {
			out = append(out, openSession(t, c, 0, false, preq("a", 0, 0)))
		}
		return out
	}
	a, b := ids(), ids()
	if !slices.Equal(a, b) {
		t.Fatalf("%v != %v", a, b)
	}
	for _, id := range a {
		if id <= 0 {
			t.Fatalf("id %d", id)
		}
	}
}

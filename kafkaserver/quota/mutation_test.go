package quota

import (
	"errors"
	"math"
	"testing"
)

// The token bucket of TokenBucket's own example: quota 5/s, 100 windows of 1 s, so a burst of 500; 560 at once
// leaves -60, which takes 12 s to refill to zero.
func TestTokenBucket(t *testing.T) {
	var b TokenBucket
	if got := b.Measure(5, 500, 0); got != 0 {
		t.Fatalf("a new bucket holds %v at time 0", got)
	}
	if got := b.Measure(5, 500, 1000); got != 5 {
		t.Fatalf("one second's refill: %v", got)
	}
	if got := b.Measure(5, 500, 200_000); got != 500 {
		t.Fatalf("refilled past the burst: %v", got)
	}
	b.Record(560, 5, 500, 200_000)
	for _, c := range []struct {
		at   int64
		want float64
	}{{200_000, -60}, {206_000, -30}, {212_000, 0}, {400_000, 500}} {
		if got := b.Measure(5, 500, c.at); got != c.want {
			t.Errorf("at %d: %v, want %v", c.at, got, c.want)
		}
	}
	b.Record(-1000, 5, 500, 400_000)
	if got := b.Measure(5, 500, 400_000); got != 500 {
		t.Fatalf("given back beyond the burst: %v", got)
	}
}

func newMutations() *Clients {
	// controller.quota.window.num=10, controller.quota.window.size.seconds=1: a bucket holds 10 s of the quota.
	return NewClients(ClientConfig{Type: ControllerMutation, Windows: 10, WindowMs: 1000})
}

// t0 is a wall-clock time: a sensor's bucket, empty at time 0, is full by then.
const t0 = 1_700_000_000_000

func tokensOf(t *testing.T, c *Clients, tags Tags, nowMs int64) SensorStats {
	t.Helper()
	for _, s := range c.Stats(nowMs) {
		if s.Tags == tags {
			return s
		}
	}
	t.Fatalf("no sensor %+v", tags)
	return SensorStats{}
}

// A strict quota (CreateTopics v6+, CreatePartitions v3+, DeleteTopics v5+) lets anything through while the bucket
// is not below zero, then refuses, records nothing more, and throttles until it is back at zero.
func TestMutationQuotaStrict(t *testing.T) {
	c := newMutations()
	if q := c.MutationQuota("ANONYMOUS", "s", true, t0); q != nil || q.Record(1e9, t0) != nil || q.ThrottleTime(t0) != 0 {
		t.Fatal("a quota without any controller mutation quota set")
	}
	c.SetQuota(Entity{Client: "s"}, bound(2)) // burst 2/s * 10 s = 20
	q := c.MutationQuota("ANONYMOUS", "s", true, t0)
	if err := q.Record(15, t0); err != nil {
		t.Fatal(err)
	}
	// 5 left: not exhausted, so 10 more go through, to -5, and the request is not throttled.
	if err := q.Record(10, t0); err != nil || q.ThrottleTime(t0) != 0 {
		t.Fatalf("second topic: %v, throttle %d", err, q.ThrottleTime(t0))
	}
	// Exhausted: refused; -(-5)/2 * 1000 = 2500 ms to refill to zero.
	var ee *ExceededError
	if err := q.Record(1, t0); !errors.As(err, &ee) || ee.ThrottleMs != 2500 {
		t.Fatalf("third topic: %v", err)
	}
	// The response's throttle time is what is left of it when the response goes out.
	for at, want := range map[int64]int{t0: 2500, t0 + 1000: 1500, t0 + 3000: 0} {
		if got := q.ThrottleTime(at); got != want {
			t.Errorf("throttle at +%d ms: %d, want %d", at-t0, got, want)
		}
	}
	// The refused topic was not recorded; mutation-rate is 25 over its minimum 30 s window.
	if s := tokensOf(t, c, Tags{ClientID: "s"}, t0); s.Tokens != -5 || s.Rate != 25.0/30 {
		t.Fatalf("sensor: tokens %v, rate %v", s.Tokens, s.Rate)
	}
	// The next request 2 s later finds -1 left: refused for 500 ms; at +2.5 s the bucket is at zero and lets 4 in.
	if err := c.MutationQuota("ANONYMOUS", "s", true, t0+2000).Record(1, t0+2000); !errors.As(err, &ee) || ee.ThrottleMs != 500 {
		t.Fatalf("at +2 s: %v", err)
	}
	q = c.MutationQuota("ANONYMOUS", "s", true, t0+2500)
	if err := q.Record(4, t0+2500); err != nil || q.ThrottleTime(t0+2500) != 0 {
		t.Fatalf("at +2.5 s: %v", err)
	}
	// A client id without a quota has Kafka's Long.MaxValue bound: never refused.
	q = c.MutationQuota("ANONYMOUS", "other", true, t0)
	for range 3 {
		if err := q.Record(1e9, t0); err != nil {
			t.Fatalf("unlimited client: %v", err)
		}
	}
	// Removing the quota lifts it: the bound is Long.MaxValue again, refilling the bucket at once.
	c.SetQuota(Entity{Client: "s"}, nil)
	q = c.MutationQuota("ANONYMOUS", "s", true, t0+2501)
	if err := q.Record(1000, t0+2501); err != nil || q.Record(1000, t0+2501) != nil {
		t.Fatalf("after removal: %v", err)
	}
}

// A permissive quota (older versions, automatic topic creation) records everything and throttles the response
// once the bucket is below zero; a strict quota of the same client then sees the debt.
func TestMutationQuotaPermissive(t *testing.T) {
	c := newMutations()
	c.SetQuota(Entity{Client: "p"}, bound(2))
	q := c.MutationQuota("ANONYMOUS", "p", false, t0)
	if err := q.Record(15, t0); err != nil || q.ThrottleTime(t0) != 0 {
		t.Fatalf("under the burst: %v, throttle %d", err, q.ThrottleTime(t0))
	}
	if err := q.Record(10, t0); err != nil || q.ThrottleTime(t0) != 2500 {
		t.Fatalf("to -5: %v, throttle %d, want 2500", err, q.ThrottleTime(t0))
	}
	// Over an exhausted bucket too: -15 is 7.5 s of refill.
	if err := q.Record(10, t0); err != nil || q.ThrottleTime(t0) != 7500 || q.ThrottleTime(t0+500) != 7000 {
		t.Fatalf("to -15: %v, throttle %d", err, q.ThrottleTime(t0))
	}
	var ee *ExceededError
	if err := c.MutationQuota("ANONYMOUS", "p", true, t0+500).Record(1, t0+500); !errors.As(err, &ee) || ee.ThrottleMs != 7000 {
		t.Fatalf("strict after permissive: %v", err)
	}
	// A quota raised live refills at the new rate: -14 at +0.5 s, back at zero 0.7 s later at 20/s (not at 2/s).
	c.SetQuota(Entity{Client: "p"}, bound(20))
	if err := c.MutationQuota("ANONYMOUS", "p", true, t0+1200).Record(1, t0+1200); err != nil {
		t.Fatalf("after the quota was raised: %v", err)
	}
}

// The quota levels are the other client quotas': a user's default quota gives each user one bucket, shared by
// its client ids.
func TestMutationQuotaLevels(t *testing.T) {
	c := newMutations()
	c.SetQuota(Entity{User: DefaultEntity}, bound(1)) // burst 10
	if err := c.MutationQuota("alice", "x", true, t0).Record(10, t0); err != nil {
		t.Fatal(err)
	}
	if err := c.MutationQuota("alice", "y", true, t0).Record(1, t0); err != nil {
		t.Fatal(err)
	}
	var ee *ExceededError
	if err := c.MutationQuota("alice", "x", true, t0).Record(1, t0); !errors.As(err, &ee) || ee.ThrottleMs != 1000 {
		t.Fatalf("alice's shared bucket: %v", err)
	}
	if err := c.MutationQuota("bob", "x", true, t0).Record(10, t0); err != nil {
		t.Fatalf("bob has a bucket of his own: %v", err)
	}
	if s := tokensOf(t, c, Tags{User: "alice"}, t0+500); s.Tokens != -0.5 || !math.IsNaN(s.ThrottleTime) {
		t.Fatalf("alice's sensor: %+v", s)
	}
}

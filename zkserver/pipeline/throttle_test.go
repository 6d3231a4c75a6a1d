package pipeline

import (
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
)

func TestThrottleQueueTimeSummary(t *testing.T) {
	var s ThrottleStats
	for v := int64(1); v <= 100; v++ {
		s.addQueueTime(v)
	}
	q := s.QueueTime()
	// Dropwizard's UniformSnapshot over 1..100: the median at rank 50.5, p99 at rank 99.99.
	if q.Count != 100 || q.Sum != 5050 || q.Min != 1 || q.Max != 100 || q.P50 != 51 || q.P90 != 91 || q.P99 != 100 || q.P999 != 100 {
		t.Fatalf("%+v", q)
	}
	for range summarySamples {
		s.addQueueTime(7)
	}
	if q := s.QueueTime(); q.P50 != 7 || q.Max != 100 || q.Count != 100+summarySamples {
		t.Fatalf("after the ring turned: %+v", q)
	}
	s.Reset()
	if q := s.QueueTime(); q != (Summary{}) {
		t.Fatalf("reset: %+v", q)
	}
}

func TestThrottlerStale(t *testing.T) {
	th := &throttler{cfg: ThrottleConfig{StaleConnectionCheck: true}}
	c := &Client{}
	c.timeout.Store(100)
	r := &Request{Client: c, Op: jute.OpCreate, Start: time.Now().Add(-time.Second)}
	if th.stale(r) {
		t.Fatal("open connection stale")
	}
	c.closed.Store(true)
	if !th.stale(r) || th.stale(&Request{Client: c, Op: jute.OpCloseSession}) {
		t.Fatal("closed connection: a create is stale, a closeSession never")
	}
	c.closed.Store(false)
	th.cfg = ThrottleConfig{StaleLatencyCheck: true}
	if !th.stale(r) || th.stale(&Request{Client: c, Op: jute.OpCreate, Start: time.Now()}) {
		t.Fatal("latency check: older than the session timeout is stale")
	}
	if throttlable(jute.OpPing) || throttlable(jute.OpCloseSession) || !throttlable(jute.OpGetData) {
		t.Fatal("throttlable")
	}
}

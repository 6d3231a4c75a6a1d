package pipeline

import (
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
)

// The throttle's queue times are its summary's values.
func TestThrottleQueueTimeSummary(t *testing.T) {
	var s ThrottleStats
	for v := int64(1); v <= 100; v++ {
		s.addQueueTime(v)
	}
	if q := s.QueueTime(); q.Count != 100 || q.Sum != 5050 || q.Min != 1 || q.Max != 100 || q.P50 != 51 {
		t.Fatalf("%+v", q)
	}
	s.Reset()
	if q := s.QueueTime(); q != (metrics.Summary{}) {
		t.Fatalf("reset: %+v", q)
	}
}

func TestThrottlerStale(t *testing.T) {
	p := &Processor{cfg: Config{Throttle: ThrottleConfig{StaleConnectionCheck: true}}}
	c := &Client{}
	c.timeout.Store(100)
	old := time.Now().Add(-time.Second)
	if p.stale(c, jute.OpCreate, old) {
		t.Fatal("open connection stale")
	}
	c.closed.Store(true)
	if !p.stale(c, jute.OpCreate, old) || p.stale(c, jute.OpCloseSession, old) {
		t.Fatal("closed connection: a create is stale, a closeSession never")
	}
	c.closed.Store(false)
	p.cfg.Throttle = ThrottleConfig{StaleLatencyCheck: true}
	if !p.stale(c, jute.OpCreate, old) || p.stale(c, jute.OpCreate, time.Now()) {
		t.Fatal("latency check: older than the session timeout is stale")
	}
	if throttlable(jute.OpPing) || throttlable(jute.OpCloseSession) || !throttlable(jute.OpGetData) {
		t.Fatal("throttlable")
	}
}

// stale_replies is FinalRequestProcessor's count of requests answered once stale (by default: their connection has
// closed), whether or not the RequestThrottler runs; answers sent before that check (a failed write's ErrorTxn)
// and closeSession (never stale) are not counted. stale_requests counts each request of the closed connection as
// the throttler passes it on.
func TestStaleReplies(t *testing.T) {
	p := startStandalone(t, func(c *Config) { c.Throttle = ThrottleConfig{StaleConnectionCheck: true} })
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}})
	out.next(t)
	other, otherOut := roClient(p)
	p.Connect(other, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}})
	otherOut.next(t)
	submit(p, c, 1, jute.OpCreate, persistent("/a"))
	expectReply(t, out, 1, jute.ErrOK)
	ts := p.ThrottleStats()
	if ts.StaleReplies.Load() != 0 || ts.Stale.Load() != 0 {
		t.Fatalf("open connection: stale_replies %d, stale_requests %d", ts.StaleReplies.Load(), ts.Stale.Load())
	}

	c.closed.Store(true) // the client went away with these requests read
	submit(p, c, 2, jute.OpGetData, &jute.GetDataRequest{Path: "/a"})
	submit(p, c, 3, jute.OpGetData, &jute.GetDataRequest{Path: "/none"}) // NoNode comes after the check
	p.Submit(&Request{Client: c, Xid: jute.XidPing, Op: jute.OpPing, Start: time.Now()})
	submit(p, c, 4, jute.OpDelete, &jute.DeleteRequest{Path: "/none", Version: -1}) // ErrorTxn: not counted
	submit(p, c, 5, jute.OpSetData, &jute.SetDataRequest{Path: "/a", Data: []byte("x"), Version: -1})
	submit(p, c, 6, jute.OpCloseSession, nil)
	// Batches are delivered in order: once the other client's answer is out, the closed client's were handled.
	submit(p, other, 1, jute.OpExists, &jute.ExistsRequest{Path: "/a"})
	expectReply(t, otherOut, 1, jute.ErrOK)
	if got := ts.StaleReplies.Load(); got != 4 {
		t.Fatalf("stale_replies %d, want 4 (two reads, the ping, the setData)", got)
	}
	if got := ts.Stale.Load(); got != 5 {
		t.Fatalf("stale_requests %d, want 5 (all but the closeSession)", got)
	}
	ts.Reset()
	if ts.StaleReplies.Load() != 0 {
		t.Fatal("srst kept stale_replies")
	}
}

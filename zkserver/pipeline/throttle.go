package pipeline

import (
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
)

// ThrottleConfig is Apache 3.8's RequestThrottler, between the connections and the processors, set by system
// properties. It runs only when MaxRequests or ThrottledOpWait asks for it.
type ThrottleConfig struct {
	// MaxRequests is zookeeper.request_throttle_max_requests: while that many requests are in process (from
	// leaving the throttler to their final processing), the throttler holds the next one (0: no limit).
	MaxRequests int
	// StallTime is zookeeper.request_throttle_stall_time (100 ms): how long the throttler waits before it looks
	// again, unless a request finishes first.
	StallTime time.Duration
	// DropStale is zookeeper.request_throttle_drop_stale (true): a held request that turns stale is dropped and
	// its connection closed.
	DropStale bool
	// ThrottledOpWait is zookeeper.throttled_op_wait_time (0: off): a request that waited longer in the throttler
	// is answered THROTTLEDOP without being processed (pings and session requests excepted).
	ThrottledOpWait time.Duration
	// StaleConnectionCheck (zookeeper.request_stale_connection_check, true) and StaleLatencyCheck
	// (zookeeper.request_stale_latency_check, false) say what makes a request stale: its connection closed, or
	// its age past its session's timeout.
	StaleConnectionCheck bool
	StaleLatencyCheck    bool
}

func (c ThrottleConfig) enabled() bool { return c.MaxRequests > 0 || c.ThrottledOpWait > 0 }

// ThrottleStats are the throttler's ServerMetrics counters and its queue time summary, with stale_replies
// (FinalRequestProcessor's count of requests answered once stale).
type ThrottleStats struct {
	WaitCount, StaleDropped, Stale, ThrottledOps, StaleReplies atomic.Int64

	queueTime metrics.SummaryCounter
}

// QueueTime is the request_throttle_queue_time_ms summary.
func (s *ThrottleStats) QueueTime() metrics.Summary { return s.queueTime.Snapshot() }

func (s *ThrottleStats) addQueueTime(ms int64) { s.queueTime.Add(ms) }

// Named lists the counters and the summary under Apache's names.
func (s *ThrottleStats) Named() metrics.Named {
	return metrics.Named{
		Counters: map[string]*atomic.Int64{"request_throttle_wait_count": &s.WaitCount,
			"stale_requests_dropped": &s.StaleDropped, "stale_requests": &s.Stale, "throttled_ops": &s.ThrottledOps,
			"stale_replies": &s.StaleReplies},
		Summaries: map[string]*metrics.SummaryCounter{"request_throttle_queue_time_ms": &s.queueTime},
	}
}

// Reset zeroes the counters and the summary (srst: ServerMetrics.resetAll).
func (s *ThrottleStats) Reset() { s.Named().Reset() }

// throttler is the RequestThrottler's thread: one FIFO queue for every connection's requests.
type throttler struct {
	p         *Processor
	cfg       ThrottleConfig
	queue     chan *Request
	wake      chan struct{} // a request finished: the in-process count went down
	inProcess atomic.Int64
	epoch     time.Time
}

func newThrottler(p *Processor, cfg ThrottleConfig) *throttler {
	if cfg.StallTime <= 0 {
		cfg.StallTime = 100 * time.Millisecond
	}
	return &throttler{p: p, cfg: cfg, queue: make(chan *Request, 1<<16), wake: make(chan struct{}, 1),
		epoch: time.Now()}
}

// submit queues a request (RequestThrottler.submitRequest).
func (t *throttler) submit(r *Request) {
	r.queued = time.Now()
	select {
	case t.queue <- r:
	case <-t.p.stop:
	}
}

// ms reads a monotonic millisecond clock, as Time.currentElapsedTime.
func (t *throttler) ms(at time.Time) int64 { return at.Sub(t.epoch).Milliseconds() }

// finished is decInProcess for a request that went through the throttler.
func (t *throttler) finished() {
	t.inProcess.Add(-1)
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *throttler) run() {
	defer t.p.wg.Done()
	for {
		var r *Request
		select {
		case r = <-t.queue:
		case <-t.p.stop:
			return
		}
		if r.Client.invalid.Load() {
			// mustDrop: the connection was closed for a dropped request; nothing after it may run.
			t.p.dropRequest(r)
			continue
		}
		if t.cfg.MaxRequests > 0 && !t.hold(r) {
			continue
		}
		if t.p.stale(r.Client, r.Op, r.Start) {
			t.p.throttleStats.Stale.Add(1)
		}
		// Apache's elapsed time is a difference of millisecond clock readings.
		waited := t.ms(time.Now()) - t.ms(r.queued)
		t.p.throttleStats.addQueueTime(waited)
		if throttlable(r.Op) && t.cfg.ThrottledOpWait > 0 && waited > t.cfg.ThrottledOpWait.Milliseconds() {
			r.throttled = true
			t.p.throttleStats.ThrottledOps.Add(1)
		}
		t.inProcess.Add(1)
		r.throttlerHeld = true
		r.queued = time.Now() // now queued for prep
		t.p.submit(func() { t.p.handle(r) })
	}
}

// hold waits while MaxRequests are in process; false when the request went stale meanwhile and was dropped.
func (t *throttler) hold(r *Request) bool {
	for {
		if t.cfg.DropStale && t.p.stale(r.Client, r.Op, r.Start) {
			// dropRequest: the connection is closed so that nothing it sent later runs out of order.
			r.Client.invalidate()
			t.p.dropRequest(r)
			t.p.throttleStats.StaleDropped.Add(1)
			return false
		}
		if t.inProcess.Load() < int64(t.cfg.MaxRequests) {
			return true
		}
		t.p.throttleStats.WaitCount.Add(1)
		timer := time.NewTimer(t.cfg.StallTime)
		select {
		case <-t.wake:
		case <-timer.C:
		case <-t.p.stop:
			timer.Stop()
			return false
		}
		timer.Stop()
	}
}

// stale is Request.isStale for a request of c's of type op read at start, by zookeeper.request_stale_connection_check
// and zookeeper.request_stale_latency_check (which hold whether or not the RequestThrottler runs).
func (p *Processor) stale(c *Client, op int32, start time.Time) bool {
	cfg := p.cfg.Throttle
	if op == jute.OpCloseSession {
		return false // a close must outlive its connection to clean up
	}
	if cfg.StaleConnectionCheck && (c.closed.Load() || c.invalid.Load()) {
		return true
	}
	if cfg.StaleLatencyCheck {
		return time.Since(start) > time.Duration(c.timeout.Load())*time.Millisecond
	}
	return false
}

// throttlable is Request.isThrottlable.
func throttlable(op int32) bool {
	return op != jute.OpPing && op != jute.OpCloseSession && op != jute.OpCreateSession
}

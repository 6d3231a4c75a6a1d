package connquota

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock drives Quotas' Now and After: time passes only through Advance.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []fakeTimer
	asked   []time.Duration // every duration After was given
	expired int             // timers that fired
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, d)
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, fakeTimer{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock on and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.now
		c.expired++
	}
	c.timers = kept
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

func (c *fakeClock) lastAsked() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.asked) == 0 {
		return 0
	}
	return c.asked[len(c.asked)-1]
}

var (
	ipA = netip.MustParseAddr("10.0.0.1")
	ipB = netip.MustParseAddr("10.0.0.2")
	ipC = netip.MustParseAddr("10.0.0.3")
	ipD = netip.MustParseAddr("10.0.0.4")
)

var unlimited = Limits{MaxPerIP: Unlimited, MaxConnections: Unlimited, MaxCreationRate: Unlimited}

var unlimitedListener = ListenerLimits{Unlimited, Unlimited}

// newQuotas builds quotas on a fake clock with Kafka's default window (11 samples of 1s).
func newQuotas(t *testing.T, cfg Config) (*Quotas, *fakeClock) {
	t.Helper()
	c := newClock()
	cfg.Now, cfg.After = c.Now, c.After
	if cfg.Listeners == nil {
		cfg.Listeners = map[string]ListenerLimits{"PLAINTEXT": unlimitedListener}
	}
	return New(cfg), c
}

// admit is an Admit expected to return without waiting; a bug that blocks ends as an error, not a hang.
func admit(t *testing.T, q *Quotas, listener string, addr netip.Addr) Verdict {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := q.Admit(ctx, listener, addr)
	if err != nil {
		t.Fatalf("Admit(%s, %s): %v", listener, addr, err)
	}
	return v
}

func mustKind(t *testing.T, v Verdict, want VerdictKind) {
	t.Helper()
	if v.Kind != want {
		t.Fatalf("verdict %+v, want %v", v, want)
	}
}

type result struct {
	v   Verdict
	err error
}

// admitAsync starts an Admit expected to block and waits until it does.
func admitAsync(t *testing.T, ctx context.Context, q *Quotas, listener string, addr netip.Addr) <-chan result {
	t.Helper()
	ch := make(chan result, 1)
	before := q.blockedCount()
	go func() {
		v, err := q.Admit(ctx, listener, addr)
		ch <- result{v, err}
	}()
	waitFor(t, "Admit to block", func() bool { return q.blockedCount() > before })
	return ch
}

func (q *Quotas) blockedCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.blocked
}

// waitFor polls cond in steps of a millisecond; it is only for the goroutine handoffs, never for quota time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func notReturned(t *testing.T, ch <-chan result) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("Admit returned early: %+v, %v", r.v, r.err)
	default:
	}
}

func returned(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Admit did not return")
	}
	return result{}
}

func TestPerIPLimit(t *testing.T) {
	l := unlimited
	l.MaxPerIP = 2
	l.PerIPOverrides = map[netip.Addr]int{ipB: 4, ipC: 1}
	q, _ := newQuotas(t, Config{Limits: l})

	mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	v := admit(t, q, "PLAINTEXT", ipA)
	if v.Kind != TooMany || v.Max != 2 {
		t.Fatalf("third from A: %+v, want TooMany max 2", v)
	}
	if q.Count(ipA) != 2 || q.Total() != 2 || q.ListenerCount("PLAINTEXT") != 2 {
		t.Fatalf("TooMany kept a count: ip %d total %d listener %d", q.Count(ipA), q.Total(), q.ListenerCount("PLAINTEXT"))
	}
	q.Release("PLAINTEXT", ipA)
	mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)

	// An override above the default.
	for range 4 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipB), Accepted)
	}
	if v := admit(t, q, "PLAINTEXT", ipB); v.Kind != TooMany || v.Max != 4 {
		t.Fatalf("fifth from B: %+v, want TooMany max 4", v)
	}
	// An override below it.
	mustKind(t, admit(t, q, "PLAINTEXT", ipC), Accepted)
	if v := admit(t, q, "PLAINTEXT", ipC); v.Kind != TooMany || v.Max != 1 {
		t.Fatalf("second from C: %+v, want TooMany max 1", v)
	}
	if q.Total() != 7 {
		t.Fatalf("total %d, want 7", q.Total())
	}

	// max.connections.per.ip=0 admits only the overridden IPs.
	l.MaxPerIP = 0
	l.PerIPOverrides = map[netip.Addr]int{ipD: 1}
	q.SetLimits(l)
	if v := admit(t, q, "PLAINTEXT", ipA); v.Kind != TooMany || v.Max != 0 {
		t.Fatalf("A with default 0: %+v, want TooMany max 0", v)
	}
	mustKind(t, admit(t, q, "PLAINTEXT", ipD), Accepted)
	if v := admit(t, q, "PLAINTEXT", ipD); v.Kind != TooMany || v.Max != 1 {
		t.Fatalf("second from D: %+v, want TooMany max 1", v)
	}
	// An IPv4-mapped IPv6 address is the same IPv4 host, as Java's InetAddress has it.
	if n := q.Count(netip.MustParseAddr("::ffff:10.0.0.4")); n != 1 {
		t.Fatalf("mapped count %d, want 1", n)
	}
}

func TestBrokerMaxConnectionsBlocks(t *testing.T) {
	l := unlimited
	l.MaxConnections = 2
	q, _ := newQuotas(t, Config{Limits: l})
	mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	mustKind(t, admit(t, q, "PLAINTEXT", ipB), Accepted)

	// Freed by a Release.
	ch := admitAsync(t, context.Background(), q, "PLAINTEXT", ipC)
	notReturned(t, ch)
	q.Release("PLAINTEXT", ipA)
	if r := returned(t, ch); r.err != nil || r.v.Kind != Accepted {
		t.Fatalf("after Release: %+v, %v", r.v, r.err)
	}
	if q.Total() != 2 || q.Count(ipC) != 1 {
		t.Fatalf("total %d, C %d", q.Total(), q.Count(ipC))
	}

	// Freed by raising the limit.
	ch = admitAsync(t, context.Background(), q, "PLAINTEXT", ipD)
	notReturned(t, ch)
	l.MaxConnections = 3
	q.SetLimits(l)
	if r := returned(t, ch); r.err != nil || r.v.Kind != Accepted {
		t.Fatalf("after SetLimits: %+v, %v", r.v, r.err)
	}
	if q.Total() != 3 {
		t.Fatalf("total %d, want 3", q.Total())
	}
}

func TestAdmitContextCancel(t *testing.T) {
	l := unlimited
	l.MaxConnections = 1
	q, _ := newQuotas(t, Config{Limits: l})
	mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	ctx, cancel := context.WithCancel(context.Background())
	ch := admitAsync(t, ctx, q, "PLAINTEXT", ipB)
	notReturned(t, ch)
	cancel()
	r := returned(t, ch)
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", r.err)
	}
	if q.Total() != 1 || q.Count(ipB) != 0 || q.blockedCount() != 0 {
		t.Fatalf("total %d, B %d, blocked %d", q.Total(), q.Count(ipB), q.blockedCount())
	}
}

func TestProtectedInterBrokerListener(t *testing.T) {
	l := unlimited
	l.MaxConnections = 1
	q, c := newQuotas(t, Config{
		Limits:              l,
		Listeners:           map[string]ListenerLimits{"CLIENT": unlimitedListener, "REPLICATION": unlimitedListener},
		InterBrokerListener: "REPLICATION",
	})
	mustKind(t, admit(t, q, "CLIENT", ipA), Accepted)
	mustKind(t, admit(t, q, "REPLICATION", ipB), Accepted) // past the broker max
	mustKind(t, admit(t, q, "REPLICATION", ipC), Accepted)
	if q.Total() != 3 {
		t.Fatalf("total %d, want 3", q.Total())
	}
	if !q.Exceeded("CLIENT") || q.Exceeded("REPLICATION") {
		t.Fatalf("Exceeded: CLIENT %v REPLICATION %v, want true false", q.Exceeded("CLIENT"), q.Exceeded("REPLICATION"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := admitAsync(t, ctx, q, "CLIENT", ipD)
	notReturned(t, ch)
	c.Advance(time.Second)
	cancel()
	if r := returned(t, ch); r.err == nil {
		t.Fatalf("CLIENT admitted over the broker max: %+v", r.v)
	}
	// A wait given up on marks no blocked time, as Kafka marks the meter only once a slot is had.
	for _, l := range q.Stats().Listeners {
		if l.BlockedNs != 0 {
			t.Fatalf("%s acceptor blocked %d ns after a cancelled wait", l.Name, l.BlockedNs)
		}
	}
}

func TestInterBrokerListenerAloneNotProtected(t *testing.T) {
	l := unlimited
	l.MaxConnections = 1
	q, _ := newQuotas(t, Config{
		Limits:              l,
		Listeners:           map[string]ListenerLimits{"REPLICATION": unlimitedListener},
		InterBrokerListener: "REPLICATION",
	})
	mustKind(t, admit(t, q, "REPLICATION", ipA), Accepted)
	ctx, cancel := context.WithCancel(context.Background())
	ch := admitAsync(t, ctx, q, "REPLICATION", ipB)
	notReturned(t, ch)
	cancel()
	if r := returned(t, ch); r.err == nil {
		t.Fatalf("admitted over the broker max: %+v", r.v)
	}
	l.MaxConnections = 0
	q.SetLimits(l)
	if !q.Exceeded("REPLICATION") {
		t.Fatal("lone inter-broker listener reported protected")
	}
}

func TestListenerMaxConnections(t *testing.T) {
	q, _ := newQuotas(t, Config{
		Limits:    unlimited,
		Listeners: map[string]ListenerLimits{"A": {MaxConnections: 1, MaxCreationRate: Unlimited}, "B": unlimitedListener},
	})
	mustKind(t, admit(t, q, "A", ipA), Accepted)
	mustKind(t, admit(t, q, "B", ipA), Accepted) // another listener has room

	ch := admitAsync(t, context.Background(), q, "A", ipB)
	notReturned(t, ch)
	q.Release("A", ipA)
	if r := returned(t, ch); r.err != nil || r.v.Kind != Accepted {
		t.Fatalf("after Release: %+v, %v", r.v, r.err)
	}

	ch = admitAsync(t, context.Background(), q, "A", ipC)
	notReturned(t, ch)
	q.SetListenerLimits("A", ListenerLimits{MaxConnections: 2, MaxCreationRate: Unlimited})
	if r := returned(t, ch); r.err != nil || r.v.Kind != Accepted {
		t.Fatalf("after SetListenerLimits: %+v, %v", r.v, r.err)
	}
	if q.ListenerCount("A") != 2 || q.ListenerCount("B") != 1 || q.Total() != 3 {
		t.Fatalf("A %d B %d total %d", q.ListenerCount("A"), q.ListenerCount("B"), q.Total())
	}
}

func TestUnknownListenerCounted(t *testing.T) {
	q, _ := newQuotas(t, Config{Limits: unlimited})
	mustKind(t, admit(t, q, "OTHER", ipA), Accepted)
	if q.ListenerCount("OTHER") != 1 || q.Total() != 1 {
		t.Fatalf("OTHER %d total %d", q.ListenerCount("OTHER"), q.Total())
	}
	q.Release("OTHER", ipA)
	if q.ListenerCount("OTHER") != 0 || q.Total() != 0 || q.Count(ipA) != 0 {
		t.Fatalf("after Release: OTHER %d total %d A %d", q.ListenerCount("OTHER"), q.Total(), q.Count(ipA))
	}
}

func TestReleaseWithoutCount(t *testing.T) {
	var buf bytes.Buffer
	q, _ := newQuotas(t, Config{Limits: unlimited, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	q.Release("PLAINTEXT", ipA)
	if q.Total() != 0 || q.Count(ipA) != 0 || q.ListenerCount("PLAINTEXT") != 0 {
		t.Fatalf("counts moved: total %d A %d", q.Total(), q.Count(ipA))
	}
	if !strings.Contains(buf.String(), "level=ERROR") {
		t.Fatalf("no error logged: %q", buf.String())
	}
}

// waitTimer waits for the blocked Admit's timer and checks the delay it asked for.
func waitTimer(t *testing.T, c *fakeClock, want time.Duration) {
	t.Helper()
	waitFor(t, "a rate timer", func() bool { return c.pending() == 1 })
	if got := c.lastAsked(); got != want {
		t.Fatalf("delay %v, want %v", got, want)
	}
}

func TestBrokerCreationRateDelay(t *testing.T) {
	l := unlimited
	l.MaxCreationRate = 5
	q, c := newQuotas(t, Config{Limits: l})
	// With 11 samples of 1s, a first burst is measured over 10s: 50 connections are 5/s, within the quota.
	for range 50 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	}
	// The 51st is 5.1/s: (5.1-5)/5 * 10000ms = 200ms.
	ch := admitAsync(t, context.Background(), q, "PLAINTEXT", ipB)
	waitTimer(t, c, 200*time.Millisecond)
	c.Advance(199 * time.Millisecond)
	notReturned(t, ch)
	c.Advance(time.Millisecond)
	if r := returned(t, ch); r.err != nil || r.v.Kind != Accepted {
		t.Fatalf("after the delay: %+v, %v", r.v, r.err)
	}
	if q.Total() != 51 {
		t.Fatalf("total %d, want 51", q.Total())
	}
}

func TestListenerCreationRateDelay(t *testing.T) {
	l := unlimited
	l.MaxCreationRate = 10
	q, c := newQuotas(t, Config{
		Limits: l,
		Listeners: map[string]ListenerLimits{
			"A": {MaxConnections: Unlimited, MaxCreationRate: 3},
			"B": {MaxConnections: Unlimited, MaxCreationRate: 1},
		},
	})
	for range 30 {
		mustKind(t, admit(t, q, "A", ipA), Accepted)
	}
	// A's 31st: listener 3.1/s against 3, (0.1/3) * 10000ms = 333.3 -> 333ms; the broker's 3.1/s is under 10.
	ch := admitAsync(t, context.Background(), q, "A", ipA)
	waitTimer(t, c, 333*time.Millisecond)
	c.Advance(333 * time.Millisecond)
	if r := returned(t, ch); r.err != nil || r.v.Kind != Accepted {
		t.Fatalf("after the delay: %+v, %v", r.v, r.err)
	}

	// B at 1/s (its first window opens now): 10 connections fit; the 11th, 1.1/s, needs (0.1/1) * 10000ms =
	// 1000ms.
	for range 10 {
		mustKind(t, admit(t, q, "B", ipB), Accepted)
	}
	ch = admitAsync(t, context.Background(), q, "B", ipB)
	waitTimer(t, c, time.Second)
	c.Advance(time.Second)
	returned(t, ch)
	// The 12th opens B's second window, still read as 10s: 1.2/s needs 2000ms, cut to the 1000ms quota window.
	ch = admitAsync(t, context.Background(), q, "B", ipB)
	waitTimer(t, c, time.Second)
	c.Advance(time.Second)
	returned(t, ch)
}

// The delay is the longer of the broker's and the listener's, each recorded.
func TestCreationRateLongerDelayWins(t *testing.T) {
	listeners := map[string]ListenerLimits{"A": unlimitedListener, "B": unlimitedListener}

	// Listener longer: 41 on A at 4/s is 250ms, the broker's 51 at 5/s 200ms.
	l := unlimited
	l.MaxCreationRate = 5
	q, c := newQuotas(t, Config{Limits: l, Listeners: listeners})
	q.SetListenerLimits("A", ListenerLimits{MaxConnections: Unlimited, MaxCreationRate: 4})
	for range 40 {
		mustKind(t, admit(t, q, "A", ipA), Accepted)
	}
	for range 10 {
		mustKind(t, admit(t, q, "B", ipB), Accepted)
	}
	ch := admitAsync(t, context.Background(), q, "A", ipA)
	waitTimer(t, c, 250*time.Millisecond)
	c.Advance(250 * time.Millisecond)
	returned(t, ch)

	// Broker longer: 200 unlimited connections, then limits whose samples they stay in (an update keeps them).
	// The 201st: listener 20.1/s against 20 is 50ms, the broker's against 19 (1.1/19) * 10000ms = 578.9 -> 579ms.
	q, c = newQuotas(t, Config{Limits: unlimited, Listeners: listeners})
	for range 200 {
		mustKind(t, admit(t, q, "A", ipA), Accepted)
	}
	l.MaxCreationRate = 19
	q.SetLimits(l)
	q.SetListenerLimits("A", ListenerLimits{MaxConnections: Unlimited, MaxCreationRate: 20})
	ch = admitAsync(t, context.Background(), q, "A", ipA)
	waitTimer(t, c, 579*time.Millisecond)
	c.Advance(579 * time.Millisecond)
	returned(t, ch)
}

func TestProtectedListenerSkipsBrokerRate(t *testing.T) {
	l := unlimited
	l.MaxCreationRate = 1
	q, _ := newQuotas(t, Config{
		Limits:              l,
		Listeners:           map[string]ListenerLimits{"CLIENT": unlimitedListener, "REPLICATION": unlimitedListener},
		InterBrokerListener: "REPLICATION",
	})
	for range 20 {
		mustKind(t, admit(t, q, "REPLICATION", ipA), Accepted)
	}
	// The broker sensor saw none of them: CLIENT still gets its 10.
	for range 10 {
		mustKind(t, admit(t, q, "CLIENT", ipB), Accepted)
	}
}

func TestIPCreationRate(t *testing.T) {
	l := unlimited
	l.MaxCreationRate = 3
	q, c := newQuotas(t, Config{Limits: l})
	two, one := 2, 1
	q.SetIPRate(nil, &two)
	if q.IPRate(ipA) != 2 {
		t.Fatalf("IPRate %d, want 2", q.IPRate(ipA))
	}
	for range 20 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	}
	// A's 21st: 2.1/s against 2, (0.1/2) * 10000ms = 500ms.
	start := c.Now()
	v := admit(t, q, "PLAINTEXT", ipA)
	if v.Kind != Throttled || !v.CloseAt.Equal(start.Add(500*time.Millisecond)) {
		t.Fatalf("21st from A: %+v, want Throttled closing at %v", v, start.Add(500*time.Millisecond))
	}
	if q.Count(ipA) != 20 || q.Total() != 20 {
		t.Fatalf("throttled connection counted: A %d total %d", q.Count(ipA), q.Total())
	}
	for range 5 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipA), Throttled)
	}
	// The throttled ones were taken back from the broker and listener rates: B's 10 make 30, 3/s, no delay.
	for range 10 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipB), Accepted)
	}
	if c.pending() != 0 || len(c.asked) != 0 {
		t.Fatalf("a delay was asked for: %v", c.asked)
	}

	// A per-IP override below the default, then removed.
	l.MaxCreationRate = Unlimited
	q.SetLimits(l)
	q.SetIPRate(&ipC, &one)
	if q.IPRate(ipC) != 1 || q.IPRate(ipB) != 2 {
		t.Fatalf("IPRate C %d B %d", q.IPRate(ipC), q.IPRate(ipB))
	}
	for range 10 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipC), Accepted)
	}
	// 1.1/s against 1: 1000ms, the quota window.
	if v := admit(t, q, "PLAINTEXT", ipC); v.Kind != Throttled || !v.CloseAt.Equal(c.Now().Add(time.Second)) {
		t.Fatalf("11th from C: %+v", v)
	}
	q.SetIPRate(&ipC, nil) // back to the default 2/s; the sensor keeps its 10
	for range 10 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipC), Accepted)
	}
	mustKind(t, admit(t, q, "PLAINTEXT", ipC), Throttled)

	// The default back to unlimited: no IP is throttled any more.
	q.SetIPRate(nil, nil)
	if q.IPRate(ipA) != Unlimited {
		t.Fatalf("IPRate %d, want unlimited", q.IPRate(ipA))
	}
	mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	// An override on its own still applies.
	q.SetIPRate(&ipD, &one)
	for range 10 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipD), Accepted)
	}
	mustKind(t, admit(t, q, "PLAINTEXT", ipD), Throttled)
}

func TestIPSensorExpiry(t *testing.T) {
	q, c := newQuotas(t, Config{Limits: unlimited})
	two := 2
	q.SetIPRate(nil, &two)
	sensors := func() map[netip.Addr]bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		m := map[netip.Addr]bool{}
		for a := range q.ipSensors {
			m[a] = true
		}
		return m
	}
	mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	c.Advance(time.Hour) // exactly an hour unused: kept
	mustKind(t, admit(t, q, "PLAINTEXT", ipB), Accepted)
	if s := sensors(); !s[ipA] || !s[ipB] {
		t.Fatalf("sensors %v, want A and B", s)
	}
	c.Advance(ipSweepMs * time.Millisecond)
	mustKind(t, admit(t, q, "PLAINTEXT", ipC), Accepted)
	if s := sensors(); s[ipA] || !s[ipB] || !s[ipC] {
		t.Fatalf("sensors %v, want B and C", s)
	}
	// Without a rate quota no sensor is made.
	q.SetIPRate(nil, nil)
	mustKind(t, admit(t, q, "PLAINTEXT", ipD), Accepted)
	if s := sensors(); s[ipD] {
		t.Fatalf("sensor made for D without a quota: %v", s)
	}
}

// Stats read the sensors as Kafka's socket-server-metrics report them: accept rates over the quota windows
// (a first burst measured over 10 s), throttle times as means of the delays given, IP sensors only where an IP
// had a rate quota.
func TestStats(t *testing.T) {
	l := unlimited
	l.MaxCreationRate = 3
	q, c := newQuotas(t, Config{Limits: l, Listeners: map[string]ListenerLimits{"PLAINTEXT": unlimitedListener, "SSL": unlimitedListener}})
	two := 2
	q.SetIPRate(&ipA, &two)
	for range 20 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipA), Accepted)
	}
	for range 3 { // 2.1/s against 2: 500 ms each, and taken back from the rates
		mustKind(t, admit(t, q, "PLAINTEXT", ipA), Throttled)
	}
	for range 10 {
		mustKind(t, admit(t, q, "PLAINTEXT", ipB), Accepted)
	}
	st := q.Stats()
	if st.BrokerAcceptRate != 3 || len(st.Listeners) != 2 || st.Listeners[0].Name != "PLAINTEXT" || st.Listeners[0].AcceptRate != 3 ||
		st.Listeners[1].Name != "SSL" || st.Listeners[1].AcceptRate != 0 {
		t.Fatalf("rates: %+v", st)
	}
	if p := st.Listeners[0]; !math.IsNaN(p.ThrottleTimeMs) || p.IPThrottleTimeMs != 500 {
		t.Fatalf("PLAINTEXT throttle times: %+v", p)
	}
	if len(st.IPs) != 1 || st.IPs[0].Addr != ipA || st.IPs[0].AcceptRate != 2 {
		t.Fatalf("IP sensors: %+v, want only A's at 2/s", st.IPs)
	}
	// The broker's 31st in 10 s: (3.1-3)/3 * 10000 ms = 333 ms, the listener's mean throttle time.
	ch := admitAsync(t, context.Background(), q, "PLAINTEXT", ipB)
	waitTimer(t, c, 333*time.Millisecond)
	c.Advance(333 * time.Millisecond)
	returned(t, ch)
	if p := q.Stats().Listeners[0]; p.ThrottleTimeMs != 333 || p.IPThrottleTimeMs != 500 {
		t.Fatalf("PLAINTEXT throttle times after a broker delay: %+v", p)
	}
	// The acceptor was blocked for the delay only: IP throttling answers at once.
	if p := q.Stats().Listeners[0]; p.BlockedNs != (333 * time.Millisecond).Nanoseconds() {
		t.Fatalf("PLAINTEXT acceptor blocked %d ns, want 333 ms", p.BlockedNs)
	}
	// Throttle times are means over the last minute (two windows of 30 s).
	c.Advance(61 * time.Second)
	if p := q.Stats().Listeners[0]; !math.IsNaN(p.ThrottleTimeMs) || !math.IsNaN(p.IPThrottleTimeMs) {
		t.Fatalf("throttle times a minute on: %+v", p)
	}
}

// A listener removed by a dynamic update no longer makes the inter-broker listener protected, and a listener
// added counts again.
func TestRemoveListener(t *testing.T) {
	l := unlimited
	l.MaxConnections = 0
	q, _ := newQuotas(t, Config{
		Limits:              l,
		Listeners:           map[string]ListenerLimits{"CLIENT": unlimitedListener, "REPLICATION": unlimitedListener},
		InterBrokerListener: "REPLICATION",
	})
	mustKind(t, admit(t, q, "REPLICATION", ipA), Accepted) // protected: past the broker max of 0
	if q.Exceeded("REPLICATION") {
		t.Fatal("inter-broker listener beside CLIENT not protected")
	}
	q.RemoveListener("CLIENT")
	q.RemoveListener("CLIENT") // twice: nothing left to remove
	if !q.Exceeded("REPLICATION") {
		t.Fatal("inter-broker listener still protected alone")
	}
	q.SetListenerLimits("EXTERNAL", unlimitedListener)
	if q.Exceeded("REPLICATION") {
		t.Fatal("inter-broker listener beside EXTERNAL not protected")
	}
}

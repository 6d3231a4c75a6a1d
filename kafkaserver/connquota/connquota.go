// Package connquota is the broker's connection quotas (Kafka's ConnectionQuotas): per-IP connection counts,
// listener and broker-wide connection limits, and connection creation rates for the broker, each listener and
// each IP.
package connquota

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkafka/zkafka/kafkaserver/quota"
)

// Unlimited is the value every limit takes when unset (Kafka's Int.MaxValue).
const Unlimited = math.MaxInt32

// ipSensorExpiryMs is InactiveSensorExpirationTimeSeconds: an IP's rate sensor goes after an hour unused.
const ipSensorExpiryMs = 3600_000

// throttleWindows and throttleWindowMs are Kafka's default MetricConfig, which the throttle time sensors have.
const (
	throttleWindows  = 2
	throttleWindowMs = 30_000
)

// ipSweepMs is how often expired IP sensors are looked for (Kafka's ExpireSensorTask runs every 30 s).
const ipSweepMs = 30_000

// Limits are the broker-wide settings (server.properties or dynamic broker config).
type Limits struct {
	MaxPerIP        int                // max.connections.per.ip (Kafka default Int.MaxValue: use math.MaxInt32)
	PerIPOverrides  map[netip.Addr]int // max.connections.per.ip.overrides, host names already resolved by the caller
	MaxConnections  int                // max.connections (broker-wide)
	MaxCreationRate int                // max.connection.creation.rate (broker-wide, per second)
}

// ListenerLimits are listener.name.<listener>.max.connections and .max.connection.creation.rate
// (math.MaxInt32 when unset).
type ListenerLimits struct{ MaxConnections, MaxCreationRate int }

// Config sets up Quotas. Zero limits are taken literally (0 connections allowed); use Unlimited for unset ones.
type Config struct {
	Limits
	Listeners           map[string]ListenerLimits // every listener the broker has, by name (e.g. "PLAINTEXT")
	InterBrokerListener string
	// QuotaWindow is quota.window.size.seconds (0: Kafka's default 1s): each rate sample's width, and the most any
	// rate delay lasts.
	QuotaWindow  time.Duration
	QuotaSamples int // quota.window.num (0: Kafka's default 11)
	// Now is the clock (nil: time.Now) and After the timer Admit waits on (nil: time.After); tests inject a fake
	// clock through both.
	Now    func() time.Time
	After  func(d time.Duration) <-chan time.Time
	Logger *slog.Logger // nil: slog.Default()
}

// VerdictKind is what Admit decided.
type VerdictKind int

const (
	// Accepted: the connection holds a count until Release.
	Accepted VerdictKind = iota
	// TooMany: the IP is at its max.connections.per.ip (Kafka's TooManyConnectionsException).
	TooMany
	// Throttled: the IP is over its connection creation rate (Kafka's ConnectionThrottledException).
	Throttled
)

func (k VerdictKind) String() string {
	switch k {
	case Accepted:
		return "Accepted"
	case TooMany:
		return "TooMany"
	case Throttled:
		return "Throttled"
	}
	return fmt.Sprintf("VerdictKind(%d)", int(k))
}

// Verdict is Admit's outcome.
type Verdict struct {
	Kind VerdictKind
	Max  int // TooMany: the per-IP maximum that was reached
	// CloseAt (Throttled) is when the caller closes the socket: Kafka keeps a throttled socket open, unanswered,
	// until then.
	CloseAt time.Time
}

// listenerState is one listener's limits, count, creation rate sensor and throttle time sensors.
type listenerState struct {
	limits ListenerLimits
	count  int
	rate   quota.Rate
	// throttle and ipThrottle are the means of the non-zero delays given for the broker's or listener's rate and
	// for an IP's rate (connection-accept-throttle-time, ip-connection-accept-throttle-time).
	throttle, ipThrottle quota.Avg
	// blockedNs is the time Admits on the listener spent waiting for a slot or a rate delay (the count of the
	// acceptor's AcceptorBlockedPercent meter, in ns).
	blockedNs int64
	// configured is false for a name Admit met that the broker was never told of; it does not count towards the
	// listeners that make the inter-broker listener protected.
	configured bool
}

// ipSensor is an IP's creation rate sensor.
type ipSensor struct {
	rate       quota.Rate
	lastRecord int64 // ms
}

// Quotas is Kafka's ConnectionQuotas. It is safe for concurrent use.
type Quotas struct {
	now        func() time.Time
	after      func(time.Duration) <-chan time.Time
	log        *slog.Logger
	inter      string // inter-broker listener name
	windows    int
	windowMs   int64
	maxDelayMs int64 // maxThrottleTimeMs: one quota window

	// mu is Kafka's lock on counts: it guards everything below.
	mu sync.Mutex
	// changed is closed and replaced whenever a count drops or a limit changes (Kafka's notifyAll), waking
	// blocked Admits to look again.
	changed    chan struct{}
	limits     Limits
	listeners  map[string]*listenerState
	configured int // listeners with configured set
	counts     map[netip.Addr]int
	total      int
	blocked    int // Admits waiting for a slot (what Kafka's acceptorBlockedPercentMeter times); tests wait on it
	brokerRate quota.Rate
	// ipRateDefault and ipRates are the IP creation rate quotas (Unlimited: none).
	ipRateDefault int
	ipRates       map[netip.Addr]int
	ipSensors     map[netip.Addr]*ipSensor
	lastSweep     int64 // ms
}

// New returns quotas for cfg.
func New(cfg Config) *Quotas {
	q := &Quotas{
		now:           cfg.Now,
		after:         cfg.After,
		log:           cfg.Logger,
		windows:       cfg.QuotaSamples,
		windowMs:      cfg.QuotaWindow.Milliseconds(),
		changed:       make(chan struct{}),
		limits:        copyLimits(cfg.Limits),
		listeners:     make(map[string]*listenerState, len(cfg.Listeners)),
		counts:        make(map[netip.Addr]int),
		ipRateDefault: Unlimited,
		ipRates:       make(map[netip.Addr]int),
		ipSensors:     make(map[netip.Addr]*ipSensor),
		inter:         cfg.InterBrokerListener,
	}
	if q.now == nil {
		q.now = time.Now
	}
	if q.after == nil {
		q.after = time.After
	}
	if q.log == nil {
		q.log = slog.Default()
	}
	if q.windows <= 0 {
		q.windows = 11
	}
	if q.windowMs <= 0 {
		q.windowMs = 1000
	}
	q.maxDelayMs = q.windowMs
	q.brokerRate = q.newRate()
	q.lastSweep = q.nowMs()
	for name, l := range cfg.Listeners {
		q.listeners[name] = q.newListener(l)
		q.listeners[name].configured = true
		q.configured++
	}
	return q
}

// copyLimits keeps the caller's override map out of reach of later writes and stores IPv4-mapped addresses as
// IPv4, as Java's InetAddress does.
func copyLimits(l Limits) Limits {
	o := make(map[netip.Addr]int, len(l.PerIPOverrides))
	for a, n := range l.PerIPOverrides {
		o[a.Unmap()] = n
	}
	l.PerIPOverrides = o
	return l
}

func (q *Quotas) newRate() quota.Rate { return quota.NewRate(q.windows, q.windowMs) }

// newListener is a listener's state with its sensors; the throttle time sensors have Kafka's default metric
// config (two windows of 30 s), not the quota windows.
func (q *Quotas) newListener(l ListenerLimits) *listenerState {
	return &listenerState{limits: l, rate: q.newRate(),
		throttle: quota.NewAvg(throttleWindows, throttleWindowMs), ipThrottle: quota.NewAvg(throttleWindows, throttleWindowMs)}
}

func (q *Quotas) nowMs() int64 { return q.now().UnixMilli() }

// broadcastLocked wakes every blocked Admit.
func (q *Quotas) broadcastLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// listenerLocked returns listener's state, adding an unlimited one for a name never configured so that its
// connections are still counted.
func (q *Quotas) listenerLocked(name string) *listenerState {
	l := q.listeners[name]
	if l == nil {
		l = q.newListener(ListenerLimits{Unlimited, Unlimited})
		q.listeners[name] = l
	}
	return l
}

// protectedLocked is protectedListener: the inter-broker listener escapes the broker-wide limits, but only when
// the broker has other listeners to shed load from.
func (q *Quotas) protectedLocked(name string) bool {
	return name == q.inter && q.configured > 1
}

// slotAvailableLocked is connectionSlotAvailable.
func (q *Quotas) slotAvailableLocked(name string, l *listenerState) bool {
	if l.count >= l.limits.MaxConnections {
		return false
	}
	return q.protectedLocked(name) || q.total < q.limits.MaxConnections
}

// recordAndThrottle is recordAndGetThrottleTimeMs: it records one connection on r and returns the delay in ms that
// brings r back to bound (QuotaUtils.throttleTime), at most one quota window. As in Kafka's Sensor, the
// recording stays even when the quota is violated.
func (q *Quotas) recordAndThrottle(r *quota.Rate, bound int, nowMs int64) int64 {
	r.Record(1, nowMs)
	b := float64(bound)
	observed := r.Measure(nowMs)
	if observed <= b {
		return 0
	}
	if b <= 0 { // a zero quota: Kafka's division gives infinity, bounded to the window
		return q.maxDelayMs
	}
	ms := math.Round((observed - b) / b * float64(r.WindowSize(nowMs)))
	return min(int64(ms), q.maxDelayMs)
}

// recordConnectionLocked is recordConnectionAndGetThrottleTimeMs: the broker sensor (not for a protected
// listener), then the listener's; the delay is the longer of the two.
func (q *Quotas) recordConnectionLocked(name string, l *listenerState, nowMs int64) int64 {
	var broker int64
	if !q.protectedLocked(name) {
		broker = q.recordAndThrottle(&q.brokerRate, q.limits.MaxCreationRate, nowMs)
	}
	d := max(broker, q.recordAndThrottle(&l.rate, l.limits.MaxCreationRate, nowMs))
	if d > 0 {
		l.throttle.Record(float64(d), nowMs)
	}
	return d
}

// Admit is ConnectionQuotas.inc for one accepted connection from addr on listener. It blocks, as Kafka's
// acceptor does, while the listener or broker is at its connection limit or a connection-rate delay runs
// (waitForConnectionSlot), and returns ctx's error if ctx ends first. Accepted: the caller holds a count and must
// call Release when the connection closes. TooMany and Throttled hold no count.
func (q *Quotas) Admit(ctx context.Context, listener string, addr netip.Addr) (Verdict, error) {
	addr = addr.Unmap()
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.waitForSlotLocked(ctx, listener); err != nil {
		return Verdict{}, err
	}
	l := q.listenerLocked(listener) // looked up again: the wait released the lock
	if v, throttled := q.recordIPLocked(listener, l, addr); throttled {
		return v, nil
	}
	count := q.counts[addr]
	limit := q.maxPerIPLocked(addr)
	if count >= limit {
		// Kafka counts the connection, throws, and the acceptor's close gives the count back; here it is never
		// taken, which leaves every count as it was.
		return Verdict{Kind: TooMany, Max: limit}, nil
	}
	q.counts[addr] = count + 1
	q.total++
	l.count++
	return Verdict{Kind: Accepted}, nil
}

// waitForSlotLocked is waitForConnectionSlot: it records the connection on the broker and listener rates, then
// waits out their delay and until the listener and broker have room. mu is released while waiting. A
// connection given up on (ctx ended) stays recorded in the rates, as in Kafka when inc fails.
func (q *Quotas) waitForSlotLocked(ctx context.Context, listener string) error {
	startTime := q.now()
	start := startTime.UnixMilli()
	end := start + q.recordConnectionLocked(listener, q.listenerLocked(listener), start)
	for nowMs, waited := start, false; ; nowMs = q.nowMs() {
		remaining := end - nowMs
		if remaining <= 0 && q.slotAvailableLocked(listener, q.listenerLocked(listener)) {
			if waited {
				// Kafka marks the acceptor's blocked meter once a wait ends with a slot, not when it fails.
				q.listenerLocked(listener).blockedNs += q.now().Sub(startTime).Nanoseconds()
			}
			return nil
		}
		if !waited {
			waited = true
			q.blocked++
			defer func() { q.blocked-- }() // every return below holds mu
		}
		changed := q.changed
		var timer <-chan time.Time // nil when only a change can help: no timer, as Kafka's wait(0)
		if remaining > 0 {
			timer = q.after(time.Duration(remaining) * time.Millisecond)
		}
		q.mu.Unlock()
		select {
		case <-changed:
		case <-timer:
		case <-ctx.Done():
			q.mu.Lock()
			return fmt.Errorf("connquota: waiting for a connection slot on listener %s: %w", listener, ctx.Err())
		}
		q.mu.Lock()
	}
}

// maxPerIPLocked is the IP's max.connections.per.ip, its override if it has one.
func (q *Quotas) maxPerIPLocked(addr netip.Addr) int {
	if n, ok := q.limits.PerIPOverrides[addr]; ok {
		return n
	}
	return q.limits.MaxPerIP
}

// ipRateLocked is connectionRateForIp.
func (q *Quotas) ipRateLocked(addr netip.Addr) int {
	if r, ok := q.ipRates[addr]; ok {
		return r
	}
	return q.ipRateDefault
}

// recordIPLocked is recordIpConnectionMaybeThrottle: when the IP has a rate quota, record the connection on it;
// over the quota, the connection is taken back from the IP, broker and listener rates (it is not accepted, so it
// must not slow down others) and the IP is throttled.
func (q *Quotas) recordIPLocked(listener string, l *listenerState, addr netip.Addr) (Verdict, bool) {
	bound := q.ipRateLocked(addr)
	if bound == Unlimited {
		return Verdict{}, false
	}
	now := q.now()
	nowMs := now.UnixMilli()
	q.sweepIPSensorsLocked(nowMs)
	s := q.ipSensors[addr]
	if s == nil {
		s = &ipSensor{rate: q.newRate()}
		q.ipSensors[addr] = s
	}
	s.lastRecord = nowMs
	delay := q.recordAndThrottle(&s.rate, bound, nowMs)
	if delay <= 0 {
		return Verdict{}, false
	}
	q.log.Debug("connquota: throttling IP", "ip", addr, "listener", listener, "delay_ms", delay)
	l.ipThrottle.Record(float64(delay), nowMs)
	s.rate.Record(-1, nowMs)
	if !q.protectedLocked(listener) {
		q.brokerRate.Record(-1, nowMs)
	}
	l.rate.Record(-1, nowMs)
	return Verdict{Kind: Throttled, CloseAt: now.Add(time.Duration(delay) * time.Millisecond)}, true
}

// sweepIPSensorsLocked drops the IP sensors unused for an hour, at most every ipSweepMs so that Admit stays
// cheap; it keeps memory bounded by the IPs seen in the last hour.
func (q *Quotas) sweepIPSensorsLocked(nowMs int64) {
	if nowMs-q.lastSweep < ipSweepMs {
		return
	}
	q.lastSweep = nowMs
	for a, s := range q.ipSensors {
		if nowMs-s.lastRecord > ipSensorExpiryMs {
			delete(q.ipSensors, a)
		}
	}
}

// Release is ConnectionQuotas.dec: it gives back an accepted connection's count and wakes blocked Admits.
func (q *Quotas) Release(listener string, addr netip.Addr) {
	addr = addr.Unmap()
	q.mu.Lock()
	defer q.mu.Unlock()
	count := q.counts[addr]
	if count <= 0 {
		// Kafka throws IllegalArgumentException here, touching no count.
		q.log.Error("connquota: attempted to decrease connection count for address with no connections",
			"ip", addr, "listener", listener)
		return
	}
	if count == 1 {
		delete(q.counts, addr)
	} else {
		q.counts[addr] = count - 1
	}
	if q.total <= 0 {
		q.log.Error("connquota: attempted to decrease total connection count for broker with no connections")
	} else {
		q.total--
	}
	if l := q.listeners[listener]; l == nil || l.count <= 0 {
		q.log.Error("connquota: attempted to decrease connection count for listener with no connections",
			"listener", listener)
	} else {
		l.count--
	}
	q.broadcastLocked()
}

// Exceeded is maxConnectionsExceeded: the broker is over max.connections and listener is not protected, so the
// caller closes one of listener's least recently used connections.
func (q *Quotas) Exceeded(listener string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total > q.limits.MaxConnections && !q.protectedLocked(listener)
}

// SetLimits applies a dynamic broker config change and wakes blocked Admits. The broker rate sensor keeps its
// samples; a delay already running is waited out in full, as in Kafka.
func (q *Quotas) SetLimits(l Limits) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.limits = copyLimits(l)
	q.log.Info("connquota: updated broker connection limits", "max_per_ip", l.MaxPerIP,
		"overrides", len(l.PerIPOverrides), "max_connections", l.MaxConnections, "max_creation_rate", l.MaxCreationRate)
	q.broadcastLocked()
}

// SetListenerLimits applies a dynamic listener config change (adding the listener if it is new, as addListener)
// and wakes blocked Admits. The listener's rate sensor keeps its samples.
func (q *Quotas) SetListenerLimits(listener string, l ListenerLimits) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.listenerLocked(listener)
	if !s.configured {
		s.configured = true
		q.configured++
	}
	s.limits = l
	q.log.Info("connquota: updated listener connection limits", "listener", listener,
		"max_connections", l.MaxConnections, "max_creation_rate", l.MaxCreationRate)
	q.broadcastLocked()
}

// RemoveListener is removeListener, for a listener a dynamic listeners update took away once its connections
// are closed: its limits and sensors go, and it no longer counts towards protecting the inter-broker listener.
func (q *Quotas) RemoveListener(listener string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.listeners[listener]
	if s == nil {
		return
	}
	if s.configured {
		q.configured--
	}
	delete(q.listeners, listener)
	q.broadcastLocked()
}

// SetIPRate is updateIpConnectionRateQuota: addr nil sets the default for all IPs (rate nil: back to unlimited,
// Kafka's QuotaConfigs.IP_CONNECTION_RATE_DEFAULT); addr set overrides that IP (rate nil removes the override).
// Existing IP sensors keep their samples: their bound is read from these settings at each connection.
func (q *Quotas) SetIPRate(addr *netip.Addr, rate *int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case addr == nil && rate == nil:
		q.ipRateDefault = Unlimited
		q.log.Info("connquota: removed default max IP connection rate")
	case addr == nil:
		q.ipRateDefault = *rate
		q.log.Info("connquota: updated default max IP connection rate", "rate", *rate)
	case rate == nil:
		delete(q.ipRates, addr.Unmap())
		q.log.Info("connquota: removed max connection rate override", "ip", *addr)
	default:
		q.ipRates[addr.Unmap()] = *rate
		q.log.Info("connquota: updated max connection rate override", "ip", *addr, "rate", *rate)
	}
}

// IPRate is connectionRateForIp: the IP's creation rate quota, Unlimited when it has none.
func (q *Quotas) IPRate(addr netip.Addr) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ipRateLocked(addr.Unmap())
}

// Count is ConnectionQuotas.get: the IP's connections.
func (q *Quotas) Count(addr netip.Addr) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.counts[addr.Unmap()]
}

// Total is the broker's connections.
func (q *Quotas) Total() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total
}

// ListenerCount is the listener's connections.
func (q *Quotas) ListenerCount(listener string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if l := q.listeners[listener]; l != nil {
		return l.count
	}
	return 0
}

// Stats are ConnectionQuotas' metrics (socket-server-metrics), measured when read.
type Stats struct {
	BrokerAcceptRate float64 // broker-connection-accept-rate: connections per second over the quota windows
	Listeners        []ListenerStats
	IPs              []IPStats // IPs with a rate quota that connected in the last hour
}

// ListenerStats are one listener's connection-accept-rate and its mean non-zero throttle times in ms (NaN
// without any in the last minute or so): for the broker's or listener's rate (connection-accept-throttle-time)
// and for an IP's (ip-connection-accept-throttle-time).
type ListenerStats struct {
	Name                             string
	AcceptRate                       float64
	ThrottleTimeMs, IPThrottleTimeMs float64
	BlockedNs                        int64 // time accepts waited for a slot or a rate delay (AcceptorBlockedPercent)
}

// IPStats is an IP's connection-accept-rate.
type IPStats struct {
	Addr       netip.Addr
	AcceptRate float64
}

// Stats reads the sensors Kafka's ConnectionQuotas registers: the broker's, every listener the broker was told of,
// and the IP sensors of connections met while a rate quota applied to their IP, ordered by listener and address.
func (q *Quotas) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	nowMs := q.nowMs()
	q.sweepIPSensorsLocked(nowMs)
	st := Stats{BrokerAcceptRate: q.brokerRate.Measure(nowMs)}
	for name, l := range q.listeners {
		if l.configured {
			st.Listeners = append(st.Listeners, ListenerStats{Name: name, AcceptRate: l.rate.Measure(nowMs),
				ThrottleTimeMs: l.throttle.Measure(nowMs), IPThrottleTimeMs: l.ipThrottle.Measure(nowMs),
				BlockedNs: l.blockedNs})
		}
	}
	slices.SortFunc(st.Listeners, func(a, b ListenerStats) int { return strings.Compare(a.Name, b.Name) })
	for a, s := range q.ipSensors {
		st.IPs = append(st.IPs, IPStats{Addr: a, AcceptRate: s.rate.Measure(nowMs)})
	}
	slices.SortFunc(st.IPs, func(a, b IPStats) int { return a.Addr.Compare(b.Addr) })
	return st
}

package log

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// CleanerIoCheckInterval is how often the cleaner's throttler compares the observed rate with the desired one
// (LogCleaner builds its Throttler with checkIntervalMs = 300).
const CleanerIoCheckInterval = 300 * time.Millisecond

// Throttler is Kafka's kafka.utils.Throttler, throttling down: callers report what they did (bytes), and once
// more than a check interval has passed since the period began, a rate above the desired one makes the caller
// sleep as long as it takes to bring the period's average down to it. The sleep happens under the lock, so every
// caller sharing the throttler waits, as in Kafka. The replication quotas' windowed Rate (quota.Replication)
// answers "exceeded or not" instead of computing this sleep, so the cleaner has its own.
type Throttler struct {
	rate          float64 // desired units per second
	checkInterval time.Duration
	now           func() time.Time
	sleep         func(time.Duration)

	observedTotal atomic.Int64 // the throttler's meter (cleaner-io): everything reported

	mu          sync.Mutex
	periodStart time.Time
	observed    float64
}

// NewThrottler returns a throttler aiming at ratePerSec, looking every checkInterval, with the clock and the sleep
// it is given (tests pass fakes; the period starts at now()).
func NewThrottler(ratePerSec float64, checkInterval time.Duration, now func() time.Time, sleep func(time.Duration)) *Throttler {
	return &Throttler{rate: ratePerSec, checkInterval: checkInterval, now: now, sleep: sleep, periodStart: now()}
}

// Rate is the desired rate per second, fixed at construction (Kafka 2.8 never changes it).
func (t *Throttler) Rate() float64 { return t.rate }

// Observed is the throttler's meter count: every unit reported so far.
func (t *Throttler) Observed() int64 { return t.observedTotal.Load() }

// MaybeThrottle is Throttler.maybeThrottle: it counts observed and sleeps when the period's rate is too high.
func (t *Throttler) MaybeThrottle(observed float64) {
	t.observedTotal.Add(int64(observed))
	t.mu.Lock()
	defer t.mu.Unlock()
	t.observed += observed
	elapsed := t.now().Sub(t.periodStart)
	if elapsed <= t.checkInterval || t.observed <= 0 {
		return
	}
	if rate := t.observed * float64(time.Second) / float64(elapsed); rate > t.rate {
		if d := sleepFor(t.observed, t.rate, elapsed); d > 0 {
			t.sleep(d)
		}
	}
	t.periodStart = t.now()
	t.observed = 0
}

// sleepFor is Kafka's round(observed / desiredRateMs - elapsedMs) with the elapsed time cut to whole
// milliseconds, as TimeUnit.NANOSECONDS.toMillis does, and Math.round's half-up rounding. A rate of 0 makes
// an infinite sleep, capped at what a Duration holds.
func sleepFor(observed, ratePerSec float64, elapsed time.Duration) time.Duration {
	ms := math.Floor(observed/(ratePerSec/1000) - float64(elapsed.Milliseconds()) + 0.5)
	if ms >= float64(math.MaxInt64/int64(time.Millisecond)) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

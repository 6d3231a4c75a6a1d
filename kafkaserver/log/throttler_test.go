package log

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeTime is a clock whose sleeps are recorded and move it forward; tick, when set, moves it on each reading.
type fakeTime struct {
	mu     sync.Mutex
	t      time.Time
	tick   time.Duration
	sleeps []time.Duration
}

func (f *fakeTime) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(f.tick)
	return f.t
}

func (f *fakeTime) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func (f *fakeTime) sleep(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.t = f.t.Add(d)
}

func (f *fakeTime) slept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sleeps)
}

func newFakeTime() *fakeTime { return &fakeTime{t: time.Unix(1_700_000_000, 0)} }

// TestThrottlerSleeps follows Kafka's Throttler arithmetic step by step: nothing happens until more than the
// check interval has passed, then the sleep is round(observed / (rate per ms) - whole elapsed ms).
func TestThrottlerSleeps(t *testing.T) {
	ft := newFakeTime()
	th := NewThrottler(1000, CleanerIoCheckInterval, ft.now, ft.sleep)
	step := func(advance time.Duration, observed float64, want ...time.Duration) {
		t.Helper()
		ft.advance(advance)
		before := len(ft.slept())
		th.MaybeThrottle(observed)
		if got := ft.slept()[before:]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after %v and %v observed: slept %v, want %v", advance, observed, got, want)
		}
	}
	step(0, 100)
	step(300*time.Millisecond, 100) // the interval must be exceeded, not just reached
	// 600 bytes in 301 ms is above 1000/s: 600/1 - 301 = 299 ms.
	step(time.Millisecond, 400, 299*time.Millisecond)
	// A new period began after the sleep: 200 bytes in 400 ms is below the rate.
	step(400*time.Millisecond, 200)
	// Nothing observed in a period: no look at the rate, the period goes on.
	step(time.Second, 0)
	// 2000 bytes in 1.2 s (the period began 1 s earlier): 2000 - 1200 = 800 ms.
	step(200*time.Millisecond, 2000, 800*time.Millisecond)
	if got := th.Observed(); got != 2800 {
		t.Errorf("meter counted %d, want 2800", got)
	}

	// Elapsed time (301.1 ms, above 3000/s) is cut to whole milliseconds and the sleep rounded half up:
	// 904.5/3 - 301 = 0.5 -> 1 ms.
	ft = newFakeTime()
	th = NewThrottler(3000, CleanerIoCheckInterval, ft.now, ft.sleep)
	ft.advance(301*time.Millisecond + 100*time.Microsecond)
	th.MaybeThrottle(904.5)
	// 904 bytes: 301.33 - 301 rounds to 0, no sleep.
	ft.advance(301*time.Millisecond + 100*time.Microsecond)
	th.MaybeThrottle(904)
	if got := ft.slept(); fmt.Sprint(got) != fmt.Sprint([]time.Duration{time.Millisecond}) {
		t.Errorf("slept %v, want [1ms]", got)
	}
}

// TestThrottlerLimits: the default rate (Double.MaxValue) never sleeps; a rate of 0 sleeps for ever (Kafka's
// Long.MaxValue ms, here the longest Duration).
func TestThrottlerLimits(t *testing.T) {
	ft := newFakeTime()
	th := NewThrottler(math.MaxFloat64, CleanerIoCheckInterval, ft.now, ft.sleep)
	for range 10 {
		ft.advance(time.Second)
		th.MaybeThrottle(1 << 40)
	}
	if got := ft.slept(); len(got) != 0 {
		t.Errorf("unthrottled slept %v", got)
	}
	th = NewThrottler(0, CleanerIoCheckInterval, ft.now, ft.sleep)
	ft.advance(time.Second)
	th.MaybeThrottle(1)
	if got := ft.slept(); len(got) != 1 || got[0] != math.MaxInt64 {
		t.Errorf("rate 0 slept %v", got)
	}
}

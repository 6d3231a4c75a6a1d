package quota

import "math"

// sample is one window of a SampledStat.
type sample struct {
	start  int64 // ms
	value  float64
	events int64
}

// sampled is Kafka's SampledStat: values summed in windows of windowMs, at most windows of them kept, a window
// reset once it is older than all of them together. It is not safe for concurrent use.
type sampled struct {
	windows  int
	windowMs int64
	samples  []sample
	current  int
}

func newSampled(windows int, windowMs int64) sampled {
	return sampled{windows: max(windows, 1), windowMs: max(windowMs, 1)}
}

// record adds v at nowMs, starting a new window when the current one is complete.
func (s *sampled) record(v float64, nowMs int64) {
	if len(s.samples) == 0 {
		s.samples = append(s.samples, sample{start: nowMs})
	}
	cur := &s.samples[s.current]
	if nowMs-cur.start >= s.windowMs {
		s.current = (s.current + 1) % s.windows
		if s.current >= len(s.samples) {
			s.samples = append(s.samples, sample{start: nowMs})
		} else {
			s.samples[s.current] = sample{start: nowMs}
		}
		cur = &s.samples[s.current]
	}
	cur.value += v
	cur.events++
}

// purge is purgeObsoleteSamples: windows older than all of them together start over at nowMs.
func (s *sampled) purge(nowMs int64) {
	expire := int64(s.windows) * s.windowMs
	for i := range s.samples {
		if nowMs-s.samples[i].start >= expire {
			s.samples[i] = sample{start: nowMs}
		}
	}
}

// Rate is Kafka's metrics Rate: the sum of the kept windows per second of the time they span.
type Rate struct{ s sampled }

// NewRate returns a rate measured over windows windows of windowMs each.
func NewRate(windows int, windowMs int64) Rate { return Rate{newSampled(windows, windowMs)} }

// Record adds v at nowMs.
func (r *Rate) Record(v float64, nowMs int64) { r.s.record(v, nowMs) }

// Measure is Rate.measure: the windows' sum over WindowSize, in units per second.
func (r *Rate) Measure(nowMs int64) float64 {
	elapsed := r.WindowSize(nowMs)
	total := 0.0
	for _, s := range r.s.samples {
		total += s.value
	}
	return total / (float64(elapsed) / 1000)
}

// WindowSize is Rate.windowSize: the time in ms the kept windows span, counted as at least windows-1 full windows
// (so that a first burst is not read as a high rate).
func (r *Rate) WindowSize(nowMs int64) int64 {
	r.s.purge(nowMs)
	if len(r.s.samples) == 0 {
		r.s.samples = append(r.s.samples, sample{start: nowMs})
	}
	oldest := r.s.samples[0].start
	for _, s := range r.s.samples {
		oldest = min(oldest, s.start)
	}
	elapsed := nowMs - oldest
	if full, least := elapsed/r.s.windowMs, int64(r.s.windows-1); full < least {
		elapsed += (least - full) * r.s.windowMs
	}
	return elapsed
}

// Avg is Kafka's metrics Avg: the mean of the values recorded in the kept windows, NaN without any.
type Avg struct{ s sampled }

// NewAvg returns a mean over windows windows of windowMs each.
func NewAvg(windows int, windowMs int64) Avg { return Avg{newSampled(windows, windowMs)} }

// Record adds v at nowMs.
func (a *Avg) Record(v float64, nowMs int64) { a.s.record(v, nowMs) }

// Measure is the mean of the kept windows' values.
func (a *Avg) Measure(nowMs int64) float64 {
	a.s.purge(nowMs)
	total, n := 0.0, int64(0)
	for _, s := range a.s.samples {
		total += s.value
		n += s.events
	}
	if n == 0 {
		return math.NaN()
	}
	return total / float64(n)
}

// TokenBucket is Kafka's TokenBucket stat (KIP-599), the controller mutation quota's measure: credits refill at
// the quota's rate (per second) up to a burst, what is recorded takes them, and the quota is exhausted while they
// are below zero. Like Kafka's it starts empty at time 0, so a first look at a wall-clock time finds it full. It
// is not safe for concurrent use.
type TokenBucket struct {
	tokens float64
	lastMs int64
}

// refill adds rate credits per second elapsed since the last look, up to burst.
func (b *TokenBucket) refill(rate, burst float64, nowMs int64) {
	b.tokens = min(burst, b.tokens+rate*(float64(nowMs-b.lastMs)/1000))
	b.lastMs = nowMs
}

// Measure is the credits left at nowMs for a refill rate and burst.
func (b *TokenBucket) Measure(rate, burst float64, nowMs int64) float64 {
	b.refill(rate, burst, nowMs)
	return b.tokens
}

// Record takes v credits at nowMs (a negative v gives them back, never beyond the burst).
func (b *TokenBucket) Record(v, rate, burst float64, nowMs int64) {
	b.refill(rate, burst, nowMs)
	b.tokens = min(burst, b.tokens-v)
}

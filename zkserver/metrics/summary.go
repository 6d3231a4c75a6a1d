// Package metrics holds the counters and summaries of Apache's ServerMetrics that the server's parts keep.
package metrics

import (
	"math"
	"slices"
	"sync"
)

// Summary is one of ServerMetrics's summaries: count, sum, min and max since the last reset, and (for the
// advanced ones) percentiles over a uniform sample of the newest values, rounded as Apache's
// AvgMinMaxPercentileCounter rounds.
type Summary struct {
	Count, Sum, Min, Max     int64
	P50, P90, P95, P99, P999 int64
}

// sampleCap is how many of the newest values the percentiles are taken from.
const sampleCap = 4096

// SummaryCounter gathers a Summary; safe for concurrent use.
type SummaryCounter struct {
	mu         sync.Mutex
	sum        Summary
	samples    []int64 // the newest values (a ring), for the percentiles
	nextSample int
}

// Add records one value.
func (c *SummaryCounter) Add(v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &c.sum
	if t.Count == 0 || v < t.Min {
		t.Min = v
	}
	t.Max = max(t.Max, v)
	t.Count++
	t.Sum += v
	if len(c.samples) < sampleCap {
		c.samples = append(c.samples, v)
		return
	}
	c.samples[c.nextSample] = v
	c.nextSample = (c.nextSample + 1) % sampleCap
}

// Snapshot is the summary so far.
func (c *SummaryCounter) Snapshot() Summary {
	c.mu.Lock()
	out := c.sum
	vals := slices.Clone(c.samples)
	c.mu.Unlock()
	slices.Sort(vals)
	q := func(quantile float64) int64 {
		n := len(vals)
		if n == 0 {
			return 0
		}
		// Dropwizard's UniformSnapshot.getValue: linear between the two nearest ranks.
		pos := quantile * float64(n+1)
		switch {
		case pos < 1:
			return vals[0]
		case pos >= float64(n):
			return vals[n-1]
		}
		lo, hi := float64(vals[int(pos)-1]), float64(vals[int(pos)])
		return int64(math.Round(lo + (pos-math.Floor(pos))*(hi-lo)))
	}
	out.P50, out.P90, out.P95, out.P99, out.P999 = q(0.5), q(0.9), q(0.95), q(0.99), q(0.999)
	return out
}

// Reset forgets every value (srst: ServerMetrics.resetAll).
func (c *SummaryCounter) Reset() {
	c.mu.Lock()
	c.sum, c.samples, c.nextSample = Summary{}, nil, 0
	c.mu.Unlock()
}

// SummarySet is one of ServerMetrics's summary sets: a SummaryCounter per key, made on the key's first value;
// safe for concurrent use.
type SummarySet struct {
	mu       sync.Mutex
	counters map[string]*SummaryCounter
}

// Add records one value under key.
func (s *SummarySet) Add(key string, v int64) {
	s.mu.Lock()
	c := s.counters[key]
	if c == nil {
		if s.counters == nil {
			s.counters = map[string]*SummaryCounter{}
		}
		c = &SummaryCounter{}
		s.counters[key] = c
	}
	s.mu.Unlock()
	c.Add(v)
}

// Snapshot is each key's summary so far.
func (s *SummarySet) Snapshot() map[string]Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Summary, len(s.counters))
	for k, c := range s.counters {
		out[k] = c.Snapshot()
	}
	return out
}

// Reset forgets every value and keeps the keys, as a summary set's reset does.
func (s *SummarySet) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.counters {
		c.Reset()
	}
}

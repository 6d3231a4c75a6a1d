// Package hist keeps histograms as Kafka's (Yammer) metrics report them: the percentiles of roughly the last five
// minutes' values, with an all-time count and sum. Values go into lock-free buckets (exact to 31, then eight per
// power of two), so that recording costs a few atomic adds.
package hist

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Quantiles are the percentiles Kafka's (Yammer) histograms report.
var Quantiles = []float64{0.5, 0.75, 0.95, 0.98, 0.99, 0.999}

// Buckets: values below exactBuckets have one each; above, subBuckets per power of two up to 2^maxExp, beyond
// which values share the last bucket.
const (
	exactBuckets = 32
	subBits      = 3
	subBuckets   = 1 << subBits
	maxExp       = 40
	numBuckets   = exactBuckets + (maxExp-5+1)*subBuckets
	histMinutes  = 5
)

// Decaying counts values into a bucket set per minute of the last histMinutes, plus an all-time count and sum.
type Decaying struct {
	count, sum atomic.Uint64
	gens       [histMinutes]histGen
}

type histGen struct {
	minute  atomic.Int64
	buckets [numBuckets]atomic.Uint32
}

func bucketOf(v uint64) int {
	if v < exactBuckets {
		return int(v)
	}
	e := bits.Len64(v) - 1 // 5 and up
	if e > maxExp {
		return numBuckets - 1
	}
	return exactBuckets + (e-5)*subBuckets + int(v>>(e-subBits))&(subBuckets-1)
}

// bucketValue is the middle of bucket i's range.
func bucketValue(i int) float64 {
	if i < exactBuckets {
		return float64(i)
	}
	e := (i-exactBuckets)/subBuckets + 5
	sub := (i - exactBuckets) % subBuckets
	width := uint64(1) << (e - subBits)
	low := uint64(1)<<e + uint64(sub)*width
	return float64(low) + float64(width-1)/2
}

func (h *Decaying) Observe(v uint64, minute int64) {
	h.count.Add(1)
	h.sum.Add(v)
	g := &h.gens[minute%histMinutes]
	if old := g.minute.Load(); old != minute && g.minute.CompareAndSwap(old, minute) {
		// A new minute takes over the slot; a count racing with the reset may land either side of it.
		for i := range g.buckets {
			g.buckets[i].Store(0)
		}
	}
	g.buckets[bucketOf(v)].Add(1)
}

// Snapshot is the all-time count and sum and the quantiles of the last histMinutes minutes (NaN without values).
func (h *Decaying) Snapshot(minute int64) (uint64, float64, map[float64]float64) {
	var merged [numBuckets]uint64
	var n uint64
	for g := range h.gens {
		gen := &h.gens[g]
		if m := gen.minute.Load(); m <= minute-histMinutes || m > minute {
			continue
		}
		for i := range gen.buckets {
			c := uint64(gen.buckets[i].Load())
			merged[i] += c
			n += c
		}
	}
	qs := make(map[float64]float64, len(Quantiles))
	for _, q := range Quantiles {
		qs[q] = math.NaN()
		if n == 0 {
			continue
		}
		// The value at position q*n, as a sorted sample's quantile.
		rank := uint64(math.Ceil(q * float64(n)))
		var seen uint64
		for i, c := range merged {
			if seen += c; seen >= max(rank, 1) {
				qs[q] = bucketValue(i)
				break
			}
		}
	}
	return h.count.Load(), float64(h.sum.Load()), qs
}

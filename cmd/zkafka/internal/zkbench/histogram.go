package zkbench

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power-of-two range of values is cut into 2^subBits equal buckets,
// so a recorded value is known to within 1/2^subBits (under 0.8%) of itself, as in an HDR histogram.
const (
	subBits    = 7
	subCount   = 1 << subBits // buckets per power of two above the linear range
	linearTop  = 2 * subCount // values below this get a bucket each
	numBuckets = linearTop + (64-subBits-1)*subCount
)

// Histogram records durations (in nanoseconds) in log-linear buckets. Its size is fixed whatever the number of
// samples, so every client can keep one and the run merges them at the end. The zero value is not usable; call
// NewHistogram. A Histogram is not safe for concurrent use.
type Histogram struct {
	counts []uint64
	count  uint64
	sum    float64
	min    int64
	max    int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets), min: math.MaxInt64}
}

// bucketOf maps a non-negative value to its bucket index.
func bucketOf(v uint64) int {
	if v < linearTop {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1) // >= 1 here
	mantissa := v >> uint(shift)           // in [subCount, 2*subCount)
	return linearTop + (shift-1)*subCount + int(mantissa-subCount)
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < linearTop {
		return uint64(i)
	}
	shift := (i-linearTop)/subCount + 1
	mantissa := uint64((i-linearTop)%subCount + subCount)
	return (mantissa+1)<<uint(shift) - 1
}

// Record adds one sample. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) { h.RecordN(d, 1) }

// RecordN adds n samples of the same value (the records of one request share its latency).
func (h *Histogram) RecordN(d time.Duration, n uint64) {
	if n == 0 {
		return
	}
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(uint64(v))] += n
	h.count += n
	h.sum += float64(v) * float64(n)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.count += o.count
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of samples recorded.
func (h *Histogram) Count() uint64 { return h.count }

// Min is the smallest sample, or 0 when empty.
func (h *Histogram) Min() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Max is the largest sample, or 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the exact arithmetic mean of the samples, or 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.count))
}

// Quantile returns the value at or below which a fraction q (0..1) of the samples fall: the nearest-rank
// sample, rounded up to the top of its bucket and capped at the largest sample. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(int64(bucketHigh(i)), h.max))
		}
	}
	return time.Duration(h.max)
}

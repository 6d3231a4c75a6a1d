package zkbench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueInOrder(t *testing.T) {
	values := []uint64{0, 1, linearTop - 1, linearTop, linearTop + 1, 1000, 1 << 20, 1<<20 + 12345, 1 << 40, math.MaxInt64}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, rng.Uint64N(math.MaxInt64))
		values = append(values, rng.Uint64N(1<<uint(rng.IntN(62)+1)))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0,%d)", v, i, numBuckets)
		}
		if high := bucketHigh(i); high < v {
			t.Fatalf("bucketHigh(bucketOf(%d)) = %d, below the value", v, high)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Fatalf("bucket %d below %d's bucket already holds it (high %d)", i-1, v, bucketHigh(i-1))
		}
		// The bucket's width bounds the relative error.
		if v >= linearTop {
			if width := bucketHigh(i) - bucketHigh(i-1); float64(width) > float64(v)/subCount {
				t.Fatalf("bucket of %d is %d wide, more than 1/%d of the value", v, width, subCount)
			}
		}
	}
}

func TestHistogramEmpty(t *testing.T) {
	h := NewHistogram()
	if h.Count() != 0 || h.Quantile(0.5) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatalf("empty histogram: count %d p50 %v min %v max %v mean %v", h.Count(), h.Quantile(0.5), h.Min(), h.Max(), h.Mean())
	}
}

func TestHistogramExactInLinearRange(t *testing.T) {
	h := NewHistogram()
	for v := 100; v >= 1; v-- {
		h.Record(time.Duration(v))
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.01, 1}, {0.5, 50}, {0.99, 99}, {0.999, 100}, {1, 100}}
	for _, c := range cases {
		if got := h.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50 { // 50.5ns truncated
		t.Errorf("count %d min %v max %v mean %v", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestHistogramNegativeCountsAsZero(t *testing.T) {
	h := NewHistogram()
	h.Record(-time.Second)
	if h.Count() != 1 || h.Max() != 0 || h.Quantile(1) != 0 {
		t.Fatalf("count %d max %v p100 %v", h.Count(), h.Max(), h.Quantile(1))
	}
}

// The quantiles of a spread of latencies match the nearest-rank quantiles of the sorted samples to within the
// bucket precision, never below them.
func TestHistogramQuantilesMatchSortedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	h := NewHistogram()
	var samples []time.Duration
	for range 50000 {
		// Log-uniform from 10µs to about 1s, like a latency distribution with a long tail.
		d := time.Duration(10e3 * math.Exp(rng.Float64()*math.Log(1e5)))
		samples = append(samples, d)
		h.Record(d)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		rank := int(math.Ceil(q * float64(len(samples))))
		exact := samples[rank-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount {
			t.Errorf("Quantile(%v) = %v, exact %v: off by more than 1/%d", q, got, exact, subCount)
		}
	}
	if h.Max() != samples[len(samples)-1] || h.Min() != samples[0] {
		t.Errorf("min %v max %v, want %v %v", h.Min(), h.Max(), samples[0], samples[len(samples)-1])
	}
}

func TestHistogramMergeEqualsOneHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	all, a, b := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 10000 {
		d := time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(b)
	a.Merge(NewHistogram()) // merging an empty one changes nothing, min included
	for _, q := range []float64{0, 0.5, 0.99, 0.999, 1} {
		if a.Quantile(q) != all.Quantile(q) {
			t.Errorf("Quantile(%v): merged %v, single %v", q, a.Quantile(q), all.Quantile(q))
		}
	}
	if a.Count() != all.Count() || a.Min() != all.Min() || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Errorf("merged count %d min %v max %v mean %v; single %d %v %v %v",
			a.Count(), a.Min(), a.Max(), a.Mean(), all.Count(), all.Min(), all.Max(), all.Mean())
	}
}

func TestHistogramRecordNEqualsRepeatedRecord(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for i, d := range []time.Duration{3 * time.Microsecond, 7 * time.Millisecond, 2 * time.Second} {
		n := uint64(i*5 + 1)
		a.RecordN(d, n)
		for range n {
			b.Record(d)
		}
	}
	a.RecordN(time.Second, 0) // no samples
	if a.Count() != b.Count() || a.Mean() != b.Mean() || a.Max() != b.Max() || a.Min() != b.Min() ||
		a.Quantile(0.5) != b.Quantile(0.5) || a.Quantile(0.99) != b.Quantile(0.99) {
		t.Fatalf("RecordN %d/%v/%v, Record %d/%v/%v", a.Count(), a.Mean(), a.Quantile(0.99), b.Count(), b.Mean(), b.Quantile(0.99))
	}
}

package hist

import (
	"math"
	"testing"
)

// A histogram's buckets hold small values exactly and larger ones within an eighth of their power of two;
// its quantiles are those of the last minutes' values.
func TestDecaying(t *testing.T) {
	for _, v := range []uint64{0, 1, 31, 32, 35, 36, 100, 1000, 123456, 1 << 39} {
		got := bucketValue(bucketOf(v))
		if v < exactBuckets && got != float64(v) {
			t.Errorf("%d read back as %v", v, got)
		}
		if math.Abs(got-float64(v)) > float64(v)/8 {
			t.Errorf("%d read back as %v", v, got)
		}
	}
	var h Decaying
	for v := range uint64(100) {
		h.Observe(v%10, 1000) // 0..9, ten times each
	}
	h.Observe(500, 1001)
	count, sum, qs := h.Snapshot(1001)
	if count != 101 || sum != 950 {
		t.Fatalf("count %d sum %v", count, sum)
	}
	if qs[0.5] != 5 || qs[0.99] != 9 { // the 51st and 100th of 101 values
		t.Fatalf("quantiles %v", qs)
	}
	if qs[0.999] < 450 {
		t.Fatalf("the largest value missing from the 99.9th percentile: %v", qs)
	}
	// Five minutes on, the old values have left the quantiles but not the count.
	if count, _, qs := h.Snapshot(1006); count != 101 || !math.IsNaN(qs[0.5]) {
		t.Fatalf("after five minutes: count %d, quantiles %v", count, qs)
	}
}

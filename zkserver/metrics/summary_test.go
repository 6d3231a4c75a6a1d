package metrics

import "testing"

func TestSummaryCounter(t *testing.T) {
	var c SummaryCounter
	for v := int64(1); v <= 100; v++ {
		c.Add(v)
	}
	q := c.Snapshot()
	// Dropwizard's UniformSnapshot over 1..100: the median at rank 50.5, p99 at rank 99.99.
	if q.Count != 100 || q.Sum != 5050 || q.Min != 1 || q.Max != 100 || q.P50 != 51 || q.P90 != 91 || q.P99 != 100 || q.P999 != 100 {
		t.Fatalf("%+v", q)
	}
	for range sampleCap {
		c.Add(7)
	}
	if q := c.Snapshot(); q.P50 != 7 || q.Max != 100 || q.Count != 100+sampleCap {
		t.Fatalf("after the ring turned: %+v", q)
	}
	c.Reset()
	if q := c.Snapshot(); q != (Summary{}) {
		t.Fatalf("reset: %+v", q)
	}
}

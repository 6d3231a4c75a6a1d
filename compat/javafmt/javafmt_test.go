package javafmt

import (
	"math"
	"testing"
)

func TestDouble(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 5.375: "5.375", 5.45: "5.45", 0.5: "0.5", 0.9: "0.9", 1: "1.0", 100: "100.0", 0.001: "0.001",
		0.0001: "1.0E-4", 1e7: "1.0E7", 12345678.9: "1.23456789E7", -2.5: "-2.5", 1.0 / 3: "0.3333333333333333",
		math.MaxFloat64: "1.7976931348623157E308", math.Inf(-1): "-Infinity", math.Copysign(0, -1): "-0.0",
	} {
		if got := Double(f); got != want {
			t.Errorf("Double(%v) = %q, want %q", f, got, want)
		}
	}
	if got := Double(math.NaN()); got != "NaN" {
		t.Errorf("Double(NaN) = %q", got)
	}
}

func TestRoundHalfUp(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{41.0 / 6, 6.8333}, {35.0 / 12, 2.9167}, {5.375, 5.375}, {0, 0}, {-2.71828, -2.7183},
		{9.99996, 10}, {1.00005, 1.0001}, // 1.00005 is a little above as a double
		{0.30005, 0.3}, // a little below: BigDecimal(double) rounds the exact value
		{2.5e-5, 0}, {7.0, 7},
	} {
		if got := RoundHalfUp(c.in, 4); got != c.want {
			t.Errorf("RoundHalfUp(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

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

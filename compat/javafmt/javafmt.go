// Package javafmt formats values as Java prints them, for outputs that must match Apache's byte for byte
// (ZooKeeper's srvr/mntr/AdminServer JSON, Kafka's DescribeConfigs values).
package javafmt

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Double is Double.toString: "0.0", "5.375", "1.0E7", "1.0E-4", "NaN", "Infinity"; plain notation for
// 1e-3 <= |f| < 1e7, else computerized scientific notation, always with a fraction digit.
func Double(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	a := math.Abs(f)
	if a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	// One digit, a fraction of at least one digit, "E", the exponent without "+" or leading zeros.
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// RoundHalfUp is new BigDecimal(f).setScale(scale, RoundingMode.HALF_UP).doubleValue(): f's exact binary value
// rounded to scale decimal places, ties away from zero. (ZooKeeper's AvgMinMaxCounter rounds its averages so.)
func RoundHalfUp(f float64, scale int) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
		return f
	}
	// The exact decimal expansion of a double has at most 1074 fractional digits.
	exact := new(big.Float).SetFloat64(f).Text('f', 1074)
	neg := strings.HasPrefix(exact, "-")
	exact = strings.TrimPrefix(exact, "-")
	intPart, frac, _ := strings.Cut(exact, ".")
	kept, rest := frac[:scale], frac[scale:]
	digits := []byte(intPart + kept)
	if rest != "" && rest[0] >= '5' {
		i := len(digits) - 1
		for ; i >= 0 && digits[i] == '9'; i-- {
			digits[i] = '0'
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		} else {
			digits[i]++
		}
	}
	s := string(digits[:len(digits)-scale]) + "." + string(digits[len(digits)-scale:])
	if neg {
		s = "-" + s
	}
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

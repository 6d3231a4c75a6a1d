package javastr

import "testing"

func TestTrim(t *testing.T) {
	for in, want := range map[string]string{" \t a b \x00\x1f": "a b", "\u00a0x\u00a0": "\u00a0x\u00a0", "": ""} {
		if got := Trim(in); got != want {
			t.Errorf("Trim(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCasing(t *testing.T) {
	for in, want := range map[string]string{"straße": "STRASSE", "ﬁx": "FIX", "abc": "ABC"} {
		if got := ToUpperEnglish(in); got != want {
			t.Errorf("ToUpperEnglish(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"İX": "i\u0307x", "ΟΔΟΣ": "οδος", "ΟΔΟΣ ΑΒ": "οδος αβ", "Σ": "σ",
		"ΣΑ": "σα", "ABC": "abc"} {
		if got := ToLowerEnglish(in); got != want {
			t.Errorf("ToLowerEnglish(%q) = %q, want %q", in, got, want)
		}
	}
}

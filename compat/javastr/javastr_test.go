package javastr

import "testing"

func TestTrim(t *testing.T) {
	for in, want := range map[string]string{" \t a b \x00\x1f": "a b", "\u00a0x\u00a0": "\u00a0x\u00a0", "": ""} {
		if got := Trim(in); got != want {
			t.Errorf("Trim(%q) = %q, want %q", in, got, want)
		}
	}
}

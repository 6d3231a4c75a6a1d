package acl

import (
	"strings"
	"unicode/utf8"
)

// Small reproductions of the Java library behaviour Apache's auth providers
// lean on; the ACL rules are defined by these, not by tidier Go equivalents.

// javaSplit is String.split(sep) with a literal separator and no limit:
// trailing empty strings are dropped, and "" splits into [""].
func javaSplit(s, sep string) []string {
	if s == "" {
		return []string{""}
	}
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// javaParseInt is Integer.parseInt(s, radix) for ASCII digits: an optional
// sign, at least one digit, and the value must fit an int.
func javaParseInt(s string, radix int) (int32, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		d := digitVal(s[i])
		if d < 0 || d >= radix {
			return 0, false
		}
		v = v*int64(radix) + int64(d)
		if v > 1<<31 {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	if v > 1<<31-1 || v < -1<<31 {
		return 0, false
	}
	return int32(v), true
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// javaString is new String(b, UTF_8) turned back into UTF-8. Java's decoder
// (JDK 17) swallows some ill-formed sequences whole and others byte by byte,
// unlike Go's conversions; digests of such passwords must match Apache's.
func javaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	const repl = utf8.RuneError
	var sb strings.Builder
	n := len(b)
	for i := 0; i < n; {
		b1 := b[i]
		switch {
		case b1 < 0x80:
			sb.WriteByte(b1)
			i++
		case b1 >= 0xC2 && b1 <= 0xDF:
			if i+1 < n && isCont(b[i+1]) {
				sb.Write(b[i : i+2])
				i += 2
			} else {
				sb.WriteRune(repl)
				i++
			}
		case b1>>4 == 0xE:
			if i+2 < n {
				b2, b3 := b[i+1], b[i+2]
				if (b1 == 0xE0 && b2&0xE0 == 0x80) || !isCont(b2) || !isCont(b3) {
					sb.WriteRune(repl)
					if (b1 == 0xE0 && b2&0xE0 == 0x80) || !isCont(b2) {
						i++
					} else {
						i += 2
					}
					continue
				}
				// a UTF-8-encoded surrogate is replaced as one unit
				if r := rune(b1&0x0F)<<12 | rune(b2&0x3F)<<6 | rune(b3&0x3F); r >= 0xD800 && r <= 0xDFFF {
					sb.WriteRune(repl)
				} else {
					sb.Write(b[i : i+3])
				}
				i += 3
				continue
			}
			sb.WriteRune(repl)
			if i+1 < n && ((b1 == 0xE0 && b[i+1]&0xE0 == 0x80) || !isCont(b[i+1])) {
				i++
				continue
			}
			i = n // a truncated tail is one replacement
		case b1>>3 == 0x1E:
			if i+3 < n {
				b2, b3, b4 := b[i+1], b[i+2], b[i+3]
				r := rune(b1&0x07)<<18 | rune(b2&0x3F)<<12 | rune(b3&0x3F)<<6 | rune(b4&0x3F)
				if isCont(b2) && isCont(b3) && isCont(b4) && r >= 0x10000 && r <= 0x10FFFF {
					sb.Write(b[i : i+4])
					i += 4
					continue
				}
				sb.WriteRune(repl)
				switch {
				case bad4Second(b1, b2):
					i++
				case !isCont(b3):
					i += 2
				default:
					i += 3
				}
				continue
			}
			sb.WriteRune(repl)
			if i+1 < n && bad4Second(b1, b[i+1]) || b1 > 0xF4 {
				i++
				continue
			}
			i += 2
			if i < n && !isCont(b[i]) {
				continue
			}
			i = n
		default:
			sb.WriteRune(repl)
			i++
		}
	}
	return sb.String()
}

func isCont(c byte) bool { return c&0xC0 == 0x80 }

// bad4Second reports a lead byte that cannot start a 4-byte sequence or a
// second byte that cannot follow it.
func bad4Second(b1, b2 byte) bool {
	return b1 > 0xF4 || (b1 == 0xF0 && (b2 < 0x90 || b2 > 0xBF)) || (b1 == 0xF4 && b2&0xF0 != 0x80) || !isCont(b2)
}

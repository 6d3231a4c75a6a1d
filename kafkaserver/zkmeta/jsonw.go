package zkmeta

import (
	"strconv"
	"unicode/utf8"
)

// jw writes compact JSON the way Jackson's default ObjectMapper does: no spaces, UTF-8 kept as is, only '"', '\\'
// and control characters escaped (\b \t \n \f \r short forms, others as \u00XX with upper-case hex).
type jw struct{ b []byte }

const hexUpper = "0123456789ABCDEF"

func (w *jw) raw(s string) { w.b = append(w.b, s...) }

func (w *jw) str(s string) {
	w.b = append(w.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				w.b = append(w.b, "\uFFFD"...)
			} else {
				w.b = append(w.b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch c {
		case '"':
			w.b = append(w.b, '\\', '"')
		case '\\':
			w.b = append(w.b, '\\', '\\')
		case '\b':
			w.b = append(w.b, '\\', 'b')
		case '\t':
			w.b = append(w.b, '\\', 't')
		case '\n':
			w.b = append(w.b, '\\', 'n')
		case '\f':
			w.b = append(w.b, '\\', 'f')
		case '\r':
			w.b = append(w.b, '\\', 'r')
		default:
			if c < 0x20 {
				w.b = append(w.b, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
			} else {
				w.b = append(w.b, c)
			}
		}
		i++
	}
	w.b = append(w.b, '"')
}

func (w *jw) int(v int64) { w.b = strconv.AppendInt(w.b, v, 10) }

func (w *jw) ints(vs []int32) {
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.int(int64(v))
	}
	w.b = append(w.b, ']')
}

// object writes a JSON object whose members are written in the given key order by the field callback.
func (w *jw) object(order []string, field func(key string)) {
	w.b = append(w.b, '{')
	for i, k := range order {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(k)
		w.b = append(w.b, ':')
		field(k)
	}
	w.b = append(w.b, '}')
}

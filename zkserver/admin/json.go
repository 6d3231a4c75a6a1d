package admin

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zkafka/zkafka/compat/javafmt"
)

// jfield is one member of an ordered JSON object.
type jfield struct {
	Key   string
	Value any
}

// jobj is a JSON object that keeps insertion order, as Apache's
// LinkedHashMap-backed CommandResponse does.
type jobj []jfield

// put sets key, keeping the position of an existing key (LinkedHashMap.put).
func (o *jobj) put(key string, v any) {
	for i := range *o {
		if (*o)[i].Key == key {
			(*o)[i].Value = v
			return
		}
	}
	*o = append(*o, jfield{key, v})
}

func (o jobj) get(key string) (any, bool) {
	for _, f := range o {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// jacksonJSON renders v the way Apache's JsonOutputter does (Jackson's
// DefaultPrettyPrinter): two-space indented objects, `"key" : value`, arrays
// inline with "[ a, b ]", empty containers as "{ }" and "[ ]", doubles as
// Java prints them, and no trailing newline.
func jacksonJSON(v any) string {
	var b strings.Builder
	writeJackson(&b, v, 0)
	return b.String()
}

func writeJackson(b *strings.Builder, v any, nesting int) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writeJacksonString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		s := javafmt.Double(x)
		if s == "NaN" || strings.HasSuffix(s, "Infinity") {
			// Jackson quotes non-finite numbers by default.
			writeJacksonString(b, s)
			return
		}
		b.WriteString(s)
	case jobj:
		if len(x) == 0 {
			b.WriteString("{ }")
			return
		}
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
			b.WriteString(strings.Repeat("  ", nesting+1))
			writeJacksonString(b, f.Key)
			b.WriteString(" : ")
			writeJackson(b, f.Value, nesting+1)
		}
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", nesting))
		b.WriteByte('}')
	case []any:
		if len(x) == 0 {
			b.WriteString("[ ]")
			return
		}
		// Jackson's array indenter is inline and does not deepen nesting.
		b.WriteString("[ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJackson(b, e, nesting)
		}
		b.WriteString(" ]")
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		writeJackson(b, a, nesting)
	case []int64:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		writeJackson(b, a, nesting)
	case []jobj:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		writeJackson(b, a, nesting)
	default:
		b.WriteString("null")
	}
}

// writeJacksonString quotes s with Jackson's escapes: quote, backslash, the
// short forms of \b \t \n \f \r, \u00XX for other control characters; "/"
// and non-ASCII text are written as they are.
func writeJacksonString(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\uFFFD")
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xF])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
	b.WriteByte('"')
}

package zoocfg

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/javastr"
)

// The expectations were produced by java.util.Properties.load (OpenJDK 17) on the same input bytes, except
// "utf8" where Java decodes ISO-8859-1 and we deliberately read UTF-8.
func TestParseProperties(t *testing.T) {
	type kv = Property
	tests := []struct {
		name string
		in   string
		want []Property
	}{
		{"separators", "a=b\nc:d\ne f\ng\t=\th\n", []kv{{"a", "b"}, {"c", "d"}, {"e", "f"}, {"g", "h"}}},
		{"value keeps trailing spaces", "  key   =   value with spaces   \n", []kv{{"key", "value with spaces   "}}},
		{"comments", "# c1\n! c2\n  # indented\nk=v # not comment\n#cont \\\nx=y\n",
			[]kv{{"k", "v # not comment"}, {"x", "y"}}},
		{"continuation", "k=a\\\n    b\\\n\tc\nz=1\n", []kv{{"k", "abc"}, {"z", "1"}}},
		{"continuation crlf", "k=a\\\r\n  b\r\nj=2\r\n", []kv{{"k", "ab"}, {"j", "2"}}},
		{"bare cr", "a=1\rb=2\r", []kv{{"a", "1"}, {"b", "2"}}},
		{"escapes", "k\\=x=v\\=1\\:2\\\\3\\t|\\n|\\r|\\f|\\b|\\u0041\\u00e9\n",
			[]kv{{"k=x", "v=1:2\\3\t|\n|\r|\f|b|A\u00e9"}}},
		{"surrogate pair", "s=\\uD83D\\uDE00\n", []kv{{"s", "\U0001F600"}}},
		{"escaped space in key", "my\\ key = v\n", []kv{{"my key", "v"}}},
		{"empty values", "k=\nk2\nk3 =   \n", []kv{{"k", ""}, {"k2", ""}, {"k3", ""}}},
		{"only one separator", "k==v\nk2::v\nk3 = :v\nk4 : = v\n",
			[]kv{{"k", "=v"}, {"k2", ":v"}, {"k3", ":v"}, {"k4", "= v"}}},
		{"even backslashes do not continue", "k=a\\\\\nb=c\n", []kv{{"k", "a\\"}, {"b", "c"}}},
		{"continuation at eof", "k=a\\", []kv{{"k", "a"}}},
		{"continuation into blank line", "k=a\\\n\nb=c\n", []kv{{"k", "a"}, {"b", "c"}}},
		{"continuation into whitespace line", "k=a\\\n   \nb=c\n", []kv{{"k", "a"}, {"b", "c"}}},
		{"duplicates kept in order", "k=1\nk=2\n", []kv{{"k", "1"}, {"k", "2"}}},
		{"comment lines never continue", "#x \\\nk=v\n", []kv{{"k", "v"}}},
		{"continued line is not a comment", "k=a\\\n#notcomment\n", []kv{{"k", "a#notcomment"}}},
		{"empty key", "=v\n:w\n", []kv{{"", "v"}, {"", "w"}}},
		{"latin1 fallback", "k=z\xf6k\n", []kv{{"k", "z\u00f6k"}}},
		{"utf8", "k=zök\n", []kv{{"k", "zök"}}},
		{"form feed is whitespace", "\fk\f=\fv\n", []kv{{"k", "v"}}},
		{"empty input", "", nil},
		{"only comments", "# a\n\n   \n!b", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ParseProperties: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePropertiesMalformedUnicode(t *testing.T) {
	for _, in := range []string{"k=\\u12\n", "k=\\u12G4\n", "k\\uzzzz=v\n"} {
		_, err := ParseProperties(strings.NewReader(in))
		if !errors.Is(err, ErrMalformedUnicode) {
			t.Errorf("%q: err = %v, want ErrMalformedUnicode", in, err)
		}
	}
}

func TestJavaTrim(t *testing.T) {
	if got := javastr.Trim("\x01\t x y \x1f\n"); got != "x y" {
		t.Fatalf("javastr.Trim = %q", got)
	}
}

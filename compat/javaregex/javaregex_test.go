package javaregex

import (
	"errors"
	"testing"
)

// Java syntax Go would read differently is refused; what Go can run the same is translated. Results against
// java.util.regex itself are compared in compat/kerbname's differential test.
func TestCompile(t *testing.T) {
	for _, src := range []string{`(a)\1`, `\12`, `(?=a)`, `(?<!a)b`, `(?>a)`, `[a[b]]`, `[a-z&&[^c]]`, `(?U)a`,
		`(?s).`, `(?m)^a`, `(?x)a b`, `\h`, `\v`, `\R`, `\Z`, `\G`, `x*|^`, `\b|a`} {
		if _, err := Compile(src); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Compile(%q): %v, want ErrUnsupported", src, err)
		}
	}
	for _, src := range []string{`(a`, `a{x}`, `a{,2}`, `*`, `a**`, `\p{Nope}`, `\u12`} {
		if _, err := Compile(src); err == nil || errors.Is(err, ErrUnsupported) {
			t.Errorf("Compile(%q): %v, want a syntax error", src, err)
		}
	}
	for _, c := range []struct{ src, in string }{
		{`a.c`, "abc"}, {`a\sc`, "a\vc"}, {`[\s]+`, " \v\t"}, {`\S+`, "ab"}, {`\p{Alpha}+\P{Alpha}`, "ab1"},
		{`[\p{Lower}\d]+`, "a1"}, {`\u00e9`, "é"}, {`\Q.*\E`, ".*"}, {`[]a]+`, "]a"}, {`(?i)AB`, "ab"},
		{`(?<n>a)b`, "ab"}, {`^a$`, "a"}, {`a{2,}`, "aaa"}, {`\x{e9}`, "é"},
	} {
		p, err := Compile(c.src)
		if err != nil || !p.Matches(c.in) {
			t.Errorf("Compile(%q) matching %q: %v", c.src, c.in, err)
		}
	}
	for _, c := range []struct{ src, in string }{{`a.c`, "a\rc"}, {`a.c`, "a\u2028c"}, {`\S`, "\v"}, {`a`, "ab"}} {
		if p, err := Compile(c.src); err != nil || p.Matches(c.in) {
			t.Errorf("Compile(%q) matched %q: %v", c.src, c.in, err)
		}
	}
}

func TestReplace(t *testing.T) {
	p, err := Compile(`(o)(x)?`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		repl, all, first string
		errClass         string
	}{
		{repl: "[$1$2]", all: "b[o][o]b", first: "b[o]ob"},
		{repl: `\$1\\`, all: `b$1\$1\b`, first: `b$1\ob`},
		{repl: "$12", all: "bo2o2b", first: "bo2ob"},
		{repl: "$3", errClass: "IndexOutOfBoundsException"},
		{repl: "$", errClass: "IllegalArgumentException"},
		{repl: `\`, errClass: "IllegalArgumentException"},
		{repl: "${1}", errClass: "IllegalArgumentException"},
	} {
		all, err := p.ReplaceAll("boob", c.repl)
		first, errFirst := p.ReplaceFirst("boob", c.repl)
		var re *ReplaceError
		if c.errClass != "" {
			if !errors.As(err, &re) || re.Class != c.errClass || !errors.As(errFirst, &re) {
				t.Errorf("%q: %v %v, want %s", c.repl, err, errFirst, c.errClass)
			}
			continue
		}
		if err != nil || errFirst != nil || all != c.all || first != c.first {
			t.Errorf("%q: %q %v, %q %v; want %q, %q", c.repl, all, err, first, errFirst, c.all, c.first)
		}
	}
	// Java's replaceAll also takes the empty match right after a match.
	p, _ = Compile(`x*`)
	if got, _ := p.ReplaceAll("xab", "-"); got != "--a-b-" {
		t.Errorf("x* over xab: %q", got)
	}
	// An empty match is a match, so a bad replacement fails; without a match the text stays as it is.
	if got, err := p.ReplaceFirst("", "$9"); err == nil || got != "" {
		t.Errorf("empty match with $9: %q %v", got, err)
	}
	p, _ = Compile(`q`)
	if got, err := p.ReplaceAll("ab", "$9"); err != nil || got != "ab" {
		t.Errorf("no match with $9: %q %v", got, err)
	}
}

package jaas

import (
	"fmt"
	"strconv"
)

// tokenizer reproduces java.io.StreamTokenizer as Kafka's JaasConfig and the JVM's ConfigFile set it up: the
// default syntax (letters are word characters, '"' and '\” quote, digits, '.' and '-' start numbers, '/'
// comments) plus '-', '_', '$' (and '*' in files) as word characters and // and /* */ comments. Numbers matter
// only in that they are not words, so an unquoted numeric value is rejected as Kafka rejects it.
type tokenizer struct {
	src  []rune
	pos  int
	line int
	file bool
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokQuoted
	tokNumber
	tokChar
	tokErr
)

type token struct {
	kind tokKind
	sval *string // words and quoted strings
	ch   rune    // tokChar, and the quote character of tokQuoted
	num  string
	line int
	err  error
}

func (t token) isChar(c rune) bool { return t.kind == tokChar && t.ch == c }

func (t token) text() string {
	switch t.kind {
	case tokWord, tokQuoted:
		return *t.sval
	case tokNumber:
		return t.num
	case tokChar:
		return string(t.ch)
	case tokEOF:
		return "EOF"
	}
	return "?"
}

func newTokenizer(s string, file bool) *tokenizer {
	return &tokenizer{src: []rune(s), line: 1, file: file}
}

const (
	ctWhite = 1 << iota
	ctDigit
	ctAlpha
	ctQuote
	ctComment
)

func (t *tokenizer) ctype(c rune) int {
	switch {
	case c >= 256:
		return ctAlpha
	case c <= ' ':
		return ctWhite
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= 128+32:
		return ctAlpha
	case c >= '0' && c <= '9', c == '.':
		return ctDigit
	case c == '-':
		return ctDigit | ctAlpha
	case c == '_' || c == '$':
		return ctAlpha
	case c == '*' && t.file:
		return ctAlpha
	case c == '"' || c == '\'':
		return ctQuote
	case c == '/':
		return ctComment
	}
	return 0
}

func (t *tokenizer) peek() rune {
	if t.pos < len(t.src) {
		return t.src[t.pos]
	}
	return -1
}

func (t *tokenizer) read() rune {
	if t.pos < len(t.src) {
		c := t.src[t.pos]
		t.pos++
		if c == '\n' {
			t.line++
		}
		return c
	}
	return -1
}

func (t *tokenizer) skipLine() {
	for c := t.peek(); c != -1 && c != '\n' && c != '\r'; c = t.peek() {
		t.read()
	}
}

func (t *tokenizer) next() token {
	for {
		c := t.peek()
		if c == -1 {
			return token{kind: tokEOF, line: t.line}
		}
		ct := t.ctype(c)
		switch {
		case ct&ctWhite != 0:
			t.read()
			continue
		case ct&ctDigit != 0:
			return t.number()
		case ct&ctAlpha != 0:
			start := t.pos
			for c := t.peek(); c != -1 && t.ctype(c)&(ctAlpha|ctDigit) != 0; c = t.peek() {
				t.read()
			}
			s := string(t.src[start:t.pos])
			return token{kind: tokWord, sval: &s, line: t.line}
		case ct&ctQuote != 0:
			return t.quoted()
		case c == '/':
			t.read()
			switch t.peek() {
			case '*':
				t.read()
				for {
					c := t.read()
					if c == -1 {
						return token{kind: tokEOF, line: t.line}
					}
					if c == '*' && t.peek() == '/' {
						t.read()
						break
					}
				}
			default:
				// "//" and, '/' being a comment character, a lone '/' both comment out the rest of the line.
				t.skipLine()
			}
			continue
		}
		t.read()
		return token{kind: tokChar, ch: c, line: t.line}
	}
}

func (t *tokenizer) number() token {
	line := t.line
	c := t.read()
	if c == '-' {
		if n := t.peek(); n != '.' && (n < '0' || n > '9') {
			return token{kind: tokChar, ch: '-', line: line}
		}
	}
	s := string(c)
	for n := t.peek(); (n >= '0' && n <= '9') || n == '.'; n = t.peek() {
		s += string(t.read())
	}
	return token{kind: tokNumber, num: s, line: line}
}

// quoted reads a quoted string: it ends at the matching quote, a line end or EOF, with StreamTokenizer's
// backslash escapes.
func (t *tokenizer) quoted() token {
	line := t.line
	q := t.read()
	var b []rune
	for {
		c := t.peek()
		if c == -1 || c == q || c == '\n' || c == '\r' {
			if c == q {
				t.read()
			}
			break
		}
		t.read()
		if c != '\\' {
			b = append(b, c)
			continue
		}
		c = t.read()
		switch c {
		case -1:
			s := string(b)
			return token{kind: tokQuoted, sval: &s, ch: q, line: line}
		case 'a':
			b = append(b, 7)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, 0xC)
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'v':
			b = append(b, 0xB)
		default:
			if c >= '0' && c <= '7' {
				// Up to three octal digits, the first at most '3' for a third digit.
				oct := string(c)
				for i := 0; i < 2; i++ {
					n := t.peek()
					if n < '0' || n > '7' || (i == 1 && oct[0] > '3') {
						break
					}
					oct += string(t.read())
				}
				v, err := strconv.ParseUint(oct, 8, 32)
				if err != nil {
					return token{kind: tokErr, err: fmt.Errorf("bad octal escape %q: %w", oct, err)}
				}
				b = append(b, rune(v))
				continue
			}
			b = append(b, c)
		}
	}
	s := string(b)
	return token{kind: tokQuoted, sval: &s, ch: q, line: line}
}

// Package javaregex runs java.util.regex patterns that Apache's configs carry (Kerberos auth_to_local rules, SSL
// principal mapping rules) with Go's regexp: Java's syntax is translated where Go can express the same meaning, and
// refused where it cannot, so that a rule never silently matches differently. Matches, ReplaceFirst and ReplaceAll
// behave as Java's Matcher.matches, String.replaceFirst and String.replaceAll, replacement syntax included.
//
// Known differences left: Java's '$' (without MULTILINE) also matches before a final line terminator, and (?i),
// \b and \w-like boundaries differ for non-ASCII letters; neither matters for names without line breaks or
// non-ASCII letters.
package javaregex

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// Pattern is a compiled Java pattern.
type Pattern struct {
	src      string
	find     *regexp.Regexp // the pattern, searched (Matcher.find)
	whole    *regexp.Regexp // the pattern over the whole input (Matcher.matches)
	anchored *regexp.Regexp // the pattern at the start of its input, for Java's empty matches after a match
	nullable bool           // the pattern can match the empty string
}

// ErrUnsupported is a pattern Java accepts but Go's regexp cannot run with the same meaning.
var ErrUnsupported = errors.New("not supported by Go's regexp")

// Compile translates and compiles a Java pattern. The error wraps ErrUnsupported for Java syntax Go cannot run the
// same (back-references, look-around, nested classes, most flags), else it is a syntax error Java reports too
// (PatternSyntaxException), in Go's words.
func Compile(src string) (*Pattern, error) {
	goSrc, err := translate(src)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	find, err := regexp.Compile(goSrc)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	p := &Pattern{src: src, find: find}
	p.whole = regexp.MustCompile(`\A(?:` + goSrc + `)\z`)
	p.anchored = regexp.MustCompile(`\A(?:` + goSrc + `)`)
	tree, err := syntax.Parse(goSrc, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	p.nullable = nullable(tree)
	if p.nullable && contextual(tree) {
		// Java's replaceAll takes an empty match right after a match, which Go's skips; finding it needs the text
		// before the match, which only ^ and \b look at.
		return nil, fmt.Errorf("pattern %q: a pattern that can match nothing and uses ^, \\A, \\b or \\B is %w",
			src, ErrUnsupported)
	}
	return p, nil
}

// String is the pattern as written (Pattern.toString).
func (p *Pattern) String() string { return p.src }

// NumGroups is the number of capturing groups (Matcher.groupCount).
func (p *Pattern) NumGroups() int { return p.find.NumSubexp() }

// Matches is Matcher.matches: the pattern matches the whole of s.
func (p *Pattern) Matches(s string) bool { return p.whole.MatchString(s) }

// ReplaceFirst is String.replaceFirst: s with its first match replaced by repl, read as Java's replacement syntax.
func (p *Pattern) ReplaceFirst(s, repl string) (string, error) {
	m := p.find.FindStringSubmatchIndex(s)
	if m == nil {
		return s, nil
	}
	return p.replace(s, repl, [][]int{m})
}

// ReplaceAll is String.replaceAll: s with every match replaced by repl, read as Java's replacement syntax.
func (p *Pattern) ReplaceAll(s, repl string) (string, error) {
	return p.replace(s, repl, p.findAll(s))
}

// findAll is Java's sequence of matches: Go's, plus the empty match Java finds right where a non-empty match ends
// (Go skips it). Without ^ or \b (see Compile) the pattern at that point depends only on the text after it.
func (p *Pattern) findAll(s string) [][]int {
	ms := p.find.FindAllStringSubmatchIndex(s, -1)
	if !p.nullable {
		return ms
	}
	var out [][]int
	for _, m := range ms {
		out = append(out, m)
		if m[1] == m[0] {
			continue
		}
		e := m[1]
		a := p.anchored.FindStringSubmatchIndex(s[e:])
		if a == nil || a[1] != 0 {
			continue
		}
		for i := range a {
			if a[i] >= 0 {
				a[i] += e
			}
		}
		out = append(out, a)
	}
	return out
}

func (p *Pattern) replace(s, repl string, ms [][]int) (string, error) {
	if len(ms) == 0 {
		return s, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		b.WriteString(s[last:m[0]])
		if err := p.expand(&b, s, repl, m); err != nil {
			return "", err
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// ReplaceError is the runtime exception Java's Matcher.appendReplacement throws for a bad replacement.
type ReplaceError struct {
	// Class is the Java exception: IllegalArgumentException or IndexOutOfBoundsException.
	Class string
	Msg   string
}

func (e *ReplaceError) Error() string { return e.Msg }

// expand writes repl for one match as Matcher.appendReplacement reads it: '\' quotes the next character, $n is a
// group (further digits are taken while the number stays a group), ${name} a named group.
func (p *Pattern) expand(b *strings.Builder, s, repl string, m []int) error {
	groups := p.NumGroups()
	illegal := func(msg string) error { return &ReplaceError{Class: "IllegalArgumentException", Msg: msg} }
	for i := 0; i < len(repl); {
		c := repl[i]
		switch c {
		case '\\':
			i++
			if i == len(repl) {
				return illegal("character to be escaped is missing")
			}
			_, w := utf8.DecodeRuneInString(repl[i:])
			b.WriteString(repl[i : i+w])
			i += w
			continue
		case '$':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		i++
		if i == len(repl) {
			return illegal("Illegal group reference: group index is missing")
		}
		var n int
		if repl[i] == '{' {
			i++
			j := i
			for j < len(repl) && isASCIIAlnum(repl[j]) {
				j++
			}
			name := repl[i:j]
			switch {
			case name == "":
				return illegal("named capturing group has 0 length name")
			case j == len(repl) || repl[j] != '}':
				return illegal("named capturing group is missing trailing '}'")
			case name[0] >= '0' && name[0] <= '9':
				return illegal("capturing group name {" + name + "} starts with digit character")
			}
			if n = p.find.SubexpIndex(name); n < 0 {
				return illegal("No group with name {" + name + "}")
			}
			i = j + 1
		} else {
			if repl[i] < '0' || repl[i] > '9' {
				return illegal("Illegal group reference")
			}
			n = int(repl[i] - '0')
			i++
			for i < len(repl) && repl[i] >= '0' && repl[i] <= '9' {
				next := n*10 + int(repl[i]-'0')
				if next > groups {
					break
				}
				n = next
				i++
			}
			if n > groups {
				return &ReplaceError{Class: "IndexOutOfBoundsException", Msg: fmt.Sprintf("No group %d", n)}
			}
		}
		if m[2*n] >= 0 {
			b.WriteString(s[m[2*n]:m[2*n+1]])
		}
	}
	return nil
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Java's classes where Go's differ: '.' stops at every Java line terminator, \s includes \x0B.
const (
	javaDot      = `[^\n\r\x{85}\x{2028}\x{2029}]`
	javaSpace    = `\t\n\x0B\f\r `
	javaNonSpace = `\x00-\x08\x0E-\x1F\x21-\x{10FFFF}`
)

// translate rewrites a Java pattern as Go syntax with the same meaning, or fails for what Go cannot do.
func translate(src string) (string, error) {
	var b strings.Builder
	unsupported := func(what string) error { return fmt.Errorf("%s is %w", what, ErrUnsupported) }
	inClass := false
	classStart := 0 // where the class's members begin, for a leading ']'
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\\':
			if i+1 == len(src) {
				return "", errors.New("unexpected trailing backslash")
			}
			e := src[i+1]
			i += 2
			switch {
			case e >= '0' && e <= '9':
				return "", unsupported(`a back-reference or octal escape (\` + string(e) + `)`)
			case e == 's' && inClass:
				b.WriteString(javaSpace)
			case e == 's':
				b.WriteString("[" + javaSpace + "]")
			case e == 'S' && inClass:
				b.WriteString(javaNonSpace)
			case e == 'S':
				b.WriteString("[^" + javaSpace + "]")
			case e == 'u':
				if i+4 > len(src) || !isHex(src[i:i+4]) {
					return "", errors.New(`illegal Unicode escape sequence \u`)
				}
				b.WriteString(`\x{` + src[i:i+4] + `}`)
				i += 4
			case e == 'Q':
				end := strings.Index(src[i:], `\E`)
				lit := src[i:]
				if end >= 0 {
					lit = src[i : i+end]
					i += end + 2
				} else {
					i = len(src)
				}
				if inClass {
					for _, r := range lit {
						b.WriteString(`\x{` + fmt.Sprintf("%x", r) + `}`)
					}
				} else {
					b.WriteString(regexp.QuoteMeta(lit))
				}
			case (e == 'p' || e == 'P' || e == 'x') && i < len(src) && src[i] == '{':
				end := strings.IndexByte(src[i:], '}')
				if end < 0 {
					return "", errors.New(`unclosed \` + string(e) + "{")
				}
				name := src[i+1 : i+end]
				i += end + 1
				if posix, ok := posixClasses[name]; ok && e != 'x' {
					b.WriteString(posixClass(posix, e == 'P', inClass))
				} else {
					b.WriteString(`\` + string(e) + "{" + name + "}")
				}
			case strings.IndexByte("hHvVRXGZkNec", e) >= 0:
				return "", unsupported(`\` + string(e))
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			continue
		case inClass:
			switch {
			case c == '[':
				return "", unsupported("a nested character class ([ inside [])")
			case c == '&' && i+1 < len(src) && src[i+1] == '&':
				return "", unsupported("a character class intersection (&&)")
			case c == ']' && i > classStart:
				inClass = false
			}
		case c == '[':
			inClass = true
			b.WriteByte(c)
			i++
			if i < len(src) && src[i] == '^' {
				b.WriteByte('^')
				i++
			}
			classStart = i
			continue
		case c == '.':
			b.WriteString(javaDot)
			i++
			continue
		case c == '(' && i+1 < len(src) && src[i+1] == '?':
			n, err := group(src[i+2:])
			if err != nil {
				return "", err
			}
			b.WriteString(src[i : i+2+n])
			i += 2 + n
			continue
		case c == '{':
			n := repetition(src[i:])
			if n == 0 {
				return "", errors.New("illegal repetition " + src[i:])
			}
			b.WriteString(src[i : i+n])
			i += n
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), nil
}

// posixClasses are Java's ASCII \p{Name} classes, the same sets as Go's [[:name:]].
var posixClasses = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha", "Digit": "digit", "Alnum": "alnum",
	"Punct": "punct", "Graph": "graph", "Print": "print", "Blank": "blank", "Cntrl": "cntrl", "XDigit": "xdigit",
	"Space": "space",
}

func posixClass(name string, negate, inClass bool) string {
	switch {
	case inClass && negate:
		return "[:^" + name + ":]"
	case inClass:
		return "[:" + name + ":]"
	case negate:
		return "[^[:" + name + ":]]"
	}
	return "[[:" + name + ":]]"
}

// group checks what follows "(?" and returns how much of it to copy: "", ":", "<name>", or inline flags; only
// (?i) is taken, as Java's other flags mean something else in Go or change '.' and '$'.
func group(rest string) (int, error) {
	switch {
	case strings.HasPrefix(rest, ":"):
		return 1, nil
	case strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "=") ||
		strings.HasPrefix(rest, "!"):
		return 0, fmt.Errorf("look-around is %w", ErrUnsupported)
	case strings.HasPrefix(rest, ">"):
		return 0, fmt.Errorf("an atomic group is %w", ErrUnsupported)
	case strings.HasPrefix(rest, "<"):
		return 1, nil
	}
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case 'i', '-':
		case ')', ':':
			return j + 1, nil
		default:
			return 0, fmt.Errorf("the inline flag %q is %w", rest[j], ErrUnsupported)
		}
	}
	return 0, errors.New("unclosed group")
}

// repetition is the length of a Java {n}, {n,} or {n,m} at the start of s, or 0 (Java refuses any other '{').
func repetition(s string) int {
	i := 1
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if digits() == 0 {
		return 0
	}
	if i < len(s) && s[i] == ',' {
		i++
		digits()
	}
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	return 0
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return false
		}
	}
	return true
}

// nullable reports whether re can match the empty string (assertions count as empty).
func nullable(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) == 0
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL, syntax.OpNoMatch:
		return false
	case syntax.OpStar, syntax.OpQuest:
		return true
	case syntax.OpRepeat:
		return re.Min == 0 || nullable(re.Sub[0])
	case syntax.OpPlus, syntax.OpCapture:
		return nullable(re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !nullable(s) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if nullable(s) {
				return true
			}
		}
		return false
	}
	return true // empty match and assertions
}

// contextual reports whether re looks at the text before its position (^, \A, \b, \B).
func contextual(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if contextual(s) {
			return true
		}
	}
	return false
}

package tlsconf

import (
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"

	"github.com/zkafka/zkafka/compat/jsse"
)

// PrincipalMapper is Kafka's SslPrincipalMapper: ssl.principal.mapping.rules turns a client certificate's subject
// (RFC 2253, as X500Principal.getName() writes it) into the principal's name. Rules are tried in order; the first
// that applies names the principal.
type PrincipalMapper struct {
	rules []mappingRule
}

// mappingRule is DEFAULT (the subject as it is) or RULE:pattern/replacement/[LU].
type mappingRule struct {
	isDefault  bool
	text       string         // the pattern as written, for messages
	match      *regexp.Regexp // the pattern over the whole subject (Matcher.matches)
	find       *regexp.Regexp // the pattern as replaceAll searches it
	groups     int
	replace    string
	lower, upp bool
}

// The grammar of SslPrincipalMapper: DEFAULT, RULE:pattern/replacement/ with optional L or U, or anything else
// (which must then be empty); rules are separated by commas.
const rulePattern = `(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`

var (
	ruleSplitter = regexp.MustCompile(`\s*(` + rulePattern + `)\s*(,\s*|$)`)
	ruleParser   = regexp.MustCompile(`\A(?:` + rulePattern + `)`)
)

// NewPrincipalMapper parses rules ("" is DEFAULT). An invalid rule is an error, which stops Kafka's start. A pattern
// Go's regexp package cannot compile (back-references, look-around) is an error too.
func NewPrincipalMapper(rules string) (*PrincipalMapper, error) {
	if rules == "" {
		rules = "DEFAULT"
	}
	m := &PrincipalMapper{}
	for _, sub := range ruleSplitter.FindAllStringSubmatch(javastr.Trim(rules), -1) {
		rule := sub[1]
		loc := ruleParser.FindStringSubmatchIndex(rule)
		if loc == nil {
			return nil, fmt.Errorf("Invalid rule: %s", rule)
		}
		if loc[1] != len(rule) {
			return nil, fmt.Errorf("Invalid rule: `%s`, unmatched substring: `%s`", rule, rule[loc[1]:])
		}
		group := func(i int) (string, bool) {
			if loc[2*i] < 0 {
				return "", false
			}
			return rule[loc[2*i]:loc[2*i+1]], true
		}
		if _, ok := group(1); ok {
			m.rules = append(m.rules, mappingRule{isDefault: true})
			continue
		}
		pat, ok := group(2)
		if !ok {
			continue // an empty rule is ignored
		}
		repl, _ := group(4)
		flag, _ := group(6)
		find, err := regexp.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("ssl.principal.mapping.rules: pattern %q: %w", pat, err)
		}
		m.rules = append(m.rules, mappingRule{text: pat, find: find, match: regexp.MustCompile(`\A(?:` + pat + `)\z`),
			groups: find.NumSubexp(), replace: repl, lower: flag == "L", upp: flag == "U"})
	}
	return m, nil
}

// Name maps a certificate's subject; an error when no rule applies (Kafka's NoMatchingRule, which fails the
// connection's principal).
func (m *PrincipalMapper) Name(cert *x509.Certificate) (string, error) {
	dn := jsse.PrincipalName(cert)
	for _, r := range m.rules {
		name, ok, err := r.apply(dn)
		if err != nil {
			return "", fmt.Errorf("map name for '%s' with rule %s: %w", dn, r.text, err)
		}
		if ok {
			return name, nil
		}
	}
	return "", fmt.Errorf("Failed to map name for '%s' based on SSL principal mapping rules.: No rules apply to %s, rules %s",
		dn, dn, m)
}

// String is SslPrincipalMapper's rule list as Kafka prints it.
func (m *PrincipalMapper) String() string {
	parts := make([]string, len(m.rules))
	for i, r := range m.rules {
		if r.isDefault {
			parts[i] = "DEFAULT"
			continue
		}
		parts[i] = "RULE:" + r.text + "/" + r.replace
		if r.lower {
			parts[i] += "/L"
		} else if r.upp {
			parts[i] += "/U"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// apply is Rule.apply: when the pattern matches the whole subject, the subject with every match of the pattern
// replaced (String.replaceAll), then lower- or upper-cased.
func (r mappingRule) apply(dn string) (string, bool, error) {
	if r.isDefault {
		return dn, true, nil
	}
	if !r.match.MatchString(dn) {
		return "", false, nil
	}
	var b strings.Builder
	last := 0
	for _, m := range r.find.FindAllStringSubmatchIndex(dn, -1) {
		b.WriteString(dn[last:m[0]])
		if err := r.expand(&b, dn, m); err != nil {
			return "", false, err
		}
		last = m[1]
	}
	b.WriteString(dn[last:])
	out := b.String()
	switch {
	case r.lower:
		out = strings.ToLower(out)
	case r.upp:
		out = strings.ToUpper(out)
	}
	return out, true, nil
}

// expand writes the replacement for one match as Java's Matcher.appendReplacement reads it: '\' quotes the next
// character and $n names a group, taking further digits while the number stays a group; a $n past the groups
// (with nothing to shorten it to) is literal text, as Kafka escapes it beforehand (escapeLiteralBackReferences).
// Java's replaceAll also replaces an empty match right after a non-empty one, which Go's does not: only a
// pattern that can match nothing, with a replacement that is not empty, would tell.
func (r mappingRule) expand(b *strings.Builder, dn string, m []int) error {
	s := r.replace
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return errors.New("character to be escaped is missing")
			}
			i++
			b.WriteByte(s[i])
		case c == '$':
			if i+1 == len(s) || s[i+1] < '0' || s[i+1] > '9' {
				// Java reads ${name} as a named group and fails on anything else; zkafka takes neither.
				return errors.New("Illegal group reference")
			}
			n := int(s[i+1] - '0')
			if r.groups > 0 && n > r.groups {
				b.WriteByte('$') // escaped by Kafka: literal text
				continue
			}
			if n > r.groups {
				return fmt.Errorf("No group %d", n)
			}
			j := i + 2
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				next, _ := strconv.Atoi(s[i+1 : j+1])
				if next > r.groups {
					break
				}
				n = next
				j++
			}
			if m[2*n] >= 0 {
				b.WriteString(dn[m[2*n]:m[2*n+1]])
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return nil
}

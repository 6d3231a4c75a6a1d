package tlsconf

import (
	"crypto/x509"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/zkafka/zkafka/compat/javaregex"
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
	text       string // the pattern as written, for messages
	pattern    *javaregex.Pattern
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
		p, err := javaregex.Compile(pat)
		if err != nil {
			return nil, fmt.Errorf("ssl.principal.mapping.rules: %w", err)
		}
		m.rules = append(m.rules, mappingRule{text: pat, pattern: p, replace: repl, lower: flag == "L", upp: flag == "U"})
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
	if !r.pattern.Matches(dn) {
		return "", false, nil
	}
	repl, err := escapeLiteralBackReferences(r.replace, r.pattern.NumGroups())
	if err != nil {
		return "", false, err
	}
	out, err := r.pattern.ReplaceAll(dn, repl)
	if err != nil {
		return "", false, err
	}
	switch {
	case r.lower:
		out = javastr.ToLowerEnglish(out)
	case r.upp:
		out = javastr.ToUpperEnglish(out)
	}
	return out, true, nil
}

// escapeLiteralBackReferences is Kafka's: with groups, a $n whose number cannot be shortened (dropping last
// digits) to a group gets a '\' so that replaceAll writes it as text. Kafka finds the references in the original
// replacement but inserts into the edited one, at the original index: after the first insertion each '\' lands
// one char further left per earlier insertion. Indexes are Java's (UTF-16 units).
func escapeLiteralBackReferences(repl string, groups int) (string, error) {
	if groups == 0 {
		return repl, nil
	}
	orig := utf16.Encode([]rune(repl))
	value := slices.Clone(orig)
	for i := 0; i < len(orig); i++ {
		if orig[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(orig) && orig[j] >= '0' && orig[j] <= '9' {
			j++
		}
		if j == i+1 {
			continue
		}
		digits := string(utf16.Decode(orig[i+1 : j]))
		start := i + 1
		i = j - 1
		if digits[0] == '0' {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 32)
		if err != nil {
			return "", fmt.Errorf(`NumberFormatException: For input string: "%s"`, digits)
		}
		for n > int64(groups) && n >= 10 {
			n /= 10
		}
		if n > int64(groups) {
			value = slices.Insert(value, start-1, '\\')
		}
	}
	return string(utf16.Decode(value)), nil
}

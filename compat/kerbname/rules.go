package kerbname

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javaregex"
	"github.com/zkafka/zkafka/compat/javastr"
)

type dialect int

const (
	zooKeeper dialect = iota
	kafka
)

// ShortNamer maps principals to short names with a list of auth_to_local rules, tried in order.
type ShortNamer struct {
	dialect      dialect
	defaultRealm string
	rules        []rule
}

// rule is DEFAULT, or RULE:[n:format](match)s/from/to/g with Kafka's /L or /U.
type rule struct {
	isDefault    bool
	components   int
	format       string
	match, from  *javaregex.Pattern
	to           string
	repeat       bool
	lower, upper bool
}

// The rule grammars. ZooKeeper reads one string, rules one after another with optional whitespace between them
// (Java's \s, which Go's lacks \x0B of); Kafka reads each list element as exactly one rule and adds an optional
// "/L" or "/U" (the '/' itself optional).
var (
	zkRuleParser = regexp.MustCompile(`\A[ \t\n\x0B\f\r]*((DEFAULT)|(RULE:\[(\d*):([^\]]*)](\(([^)]*)\))?` +
		`(s/([^/]*)/([^/]*)/(g)?)?))`)
	kafkaRuleParser = regexp.MustCompile(`\A((DEFAULT)|((RULE:\[(\d*):([^\]]*)](\(([^)]*)\))?` +
		`(s/([^/]*)/([^/]*)/(g)?)?/?(L|U)?)))`)
)

// NewZooKeeperShortNamer parses zookeeper.security.auth_to_local (Apache's default is "DEFAULT") as
// KerberosName.parseRules does. defaultRealm is the realm DEFAULT strips ("" without a Kerberos configuration).
// The error is what KerberosName's static initializer fails with: "Invalid rule: <the rest of the string>", a
// NumberFormatException for a component count that is not a number, or a pattern that does not compile (or that
// Go cannot run as Java does).
func NewZooKeeperShortNamer(defaultRealm string, rules string) (*ShortNamer, error) {
	s := &ShortNamer{dialect: zooKeeper, defaultRealm: defaultRealm}
	for rest := javastr.Trim(rules); rest != ""; {
		m := zkRuleParser.FindStringSubmatchIndex(rest)
		if m == nil {
			return nil, invalidRule("Invalid rule: " + rest)
		}
		r, err := newRule(rest, m, 2, 4)
		if err != nil {
			return nil, err
		}
		s.rules = append(s.rules, r)
		rest = rest[m[1]:]
	}
	return s, nil
}

// NewKafkaShortNamer parses sasl.kerberos.principal.to.local.rules, a list (Kafka's default is ["DEFAULT"]), as
// KerberosShortNamer.fromUnparsedRules does; nil rules are ["DEFAULT"], an empty list maps no principal with a
// realm. The error is the IllegalArgumentException of the first bad rule ("Invalid rule: <rule>", or
// "Invalid rule: `<rule>`, unmatched substring: `<rest>`"), a NumberFormatException, or a pattern error. Kafka's
// SaslChannelBuilder.configure wraps it as KafkaException(cause), which fails the broker's start.
func NewKafkaShortNamer(defaultRealm string, rules []string) (*ShortNamer, error) {
	if rules == nil {
		rules = []string{"DEFAULT"}
	}
	s := &ShortNamer{dialect: kafka, defaultRealm: defaultRealm}
	for _, text := range rules {
		m := kafkaRuleParser.FindStringSubmatchIndex(text)
		if m == nil {
			return nil, invalidRule("Invalid rule: " + text)
		}
		if m[1] != len(text) {
			return nil, invalidRule("Invalid rule: `" + text + "`, unmatched substring: `" + text[m[1]:] + "`")
		}
		r, err := newRule(text, m, 2, 5)
		if err != nil {
			return nil, err
		}
		if m[26] >= 0 {
			r.lower, r.upper = text[m[26]] == 'L', text[m[26]] == 'U'
		}
		s.rules = append(s.rules, r)
	}
	return s, nil
}

func invalidRule(msg string) error {
	return &Error{Class: "IllegalArgumentException", Msg: msg, kind: ErrInvalidRule}
}

// newRule builds a rule from its parser's match m: group def is DEFAULT, and from group n on come the component
// count, the format, (match), match, s/from/to/g, from, to and g.
func newRule(text string, m []int, def, n int) (rule, error) {
	group := func(i int) (string, bool) {
		if m[2*i] < 0 {
			return "", false
		}
		return text[m[2*i]:m[2*i+1]], true
	}
	if _, ok := group(def); ok {
		return rule{isDefault: true}, nil
	}
	count, _ := group(n)
	components, err := strconv.ParseInt(count, 10, 32)
	if err != nil {
		return rule{}, &Error{Class: "NumberFormatException", Msg: `For input string: "` + count + `"`,
			kind: ErrInvalidRule}
	}
	r := rule{components: int(components)}
	r.format, _ = group(n + 1)
	if src, ok := group(n + 3); ok {
		if r.match, err = compile(src); err != nil {
			return rule{}, err
		}
	}
	if src, ok := group(n + 5); ok {
		if r.from, err = compile(src); err != nil {
			return rule{}, err
		}
		r.to, _ = group(n + 6)
		g, _ := group(n + 7)
		r.repeat = g == "g"
	}
	return r, nil
}

func compile(src string) (*javaregex.Pattern, error) {
	p, err := javaregex.Compile(src)
	if err != nil {
		return nil, &Error{Class: "PatternSyntaxException", Msg: "auth_to_local rule: " + err.Error(),
			kind: ErrInvalidRule, err: err}
	}
	return p, nil
}

// String is the rule as Apache prints it (KerberosRule.toString).
func (r rule) String() string {
	if r.isDefault {
		return "DEFAULT"
	}
	s := "RULE:[" + strconv.Itoa(r.components) + ":" + r.format + "]"
	if r.match != nil {
		s += "(" + r.match.String() + ")"
	}
	if r.from != nil {
		s += "s/" + r.from.String() + "/" + r.to + "/"
		if r.repeat {
			s += "g"
		}
	}
	if r.lower {
		s += "/L"
	}
	if r.upper {
		s += "/U"
	}
	return s
}

// String lists the rules as Java's List.toString does.
func (s *ShortNamer) String() string {
	parts := make([]string, len(s.rules))
	for i, r := range s.rules {
		parts[i] = r.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ShortName maps a principal: KerberosName.getShortName (ZooKeeper) or KerberosShortNamer.shortName (Kafka). A
// name without host and realm is its own short name; otherwise the first rule that applies gives it. When none
// does the error is NoMatchingRule (errors.Is ErrNoMatchingRule): "No rules applied to <name>" in ZooKeeper,
// "No rules apply to <name>, rules [<rules>]" in Kafka. A malformed principal fails as Parse does.
func (s *ShortNamer) ShortName(principal string) (string, error) {
	n, err := Parse(principal)
	if err != nil {
		return "", err
	}
	return s.ShortNameOf(n)
}

// ShortNameOf is ShortName of a parsed name.
func (s *ShortNamer) ShortNameOf(n Name) (string, error) {
	var params []string
	switch {
	case n.HasHost:
		params = []string{n.Realm, n.Service, n.Host}
	case !n.HasRealm:
		return n.Service, nil
	default:
		params = []string{n.Realm, n.Service}
	}
	for _, r := range s.rules {
		short, ok, err := s.apply(r, params)
		if err != nil {
			return "", err
		}
		if ok {
			return short, nil
		}
	}
	msg := "No rules applied to " + n.String()
	if s.dialect == kafka {
		msg = "No rules apply to " + n.String() + ", rules " + s.String()
	}
	return "", &Error{Class: "NoMatchingRule", Msg: msg, kind: ErrNoMatchingRule}
}

// apply is Rule.apply: params are the realm, then the components. DEFAULT takes a one- or two-component name of
// the default realm to its first component; a RULE fills in its format when the name has its number of
// components, then, when (match) matches the whole result, applies s/from/to/ (replaceFirst, or replaceAll with
// g). A result with '/' or '@' fails the name rather than trying the next rule.
func (s *ShortNamer) apply(r rule, params []string) (string, bool, error) {
	var result string
	switch {
	case r.isDefault:
		if s.defaultRealm != params[0] {
			return "", false, nil
		}
		result = params[1]
	case len(params)-1 == r.components:
		base, err := s.replaceParameters(r.format, params)
		if err != nil {
			return "", false, err
		}
		if r.match != nil && !r.match.Matches(base) {
			return "", false, nil
		}
		result = base
		if r.from != nil {
			if r.repeat {
				result, err = r.from.ReplaceAll(base, r.to)
			} else {
				result, err = r.from.ReplaceFirst(base, r.to)
			}
			var re *javaregex.ReplaceError
			if errors.As(err, &re) {
				return "", false, &Error{Class: re.Class, Msg: re.Msg, kind: ErrRuntime}
			}
		}
	default:
		return "", false, nil
	}
	if strings.ContainsAny(result, "/@") {
		return "", false, &Error{Class: "NoMatchingRule", kind: ErrNoMatchingRule,
			Msg: "Non-simple name " + result + " after auth_to_local rule " + r.String()}
	}
	switch {
	case r.lower:
		result = javastr.ToLowerEnglish(result)
	case r.upper:
		result = javastr.ToUpperEnglish(result)
	}
	return result, true, nil
}

// replaceParameters fills in $n with params[n] ($0 the realm, $1 the first component). ZooKeeper's range check
// lets n = len(params) through, which then fails as ArrayIndexOutOfBoundsException; Kafka 2.8 checks it.
func (s *ShortNamer) replaceParameters(format string, params []string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); {
		j := strings.IndexByte(format[i:], '$')
		if j < 0 {
			b.WriteString(format[i:])
			break
		}
		b.WriteString(format[i : i+j])
		i += j + 1
		k := i
		for k < len(format) && format[k] >= '0' && format[k] <= '9' {
			k++
		}
		digits := format[i:k]
		i = k
		num, err := strconv.ParseInt(digits, 10, 32)
		if err != nil {
			return "", &Error{Class: "BadFormatString", Msg: "bad format in username mapping in " + digits,
				kind: ErrBadFormat}
		}
		limit := len(params) - 1
		if s.dialect == zooKeeper {
			limit = len(params)
		}
		if int(num) > limit {
			return "", &Error{Class: "BadFormatString", kind: ErrBadFormat, Msg: fmt.Sprintf(
				"index %d from %s is outside of the valid range 0 to %d", num, format, len(params)-1)}
		}
		if int(num) == len(params) {
			return "", &Error{Class: "ArrayIndexOutOfBoundsException", kind: ErrRuntime,
				Msg: fmt.Sprintf("Index %d out of bounds for length %d", num, len(params))}
		}
		b.WriteString(params[num])
	}
	return b.String(), nil
}

// KafkaPrincipal is the name of the User principal Kafka's DefaultKafkaPrincipalBuilder gives a GSSAPI client
// whose authorization id is authzID: its short name. When no rule maps it (an IOException) the error is Kafka's
// KafkaException "Failed to set name for '<name>' based on Kerberos authentication rules." with the cause after
// it; a malformed name or a runtime failure is returned as it is. Kafka 2.8 builds the principal only after a
// successful SASL exchange, for the connection's first request, and on this failure closes the connection
// ("Closing socket for <id> because of error") without an error response.
func (s *ShortNamer) KafkaPrincipal(authzID string) (string, error) {
	n, err := Parse(authzID)
	if err != nil {
		return "", err
	}
	short, err := s.ShortNameOf(n)
	var ke *Error
	if errors.As(err, &ke) && ke.Checked() {
		return "", fmt.Errorf("Failed to set name for '%s' based on Kerberos authentication rules.: %w", n, err)
	}
	return short, err
}

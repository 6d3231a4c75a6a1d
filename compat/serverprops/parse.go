package serverprops

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"

	"github.com/zkafka/zkafka/compat/javafmt"
)

// ConfigError is a rejected configuration, with Kafka's own message (ConfigException, or the "requirement
// failed" of KafkaConfig.validateValues). Key names the offending config. Messages keep Kafka's wording and
// capitals on purpose, so operators and clients see what a Kafka broker would print.
type ConfigError struct {
	Key     string
	Message string
}

func (e *ConfigError) Error() string { return e.Message }

// invalidValue builds ConfigException(name, value, message)'s text.
func invalidValue(name string, value any, msg string) *ConfigError {
	return &ConfigError{Key: name, Message: fmt.Sprintf("Invalid value %s for configuration %s: %s",
		javaString(value), name, msg)}
}

// requirement is Scala's require(cond, msg): IllegalArgumentException("requirement failed: " + msg).
func requirement(key, msg string) *ConfigError {
	return &ConfigError{Key: key, Message: "requirement failed: " + msg}
}

var commaWithWhitespace = regexp.MustCompile(`\s*,\s*`)

// javaSplit is String.split(regex) with its quirk of dropping trailing empty strings.
func javaSplit(re *regexp.Regexp, s string) []string {
	parts := re.Split(s, -1)
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

var javaDoubleRE = regexp.MustCompile(`^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)$`)

// parseType is ConfigDef.parseType for a string value: trim, then convert per type. The error keeps the
// untrimmed value, as Java does.
func parseType(name, value string, typ Type) (any, error) {
	t := javastr.Trim(value)
	switch typ {
	case TypeBoolean:
		switch {
		case strings.EqualFold(t, "true"):
			return true, nil
		case strings.EqualFold(t, "false"):
			return false, nil
		}
		return nil, invalidValue(name, value, "Expected value to be either true or false")
	case TypePassword, TypeString, TypeClass:
		// CLASS: Kafka loads the class here; there are no Java classes to load, so the name is kept as is.
		return t, nil
	case TypeInt:
		n, err := strconv.ParseInt(t, 10, 32)
		if err != nil {
			return nil, invalidValue(name, value, "Not a number of type INT")
		}
		return int32(n), nil
	case TypeShort:
		n, err := strconv.ParseInt(t, 10, 16)
		if err != nil {
			return nil, invalidValue(name, value, "Not a number of type SHORT")
		}
		return int16(n), nil
	case TypeLong:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, invalidValue(name, value, "Not a number of type LONG")
		}
		return n, nil
	case TypeDouble:
		if !javaDoubleRE.MatchString(t) {
			return nil, invalidValue(name, value, "Not a number of type DOUBLE")
		}
		s := strings.TrimRight(t, "fFdD")
		if strings.HasSuffix(s, "Infinity") {
			if strings.HasPrefix(s, "-") {
				return math.Inf(-1), nil
			}
			return math.Inf(1), nil
		}
		if strings.HasSuffix(s, "NaN") {
			return math.NaN(), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !isRangeErr(err) { // Java rounds an overflow to Infinity, as ParseFloat does
			return nil, invalidValue(name, value, "Not a number of type DOUBLE")
		}
		return f, nil
	case TypeList:
		if t == "" {
			return []string{}, nil
		}
		return commaWithWhitespace.Split(t, -1), nil // split(regex, -1) keeps trailing empties
	}
	return nil, fmt.Errorf("config %s: unknown type %v", name, typ)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// javaString renders a parsed value as Java's toString does (used in messages and by convertToString).
func javaString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return javafmt.Double(x)
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// convertToString is ConfigDef.convertToString: lists join with ",", everything else is toString.
func convertToString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case []string:
		return strings.Join(x, ","), true
	}
	return javaString(v), true
}

// validator is ConfigDef.Validator.
type validator interface {
	ensureValid(name string, v any) error
}

type rangeValidator struct {
	min, max       float64
	hasMin, hasMax bool
	minS, maxS     string
}

func atLeast(n int64) validator {
	return rangeValidator{min: float64(n), hasMin: true, minS: strconv.FormatInt(n, 10)}
}

func between(lo, hi int64) validator {
	return rangeValidator{min: float64(lo), max: float64(hi), hasMin: true, hasMax: true,
		minS: strconv.FormatInt(lo, 10), maxS: strconv.FormatInt(hi, 10)}
}

func (r rangeValidator) ensureValid(name string, v any) error {
	var x float64
	switch n := v.(type) {
	case nil:
		return invalidValue(name, nil, "Value must be non-null")
	case int16:
		x = float64(n)
	case int32:
		x = float64(n)
	case int64:
		x = float64(n)
	case float64:
		x = n
	default:
		return nil
	}
	if r.hasMin && x < r.min {
		return invalidValue(name, v, "Value must be at least "+r.minS)
	}
	if r.hasMax && x > r.max {
		return invalidValue(name, v, "Value must be no more than "+r.maxS)
	}
	return nil
}

type stringValidator []string

func validString(s ...string) validator { return stringValidator(s) }

func (s stringValidator) ensureValid(name string, v any) error {
	str, _ := v.(string)
	for _, ok := range s {
		if ok == str {
			return nil
		}
	}
	return invalidValue(name, v, "String must be one of: "+strings.Join(s, ", "))
}

type listValidator []string

func validList(s ...string) validator { return listValidator(s) }

func (l listValidator) ensureValid(name string, v any) error {
	list, _ := v.([]string)
	for _, e := range list {
		if err := stringValidator(l).ensureValid(name, e); err != nil {
			return err
		}
	}
	return nil
}

type apiVersionValidator struct{}

func (apiVersionValidator) ensureValid(name string, v any) error {
	s, _ := v.(string)
	if _, err := ParseAPIVersion(s); err != nil {
		return invalidValue(name, s, err.Error())
	}
	return nil
}

var throttledReplicaRE = regexp.MustCompile(`^([0-9]+:[0-9]+)?$`)

// throttledReplicaValidator is ThrottledReplicaListValidator: "*" or partition:broker pairs.
type throttledReplicaValidator struct{}

func (throttledReplicaValidator) ensureValid(name string, v any) error {
	list, _ := v.([]string)
	if javastr.Trim(strings.Join(list, "")) == "*" {
		return nil
	}
	for _, e := range list {
		if !throttledReplicaRE.MatchString(javastr.Trim(e)) {
			return invalidValue(name, v, name+" must be the literal '*' or a list of replicas in the following "+
				"format: [partitionId]:[brokerId],[partitionId]:[brokerId],...")
		}
	}
	return nil
}

// parseDefs is ConfigDef.parse over defs: the given value or the default, then the validator. Keys are visited
// in definition order so the first error is Kafka's.
func parseDefs(defs []def, props map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(defs))
	for i := range defs {
		k := &defs[i]
		var v any
		if raw, ok := props[k.name]; ok {
			pv, err := parseType(k.name, raw, k.typ)
			if err != nil {
				return nil, err
			}
			v = pv
		} else if k.dflt != nil {
			pv, err := parseType(k.name, *k.dflt, k.typ)
			if err != nil {
				panic(fmt.Sprintf("serverprops: bad default for %s: %v", k.name, err))
			}
			v = pv
		}
		if k.valid != nil {
			if err := k.valid.ensureValid(k.name, v); err != nil {
				return nil, err
			}
		}
		out[k.name] = v
	}
	return out, nil
}

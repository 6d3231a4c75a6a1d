package sasl

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"

	"github.com/zkafka/zkafka/compat/javafmt"
)

// illegalToken is Kafka's OAuthBearerIllegalTokenException: a token that fails validation. The validator answers
// it with an error challenge ({"status":"invalid_token"}, or insufficient_scope when scope is set); the description
// is only logged.
type illegalToken struct {
	description string
	scope       string // the required scope, as Java prints a List ("[a, b]"); "" when the scope was not the cause
}

func (e *illegalToken) Error() string { return e.description }

func illegal(format string, args ...any) *illegalToken {
	return &illegalToken{description: fmt.Sprintf(format, args...)}
}

// claim is a JWT claim as OAuthBearerUnsecuredJws keeps it after Jackson: a number, a list of strings (each
// element's asText), or, for anything else, its asText: strings themselves, booleans "true"/"false", null "null",
// objects "".
type claim struct {
	num      *float64
	javaType string // the number's Java class (Integer, Long, BigInteger, Double), or ArrayList / String
	list     []string
	str      string
}

// unsecuredJWS is OAuthBearerUnsecuredJws: a parsed unsecured ("alg":"none") compact JWS.
type unsecuredJWS struct {
	header, claims map[string]claim
	principal      string
	scope          map[string]bool
	lifetimeMs     int64 // exp in ms since the epoch
}

// parseUnsecuredJWS checks a compact serialization as OAuthBearerUnsecuredJws's constructor does, in its order.
// A token Kafka refuses with OAuthBearerIllegalTokenException is an *illegalToken; any other error is one Kafka
// meets as an unexpected exception (a header without "alg").
func parseUnsecuredJWS(compact, principalClaim, scopeClaim string) (*unsecuredJWS, error) {
	if strings.Contains(compact, "..") {
		return nil, illegal("Malformed compact serialization contains '..'")
	}
	splits := strings.Split(compact, ".")
	if len(splits) != 3 {
		return nil, illegal("Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values")
	}
	j := &unsecuredJWS{}
	var err error
	if j.header, err = jwsPart(splits[0]); err != nil {
		return nil, err
	}
	if j.claims, err = jwsPart(splits[1]); err != nil {
		return nil, err
	}
	alg, ok := j.header["alg"]
	if !ok {
		return nil, errors.New("JWS header must have an Algorithm value")
	}
	if alg.javaString() != "none" {
		return nil, illegal("Unsecured JWS must have 'none' for an algorithm")
	}
	if splits[2] != "" {
		return nil, illegal("Unsecured JWS must not contain a digital signature")
	}
	if j.scope, err = j.calculateScope(scopeClaim); err != nil {
		return nil, err
	}
	exp, err := j.number("exp")
	if err != nil {
		return nil, err
	}
	if exp == nil {
		return nil, illegal("No expiration time in JWT")
	}
	j.lifetimeMs = claimMs(*exp)
	p, err := j.string(principalClaim)
	if err != nil {
		return nil, err
	}
	if p == nil || javastr.Trim(*p) == "" {
		return nil, illegal("No principal name in JWT claim: %s", principalClaim)
	}
	j.principal = *p
	if _, err := j.number("iat"); err != nil {
		return nil, err
	}
	return j, nil
}

// claimMs is Math.round(seconds * 1000).
func claimMs(seconds float64) int64 { return int64(math.Floor(seconds*1000 + 0.5)) }

// jwsPart decodes one part as OAuthBearerUnsecuredJws.toMap: Base64 in the basic alphabet (java.util.Base64's
// getDecoder, which refuses '-' and '_' although the parts are Base64URL: Kafka's quirk), then the top-level JSON
// object's fields; anything after the first JSON value is ignored, as Jackson's readTree does.
func jwsPart(split string) (map[string]claim, error) {
	b, err := base64.RawStdEncoding.DecodeString(split)
	if err != nil {
		return nil, illegal("malformed Base64 URL encoded value")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if len(bytes.TrimSpace(b)) == 0 {
			// Jackson reads empty content as a missing node, which has no fields.
			return map[string]claim{}, nil
		}
		return nil, illegal("malformed JSON")
	}
	out := map[string]claim{}
	obj, ok := v.(map[string]any)
	if !ok {
		return out, nil
	}
	for k, val := range obj {
		out[k] = convertClaim(val)
	}
	return out, nil
}

func convertClaim(v any) claim {
	switch x := v.(type) {
	case json.Number:
		f, t := javaNumber(x)
		return claim{num: &f, javaType: t}
	case []any:
		list := make([]string, len(x))
		for i, e := range x {
			list[i] = asText(e)
		}
		return claim{list: list, javaType: "ArrayList"}
	}
	return claim{str: asText(v), javaType: "String"}
}

// javaNumber is the value and the Java class Jackson gives a JSON number: Integer, Long or BigInteger for
// integers by size, Double otherwise.
func javaNumber(n json.Number) (float64, string) {
	s := string(n)
	f, _ := strconv.ParseFloat(s, 64)
	if strings.ContainsAny(s, ".eE") {
		return f, "Double"
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		if i >= math.MinInt32 && i <= math.MaxInt32 {
			return f, "Integer"
		}
		return f, "Long"
	}
	return f, "BigInteger"
}

// asText is Jackson's JsonNode.asText.
func asText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	case json.Number:
		f, t := javaNumber(x)
		switch t {
		case "Double":
			return javafmt.Double(f)
		case "BigInteger":
			b, _ := new(big.Int).SetString(string(x), 10)
			return b.String()
		}
		i, _ := strconv.ParseInt(string(x), 10, 64)
		return strconv.FormatInt(i, 10)
	}
	return "" // objects and arrays
}

// javaString is the claim's toString.
func (c claim) javaString() string {
	switch {
	case c.num != nil:
		if c.javaType == "Double" {
			return javafmt.Double(*c.num)
		}
		return strconv.FormatFloat(*c.num, 'f', -1, 64)
	case c.list != nil:
		return "[" + strings.Join(c.list, ", ") + "]"
	}
	return c.str
}

// number is claim(name, Number.class): nil when absent.
func (j *unsecuredJWS) number(name string) (*float64, error) {
	c, ok := j.claims[name]
	if !ok {
		return nil, nil
	}
	if c.num == nil {
		return nil, illegal("The '%s' claim was not of type Number: %s", name, c.javaType)
	}
	return c.num, nil
}

// string is claim(name, String.class): nil when absent.
func (j *unsecuredJWS) string(name string) (*string, error) {
	c, ok := j.claims[name]
	if !ok {
		return nil, nil
	}
	if c.num != nil || c.list != nil {
		return nil, illegal("The '%s' claim was not of type String: %s", name, c.javaType)
	}
	return &c.str, nil
}

// calculateScope: a string claim is one scope (trimmed; blank is none), a list its non-blank trimmed elements.
func (j *unsecuredJWS) calculateScope(name string) (map[string]bool, error) {
	out := map[string]bool{}
	c, ok := j.claims[name]
	if !ok {
		return out, nil
	}
	switch {
	case c.num != nil:
		return nil, illegal("The '%s' claim was not of type List: %s", name, c.javaType)
	case c.list != nil:
		for _, s := range c.list {
			if s = javastr.Trim(s); s != "" {
				out[s] = true
			}
		}
	default:
		if s := javastr.Trim(c.str); s != "" {
			out[s] = true
		}
	}
	return out, nil
}

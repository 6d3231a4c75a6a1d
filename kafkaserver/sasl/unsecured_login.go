package sasl

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zkafka/zkafka/compat/javastr"

	kgosasl "github.com/twmb/franz-go/pkg/sasl"

	"github.com/zkafka/zkafka/compat/javafmt"
)

// The login options of OAuthBearerUnsecuredLoginCallbackHandler, which makes the token a broker's own OAUTHBEARER
// client sends (and which Kafka makes once at start, failing the start when it cannot).
const (
	optLoginPrefix         = "unsecuredLogin"
	optLoginPrincipalClaim = optLoginPrefix + "PrincipalClaimName"
	optLoginLifetime       = optLoginPrefix + "LifetimeSeconds"
	optLoginScopeClaim     = optLoginPrefix + "ScopeClaimName"
	optLoginStringClaim    = optLoginPrefix + "StringClaim_"
	optLoginNumberClaim    = optLoginPrefix + "NumberClaim_"
	optLoginListClaim      = optLoginPrefix + "ListClaim_"
	optLoginExtension      = optLoginPrefix + "Extension_"
)

// UnsecuredLogin is a token made from a login module's unsecuredLogin* options.
type UnsecuredLogin struct {
	Token      string
	Principal  string
	Extensions map[string]string
}

// UnsecuredLoginToken makes the token OAuthBearerUnsecuredLoginCallbackHandler makes from options at now: ok false
// when there are no options at all (a login that cannot be used by clients). Errors are what fails Kafka's login.
func UnsecuredLoginToken(options map[string]string, now time.Time) (login UnsecuredLogin, ok bool, err error) {
	if len(options) == 0 {
		return UnsecuredLogin{}, false, nil
	}
	if !slices.ContainsFunc(slices.Collect(maps.Keys(options)), func(k string) bool { return !strings.HasPrefix(k, optLoginExtension) }) {
		return UnsecuredLogin{}, false, errors.New("Extensions provided in login context without a token")
	}
	principalClaim := moduleOption(options, optLoginPrincipalClaim, "sub")
	scopeClaim := moduleOption(options, optLoginScopeClaim, "scope")
	lifetimeText, found := options[optLoginLifetime]
	if !found {
		lifetimeText = "3600"
	}
	lifetime, err := strconv.ParseInt(lifetimeText, 10, 64)
	if err != nil {
		return UnsecuredLogin{}, false, fmt.Errorf("For input string: \"%s\"", lifetimeText)
	}
	nowSec := float64(now.UnixMilli()) / 1000
	var claims strings.Builder
	claims.WriteString("{" + jsonNumberClaim("exp", nowSec+float64(lifetime)) + "," + jsonNumberClaim("iat", nowSec))
	keys := slices.Sorted(maps.Keys(options))
	for _, k := range keys {
		v := options[k]
		var name, text string
		switch {
		case strings.HasPrefix(k, optLoginStringClaim) && len(k) > len(optLoginStringClaim):
			name = k[len(optLoginStringClaim):]
			text = `"` + jsonEscape(v) + `"`
		case strings.HasPrefix(k, optLoginNumberClaim) && len(k) > len(optLoginNumberClaim):
			name = k[len(optLoginNumberClaim):]
			f, err := strconv.ParseFloat(javastr.Trim(v), 64)
			if err != nil {
				return UnsecuredLogin{}, false, fmt.Errorf("For input string: \"%s\"", v)
			}
			text = javafmt.Double(f)
		case strings.HasPrefix(k, optLoginListClaim) && len(k) > len(optLoginListClaim):
			name = k[len(optLoginListClaim):]
			text = listClaimJSON(v)
		default:
			continue
		}
		if name == "iat" || name == "exp" {
			return UnsecuredLogin{}, false, fmt.Errorf("Cannot explicitly set the '%s' claim", name)
		}
		claims.WriteString(`,"` + jsonEscape(name) + `":` + text)
	}
	claims.WriteString("}")
	enc := base64.RawURLEncoding
	token := enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(claims.String())) + "."
	jws, err := parseUnsecuredJWS(token, principalClaim, scopeClaim)
	if err != nil {
		return UnsecuredLogin{}, false, err
	}
	ext := map[string]string{}
	for _, k := range keys {
		if name, ok := strings.CutPrefix(k, optLoginExtension); ok {
			ext[name] = options[k]
		}
	}
	if err := validateExtensions(ext); err != nil {
		return UnsecuredLogin{}, false, err
	}
	return UnsecuredLogin{Token: token, Principal: jws.principal, Extensions: ext}, true, nil
}

// jsonNumberClaim writes a Double as Java concatenates one: 1.7E9 is a valid JSON number.
func jsonNumberClaim(name string, v float64) string { return `"` + name + `":` + javafmt.Double(v) }

// jsonEscape escapes what the login handler escapes: quotes and backslashes only.
func jsonEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `"`, `\"`), `\`, `\\`)
}

// listClaimJSON is the login handler's list syntax: the first character is the delimiter of the rest. Java's
// split drops trailing empty elements, and a leading, trailing or doubled delimiter appends one "" at the end
// (even to an empty list, which makes the JSON invalid and the login fail, as in Kafka).
func listClaimJSON(v string) string {
	_, n := utf8.DecodeRuneInString(v)
	if len(v) <= n {
		return "[]"
	}
	delim, rest := v[:n], v[n:]
	elems := strings.Split(rest, delim)
	for len(elems) > 0 && elems[len(elems)-1] == "" {
		elems = elems[:len(elems)-1]
	}
	var b strings.Builder
	for _, e := range elems {
		if b.Len() == 0 {
			b.WriteByte('[')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(`"` + jsonEscape(e) + `"`)
	}
	if strings.HasPrefix(rest, delim) || strings.HasSuffix(rest, delim) || strings.Contains(rest, delim+delim) {
		b.WriteString(`,""`)
	}
	b.WriteByte(']')
	return b.String()
}

var (
	extensionKeyRE   = regexp.MustCompile(`^[A-Za-z]+$`)
	extensionValueRE = regexp.MustCompile(`^[\x21-\x7E \t\r\n]+$`)
)

// validateExtensions is OAuthBearerClientInitialResponse.validateExtensions.
func validateExtensions(ext map[string]string) error {
	if _, ok := ext["auth"]; ok {
		return errors.New("Extension name auth is invalid")
	}
	for k, v := range ext {
		if !extensionKeyRE.MatchString(k) {
			return fmt.Errorf("Extension name %s is invalid", k)
		}
		if !extensionValueRE.MatchString(v) {
			return fmt.Errorf("Extension value (%s) for extension %s is invalid", v, k)
		}
	}
	return nil
}

// UnsecuredLoginClient logs a client in with the unsecured token a login module's options make (Java's
// OAuthBearerLoginModule with its default login handler), a fresh one for each connection, which stands for Java's
// refresh before expiry. The options are tried once now: an error is what fails Java's login; ok false is a module
// without options, whose login has no token to connect with.
func UnsecuredLoginClient(options map[string]string) (m kgosasl.Mechanism, ok bool, err error) {
	if _, ok, err := UnsecuredLoginToken(options, time.Now()); err != nil || !ok {
		return nil, false, err
	}
	return oauthClient(func() (UnsecuredLogin, error) {
		l, _, err := UnsecuredLoginToken(options, time.Now())
		return l, err
	}), true, nil
}

// oauthClient is Kafka's OAuthBearerSaslClient as a franz-go mechanism. Unlike franz-go's own, it answers an error
// challenge with 0x01 as RFC 7628 asks, so the exchange fails with the server's SaslAuthenticate message (the JSON
// error), as a Java client reports it.
type oauthClient func() (UnsecuredLogin, error)

func (oauthClient) Name() string { return MechanismOAuthBearer }

func (fn oauthClient) Authenticate(context.Context, string) (kgosasl.Session, []byte, error) {
	l, err := fn()
	if err != nil {
		return nil, nil, err
	}
	msg := "n,,\x01auth=Bearer " + l.Token
	for _, k := range slices.Sorted(maps.Keys(l.Extensions)) {
		msg += "\x01" + k + "=" + l.Extensions[k]
	}
	return oauthClientSession{}, []byte(msg + "\x01\x01"), nil
}

type oauthClientSession struct{}

func (oauthClientSession) Challenge(resp []byte) (bool, []byte, error) {
	if len(resp) == 0 {
		return true, nil, nil
	}
	return false, []byte{0x01}, nil
}

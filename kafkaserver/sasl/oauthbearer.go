package sasl

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/compat/javastr"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/kwire"
)

// MechanismOAuthBearer is the OAUTHBEARER mechanism's name (RFC 7628).
const MechanismOAuthBearer = "OAUTHBEARER"

// The validator's JAAS options (OAuthBearerUnsecuredValidatorCallbackHandler).
const (
	optValidatorPrincipalClaim = "unsecuredValidatorPrincipalClaimName"
	optValidatorScopeClaim     = "unsecuredValidatorScopeClaimName"
	optValidatorRequiredScope  = "unsecuredValidatorRequiredScope"
	optValidatorClockSkewMs    = "unsecuredValidatorAllowableClockSkewMs"
)

// errInternal is OAuthBearerSaslServer's answer to a callback failure (a bad validator option).
const errInternal = "Authentication could not be performed due to an internal error on the server"

// OAuthBearer is Kafka 2.8's default OAUTHBEARER server: unsecured JWS tokens ("alg":"none", no signature)
// checked by OAuthBearerUnsecuredValidatorCallbackHandler with the unsecuredValidator* options of the listener's
// login module. Kafka reads those options at each authentication, so a bad value fails logins, not the start.
type OAuthBearer struct {
	options map[string]string
	now     func() time.Time
}

// OAuthBearerFromJaas configures the validator from a login context, which must hold exactly one module, as
// the callback handler's configure requires.
func OAuthBearerFromJaas(mods []jaas.LoginModule) (*OAuthBearer, error) {
	if len(mods) != 1 {
		return nil, fmt.Errorf("Must supply exactly 1 non-null JAAS mechanism configuration (size was %d)", len(mods))
	}
	return &OAuthBearer{options: mods[0].Options, now: time.Now}, nil
}

// NewServer starts one exchange.
func (o *OAuthBearer) NewServer() kwire.SASLServer { return &oauthServer{o: o} }

// moduleOption is a login module option trimmed, with its default when absent or blank, as the unsecured login
// and validator callback handlers read theirs.
func moduleOption(options map[string]string, name, def string) string {
	if v := javastr.Trim(options[name]); v != "" {
		return v
	}
	return def
}

// validate is the validator's handleCallback: the token parsed, then its claims checked against now.
func (o *OAuthBearer) validate(token string, now time.Time) (*unsecuredJWS, error) {
	principalClaim := moduleOption(o.options, optValidatorPrincipalClaim, "sub")
	scopeClaim := moduleOption(o.options, optValidatorScopeClaim, "scope")
	required, err := parseScope(moduleOption(o.options, optValidatorRequiredScope, ""))
	if err != nil {
		return nil, err
	}
	skew := 0
	if v := moduleOption(o.options, optValidatorClockSkewMs, ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("For input string: \"%s\"", v)
		}
		if n < 0 {
			return nil, fmt.Errorf("Allowable clock skew millis must not be negative: %s", v)
		}
		skew = int(n)
	}
	jws, err := parseUnsecuredJWS(token, principalClaim, scopeClaim)
	if err != nil {
		return nil, err
	}
	nowMs := now.UnixMilli()
	// The principal claim exists and is a string: the parse checked both.
	if iat := jws.claims["iat"].num; iat != nil && 1000**iat > float64(nowMs+int64(skew)) {
		return nil, illegal("The Issued At value (%f seconds) was after the indicated time (%d ms) plus allowable clock skew (%d ms)",
			*iat, nowMs, skew)
	}
	exp := *jws.claims["exp"].num
	if float64(nowMs-int64(skew)) >= 1000*exp {
		return nil, illegal("The indicated time (%d ms) minus allowable clock skew (%d ms) was on or after the Expiration Time value (%f seconds)",
			nowMs, skew, exp)
	}
	if iat := jws.claims["iat"].num; iat != nil && exp <= *iat {
		return nil, illegal("The Expiration Time time (%f seconds) was not after the Issued At time (%f seconds)", exp, *iat)
	}
	for _, s := range required {
		if !jws.scope[s] {
			e := illegal("The provided scope (%v) was mising a required scope (%s).  All required scope elements: %s",
				scopeString(jws.scope), s, javaList(required))
			e.scope = javaList(required)
			return nil, e
		}
	}
	return jws, nil
}

var scopeItemRE = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

// parseScope is OAuthBearerScopeUtils.parseScope: space-separated items of RFC 6749's scope-token characters.
func parseScope(s string) ([]string, error) {
	var out []string
	for _, item := range strings.Split(s, " ") {
		if item == "" {
			continue
		}
		if !scopeItemRE.MatchString(item) {
			return nil, fmt.Errorf("Invalid scope value: %s", item)
		}
		out = append(out, item)
	}
	return out, nil
}

func javaList(items []string) string { return "[" + strings.Join(items, ", ") + "]" }

func scopeString(scope map[string]bool) string {
	items := make([]string, 0, len(scope))
	for s := range scope {
		items = append(items, s)
	}
	return javaList(items)
}

// oauthServer is one OAuthBearerSaslServer exchange: the client's initial response carries the token; a token
// the validator refuses gets a JSON error challenge, to which the client answers with a single 0x01 and the
// exchange fails with that JSON as the message (RFC 7628 §3.2.3).
type oauthServer struct {
	o            *OAuthBearer
	errorMessage string
	principal    string
	expiry       time.Time
}

func (s *oauthServer) Evaluate(token []byte) ([]byte, bool, error) {
	if len(token) == 1 && token[0] == 0x01 && s.errorMessage != "" {
		return nil, false, &kwire.AuthenticationError{Message: s.errorMessage}
	}
	s.errorMessage = ""
	resp, err := parseClientInitialResponse(token)
	if err != nil {
		return nil, false, err
	}
	jws, err := s.o.validate(resp.token, s.o.now())
	var bad *illegalToken
	switch {
	case errors.As(err, &bad):
		status := `{"status":"invalid_token"}`
		if bad.scope != "" {
			status = `{"status":"insufficient_scope", "scope":"` + bad.scope + `"}`
		}
		s.errorMessage = status
		return []byte(status), false, nil
	case err != nil:
		return nil, false, fmt.Errorf("%s: %w", errInternal, err)
	}
	if resp.authzid != "" && resp.authzid != jws.principal {
		return nil, false, &kwire.AuthenticationError{Message: fmt.Sprintf(
			"Authentication failed: Client requested an authorization id (%s) that is different from the token's principal name (%s)",
			resp.authzid, jws.principal)}
	}
	// The unsecured validator accepts every extension.
	s.principal = jws.principal
	s.expiry = time.UnixMilli(jws.lifetimeMs)
	return []byte{}, true, nil
}

func (s *oauthServer) AuthorizationID() string { return s.principal }

// CredentialExpiry is the token's expiry: it bounds the session when re-authentication is configured.
func (s *oauthServer) CredentialExpiry() (time.Time, bool) { return s.expiry, true }

// clientInitialResponse is OAuthBearerClientInitialResponse.
type clientInitialResponse struct {
	authzid    string
	token      string
	extensions map[string]string
}

// The GS2 header must be "n," (no channel binding), then an optional authzid, then key=value pairs each ended by
// 0x01, and a final 0x01. SASLNAME is any ASCII but '=' and ',', or their escapes =2C and =3D (kept escaped).
var (
	clientInitialResponseRE = regexp.MustCompile(
		`^n,(?:a=((?:[\x01-\x2B\x2D-\x3C\x3E-\x7F]|=2C|=3D)+))?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]+\x01)*)\x01$`)
	authValueRE = regexp.MustCompile(`^([A-Za-z0-9_]+) +([-_.a-zA-Z0-9]+)$`)
)

func parseClientInitialResponse(msg []byte) (*clientInitialResponse, error) {
	m := clientInitialResponseRE.FindSubmatch(msg)
	if m == nil {
		return nil, errors.New("Invalid OAUTHBEARER client first message")
	}
	props := map[string]string{}
	for _, kv := range strings.Split(string(m[2]), "\x01") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		props[k] = v
	}
	auth, ok := props["auth"]
	if !ok {
		return nil, errors.New("Invalid OAUTHBEARER client first message: 'auth' not specified")
	}
	delete(props, "auth")
	a := authValueRE.FindStringSubmatch(auth)
	if a == nil {
		return nil, errors.New("Invalid OAUTHBEARER client first message: invalid 'auth' format")
	}
	if !strings.EqualFold(a[1], "bearer") {
		// Kafka's message asks its outer matcher for a group it does not have, and fails with that instead.
		return nil, errors.New("No group with name <scheme>")
	}
	return &clientInitialResponse{authzid: string(m[1]), token: a[2], extensions: props}, nil
}

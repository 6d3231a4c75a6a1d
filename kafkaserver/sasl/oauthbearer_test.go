package sasl

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/kwire"
)

// jws builds an unsecured compact JWS from header and claims JSON as Kafka's login handler encodes them.
func jws(header, claims string) string {
	e := base64.RawURLEncoding
	return e.EncodeToString([]byte(header)) + "." + e.EncodeToString([]byte(claims)) + "."
}

// initial is the client's first message as Kafka's OAuthBearerClientInitialResponse.toBytes writes it.
func initial(authzid, token string, ext ...string) string {
	a := ""
	if authzid != "" {
		a = "a=" + authzid
	}
	e := ""
	if len(ext) > 0 {
		e = "\x01" + strings.Join(ext, "\x01")
	}
	return "n," + a + ",\x01auth=Bearer " + token + e + "\x01\x01"
}

var oauthNow = time.UnixMilli(1_700_000_000_000)

func newOAuth(options map[string]string) *OAuthBearer {
	o, err := OAuthBearerFromJaas([]jaas.LoginModule{{Class: "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule", Options: options}})
	if err != nil {
		panic(err)
	}
	o.now = func() time.Time { return oauthNow }
	return o
}

func TestOAuthBearerAccepts(t *testing.T) {
	o := newOAuth(nil)
	tok := jws(`{"alg":"none"}`, `{"sub":"alice","iat":1699999990,"exp":1700003600.5,"scope":["a","b"]}`)
	for _, msg := range []string{
		initial("", tok),
		initial("alice", tok),
		initial("", tok, "traceId=abc 1", "other=x=y"),
		"n,,\x01auth=bearer  " + tok + "\x01\x01", // scheme case-insensitive, several spaces
	} {
		srv := o.NewServer()
		ch, done, err := srv.Evaluate([]byte(msg))
		if err != nil || !done || len(ch) != 0 || srv.AuthorizationID() != "alice" {
			t.Fatalf("%q: %q %v %v %q", msg, ch, done, err, srv.AuthorizationID())
		}
		exp, ok := srv.(*oauthServer).CredentialExpiry()
		if !ok || exp.UnixMilli() != 1700003600500 {
			t.Errorf("expiry %v", exp.UnixMilli())
		}
	}
}

func TestOAuthBearerRefusesTokens(t *testing.T) {
	invalid := `{"status":"invalid_token"}`
	cases := []struct {
		name, options, token, want string
	}{
		{"expired", "", jws(`{"alg":"none"}`, `{"sub":"a","exp":1700000000}`), invalid},
		{"no exp", "", jws(`{"alg":"none"}`, `{"sub":"a"}`), invalid},
		{"exp a string", "", jws(`{"alg":"none"}`, `{"sub":"a","exp":"1800000000"}`), invalid},
		{"signed", "", jws(`{"alg":"none"}`, `{"sub":"a","exp":1800000000}`) + "c2ln", invalid},
		{"alg HS256", "", jws(`{"alg":"HS256"}`, `{"sub":"a","exp":1800000000}`), invalid},
		{"no sub", "", jws(`{"alg":"none"}`, `{"user":"a","exp":1800000000}`), invalid},
		{"blank sub", "", jws(`{"alg":"none"}`, `{"sub":" ","exp":1800000000}`), invalid},
		{"sub a number", "", jws(`{"alg":"none"}`, `{"sub":7,"exp":1800000000}`), invalid},
		{"issued later", "", jws(`{"alg":"none"}`, `{"sub":"a","iat":1700000001,"exp":1800000000}`), invalid},
		{"exp before iat", "", jws(`{"alg":"none"}`, `{"sub":"a","iat":1600000000,"exp":1599999999}`), invalid},
		{"scope a number", "", jws(`{"alg":"none"}`, `{"sub":"a","exp":1800000000,"scope":5}`), invalid},
		{"two parts", "", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0", invalid},
		{"empty part", "", "eyJhbGciOiJub25lIn0..", invalid},
		{"not JSON", "", jws(`{"alg":"none"}`, `{"sub":`), invalid},
		// Base64URL's '_' (and '-'): java.util.Base64's basic decoder refuses them.
		{"url alphabet", "", jws(`{"alg":"none"}`, `{"sub":"abc?","exp":1800000000}`), invalid},
		{"missing scope", "unsecuredValidatorRequiredScope=  read write ",
			jws(`{"alg":"none"}`, `{"sub":"a","exp":1800000000,"scope":"read"}`),
			`{"status":"insufficient_scope", "scope":"[read, write]"}`},
		{"other principal claim", "unsecuredValidatorPrincipalClaimName=user",
			jws(`{"alg":"none"}`, `{"sub":"a","exp":1800000000}`), invalid},
	}
	for _, c := range cases {
		if c.name == "url alphabet" && !strings.ContainsAny(c.token, "-_") {
			t.Fatalf("%s: token %q has no URL-only character", c.name, c.token)
		}
		opts := map[string]string{}
		if c.options != "" {
			k, v, _ := strings.Cut(c.options, "=")
			opts[k] = v
		}
		srv := newOAuth(opts).NewServer()
		ch, done, err := srv.Evaluate([]byte(initial("", c.token)))
		if err != nil || done || string(ch) != c.want {
			t.Errorf("%s: challenge %q done %v err %v, want %q", c.name, ch, done, err, c.want)
			continue
		}
		// The client answers the error with 0x01; the exchange fails with the JSON as its message.
		_, _, err = srv.Evaluate([]byte{1})
		var ae *kwire.AuthenticationError
		if !errors.As(err, &ae) || ae.Message != c.want {
			t.Errorf("%s: after 0x01: %v", c.name, err)
		}
	}
}

func TestOAuthBearerOptions(t *testing.T) {
	tok := jws(`{"alg":"none"}`, `{"user":"bob","sub":"x","iat":1700000002,"exp":1700000001,"perms":["w ", "r"]}`)
	// Issued 2 s ahead, within the 5 s of skew, but expiring before it was issued...
	o := newOAuth(map[string]string{"unsecuredValidatorAllowableClockSkewMs": "5000",
		"unsecuredValidatorPrincipalClaimName": "user", "unsecuredValidatorScopeClaimName": "perms",
		"unsecuredValidatorRequiredScope": "w r"})
	if ch, _, err := o.NewServer().Evaluate([]byte(initial("", tok))); err != nil || string(ch) != `{"status":"invalid_token"}` {
		t.Fatalf("exp before iat: %q %v", ch, err)
	}
	// ...so without iat the token passes, as bob, with the scope from "perms".
	tok = jws(`{"alg":"none"}`, `{"user":"bob","sub":"x","exp":1700000000,"perms":["w ", "r"]}`)
	srv := o.NewServer()
	if _, done, err := srv.Evaluate([]byte(initial("", tok))); err != nil || !done || srv.AuthorizationID() != "bob" {
		t.Fatalf("skewed token: %v %v", done, err)
	}
	// An authzid other than the principal.
	_, _, err := o.NewServer().Evaluate([]byte(initial("x", tok)))
	var ae *kwire.AuthenticationError
	if !errors.As(err, &ae) || ae.Message != "Authentication failed: Client requested an authorization id (x) that is "+
		"different from the token's principal name (bob)" {
		t.Errorf("authzid: %v", err)
	}
	// A bad option fails every login with an internal error the client does not see.
	for _, bad := range []map[string]string{{"unsecuredValidatorAllowableClockSkewMs": "-1"},
		{"unsecuredValidatorAllowableClockSkewMs": "x"}, {"unsecuredValidatorRequiredScope": `a"b`}} {
		_, _, err := newOAuth(bad).NewServer().Evaluate([]byte(initial("", tok)))
		if err == nil || errors.As(err, &ae) || !strings.HasPrefix(err.Error(), errInternal) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestOAuthBearerInitialResponse(t *testing.T) {
	tok := jws(`{"alg":"none"}`, `{"sub":"a","exp":1800000000}`)
	for _, msg := range []string{
		"y,,\x01auth=Bearer " + tok + "\x01\x01",               // channel binding flag
		"n,,\x01auth=Bearer " + tok + "\x01",                   // no final 0x01
		"n,,\x01\x01",                                          // no auth
		"n,,\x01auth=Basic " + tok + "\x01\x01",                // another scheme
		"n,,\x01auth=Bearer a+b\x01\x01",                       // not a token68 of the allowed characters
		"n,a=x,y,\x01auth=Bearer " + tok + "\x01\x01",          // ',' in authzid
		"n,,\x01auth=Bearer " + tok + "\x01k1=v\x01\x01",       // extension key with a digit
		string([]byte{1}),                                      // 0x01 without an error before it
		"n,,\x01auth=Bearer " + tok + "\x01k=\xc3\xa9\x01\x01", // non-ASCII value
	} {
		_, _, err := newOAuth(nil).NewServer().Evaluate([]byte(msg))
		var ae *kwire.AuthenticationError
		if err == nil || errors.As(err, &ae) {
			t.Errorf("%q: %v", msg, err)
		}
	}
	r, err := parseClientInitialResponse([]byte(initial("a=3Db", tok, "x=1", "x=2 =")))
	if err != nil || r.authzid != "a=3Db" || r.token != tok || len(r.extensions) != 1 || r.extensions["x"] != "2 =" {
		t.Errorf("parse: %+v %v", r, err)
	}
}

func TestUnsecuredLoginToken(t *testing.T) {
	login, ok, err := UnsecuredLoginToken(map[string]string{
		"unsecuredLoginStringClaim_sub": "admin", "unsecuredLoginLifetimeSeconds": "60",
		"unsecuredLoginNumberClaim_n": "3", "unsecuredLoginListClaim_scope": ",read,write",
		"unsecuredLoginExtension_traceId": "t1", "unsecuredValidatorRequiredScope": "read",
	}, oauthNow)
	if err != nil || !ok || login.Principal != "admin" || login.Extensions["traceId"] != "t1" || len(login.Extensions) != 1 {
		t.Fatalf("login: %+v %v %v", login, ok, err)
	}
	parts := strings.Split(login.Token, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if want := `{"exp":1.70000006E9,"iat":1.7E9,"scope":["read","write"],"n":3.0,"sub":"admin"}`; string(claims) != want {
		t.Errorf("claims %s, want %s", claims, want)
	}
	// The validator of the same module takes it.
	o := newOAuth(map[string]string{"unsecuredValidatorRequiredScope": "read"})
	srv := o.NewServer()
	if _, done, err := srv.Evaluate([]byte(initial("", login.Token, "traceId=t1"))); err != nil || !done || srv.AuthorizationID() != "admin" {
		t.Fatalf("validate: %v %v", done, err)
	}

	if _, ok, err := UnsecuredLoginToken(nil, oauthNow); ok || err != nil {
		t.Errorf("no options: %v %v", ok, err)
	}
	for opts, want := range map[string]string{
		"unsecuredLoginExtension_a=b":                                    "Extensions provided in login context without a token",
		"unsecuredLoginStringClaim_exp=1":                                "Cannot explicitly set the 'exp' claim",
		"unsecuredLoginStringClaim_user=a":                               "No principal name in JWT claim: sub",
		"unsecuredLoginLifetimeSeconds=1h":                               `For input string: "1h"`,
		"unsecuredValidatorRequiredScope=x":                              "No principal name in JWT claim: sub",
		"unsecuredLoginStringClaim_sub=a;unsecuredLoginExtension_auth=x": "Extension name auth is invalid",
	} {
		m := map[string]string{}
		for _, kv := range strings.Split(opts, ";") {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		if _, _, err := UnsecuredLoginToken(m, oauthNow); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", opts, err, want)
		}
	}
}

func TestListClaimJSON(t *testing.T) {
	for in, want := range map[string]string{
		"":     "[]",
		",":    "[]",
		",a,b": `["a","b"]`,
		",a,":  `["a",""]`,
		",,a":  `["","a",""]`,
		"|a|b": `["a","b"]`,
		",,":   `,""]`, // Kafka's broken JSON for a list of only delimiters
		`,"q"`: `["\\"q\\""]`,
		"éaéb": `["a","b"]`,
	} {
		if got := listClaimJSON(in); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

func TestForListenerOAuthBearer(t *testing.T) {
	const module = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
	base := []string{"sasl.enabled.mechanisms=OAUTHBEARER", "sasl.mechanism.inter.broker.protocol=OAUTHBEARER"}
	cfg := props(t, append(base, "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+module+
		` required unsecuredLoginStringClaim_sub="admin";`)...)
	sc, err := ForListener(cfg, "SASL_PLAINTEXT", ListenerOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	login, _, _ := UnsecuredLoginToken(map[string]string{"unsecuredLoginStringClaim_sub": "carol"}, time.Now())
	if u, err := evaluate(sc, "OAUTHBEARER", initial("", login.Token)); err != nil || u != "carol" {
		t.Fatalf("carol: %q %v", u, err)
	}
	// A module without options starts (its login has no token) and validates.
	cfg = props(t, append(base, "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+module+" required;")...)
	if _, err := ForListener(cfg, "SASL_PLAINTEXT", ListenerOptions{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	for extra, want := range map[string]string{
		"listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=" + module + ` required unsecuredLoginStringClaim_user="a";`: "An internal error occurred while retrieving token from callback handler: No principal name in JWT claim: sub",
		"listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class=com.example.JwtValidator":                  "listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class: java.lang.ClassNotFoundException: com.example.JwtValidator",
	} {
		cfg := props(t, append(base, extra, "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+module+` required unsecuredLoginStringClaim_user="a";`)...)
		if strings.Contains(extra, "callback") {
			cfg = props(t, append(base, extra, "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+module+" required;")...)
		}
		if _, err := ForListener(cfg, "SASL_PLAINTEXT", ListenerOptions{Logger: quiet}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", extra, err)
		}
	}
	// Kafka's own default class is accepted.
	cfg = props(t, append(base, "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="+module+" required;",
		"listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class="+
			defaultSaslClasses["sasl.server.callback.handler.class"][MechanismOAuthBearer])...)
	if _, err := ForListener(cfg, "SASL_PLAINTEXT", ListenerOptions{Logger: quiet}); err != nil {
		t.Error(err)
	}
}

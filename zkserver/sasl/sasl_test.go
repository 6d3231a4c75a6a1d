package sasl

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/kerbname"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixedNonce makes the server's nonce the given one (base64 of 30 bytes, as the JDK's).
func fixedNonce(t *testing.T, nonce string) io.Reader {
	b, err := base64.StdEncoding.DecodeString(nonce)
	if err != nil || len(b) != 30 {
		t.Fatalf("nonce %q: %v", nonce, err)
	}
	return bytes.NewReader(b)
}

// TestJDKClientResponses replays exchanges a JDK 17 DIGEST-MD5 client ran against the JDK's server (created as
// ZooKeeper creates it): the same challenge, and the client's response accepted with the same rspauth.
func TestJDKClientResponses(t *testing.T) {
	for _, v := range []struct{ user, password, nonce, response, rspauth string }{
		{"bob", "secret", "uZRfU0oqU+5y3w8WNm+BQESxRVvm5wvwuhKRXpJ0",
			`charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="uZRfU0oqU+5y3w8WNm+BQESxRVvm5wvwuhKRXpJ0",nc=00000001,cnonce="YM7cn3SyqFPFn+/kugqZrOWQzJKZJ5JRAHJbtLm/",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=58a87a3a4ea8e4812f641aa168529764,qop=auth`,
			"rspauth=a5e8a4dca39274c4294840ac61749a4a"},
		// Characters of ISO 8859-1 are hashed in it.
		{"bø", "pässwörd", "OZFNBwUPIfTPBWvnyMWncEHew70wGLg0ZjrD60k0",
			`charset=utf-8,username="bø",realm="zk-sasl-md5",nonce="OZFNBwUPIfTPBWvnyMWncEHew70wGLg0ZjrD60k0",nc=00000001,cnonce="Z6i2FpXQvdrU1o+K5WSTKpBTVQ0UnFlDl3IwiX+Z",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=28f5b9b42d0cd09a1bf65b3358ff3086,qop=auth`,
			"rspauth=7c0e778353a6b3b8c3da6bd23afd06fd"},
		// Others in UTF-8.
		{"用户", "密码", "jIao6O5ZGlb61AMwIEeVvmDbPJilydIUoITrXS5y",
			`charset=utf-8,username="用户",realm="zk-sasl-md5",nonce="jIao6O5ZGlb61AMwIEeVvmDbPJilydIUoITrXS5y",nc=00000001,cnonce="XGYWxxAupYRqyRaLIsRjcNuRtCnTi8dvDlf87w1b",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=f8cbfb08c8e97b86ba2ed87f30e15dae,qop=auth`,
			"rspauth=79b8b6e5e0749dba53f161d75ad8b251"},
		// Quotes and backslashes escaped in the quoted user name.
		{`a"b\c`, "p", "c4lXQKN56UUYFa1MdccwgQ5GnnHgZrGgH5UpBe2c",
			`charset=utf-8,username="a\"b\\c",realm="zk-sasl-md5",nonce="c4lXQKN56UUYFa1MdccwgQ5GnnHgZrGgH5UpBe2c",nc=00000001,cnonce="HazPcQ+f7QOztpxBgxCv+/k4TTnRnWYoBpp8vzP/",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=ab16933aedb6b848810858d085309cf9,qop=auth`,
			"rspauth=de8716428c2e51d506a8e3f16c6e4ee7"},
	} {
		cfg := &Config{Users: map[string]string{v.user: v.password}, Rand: fixedNonce(t, v.nonce), Logger: quiet}
		e := cfg.NewExchange()
		out := e.Step(nil, "test")
		want := `realm="zk-sasl-md5",nonce="` + v.nonce + `",charset=utf-8,algorithm=md5-sess`
		if out.Err != jute.ErrOK || string(out.Token) != want || out.IDs != nil {
			t.Fatalf("%s: challenge %+v", v.user, out)
		}
		out = e.Step([]byte(v.response), "test")
		if out.Err != jute.ErrOK || string(out.Token) != v.rspauth {
			t.Fatalf("%s: %q %v", v.user, out.Token, out.Err)
		}
		if !reflect.DeepEqual(out.IDs, []jute.Id{{Scheme: "sasl", ID: v.user}}) {
			t.Errorf("%s: ids %v", v.user, out.IDs)
		}
		// A third token: the JDK's server is "at illegal state" and ZooKeeper closes the connection.
		if out := e.Step(nil, "test"); out.Err != jute.ErrAuthFailed {
			t.Errorf("%s: after completion %+v", v.user, out)
		}
	}
}

// client is a DIGEST-MD5 client for the tests: the response a JDK client would send for user and password, with
// edit applied to its directives.
func client(t *testing.T, challenge []byte, user, password string, edit func(map[string]string)) []byte {
	d, err := parseDirectives(challenge, challengeKeys)
	if err != nil {
		t.Fatal(err)
	}
	cnonce := "Y2xpZW50LW5vbmNl"
	dir := map[string]string{"charset": "utf-8", "username": user, "realm": d["realm"], "nonce": d["nonce"],
		"nc": "00000001", "cnonce": cnonce, "digest-uri": "zookeeper/zk-sasl-md5", "maxbuf": "65536", "qop": "auth"}
	dir["response"] = digestValues{user: user, realm: d["realm"], password: password, nonce: d["nonce"],
		cnonce: cnonce, qop: "auth", uri: "zookeeper/zk-sasl-md5"}.response("AUTHENTICATE")
	if edit != nil {
		edit(dir)
	}
	var parts []string
	for _, k := range []string{"charset", "username", "realm", "nonce", "nc", "cnonce", "digest-uri", "maxbuf", "response", "qop", "authzid"} {
		if v, ok := dir[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%q", k, v))
		}
	}
	return []byte(strings.Join(parts, ","))
}

// run does a whole exchange and returns the last outcome.
func run(t *testing.T, cfg *Config, user, password string, edit func(map[string]string)) Outcome {
	cfg.Logger = quiet
	e := cfg.NewExchange()
	ch := e.Step([]byte{}, "test")
	if ch.Err != jute.ErrOK {
		t.Fatalf("challenge: %+v", ch)
	}
	return e.Step(client(t, ch.Token, user, password, edit), "test")
}

func TestExchangeOutcomes(t *testing.T) {
	users := map[string]string{"bob": "bobpw", "super": "superpw", "carol@EXAMPLE.COM": "c", "dave@": "d",
		"eve/host@": "e", "a@b@c": "x"}
	pw := "override"
	ids := func(pairs ...string) []jute.Id {
		var out []jute.Id
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, jute.Id{Scheme: pairs[i], ID: pairs[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name           string
		cfg            Config
		user, password string
		edit           func(map[string]string)
		err            jute.Err
		ids            []jute.Id
	}{
		{name: "ok", user: "bob", password: "bobpw", ids: ids("sasl", "bob")},
		{name: "wrong password", user: "bob", password: "nope", err: jute.ErrAuthFailed},
		{name: "unknown user", user: "zed", password: "bobpw", err: jute.ErrAuthFailed},
		{name: "required", cfg: Config{Required: true}, user: "bob", password: "nope", err: jute.ErrSessionClosedRequireAuth},
		{name: "allowed to fail", cfg: Config{AllowFailed: true}, user: "bob", password: "nope"},
		{name: "allowed but required", cfg: Config{AllowFailed: true, Required: true}, user: "bob", password: "nope",
			err: jute.ErrSessionClosedRequireAuth},
		{name: "super user", cfg: Config{SuperUsers: []string{"bob"}}, user: "bob", password: "bobpw",
			ids: ids("sasl", "bob", "super", "")},
		{name: "super password", cfg: Config{SuperPassword: &pw}, user: "super", password: "override", ids: ids("sasl", "super")},
		{name: "super password replaces", cfg: Config{SuperPassword: &pw}, user: "super", password: "superpw", err: jute.ErrAuthFailed},
		{name: "realm kept", user: "carol@EXAMPLE.COM", password: "c", ids: ids("sasl", "carol@EXAMPLE.COM")},
		{name: "realm not default: authzid", user: "carol@EXAMPLE.COM", password: "c",
			edit: func(d map[string]string) {
				// The authzid is part of A1.
				d["authzid"] = "mallory"
				d["response"] = digestValues{user: d["username"], realm: d["realm"], password: "c", nonce: d["nonce"],
					cnonce: d["cnonce"], qop: "auth", uri: d["digest-uri"], authzid: ptr("mallory")}.response("AUTHENTICATE")
			}, ids: ids("sasl", "mallory")},
		{name: "default realm removed", cfg: Config{RemoveRealm: true, DefaultRealm: "EXAMPLE.COM"}, user: "carol@EXAMPLE.COM",
			password: "c", ids: ids("sasl", "carol")},
		{name: "empty realm", user: "dave@", password: "d", ids: ids("sasl", "dave@")},
		{name: "host removed", cfg: Config{RemoveHost: true}, user: "eve/host@", password: "e", ids: ids("sasl", "eve@")},
		{name: "malformed name", user: "a@b@c", password: "x", err: jute.ErrAuthFailed},
		// zookeeper.security.auth_to_local: the short name, then the host and realm the name has.
		{name: "rule", cfg: Config{Names: zkNames(t, `RULE:[1:$1]s/carol/admin/`)}, user: "carol@EXAMPLE.COM",
			password: "c", ids: ids("sasl", "admin@EXAMPLE.COM")},
		{name: "rule, realm removed", cfg: Config{Names: zkNames(t, `RULE:[1:$1]s/carol/admin/`), RemoveRealm: true},
			user: "carol@EXAMPLE.COM", password: "c", ids: ids("sasl", "admin")},
		{name: "rule with host", cfg: Config{Names: zkNames(t, `RULE:[1:$1] RULE:[2:$1-$2]`)}, user: "eve/host@",
			password: "e", ids: ids("sasl", "eve-host/host@")},
		{name: "rule for others", cfg: Config{Names: zkNames(t, `RULE:[2:$1-$2]`)}, user: "carol@EXAMPLE.COM",
			password: "c", ids: ids("sasl", "carol@EXAMPLE.COM")},
		{name: "rule gives non-simple name", cfg: Config{Names: zkNames(t, `RULE:[1:$1@$0]`)}, user: "carol@EXAMPLE.COM",
			password: "c", ids: ids("sasl", "carol@EXAMPLE.COM")},
		{name: "rule bad format", cfg: Config{Names: zkNames(t, `RULE:[1:$9]`)}, user: "dave@", password: "d",
			ids: ids("sasl", "dave@")},
		{name: "rule index past the end", cfg: Config{Names: zkNames(t, `RULE:[1:$2]`)}, user: "dave@", password: "d",
			err: jute.ErrAuthFailed},
		{name: "rule not applied to a simple name", cfg: Config{Names: zkNames(t, `RULE:[1:$2]`)}, user: "bob",
			password: "bobpw", ids: ids("sasl", "bob")},
		{name: "broken rules", cfg: Config{NamesErr: errors.New("Invalid rule: x")}, user: "bob", password: "bobpw",
			err: jute.ErrAuthFailed},
		{name: "mismatched nonce", user: "bob", password: "bobpw", edit: func(d map[string]string) { d["nonce"] = "x" },
			err: jute.ErrAuthFailed},
		{name: "nonce count", user: "bob", password: "bobpw", edit: func(d map[string]string) { d["nc"] = "00000002" },
			err: jute.ErrAuthFailed},
		{name: "uri", user: "bob", password: "bobpw", edit: func(d map[string]string) { d["digest-uri"] = "imap/zk-sasl-md5" },
			err: jute.ErrAuthFailed},
		{name: "uri case", user: "bob", password: "bobpw", ids: ids("sasl", "bob"),
			edit: func(d map[string]string) {
				d["digest-uri"] = "ZooKeeper/ZK-SASL-MD5"
				d["response"] = digestValues{user: "bob", realm: d["realm"], password: "bobpw", nonce: d["nonce"],
					cnonce: d["cnonce"], qop: "auth", uri: d["digest-uri"]}.response("AUTHENTICATE")
			}},
		{name: "qop", user: "bob", password: "bobpw", edit: func(d map[string]string) { d["qop"] = "auth-conf" },
			err: jute.ErrAuthFailed},
		{name: "realm", user: "bob", password: "bobpw", edit: func(d map[string]string) { delete(d, "realm") },
			err: jute.ErrAuthFailed},
		{name: "charset", user: "bob", password: "bobpw", edit: func(d map[string]string) { d["charset"] = "latin1" },
			err: jute.ErrAuthFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Users = users
			out := run(t, &cfg, tc.user, tc.password, tc.edit)
			if out.Err != tc.err || !reflect.DeepEqual(out.IDs, tc.ids) {
				t.Fatalf("got %v %v, want %v %v", out.Err, out.IDs, tc.err, tc.ids)
			}
			if tc.err == jute.ErrOK && tc.ids != nil && !strings.HasPrefix(string(out.Token), "rspauth=") {
				t.Errorf("token %q", out.Token)
			}
			if out.Err != jute.ErrOK && out.Token != nil {
				t.Errorf("token with an error: %q", out.Token)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func zkNames(t *testing.T, rules string) *kerbname.ShortNamer {
	t.Helper()
	n, err := kerbname.NewZooKeeperShortNamer("", rules)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestParseDirectives(t *testing.T) {
	d, err := parseDirectives([]byte(` Username = "a\"b" , ,qop=auth ,unknown="x", nc=00000001`), responseKeys)
	if err != nil || !reflect.DeepEqual(d, map[string]string{"username": `a"b`, "qop": "auth", "nc": "00000001"}) {
		t.Fatalf("%v %v", d, err)
	}
	for _, in := range []string{`username="a`, `username=a,username=b`, `justakey`} {
		if _, err := parseDirectives([]byte(in), responseKeys); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
	long := make([]byte, maxDigestResponse+1)
	cfg := &Config{Users: map[string]string{}, Logger: quiet}
	e := cfg.NewExchange()
	e.Step(nil, "test")
	if out := e.Step(long, "test"); out.Err != jute.ErrAuthFailed {
		t.Errorf("oversize response: %+v", out)
	}
}

func TestFromZooCfg(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jaas.conf")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func(props map[string]string) (*Config, error) {
		zc := &zoocfg.Config{Props: props}
		return FromZooCfg(zc, quiet)
	}
	if c, err := load(map[string]string{}); c != nil || err != nil {
		t.Fatalf("no JAAS file: %v %v", c, err)
	}
	write(`Server { org.apache.zookeeper.server.auth.DigestLoginModule required
		user_super="s" user_bob="${bob.pw}" username="ignored"; };
	Other { org.apache.zookeeper.server.auth.DigestLoginModule required user_carol="c"; };`)
	c, err := load(map[string]string{"java.security.auth.login.config": path, "bob.pw": "b",
		"zookeeper.superUser": "bob", "zookeeper.superUser.2": "carol", "zookeeper.superUserX": "no",
		"zookeeper.allowSaslFailedClients": "TRUE", "zookeeper.kerberos.removeRealmFromPrincipal": "true",
		"zookeeper.SASLAuthenticationProvider.superPassword": "sp"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Users, map[string]string{"super": "s", "bob": "b"}) ||
		!reflect.DeepEqual(c.SuperUsers, []string{"bob", "carol"}) || !c.AllowFailed || !c.RemoveRealm || c.RemoveHost ||
		c.SuperPassword == nil || *c.SuperPassword != "sp" {
		t.Fatalf("config %+v", c)
	}
	if c.NamesErr != nil {
		t.Fatalf("DEFAULT rules: %v", c.NamesErr)
	}
	// zookeeper.security.auth_to_local: rules with the JDK's default realm (java.security.krb5.realm, which needs
	// java.security.krb5.kdc); bad rules do not stop the start (Apache only fails at first use).
	c, err = load(map[string]string{"java.security.auth.login.config": path, "bob.pw": "b",
		"zookeeper.security.auth_to_local": "RULE:[2:$1](zk)s/zk/keeper/\nDEFAULT", "java.security.krb5.realm": "EXAMPLE.COM",
		"java.security.krb5.kdc": "127.0.0.1:1"})
	if err != nil || c.NamesErr != nil {
		t.Fatalf("rules: %v %v", err, c.NamesErr)
	}
	for user, want := range map[string]string{"zk/h1@X": "keeper/h1@X", "al/h1@X": "", "al@EXAMPLE.COM": "al@EXAMPLE.COM"} {
		if id, err := c.authorizedID(user, ""); id != want || err != nil {
			t.Errorf("authorizedID(%q) = %q, %v; want %q", user, id, err, want)
		}
	}
	c, err = load(map[string]string{"java.security.auth.login.config": path, "bob.pw": "b",
		"zookeeper.security.auth_to_local": "DEFAULT RULE:[1:$1]/L"})
	if err != nil || c == nil || !errors.Is(c.NamesErr, kerbname.ErrInvalidRule) ||
		!strings.Contains(c.NamesErr.Error(), "Invalid rule: /L") {
		t.Fatalf("bad rules: %v %+v", err, c)
	}
	// zookeeper.sasl.serverconfig names another section; a missing one means no SASL, as in Apache.
	c, err = load(map[string]string{"java.security.auth.login.config": path, "bob.pw": "b", "zookeeper.sasl.serverconfig": "Other"})
	if err != nil || !reflect.DeepEqual(c.Users, map[string]string{"carol": "c"}) {
		t.Fatalf("Other: %+v %v", c, err)
	}
	if c, err := load(map[string]string{"java.security.auth.login.config": path, "bob.pw": "b", "zookeeper.sasl.serverconfig": "Nope"}); c != nil || err != nil {
		t.Fatalf("missing section: %v %v", c, err)
	}
	// An unreadable file, or a server section we cannot serve, stops the start.
	if _, err := load(map[string]string{"java.security.auth.login.config": filepath.Join(dir, "missing")}); err == nil ||
		!strings.Contains(err.Error(), "No JAAS configuration section named 'Server' was found") {
		t.Errorf("missing file: %v", err)
	}
	write(`Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/nonexistent"; };`)
	if _, err := load(map[string]string{"java.security.auth.login.config": path}); err == nil ||
		!strings.Contains(err.Error(), "authenticate itself") {
		t.Errorf("Kerberos login without a keytab: %v", err)
	}
}

// TestDefaultRealm: KerberosName's default realm is the JDK's: java.security.krb5.realm when set with
// java.security.krb5.kdc, else the default_realm of the Kerberos configuration file; "" when there is none or
// the JDK refuses its configuration (java.security.krb5.realm without java.security.krb5.kdc); a missing file is
// an empty configuration.
func TestDefaultRealm(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "krb5.conf")
	if err := os.WriteFile(conf, []byte("[libdefaults]\n default_realm = FILE.ORG\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"java.security.krb5.conf": conf}, "FILE.ORG"},
		{map[string]string{"java.security.krb5.conf": conf, "java.security.krb5.realm": "PROP.ORG",
			"java.security.krb5.kdc": "127.0.0.1"}, "PROP.ORG"},
		{map[string]string{"java.security.krb5.conf": conf, "java.security.krb5.realm": "PROP.ORG"}, ""},
		{map[string]string{"java.security.krb5.conf": filepath.Join(dir, "none")}, ""},
		{map[string]string{"java.security.krb5.conf": filepath.Join(dir, "none"), "java.security.krb5.realm": "PROP.ORG",
			"java.security.krb5.kdc": "127.0.0.1"}, "PROP.ORG"},
	} {
		if got := defaultRealm(v.props); got != v.want {
			t.Errorf("%v: %q, want %q", v.props, got, v.want)
		}
	}
}

// Our DIGEST-MD5 client (a quorum learner's) against our server: names with quotes and backslashes, non-Latin-1
// passwords; a wrong password fails at the server, a forged rspauth at the client.
func TestDigestClient(t *testing.T) {
	for _, user := range []string{"learner", `a"b\c`, "用户"} {
		pw := "pw-" + user + "-ø"
		srv := NewDigestServer(QuorumProtocol, QuorumServerName, func(u string) (string, bool) { return pw, u == user }, nil)
		cl := NewDigestClient(user, pw, QuorumProtocol, QuorumServerName, nil)
		challenge, err := srv.Evaluate(nil)
		if err != nil {
			t.Fatal(err)
		}
		rsp, done, err := cl.Step(challenge)
		if err != nil || done {
			t.Fatal(err, done)
		}
		rspauth, err := srv.Evaluate(rsp)
		if err != nil || !srv.Complete() || srv.User() != user || srv.Authzid() != user {
			t.Fatalf("%s: server: %v complete %v user %q authzid %q", user, err, srv.Complete(), srv.User(), srv.Authzid())
		}
		if out, done, err := cl.Step(rspauth); err != nil || out != nil || !done || !cl.Complete() {
			t.Fatalf("%s: client on rspauth: %q %v %v", user, out, done, err)
		}
	}
	srv := NewDigestServer(QuorumProtocol, QuorumServerName, func(string) (string, bool) { return "right", true }, nil)
	cl := NewDigestClient("u", "wrong", QuorumProtocol, QuorumServerName, nil)
	challenge, _ := srv.Evaluate(nil)
	rsp, _, err := cl.Step(challenge)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Evaluate(rsp); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if _, done, err := cl.Step([]byte("rspauth=0123456789abcdef0123456789abcdef")); err == nil || done || cl.Complete() {
		t.Fatal("a forged rspauth was accepted")
	}
}

package zkserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/client"

	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
)

// kerberosRealm is one KDC with the service zookeeper/localhost (its keytab in a JAAS Server section), another
// service, and users alice, bob/client.example and carol.
type kerberosRealm struct {
	kdc    *kdctest.KDC
	jaas   string
	krb5   map[string]string
	keytab string
}

func startRealm(t *testing.T) *kerberosRealm {
	t.Helper()
	k := kdctest.Start(t)
	r := &kerberosRealm{kdc: k, krb5: map[string]string{"java.security.krb5.conf": k.Krb5Conf}}
	r.keytab = k.AddService(t, "zookeeper/localhost")
	k.AddService(t, "other/localhost")
	for _, u := range []string{"alice", "bob/client.example", "carol"} {
		k.AddUser(t, u, "pw-"+u)
	}
	r.jaas = r.writeJAAS(t, "zookeeper/localhost@EXAMPLE.COM", "true")
	return r
}

func (r *kerberosRealm) writeJAAS(t *testing.T, principal, storeKey string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jaas.conf")
	text := fmt.Sprintf(`Server {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true keyTab="%s" storeKey=%s principal="%s";
};`, r.keytab, storeKey, principal)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// server starts zkserver as zoo.cfg props (with the realm's JAAS file and krb5.conf) configure it.
func (r *kerberosRealm) server(t *testing.T, props map[string]string) *Server {
	t.Helper()
	zc := &zoocfg.Config{Props: map[string]string{"java.security.auth.login.config": r.jaas},
		DigestAuthEnabled: true, AuthProviders: map[string]string{}}
	for k, v := range r.krb5 {
		zc.Props[k] = v
	}
	for k, v := range props {
		zc.Props[k] = v
		if n, ok := strings.CutPrefix(k, "zookeeper.authProvider."); ok {
			zc.AuthProviders[n] = v
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := ConfigFromZooCfg(zc, quiet)
	if err := AuthFromZooCfg(zc, &cfg); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg.ClientAddr, cfg.DataDir, cfg.DataLogDir = "127.0.0.1:0", dir, dir
	cfg.TickTime, cfg.MinSessionTimeout, cfg.MaxSessionTimeout = 2000, 4000, 40000
	cfg.SnapCount, cfg.PreAllocSize, cfg.JuteMaxBuffer = 100000, 1<<20, 0xfffff
	cfg.ACL = acl.Config{DigestAuthEnabled: true, ExtraSchemes: []string{"sasl"}}
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (r *kerberosRealm) user(t *testing.T, name string) *client.Client {
	t.Helper()
	kc, err := kerberos.LoadConfig(r.krb5)
	if err != nil {
		t.Fatal(err)
	}
	cl := client.NewWithPassword(name, kdctest.Realm, "pw-"+name, kc, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	t.Cleanup(cl.Destroy)
	return cl
}

// authenticate runs the GSSAPI exchange for service/localhost on a new session of s. It returns the connection,
// the header of the last SASL reply and its token.
func authenticate(t *testing.T, s *Server, cl *client.Client, service string) (net.Conn, jute.ReplyHeader, []byte) {
	t.Helper()
	c := dialRaw(t, s)
	openSession(t, c)
	sc, tok, err := kerberos.StartSASL(context.Background(), nil, cl, service, "localhost", "")
	if err != nil {
		t.Fatal(err)
	}
	for xid := int32(1); ; xid++ {
		send(t, c, requestBytes(xid, jute.OpSASL, &jute.GetSASLRequest{Token: tok}))
		var rsp jute.SetSASLResponse
		h := reply(t, c, &rsp)
		if h.Err != 0 || rsp.Token == nil {
			return c, h, nil // refused, or a failure the server lets pass
		}
		var done bool
		if tok, done, err = sc.Step(rsp.Token); err != nil {
			t.Fatalf("client step %d: %v", xid, err)
		}
		if done {
			// The client's last token: the server answers it with no token.
			send(t, c, requestBytes(xid+1, jute.OpSASL, &jute.GetSASLRequest{Token: tok}))
			h := reply(t, c, &rsp)
			if h.Err == 0 && rsp.Token != nil {
				t.Errorf("a token answers the client's last one: %q", rsp.Token)
			}
			return c, h, rsp.Token
		}
	}
}

func whoami(t *testing.T, c net.Conn) []string {
	t.Helper()
	send(t, c, requestBytes(100, jute.OpWhoAmI, nil))
	var who jute.WhoAmIResponse
	if h := reply(t, c, &who); h.Err != 0 {
		t.Fatalf("whoami: %+v", h)
	}
	var ids []string
	for _, ci := range who.ClientInfo {
		if ci.AuthScheme != "ip" {
			ids = append(ids, ci.AuthScheme+":"+ci.User)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestKerberosAuthorizedID: GSSAPI clients of a real KDC over the wire get the sasl id of
// SaslServerCallbackHandler: the short name of the auth_to_local rules (the default realm from krb5.conf), then
// /host and @realm unless removed; zookeeper.superUser also gives super.
func TestKerberosAuthorizedID(t *testing.T) {
	r := startRealm(t)
	alice, bob := r.user(t, "alice"), r.user(t, "bob/client.example")
	for _, v := range []struct {
		props      map[string]string
		alice, bob []string
	}{
		{nil, []string{"sasl:alice@EXAMPLE.COM"}, []string{"sasl:bob/client.example@EXAMPLE.COM"}},
		{map[string]string{"zookeeper.kerberos.removeHostFromPrincipal": "true"},
			[]string{"sasl:alice@EXAMPLE.COM"}, []string{"sasl:bob@EXAMPLE.COM"}},
		{map[string]string{"zookeeper.kerberos.removeRealmFromPrincipal": "true"},
			[]string{"sasl:alice"}, []string{"sasl:bob/client.example"}},
		{map[string]string{"zookeeper.kerberos.removeHostFromPrincipal": "true",
			"zookeeper.kerberos.removeRealmFromPrincipal": "true", "zookeeper.superUser": "bob"},
			[]string{"sasl:alice"}, []string{"sasl:bob", "super:"}},
		// A rule for host-based names; alice matches none of them: her id stays the principal.
		{map[string]string{"zookeeper.security.auth_to_local": "RULE:[2:$1@$0](bob@EXAMPLE.COM)s/bob@.*/robert/",
			"zookeeper.kerberos.removeRealmFromPrincipal": "true"},
			[]string{"sasl:alice@EXAMPLE.COM"}, []string{"sasl:robert/client.example"}},
	} {
		s := r.server(t, v.props)
		for _, u := range []struct {
			cl   *client.Client
			want []string
		}{{alice, v.alice}, {bob, v.bob}} {
			c, h, _ := authenticate(t, s, u.cl, "zookeeper")
			if h.Err != 0 {
				t.Fatalf("%v: %s: %+v", v.props, u.cl.Credentials.UserName(), h)
			}
			if got := whoami(t, c); !slices.Equal(got, u.want) {
				t.Errorf("%v: %s: ids %q, want %q", v.props, u.cl.Credentials.UserName(), got, u.want)
			}
		}
	}
}

// TestKerberosRefused: a ticket for another service fails: AuthFailed and a closed connection, or
// SessionClosedRequireAuth when SASL is required; with zookeeper.allowSaslFailedClients the connection stays,
// without a sasl id.
func TestKerberosRefused(t *testing.T) {
	r := startRealm(t)
	carol := r.user(t, "carol")
	c, h, _ := authenticate(t, r.server(t, nil), carol, "other")
	if jute.Err(h.Err) != jute.ErrAuthFailed {
		t.Fatalf("other service: %+v", h)
	}
	expectClosed(t, c, "failed GSSAPI")

	c, h, _ = authenticate(t, r.server(t, map[string]string{"zookeeper.sessionRequireClientSASLAuth": "true",
		"zookeeper.authProvider.1": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"}), carol, "other")
	if jute.Err(h.Err) != jute.ErrSessionClosedRequireAuth {
		t.Fatalf("other service, SASL required: %+v", h)
	}
	expectClosed(t, c, "failed GSSAPI")

	c, h, _ = authenticate(t, r.server(t, map[string]string{"zookeeper.allowSaslFailedClients": "true"}), carol, "other")
	if h.Err != 0 {
		t.Fatalf("other service, failures allowed: %+v", h)
	}
	if got := whoami(t, c); len(got) != 0 {
		t.Errorf("ids after an allowed failure: %q", got)
	}
}

// TestKerberosLogin: the server's login at start. A keytab without the principal, or keys the KDC refuses, stop
// the start. A principal without '/' starts a server without a SASL server: every SASL request is answered OK with
// no token and gives no id. A login without storeKey=true has no keys: the first token fails (AuthFailed).
func TestKerberosLogin(t *testing.T) {
	r := startRealm(t)
	start := func(jaas string) error {
		zc := &zoocfg.Config{Props: map[string]string{"java.security.auth.login.config": jaas,
			"java.security.krb5.conf": r.kdc.Krb5Conf}}
		cfg := ConfigFromZooCfg(zc, slog.New(slog.NewTextHandler(io.Discard, nil)))
		return AuthFromZooCfg(zc, &cfg)
	}
	for _, p := range []string{"zookeeper/otherhost@EXAMPLE.COM", "zookeeper/localhost@NOPE.ORG"} {
		if err := start(r.writeJAAS(t, p, "true")); err == nil || !strings.Contains(err.Error(), "authenticate itself") {
			t.Errorf("%s: %v", p, err)
		}
	}
	// isInitiator=false: no KDC login at start, as the JDK's module (a KDC that is not there, a principal the
	// keytab lacks); clients are still accepted with the keytab's keys.
	conf, err := os.ReadFile(r.kdc.Krb5Conf)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	deadKDC := filepath.Join(t.TempDir(), "krb5.conf")
	if err := os.WriteFile(deadKDC, []byte(strings.ReplaceAll(string(conf), r.kdc.Addr, dead)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"zookeeper/localhost@EXAMPLE.COM", "zookeeper/otherhost@EXAMPLE.COM"} {
		zc := &zoocfg.Config{Props: map[string]string{"java.security.auth.login.config": r.writeJAAS(t, p, "true isInitiator=false"),
			"java.security.krb5.conf": deadKDC}}
		cfg := ConfigFromZooCfg(zc, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := AuthFromZooCfg(zc, &cfg); err != nil {
			t.Errorf("%s, isInitiator=false, no KDC: %v", p, err)
		}
	}
	r2 := *r
	r2.jaas = r2.writeJAAS(t, "zookeeper/localhost@EXAMPLE.COM", "true isInitiator=false")
	if _, h, _ := authenticate(t, r2.server(t, nil), r.user(t, "alice"), "zookeeper"); h.Err != 0 {
		t.Fatalf("isInitiator=false: %+v", h)
	}

	// Keys the KDC has since changed.
	r2 = *r
	r2.keytab = r.kdc.AddService(t, "stale/localhost")
	cmd := exec.Command("kadmin.local", "-q", "cpw -randkey stale/localhost")
	cmd.Env = r.kdc.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kadmin.local: %v\n%s", err, out)
	}
	if err := start(r2.writeJAAS(t, "stale/localhost@EXAMPLE.COM", "true")); err == nil ||
		!strings.Contains(err.Error(), "authenticate itself") {
		t.Errorf("stale keys: %v", err)
	}

	carol := r.user(t, "carol")
	r2 = *r
	r2.keytab = r.kdc.AddService(t, "zookeeper@EXAMPLE.COM")
	r2.jaas = r2.writeJAAS(t, "zookeeper@EXAMPLE.COM", "true")
	c := dialRaw(t, r2.server(t, nil))
	openSession(t, c)
	_, tok, err := kerberos.StartSASL(context.Background(), nil, carol, "zookeeper", "localhost", "")
	if err != nil {
		t.Fatal(err)
	}
	send(t, c, requestBytes(1, jute.OpSASL, &jute.GetSASLRequest{Token: tok}))
	var rsp jute.SetSASLResponse
	if h := reply(t, c, &rsp); h.Err != 0 || rsp.Token != nil {
		t.Errorf("principal without '/': %+v %q", h, rsp.Token)
	}
	if got := whoami(t, c); len(got) != 0 {
		t.Errorf("principal without '/': ids %q", got)
	}

	r2 = *r
	r2.jaas = r2.writeJAAS(t, "zookeeper/localhost@EXAMPLE.COM", "false")
	c, h, _ := authenticate(t, r2.server(t, nil), carol, "zookeeper")
	if jute.Err(h.Err) != jute.ErrAuthFailed {
		t.Fatalf("storeKey=false: %+v", h)
	}
	expectClosed(t, c, "failed GSSAPI")
}

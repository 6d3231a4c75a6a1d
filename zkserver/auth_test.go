package zkserver

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/sasl"
)

func TestAuthFromZooCfg(t *testing.T) {
	dir := t.TempDir()
	jaas := filepath.Join(dir, "jaas.conf")
	if err := os.WriteFile(jaas, []byte(`Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="b"; };`), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(props map[string]string) (Config, error) {
		props["java.security.auth.login.config"] = jaas
		zc := &zoocfg.Config{Props: props, DigestAuthEnabled: true, AuthProviders: map[string]string{}}
		for k, v := range props {
			if n, ok := strings.CutPrefix(k, "zookeeper.authProvider."); ok {
				zc.AuthProviders[n] = v
			}
		}
		cfg := ConfigFromZooCfg(zc, slog.New(slog.NewTextHandler(io.Discard, nil)))
		return cfg, AuthFromZooCfg(zc, &cfg)
	}
	cfg, err := load(map[string]string{})
	if err != nil || cfg.SASL == nil || cfg.SASL.Users["bob"] != "b" || cfg.SASL.Required || cfg.EnforceAuth != nil {
		t.Fatalf("plain: %+v %v", cfg.SASL, err)
	}
	if _, err := load(map[string]string{"zookeeper.sessionRequireClientSASLAuth": "true"}); err == nil ||
		err.Error() != "Authentication scheme sasl is not available." {
		t.Errorf("sasl required without its provider: %v", err)
	}
	cfg, err = load(map[string]string{"zookeeper.sessionRequireClientSASLAuth": "true",
		"zookeeper.authProvider.1": sasl.ProviderClass})
	if err != nil || !reflect.DeepEqual(cfg.EnforceAuth, []string{"sasl"}) || !cfg.SASL.Required ||
		!reflect.DeepEqual(cfg.ACL.ExtraSchemes, []string{"sasl"}) {
		t.Fatalf("sasl required: %v %v", cfg.EnforceAuth, err)
	}
	cfg, err = load(map[string]string{"zookeeper.enforce.auth.enabled": "true", "zookeeper.enforce.auth.schemes": " digest , ip"})
	if err != nil || !reflect.DeepEqual(cfg.EnforceAuth, []string{"digest", "ip"}) || cfg.SASL.Required {
		t.Fatalf("digest, ip: %v %v", cfg.EnforceAuth, err)
	}
	if _, err := load(map[string]string{"zookeeper.enforce.auth.enabled": "true"}); err == nil {
		t.Error("enforcement without schemes started")
	}
	if _, err := load(map[string]string{"zookeeper.enforce.auth.enabled": "true", "zookeeper.enforce.auth.schemes": "x509"}); err == nil {
		t.Error("enforcement of an unregistered scheme started")
	}
}

// saslServer starts a server with the SASL user bob and auth enforcement as given.
func saslServer(t *testing.T, enforce []string, allowFailed bool) *Server {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sc := &sasl.Config{Users: map[string]string{"bob": "b"}, AllowFailed: allowFailed, Logger: quiet}
	s, err := Start(Config{
		ClientAddr: "127.0.0.1:0", TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 4000,
		DataDir: dir, DataLogDir: dir, SnapCount: 100000, PreAllocSize: 1 << 20,
		DigestEnabled: true, JuteMaxBuffer: 0xfffff,
		ACL:  acl.Config{DigestAuthEnabled: true, ExtraSchemes: []string{"sasl"}},
		SASL: sc, EnforceAuth: enforce, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reply reads one reply and decodes its header and, when given, its body.
func reply(t *testing.T, c net.Conn, body jute.Record) jute.ReplyHeader {
	t.Helper()
	d := jute.NewDecoder(readFrame(t, c))
	var h jute.ReplyHeader
	h.Decode(d)
	if body != nil && h.Err == 0 {
		body.Decode(d)
	}
	if d.Err() != nil {
		t.Fatalf("reply: %v", d.Err())
	}
	return h
}

func send(t *testing.T, c net.Conn, frames ...[]byte) {
	t.Helper()
	for _, f := range frames {
		if _, err := c.Write(f); err != nil {
			t.Fatal(err)
		}
	}
}

// exists asks for path on a new session, after the requests in before (each answered first).
func exists(t *testing.T, s *Server, path string, before ...[]byte) bool {
	t.Helper()
	c := dialRaw(t, s)
	openSession(t, c)
	send(t, c, append(before, requestBytes(1, jute.OpExists, &jute.ExistsRequest{Path: path}))...)
	for range before {
		reply(t, c, nil)
	}
	return reply(t, c, nil).Err == 0
}

// TestEnforceAuth: with digest required, a connection's first request without it is answered
// SessionClosedRequireAuth and the connection closes, nothing it sent after runs; after addauth digest it is served.
// SASL and auth packets are exempt.
func TestEnforceAuth(t *testing.T) {
	s := saslServer(t, []string{"digest"}, false)
	c := dialRaw(t, s)
	openSession(t, c)
	send(t, c, requestBytes(1, jute.OpSASL, &jute.GetSASLRequest{}),
		requestBytes(2, jute.OpExists, &jute.ExistsRequest{Path: "/"}),
		requestBytes(3, jute.OpCreate, &jute.CreateRequest{Path: "/after", ACL: jute.OpenACLUnsafe}))
	var ch jute.SetSASLResponse
	if h := reply(t, c, &ch); h.Err != 0 || !strings.Contains(string(ch.Token), "nonce=") {
		t.Fatalf("SASL challenge: %+v %q", h, ch.Token)
	}
	if h := reply(t, c, nil); h.Xid != 2 || jute.Err(h.Err) != jute.ErrSessionClosedRequireAuth {
		t.Fatalf("unauthenticated exists: %+v", h)
	}
	expectClosed(t, c, "unauthenticated connection")

	c = dialRaw(t, s)
	openSession(t, c)
	send(t, c, requestBytes(-4, jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("bob:b")}),
		requestBytes(1, jute.OpCreate, &jute.CreateRequest{Path: "/ok", ACL: jute.OpenACLUnsafe}))
	if h := reply(t, c, nil); h.Err != 0 {
		t.Fatalf("addauth: %+v", h)
	}
	if h := reply(t, c, nil); h.Err != 0 {
		t.Fatalf("authenticated create: %+v", h)
	}
	auth := requestBytes(-4, jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("x:y")})
	if !exists(t, s, "/ok", auth) || exists(t, s, "/after", auth) {
		t.Error("/ok should exist and /after not")
	}
}

// TestSASLFailure: a token that is not a valid digest-response gets AuthFailed (with a null token) and a closed
// connection, and what the client sent after it is not run; with zookeeper.allowSaslFailedClients it is answered
// OK with no token and the connection is served on, without ids.
func TestSASLFailure(t *testing.T) {
	s := saslServer(t, nil, false)
	c := dialRaw(t, s)
	openSession(t, c)
	send(t, c, requestBytes(1, jute.OpSASL, &jute.GetSASLRequest{}),
		requestBytes(2, jute.OpSASL, &jute.GetSASLRequest{Token: []byte(`username="bob",response=0`)}),
		requestBytes(3, jute.OpCreate, &jute.CreateRequest{Path: "/after", ACL: jute.OpenACLUnsafe}))
	reply(t, c, nil)
	var rsp jute.SetSASLResponse
	if h := reply(t, c, nil); h.Xid != 2 || jute.Err(h.Err) != jute.ErrAuthFailed {
		t.Fatalf("bad digest-response: %+v", h)
	}
	expectClosed(t, c, "failed SASL")
	if exists(t, s, "/after") {
		t.Error("a request after the failed SASL ran")
	}

	s = saslServer(t, nil, true)
	c = dialRaw(t, s)
	openSession(t, c)
	send(t, c, requestBytes(1, jute.OpSASL, &jute.GetSASLRequest{}),
		requestBytes(2, jute.OpSASL, &jute.GetSASLRequest{Token: []byte(`username="bob",response=0`)}),
		requestBytes(3, jute.OpWhoAmI, nil))
	reply(t, c, nil)
	if h := reply(t, c, &rsp); h.Err != 0 || rsp.Token != nil {
		t.Fatalf("allowed failure: %+v %q", h, rsp.Token)
	}
	var who jute.WhoAmIResponse
	if h := reply(t, c, &who); h.Err != 0 || len(who.ClientInfo) != 1 || who.ClientInfo[0].AuthScheme != "ip" {
		t.Fatalf("whoami after an allowed failure: %+v %+v", h, who)
	}
}

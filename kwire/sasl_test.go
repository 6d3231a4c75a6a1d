package kwire

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

// testPlain accepts user/pass pairs "\x00user\x00pass"; anything else fails with Kafka's message.
type testPlain struct {
	users map[string]string
	user  string
}

func (p *testPlain) Evaluate(tok []byte) ([]byte, bool, error) {
	parts := strings.Split(string(tok), "\x00")
	if len(parts) != 3 || p.users[parts[1]] != parts[2] {
		return nil, false, &AuthenticationError{Message: "Authentication failed: Invalid username or password"}
	}
	p.user = parts[1]
	return []byte{}, true, nil
}

func (p *testPlain) AuthorizationID() string { return p.user }

func saslConfig(reauth time.Duration) *SASLConfig {
	return &SASLConfig{
		Mechanisms: []string{"PLAIN", "GSSAPI"},
		NewServer: func(m string) SASLServer {
			if m != "PLAIN" {
				return nil
			}
			return &testPlain{users: map[string]string{"alice": "pw", "bob": "pw"}}
		},
		MaxReauth: map[string]time.Duration{"PLAIN": reauth},
	}
}

// principalMux answers Metadata with the connection's principal as the cluster id.
func principalMux() *Mux {
	mux := NewMux()
	mux.Handle(3, 0, 11, func(_ context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		resp.ClusterID = kmsg.StringPtr(rc.Conn.Principal().String())
		return resp, nil
	})
	return mux
}

func handshake(v int16, mech string) *kmsg.SASLHandshakeRequest {
	r := kmsg.NewPtrSASLHandshakeRequest()
	r.Version, r.Mechanism = v, mech
	return r
}

func authenticate(v int16, tok string) *kmsg.SASLAuthenticateRequest {
	r := kmsg.NewPtrSASLAuthenticateRequest()
	r.Version, r.SASLAuthBytes = v, []byte(tok)
	return r
}

func (c *rawClient) principal(corr int32) string {
	c.t.Helper()
	c.write(c.frame(metadataReq(9), corr))
	got, r := c.read(metadataReq(9), 9)
	if got != corr {
		c.t.Fatalf("corr %d, want %d", got, corr)
	}
	return *r.(*kmsg.MetadataResponse).ClusterID
}

func TestSASLHandshakeV1Authenticate(t *testing.T) {
	s, _ := startServer(t, Config{ListenerName: "SASL_PLAINTEXT", SASL: saslConfig(0)}, principalMux())
	c := dialRaw(t, s)
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "raw", "1"
	c.write(c.frame(av, 1))
	if _, r := c.read(av, 3); r.(*kmsg.ApiVersionsResponse).ErrorCode != 0 {
		t.Fatal("ApiVersions before authentication failed")
	}
	c.write(c.frame(handshake(1, "PLAIN"), 2))
	_, r := c.read(handshake(1, ""), 1)
	hs := r.(*kmsg.SASLHandshakeResponse)
	if hs.ErrorCode != 0 || strings.Join(hs.SupportedMechanisms, ",") != "PLAIN,GSSAPI" {
		t.Fatalf("handshake %+v", hs)
	}
	c.write(c.frame(authenticate(2, "\x00alice\x00pw"), 3))
	corr, r := c.read(authenticate(2, ""), 2)
	ar := r.(*kmsg.SASLAuthenticateResponse)
	if corr != 3 || ar.ErrorCode != 0 || ar.SessionLifetimeMillis != 0 || ar.ErrorMessage != nil {
		t.Fatalf("authenticate %+v", ar)
	}
	if p := c.principal(4); p != "User:alice" {
		t.Fatalf("principal %q", p)
	}
	// After authentication both SASL requests get ILLEGAL_SASL_STATE (re-authentication is off).
	c.write(c.frame(handshake(1, "PLAIN"), 5))
	if _, r := c.read(handshake(1, ""), 1); r.(*kmsg.SASLHandshakeResponse).ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("second handshake %+v", r)
	}
	c.write(c.frame(authenticate(1, "x"), 6))
	_, r = c.read(authenticate(1, ""), 1)
	if ar := r.(*kmsg.SASLAuthenticateResponse); ar.ErrorCode != kerr.IllegalSaslState.Code ||
		*ar.ErrorMessage != "SaslAuthenticate request received after successful authentication" {
		t.Fatalf("second authenticate %+v", ar)
	}
}

func TestSASLHandshakeV0RawTokens(t *testing.T) {
	s, _ := startServer(t, Config{ListenerName: "SASL_PLAINTEXT", SASL: saslConfig(0)}, principalMux())
	c := dialRaw(t, s)
	c.write(c.frame(handshake(0, "PLAIN"), 1))
	if _, r := c.read(handshake(0, ""), 0); r.(*kmsg.SASLHandshakeResponse).ErrorCode != 0 {
		t.Fatalf("handshake %+v", r)
	}
	tok := "\x00bob\x00pw"
	c.write(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), []byte(tok))
	b, err := c.readFrame()
	if err != nil || len(b) != 0 {
		t.Fatalf("raw token response %q %v", b, err)
	}
	if p := c.principal(2); p != "User:bob" {
		t.Fatalf("principal %q", p)
	}

	// A bad password with raw tokens: no answer, the connection closes.
	c = dialRaw(t, s)
	c.write(c.frame(handshake(0, "PLAIN"), 1))
	c.read(handshake(0, ""), 0)
	tok = "\x00bob\x00nope"
	c.write(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), []byte(tok))
	c.expectClosed()
}

func TestSASLFailures(t *testing.T) {
	cfg := saslConfig(0)
	cfg.MaxReceiveSize = 1000
	s, logs := startServer(t, Config{ListenerName: "SASL_PLAINTEXT", SASL: cfg}, principalMux())

	// A bad password gets SASL_AUTHENTICATION_FAILED with Kafka's message, then the connection closes.
	c := dialRaw(t, s)
	c.write(c.frame(handshake(1, "PLAIN"), 1))
	c.read(handshake(1, ""), 1)
	c.write(c.frame(authenticate(1, "\x00alice\x00wrong"), 2))
	_, r := c.read(authenticate(1, ""), 1)
	if ar := r.(*kmsg.SASLAuthenticateResponse); ar.ErrorCode != kerr.SaslAuthenticationFailed.Code ||
		*ar.ErrorMessage != "Authentication failed: Invalid username or password" {
		t.Fatalf("authenticate %+v", ar)
	}
	c.expectClosed()

	// An enabled but unimplemented mechanism and a disabled one: UNSUPPORTED_SASL_MECHANISM with the list.
	for _, mech := range []string{"GSSAPI", "SCRAM-SHA-256"} {
		c = dialRaw(t, s)
		c.write(c.frame(handshake(1, mech), 1))
		_, r = c.read(handshake(1, ""), 1)
		if hs := r.(*kmsg.SASLHandshakeResponse); hs.ErrorCode != kerr.UnsupportedSaslMechanism.Code ||
			strings.Join(hs.SupportedMechanisms, ",") != "PLAIN,GSSAPI" {
			t.Fatalf("%s: %+v", mech, hs)
		}
		c.expectClosed()
	}

	// Any other request before authentication closes the connection without an answer.
	c = dialRaw(t, s)
	c.write(c.frame(metadataReq(9), 1))
	c.expectClosed()

	// So does one between the handshake and the token, and a second ApiVersions.
	c = dialRaw(t, s)
	c.write(c.frame(handshake(1, "PLAIN"), 1))
	c.read(handshake(1, ""), 1)
	c.write(c.frame(metadataReq(9), 2))
	c.expectClosed()
	c = dialRaw(t, s)
	av := kmsg.NewPtrApiVersionsRequest()
	c.write(c.frame(av, 1), c.frame(av, 2))
	c.read(av, 0)
	c.expectClosed()

	// Frames before authentication are limited to sasl.server.max.receive.size.
	c = dialRaw(t, s)
	c.write(c.frame(handshake(1, strings.Repeat("X", 2000)), 1))
	c.expectClosed()

	waitFor(t, func() bool {
		l := logs.String()
		return strings.Contains(l, "Failed authentication with") &&
			strings.Contains(l, "Unexpected Kafka request of type METADATA during SASL handshake.")
	})
}

func TestSASLReauthentication(t *testing.T) {
	s, _ := startServer(t, Config{ListenerName: "SASL_PLAINTEXT", SASL: saslConfig(time.Hour)}, principalMux())
	c := dialRaw(t, s)
	login := func(user string, corr int32) *kmsg.SASLAuthenticateResponse {
		c.write(c.frame(handshake(1, "PLAIN"), corr))
		if _, r := c.read(handshake(1, ""), 1); r.(*kmsg.SASLHandshakeResponse).ErrorCode != 0 {
			t.Fatalf("handshake %+v", r)
		}
		c.write(c.frame(authenticate(1, "\x00"+user+"\x00pw"), corr+1))
		_, r := c.read(authenticate(1, ""), 1)
		return r.(*kmsg.SASLAuthenticateResponse)
	}
	if ar := login("alice", 1); ar.ErrorCode != 0 || ar.SessionLifetimeMillis != time.Hour.Milliseconds() {
		t.Fatalf("login %+v", ar)
	}
	// Re-authentication (KIP-368): the same principal again.
	if ar := login("alice", 3); ar.ErrorCode != 0 || ar.SessionLifetimeMillis != time.Hour.Milliseconds() {
		t.Fatalf("re-authentication %+v", ar)
	}
	if p := c.principal(5); p != "User:alice" {
		t.Fatalf("principal %q", p)
	}
	// Another one within a second of the last is an ordinary, refused, handshake.
	c.write(c.frame(handshake(1, "PLAIN"), 6))
	if _, r := c.read(handshake(1, ""), 1); r.(*kmsg.SASLHandshakeResponse).ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("early re-authentication %+v", r)
	}

	// The principal must not change.
	c = dialRaw(t, s)
	login("alice", 1)
	ar := login("bob", 3)
	if ar.ErrorCode != kerr.SaslAuthenticationFailed.Code ||
		*ar.ErrorMessage != "Cannot change principals during re-authentication from User.alice: User.bob" {
		t.Fatalf("principal change %+v", ar)
	}
	c.expectClosed()
}

func TestSASLKgoClient(t *testing.T) {
	s, _ := startServer(t, Config{ListenerName: "SASL_PLAINTEXT", SASL: saslConfig(0)}, principalMux())
	dial := func(user, pass string) (*kmsg.MetadataResponse, error) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr().String()),
			kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()), kgo.RequestRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	}
	resp, err := dial("alice", "pw")
	if err != nil || *resp.ClusterID != "User:alice" {
		t.Fatalf("metadata %v %v", resp, err)
	}
	if _, err := dial("alice", "bad"); err == nil || !strings.Contains(err.Error(), "Invalid username or password") {
		t.Fatalf("bad password: %v", err)
	}
}

func TestPlaintextListenerSASLRequests(t *testing.T) {
	s, _ := startServer(t, Config{}, principalMux())
	c := dialRaw(t, s)
	c.write(c.frame(handshake(1, "PLAIN"), 1))
	if _, r := c.read(handshake(1, ""), 1); r.(*kmsg.SASLHandshakeResponse).ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("handshake %+v", r)
	}
	if p := c.principal(2); p != "User:ANONYMOUS" {
		t.Fatalf("principal %q", p)
	}
}

func TestApiName(t *testing.T) {
	for key, want := range map[int16]string{3: "METADATA", 17: "SASL_HANDSHAKE", 18: "API_VERSIONS", 4: "LEADER_AND_ISR", 23: "OFFSET_FOR_LEADER_EPOCH"} {
		if got := apiName(key); got != want {
			t.Errorf("%d: %s, want %s", key, got, want)
		}
	}
}

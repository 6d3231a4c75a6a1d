package sasl

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kwire"
)

func TestPlainAuthenticate(t *testing.T) {
	p := NewPlain(map[string]string{"alice": "alice-secret", "admin": "pw"})
	cases := []struct {
		msg, user, err string
	}{
		{"\x00alice\x00alice-secret", "alice", ""},
		{"alice\x00alice\x00alice-secret", "alice", ""},
		{"\x00alice\x00wrong", "", "Authentication failed: Invalid username or password"},
		{"\x00bob\x00alice-secret", "", "Authentication failed: Invalid username or password"},
		{"admin\x00alice\x00alice-secret", "", "Authentication failed: Client requested an authorization id that is different from username"},
		{"\x00\x00pw", "", "Authentication failed: username not specified"},
		{"\x00alice\x00", "", "Authentication failed: password not specified"},
		{"alice\x00pw", "", "Invalid SASL/PLAIN response: expected 3 tokens, got 2"},
		{"a\x00b\x00c\x00d\x00e", "", "Invalid SASL/PLAIN response: expected 3 tokens, got 4"},
		{"", "", "Invalid SASL/PLAIN response: expected 3 tokens, got 1"},
	}
	for _, c := range cases {
		user, err := p.Authenticate([]byte(c.msg))
		if c.err == "" {
			if err != nil || user != c.user {
				t.Errorf("%q: user %q err %v", c.msg, user, err)
			}
			continue
		}
		var ae *kwire.AuthenticationError
		if !errors.As(err, &ae) || ae.Message != c.err {
			t.Errorf("%q: err %v, want %q", c.msg, err, c.err)
		}
	}
	srv := p.NewServer()
	tok, done, err := srv.Evaluate([]byte("\x00admin\x00pw"))
	if err != nil || !done || len(tok) != 0 || srv.AuthorizationID() != "admin" {
		t.Fatalf("evaluate: %q %v %v %q", tok, done, err, srv.AuthorizationID())
	}
}

const serverJaas = `
// Kafka's documented broker JAAS file
KafkaServer {
   org.apache.kafka.common.security.plain.PlainLoginModule required
   username="admin"
   password="admin-secret"
   user_admin="admin-secret"
   user_alice="${alice.pw}";
};

sasl_plaintext.KafkaServer {
   org.apache.kafka.common.security.plain.PlainLoginModule required
   user_carol="carol-secret";
};

Client {
   org.apache.zookeeper.server.auth.DigestLoginModule required
   username="kafka" password="x";
};
`

func TestJavaHashSetOrder(t *testing.T) {
	// Orders printed by a JVM: new ArrayList<>(new HashSet<>(Arrays.asList(...))).
	for _, c := range [][2][]string{
		{{"GSSAPI", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"}, {"PLAIN", "SCRAM-SHA-512", "GSSAPI", "SCRAM-SHA-256", "OAUTHBEARER"}},
		{{"PLAIN", "GSSAPI"}, {"PLAIN", "GSSAPI"}},
		{{"SCRAM-SHA-256", "PLAIN", "PLAIN"}, {"PLAIN", "SCRAM-SHA-256"}},
	} {
		if got := JavaHashSetOrder(c[0]); !reflect.DeepEqual(got, c[1]) {
			t.Errorf("%v: %v, want %v", c[0], got, c[1])
		}
	}
}

var quiet = slog.New(slog.DiscardHandler)

func props(t *testing.T, extra ...string) *serverprops.Config {
	t.Helper()
	m := map[string]string{
		"zookeeper.connect":                    "127.0.0.1:2181",
		"log.dirs":                             t.TempDir(),
		"listeners":                            "PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9093",
		"sasl.enabled.mechanisms":              "PLAIN,NTLM",
		"connections.max.reauth.ms":            "60000",
		"sasl.mechanism.inter.broker.protocol": "PLAIN",
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	cfg, err := serverprops.FromMap(m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func evaluate(sc *kwire.SASLConfig, mech, msg string) (string, error) {
	srv := sc.NewServer(mech)
	if srv == nil {
		return "", errors.New("no server")
	}
	if _, _, err := srv.Evaluate([]byte(msg)); err != nil {
		return "", err
	}
	return srv.AuthorizationID(), nil
}

func TestForListener(t *testing.T) {
	// From the listener- and mechanism-prefixed property.
	cfg := props(t, `listener.name.sasl_plaintext.plain.sasl.jaas.config=`+PlainLoginModule+` required user_alice="pw";`,
		"listener.name.sasl_plaintext.plain.connections.max.reauth.ms=5000")
	sc, err := ForListener(cfg, "SASL_PLAINTEXT", ListenerOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sc.Mechanisms, []string{"PLAIN", "NTLM"}) || sc.MaxReauth["PLAIN"].Milliseconds() != 5000 ||
		sc.MaxReauth["NTLM"].Milliseconds() != 60000 || sc.FailedAuthenticationDelay.Milliseconds() != 100 || sc.MaxReceiveSize != 524288 {
		t.Fatalf("config %+v", sc)
	}
	if u, err := evaluate(sc, "PLAIN", "\x00alice\x00pw"); err != nil || u != "alice" {
		t.Fatalf("alice: %q %v", u, err)
	}
	if sc.NewServer("NTLM") != nil {
		t.Error("NTLM is not implemented")
	}

	// From the JAAS file: the listener's own section wins over KafkaServer.
	dir := t.TempDir()
	path := filepath.Join(dir, "kafka_server_jaas.conf")
	if err := os.WriteFile(path, []byte(serverJaas), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = props(t)
	opts := ListenerOptions{JaasFile: path, SystemProps: map[string]string{"alice.pw": "a"}, Logger: quiet}
	if sc, err = ForListener(cfg, "SASL_PLAINTEXT", opts); err != nil {
		t.Fatal(err)
	}
	if _, err := evaluate(sc, "PLAIN", "\x00alice\x00a"); err == nil {
		t.Error("alice is not in sasl_plaintext.KafkaServer")
	}
	if u, err := evaluate(sc, "PLAIN", "\x00carol\x00carol-secret"); err != nil || u != "carol" {
		t.Errorf("carol: %q %v", u, err)
	}
	// Another listener name falls back to KafkaServer.
	cfg = props(t, "listeners=PLAINTEXT://127.0.0.1:9092,SECURE://127.0.0.1:9093",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SECURE:SASL_PLAINTEXT")
	if sc, err = ForListener(cfg, "SECURE", opts); err != nil {
		t.Fatal(err)
	}
	if u, err := evaluate(sc, "PLAIN", "\x00alice\x00a"); err != nil || u != "alice" {
		t.Errorf("alice: %q %v", u, err)
	}

	// No JAAS configuration at all.
	_, err = ForListener(props(t), "SASL_PLAINTEXT", ListenerOptions{Logger: quiet})
	want := "listener SASL_PLAINTEXT, mechanism PLAIN: Could not find a 'KafkaServer' or 'sasl_plaintext.KafkaServer' " +
		"entry in the JAAS configuration. System property 'java.security.auth.login.config' is not set"
	if err == nil || err.Error() != want {
		t.Errorf("got %v", err)
	}
	// A broker-wide sasl.jaas.config is not read by brokers.
	_, err = ForListener(props(t, `sasl.jaas.config=`+PlainLoginModule+` required user_a="b";`), "SASL_PLAINTEXT", ListenerOptions{Logger: quiet})
	if err == nil {
		t.Error("unprefixed sasl.jaas.config accepted")
	}
	_, err = ForListener(props(t, `listener.name.sasl_plaintext.plain.sasl.jaas.config=a.B required; c.D required;`), "SASL_PLAINTEXT", ListenerOptions{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "JAAS config property contains 2 login modules, should be 1 module") {
		t.Errorf("two modules: %v", err)
	}
}

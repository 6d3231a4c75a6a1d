package broker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/zkafka/zkafka/compat/serverprops"
)

const plainJaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" ` +
	`password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";`

// startSASL starts a broker with a PLAINTEXT listener (inter-broker) and a SASL_PLAINTEXT one beside it.
func startSASL(c *cluster, extra ...string) string {
	c.t.Helper()
	b := c.start(append([]string{
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SASL_PLAINTEXT://127.0.0.1:0", c.port),
		"sasl.enabled.mechanisms=PLAIN",
		"connection.failed.authentication.delay.ms=0",
	}, extra...)...)
	return b.Addr("SASL_PLAINTEXT").String()
}

func saslClient(t *testing.T, addr string, m sasl.Mechanism, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.SASL(m), kgo.DisableIdempotentWrite(),
		kgo.RequestRetries(1), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestSASLPlainListener(t *testing.T) {
	c := newCluster(t)
	addr := startSASL(c, "listener.name.sasl_plaintext.plain.sasl.jaas.config="+plainJaas)

	// Good password: produce and consume through the SASL listener; Metadata names the SASL endpoint.
	cl := saslClient(t, addr, plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"sasl-topic": {0: kgo.NewOffset().AtStart()}}),
		kgo.AllowAutoTopicCreation())
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 1 || fmt.Sprintf("%s:%d", meta.Brokers[0].Host, meta.Brokers[0].Port) != addr {
		t.Fatalf("brokers %+v, want the SASL endpoint %s", meta.Brokers, addr)
	}
	produceN(t, cl, "sasl-topic", 0, 0, 3)
	ctx := ctxT(t)
	var got []*kgo.Record
	for len(got) < 3 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 3", len(got))
		}
		got = append(got, fs.Records()...)
	}

	// Bad password and unknown user: SASL_AUTHENTICATION_FAILED with Kafka's message.
	for _, auth := range []plain.Auth{{User: "alice", Pass: "nope"}, {User: "mallory", Pass: "alice-secret"}} {
		bad := saslClient(t, addr, auth.AsMechanism())
		_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), bad)
		if !errors.Is(err, kerr.SaslAuthenticationFailed) || !strings.Contains(err.Error(), "Authentication failed: Invalid username or password") {
			t.Fatalf("%s: %v", auth.User, err)
		}
	}

	// A mechanism that is not enabled: UNSUPPORTED_SASL_MECHANISM.
	scr := saslClient(t, addr, scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism())
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), scr); !errors.Is(err, kerr.UnsupportedSaslMechanism) {
		t.Fatalf("scram: %v", err)
	}

	// The PLAINTEXT listener beside it needs no authentication.
	pt := c.client()
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), pt); err != nil {
		t.Fatal(err)
	}
	// And a client without SASL on the SASL listener is cut off.
	nosasl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer nosasl.Close()
	ctx2, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx2, nosasl); err == nil {
		t.Fatal("unauthenticated Metadata answered on the SASL listener")
	}
}

func TestSASLJaasFileAndReauth(t *testing.T) {
	dir := t.TempDir()
	jaas := filepath.Join(dir, "kafka_server_jaas.conf")
	if err := os.WriteFile(jaas, []byte("KafkaServer {\n  "+plainJaas+"\n};\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KAFKA_OPTS", "-Xmx1G -D"+serverprops.JavaLoginConfig+"="+jaas)
	c := newCluster(t)
	addr := startSASL(c, "connections.max.reauth.ms=2500")
	cl := saslClient(t, addr, plain.Auth{User: "admin", Pass: "admin-secret"}.AsMechanism())
	// franz-go re-authenticates a second before the 2.5 s session ends (Kafka refuses re-authentications less
	// than a second apart); requests keep working across two of them.
	deadline := time.Now().Add(3500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), cl); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// An SSL listener without a key store fails start-up, as Kafka's does, before anything is started.
func TestSSLListenerWithoutKeyStore(t *testing.T) {
	c := newCluster(t)
	cfg := c.config(fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:0", c.port))
	b := New(cfg, nil)
	err := b.Start(context.Background())
	if err == nil {
		b.Close()
		t.Fatal("SSL listener without a key store started")
	}
	if !strings.Contains(err.Error(), "listener SSL://127.0.0.1:0: no key store") {
		t.Fatalf("error %v", err)
	}
}

func TestSASLMissingJaas(t *testing.T) {
	t.Setenv("KAFKA_OPTS", "")
	c := newCluster(t)
	cfg := c.config(fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SASL_PLAINTEXT://127.0.0.1:0", c.port),
		"sasl.enabled.mechanisms=PLAIN")
	b := New(cfg, nil)
	err := b.Start(context.Background())
	if err == nil {
		b.Close()
		t.Fatal("started without a JAAS configuration")
	}
	if !strings.Contains(err.Error(), "Could not find a 'KafkaServer' or 'sasl_plaintext.KafkaServer' entry in the JAAS configuration") {
		t.Fatalf("error %v", err)
	}
}

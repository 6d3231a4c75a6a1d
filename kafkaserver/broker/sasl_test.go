package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/zkafka/zkafka/compat/serverprops"
	kafkasasl "github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
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
	pollN(t, cl, 3)

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

// setScramCredential writes a user's SCRAM credential and its change notification as kafka-configs.sh --zookeeper
// --alter --add-config 'SCRAM-SHA-256=[password=...]' --entity-type users does (AdminZkClient).
func setScramCredential(t *testing.T, zc *zkmeta.Client, user, mech, password string, iterations int) {
	t.Helper()
	cred, err := kafkasasl.NewScramCredential(mech, password, []byte("salt-of-"+user), iterations)
	if err != nil {
		t.Fatal(err)
	}
	config, err := zc.GetEntityConfigs(zkmeta.ConfigTypeUser, user)
	if err != nil {
		t.Fatal(err)
	}
	config[mech] = cred.String()
	if err := zc.SetOrCreateEntityConfigs(zkmeta.ConfigTypeUser, user, config); err != nil {
		t.Fatal(err)
	}
	if _, err := zc.CreateConfigChangeNotification(zkmeta.ConfigTypeUser + "/" + user); err != nil {
		t.Fatal(err)
	}
}

// TestSASLScramListener: SCRAM-SHA-256 and SCRAM-SHA-512 logins against credentials in /config/users, those
// present at start-up and those added or removed later through config change notifications; the inter-broker
// client logs in with SCRAM too.
func TestSASLScramListener(t *testing.T) {
	c := newCluster(t)
	zc, err := zkmeta.Connect(c.zk+"/kafka", 6*time.Second, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	if err := zc.CreateTopLevelPaths(); err != nil {
		t.Fatal(err)
	}
	setScramCredential(t, zc, "admin", kafkasasl.MechanismScramSHA512, "admin-secret", 4096)
	setScramCredential(t, zc, "alice", kafkasasl.MechanismScramSHA256, "alice-secret", 8192)
	const scramJaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-secret";`
	b := c.start(fmt.Sprintf("listeners=SASL_PLAINTEXT://127.0.0.1:%d", c.port),
		"security.inter.broker.protocol=SASL_PLAINTEXT", "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
		"sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
		"listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config="+scramJaas,
		"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config="+scramJaas,
		"connection.failed.authentication.delay.ms=0")
	addr := b.Addr("SASL_PLAINTEXT").String()

	alice := saslClient(t, addr, scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"scram-topic": {0: kgo.NewOffset().AtStart()}}),
		kgo.AllowAutoTopicCreation())
	produceN(t, alice, "scram-topic", 0, 0, 3)
	ctx := ctxT(t)
	for n := 0; n < 3; {
		fs := alice.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 3", n)
		}
		n += len(fs.Records())
	}
	// The controller's own requests went through the SCRAM inter-broker login.
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t),
		saslClient(t, addr, scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha512Mechanism())); err != nil {
		t.Fatal(err)
	}

	refused := func(what string, m sasl.Mechanism) {
		t.Helper()
		_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), saslClient(t, addr, m))
		if !errors.Is(err, kerr.SaslAuthenticationFailed) || !strings.Contains(err.Error(),
			"Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-") {
			t.Fatalf("%s: %v", what, err)
		}
	}
	refused("wrong password", scram.Auth{User: "alice", Pass: "nope"}.AsSha256Mechanism())
	refused("other mechanism", scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism())
	refused("unknown user", scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha256Mechanism())

	// A user added while the broker runs can log in once the notification is processed; a removed one cannot.
	setScramCredential(t, zc, "bob", kafkasasl.MechanismScramSHA256, "bob-secret", 4096)
	c.waitFor("bob's credential", func() bool {
		_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t),
			saslClient(t, addr, scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha256Mechanism()))
		return err == nil
	})
	if err := zc.SetOrCreateEntityConfigs(zkmeta.ConfigTypeUser, "bob", map[string]string{}); err != nil {
		t.Fatal(err)
	}
	if _, err := zc.CreateConfigChangeNotification(zkmeta.ConfigTypeUser + "/bob"); err != nil {
		t.Fatal(err)
	}
	c.waitFor("bob's credential removed", func() bool {
		_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t),
			saslClient(t, addr, scram.Auth{User: "bob", Pass: "bob-secret"}.AsSha256Mechanism()))
		return errors.Is(err, kerr.SaslAuthenticationFailed)
	})
}

// TestScramCredentialAPIs: AlterUserScramCredentials and DescribeUserScramCredentials (KIP-554) through kadm, as
// ZkAdminManager serves them: a user created by the API logs in over SCRAM, describe lists mechanisms and
// iterations, refusals carry Kafka's codes and messages, and a deleted credential stops working.
func TestScramCredentialAPIs(t *testing.T) {
	c := newCluster(t)
	b := c.start(fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SASL_PLAINTEXT://127.0.0.1:0", c.port),
		"sasl.enabled.mechanisms=SCRAM-SHA-256",
		"listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
		"connection.failed.authentication.delay.ms=0")
	addr := b.Addr("SASL_PLAINTEXT").String()
	adm := kadm.NewClient(c.client())
	ctx := ctxT(t)

	altered, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "carol", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "carol-secret"},
		{User: "carol", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "carol-512"},
	})
	if err != nil || altered["carol"].Err != nil {
		t.Fatalf("alter carol: %+v %v", altered, err)
	}
	// Requests kadm would refuse itself, sent raw.
	req := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	for _, u := range []struct {
		user       string
		mech       int8
		iterations int32
	}{{"weak", 1, 1000}, {"strong", 2, 20000}, {"twice", 1, 4096}, {"twice", 1, 4096}, {"odd", 3, 4096}, {"", 1, 4096}} {
		up := kmsg.NewAlterUserSCRAMCredentialsRequestUpsertion()
		up.Name, up.Mechanism, up.Iterations, up.Salt, up.SaltedPassword = u.user, u.mech, u.iterations, []byte("s"), make([]byte, 32)
		req.Upsertions = append(req.Upsertions, up)
	}
	resp, err := req.RequestWith(ctx, c.client())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range resp.Results {
		got = append(got, fmt.Sprintf("%s %d %s", r.User, r.ErrorCode, *r.ErrorMessage))
	}
	want := []string{"weak 93 Too few iterations", "strong 93 Too many iterations", "odd 33 Unknown SCRAM mechanism",
		" 93 Username must not be empty", "twice 92 A user credential cannot be altered twice in the same request"}
	if !slices.Equal(got, want) {
		t.Fatalf("refusals:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c.waitFor("carol's login", func() bool {
		_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t),
			saslClient(t, addr, scram.Auth{User: "carol", Pass: "carol-secret"}.AsSha256Mechanism()))
		return err == nil
	})

	described, err := adm.DescribeUserSCRAMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(described) != 1 || len(described["carol"].CredInfos) != 2 ||
		described["carol"].CredInfos[0] != (kadm.CredInfo{Mechanism: kadm.ScramSha256, Iterations: 4096}) ||
		described["carol"].CredInfos[1] != (kadm.CredInfo{Mechanism: kadm.ScramSha512, Iterations: 8192}) {
		t.Fatalf("describe all: %+v", described)
	}
	described, err = adm.DescribeUserSCRAMs(ctx, "carol", "nobody")
	if err != nil {
		t.Fatal(err)
	}
	if d := described["nobody"]; !errors.Is(d.Err, kerr.ResourceNotFound) ||
		d.ErrMessage != "Attempt to describe a user credential that does not exist: nobody" {
		t.Fatalf("describe nobody: %+v", d)
	}

	altered, err = adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{
		{User: "carol", Mechanism: kadm.ScramSha256}, {User: "dave", Mechanism: kadm.ScramSha256},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := altered["carol"]; a.Err != nil {
		t.Fatalf("delete carol's SCRAM-SHA-256: %v", a.Err)
	}
	if a := altered["dave"]; !errors.Is(a.Err, kerr.ResourceNotFound) || a.ErrMessage != "Attempt to delete a user credential that does not exist" {
		t.Fatalf("delete dave's: %+v", a)
	}
	c.waitFor("carol's SCRAM-SHA-256 login refused", func() bool {
		_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t),
			saslClient(t, addr, scram.Auth{User: "carol", Pass: "carol-secret"}.AsSha256Mechanism()))
		return errors.Is(err, kerr.SaslAuthenticationFailed)
	})
	if described, err = adm.DescribeUserSCRAMs(ctx, "carol"); err != nil || len(described["carol"].CredInfos) != 1 {
		t.Fatalf("carol after the deletion: %+v %v", described, err)
	}
}

package broker

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// tlsClient is a client of addr over TLS that trusts ca and presents id's certificate when id is not nil.
func tlsClient(t *testing.T, addr string, ca *keystoretest.CA, id *keystoretest.Identity, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cfg := &tls.Config{RootCAs: x509.NewCertPool()}
	cfg.RootCAs.AddCert(ca.Cert)
	if id != nil {
		cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key}}
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.DialTLSConfig(cfg), kgo.DisableIdempotentWrite(),
		kgo.RequestRetries(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceConsume writes three records to topic through cl and reads them back.
func produceConsume(t *testing.T, cl *kgo.Client, topic string) {
	t.Helper()
	produceN(t, cl, topic, 0, 0, 3)
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}})
	ctx := ctxT(t)
	var got []*kgo.Record
	for len(got) < 3 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: consumed %d of 3", topic, len(got))
		}
		got = append(got, fs.Records()...)
	}
	if string(got[2].Value) != "value-2" {
		t.Fatalf("%s: read %q", topic, got[2].Value)
	}
}

// An SSL listener (PKCS12 key store, JKS trust store, client certificates required) and a SASL_SSL one (PLAIN over
// TLS, no client certificate) beside the PLAINTEXT inter-broker listener: clients produce and consume through
// both; a client without a certificate, one that does not trust the broker and a wrong password are refused.
func TestSSLListeners(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zkafka test CA")
	server := ca.Issue(pkix.Name{CommonName: "broker-0"}, "127.0.0.1", "localhost")
	alice := ca.Issue(pkix.Name{CommonName: "alice", OrganizationalUnit: []string{"eng"}})
	b := c.start(
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0", c.port),
		"ssl.keystore.type=PKCS12", "ssl.keystore.location="+server.WritePKCS12(dir, "broker.p12", "store-pw"),
		"ssl.keystore.password=store-pw",
		"ssl.truststore.location="+ca.WriteTrustJKS(dir, "trust.jks", "trust-pw"), "ssl.truststore.password=trust-pw",
		"listener.name.ssl.ssl.client.auth=required",
		"sasl.enabled.mechanisms=PLAIN", "listener.name.sasl_ssl.plain.sasl.jaas.config="+plainJaas,
		"connection.failed.authentication.delay.ms=0",
	)
	sslAddr, saslAddr := b.Addr("SSL").String(), b.Addr("SASL_SSL").String()

	cl := tlsClient(t, sslAddr, ca, alice, kgo.AllowAutoTopicCreation())
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(meta.Brokers) != 1 || fmt.Sprintf("%s:%d", meta.Brokers[0].Host, meta.Brokers[0].Port) != sslAddr {
		t.Fatalf("brokers %+v, want the SSL endpoint %s", meta.Brokers, sslAddr)
	}
	produceConsume(t, cl, "over-ssl")

	sasl := tlsClient(t, saslAddr, ca, nil, kgo.SASL(plain.Auth{User: "alice", Pass: "alice-secret"}.AsMechanism()),
		kgo.AllowAutoTopicCreation())
	produceConsume(t, sasl, "over-sasl-ssl")

	refused := func(name string, cl *kgo.Client) {
		t.Helper()
		if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), cl); err == nil {
			t.Errorf("%s: served", name)
		}
	}
	refused("no client certificate", tlsClient(t, sslAddr, ca, nil))
	refused("untrusted broker", tlsClient(t, sslAddr, keystoretest.NewCA(t, "other"), alice))
	refused("wrong password", tlsClient(t, saslAddr, ca, nil, kgo.SASL(plain.Auth{User: "alice", Pass: "nope"}.AsMechanism())))
	if n := b.servers["SSL"].Metrics().FailedAuthentications.Load(); n < 1 {
		t.Errorf("SSL listener: %d failed authentications counted", n)
	}
	if n := b.servers["SASL_SSL"].Metrics().FailedAuthentications.Load(); n != 1 {
		t.Errorf("SASL_SSL listener: %d failed authentications counted, want 1", n)
	}
}

// Two brokers with SSL listeners only (PEM key stores with encrypted keys, client certificates required, host names
// checked): the controller's requests, the followers' fetches and controlled shutdown all go over TLS, and a
// replicated topic holds the same bytes on both. Broker 0's key is in a PEM file, broker 1's in ssl.keystore.key,
// each decrypted with ssl.key.password; a PEM file with a plain key stops the start, as Kafka 2.8 wants the key
// password for one.
func TestInterBrokerSSL(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zkafka test CA")
	trust := ca.WriteTrustPEM(dir, "ca.pem")
	settings := func(id int) []string {
		broker := ca.Issue(pkix.Name{CommonName: fmt.Sprintf("broker-%d", id)}, "127.0.0.1")
		props := []string{fmt.Sprintf("listeners=SSL://127.0.0.1:%d", freePort(t)), "security.inter.broker.protocol=SSL",
			"ssl.keystore.type=PEM", "ssl.key.password=key-pw-" + strconv.Itoa(id), "ssl.truststore.type=PEM",
			"ssl.truststore.location=" + trust, "ssl.client.auth=required", fastShutdown}
		if id == 0 {
			return append(props, "ssl.keystore.location="+broker.WriteEncryptedPEM(dir, "b0.pem", "key-pw-0"))
		}
		return append(props, "ssl.keystore.key="+string(broker.EncryptedKeyPEM("key-pw-1")),
			"ssl.keystore.certificate.chain="+string(broker.ChainPEM()))
	}
	plain := New(c.config("broker.id=2", "listeners=SSL://127.0.0.1:0", "security.inter.broker.protocol=SSL",
		"ssl.keystore.type=PEM",
		"ssl.keystore.location="+ca.Issue(pkix.Name{CommonName: "plain"}).WritePEM(dir, "plain.pem")), slog.Default())
	if err := plain.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "ssl.key.password") {
		_ = plain.Close()
		t.Fatalf("a PEM key store file with a plain key: %v", err)
	}
	b0 := startBrokerN(c, 0, nil, settings(0)...)
	c.waitFor("broker 0 controller", func() bool { return b0.Controller() != nil && isActive(b0) })
	b1 := startBrokerN(c, 1, nil, settings(1)...)
	c.waitFor("both brokers known", func() bool {
		return len(b0.Replicas().Cache().AliveBrokers()) == 2 && len(b1.Replicas().Cache().AliveBrokers()) == 2
	})
	cl := tlsClient(t, b0.Addr("SSL").String(), ca, ca.Issue(pkix.Name{CommonName: "client"}),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()))
	createAssigned(t, ctxT(t), cl, "replicated", []int32{0, 1}, []int32{1, 0})
	for p := int32(0); p < 2; p++ {
		produceN(t, cl, "replicated", p, 0, 20)
	}
	for p := int32(0); p < 2; p++ {
		c.waitFor("followers caught up", func() bool {
			return bytes.Equal(logBytes(t, b0, "replicated", p), logBytes(t, b1, "replicated", p))
		})
		if got := isrOf(t, b0, "replicated", p); len(got) != 2 {
			t.Errorf("partition %d: ISR %v", p, got)
		}
	}
	// Broker 1's controlled shutdown asks the controller over TLS to move its leadership away.
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitFor("leadership moved", func() bool {
		st, ok, err := b0.ZK().GetPartitionState(zkmeta.TopicPartition{Topic: "replicated", Partition: 1})
		return err == nil && ok && st.Leader == 0
	})
}

// ssl.principal.mapping.rules names a client certificate's principal: alice's subject maps to User:alice, a super
// user of the ACL authorizer, who may create and write a topic; carol's maps to User:carol, who may not; bob's
// subject matches no rule and his connection is closed.
func TestSSLPrincipalMappingRules(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zkafka test CA")
	server := ca.Issue(pkix.Name{CommonName: "broker-0"}, "127.0.0.1")
	b := c.start(
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:0", c.port),
		"ssl.keystore.type=PKCS12", "ssl.keystore.location="+server.WritePKCS12(dir, "broker.p12", "store-pw"),
		"ssl.keystore.password=store-pw",
		"ssl.truststore.location="+ca.WriteTrustJKS(dir, "trust.jks", "trust-pw"), "ssl.truststore.password=trust-pw",
		"ssl.client.auth=required", `ssl.principal.mapping.rules=RULE:^CN=(.*?),OU=eng$/$1/L`,
		"authorizer.class.name=kafka.security.authorizer.AclAuthorizer", "super.users=User:alice;User:ANONYMOUS",
	)
	addr := b.Addr("SSL").String()
	alice := tlsClient(t, addr, ca, ca.Issue(pkix.Name{CommonName: "Alice", OrganizationalUnit: []string{"eng"}}),
		kgo.AllowAutoTopicCreation())
	produceN(t, alice, "mapped", 0, 0, 1)

	carol := tlsClient(t, addr, ca, ca.Issue(pkix.Name{CommonName: "carol", OrganizationalUnit: []string{"eng"}}))
	res := carol.ProduceSync(ctxT(t), &kgo.Record{Topic: "mapped", Value: []byte("x")})
	if err := res.FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("carol: %v", err)
	}
	bob := tlsClient(t, addr, ca, ca.Issue(pkix.Name{CommonName: "bob", OrganizationalUnit: []string{"ops"}}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, bob); err == nil {
		t.Fatal("bob: served without a principal")
	}
}

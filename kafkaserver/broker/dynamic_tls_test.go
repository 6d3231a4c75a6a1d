package broker

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// servedCert is the certificate the listener at addr presents to a new TLS connection.
func servedCert(t *testing.T, addr string, ca *keystoretest.CA) *x509.Certificate {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("tls dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// TestDynamicSSLKeystore replaces an SSL listener's key store while the broker runs, as an operator renews a
// certificate with kafka-configs.sh (KIP-226): the store's password is kept in ZooKeeper encrypted with
// password.encoder.secret, new connections get the new certificate, a store for another subject is refused, a
// store file rewritten in place is read again on an update naming the same file, a restart keeps the dynamic
// store, and a restart with password.encoder.old.secret encrypts the stored password with the new secret.
func TestDynamicSSLKeystore(t *testing.T) {
	c := newCluster(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zkafka test CA")
	subject := pkix.Name{CommonName: "broker-0", Organization: []string{"zkafka"}}
	first := ca.Issue(subject, "127.0.0.1")
	static := []string{
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SSL://127.0.0.1:0", c.port),
		"ssl.keystore.type=PKCS12", "ssl.keystore.location=" + first.WritePKCS12(dir, "first.p12", "first-pw"),
		"ssl.keystore.password=first-pw", "password.encoder.secret=encoder-secret-1",
	}
	b := c.start(static...)
	sslAddr := b.Addr("SSL").String()
	if got := servedCert(t, sslAddr, ca); !got.Equal(first.Cert) {
		t.Fatalf("serves %v, want the static key store's certificate", got.SerialNumber)
	}
	adm := kadm.NewClient(c.client())
	set := func(kv ...string) []kadm.AlterConfig {
		var out []kadm.AlterConfig
		for _, s := range kv {
			k, v, _ := strings.Cut(s, "=")
			out = append(out, kadm.AlterConfig{Name: k, Value: &v})
		}
		return out
	}
	alter := func(incremental bool, kv ...string) error {
		t.Helper()
		alter := adm.AlterBrokerConfigsState
		if incremental {
			alter = adm.AlterBrokerConfigs
		}
		res, err := alter(ctxT(t), set(kv...), b.ID())
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil {
			return fmt.Errorf("%w: %s", res[0].Err, res[0].ErrMessage)
		}
		return nil
	}
	waitServed := func(what string, want *x509.Certificate) {
		t.Helper()
		c.waitFor(what, func() bool { return servedCert(t, sslAddr, ca).Equal(want) })
	}

	// A renewed certificate, same subject and names, in a store of its own with its own password.
	second := ca.Issue(subject, "127.0.0.1")
	renewed := filepath.Join(dir, "renewed.p12")
	second.WritePKCS12(dir, "renewed.p12", "second-pw")
	if err := alter(true, "listener.name.ssl.ssl.keystore.location="+renewed,
		"listener.name.ssl.ssl.keystore.password=second-pw"); err != nil {
		t.Fatal(err)
	}
	waitServed("the renewed certificate", second.Cert)
	stored, err := c.b.ZK().GetEntityConfigs(zkmeta.ConfigTypeBroker, "0")
	if err != nil {
		t.Fatal(err)
	}
	pw := stored["listener.name.ssl.ssl.keystore.password"]
	if strings.Contains(pw, "second-pw") || !strings.Contains(pw, "encryptedPassword:") ||
		stored["listener.name.ssl.ssl.keystore.location"] != renewed {
		t.Fatalf("stored in ZooKeeper: %v", stored)
	}
	if got, err := dynconfig.NewPasswordEncoder("encoder-secret-1", b.cfg).Decode(pw); err != nil || got != "second-pw" {
		t.Fatalf("stored password decodes to %q, %v", got, err)
	}
	// DescribeConfigs shows the dynamic password without its value.
	described, err := adm.DescribeBrokerConfigs(ctxT(t), b.ID())
	if err != nil {
		t.Fatal(err)
	}
	var seen bool
	for _, cfg := range described[0].Configs {
		if cfg.Key == "listener.name.ssl.ssl.keystore.password" {
			seen = true
			if cfg.Value != nil || !cfg.Sensitive {
				t.Errorf("described password: value %v, sensitive %v", cfg.Value, cfg.Sensitive)
			}
		}
	}
	if !seen {
		t.Error("the dynamic password is not described")
	}

	// Another subject is refused, with Kafka's answer; the renewed certificate stays.
	other := ca.Issue(pkix.Name{CommonName: "someone-else"}, "127.0.0.1").WritePKCS12(dir, "other.p12", "second-pw")
	err = alter(true, "listener.name.ssl.ssl.keystore.location="+other)
	if err == nil || !strings.Contains(err.Error(), "Invalid dynamic configuration") {
		t.Fatalf("a key store for another subject: %v", err)
	}
	// A store without its password does not load: refused as well.
	if err := alter(true, "listener.name.ssl.ssl.keystore.password=wrong"); err == nil {
		t.Fatal("a wrong key store password was taken")
	}
	if got := servedCert(t, sslAddr, ca); !got.Equal(second.Cert) {
		t.Fatalf("after refusals serves %v", got.SerialNumber)
	}

	// The file rewritten in place: read again when an update names it again (AlterConfigs with the full set).
	third := ca.Issue(subject, "127.0.0.1")
	third.WritePKCS12(dir, "renewed.p12", "second-pw")
	if err := alter(false, "listener.name.ssl.ssl.keystore.location="+renewed,
		"listener.name.ssl.ssl.keystore.password=second-pw"); err != nil {
		t.Fatal(err)
	}
	if got := servedCert(t, sslAddr, ca); !got.Equal(third.Cert) {
		t.Fatalf("after the in-place update serves %v, want %v", got.SerialNumber, third.Cert.SerialNumber)
	}

	// A restart takes the dynamic store, its password decoded.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = c.start(static...)
	sslAddr = b.Addr("SSL").String()
	if got := servedCert(t, sslAddr, ca); !got.Equal(third.Cert) {
		t.Fatalf("after a restart serves %v", got.SerialNumber)
	}

	// A new secret, the old one named: the stored password is encrypted with the new one at start.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	rotated := append(static[:len(static)-1:len(static)-1], "password.encoder.secret=encoder-secret-2",
		"password.encoder.old.secret=encoder-secret-1")
	b = c.start(rotated...)
	sslAddr = b.Addr("SSL").String()
	if got := servedCert(t, sslAddr, ca); !got.Equal(third.Cert) {
		t.Fatalf("after the secret's rotation serves %v", got.SerialNumber)
	}
	stored, err = c.b.ZK().GetEntityConfigs(zkmeta.ConfigTypeBroker, "0")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dynconfig.NewPasswordEncoder("encoder-secret-2", b.cfg).Decode(
		stored["listener.name.ssl.ssl.keystore.password"]); err != nil || got != "second-pw" {
		t.Fatalf("re-encoded password decodes to %q, %v", got, err)
	}
}

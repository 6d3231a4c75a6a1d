package tlsconf

import (
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/compat/serverprops"
)

// TestDynamicRules walks SslFactory's rules for replacing a listener's stores: same subject and at least the old
// subject alternative names, no key or trust store added to a listener without one, none removed; on the
// inter-broker listener old and new stores must trust each other; nothing rebuilt when nothing changed.
func TestDynamicRules(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "ca")
	subject := pkix.Name{CommonName: "broker-0"}
	pem := func(id *keystoretest.Identity, name string) func(*serverprops.SSLSettings) {
		path := id.WriteEncryptedPEM(dir, name, "key-pw")
		return func(s *serverprops.SSLSettings) {
			s.KeystoreType, s.KeystoreLocation, s.KeyPassword = "PEM", path, "key-pw"
		}
	}
	trust := ca.WriteTrustPEM(dir, "ca.pem")
	withTrust := func(s *serverprops.SSLSettings) { s.TruststoreType, s.TruststoreLocation = "PEM", trust }
	both := func(fs ...func(*serverprops.SSLSettings)) serverprops.SSLSettings {
		return settings(func(s *serverprops.SSLSettings) {
			for _, f := range fs {
				f(s)
			}
		})
	}
	first := pem(ca.Issue(subject, "127.0.0.1", "broker0.example"), "first.pem")
	d, err := NewServerTLS(both(first, withTrust), false)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := d.Reconfigure(both(first, withTrust)); changed || err != nil {
		t.Fatalf("nothing changed: rebuilt %v, %v", changed, err)
	}
	refused := func(what string, d *Dynamic, next serverprops.SSLSettings, msg string) {
		t.Helper()
		err := d.Validate(next)
		if err == nil || !strings.Contains(err.Error(), msg) ||
			!strings.HasPrefix(err.Error(), "Validation of dynamic config update of SSLFactory failed: ") {
			t.Errorf("%s: %v, want %q", what, err, msg)
		}
	}
	refused("another subject", d, both(pem(ca.Issue(pkix.Name{CommonName: "other"}, "127.0.0.1", "broker0.example"), "o.pem"), withTrust),
		"Keystore DistinguishedName does not match")
	refused("a name fewer", d, both(pem(ca.Issue(subject, "127.0.0.1"), "fewer.pem"), withTrust),
		"Keystore SubjectAltNames do not match")
	refused("no key store", d, both(withTrust), "Cannot remove the SSL keystore")
	refused("a missing file", d, both(func(s *serverprops.SSLSettings) { s.KeystoreType, s.KeystoreLocation = "PEM", dir+"/none.pem" }, withTrust), "")

	more := pem(ca.Issue(subject, "127.0.0.1", "broker0.example", "localhost"), "more.pem")
	if changed, err := d.Reconfigure(both(more, withTrust)); !changed || err != nil {
		t.Fatalf("a name more: rebuilt %v, %v", changed, err)
	}

	// A client without a trust store or key store may not get either later.
	cl, err := NewClientTLS(settings(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Validate(both(withTrust)); err == nil || !strings.Contains(err.Error(), "Cannot add SSL truststore") {
		t.Errorf("trust store added: %v", err)
	}
	if err := cl.Validate(both(first)); err == nil || !strings.Contains(err.Error(), "Cannot add SSL keystore") {
		t.Errorf("key store added: %v", err)
	}

	// Inter-broker: a certificate from a CA the current trust store does not know is refused, also with a
	// trust store naming both CAs; the same certificate is taken once the current trust store knows its CA.
	other := keystoretest.NewCA(t, "other ca")
	otherTrust := other.WriteTrustPEM(dir, "other.pem")
	ib, err := NewServerTLS(both(first, withTrust), true)
	if err != nil {
		t.Fatal(err)
	}
	fromOther := pem(other.Issue(subject, "127.0.0.1", "broker0.example"), "from-other.pem")
	refused("untrusted by the old trust store", ib, both(fromOther, func(s *serverprops.SSLSettings) {
		s.TruststoreType, s.TruststoreCertificates = "PEM", string(ca.CertPEM())+string(other.CertPEM())
	}), "certificate")
	if _, err := ib.Reconfigure(both(first, func(s *serverprops.SSLSettings) {
		s.TruststoreType, s.TruststoreCertificates = "PEM", string(ca.CertPEM())+string(other.CertPEM())
	})); err != nil {
		t.Fatalf("trust both CAs: %v", err)
	}
	if _, err := ib.Reconfigure(both(fromOther, func(s *serverprops.SSLSettings) {
		s.TruststoreType, s.TruststoreCertificates = "PEM", string(ca.CertPEM())+string(other.CertPEM())
	})); err != nil {
		t.Fatalf("the other CA's certificate once trusted: %v", err)
	}
	// At start the inter-broker listener's own client must trust it.
	if _, err := NewServerTLS(both(fromOther, withTrust), true); err == nil {
		t.Error("an inter-broker listener its own trust store does not trust started")
	}
	if _, err := NewServerTLS(both(fromOther, func(s *serverprops.SSLSettings) {
		s.TruststoreType, s.TruststoreLocation = "PEM", otherTrust
	}), true); err != nil {
		t.Errorf("inter-broker listener trusted by its own trust store: %v", err)
	}
}

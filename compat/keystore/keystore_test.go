package keystore_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/keystore"
	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
)

// Stores of every type hold the same key and chain, and the same trusted CA.
func TestStores(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "test-ca")
	id := ca.Issue(pkix.Name{CommonName: "broker"}, "127.0.0.1")

	pairs := map[string]struct{ typ, path, storePass, keyPass string }{
		"PEM file":          {"PEM", id.WritePEM(dir, "k.pem"), "", ""},
		"PKCS12":            {"PKCS12", id.WritePKCS12(dir, "k.p12", "store-pw"), "store-pw", ""},
		"pkcs12 (any case)": {"pkcs12", filepath.Join(dir, "k.p12"), "store-pw", "store-pw"},
		"JKS, one password": {"JKS", id.WriteJKS(dir, "k.jks", "store-pw", "store-pw"), "store-pw", ""},
		"JKS, key password": {"JKS", id.WriteJKS(dir, "k2.jks", "store-pw", "key-pw"), "store-pw", "key-pw"},
		// Java's JCEKS reader takes JKS files too, their keys under JKS's own key protector.
		"JKS read as JCEKS": {"JCEKS", filepath.Join(dir, "k2.jks"), "store-pw", "key-pw"},
	}
	for name, p := range pairs {
		cert, err := keystore.KeyPair(p.typ, p.path, p.storePass, p.keyPass)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(cert.Certificate) != 2 || !cert.Leaf.Equal(id.Cert) {
			t.Errorf("%s: chain of %d, leaf %v", name, len(cert.Certificate), cert.Leaf.Subject)
		}
	}
	pemPair, err := keystore.PEMKeyPair(id.KeyPEM(), id.ChainPEM(), "")
	if err != nil || !pemPair.Leaf.Equal(id.Cert) {
		t.Errorf("PEM text: %v", err)
	}

	bad := map[string]struct{ typ, path, storePass, keyPass, want string }{
		"JKS, wrong store password": {"JKS", filepath.Join(dir, "k.jks"), "nope", "", "password was incorrect"},
		"JKS, wrong key password":   {"JKS", filepath.Join(dir, "k2.jks"), "store-pw", "nope", `key "key"`},
		"PKCS12, wrong password":    {"PKCS12", filepath.Join(dir, "k.p12"), "nope", "", "password"},
		"JKS read as PKCS12":        {"PKCS12", filepath.Join(dir, "k.jks"), "store-pw", "", "PKCS12"},
		"unknown type":              {"BKS", filepath.Join(dir, "k.jks"), "store-pw", "", "not supported"},
		"PKCS12 read as JCEKS":      {"JCEKS", filepath.Join(dir, "k.p12"), "store-pw", "", "Invalid keystore format"},
		"JCEKS, JKS key password":   {"JCEKS", filepath.Join(dir, "k2.jks"), "store-pw", "nope", "Cannot recover key"},
		"missing file":              {"JKS", filepath.Join(dir, "none.jks"), "store-pw", "", "no such file"},
	}
	for name, b := range bad {
		if _, err := keystore.KeyPair(b.typ, b.path, b.storePass, b.keyPass); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, b.want)
		}
	}
	other := keystoretest.NewCA(t, "other").Issue(pkix.Name{CommonName: "x"})
	if _, err := keystore.PEMKeyPair(other.KeyPEM(), id.ChainPEM(), ""); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key: %v", err)
	}

	trusts := map[string]struct{ typ, path, pass string }{
		"PEM":                  {"PEM", ca.WriteTrustPEM(dir, "t.pem"), ""},
		"PKCS12":               {"PKCS12", ca.WriteTrustPKCS12(dir, "t.p12", "trust-pw"), "trust-pw"},
		"JKS":                  {"JKS", ca.WriteTrustJKS(dir, "t.jks", "trust-pw"), "trust-pw"},
		"JKS without password": {"JKS", filepath.Join(dir, "t.jks"), ""},
		"JKS read as JCEKS":    {"JCEKS", filepath.Join(dir, "t.jks"), "trust-pw"},
		"key store as trust":   {"JKS", filepath.Join(dir, "k.jks"), "store-pw"},
	}
	for name, tr := range trusts {
		certs, err := keystore.Trusted(tr.typ, tr.path, tr.pass)
		if err != nil {
			t.Errorf("trust %s: %v", name, err)
			continue
		}
		want := ca.Cert
		if name == "key store as trust" {
			want = id.Cert // Java trusts a key entry's own certificate
		}
		if len(certs) != 1 || !certs[0].Equal(want) {
			t.Errorf("trust %s: %d certificates", name, len(certs))
		}
	}
	if _, err := keystore.Trusted("JKS", filepath.Join(dir, "t.jks"), "nope"); err == nil {
		t.Error("JKS trust store with a wrong password read")
	}
}

// Stores made by Java 17's keytool, as an operator's are: a JKS and a PKCS12 key store and a JKS trust store.
func TestKeytoolStores(t *testing.T) {
	keytool, err := exec.LookPath("keytool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("keytool (Java 17) is needed on CI")
		}
		t.Skip("no keytool")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(keytool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("keytool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, typ := range []string{"JKS", "PKCS12"} {
		ks := filepath.Join(dir, "broker."+strings.ToLower(typ))
		keyPass := "store-pw"
		if typ == "JKS" {
			keyPass = "key-pw" // JKS keeps a key password of its own; PKCS12 takes the store's
		}
		run("-genkeypair", "-keystore", ks, "-storetype", typ, "-storepass", "store-pw", "-keypass", keyPass,
			"-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
			"-dname", "CN=broker,OU=eng,O=zkafka", "-ext", "SAN=IP:127.0.0.1")
		cert, err := keystore.KeyPair(typ, ks, "store-pw", keyPass)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if got := cert.Leaf.Subject.CommonName; got != "broker" {
			t.Errorf("%s: leaf %q", typ, got)
		}
		if typ != "JKS" {
			continue
		}
		pemFile := filepath.Join(dir, "broker.crt")
		run("-exportcert", "-rfc", "-keystore", ks, "-storepass", "store-pw", "-alias", "broker", "-file", pemFile)
		trust := filepath.Join(dir, "trust.jks")
		run("-importcert", "-noprompt", "-keystore", trust, "-storetype", "JKS", "-storepass", "trust-pw",
			"-alias", "ca", "-file", pemFile)
		for _, pass := range []string{"trust-pw", ""} {
			certs, err := keystore.Trusted("JKS", trust, pass)
			if err != nil || len(certs) != 1 || !certs[0].Equal(cert.Leaf) {
				t.Fatalf("trust store (password %q): %v", pass, err)
			}
		}
		if _, err := x509.ParseCertificate(cert.Certificate[0]); err != nil {
			t.Fatal(err)
		}
	}
}

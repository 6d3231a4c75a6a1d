package keystore_test

import (
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/keystore"
)

// keytool runs Java 17's keytool (see tool).
func keytool(t *testing.T, args ...string) {
	t.Helper()
	tool(t, "keytool", args...)
}

// jceksStores makes, with keytool, a JCEKS key store (an RSA or EC key pair with a key password of its own, and a
// secret AES key beside it) and a JCEKS trust store holding the key's certificate; it returns their paths.
func jceksStores(t *testing.T, dir, keyalg string) (ks, trust string) {
	ks = filepath.Join(dir, keyalg+".jceks")
	keytool(t, "-genkeypair", "-keystore", ks, "-storetype", "JCEKS", "-storepass", "store-pw", "-keypass", "key-pw",
		"-alias", "broker", "-keyalg", keyalg, "-validity", "2", "-dname", "CN=broker-"+keyalg+",O=zkafka",
		"-ext", "SAN=IP:127.0.0.1")
	keytool(t, "-genseckey", "-keystore", ks, "-storetype", "JCEKS", "-storepass", "store-pw", "-keypass", "key-pw",
		"-alias", "aes", "-keyalg", "AES", "-keysize", "128")
	crt := filepath.Join(dir, keyalg+".crt")
	keytool(t, "-exportcert", "-rfc", "-keystore", ks, "-storetype", "JCEKS", "-storepass", "store-pw",
		"-alias", "broker", "-file", crt)
	trust = filepath.Join(dir, keyalg+"-trust.jceks")
	keytool(t, "-importcert", "-noprompt", "-keystore", trust, "-storetype", "JCEKS", "-storepass", "trust-pw",
		"-alias", "ca", "-file", crt)
	return ks, trust
}

// JCEKS stores made by keytool: the key pair decrypts with the key password (PBEWithMD5AndTripleDES), the secret
// key entry beside it is stepped over, the trust store gives its certificate; wrong passwords are refused as Java
// refuses them.
func TestKeytoolJCEKS(t *testing.T) {
	dir := t.TempDir()
	for _, keyalg := range []string{"RSA", "EC"} {
		ks, trust := jceksStores(t, dir, keyalg)
		cert, err := keystore.KeyPair("JCEKS", ks, "store-pw", "key-pw")
		if err != nil {
			t.Fatalf("%s: %v", keyalg, err)
		}
		if got := cert.Leaf.Subject.CommonName; got != "broker-"+keyalg {
			t.Errorf("%s: leaf %q", keyalg, got)
		}
		if _, err := keystore.KeyPair("jceks", ks, "store-pw", "key-pw"); err != nil {
			t.Errorf("%s: type in lower case: %v", keyalg, err)
		}
		for _, pass := range []string{"trust-pw", ""} {
			certs, err := keystore.Trusted("JCEKS", trust, pass)
			if err != nil || len(certs) != 1 || !certs[0].Equal(cert.Leaf) {
				t.Errorf("%s: trust store (password %q): %d certificates, %v", keyalg, pass, len(certs), err)
			}
		}
		// Java's trust manager trusts a key entry's own certificate.
		if certs, err := keystore.Trusted("JCEKS", ks, "store-pw"); err != nil || len(certs) != 1 || !certs[0].Equal(cert.Leaf) {
			t.Errorf("%s: key store as trust store: %d certificates, %v", keyalg, len(certs), err)
		}
		bad := []struct{ storePass, keyPass, want string }{
			{"nope", "key-pw", "Keystore was tampered with, or password was incorrect"},
			{"store-pw", "nope", `key "broker": Cannot recover key`},
			{"store-pw", "", `key "broker": Cannot recover key`}, // the store password is not the key's
		}
		for _, b := range bad {
			if _, err := keystore.KeyPair("JCEKS", ks, b.storePass, b.keyPass); err == nil || !strings.Contains(err.Error(), b.want) {
				t.Errorf("%s: store password %q, key password %q: %v, want %q", keyalg, b.storePass, b.keyPass, err, b.want)
			}
		}
		if _, err := keystore.Trusted("JCEKS", trust, "nope"); err == nil || !strings.Contains(err.Error(), "password was incorrect") {
			t.Errorf("%s: trust store, wrong password: %v", keyalg, err)
		}
		if _, err := x509.ParseCertificate(cert.Certificate[0]); err != nil {
			t.Fatal(err)
		}
	}
}

// A JCEKS store of secret keys only has no key pair, and says why.
func TestJCEKSSecretKeysOnly(t *testing.T) {
	ks := filepath.Join(t.TempDir(), "secrets.jceks")
	for _, alias := range []string{"a", "b"} {
		keytool(t, "-genseckey", "-keystore", ks, "-storetype", "JCEKS", "-storepass", "store-pw", "-keypass",
			"store-pw", "-alias", alias, "-keyalg", "AES", "-keysize", "256")
	}
	_, err := keystore.KeyPair("JCEKS", ks, "store-pw", "")
	if !errors.Is(err, keystore.ErrJCEKSSecretKey) {
		t.Fatalf("secret keys only: %v", err)
	}
	if _, err := keystore.Trusted("JCEKS", ks, "store-pw"); err == nil || !strings.Contains(err.Error(), "no trusted certificate") {
		t.Fatalf("secret keys as trust store: %v", err)
	}
}

// Damaged JCEKS stores (bytes changed, cut short) fail with an error, never a panic; read without a password, the
// integrity check does not stop the damage from reaching the parser.
func TestJCEKSDamaged(t *testing.T) {
	dir := t.TempDir()
	ks, trust := jceksStores(t, dir, "EC")
	r := rand.New(rand.NewPCG(3, 4))
	for _, path := range []string{ks, trust} {
		seed, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, "damaged.jceks")
		for i := 0; i < 300; i++ { // few: each key decryption runs keytool's 200000 MD5 iterations twice
			if err := os.WriteFile(f, damage(r, seed, i), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _ = keystore.KeyPair("JCEKS", f, "", "key-pw")
			_, _ = keystore.Trusted("JCEKS", f, "")
		}
	}
}

// FuzzLoadStores reads damaged stores of each file type: errors, never panics. Seeds are a JCEKS header and a
// minimal serialized object; go test -fuzz grows them.
func FuzzLoadStores(f *testing.F) {
	f.Add([]byte{0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2, 0, 0, 0, 0}, "")
	f.Add([]byte{0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 0,
		0xac, 0xed, 0, 5, 0x70}, "")
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 0}, "pw")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		path := filepath.Join(dir, "store")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{"JCEKS", "JKS", "PKCS12", "PEM"} {
			_, _ = keystore.KeyPair(typ, path, password, "")
			_, _ = keystore.Trusted(typ, path, password)
		}
	})
}

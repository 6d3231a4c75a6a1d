package keystore_test

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/keystore"
	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
)

// tool runs a command the tests make stores and keys with, failing the test on an error; without the command
// the test is skipped (on CI it fails).
func tool(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed on CI", name)
		}
		t.Skip("no " + name)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// openssl runs the openssl binary (see tool).
func openssl(t *testing.T, args ...string) []byte {
	t.Helper()
	return tool(t, "openssl", args...)
}

// opensslKey makes a key with openssl (kind "rsa" or "ec") and a self-signed certificate for it, and returns the
// key file, the certificate's PEM and the key as Go parses its unencrypted PKCS#8 form.
func opensslKey(t *testing.T, dir, kind string) (string, []byte, crypto.PrivateKey) {
	t.Helper()
	keyFile := filepath.Join(dir, kind+".key")
	switch kind {
	case "rsa":
		openssl(t, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", keyFile)
	case "ec":
		openssl(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile)
	}
	certFile := filepath.Join(dir, kind+".crt")
	openssl(t, "req", "-x509", "-key", keyFile, "-subj", "/CN="+kind, "-days", "1", "-out", certFile)
	cert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(openssl(t, "pkcs8", "-topk8", "-nocrypt", "-in", keyFile))
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return keyFile, cert, key
}

// encryptionSchemes are openssl pkcs8 -topk8 arguments: PBES2 with each PRF and cipher, PKCS#12's PBE with SHA-1
// and triple DES (-v1, the scheme Java 8 wrote), RC2 or RC4, and PBES1 with DES (openssl's legacy provider).
var encryptionSchemes = map[string][]string{
	"aes-256-cbc (hmacWithSHA256)": {"-v2", "aes-256-cbc"},
	"aes-256-cbc hmacWithSHA1":     {"-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"},
	"aes-128-cbc hmacWithSHA224":   {"-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA224"},
	"aes-192-cbc hmacWithSHA384":   {"-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA384"},
	"aes-256-cbc hmacWithSHA512":   {"-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"},
	"des3 (hmacWithSHA256)":        {"-v2", "des3"},
	"des3 hmacWithSHA1":            {"-v2", "des3", "-v2prf", "hmacWithSHA1"},
	"PBE-SHA1-3DES":                {"-v1", "PBE-SHA1-3DES"},
	"PBE-SHA1-2DES":                {"-v1", "PBE-SHA1-2DES"},
	"aes-256-cbc, one iteration":   {"-v2", "aes-256-cbc", "-iter", "1"},
	"des-cbc (hmacWithSHA256)":     {"-provider", "legacy", "-provider", "default", "-v2", "des-cbc"},
	"PBE-SHA1-RC4-128":             {"-provider", "legacy", "-provider", "default", "-v1", "PBE-SHA1-RC4-128"},
	"PBE-SHA1-RC4-40":              {"-provider", "legacy", "-provider", "default", "-v1", "PBE-SHA1-RC4-40"},
	"PBE-SHA1-RC2-128":             {"-provider", "legacy", "-provider", "default", "-v1", "PBE-SHA1-RC2-128"},
	"PBE-SHA1-RC2-40":              {"-provider", "legacy", "-provider", "default", "-v1", "PBE-SHA1-RC2-40"},
	"PBE-MD5-DES":                  {"-provider", "legacy", "-provider", "default", "-v1", "PBE-MD5-DES"},
	"PBE-SHA1-DES":                 {"-provider", "legacy", "-provider", "default", "-v1", "PBE-SHA1-DES"},
}

// Keys encrypted by openssl decrypt to the key openssl started from, RSA and EC, with each scheme; a wrong password
// fails with ErrWrongPassword.
func TestDecryptOpenSSLKeys(t *testing.T) {
	dir := t.TempDir()
	for _, kind := range []string{"rsa", "ec"} {
		keyFile, cert, want := opensslKey(t, dir, kind)
		for name, args := range encryptionSchemes {
			for _, password := range []string{"key-password", "pässwörd €"} {
				enc := openssl(t, append([]string{"pkcs8", "-topk8", "-in", keyFile, "-passout", "pass:" + password},
					args...)...)
				b, _ := pem.Decode(enc)
				if b == nil || b.Type != "ENCRYPTED PRIVATE KEY" {
					t.Fatalf("%s %s: openssl wrote %q", kind, name, enc)
				}
				der, err := keystore.DecryptPKCS8(b.Bytes, password)
				if err != nil {
					t.Errorf("%s %s (%q): %v", kind, name, password, err)
					continue
				}
				got, err := x509.ParsePKCS8PrivateKey(der)
				if err != nil {
					t.Errorf("%s %s: decrypted key: %v", kind, name, err)
					continue
				}
				if !got.(interface{ Equal(crypto.PrivateKey) bool }).Equal(want) {
					t.Errorf("%s %s: decrypted key differs from openssl's", kind, name)
				}
				if _, err := keystore.DecryptPKCS8(b.Bytes, password+"x"); !errors.Is(err, keystore.ErrWrongPassword) {
					t.Errorf("%s %s: wrong password: %v", kind, name, err)
				}
				pair, err := keystore.PEMKeyPair(enc, cert, password)
				if err != nil || pair.Leaf.Subject.CommonName != kind {
					t.Errorf("%s %s: PEMKeyPair: %v", kind, name, err)
				}
			}
		}
	}
}

// The password decides how the key is read, as in Kafka 2.8 and ZooKeeper 3.8: an encrypted key needs one, a plain
// key refuses one; OpenSSL's legacy encrypted PEM (DEK-Info headers) is refused with a hint.
func TestPEMKeyPasswordRules(t *testing.T) {
	dir := t.TempDir()
	keyFile, cert, _ := opensslKey(t, dir, "ec")
	plain, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	enc := openssl(t, "pkcs8", "-topk8", "-in", keyFile, "-passout", "pass:pw", "-v2", "aes-256-cbc")
	legacy := openssl(t, "ec", "-in", keyFile, "-aes128", "-passout", "pass:pw")
	cases := []struct {
		name          string
		key, password string
		want          string
	}{
		{"encrypted, no password", string(enc), "", "encrypted and no password"},
		{"plain, a password", string(plain), "pw", "not encrypted"},
		{"encrypted, wrong password", string(enc), "nope", "does not decrypt"},
		{"legacy encryption", string(legacy), "pw", "DEK-Info"},
		{"no key", string(cert), "pw", "no private key"},
	}
	for _, c := range cases {
		if _, err := keystore.PEMKeyPair([]byte(c.key), cert, c.password); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	// A PEM key store file: the key password, else the store password, decrypts it.
	store := filepath.Join(dir, "store.pem")
	if err := os.WriteFile(store, append(enc, cert...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]string{{"", "pw"}, {"pw", ""}, {"other", "pw"}} {
		if _, err := keystore.KeyPair("PEM", store, p[0], p[1]); err != nil {
			t.Errorf("store password %q, key password %q: %v", p[0], p[1], err)
		}
	}
	if _, err := keystore.KeyPair("PEM", store, "", ""); err == nil {
		t.Error("encrypted PEM store read without a password")
	}
}

// Damaged encrypted keys (bytes changed, cut short) fail with an error, never a panic.
func TestDecryptDamagedKeys(t *testing.T) {
	dir := t.TempDir()
	keyFile, _, _ := opensslKey(t, dir, "ec")
	var seeds [][]byte
	for _, args := range encryptionSchemes {
		enc := openssl(t, append([]string{"pkcs8", "-topk8", "-in", keyFile, "-passout", "pass:pw"}, args...)...)
		b, _ := pem.Decode(enc)
		seeds = append(seeds, b.Bytes)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, seed := range seeds {
		for i := 0; i < 2000; i++ {
			d := damage(r, seed, i)
			if der, err := keystore.DecryptPKCS8(d, "pw"); err == nil {
				// A change in the cipher text's last blocks can still decrypt; what comes out must parse or fail.
				_, _ = x509.ParsePKCS8PrivateKey(der)
			}
		}
	}
}

// damage returns a copy of seed, truncated at a random length for every third i, else with one to three bytes
// flipped at random places.
func damage(r *rand.Rand, seed []byte, i int) []byte {
	d := append([]byte(nil), seed...)
	if i%3 == 0 {
		return d[:r.IntN(len(d))]
	}
	for n := 1 + r.IntN(3); n > 0; n-- {
		d[r.IntN(len(d))] ^= byte(1 + r.IntN(255))
	}
	return d
}

func FuzzDecryptPKCS8(f *testing.F) {
	f.Add([]byte{0x30, 0x00}, "pw")
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x06}, "")
	f.Fuzz(func(t *testing.T, der []byte, password string) {
		// Up to 10000 iterations, Java's own count: at the 10 million the server reads, one input derives for
		// seconds and the run ends with inputs still in flight.
		_, _ = keystore.DecryptPKCS8Bounded(der, password, 10000)
	})
}

// keystoretest's encrypted keys, which other packages' tests use, decrypt here and with openssl.
func TestKeystoretestEncryptedKey(t *testing.T) {
	dir := t.TempDir()
	id := keystoretest.NewCA(t, "ca").Issue(pkix.Name{CommonName: "x"})
	enc := id.EncryptedKeyPEM("pw")
	if _, err := keystore.PEMKeyPair(enc, id.ChainPEM(), "pw"); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(f, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(openssl(t, "pkcs8", "-in", f, "-passin", "pass:pw"))
	if got, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil || !id.Key.Equal(got) {
		t.Fatalf("openssl's decryption: %v", err)
	}
}

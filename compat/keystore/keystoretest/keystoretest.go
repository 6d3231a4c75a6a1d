// Package keystoretest makes certificates and writes them as the key and trust stores Kafka's ssl.* settings read
// (PEM, PKCS12, JKS), for tests.
package keystoretest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"golang.org/x/crypto/ocsp"
	"software.sslmate.com/src/go-pkcs12"
)

// CA is a certificate authority of a test.
type CA struct {
	t    testing.TB
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	n    int64
}

// Identity is a key and its certificate, issued by a CA.
type Identity struct {
	Key  *ecdsa.PrivateKey
	Cert *x509.Certificate
	ca   *CA
}

// NewCA makes a self-signed CA named cn.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	return &CA{t: t, Cert: sign(t, tmpl, tmpl, &key.PublicKey, key), key: key, n: 1}
}

// Published names where a certificate's revocation status is published: CRL distribution point URLs and OCSP
// responder URLs (authority information access).
type Published struct{ CRLs, OCSP []string }

// IssueCA makes an intermediate CA named cn under ca, its status published at pub.
func (ca *CA) IssueCA(cn string, pub Published) *CA {
	ca.t.Helper()
	ca.n++
	key := newKey(ca.t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.n), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		CRLDistributionPoints: pub.CRLs, OCSPServer: pub.OCSP,
	}
	return &CA{t: ca.t, Cert: sign(ca.t, tmpl, ca.Cert, &key.PublicKey, ca.key), key: key, n: 1}
}

// IssuePublished is Issue for a certificate whose revocation status is published at pub.
func (ca *CA) IssuePublished(pub Published, subject pkix.Name, hosts ...string) *Identity {
	ca.t.Helper()
	return ca.issue(subject, hosts, func(c *x509.Certificate) {
		c.CRLDistributionPoints, c.OCSPServer = pub.CRLs, pub.OCSP
	})
}

// CRL is ca's CRL revoking certs (on the hour before now, key compromise), current from thisUpdate to nextUpdate,
// in DER.
func (ca *CA) CRL(thisUpdate, nextUpdate time.Time, certs ...*x509.Certificate) []byte {
	ca.t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(time.Now().UnixNano()), ThisUpdate: thisUpdate,
		NextUpdate: nextUpdate}
	for _, c := range certs {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Hour), ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return der
}

// OCSPResponse is ca's signed OCSP answer on cert: status ocsp.Good, ocsp.Revoked or ocsp.Unknown, current from
// thisUpdate to nextUpdate.
func (ca *CA) OCSPResponse(cert *x509.Certificate, status int, thisUpdate, nextUpdate time.Time) []byte {
	ca.t.Helper()
	tmpl := ocsp.Response{Status: status, SerialNumber: cert.SerialNumber, ThisUpdate: thisUpdate,
		NextUpdate: nextUpdate}
	if status == ocsp.Revoked {
		tmpl.RevokedAt, tmpl.RevocationReason = time.Now().Add(-time.Hour), ocsp.KeyCompromise
	}
	der, err := ocsp.CreateResponse(ca.Cert, ca.Cert, tmpl, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	return der
}

// Issue makes a key and a certificate for subject, valid for TLS servers and clients, naming hosts (IP addresses or
// DNS names) as its subject alternative names.
func (ca *CA) Issue(subject pkix.Name, hosts ...string) *Identity {
	ca.t.Helper()
	return ca.issue(subject, hosts, nil)
}

func (ca *CA) issue(subject pkix.Name, hosts []string, edit func(*x509.Certificate)) *Identity {
	ca.t.Helper()
	ca.n++
	key := newKey(ca.t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.n), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if edit != nil {
		edit(tmpl)
	}
	return &Identity{Key: key, Cert: sign(ca.t, tmpl, ca.Cert, &key.PublicKey, ca.key), ca: ca}
}

// CertPEM is the CA's certificate in PEM.
func (ca *CA) CertPEM() []byte { return certPEM(ca.Cert) }

// KeyPEM is the identity's key, PKCS#8 in PEM.
func (id *Identity) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		id.ca.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// EncryptedKeyPEM is the identity's key, PKCS#8 encrypted with password as openssl pkcs8 -topk8 -v2 aes-256-cbc
// writes it (PBES2, PBKDF2 with HMAC-SHA256, AES-256-CBC), in PEM.
func (id *Identity) EncryptedKeyPEM(password string) []byte {
	t := id.ca.t
	der, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		t.Fatal(err)
	}
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	const iterations = 2048
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(der)%aes.BlockSize
	data := append(der, bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	type algID struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters any `asn1:"optional"`
	}
	info := struct {
		Algorithm     algID
		EncryptedData []byte
	}{algID{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, struct{ KDF, Scheme algID }{
		algID{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, struct {
			Salt       []byte
			Iterations int
			PRF        algID
		}{salt, iterations, algID{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, asn1.NullRawValue}}},
		algID{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, iv},
	}}, data}
	enc, err := asn1.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc})
}

// ChainPEM is the identity's certificate followed by its CA's, in PEM.
func (id *Identity) ChainPEM() []byte { return append(certPEM(id.Cert), id.ca.CertPEM()...) }

// WritePEM writes the key and the chain into one PEM file (ssl.keystore.type=PEM) and returns its path.
func (id *Identity) WritePEM(dir, name string) string {
	return write(id.ca.t, dir, name, append(id.KeyPEM(), id.ChainPEM()...))
}

// WriteEncryptedPEM writes the key, encrypted with password (see EncryptedKeyPEM), and the chain into one PEM file
// and returns its path.
func (id *Identity) WriteEncryptedPEM(dir, name, password string) string {
	return write(id.ca.t, dir, name, append(id.EncryptedKeyPEM(password), id.ChainPEM()...))
}

// WriteOpenSSLEncryptedPEM is WriteEncryptedPEM with the key encrypted by the openssl binary, openssl pkcs8 -topk8
// with args choosing the scheme (-v1 PBE-SHA1-3DES is what Java 17 decrypts, for Apache's servers and clients);
// without openssl the test is skipped.
func (id *Identity) WriteOpenSSLEncryptedPEM(dir, name, password string, args ...string) string {
	t := id.ca.t
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("no openssl")
	}
	plain := write(t, dir, name+".plain-key", id.KeyPEM())
	cmd := append([]string{"pkcs8", "-topk8", "-in", plain, "-passout", "pass:" + password}, args...)
	key, err := exec.Command(bin, cmd...).Output()
	if err != nil {
		t.Fatalf("openssl %v: %v", cmd, err)
	}
	return write(t, dir, name, append(key, id.ChainPEM()...))
}

// WritePKCS12 writes a PKCS12 key store holding the key and chain, encrypted as Java 17's keytool does.
func (id *Identity) WritePKCS12(dir, name, password string) string {
	t := id.ca.t
	data, err := pkcs12.Modern.Encode(id.Key, id.Cert, []*x509.Certificate{id.ca.Cert}, password)
	if err != nil {
		t.Fatal(err)
	}
	return write(t, dir, name, data)
}

// WriteJKS writes a JKS key store holding the key and chain under alias "key", the key protected by keyPassword.
func (id *Identity) WriteJKS(dir, name, storePassword, keyPassword string) string {
	t := id.ca.t
	der, err := x509.MarshalPKCS8PrivateKey(id.Key)
	if err != nil {
		t.Fatal(err)
	}
	ks := jks.New()
	if err := ks.SetPrivateKeyEntry("key", jks.PrivateKeyEntry{CreationTime: time.Now(), PrivateKey: der,
		CertificateChain: []jks.Certificate{{Type: "X509", Content: id.Cert.Raw}, {Type: "X509", Content: id.ca.Cert.Raw}},
	}, []byte(keyPassword)); err != nil {
		t.Fatal(err)
	}
	return writeJKS(t, ks, dir, name, storePassword)
}

// WriteTrustJKS writes a JKS trust store holding the CA's certificate.
func (ca *CA) WriteTrustJKS(dir, name, password string) string {
	ks := jks.New()
	if err := ks.SetTrustedCertificateEntry("ca", jks.TrustedCertificateEntry{CreationTime: time.Now(),
		Certificate: jks.Certificate{Type: "X509", Content: ca.Cert.Raw}}); err != nil {
		ca.t.Fatal(err)
	}
	return writeJKS(ca.t, ks, dir, name, password)
}

// WriteTrustPKCS12 writes a PKCS12 trust store holding the CA's certificate, as Java's keytool marks trusted ones.
func (ca *CA) WriteTrustPKCS12(dir, name, password string) string {
	data, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca.Cert}, password)
	if err != nil {
		ca.t.Fatal(err)
	}
	return write(ca.t, dir, name, data)
}

// WriteTrustPEM writes the CA's certificate in PEM (ssl.truststore.type=PEM).
func (ca *CA) WriteTrustPEM(dir, name string) string { return write(ca.t, dir, name, ca.CertPEM()) }

func writeJKS(t testing.TB, ks jks.KeyStore, dir, name, password string) string {
	var buf bytes.Buffer
	if err := ks.Store(&buf, []byte(password)); err != nil {
		t.Fatal(err)
	}
	return write(t, dir, name, buf.Bytes())
}

func write(t testing.TB, dir, name string, data []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Package keystore reads the key and trust stores that Kafka's ssl.* settings name, in the formats Kafka 2.8 on
// Java 17 accepts: JKS (Java's own, the default ssl.keystore.type and ssl.truststore.type), PKCS12, JCEKS (the
// SunJCE provider's store) and PEM (files, or the PEM text itself in ssl.keystore.key,
// ssl.keystore.certificate.chain and ssl.truststore.certificates). ZooKeeper 3.8 takes JKS, PKCS12 and PEM.
package keystore

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	jks "github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// Store types, as ssl.keystore.type and ssl.truststore.type spell them. Java looks key store types up ignoring case;
// Kafka compares PEM exactly.
const (
	JKS    = "JKS"
	PKCS12 = "PKCS12"
	PEM    = "PEM"
)

// KeyPair reads the private key and certificate chain of the key store at path. storePass opens the store; keyPass
// (ssl.key.password) decrypts the key where it differs, "" meaning the store's password, as Kafka's key manager
// takes it. A PEM store has no store password: its key is decrypted with keyPass, or else storePass (ZooKeeper's
// keyStore.password), and must be encrypted when one is given, as PEMKeyPair says. A store with several keys gives
// the one whose alias sorts first.
func KeyPair(typ, path, storePass, keyPass string) (tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("read key store: %w", err)
	}
	var cert tls.Certificate
	switch {
	case strings.EqualFold(typ, JKS):
		cert, err = jksKeyPair(data, storePass, keyPass)
	case strings.EqualFold(typ, PKCS12):
		cert, err = pkcs12KeyPair(data, storePass, keyPass)
	case strings.EqualFold(typ, JCEKS):
		cert, err = jceksKeyPair(data, storePass, keyPass)
	case typ == PEM:
		if keyPass == "" {
			keyPass = storePass
		}
		cert, err = PEMKeyPair(data, data, keyPass)
	default:
		return tls.Certificate{}, fmt.Errorf("key store %s: type %s not supported (JKS, PKCS12, JCEKS or PEM)", path, typ)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key store %s (%s): %w", path, typ, err)
	}
	return cert, nil
}

// Trusted reads the certificates of the trust store at path. A JKS or PKCS12 store opened without a password is read
// without checking its integrity, as Java does.
func Trusted(typ, path, storePass string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read trust store: %w", err)
	}
	var certs []*x509.Certificate
	switch {
	case strings.EqualFold(typ, JKS):
		certs, err = jksTrusted(data, storePass)
	case strings.EqualFold(typ, PKCS12):
		certs, err = pkcs12.DecodeTrustStore(data, storePass)
	case strings.EqualFold(typ, JCEKS):
		certs, err = jceksTrusted(data, storePass)
	case typ == PEM:
		certs, err = PEMCertificates(data)
	default:
		return nil, fmt.Errorf("trust store %s: type %s not supported (JKS, PKCS12, JCEKS or PEM)", path, typ)
	}
	if err == nil && len(certs) == 0 {
		err = errors.New("no trusted certificate in it")
	}
	if err != nil {
		return nil, fmt.Errorf("trust store %s (%s): %w", path, typ, err)
	}
	return certs, nil
}

// keyBlocks are the PEM block types of private keys read.
var keyBlocks = []string{"PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"}

// PEMKeyPair builds a key pair from PEM text: the private key (PKCS#8, as Kafka requires, or PKCS#1 and SEC 1,
// which openssl writes) from keyPEM and the chain, leaf first, from chainPEM. The two may be the same text.
//
// An ENCRYPTED PRIVATE KEY block is decrypted with password (see DecryptPKCS8). Kafka 2.8 (ssl.key.password) and
// ZooKeeper 3.8 (keyStore.password) both read the key as encrypted exactly when a password is given, so an encrypted
// key without one, and a plain key with one, are refused here as they fail there.
func PEMKeyPair(keyPEM, chainPEM []byte, password string) (tls.Certificate, error) {
	var key crypto.PrivateKey
	for rest := keyPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if !slices.Contains(keyBlocks, b.Type) {
			continue
		}
		if _, ok := b.Headers["DEK-Info"]; ok {
			// Neither product finds a key in this form: its headers break their PEM patterns.
			return tls.Certificate{}, fmt.Errorf("%s with DEK-Info: OpenSSL's legacy key encryption is not read; "+
				"convert the key with openssl pkcs8 -topk8", b.Type)
		}
		encrypted := b.Type == "ENCRYPTED PRIVATE KEY"
		switch {
		case encrypted && password == "":
			return tls.Certificate{}, errors.New("the private key is encrypted and no password was given")
		case !encrypted && password != "":
			return tls.Certificate{}, fmt.Errorf("a password was given but the private key (%s) is not encrypted", b.Type)
		}
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			var der []byte
			if der, err = DecryptPKCS8(b.Bytes, password); err == nil {
				key, err = x509.ParsePKCS8PrivateKey(der)
			}
		}
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("parse %s: %w", strings.ToLower(b.Type), err)
		}
		break
	}
	if key == nil {
		return tls.Certificate{}, errors.New("no private key in the PEM text")
	}
	chain, err := PEMCertificates(chainPEM)
	if err != nil {
		return tls.Certificate{}, err
	}
	return pair(key, chain)
}

// PEMCertificates reads every CERTIFICATE block of a PEM text.
func PEMCertificates(text []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := text; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate in the PEM text")
	}
	return certs, nil
}

// pair checks that key belongs to the chain's leaf and makes the tls.Certificate.
func pair(key crypto.PrivateKey, chain []*x509.Certificate) (tls.Certificate, error) {
	if len(chain) == 0 {
		return tls.Certificate{}, errors.New("the key has no certificate")
	}
	pub, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok {
		return tls.Certificate{}, fmt.Errorf("unsupported private key type %T", key)
	}
	eq, ok := pub.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(chain[0].PublicKey) {
		return tls.Certificate{}, errors.New("the private key does not match the first certificate of its chain")
	}
	cert := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

func pkcs12KeyPair(data []byte, storePass, keyPass string) (tls.Certificate, error) {
	key, leaf, cas, err := pkcs12.DecodeChain(data, storePass)
	if err != nil && keyPass != "" && keyPass != storePass {
		key, leaf, cas, err = pkcs12.DecodeChain(data, keyPass)
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	return pair(key, append([]*x509.Certificate{leaf}, cas...))
}

func jksKeyPair(data []byte, storePass, keyPass string) (tls.Certificate, error) {
	ks, err := loadJKS(data, storePass)
	if err != nil {
		return tls.Certificate{}, err
	}
	if keyPass == "" {
		keyPass = storePass
	}
	for _, alias := range ks.Aliases() {
		if !ks.IsPrivateKeyEntry(alias) {
			continue
		}
		e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPass))
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("key %q: %w", alias, err)
		}
		key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("key %q: %w", alias, err)
		}
		var chain []*x509.Certificate
		for _, c := range e.CertificateChain {
			cert, err := x509.ParseCertificate(c.Content)
			if err != nil {
				return tls.Certificate{}, fmt.Errorf("key %q: certificate: %w", alias, err)
			}
			chain = append(chain, cert)
		}
		return pair(key, chain)
	}
	return tls.Certificate{}, errors.New("no private key entry in it")
}

func jksTrusted(data []byte, storePass string) ([]*x509.Certificate, error) {
	ks, err := loadJKS(data, storePass)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, alias := range ks.Aliases() {
		var raw []byte
		switch {
		case ks.IsTrustedCertificateEntry(alias):
			e, err := ks.GetTrustedCertificateEntry(alias)
			if err != nil {
				return nil, err
			}
			raw = e.Certificate.Content
		case ks.IsPrivateKeyEntry(alias):
			// Java's trust manager trusts the leaf of a key entry too.
			chain, err := ks.GetPrivateKeyEntryCertificateChain(alias)
			if err != nil || len(chain) == 0 {
				continue
			}
			raw = chain[0].Content
		default:
			continue
		}
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return nil, fmt.Errorf("certificate %q: %w", alias, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}

// jksWhitener is the text Java mixes into a JKS file's integrity digest after the password.
const jksWhitener = "Mighty Aphrodite"

// loadJKS reads a JKS file. Without a password Java skips the integrity check; the reader used here always makes
// it, so the digest is recomputed for the empty password first (the file's digest is then not checked, as in Java).
func loadJKS(data []byte, storePass string) (jks.KeyStore, error) {
	if storePass == "" && len(data) > sha1.Size {
		data = slices.Clone(data)
		body := data[:len(data)-sha1.Size]
		h := sha1.New()
		h.Write([]byte(jksWhitener))
		h.Write(body)
		copy(data[len(body):], h.Sum(nil))
	}
	ks := jks.New(jks.WithOrderedAliases())
	if err := ks.Load(bytes.NewReader(data), []byte(storePass)); err != nil {
		if strings.Contains(err.Error(), "invalid digest") {
			return ks, errors.New("Keystore was tampered with, or password was incorrect")
		}
		return ks, err
	}
	return ks, nil
}

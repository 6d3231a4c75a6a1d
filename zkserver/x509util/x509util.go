// Package x509util loads what Apache's X509Util builds its SSL context from: the key store, the trust store, the
// protocols, the cipher suites and the client authentication of one group of settings (the client ports' ssl.*, or
// the quorum's ssl.quorum.*).
package x509util

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"

	"github.com/zkafka/zkafka/compat/jsse"
	"github.com/zkafka/zkafka/compat/keystore"
	"github.com/zkafka/zkafka/compat/zoocfg"
)

// Load turns the settings into a TLS configuration for the serving side: the key store's certificate (none without
// one), the trust store's certificates as ClientCAs and RootCAs (nil without one: Java's handshake then trusts its
// default store, cacerts, for which the system roots stand in), the protocol versions, the cipher suites, and the
// client authentication, and with ssl.crl or ssl.ocsp (and a trust store) the revocation checks of the peer's
// chain. prefix names the settings in errors ("ssl." or "ssl.quorum.").
func Load(t zoocfg.TLSSettings, prefix string) (*tls.Config, error) {
	// Refused rather than ignored: a server told to use a Java class must not quietly do without it.
	if t.ContextSupplier != "" {
		return nil, fmt.Errorf("%scontext.supplier.class %s: a Java SSLContext supplier cannot run here", prefix,
			t.ContextSupplier)
	}
	cfg := &tls.Config{}
	if rev := NewRevocation(t, nil); rev != nil {
		// The peer's chains, verified against the trust store by crypto/tls, are checked for revocation as
		// X509Util's PKIX trust manager checks them for ssl.crl and ssl.ocsp.
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return rev.CheckChains(context.Background(), cs.VerifiedChains)
		}
	}
	if t.KeystoreLocation != "" {
		cert, err := keystore.KeyPair(t.KeystoreType, t.KeystoreLocation, t.KeystorePassword, "")
		if err != nil {
			return nil, fmt.Errorf("%skeyStore.location: %w", prefix, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if t.TruststoreLocation != "" {
		trusted, err := keystore.Trusted(t.TruststoreType, t.TruststoreLocation, t.TruststorePassword)
		if err != nil {
			return nil, fmt.Errorf("%strustStore.location: %w", prefix, err)
		}
		pool := x509.NewCertPool()
		for _, c := range trusted {
			pool.AddCert(c)
		}
		cfg.ClientCAs, cfg.RootCAs = pool, pool
	}
	var err error
	if cfg.MinVersion, cfg.MaxVersion, err = jsse.Versions(t.EnabledProtocols); err != nil {
		return nil, fmt.Errorf("%senabledProtocols: %w", prefix, err)
	}
	suites := t.CipherSuites
	if slices.Equal(suites, zoocfg.DefaultCipherSuites) {
		suites = jsse.Supported(suites) // Go lacks ECDHE with AES-256-CBC-SHA384; the rest of Java's list stands
	}
	if cfg.CipherSuites, err = jsse.CipherSuites(suites); err != nil {
		return nil, fmt.Errorf("%sciphersuites: %w", prefix, err)
	}
	switch t.ClientAuth {
	case "need":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "want":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		cfg.ClientAuth = tls.NoClientCert
	}
	return cfg, nil
}

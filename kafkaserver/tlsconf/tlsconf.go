// Package tlsconf builds the TLS configurations of a broker's SSL and SASL_SSL listeners and of its own clients on
// the inter-broker listener from Kafka's ssl.* settings, as Kafka 2.8's DefaultSslEngineFactory does from the same
// keys: key and trust stores in JKS, PKCS12 or PEM, ssl.enabled.protocols, ssl.cipher.suites, ssl.client.auth and
// ssl.endpoint.identification.algorithm.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"github.com/zkafka/zkafka/compat/keystore"
	"github.com/zkafka/zkafka/compat/serverprops"
)

// Server is the TLS configuration of a listener serving SSL or SASL_SSL. Its key store is required; its trust store
// decides which client certificates are accepted (the system's roots without one, as Java's cacerts).
func Server(s serverprops.SSLSettings) (*tls.Config, error) {
	cfg, err := base(s)
	if err != nil {
		return nil, err
	}
	if len(cfg.Certificates) == 0 {
		return nil, fmt.Errorf("no key store: set %s (or %s and %s)", serverprops.SSLKeystoreLocation,
			serverprops.SSLKeystoreKey, serverprops.SSLKeystoreCertificateChain)
	}
	switch s.ClientAuth {
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "requested":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		cfg.ClientAuth = tls.NoClientCert
	}
	cfg.ClientCAs = cfg.RootCAs
	cfg.RootCAs = nil
	return cfg, nil
}

// Client is the TLS configuration of the broker's own connections to other brokers' inter-broker listener: the
// trust store verifies them, the key store (if any) is presented when they ask. With
// ssl.endpoint.identification.algorithm "https" (the default) the certificate must name the host dialled; an
// empty value checks the chain only.
func Client(s serverprops.SSLSettings) (*tls.Config, error) {
	cfg, err := base(s)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(s.EndpointIdentification) {
	case "https":
	case "":
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true // the chain is still verified, below, only not the host name
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: the server presented no certificate")
			}
			opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	default:
		return nil, fmt.Errorf("%s=%s: only https or an empty value is supported",
			serverprops.SSLEndpointIdentification, s.EndpointIdentification)
	}
	return cfg, nil
}

// base reads the stores and the protocol and cipher settings common to both sides.
func base(s serverprops.SSLSettings) (*tls.Config, error) {
	cfg := &tls.Config{}
	var err error
	if cfg.MinVersion, cfg.MaxVersion, err = versions(s.EnabledProtocols); err != nil {
		return nil, err
	}
	if cfg.CipherSuites, err = cipherSuites(s.CipherSuites); err != nil {
		return nil, err
	}
	switch {
	case s.KeystoreKey != "" || s.KeystoreCertificateChain != "":
		if s.KeystoreType != keystore.PEM {
			return nil, fmt.Errorf("%s and %s need %s=PEM", serverprops.SSLKeystoreKey,
				serverprops.SSLKeystoreCertificateChain, serverprops.SSLKeystoreType)
		}
		cert, err := keystore.PEMKeyPair([]byte(s.KeystoreKey), []byte(s.KeystoreCertificateChain))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", serverprops.SSLKeystoreKey, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case s.KeystoreLocation != "":
		cert, err := keystore.KeyPair(s.KeystoreType, s.KeystoreLocation, s.KeystorePassword, s.KeyPassword)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	var trusted []*x509.Certificate
	switch {
	case s.TruststoreCertificates != "":
		if s.TruststoreType != keystore.PEM {
			return nil, fmt.Errorf("%s needs %s=PEM", serverprops.SSLTruststoreCertificates, serverprops.SSLTruststoreType)
		}
		if trusted, err = keystore.PEMCertificates([]byte(s.TruststoreCertificates)); err != nil {
			return nil, fmt.Errorf("%s: %w", serverprops.SSLTruststoreCertificates, err)
		}
	case s.TruststoreLocation != "":
		if trusted, err = keystore.Trusted(s.TruststoreType, s.TruststoreLocation, s.TruststorePassword); err != nil {
			return nil, err
		}
	}
	if trusted != nil {
		cfg.RootCAs = x509.NewCertPool()
		for _, c := range trusted {
			cfg.RootCAs.AddCert(c)
		}
	}
	return cfg, nil
}

var protocolVersions = map[string]uint16{
	"TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13,
}

// versions turns ssl.enabled.protocols into the range Go's TLS takes (0, 0: Go's defaults, TLS 1.2 and 1.3, which is
// Kafka 2.8's default list). A list with a gap (TLSv1.1,TLSv1.3) enables the versions between too.
func versions(enabled []string) (lo, hi uint16, err error) {
	for _, p := range enabled {
		v, ok := protocolVersions[p]
		if !ok {
			return 0, 0, fmt.Errorf("%s: unsupported protocol %q (TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)",
				serverprops.SSLEnabledProtocols, p)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	return lo, hi, nil
}

// cipherSuites turns ssl.cipher.suites, standard (IANA) names as Java spells them, into Go's ids. TLS 1.3's suites
// are not configurable in Go: naming them is accepted and changes nothing (TLS 1.3 uses all three).
func cipherSuites(names []string) ([]uint16, error) {
	if len(names) == 0 {
		return nil, nil
	}
	known := map[string]uint16{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[cs.Name] = cs.ID
	}
	var ids []uint16
	for _, n := range names {
		id, ok := known[n]
		if !ok {
			if strings.HasPrefix(n, "TLS_AES_") || strings.HasPrefix(n, "TLS_CHACHA20_") {
				continue // a TLS 1.3 suite
			}
			return nil, fmt.Errorf("%s: unsupported cipher suite %s", serverprops.SSLCipherSuites, n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// PrincipalName is the name Kafka's default principal builder gives a client certificate under
// ssl.principal.mapping.rules=DEFAULT: its subject's distinguished name as Java's X500Principal.getName() writes it
// (RFC 2253: the certificate's own attribute order, most specific first).
func PrincipalName(cert *x509.Certificate) string {
	var rdns pkix.RDNSequence
	if rest, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil || len(rest) > 0 {
		return cert.Subject.String()
	}
	return rdns.String()
}

// Package tlsconf builds the TLS configurations of a broker's SSL and SASL_SSL listeners and of its own clients on
// the inter-broker listener from Kafka's ssl.* settings, as Kafka 2.8's DefaultSslEngineFactory does from the same
// keys: key and trust stores in JKS, PKCS12, JCEKS or PEM, ssl.enabled.protocols, ssl.cipher.suites,
// ssl.client.auth and ssl.endpoint.identification.algorithm.
package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/zkafka/zkafka/compat/jsse"
	"github.com/zkafka/zkafka/compat/keystore"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver/x509util"
)

// Server is the TLS configuration of a listener serving SSL or SASL_SSL. Its key store is required; its trust store
// decides which client certificates are accepted (the system's roots without one, as Java's cacerts).
func Server(s serverprops.SSLSettings) (*tls.Config, error) {
	if err := kafkaKeyStoreRules(s); err != nil {
		return nil, err
	}
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
	if err := kafkaKeyStoreRules(s); err != nil {
		return nil, err
	}
	return client(s)
}

// client is Client without Kafka's key store rules, for ZooKeeper's client, which reads the same stores by its own.
func client(s serverprops.SSLSettings) (*tls.Config, error) {
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
			_, err := verifiedChains(cs, roots)
			return err
		}
	default:
		return nil, fmt.Errorf("%s=%s: only https or an empty value is supported",
			serverprops.SSLEndpointIdentification, s.EndpointIdentification)
	}
	return cfg, nil
}

// ZooKeeper is the TLS configuration of the broker's ZooKeeper client (zookeeper.ssl.*): the trust store verifies
// the server, the key store is the broker's certificate (the x509 id ZooKeeper gives it), a store's type taken
// from its file name when not set, as ZooKeeper's client does; a PEM key store's key is decrypted with the key
// store password and must be encrypted when one is given, as ZooKeeper's PemReader reads it. TLS needs the Netty
// client socket, as in ZooKeeper. zookeeper.ssl.crl.enable and ocsp.enable check the server's chain for revocation
// as ZooKeeper's X509Util has Java's validator do it (x509util.Revocation; only with a trust store, as there).
func ZooKeeper(z serverprops.ZkClientTLS) (*tls.Config, error) {
	if z.CnxnSocket != serverprops.NettyCnxnSocket {
		return nil, fmt.Errorf("zookeeper.ssl.client.enable needs zookeeper.clientCnxnSocket=%s (got %q)",
			serverprops.NettyCnxnSocket, z.CnxnSocket)
	}
	s := z.SSL
	var err error
	if s.KeystoreLocation != "" {
		if s.KeystoreType, err = zoocfg.StoreType(s.KeystoreType, s.KeystoreLocation); err != nil {
			return nil, err
		}
	}
	if s.TruststoreLocation != "" {
		if s.TruststoreType, err = zoocfg.StoreType(s.TruststoreType, s.TruststoreLocation); err != nil {
			return nil, err
		}
	}
	cfg, err := client(s)
	if err != nil {
		return nil, err
	}
	// ocsp.enable is the JVM's: the broker's ZooKeeper client is the one setting it.
	rev := x509util.NewRevocation(zoocfg.TLSSettings{CRL: z.CRL, OCSP: z.OCSP, OCSPEnabled: z.OCSP,
		TruststoreLocation: s.TruststoreLocation}, nil)
	if rev == nil {
		return cfg, nil
	}
	ownVerify, roots := cfg.InsecureSkipVerify, cfg.RootCAs
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		chains := cs.VerifiedChains
		if ownVerify { // host names unchecked: the chains come from our verification, not the handshake's
			var err error
			if chains, err = verifiedChains(cs, roots); err != nil {
				return err
			}
		}
		return rev.CheckChains(context.Background(), chains)
	}
	return cfg, nil
}

// verifiedChains verifies the server's chain against roots, without its host name.
func verifiedChains(cs tls.ConnectionState, roots *x509.CertPool) ([][]*x509.Certificate, error) {
	if len(cs.PeerCertificates) == 0 {
		return nil, errors.New("tls: the server presented no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	return cs.PeerCertificates[0].Verify(opts)
}

// kafkaKeyStoreRules refuses the combinations of PEM key store settings that Kafka 2.8's DefaultSslEngineFactory
// refuses at start. A PEM key has no store password; ssl.key.password decrypts it, and Kafka reads it as encrypted
// exactly when that is set (keystore.PEMKeyPair), so a PEM key store file, which needs the key password, holds an
// encrypted key.
func kafkaKeyStoreRules(s serverprops.SSLSettings) error {
	inline := s.KeystoreKey != "" || s.KeystoreCertificateChain != ""
	switch {
	case inline && s.KeystoreType != keystore.PEM:
		return fmt.Errorf("%s and %s need %s=PEM", serverprops.SSLKeystoreKey, serverprops.SSLKeystoreCertificateChain,
			serverprops.SSLKeystoreType)
	case inline && s.KeystoreKey == "":
		return fmt.Errorf("%s is set but not %s", serverprops.SSLKeystoreCertificateChain, serverprops.SSLKeystoreKey)
	case inline && s.KeystoreCertificateChain == "":
		return fmt.Errorf("%s is set but not %s", serverprops.SSLKeystoreKey, serverprops.SSLKeystoreCertificateChain)
	case inline && s.KeystoreLocation != "":
		return fmt.Errorf("%s and %s are both set: give the key one way", serverprops.SSLKeystoreLocation,
			serverprops.SSLKeystoreKey)
	case (inline || s.KeystoreType == keystore.PEM && s.KeystoreLocation != "") && s.KeystorePassword != "":
		return fmt.Errorf("a PEM key store takes no %s: its key is decrypted with %s", serverprops.SSLKeystorePassword,
			serverprops.SSLKeyPassword)
	case s.KeystoreType == keystore.PEM && s.KeystoreLocation != "" && s.KeyPassword == "":
		return fmt.Errorf("a PEM key store file needs %s, its key encrypted with it (Kafka 2.8 reads no plain key "+
			"from a file; %s takes one)", serverprops.SSLKeyPassword, serverprops.SSLKeystoreKey)
	}
	return nil
}

// base reads the stores and the protocol and cipher settings common to both sides.
func base(s serverprops.SSLSettings) (*tls.Config, error) {
	cfg := &tls.Config{}
	var err error
	if cfg.MinVersion, cfg.MaxVersion, err = jsse.Versions(s.EnabledProtocols); err != nil {
		return nil, fmt.Errorf("%s: %w", serverprops.SSLEnabledProtocols, err)
	}
	if cfg.CipherSuites, err = jsse.CipherSuites(s.CipherSuites); err != nil {
		return nil, fmt.Errorf("%s: %w", serverprops.SSLCipherSuites, err)
	}
	switch {
	case s.KeystoreKey != "":
		cert, err := keystore.PEMKeyPair([]byte(s.KeystoreKey), []byte(s.KeystoreCertificateChain), s.KeyPassword)
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

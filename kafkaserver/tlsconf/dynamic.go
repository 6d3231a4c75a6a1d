package tlsconf

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/compat/serverprops"
)

// Dynamic is the TLS of one listener, as its server or as the broker's own client on it, rebuilt when a dynamic
// config update changes its key or trust store, as Kafka's SslFactory is reconfigured: connections made after the
// update use the new stores, open ones keep theirs.
type Dynamic struct {
	server bool
	// interBroker is Kafka's keystoreVerifiableUsingTruststore: on the inter-broker listener a client made from
	// the settings must be able to connect to a server made from them, and old and new stores must trust each
	// other across an update.
	interBroker bool

	mu  sync.Mutex // serializes rebuilds
	cur atomic.Pointer[built]
}

// built is one generation of a Dynamic: its settings and what was made of them.
type built struct {
	settings serverprops.SSLSettings
	cfg      *tls.Config
	chain    []*x509.Certificate // the key store's certificate chain, leaf first; nil without a key store
	roots    *x509.CertPool      // nil without a trust store
	files    []fileStamp         // the store files read, to notice changes in place
}

// fileStamp is a store file and its modification time when read (Kafka's FileBasedStore.lastModifiedMs).
type fileStamp struct {
	path string
	mod  time.Time
}

func stamp(path string) fileStamp {
	st := fileStamp{path: path}
	if fi, err := os.Stat(path); err == nil {
		st.mod = fi.ModTime()
	}
	return st
}

func (f fileStamp) modified() bool { return !stamp(f.path).mod.Equal(f.mod) }

// NewServerTLS builds the TLS of a listener serving SSL or SASL_SSL from s. On the inter-broker listener the
// broker's client made from the same settings must be able to connect to it, or the start fails, as Kafka's.
func NewServerTLS(s serverprops.SSLSettings, interBroker bool) (*Dynamic, error) {
	d := &Dynamic{server: true, interBroker: interBroker}
	b, err := d.build(s)
	if err != nil {
		return nil, err
	}
	if interBroker {
		if err := verifiable(b, b); err != nil {
			return nil, fmt.Errorf("a client SSLEngine created with the provided settings can't connect to a "+
				"server SSLEngine created with those settings: %w", err)
		}
	}
	d.cur.Store(b)
	return d, nil
}

// NewClientTLS builds the TLS of the broker's own connections on a listener from s.
func NewClientTLS(s serverprops.SSLSettings) (*Dynamic, error) {
	d := &Dynamic{}
	b, err := d.build(s)
	if err != nil {
		return nil, err
	}
	d.cur.Store(b)
	return d, nil
}

func (d *Dynamic) build(s serverprops.SSLSettings) (*built, error) {
	var cfg *tls.Config
	var err error
	if d.server {
		cfg, err = Server(s)
	} else {
		cfg, err = Client(s)
	}
	if err != nil {
		return nil, err
	}
	b := &built{settings: s, cfg: cfg}
	if len(cfg.Certificates) > 0 {
		for _, der := range cfg.Certificates[0].Certificate {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("key store certificate: %w", err)
			}
			b.chain = append(b.chain, c)
		}
	}
	if d.server {
		b.roots = cfg.ClientCAs
	} else {
		b.roots = cfg.RootCAs
	}
	if s.TruststoreCertificates == "" && s.TruststoreLocation == "" {
		b.roots = nil
	}
	if s.KeystoreKey == "" && s.KeystoreCertificateChain == "" && s.KeystoreLocation != "" {
		b.files = append(b.files, stamp(s.KeystoreLocation))
	}
	if s.TruststoreCertificates == "" && s.TruststoreLocation != "" {
		b.files = append(b.files, stamp(s.TruststoreLocation))
	}
	return b, nil
}

// Config is the server side's configuration for a listener: each handshake takes the current stores.
func (d *Dynamic) Config() *tls.Config {
	return &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return d.cur.Load().cfg, nil
	}}
}

// Dial connects to addr over TLS with the current stores, naming addr's host as the server (the client side).
func (d *Dynamic) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	cfg := d.cur.Load().cfg.Clone()
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("tls dial %s: %w", addr, err)
		}
		cfg.ServerName = host
	}
	return (&tls.Dialer{Config: cfg}).DialContext(ctx, network, addr)
}

// Certificate is the current key store's leaf certificate (nil without a key store).
func (d *Dynamic) Certificate() *x509.Certificate {
	if c := d.cur.Load().chain; len(c) > 0 {
		return c[0]
	}
	return nil
}

// StoresChanged reports whether next names other stores than the current ones (Kafka's reconfigurable SSL
// configs: key and trust store type, location, passwords and PEM text).
func (d *Dynamic) StoresChanged(next serverprops.SSLSettings) bool {
	return !sameStores(d.cur.Load().settings, next)
}

// Validate checks that next could replace the current stores (SslFactory.validateReconfiguration).
func (d *Dynamic) Validate(next serverprops.SSLSettings) error {
	_, err := d.rebuild(next)
	return err
}

// Reconfigure makes next's stores current when they differ from the current ones or a store file changed since
// it was read, after the checks of Validate. It reports whether anything was rebuilt.
func (d *Dynamic) Reconfigure(next serverprops.SSLSettings) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, err := d.rebuild(next)
	if err != nil || b == nil {
		return false, err
	}
	d.cur.Store(b)
	return true, nil
}

// rebuild is SslFactory.createNewSslEngineFactory: nil when nothing needs rebuilding, else the new generation
// once it passes Kafka's checks against the current one.
func (d *Dynamic) rebuild(next serverprops.SSLSettings) (*built, error) {
	old := d.cur.Load()
	if sameStores(old.settings, next) && !slices.ContainsFunc(old.files, fileStamp.modified) {
		return nil, nil
	}
	// The other SSL settings are not reconfigurable: they stay what the listener started with.
	s := old.settings
	s.KeystoreType, s.KeystoreLocation, s.KeystorePassword, s.KeyPassword = next.KeystoreType, next.KeystoreLocation,
		next.KeystorePassword, next.KeyPassword
	s.KeystoreKey, s.KeystoreCertificateChain = next.KeystoreKey, next.KeystoreCertificateChain
	s.TruststoreType, s.TruststoreLocation, s.TruststorePassword = next.TruststoreType, next.TruststoreLocation,
		next.TruststorePassword
	s.TruststoreCertificates = next.TruststoreCertificates
	// Whether a key store is named is decided from the settings: a server's build fails without one.
	hasKeystore := s.KeystoreLocation != "" || s.KeystoreKey != "" || s.KeystoreCertificateChain != ""
	var b *built
	var err error
	switch {
	case old.chain == nil && hasKeystore:
		err = errors.New("Cannot add SSL keystore to an existing listener for which no keystore was configured.")
	case old.chain != nil && !hasKeystore:
		err = errors.New("Cannot remove the SSL keystore from an existing listener for which a keystore was configured.")
	default:
		if b, err = d.build(s); err == nil {
			err = compatible(old, b, d.interBroker)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("Validation of dynamic config update of SSLFactory failed: %w", err)
	}
	return b, nil
}

// compatible holds Kafka's rules for replacing a listener's stores, both naming a key store or neither.
func compatible(old, b *built, interBroker bool) error {
	if old.chain != nil {
		if err := sameIdentity(old.chain[0], b.chain[0]); err != nil {
			return err
		}
	}
	if old.roots == nil && b.roots != nil {
		return errors.New("Cannot add SSL truststore to an existing listener for which no truststore was configured.")
	}
	if interBroker && (old.roots != nil || old.chain != nil) {
		if err := verifiable(old, b); err != nil {
			return err
		}
		if err := verifiable(b, old); err != nil {
			return err
		}
	}
	return nil
}

// sameIdentity is SslFactory.CertificateEntries.ensureCompatible for the key store's certificate: the same
// subject, and every subject alternative name of the old one still named.
func sameIdentity(old, cur *x509.Certificate) error {
	if !bytes.Equal(old.RawSubject, cur.RawSubject) && !strings.EqualFold(old.Subject.String(), cur.Subject.String()) {
		return fmt.Errorf("Keystore DistinguishedName does not match:  existing={DN=%s}, new={DN=%s}",
			old.Subject, cur.Subject)
	}
	oldSANs, newSANs := sans(old), sans(cur)
	for _, n := range oldSANs {
		if !slices.Contains(newSANs, n) {
			return fmt.Errorf("Keystore SubjectAltNames do not match:  existing={SAN=%v}, new={SAN=%v}",
				oldSANs, newSANs)
		}
	}
	return nil
}

func sans(c *x509.Certificate) []string {
	var out []string
	for _, n := range c.DNSNames {
		out = append(out, "dns:"+n)
	}
	for _, ip := range c.IPAddresses {
		out = append(out, "ip:"+ip.String())
	}
	for _, e := range c.EmailAddresses {
		out = append(out, "email:"+e)
	}
	for _, u := range c.URIs {
		out = append(out, "uri:"+u.String())
	}
	return out
}

// verifiable is what SslEngineValidator's handshake between a server made from srv and a client made from cli
// checks: the server's chain against the client's trust store (the system's roots without one), and, where the
// server asks for client certificates, the client's chain against the server's trust store.
func verifiable(srv, cli *built) error {
	if len(srv.chain) == 0 {
		return errors.New("the server has no certificate")
	}
	if err := verifyChain(srv.chain, cli.roots, x509.ExtKeyUsageServerAuth); err != nil {
		return fmt.Errorf("server certificate: %w", err)
	}
	switch srv.cfg.ClientAuth {
	case tls.RequireAndVerifyClientCert, tls.VerifyClientCertIfGiven:
		if len(cli.chain) == 0 {
			if srv.cfg.ClientAuth == tls.RequireAndVerifyClientCert {
				return errors.New("the client has no certificate")
			}
			return nil
		}
		if err := verifyChain(cli.chain, srv.roots, x509.ExtKeyUsageClientAuth); err != nil {
			return fmt.Errorf("client certificate: %w", err)
		}
	}
	return nil
}

func verifyChain(chain []*x509.Certificate, roots *x509.CertPool, usage x509.ExtKeyUsage) error {
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{usage}}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	_, err := chain[0].Verify(opts)
	return err
}

// sameStores compares Kafka's reconfigurable SSL configs (SslConfigs.RECONFIGURABLE_CONFIGS).
func sameStores(a, b serverprops.SSLSettings) bool {
	return a.KeystoreType == b.KeystoreType && a.KeystoreLocation == b.KeystoreLocation &&
		a.KeystorePassword == b.KeystorePassword && a.KeyPassword == b.KeyPassword &&
		a.KeystoreKey == b.KeystoreKey && a.KeystoreCertificateChain == b.KeystoreCertificateChain &&
		a.TruststoreType == b.TruststoreType && a.TruststoreLocation == b.TruststoreLocation &&
		a.TruststorePassword == b.TruststorePassword && a.TruststoreCertificates == b.TruststoreCertificates
}

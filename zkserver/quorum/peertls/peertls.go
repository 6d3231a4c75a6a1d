// Package peertls is how quorum peers reach each other's election and quorum ports: in plaintext, over TLS
// (sslQuorum, with QuorumX509Util's ssl.quorum.* settings), or, with portUnification, taking both on one port
// while an ensemble moves to TLS one server at a time.
package peertls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/zkafka/zkafka/compat/javanet"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver/dualmode"
	"github.com/zkafka/zkafka/zkserver/x509util"
)

// lookupTimeout bounds the reverse and forward lookups of a peer's name for the host name check.
const lookupTimeout = 5 * time.Second

// Config is the quorum's transport. A nil *Config is plaintext both ways.
type Config struct {
	dialTLS   bool // sslQuorum: dial peers over TLS, and accept only TLS unless unified
	unified   bool // portUnification: accept TLS and plaintext peers alike
	checkHost bool // ssl.quorum.hostnameVerification
	log       *slog.Logger
	resolver  javanet.Resolver
	settings  zoocfg.TLSSettings
	reload    bool // sslQuorumReloadCertFiles
	// revocation checks peers' chains with ssl.quorum.crl or ssl.quorum.ocsp (nil without); its CRL cache
	// outlives reloads of the stores.
	revocation *x509util.Revocation

	mu sync.Mutex
	// base is every connection's TLS configuration. Its RootCAs are the trust store: nil without one, when Java's
	// default trust manager (cacerts, for which the system roots stand in) checks the chain and no host name is
	// checked (ZKTrustManager only wraps a trust store).
	base   *tls.Config
	stamps []fileStamp // the store files as base was loaded from them (with ReloadCertFiles)
}

// Options are zoo.cfg's switches for the quorum's transport.
type Options struct {
	SSLQuorum       bool // sslQuorum
	PortUnification bool // portUnification
	// ReloadCertFiles is sslQuorumReloadCertFiles: a key or trust store file that changes is loaded again, and
	// the connections made after use it.
	ReloadCertFiles bool
	Logger          *slog.Logger
}

// New is the transport zoo.cfg's sslQuorum and portUnification ask for, with the ssl.quorum.* settings t; nil
// when neither is on.
func New(t zoocfg.TLSSettings, o Options) (*Config, error) {
	if !o.SSLQuorum && !o.PortUnification {
		return nil, nil
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SSLQuorum && t.KeystoreLocation == "" {
		// Apache starts, and then every handshake with a peer fails for want of a certificate.
		return nil, errors.New("sslQuorum needs a key store: set ssl.quorum.keyStore.location")
	}
	c := &Config{dialTLS: o.SSLQuorum, unified: o.PortUnification, checkHost: t.HostnameVerification,
		log: o.Logger, resolver: net.DefaultResolver, settings: t, reload: o.ReloadCertFiles,
		revocation: x509util.NewRevocation(t, o.Logger)}
	if c.reload {
		c.stamps = c.stampFiles()
	}
	var err error
	if c.base, err = load(t); err != nil {
		return nil, err
	}
	return c, nil
}

// load reads the stores and settings into the base of every connection's TLS configuration.
func load(t zoocfg.TLSSettings) (*tls.Config, error) {
	base, err := x509util.Load(t, "ssl.quorum.")
	if err != nil {
		return nil, fmt.Errorf("quorum TLS: %w", err)
	}
	// The chain and the peer's host are checked in verify, as ZKTrustManager checks them, not by crypto/tls.
	switch base.ClientAuth {
	case tls.RequireAndVerifyClientCert:
		base.ClientAuth = tls.RequireAnyClientCert
	case tls.VerifyClientCertIfGiven:
		base.ClientAuth = tls.RequestClientCert
	}
	return base, nil
}

// fileStamp tells whether a store file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

func (c *Config) stampFiles() []fileStamp {
	var stamps []fileStamp
	for _, path := range []string{c.settings.KeystoreLocation, c.settings.TruststoreLocation} {
		var st fileStamp
		if fi, err := os.Stat(path); path != "" && err == nil {
			st = fileStamp{fi.ModTime(), fi.Size()}
		}
		stamps = append(stamps, st)
	}
	return stamps
}

// context is a copy of the base configuration for one connection, the stores loaded again
// first when sslQuorumReloadCertFiles is on and one of their files changed (as X509Util's file watchers reset
// its SSL context; a store that fails to load leaves the one before in use).
func (c *Config) context() *tls.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reload {
		if stamps := c.stampFiles(); !slices.Equal(stamps, c.stamps) {
			c.stamps = stamps
			if base, err := load(c.settings); err != nil {
				c.log.Error("reloading the quorum's key and trust stores", "err", err)
			} else {
				c.log.Info("reloaded the quorum's key and trust stores")
				c.base = base
			}
		}
	}
	return c.base.Clone()
}

// TLS reports whether peers are dialed over TLS (sslQuorum).
func (c *Config) TLS() bool { return c != nil && c.dialTLS }

// Dial connects to a peer's election or quorum port (host:port as its server.N line names it), over TLS with
// sslQuorum, the handshake done before it returns, all within timeout.
func (c *Config) Dial(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || !c.TLS() {
		return nc, err
	}
	host, _, _ := net.SplitHostPort(addr)
	if net.ParseIP(host) != nil {
		host = "" // an address without a name: InetAddress.getHostName looks it up
	}
	ip := remoteIP(nc)
	cfg := c.context()
	cfg.InsecureSkipVerify = true // verify does what Java's trust manager does
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		return c.verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth, cfg.RootCAs, ip, host)
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	cs := tc.ConnectionState()
	c.log.Debug("SSL handshake complete", "remote", addr, "protocol", tls.VersionName(cs.Version),
		"cipher", tls.CipherSuiteName(cs.CipherSuite))
	return tc, nil
}

// Server wraps a connection accepted on the election or quorum port: TLS (its handshake done by the first read or
// write, within the caller's deadlines), plaintext, or either, by its first byte, with portUnification.
func (c *Config) Server(nc net.Conn) net.Conn {
	if c == nil {
		return nc
	}
	ip := remoteIP(nc)
	cfg := c.context()
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil // ssl.quorum.clientAuth want or none, and no certificate sent
		}
		return c.verify(cs.PeerCertificates, x509.ExtKeyUsageClientAuth, cfg.RootCAs, ip, "")
	}
	if c.unified {
		return dualmode.Server(nc, cfg)
	}
	return tls.Server(nc, cfg)
}

// verify checks a peer's chain against the trust store, for revocation with ssl.quorum.crl or ssl.quorum.ocsp, and,
// with ssl.quorum.hostnameVerification, its certificate
// against the peer's address: first the IP address, then the host name (the server.N line's, or the address's name
// from a lookup), as ZKTrustManager.performHostVerification.
func (c *Config) verify(chain []*x509.Certificate, usage x509.ExtKeyUsage, trusted *x509.CertPool, ip net.IP,
	host string) error {
	if len(chain) == 0 {
		return errors.New("no certificate")
	}
	opts := x509.VerifyOptions{Roots: trusted, Intermediates: x509.NewCertPool(),
		KeyUsages: []x509.ExtKeyUsage{usage}}
	for _, cert := range chain[1:] {
		opts.Intermediates.AddCert(cert)
	}
	chains, err := chain[0].Verify(opts)
	if err != nil {
		return err
	}
	if err := c.revocation.CheckChains(context.Background(), chains); err != nil {
		c.log.Error("peer certificate chain fails the revocation check", "address", ip, "err", err)
		return err
	}
	if trusted == nil || !c.checkHost || ip == nil {
		return nil
	}
	if VerifyHost(ip.String(), chain[0]) == nil {
		return nil
	}
	if host == "" {
		host = c.hostName(ip)
	}
	if err := VerifyHost(host, chain[0]); err != nil {
		c.log.Error("peer certificate does not match its address", "address", ip, "host", host, "err", err)
		return fmt.Errorf("failed to verify both host address and host name: %w", err)
	}
	return nil
}

// hostName is InetAddress.getHostName for an address without a name: its canonical name, else the address as
// text.
func (c *Config) hostName(ip net.IP) string {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	return javanet.CanonicalHostName(ctx, c.resolver, ip)
}

func remoteIP(nc net.Conn) net.IP {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP
	}
	return nil
}

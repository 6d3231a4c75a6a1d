package admin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/zkafka/zkafka/zkserver/dualmode"
)

// HTTPS is the AdminServer's TLS, as Apache 3.8's JettyAdminServer sets it up for admin.forceHttps or
// admin.portUnification: the key and certificate of the ssl.quorum.* key store, no client certificate asked for,
// TLS 1.2 and 1.3, and the Strict-Transport-Security header on every answer over TLS.
type HTTPS struct {
	Cert tls.Certificate
	// Unified takes plaintext HTTP on the same port (admin.portUnification without admin.forceHttps), each
	// connection's first byte telling which, as UnifiedConnectionFactory; OnInsecure counts each plaintext
	// connection (insecure_admin_count).
	Unified    bool
	OnInsecure func()
}

// stsHeader is SecureRequestCustomizer's header with JettyAdminServer's settings (a day, sub-domains included).
const stsHeader = "max-age=86400; includeSubDomains"

// plaintextAlert is what Jetty's TLS engine answers a plaintext request on an HTTPS-only port with before it closes:
// a fatal internal_error alert in a TLS 1.2 record.
const plaintextAlert = "\x15\x03\x03\x00\x02\x02\x50"

func (h *HTTPS) tlsConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{h.Cert},
		MinVersion:   tls.VersionTLS12,
		// Jetty's default exclusions leave the ECDHE suites with SHA-2 MACs or AEADs (no SHA-1, no RSA key exchange).
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		},
	}
}

// httpsListener hands out connections that speak TLS, or on a unified port TLS or plaintext.
type httpsListener struct {
	net.Listener
	cfg   *tls.Config
	https *HTTPS
}

func (l *httpsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &httpsConn{Conn: dualmode.Server(c, l.cfg), https: l.https}, nil
}

// httpsConn is one connection of an HTTPS AdminServer port. Its first read tells TLS from plaintext.
type httpsConn struct {
	*dualmode.Conn
	https *HTTPS
	once  sync.Once
	err   error
}

func (c *httpsConn) Read(p []byte) (int, error) {
	c.once.Do(c.detect)
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(p)
}

func (c *httpsConn) detect() {
	c.err = c.Conn.Detect()
	if c.err == nil && c.Conn.TLS() != nil {
		return
	}
	if c.https.Unified {
		// UnifiedConnectionFactory counts every connection not begun by a TLS record, one that closed or failed
		// before its first byte too.
		if c.https.OnInsecure != nil {
			c.https.OnInsecure()
		}
		return
	}
	if c.err != nil {
		return
	}
	// The end of the stream, for the HTTP server: it then closes the connection without answering.
	_, _ = io.WriteString(c.Conn.Conn, plaintextAlert)
	c.err = io.EOF
}

// connKey is the request context's key for its connection.
type connKey struct{}

func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// secure wraps the handler of an HTTPS port: over TLS, a request whose client asked by SNI for a name the
// certificate has must name the same in its Host, as SecureRequestCustomizer's SNI host check (400 otherwise), and
// its answer gets the Strict-Transport-Security header.
func (h *HTTPS) secure(next http.Handler) (http.Handler, error) {
	leaf := h.Cert.Leaf
	if leaf == nil {
		if len(h.Cert.Certificate) == 0 {
			return nil, errors.New("admin server: no certificate")
		}
		var err error
		if leaf, err = x509.ParseCertificate(h.Cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("admin server: parse certificate: %w", err)
		}
	}
	names := newCertNames(leaf)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(*httpsConn)
		if c == nil || c.Conn.TLS() == nil {
			next.ServeHTTP(w, r)
			return
		}
		sni := c.Conn.TLS().ConnectionState().ServerName
		if sni != "" && names.matches(sni) && !names.matches(serverName(r)) {
			w.Header().Set("Cache-Control", "must-revalidate,no-cache,no-store")
			w.Header().Set("Content-Type", "text/html;charset=iso-8859-1")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprint(w, "<html>\n<head>\n<title>Error 400 Host does not match SNI</title>\n</head>\n"+
				"<body><h2>HTTP ERROR 400 Host does not match SNI</h2></body>\n</html>\n")
			return
		}
		w.Header().Set("Strict-Transport-Security", stsHeader)
		next.ServeHTTP(w, r)
	}), nil
}

// serverName is the request's host as Jetty's Request.getServerName gives it: the Host header's without its port,
// else the address the connection came in on.
func serverName(r *http.Request) string {
	host := r.Host
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// certNames are the names a certificate answers to, as Jetty's X509: its DNS subject alternative names (a "*."
// name covers one label), else its common names, and its IP address alternative names.
type certNames struct {
	hosts, wilds []string
	ips          []net.IP
}

func newCertNames(c *x509.Certificate) certNames {
	var n certNames
	add := func(name string) {
		name = strings.ToLower(name)
		if d, ok := strings.CutPrefix(name, "*."); ok {
			n.wilds = append(n.wilds, d)
		} else {
			n.hosts = append(n.hosts, name)
		}
	}
	for _, d := range c.DNSNames {
		add(d)
	}
	if len(n.hosts) == 0 && len(n.wilds) == 0 {
		for _, a := range c.Subject.Names { // every common name of a parsed certificate
			if s, ok := a.Value.(string); ok && a.Type.Equal([]int{2, 5, 4, 3}) {
				add(s)
			}
		}
		if len(c.Subject.Names) == 0 && c.Subject.CommonName != "" {
			add(c.Subject.CommonName)
		}
	}
	n.ips = c.IPAddresses
	return n
}

func (n certNames) matches(host string) bool {
	host = strings.ToLower(host)
	if slices.Contains(n.hosts, host) {
		return true
	}
	if i := strings.IndexByte(host, '.'); i >= 0 && slices.Contains(n.wilds, host[i+1:]) {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		return slices.ContainsFunc(n.ips, ip.Equal)
	}
	return false
}

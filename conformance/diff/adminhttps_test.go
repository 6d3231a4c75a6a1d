package diff

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// TestAdminServerHTTPSAsApache compares the AdminServer over TLS with Apache's (JettyAdminServer with
// admin.forceHttps or admin.portUnification, its certificate from the ssl.quorum.* key store): what a client gets
// with and without SNI, with a Host the certificate does not name, with plaintext, with TLS 1.1; whether a client
// certificate is asked for; the Strict-Transport-Security header; insecure_admin_count; and a server whose trust
// store is missing, which runs without an AdminServer.
func TestAdminServerHTTPSAsApache(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "admin-ca")
	id := ca.Issue(pkix.Name{CommonName: "zk"}, "localhost")
	stores := map[string]map[string]string{
		"jks": {"ssl.quorum.keyStore.location": id.WriteJKS(dir, "zk.jks", "kspw", "kspw"),
			"ssl.quorum.keyStore.password":   "kspw",
			"ssl.quorum.trustStore.location": ca.WriteTrustJKS(dir, "trust.jks", "tspw"),
			"ssl.quorum.trustStore.password": "tspw"},
		"pkcs12": {"ssl.quorum.keyStore.location": id.WritePKCS12(dir, "zk.p12", "kspw"),
			"ssl.quorum.keyStore.password":   "kspw",
			"ssl.quorum.trustStore.location": ca.WriteTrustPEM(dir, "trust.pem")},
		"no-trust-store": {"ssl.quorum.keyStore.location": id.WritePEM(dir, "zk.pem")},
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	runs := []struct{ name, mode, stores string }{
		{"forceHttps", "admin.forceHttps", "jks"},
		{"portUnification", "admin.portUnification", "pkcs12"},
		{"no-trust-store", "admin.forceHttps", "no-trust-store"},
	}
	harness.SameAsApache(t, func(t *testing.T, kind harness.Kind) []string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var lines []string
		for _, run := range runs {
			port, err := harness.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			props := map[string]string{"admin.enableServer": "true", "admin.serverPort": strconv.Itoa(port),
				"admin.serverAddress": "127.0.0.1", run.mode: "true"}
			for k, v := range stores[run.stores] {
				props[k] = v
			}
			s, err := harness.Start(ctx, kind, harness.Config{Props: props})
			harness.NeedOrSkip(t, err)
			say := func(f string, a ...any) { lines = append(lines, run.name+": "+fmt.Sprintf(f, a...)) }
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			// Jetty starts after the client port; wait for it as a client would retry.
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
				if c, err := net.Dial("tcp", addr); err == nil {
					c.Close()
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			for _, c := range []struct {
				sni, host string
				max       uint16
			}{{"localhost", "localhost", 0}, {"localhost", "127.0.0.1", 0}, {"", "127.0.0.1", 0},
				{"other.example", "localhost", 0}, {"localhost", "localhost", tls.VersionTLS12},
				{"localhost", "localhost", tls.VersionTLS11}} {
				asked := false
				cfg := &tls.Config{RootCAs: pool, ServerName: c.sni, MinVersion: tls.VersionTLS10, MaxVersion: c.max,
					GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
						asked = true
						return &tls.Certificate{}, nil
					}}
				if c.sni != "localhost" {
					// Verified against localhost without sending that name.
					cfg.InsecureSkipVerify = true
					cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
						cert, err := x509.ParseCertificate(raw[0])
						if err != nil {
							return err
						}
						_, err = cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"})
						return err
					}
				}
				say("https sni %q host %q max %x: %s (client certificate asked: %v)", c.sni, c.host, c.max,
					adminGet(ctx, "https", addr, c.host, cfg), asked)
			}
			say("http: %s", adminGet(ctx, "http", addr, "127.0.0.1", nil))
			say("plaintext request: %s", rawAdminRequest(addr))
			kv := mntrValues(t, ctx, s)
			say("insecure_admin_count %s", kv["zk_insecure_admin_count"])
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			_ = s.Cleanup(false)
		}
		return lines
	})
}

// adminGet fetches ruok and says what came back: the status, whether the body answers ruok, the STS header and
// the TLS version, or that the request failed (refused, or another way).
func adminGet(ctx context.Context, scheme, addr, host string, cfg *tls.Config) string {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true},
		Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+"/commands/ruok", nil)
	if err != nil {
		return err.Error()
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
			return "refused"
		}
		return "failed"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	v := "plaintext"
	if resp.TLS != nil {
		v = tls.VersionName(resp.TLS.Version)
	}
	// Not the body of a 400: Jetty's error page has its stack trace.
	return fmt.Sprintf("%d, ruok answered: %v, STS %q, %s", resp.StatusCode,
		bytes.Contains(body, []byte(`"command" : "ruok"`)),
		resp.Header.Get("Strict-Transport-Security"), v)
}

// rawAdminRequest sends a plaintext request on its own connection and says whether an HTTP answer or a TLS alert
// came back before the server closed it.
func rawAdminRequest(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "refused"
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /commands/ruok HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	switch {
	case len(b) >= 7 && b[0] == 0x15:
		return fmt.Sprintf("TLS alert % x", b[:7])
	case bytes.HasPrefix(b, []byte("HTTP/1.1 200")):
		return "HTTP 200"
	}
	return fmt.Sprintf("%d other bytes", len(b))
}

package x509util

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/compat/zoocfg"
)

// publisher serves CRLs and OCSP responses on 127.0.0.1: a path's content, or for an OCSP path the answer a
// function gives for the certificate asked about; it counts the requests per path.
type publisher struct {
	srv *httptest.Server

	mu       sync.Mutex
	files    map[string][]byte
	ocsp     map[string]func(req *ocsp.Request) []byte
	requests map[string]int
	modified time.Time
}

func newPublisher(t *testing.T) *publisher {
	p := &publisher{files: map[string][]byte{}, ocsp: map[string]func(*ocsp.Request) []byte{},
		requests: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *publisher) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	dir, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if answer := p.ocsp["/"+dir]; answer != nil {
		p.requests["/"+dir]++
		der, err := ocspRequestBytes(r, rest)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req, err := ocsp.ParseRequest(der)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Write(answer(req))
		return
	}
	p.requests[r.URL.Path]++
	b, ok := p.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !p.modified.IsZero() {
		if since, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !p.modified.Truncate(time.Second).After(since) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", p.modified.UTC().Format(http.TimeFormat))
	}
	w.Write(b)
}

// ocspRequestBytes is the request a GET carries in its path, or a POST in its body.
func ocspRequestBytes(r *http.Request, rest string) ([]byte, error) {
	if r.Method == http.MethodPost {
		return io.ReadAll(r.Body)
	}
	s, err := url.QueryUnescape(rest)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(s)
}

func (p *publisher) url(path string) string { return p.srv.URL + path }

func (p *publisher) set(path string, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files[path] = b
}

func (p *publisher) answer(path string, f func(*ocsp.Request) []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ocsp[path] = f
}

func (p *publisher) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[path]
}

// checker is a CRL checker (with OCSP first when ocspOn) whose clock the test sets.
func checker(ocspOn bool, now *time.Time) *Revocation {
	r := NewRevocation(zoocfg.TLSSettings{CRL: true, TruststoreLocation: "trust", OCSPEnabled: ocspOn}, nil)
	r.now = func() time.Time { return *now }
	return r
}

func chainOf(id *keystoretest.Identity, cas ...*keystoretest.CA) []*x509.Certificate {
	chain := []*x509.Certificate{id.Cert}
	for _, ca := range cas {
		chain = append(chain, ca.Cert)
	}
	return chain
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: %v, want no error", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

func TestCRL(t *testing.T) {
	pub := newPublisher(t)
	ca, other, impostor := keystoretest.NewCA(t, "ca"), keystoretest.NewCA(t, "other"), keystoretest.NewCA(t, "ca")
	now := time.Now()
	dir := t.TempDir()
	at := func(paths ...string) keystoretest.Published {
		var p keystoretest.Published
		for _, path := range paths {
			if strings.HasPrefix(path, "file:") || strings.HasPrefix(path, "ldap:") {
				p.CRLs = append(p.CRLs, path)
			} else {
				p.CRLs = append(p.CRLs, pub.url(path))
			}
		}
		return p
	}
	issue := func(paths ...string) *keystoretest.Identity {
		return ca.IssuePublished(at(paths...), pkix.Name{CommonName: "client"})
	}
	good, revoked := issue("/ca.crl"), issue("/ca.crl")
	crl := ca.CRL(now.Add(-time.Hour), now.Add(time.Hour), revoked.Cert)
	pub.set("/ca.crl", crl)
	pub.set("/ca.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}))
	pub.set("/other.crl", other.CRL(now.Add(-time.Hour), now.Add(time.Hour), revoked.Cert))
	pub.set("/forged.crl", impostor.CRL(now.Add(-time.Hour), now.Add(time.Hour)))
	pub.set("/stale.crl", ca.CRL(now.Add(-2*time.Hour), now.Add(-time.Hour)))
	pub.set("/skewed.crl", ca.CRL(now.Add(-2*time.Hour), now.Add(-10*time.Minute)))
	pub.set("/future.crl", ca.CRL(now.Add(time.Hour), now.Add(2*time.Hour)))
	pub.set("/garbage.crl", []byte("not a CRL"))
	file := filepath.Join(dir, "ca.crl")
	if err := os.WriteFile(file, crl, 0o644); err != nil {
		t.Fatal(err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	for _, tc := range []struct {
		name string
		id   *keystoretest.Identity
		want error
	}{
		{"good", good, nil},
		{"revoked", revoked, ErrRevoked},
		{"PEM CRL", ca.IssuePublished(at("/ca.pem"), pkix.Name{CommonName: "x"}), nil},
		{"file URL", ca.IssuePublished(at("file://"+file), pkix.Name{CommonName: "x"}), nil},
		{"no distribution point", ca.Issue(pkix.Name{CommonName: "x"}), ErrUndetermined},
		{"not found", issue("/missing.crl"), ErrUndetermined},
		{"server down", ca.IssuePublished(keystoretest.Published{CRLs: []string{downURL + "/ca.crl"}},
			pkix.Name{CommonName: "x"}), ErrUndetermined},
		{"ldap", issue("ldap://127.0.0.1/cn=ca"), ErrUndetermined},
		{"another CA's CRL", issue("/other.crl"), ErrUndetermined},
		{"CRL signed by another key of the same name", issue("/forged.crl"), ErrUndetermined},
		{"stale CRL", issue("/stale.crl"), ErrUndetermined},
		{"CRL within the clock skew", issue("/skewed.crl"), nil},
		{"CRL not yet current", issue("/future.crl"), ErrUndetermined},
		{"garbage", issue("/garbage.crl"), ErrUndetermined},
		{"second point answers", issue("/missing.crl", "/ca.crl"), nil},
	} {
		err := checker(false, &now).CheckChain(context.Background(), chainOf(tc.id, ca))
		wantErr(t, tc.name, err, tc.want)
	}
	// The anchor itself is never checked: a chain of the trust anchor alone passes.
	if err := checker(false, &now).CheckChain(context.Background(), []*x509.Certificate{ca.Cert}); err != nil {
		t.Errorf("anchor alone: %v", err)
	}
}

// Every certificate below the anchor is checked: an intermediate CA revoked by the root refuses the chains
// through it.
func TestCRLIntermediate(t *testing.T) {
	pub := newPublisher(t)
	root := keystoretest.NewCA(t, "root")
	now := time.Now()
	at := func(path string) keystoretest.Published { return keystoretest.Published{CRLs: []string{pub.url(path)}} }
	mid, badMid := root.IssueCA("mid", at("/root.crl")), root.IssueCA("bad-mid", at("/root.crl"))
	pub.set("/root.crl", root.CRL(now.Add(-time.Hour), now.Add(time.Hour), badMid.Cert))
	good := mid.IssuePublished(at("/mid.crl"), pkix.Name{CommonName: "good"})
	revoked := mid.IssuePublished(at("/mid.crl"), pkix.Name{CommonName: "revoked"})
	underBad := badMid.IssuePublished(at("/bad-mid.crl"), pkix.Name{CommonName: "under-bad"})
	pub.set("/mid.crl", mid.CRL(now.Add(-time.Hour), now.Add(time.Hour), revoked.Cert))
	pub.set("/bad-mid.crl", badMid.CRL(now.Add(-time.Hour), now.Add(time.Hour)))
	// A CRL the root signed does not vouch for the intermediate's certificates.
	rootSigned := mid.IssuePublished(at("/root.crl"), pkix.Name{CommonName: "root-signed"})

	r := checker(false, &now)
	wantErr(t, "good", r.CheckChain(context.Background(), chainOf(good, mid, root)), nil)
	wantErr(t, "revoked leaf", r.CheckChain(context.Background(), chainOf(revoked, mid, root)), ErrRevoked)
	wantErr(t, "revoked intermediate", r.CheckChain(context.Background(), chainOf(underBad, badMid, root)),
		ErrRevoked)
	wantErr(t, "CRL of the wrong issuer", r.CheckChain(context.Background(), chainOf(rootSigned, mid, root)),
		ErrUndetermined)
	// A trusted intermediate is an anchor: only the leaf is checked.
	wantErr(t, "intermediate as anchor", r.CheckChain(context.Background(), chainOf(underBad, badMid)), nil)
}

// A distribution point is read again only after 30 seconds, a failure standing as long as a CRL, and with
// If-Modified-Since, as URICertStore caches.
func TestCRLCache(t *testing.T) {
	pub := newPublisher(t)
	ca := keystoretest.NewCA(t, "ca")
	now := time.Now()
	pub.modified = now.Add(-time.Minute)
	id := ca.IssuePublished(keystoretest.Published{CRLs: []string{pub.url("/ca.crl")}}, pkix.Name{CommonName: "x"})
	r := checker(false, &now)
	check := func() error { return r.CheckChain(context.Background(), chainOf(id, ca)) }

	wantErr(t, "no CRL yet", check(), ErrUndetermined)
	pub.set("/ca.crl", ca.CRL(now.Add(-time.Hour), now.Add(time.Hour)))
	wantErr(t, "failure cached", check(), ErrUndetermined)
	if n := pub.count("/ca.crl"); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	now = now.Add(31 * time.Second)
	wantErr(t, "CRL fetched", check(), nil)
	pub.set("/ca.crl", ca.CRL(now.Add(-time.Hour), now.Add(time.Hour), id.Cert))
	wantErr(t, "CRL cached", check(), nil)
	if n := pub.count("/ca.crl"); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	now = now.Add(31 * time.Second)
	wantErr(t, "not modified", check(), nil) // the server says the CRL has not changed since
	pub.mu.Lock()
	pub.modified = now
	pub.mu.Unlock()
	now = now.Add(31 * time.Second)
	wantErr(t, "new CRL", check(), ErrRevoked)
	if n := pub.count("/ca.crl"); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
}

// With OCSP the responder is asked first; a revoked answer stands, any other failure falls back to the CRLs.
func TestOCSP(t *testing.T) {
	pub := newPublisher(t)
	ca := keystoretest.NewCA(t, "ca")
	now := time.Now()
	status := map[string]int{}
	var statusMu sync.Mutex
	pub.answer("/ocsp", func(req *ocsp.Request) []byte {
		statusMu.Lock()
		defer statusMu.Unlock()
		s, ok := status[req.SerialNumber.String()]
		if !ok {
			return ocsp.UnauthorizedErrorResponse
		}
		cert := &x509.Certificate{SerialNumber: req.SerialNumber}
		return ca.OCSPResponse(cert, s, now.Add(-time.Minute), now.Add(time.Hour))
	})
	pub.answer("/stale", func(req *ocsp.Request) []byte {
		return ca.OCSPResponse(&x509.Certificate{SerialNumber: req.SerialNumber}, ocsp.Good,
			now.Add(-2*time.Hour), now.Add(-time.Hour))
	})
	other := keystoretest.NewCA(t, "other")
	pub.answer("/forged", func(req *ocsp.Request) []byte {
		return other.OCSPResponse(&x509.Certificate{SerialNumber: req.SerialNumber}, ocsp.Good,
			now.Add(-time.Minute), now.Add(time.Hour))
	})
	issue := func(responder string, crl bool, s int) *keystoretest.Identity {
		p := keystoretest.Published{}
		if responder != "" {
			p.OCSP = []string{pub.url(responder)}
		}
		if crl {
			p.CRLs = []string{pub.url("/ca.crl")}
		}
		id := ca.IssuePublished(p, pkix.Name{CommonName: "x"})
		if s >= 0 {
			statusMu.Lock()
			status[id.Cert.SerialNumber.String()] = s
			statusMu.Unlock()
		}
		return id
	}
	crlRevoked := issue("/ocsp", true, ocsp.Good) // the responder says good: the CRL is not read
	pub.set("/ca.crl", ca.CRL(now.Add(-time.Hour), now.Add(time.Hour), crlRevoked.Cert))
	for _, tc := range []struct {
		name string
		id   *keystoretest.Identity
		want error
	}{
		{"good", issue("/ocsp", false, ocsp.Good), nil},
		{"revoked", issue("/ocsp", true, ocsp.Revoked), ErrRevoked},
		{"good by OCSP, revoked by CRL", crlRevoked, nil},
		{"unknown, no CRL", issue("/ocsp", false, ocsp.Unknown), ErrUndetermined},
		{"unknown, CRL good", issue("/ocsp", true, ocsp.Unknown), nil},
		{"error response, CRL good", issue("/ocsp", true, -1), nil},
		{"no responder, CRL good", issue("", true, -1), nil},
		{"no responder, no CRL", issue("", false, -1), ErrUndetermined},
		{"stale response", issue("/stale", false, -1), ErrUndetermined},
		{"forged response", issue("/forged", false, -1), ErrUndetermined},
		{"responder missing, CRL good", issue("/nothing-here", true, -1), nil},
	} {
		err := checker(true, &now).CheckChain(context.Background(), chainOf(tc.id, ca))
		wantErr(t, tc.name, err, tc.want)
	}
	// Without OCSP on, only the CRL counts.
	wantErr(t, "CRL only", checker(false, &now).CheckChain(context.Background(), chainOf(crlRevoked, ca)),
		ErrRevoked)
}

// NewRevocation is X509Util's: only with crl or ocsp, and only around a trust store.
func TestNewRevocation(t *testing.T) {
	for _, tc := range []struct {
		s    zoocfg.TLSSettings
		want bool
	}{
		{zoocfg.TLSSettings{TruststoreLocation: "t"}, false},
		{zoocfg.TLSSettings{CRL: true}, false},
		{zoocfg.TLSSettings{CRL: true, TruststoreLocation: "t"}, true},
		{zoocfg.TLSSettings{OCSP: true, TruststoreLocation: "t"}, true},
	} {
		if got := NewRevocation(tc.s, nil) != nil; got != tc.want {
			t.Errorf("%+v: checker %v, want %v", tc.s, got, tc.want)
		}
	}
}

// A server with ssl.crl=true takes the good client and refuses the revoked one in the handshake.
func TestLoadChecksClientRevocation(t *testing.T) {
	pub := newPublisher(t)
	ca := keystoretest.NewCA(t, "ca")
	dir := t.TempDir()
	at := keystoretest.Published{CRLs: []string{pub.url("/ca.crl")}}
	good := ca.IssuePublished(at, pkix.Name{CommonName: "good"})
	revoked := ca.IssuePublished(at, pkix.Name{CommonName: "revoked"})
	pub.set("/ca.crl", ca.CRL(time.Now().Add(-time.Hour), time.Now().Add(time.Hour), revoked.Cert))
	s := zoocfg.TLSSettings{
		KeystoreLocation: ca.Issue(pkix.Name{CommonName: "server"}, "127.0.0.1").WritePEM(dir, "server.pem"),
		KeystoreType:     "PEM", TruststoreLocation: ca.WriteTrustPEM(dir, "trust.pem"), TruststoreType: "PEM",
		ClientAuth: "need", EnabledProtocols: []string{"TLSv1.2"}, CipherSuites: zoocfg.DefaultCipherSuites,
		CRL: true,
	}
	cfg, err := Load(s, "ssl.")
	if err != nil {
		t.Fatal(err)
	}
	handshake := func(id *keystoretest.Identity) error {
		cert, err := tls.X509KeyPair(id.ChainPEM(), id.KeyPEM())
		if err != nil {
			t.Fatal(err)
		}
		client := &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: cfg.RootCAs,
			ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS12}
		cc, sc := net.Pipe()
		defer cc.Close()
		defer sc.Close()
		done := make(chan error, 1)
		go func() { done <- tls.Server(sc, cfg).Handshake(); sc.Close() }()
		tls.Client(cc, client).Handshake()
		return <-done
	}
	wantErr(t, "good client", handshake(good), nil)
	wantErr(t, "revoked client", handshake(revoked), ErrRevoked)
	s.CRL = false
	if cfg, err = Load(s, "ssl."); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "revoked client without ssl.crl", handshake(revoked), nil)
}

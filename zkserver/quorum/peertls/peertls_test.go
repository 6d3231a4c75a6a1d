package peertls

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/compat/zoocfg"
)

func TestVerifyHost(t *testing.T) {
	ca := keystoretest.NewCA(t, "ca")
	cert := func(cn string, hosts ...string) *x509.Certificate {
		return ca.Issue(pkix.Name{CommonName: cn}, hosts...).Cert
	}
	for _, tc := range []struct {
		host string
		cert *x509.Certificate
		ok   bool
	}{
		{"127.0.0.1", cert("x", "127.0.0.1"), true},
		{"127.0.0.2", cert("x", "127.0.0.1"), false},
		{"::1", cert("x", "0:0:0:0:0:0:0:1"), true},
		{"[::1]", cert("x", "::1"), true},
		{"127.0.0.1", cert("127.0.0.1", "zk1.example.com"), false}, // the CN only counts without alternative names
		{"zk1.example.com", cert("x", "zk1.example.com"), true},
		{"ZK1.Example.com", cert("x", "zk1.EXAMPLE.com"), true},
		{"zk1.example.com", cert("x", "*.example.com"), true},
		{"a.zk1.example.com", cert("x", "*.example.com"), false}, // a wildcard stands for part of one label
		{"zk1.example.com", cert("x", "zk*.example.com"), true},
		{"zk1.example.com", cert("x", "127.0.0.1"), false}, // a name is matched against DNS names only
		{"zk1.example.com", cert("zk1.example.com"), true},
		{"zk1.example.com", cert("*.example.com"), true},
		{"zk2.example.com", cert("zk1.example.com"), false},
		{"127.0.0.1", cert("127.0.0.1"), true},
		{"zk1.example.com", cert(""), false},
		{"a", cert("", "a*a"), false},
	} {
		err := VerifyHost(tc.host, tc.cert)
		if (err == nil) != tc.ok {
			t.Errorf("VerifyHost(%q, CN=%q %v %v) = %v, want ok %v", tc.host, tc.cert.Subject.CommonName,
				tc.cert.DNSNames, tc.cert.IPAddresses, err, tc.ok)
		}
	}
}

// peer is one server's transport, its key store holding a certificate for hosts.
func peer(t *testing.T, ca *keystoretest.CA, name string, sslQuorum, unified bool, edit func(*zoocfg.TLSSettings),
	hosts ...string) *Config {
	t.Helper()
	s := settings(t, t.TempDir(), ca, name, hosts...)
	if edit != nil {
		edit(&s)
	}
	c, err := New(s, Options{SSLQuorum: sslQuorum, PortUnification: unified})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// settings are ssl.quorum.* naming a JKS key store with a certificate from ca for hosts, and ca's trust store, in dir.
func settings(t *testing.T, dir string, ca *keystoretest.CA, name string, hosts ...string) zoocfg.TLSSettings {
	t.Helper()
	return zoocfg.TLSSettings{
		KeystoreLocation: ca.Issue(pkix.Name{CommonName: name}, hosts...).WriteJKS(dir, name+".jks", "pw", "pw"),
		KeystorePassword: "pw", KeystoreType: "JKS",
		TruststoreLocation: ca.WriteTrustJKS(dir, "trust.jks", "tpw"), TruststorePassword: "tpw", TruststoreType: "JKS",
		ClientAuth: "need", EnabledProtocols: []string{"TLSv1.2"}, CipherSuites: zoocfg.DefaultCipherSuites,
		HostnameVerification: true,
	}
}

// expectExchange runs exchange and wants it to succeed, or with fail set, to fail with an error holding fail.
func expectExchange(t *testing.T, server, client *Config, fail string) {
	t.Helper()
	err := exchange(t, server, client)
	switch {
	case fail == "" && err != nil:
		t.Fatalf("exchange: %v", err)
	case fail != "" && (err == nil || !strings.Contains(err.Error(), fail)):
		t.Fatalf("exchange: %v, want an error with %q", err, fail)
	}
}

// exchange has client dial server's listener and each send the other a line; it returns the error either side saw.
func exchange(t *testing.T, server, client *Config) error {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		c := server.Server(nc)
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 6)
		if _, err := io.ReadFull(c, buf); err != nil {
			served <- err
			return
		}
		if string(buf) != "hello\n" {
			served <- io.ErrUnexpectedEOF
			return
		}
		_, err = c.Write([]byte("world\n"))
		served <- err
	}()
	c, err := client.Dial(context.Background(), ln.Addr().String(), 5*time.Second)
	if err != nil {
		return errors.Join(err, <-served)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("hello\n")); err != nil {
		return err
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil {
		if serr := <-served; serr != nil {
			return serr
		}
		return err
	}
	if string(buf) != "world\n" {
		t.Fatalf("read %q", buf)
	}
	return <-served
}

func TestTLSBetweenPeers(t *testing.T) {
	ca := keystoretest.NewCA(t, "quorum-ca")
	other := keystoretest.NewCA(t, "other-ca")
	good := func() *Config { return peer(t, ca, "zk", true, false, nil, "127.0.0.1") }
	for _, tc := range []struct {
		name           string
		server, client *Config
		fail           string // part of the error, "" for a successful exchange
	}{
		{"trusted, addresses match", good(), good(), ""},
		{"plaintext both ways", nil, nil, ""},
		{"server name from the address's lookup", peer(t, ca, "zk", true, false, nil, "localhost"),
			peer(t, ca, "zk", true, false, nil, "localhost"), ""},
		{"server certificate for another address", peer(t, ca, "zk", true, false, nil, "10.1.2.3"), good(),
			"failed to verify both host address and host name"},
		{"client certificate for another address", good(), peer(t, ca, "zk", true, false, nil, "10.1.2.3"),
			"bad certificate"},
		{"host names not verified", peer(t, ca, "zk", true, false, noHostCheck, "10.1.2.3"),
			peer(t, ca, "zk", true, false, noHostCheck, "10.1.2.3"), ""},
		{"server of another CA", peer(t, other, "zk", true, false, nil, "127.0.0.1"), good(),
			"certificate signed by unknown authority"},
		{"client without a certificate", good(), noCert(good()), "didn't provide a certificate"},
		{"plaintext client, TLS server", good(), nil, "first record does not look like a TLS handshake"},
		{"TLS client, unified server", peer(t, ca, "zk", false, true, nil, "127.0.0.1"), good(), ""},
		{"plaintext client, unified server", peer(t, ca, "zk", false, true, nil, "127.0.0.1"), nil, ""},
		{"PEM key stores, keys encrypted", peer(t, ca, "zk", true, false, encryptedPEM(t, ca), "127.0.0.1"),
			peer(t, ca, "zk", true, false, encryptedPEM(t, ca), "127.0.0.1"), ""},
		{"client auth want, no certificate", peer(t, ca, "zk", true, false, wantClientAuth, "127.0.0.1"),
			noCert(good()), ""},
	} {
		t.Run(tc.name, func(t *testing.T) { expectExchange(t, tc.server, tc.client, tc.fail) })
	}
}

// With ssl.quorum.crl, both sides check the other's certificate against its CRL: a revoked peer is refused whether
// it dials or is dialed, and a peer without the setting takes it.
func TestRevocationBetweenPeers(t *testing.T) {
	ca := keystoretest.NewCA(t, "quorum-ca")
	var crl atomic.Pointer[[]byte]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(*crl.Load()) }))
	defer srv.Close()
	at := keystoretest.Published{CRLs: []string{srv.URL + "/ca.crl"}}
	dir := t.TempDir()
	good := ca.IssuePublished(at, pkix.Name{CommonName: "good"}, "127.0.0.1")
	revoked := ca.IssuePublished(at, pkix.Name{CommonName: "revoked"}, "127.0.0.1")
	der := ca.CRL(time.Now().Add(-time.Hour), time.Now().Add(time.Hour), revoked.Cert)
	crl.Store(&der)
	peerOf := func(id *keystoretest.Identity, checkCRL bool) *Config {
		s := settings(t, dir, ca, "unused", "127.0.0.1")
		s.KeystoreLocation = id.WriteJKS(t.TempDir(), "zk.jks", "pw", "pw")
		s.CRL = checkCRL
		c, err := New(s, Options{SSLQuorum: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name           string
		server, client *Config
		fail           string
	}{
		{"good peers", peerOf(good, true), peerOf(good, true), ""},
		{"revoked client", peerOf(good, true), peerOf(revoked, true), "certificate revoked"},
		{"revoked server", peerOf(revoked, true), peerOf(good, true), "certificate revoked"},
		{"revoked client, server without crl", peerOf(good, false), peerOf(revoked, true), ""},
	} {
		t.Run(tc.name, func(t *testing.T) { expectExchange(t, tc.server, tc.client, tc.fail) })
	}
}

// encryptedPEM swaps the key store for a PEM file whose key ssl.quorum.keyStore.password decrypts.
func encryptedPEM(t *testing.T, ca *keystoretest.CA) func(*zoocfg.TLSSettings) {
	return func(s *zoocfg.TLSSettings) {
		id := ca.Issue(pkix.Name{CommonName: "zk-pem"}, "127.0.0.1")
		s.KeystoreLocation, s.KeystoreType = id.WriteEncryptedPEM(t.TempDir(), "zk.pem", "pem-pw"), "PEM"
		s.KeystorePassword = "pem-pw"
	}
}

// noCert drops the key store's certificate, as a key store without a key entry would.
func noCert(c *Config) *Config {
	c.base.Certificates = nil
	return c
}

func TestSSLQuorumNeedsKeyStore(t *testing.T) {
	if _, err := New(zoocfg.TLSSettings{EnabledProtocols: []string{"TLSv1.2"}}, Options{SSLQuorum: true}); err == nil ||
		!strings.Contains(err.Error(), "ssl.quorum.keyStore.location") {
		t.Fatalf("New without a key store: %v", err)
	}
	// portUnification alone serves plaintext peers without one.
	if c, err := New(zoocfg.TLSSettings{EnabledProtocols: []string{"TLSv1.2"}}, Options{PortUnification: true}); err != nil || c == nil {
		t.Fatalf("New with portUnification alone: %v, %v", c, err)
	}
}

func noHostCheck(s *zoocfg.TLSSettings) { s.HostnameVerification = false }

func wantClientAuth(s *zoocfg.TLSSettings) { s.ClientAuth = "want" }

// With sslQuorumReloadCertFiles, a key store replaced on disk serves the connections made after; without it, the
// one loaded at start stays.
func TestReloadCertFiles(t *testing.T) {
	ca := keystoretest.NewCA(t, "quorum-ca")
	client := peer(t, ca, "zk1", true, false, nil, "127.0.0.1")
	for _, reload := range []bool{true, false} {
		dir := t.TempDir()
		s := settings(t, dir, ca, "zk2", "10.1.2.3") // a certificate the client's host check refuses
		server, err := New(s, Options{SSLQuorum: true, ReloadCertFiles: reload})
		if err != nil {
			t.Fatal(err)
		}
		if err := exchange(t, server, client); err == nil {
			t.Fatal("a certificate for another address was accepted")
		}
		ca.Issue(pkix.Name{CommonName: "zk2"}, "127.0.0.1").WriteJKS(dir, "zk2.jks", "pw", "pw")
		if err := exchange(t, server, client); (err == nil) != reload {
			t.Errorf("reload %v: exchange after the key store changed: %v", reload, err)
		}
	}
}

// Settings zkserver cannot honour stop the start instead of being skipped.
func TestRefusedSettings(t *testing.T) {
	ca := keystoretest.NewCA(t, "ca")
	for name, edit := range map[string]func(*zoocfg.TLSSettings){
		"ssl.quorum.context.supplier.class": func(s *zoocfg.TLSSettings) { s.ContextSupplier = "com.example.Supplier" },
	} {
		s := settings(t, t.TempDir(), ca, "zk", "127.0.0.1")
		edit(&s)
		if _, err := New(s, Options{SSLQuorum: true}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

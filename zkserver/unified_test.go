package zkserver

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/zkserver/acl"
)

// TestPortUnification: one client port serves a plaintext session, a TLS session whose certificate gives it an
// x509 id, and a four-letter word, at once.
func TestPortUnification(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "ca")
	server := ca.Issue(pkix.Name{CommonName: "zk"}, "127.0.0.1")
	cert, err := tls.X509KeyPair(server.ChainPEM(), server.KeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := Start(Config{
		ClientAddr: "127.0.0.1:0", TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 4000,
		DataDir: dir, DataLogDir: dir, SnapCount: 100000, PreAllocSize: 1 << 20, DigestEnabled: true, JuteMaxBuffer: 0xfffff,
		ACL: acl.Config{DigestAuthEnabled: true, ExtraSchemes: []string{"x509"}},
		Secure: &SecureConfig{Unified: true, TLS: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: roots,
			ClientAuth: tls.RequireAndVerifyClientCert}},
		// A four-byte word fewer than a TLS record header: plaintext by its first byte.
		FourLetter: func(_ *Server, word string, _ int64) (string, bool) { return "imok", word == "ruok" },
		Logger:     quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := s.Addr().String()

	alice := ca.Issue(pkix.Name{CommonName: "alice"})
	aliceCert, err := tls.X509KeyPair(alice.ChainPEM(), alice.KeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	dialTLS := zk.WithDialer(func(network, address string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address,
			&tls.Config{RootCAs: roots, ServerName: "127.0.0.1", Certificates: []tls.Certificate{aliceCert}})
	})
	connect := func(overTLS bool) *zk.Conn {
		t.Helper()
		dial := zk.WithDialer(net.DialTimeout)
		if overTLS {
			dial = dialTLS
		}
		c, ev, err := zk.Connect([]string{addr}, 4*time.Second, dial, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		for e := range ev {
			if e.State == zk.StateHasSession {
				return c
			}
		}
		t.Fatal("no session")
		return nil
	}
	secure, plain := connect(true), connect(false)
	if _, err := secure.Create("/mine", []byte("x"), 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "x509", ID: "CN=alice"}}); err != nil {
		t.Fatal(err)
	}
	if data, _, err := secure.Get("/mine"); err != nil || string(data) != "x" {
		t.Fatalf("TLS session reads its znode: %q %v", data, err)
	}
	if _, _, err := plain.Get("/mine"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("plaintext session: %v, want no auth", err)
	}
	if _, err := plain.Create("/open", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ruok"))
	if b, _ := io.ReadAll(c); string(b) != "imok" {
		t.Fatalf("ruok: %q", b)
	}
	// A TLS client without a certificate is refused (clientAuth need), the port goes on serving.
	bad, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err == nil {
		bad.SetDeadline(time.Now().Add(2 * time.Second))
		_, err = bad.Read(make([]byte, 1))
		bad.Close()
	}
	if err == nil {
		t.Fatal("a TLS client without a certificate was served")
	}
	if _, _, err := plain.Exists("/open"); err != nil {
		t.Fatal(err)
	}
}

package tlsconf

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/zkserver/x509util"
)

// TestZooKeeperRevocation: with zookeeper.ssl.crl.enable the broker's ZooKeeper client refuses a server whose
// certificate its CA's CRL revokes, with and without host name verification; without it, the server is taken.
func TestZooKeeperRevocation(t *testing.T) {
	ca := keystoretest.NewCA(t, "zk-ca")
	var crl []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(crl) }))
	t.Cleanup(srv.Close)
	at := keystoretest.Published{CRLs: []string{srv.URL + "/ca.crl"}}
	good := ca.IssuePublished(at, pkix.Name{CommonName: "zk-good"}, "127.0.0.1")
	revoked := ca.IssuePublished(at, pkix.Name{CommonName: "zk-revoked"}, "127.0.0.1")
	crl = ca.CRL(time.Now().Add(-time.Hour), time.Now().Add(time.Hour), revoked.Cert)
	dir := t.TempDir()
	trust := ca.WriteTrustPEM(dir, "trust.pem")

	handshake := func(z serverprops.ZkClientTLS, server *keystoretest.Identity) error {
		t.Helper()
		cfg, err := ZooKeeper(z)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ServerName = "127.0.0.1"
		cert, err := tls.X509KeyPair(server.ChainPEM(), server.KeyPEM())
		if err != nil {
			t.Fatal(err)
		}
		cc, sc := net.Pipe()
		defer cc.Close()
		go func() { tls.Server(sc, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake(); sc.Close() }()
		return tls.Client(cc, cfg).Handshake()
	}
	for _, eia := range []string{"HTTPS", ""} {
		z := serverprops.ZkClientTLS{Enabled: true, CnxnSocket: serverprops.NettyCnxnSocket, CRL: true,
			SSL: serverprops.SSLSettings{TruststoreLocation: trust, TruststoreType: "PEM", Protocol: "TLSv1.2",
				EnabledProtocols: []string{"TLSv1.2"}, EndpointIdentification: eia}}
		if err := handshake(z, good); err != nil {
			t.Errorf("endpoint identification %q: good server: %v", eia, err)
		}
		if err := handshake(z, revoked); !errors.Is(err, x509util.ErrRevoked) {
			t.Errorf("endpoint identification %q: revoked server: %v", eia, err)
		}
		z.CRL = false
		if err := handshake(z, revoked); err != nil {
			t.Errorf("endpoint identification %q: revoked server without crl.enable: %v", eia, err)
		}
	}
}

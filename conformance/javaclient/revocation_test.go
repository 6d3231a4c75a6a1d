package javaclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// TestSecureClientPortRevocation runs Apache 3.8 and zkserver on the same zoo.cfg with ssl.crl=true, then with
// ssl.ocsp=true: the client certificates name a CRL distribution point, and an OCSP responder, served by the test
// on 127.0.0.1. zkCli.sh with a good certificate gets the same session and x509 id from both; a TLS client with a
// revoked certificate, or one whose status no CRL gives, is refused in the handshake by both.
func TestSecureClientPortRevocation(t *testing.T) {
	harness.EnsureZKServer(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zk-ca")
	now := time.Now()

	var mu sync.Mutex
	requests := map[string]int{}
	revokedSerials := map[string]bool{}
	var crl []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		first, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
		requests[first]++
		switch first {
		case "ca.crl":
			w.Write(crl)
		case "ocsp":
			req, err := parseOCSPRequest(r, rest)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			status := ocsp.Good
			if revokedSerials[req.SerialNumber.String()] {
				status = ocsp.Revoked
			}
			w.Write(ca.OCSPResponse(&x509.Certificate{SerialNumber: req.SerialNumber}, status,
				now.Add(-time.Minute), now.Add(time.Hour)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	crlAt := keystoretest.Published{CRLs: []string{srv.URL + "/ca.crl"}}
	ocspAt := keystoretest.Published{OCSP: []string{srv.URL + "/ocsp"}}
	server := ca.Issue(pkix.Name{CommonName: "zookeeper"}, "127.0.0.1") // the clients do not check revocation
	alice := ca.IssuePublished(crlAt, pkix.Name{CommonName: "alice"})
	mallory := ca.IssuePublished(crlAt, pkix.Name{CommonName: "mallory"})
	unpublished := ca.Issue(pkix.Name{CommonName: "unpublished"})
	bob := ca.IssuePublished(ocspAt, pkix.Name{CommonName: "bob"})
	eve := ca.IssuePublished(ocspAt, pkix.Name{CommonName: "eve"})
	mu.Lock()
	crl = ca.CRL(now.Add(-time.Hour), now.Add(time.Hour), mallory.Cert)
	revokedSerials[eve.Cert.SerialNumber.String()] = true
	mu.Unlock()

	trust := ca.WriteTrustPEM(dir, "trust.pem")
	serverStore := server.WritePEM(dir, "server.pem")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	ports, err := harness.FreePorts(8)
	if err != nil {
		t.Fatal(err)
	}
	props := func(port int, check string) map[string]string {
		return map[string]string{
			"secureClientPort":        strconv.Itoa(port),
			"secureClientPortAddress": "127.0.0.1",
			"serverCnxnFactory":       "org.apache.zookeeper.server.NettyServerCnxnFactory",
			"ssl.keyStore.location":   serverStore,
			"ssl.trustStore.location": trust,
			"ssl." + check:            "true",
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	// handshake is a TLS 1.2 handshake with id's certificate (the server's verdict on it reaches the client before
	// the handshake ends), and one request, so that a TLS 1.3 server could not refuse it later unseen.
	handshake := func(port int, id *keystoretest.Identity) error {
		cert, err := tls.X509KeyPair(id.ChainPEM(), id.KeyPEM())
		if err != nil {
			t.Fatal(err)
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 30 * time.Second}, "tcp",
			fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1",
				Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12})
		if err != nil {
			return err
		}
		return conn.Close()
	}
	cli := func(name string, id *keystoretest.Identity) CliScenario {
		return CliScenario{Name: name, JVMFlags: []string{
			"-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:" + harness.NettyJars,
			"-Dzookeeper.client.secure=true",
			"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
			"-Dzookeeper.ssl.keyStore.location=" + id.WritePEM(dir, name+".pem"),
			"-Dzookeeper.ssl.trustStore.location=" + trust},
			Script: []string{"whoami", "create /" + name + " data x509:CN=" + id.Cert.Subject.CommonName + ":cdrwa",
				"getAcl /" + name, "get /" + name},
		}
	}

	for i, tc := range []struct {
		check   string
		good    *keystoretest.Identity
		refused []*keystoretest.Identity
		served  string
	}{
		{"crl", alice, []*keystoretest.Identity{mallory, unpublished}, "ca.crl"},
		{"ocsp", bob, []*keystoretest.Identity{eve, unpublished}, "ocsp"},
	} {
		secure := ports[4*i : 4*i+2]
		servers := startPair(ctx, t, [2]harness.Config{{Props: props(secure[0], tc.check), Port: ports[4*i+2]},
			{Props: props(secure[1], tc.check), Port: ports[4*i+3]}})
		compareCli(ctx, t, servers, [2]string{fmt.Sprintf("127.0.0.1:%d", secure[0]),
			fmt.Sprintf("127.0.0.1:%d", secure[1])}, cli(tc.check+"-"+tc.good.Cert.Subject.CommonName, tc.good))
		for j, s := range servers {
			mu.Lock()
			before := requests[tc.served]
			mu.Unlock()
			if err := handshake(secure[j], tc.good); err != nil {
				t.Errorf("ssl.%s, %s: good certificate refused: %v", tc.check, s.Kind(), err)
			}
			for _, id := range tc.refused {
				if err := handshake(secure[j], id); err == nil {
					t.Errorf("ssl.%s, %s: certificate %s accepted", tc.check, s.Kind(), id.Cert.Subject)
				}
			}
			mu.Lock()
			after := requests[tc.served]
			mu.Unlock()
			if tc.check == "ocsp" && after == before {
				t.Errorf("ssl.ocsp, %s: the OCSP responder was not asked", s.Kind())
			}
		}
		mu.Lock()
		if requests[tc.served] < 2 { // each server asks at least once (each has its own cache)
			t.Errorf("ssl.%s: /%s asked %d times", tc.check, tc.served, requests[tc.served])
		}
		mu.Unlock()
	}
}

// parseOCSPRequest reads an OCSP request sent with GET (base64 in the path) or POST.
func parseOCSPRequest(r *http.Request, rest string) (*ocsp.Request, error) {
	var der []byte
	var err error
	if r.Method == http.MethodPost {
		if der, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
	} else {
		var s string
		if s, err = url.PathUnescape(rest); err != nil {
			return nil, err
		}
		if der, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, err
		}
	}
	return ocsp.ParseRequest(der)
}

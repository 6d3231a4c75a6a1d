package javaclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// TestSecureClientPortEncryptedPEM runs Apache 3.8 and zkserver on the same zoo.cfg whose secure port's key store
// is a PEM file with an encrypted key (openssl pkcs8 -v1 PBE-SHA1-3DES, the scheme Apache's PemReader reads on
// Java 17), ssl.keyStore.password decrypting it; zkCli.sh connects over TLS with a PEM key store of its own, its key
// encrypted the same way, and gets the same x509 id from both; a Go TLS client sees the server's certificate from
// both. zkserver also reads a PBES2 (AES-256-CBC) key, which Java 17 does not ("PBES2 SecretKeyFactory not
// available").
func TestSecureClientPortEncryptedPEM(t *testing.T) {
	harness.EnsureZKServer(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zk-ca")
	server := ca.Issue(pkix.Name{CommonName: "zookeeper"}, "127.0.0.1")
	alice := ca.Issue(pkix.Name{CommonName: "alice"})
	trust := ca.WriteTrustPEM(dir, "trust.pem")
	serverStore := server.WriteOpenSSLEncryptedPEM(dir, "server.pem", "serverpw", "-v1", "PBE-SHA1-3DES")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ports, err := harness.FreePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	props := func(port int, store string) map[string]string {
		return map[string]string{
			"secureClientPort":        strconv.Itoa(port),
			"secureClientPortAddress": "127.0.0.1",
			"serverCnxnFactory":       "org.apache.zookeeper.server.NettyServerCnxnFactory",
			"ssl.keyStore.location":   store,
			"ssl.keyStore.password":   "serverpw",
			"ssl.trustStore.location": trust,
		}
	}
	secure := ports[:2]
	servers := startPair(ctx, t, [2]harness.Config{{Props: props(secure[0], serverStore), Port: ports[2]},
		{Props: props(secure[1], serverStore), Port: ports[3]}})

	flags := []string{"-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:" + harness.NettyJars,
		"-Dzookeeper.client.secure=true",
		"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"-Dzookeeper.ssl.keyStore.location=" + alice.WriteOpenSSLEncryptedPEM(dir, "alice.pem", "alicepw", "-v1", "PBE-SHA1-3DES"),
		"-Dzookeeper.ssl.keyStore.password=alicepw",
		"-Dzookeeper.ssl.trustStore.location=" + trust}
	compareCli(ctx, t, servers, [2]string{fmt.Sprintf("127.0.0.1:%d", secure[0]), fmt.Sprintf("127.0.0.1:%d", secure[1])},
		CliScenario{Name: "pem-alice", JVMFlags: flags, Script: []string{
			"whoami", "create /pem data x509:CN=alice:cdrwa", "getAcl /pem", "get /pem",
		}})

	aliceCert, err := tls.X509KeyPair(alice.ChainPEM(), alice.KeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	handshake := func(port int) (*x509.Certificate, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", port),
			&tls.Config{RootCAs: roots, ServerName: "127.0.0.1", Certificates: []tls.Certificate{aliceCert}})
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0], nil
	}
	for i, s := range servers {
		if leaf, err := handshake(secure[i]); err != nil || !leaf.Equal(server.Cert) {
			t.Errorf("%s: TLS handshake: %v", s.Kind(), err)
		}
	}

	// PBES2 with PBKDF2 (HMAC-SHA256) and AES-256-CBC, openssl's default: zkserver only.
	pbes2Store := server.WriteOpenSSLEncryptedPEM(dir, "server-pbes2.pem", "serverpw", "-v2", "aes-256-cbc")
	zk, err := harness.Start(ctx, harness.ZKServer, harness.Config{Props: props(ports[4], pbes2Store)})
	if err != nil {
		t.Fatalf("zkserver with a PBES2 key: %v", err)
	}
	t.Cleanup(func() { zk.Cleanup(false) })
	if leaf, err := handshake(ports[4]); err != nil || !leaf.Equal(server.Cert) {
		t.Errorf("zkserver with a PBES2 key: TLS handshake: %v", err)
	}
}

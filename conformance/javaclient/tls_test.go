package javaclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// TestSecureClientPort runs zkCli.sh over TLS (Netty client, JKS stores made like keytool's) against Apache 3.8 and
// zkserver on the same zoo.cfg (secureClientPort, the Netty factory, ssl.* stores, clientAuth need, an x509 super
// user) and compares the outputs: x509 ids from client certificates (whoami), x509 ACLs granting and refusing
// access, an invalid x509 id, the super user, the same znode refused on the plain port; a TLS client without a
// certificate is turned away by both.
func TestSecureClientPort(t *testing.T) {
	harness.EnsureZKServer(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zk-ca")
	server := ca.Issue(pkix.Name{CommonName: "zookeeper"}, "127.0.0.1")
	alice := ca.Issue(pkix.Name{CommonName: "alice"})
	bob := ca.Issue(pkix.Name{CommonName: "bob", Organization: []string{"zkafka, inc"}})
	admin := ca.Issue(pkix.Name{CommonName: "admin", OrganizationalUnit: []string{"ops"}})
	trust := ca.WriteTrustJKS(dir, "trust.jks", "trustpw")
	props := func(port int) map[string]string {
		return map[string]string{
			"secureClientPort":                     strconv.Itoa(port),
			"secureClientPortAddress":              "127.0.0.1",
			"serverCnxnFactory":                    "org.apache.zookeeper.server.NettyServerCnxnFactory",
			"ssl.keyStore.location":                server.WriteJKS(dir, "server.jks", "serverpw", "serverpw"),
			"ssl.keyStore.password":                "serverpw",
			"ssl.trustStore.location":              trust,
			"ssl.trustStore.password":              "trustpw",
			"X509AuthenticationProvider.superUser": "CN=admin,OU=ops",
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The secure and the client ports of both servers, picked together so that none is handed out twice.
	ports, err := harness.FreePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	secure := ports[:2]
	servers := startPair(ctx, t, [2]harness.Config{{Props: props(secure[0]), Port: ports[2]},
		{Props: props(secure[1]), Port: ports[3]}})

	clientFlags := func(who *keystoretest.Identity, name string) []string {
		return []string{"-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:" + harness.NettyJars,
			"-Dzookeeper.client.secure=true",
			"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
			"-Dzookeeper.ssl.keyStore.location=" + who.WriteJKS(dir, name+".jks", "pw-"+name, "pw-"+name),
			"-Dzookeeper.ssl.keyStore.password=pw-" + name,
			"-Dzookeeper.ssl.trustStore.location=" + trust, "-Dzookeeper.ssl.trustStore.password=trustpw"}
	}
	scenarios := []struct {
		sc     CliScenario
		secure bool
	}{
		{CliScenario{Name: "tls-alice", JVMFlags: clientFlags(alice, "alice"), Script: []string{
			"whoami",
			"create /tls data x509:CN=alice:cdrwa",
			"getAcl /tls",
			"get /tls",
			"create /tls/bad x x509:not-a-dn:cdrwa",
			"create /tls/v1 x x509:cn=lower:r",
			"create /tls/v2 x x509:XX=a:r",
			"create /tls/v3 x x509::r",
			"create /tls/v4 x x509:OID.2.5.4.3=a:r",
			"create /tls/v5 x x509:2.5.4.3=#0c0161:r",
			"create /tls/v6 x x509:CN=a;OU=b+O=c:r",
			"create /tls/v7 x x509:CN=\"open:r",
			"create /tls/v8 x x509:2.5.4.3=#0c01:r",
			"ls /tls",
			"create /tls/auth x auth::cdr",
			"getAcl /tls/auth",
			"addauth x509 ignored",
			"whoami",
		}}, true},
		{CliScenario{Name: "tls-bob", JVMFlags: clientFlags(bob, "bob"), Script: []string{
			"whoami", "get /tls", "ls /tls", "set /tls other",
		}}, true},
		{CliScenario{Name: "plain", Script: []string{
			"whoami", "get /tls", "create /plain x", "addauth x509 x", "ls /",
		}}, false},
		{CliScenario{Name: "tls-admin", JVMFlags: clientFlags(admin, "admin"), Script: []string{
			"whoami", "get /tls", "set /tls by-admin", "deleteall /tls",
		}}, true},
	}
	for _, x := range scenarios {
		addrs := addrsOf(servers)
		if x.secure {
			addrs = [2]string{fmt.Sprintf("127.0.0.1:%d", secure[0]), fmt.Sprintf("127.0.0.1:%d", secure[1])}
		}
		compareCli(ctx, t, servers, addrs, x.sc)
	}

	// conf names the secure port on both.
	for i, s := range servers {
		conf, err := harness.FourLetter(ctx, s.Addr(), "conf")
		if want := fmt.Sprintf("secureClientPort=%d\n", secure[i]); err != nil || !strings.Contains(conf, want) {
			t.Errorf("%s conf (%v): want %q in\n%s", s.Kind(), err, want, conf)
		}
	}

	// A TLS client without a certificate (clientAuth need) gets no connection from either.
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for i, s := range servers {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp",
			fmt.Sprintf("127.0.0.1:%d", secure[i]), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
		if err == nil {
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			_, err = conn.Write([]byte("srvr"))
			if err == nil {
				_, err = conn.Read(make([]byte, 1))
			}
			conn.Close()
		}
		if err == nil {
			t.Errorf("%s: a TLS client without a certificate was served", s.Kind())
		}
	}
}

// TestPortUnification runs zkCli.sh over TLS and in plaintext on the same client port (client.portUnification with
// the Netty factory, no secure port) against Apache 3.8 and zkserver: the TLS client gets its x509 id, the plaintext
// one does not and is refused the x509-protected znode, and four-letter words still answer in plaintext.
func TestPortUnification(t *testing.T) {
	harness.EnsureZKServer(t)
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zk-ca")
	server := ca.Issue(pkix.Name{CommonName: "zookeeper"}, "127.0.0.1")
	alice := ca.Issue(pkix.Name{CommonName: "alice"})
	trust := ca.WriteTrustJKS(dir, "trust.jks", "trustpw")
	props := map[string]string{
		"client.portUnification": "true",
		// Named here as operators must for Apache 3.8: the provider port unification registers by itself comes
		// after a standalone server has read its provider registry, and Apache then turns every TLS client away
		// ("X509 Auth provider not found"). zkserver registers it either way.
		"authProvider.x509":       "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
		"serverCnxnFactory":       "org.apache.zookeeper.server.NettyServerCnxnFactory",
		"ssl.keyStore.location":   server.WriteJKS(dir, "server.jks", "serverpw", "serverpw"),
		"ssl.keyStore.password":   "serverpw",
		"ssl.trustStore.location": trust,
		"ssl.trustStore.password": "trustpw",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	servers := startPair(ctx, t, [2]harness.Config{{Props: props}, {Props: props}})
	tlsFlags := []string{"-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:" + harness.NettyJars,
		"-Dzookeeper.client.secure=true",
		"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"-Dzookeeper.ssl.keyStore.location=" + alice.WriteJKS(dir, "alice.jks", "pw-alice", "pw-alice"),
		"-Dzookeeper.ssl.keyStore.password=pw-alice",
		"-Dzookeeper.ssl.trustStore.location=" + trust, "-Dzookeeper.ssl.trustStore.password=trustpw"}
	for _, sc := range []CliScenario{
		{Name: "unified-tls", JVMFlags: tlsFlags, Script: []string{
			"whoami", "create /u data x509:CN=alice:cdrwa", "getAcl /u", "get /u",
		}},
		{Name: "unified-plain", Script: []string{"whoami", "get /u", "create /u/kid x", "ls /"}},
	} {
		compareCli(ctx, t, servers, addrsOf(servers), sc)
	}
	for _, s := range servers {
		if out, err := harness.FourLetter(ctx, s.Addr(), "ruok"); err != nil || out != "imok" {
			t.Errorf("%s ruok on the unified port: %q %v", s.Kind(), out, err)
		}
	}
}

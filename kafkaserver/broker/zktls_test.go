package broker

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/zkserver/acl"
)

// TestZooKeeperTLSAndSecureACLs runs a broker that reaches zkserver's secure client port with its own certificate
// (zookeeper.ssl.*) and zookeeper.set.acl=true: its znodes get Kafka's secure ACLs, all rights to its x509 id plus
// reading for anyone, the sensitive ones none for others, /consumers open; a plain session cannot change them.
// Without TLS client authentication (or SASL) zookeeper.set.acl stops the start, as in Kafka. Both key stores are PEM
// files with encrypted keys, each decrypted with its key store password as ZooKeeper's X509Util reads them.
func TestZooKeeperTLSAndSecureACLs(t *testing.T) {
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "zk-ca")
	trust := ca.WriteTrustJKS(dir, "trust.jks", "trustpw")
	zkStore := ca.Issue(pkix.Name{CommonName: "zookeeper"}, "127.0.0.1").WriteEncryptedPEM(dir, "zk.pem", "zkpw")
	kafkaStore := ca.Issue(pkix.Name{CommonName: "kafka", OrganizationalUnit: []string{"brokers"}}).
		WriteEncryptedPEM(dir, "kafka.pem", "kafkapw")
	securePort := freePort(t)
	plain, _ := startZK(t, fmt.Sprintf("secureClientPort=%d", securePort), "secureClientPortAddress=127.0.0.1",
		"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
		"ssl.keyStore.location="+zkStore, "ssl.keyStore.password=zkpw",
		"ssl.trustStore.location="+trust, "ssl.trustStore.password=trustpw",
		"DigestAuthenticationProvider.superDigest="+acl.GenerateDigest("super:secret"))
	c := &cluster{t: t, zk: fmt.Sprintf("127.0.0.1:%d", securePort), logDir: t.TempDir(), port: freePort(t)}
	tlsProps := []string{"zookeeper.ssl.client.enable=true",
		"zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"zookeeper.ssl.keystore.location=" + kafkaStore, "zookeeper.ssl.keystore.password=kafkapw",
		"zookeeper.ssl.truststore.location=" + trust, "zookeeper.ssl.truststore.password=trustpw"}

	// zookeeper.set.acl needs an authenticated ZooKeeper session.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := New(c.config("zookeeper.set.acl=true"), quiet)
	err := b.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "zookeeper.set.acl is true, but ZooKeeper client TLS configuration") {
		t.Fatalf("set.acl without TLS client authentication: %v", err)
	}

	c.start(append(tlsProps, "zookeeper.set.acl=true")...)
	cl := c.client()
	if err := cl.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}

	dial := func() *zk.Conn {
		conn, _, err := zk.Connect([]string{plain}, 5*time.Second, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(conn.Close)
		return conn
	}
	super, conn := dial(), dial()
	if err := super.AddAuth("digest", []byte("super:secret")); err != nil {
		t.Fatal(err)
	}
	me := zk.ACL{Perms: zk.PermAll, Scheme: "x509", ID: "CN=kafka,OU=brokers"}
	readable := []zk.ACL{me, {Perms: zk.PermRead, Scheme: "world", ID: "anyone"}}
	for path, want := range map[string][]zk.ACL{
		"/kafka":                readable,
		"/kafka/brokers/ids/0":  readable,
		"/kafka/controller":     readable,
		"/kafka/cluster/id":     readable,
		"/kafka/config/topics":  readable,
		"/kafka/config/brokers": {me},
		"/kafka/config/users":   {me},
		"/kafka/consumers":      zk.WorldACL(zk.PermAll),
	} {
		got, _, err := super.GetACL(path)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v %v, want %v", path, got, err, want)
		}
	}
	if _, err := conn.Create("/kafka/brokers/topics/intruder", []byte("{}"), 0, zk.WorldACL(zk.PermAll)); err != zk.ErrNoAuth {
		t.Errorf("plain session created a topic znode: %v", err)
	}
	if _, _, err := conn.Get("/kafka/config/brokers"); err != zk.ErrNoAuth {
		t.Errorf("plain session read /config/brokers: %v", err)
	}
}

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
	"github.com/twmb/franz-go/pkg/kadm"

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

// TestAuthorizerZooKeeperTLSOverlays: AclAuthorizer's own ZooKeeper client takes authorizer.zookeeper.ssl.* over the
// broker's settings (KIP-515). The broker reaches ZooKeeper in plaintext; the authorizer reaches the same server's
// secure port with its own key and trust stores, and with another CA's trust store it cannot start.
func TestAuthorizerZooKeeperTLSOverlays(t *testing.T) {
	dir := t.TempDir()
	ca, other := keystoretest.NewCA(t, "zk-ca"), keystoretest.NewCA(t, "other-ca")
	trust := ca.WriteTrustJKS(dir, "trust.jks", "trustpw")
	wrongTrust := other.WriteTrustJKS(dir, "wrong.jks", "trustpw")
	zkStore := ca.Issue(pkix.Name{CommonName: "zookeeper"}, "127.0.0.1").WriteEncryptedPEM(dir, "zk.pem", "zkpw")
	aclStore := ca.Issue(pkix.Name{CommonName: "acl-authorizer"}).WriteEncryptedPEM(dir, "acl.pem", "aclpw")
	securePort := freePort(t)
	plain, _ := startZK(t, fmt.Sprintf("secureClientPort=%d", securePort), "secureClientPortAddress=127.0.0.1",
		"serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
		"ssl.keyStore.location="+zkStore, "ssl.keyStore.password=zkpw",
		"ssl.trustStore.location="+trust, "ssl.trustStore.password=trustpw")
	c := &cluster{t: t, zk: plain, logDir: t.TempDir(), port: freePort(t)}
	props := func(truststore string) []string {
		return []string{"authorizer.class.name=kafka.security.authorizer.AclAuthorizer",
			"allow.everyone.if.no.acl.found=true",
			fmt.Sprintf("authorizer.zookeeper.url=127.0.0.1:%d/kafka", securePort),
			"authorizer.zookeeper.connection.timeout.ms=3000",
			"authorizer.zookeeper.ssl.client.enable=true",
			"authorizer.zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
			"authorizer.zookeeper.ssl.keystore.location=" + aclStore, "authorizer.zookeeper.ssl.keystore.password=aclpw",
			"authorizer.zookeeper.ssl.truststore.location=" + truststore, "authorizer.zookeeper.ssl.truststore.password=trustpw"}
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := New(c.config(props(wrongTrust)...), quiet).Start(context.Background()); err == nil {
		t.Fatal("the authorizer's client trusted a server certificate of another CA")
	}

	c.start(props(trust)...)
	admin := kadm.NewClient(c.client())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := admin.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").Topics("t").Operations(kadm.OpRead).
		ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("CreateAcls through the authorizer's TLS client: %+v %v", res, err)
	}
	conn, _, err := zk.Connect([]string{plain}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if data, _, err := conn.Get("/kafka/kafka-acl/Topic/t"); err != nil || !strings.Contains(string(data), "User:alice") {
		t.Fatalf("the ACL in ZooKeeper: %q %v", data, err)
	}
}

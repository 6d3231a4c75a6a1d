package kafkaclients

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// TestZooKeeperSASLApache runs our broker on Apache ZooKeeper 3.8 with SASL: the broker's KAFKA_OPTS name a JAAS
// file whose Client section logs in with DIGEST-MD5, which Apache's server checks against its Server section (the
// JDK's DIGEST-MD5 server); with zookeeper.set.acl=true the broker's znodes get Kafka's secure ACLs for its sasl id.
func TestZooKeeperSASLApache(t *testing.T) {
	jaas := filepath.Join(t.TempDir(), "jaas.conf")
	if err := os.WriteFile(jaas, []byte(`Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_kafka="kafka-secret";
};
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="kafka"
  password="kafka-secret";
};
`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := harness.Start(context.Background(), harness.Apache, harness.Config{
		JVMFlags: []string{"-Djava.security.auth.login.config=" + jaas},
		Props:    map[string]string{"authProvider.1": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"},
	})
	harness.NeedOrSkip(t, err)
	t.Cleanup(func() { _ = srv.Cleanup(false) })
	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+jaas)
	startBroker(t, srv.Addr()+"/kafka", "zookeeper.set.acl=true")

	conn, _, err := zk.Connect([]string{srv.Addr()}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	me := zk.ACL{Perms: zk.PermAll, Scheme: "sasl", ID: "kafka"}
	for path, want := range map[string][]zk.ACL{
		"/kafka/brokers/ids/0": {me, {Perms: zk.PermRead, Scheme: "world", ID: "anyone"}},
		"/kafka/consumers":     zk.WorldACL(zk.PermAll),
	} {
		got, _, err := conn.GetACL(path)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v %v, want %v", path, got, err, want)
		}
	}
	// An unauthenticated session cannot change the broker's registration.
	if _, err := conn.Set("/kafka/brokers/ids/0", []byte("{}"), -1); err != zk.ErrNoAuth {
		t.Errorf("an unauthenticated session set the broker's registration: %v", err)
	}
}

// TestZooKeeperKerberosApache runs our broker on Apache ZooKeeper 3.8 logged in with Kerberos: the broker's JAAS
// Client section is a Krb5LoginModule with a keytab; Apache's server accepts it as zookeeper/localhost (the JDK's
// GSSAPI server) and names the broker by its principal, which Kafka's secure ACLs then grant everything.
func TestZooKeeperKerberosApache(t *testing.T) {
	kdc := kdctest.Start(t)
	zkKT := kdc.AddService(t, "zookeeper/localhost")
	kafkaKT := kdc.AddService(t, "kafka/localhost")
	jaas := filepath.Join(kdc.Dir, "jaas.conf")
	if err := os.WriteFile(jaas, []byte(kdctest.JaasSection("Server", zkKT, "zookeeper/localhost@"+kdctest.Realm)+
		kdctest.JaasSection("Client", kafkaKT, "kafka/localhost@"+kdctest.Realm)), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := harness.Start(context.Background(), harness.Apache, harness.Config{
		JVMFlags: []string{"-Djava.security.auth.login.config=" + jaas, "-Djava.security.krb5.conf=" + kdc.Krb5Conf},
		Props:    map[string]string{"authProvider.1": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"},
	})
	harness.NeedOrSkip(t, err)
	t.Cleanup(func() { _ = srv.Cleanup(false) })
	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+jaas+" -Djava.security.krb5.conf="+kdc.Krb5Conf)
	startBroker(t, srv.Addr()+"/kafka", "zookeeper.set.acl=true")

	conn, _, err := zk.Connect([]string{srv.Addr()}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	want := []zk.ACL{{Perms: zk.PermAll, Scheme: "sasl", ID: "kafka/localhost@" + kdctest.Realm},
		{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}}
	if got, _, err := conn.GetACL("/kafka/brokers/ids/0"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("/kafka/brokers/ids/0: %v %v, want %v", got, err, want)
	}
}

// TestZooKeeperKerberosCrossRealm runs our broker (kafka/localhost@A.TEST) on Apache ZooKeeper 3.8 whose principal
// is zookeeper/localhost@B.TEST, as ZooKeeper 3.8's Java client behaves (measured with ZooKeeperMain on this
// setup): the service realm comes from the broker's krb5.conf ([domain_realm] for the server's host, else the
// default realm, even when the broker's principal is of another realm), whatever zookeeper.server.realm or the realm
// of zookeeper.server.principal say (the Java client hands GSSAPI only the service and host names, and the host
// lower-cased); the ticket comes through A.TEST's KDC with its cross-realm krbtgt/B.TEST@A.TEST.
func TestZooKeeperKerberosCrossRealm(t *testing.T) {
	kdc := kdctest.StartRealms(t, "A.TEST", "B.TEST")
	zkKT := kdc.AddService(t, "zookeeper/localhost@B.TEST")
	kafkaKT := kdc.AddService(t, "kafka/localhost@A.TEST")
	jaas := filepath.Join(kdc.Dir, "jaas.conf")
	if err := os.WriteFile(jaas, []byte(kdctest.JaasSection("Server", zkKT, "zookeeper/localhost@B.TEST")+
		kdctest.JaasSection("Client", kafkaKT, "kafka/localhost@A.TEST")), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := harness.Start(context.Background(), harness.Apache, harness.Config{
		JVMFlags: []string{"-Djava.security.auth.login.config=" + jaas,
			"-Djava.security.krb5.conf=" + kdc.ClientConf(t, "server.conf", "B.TEST", nil)},
		Props: map[string]string{"authProvider.1": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"},
	})
	harness.NeedOrSkip(t, err)
	t.Cleanup(func() { _ = srv.Cleanup(false) })
	mapped := kdc.ClientConf(t, "mapped.conf", "A.TEST", map[string]string{"localhost": "B.TEST"})
	unmapped := kdc.ClientConf(t, "unmapped.conf", "A.TEST", nil)
	defaultB := kdc.ClientConf(t, "default-b.conf", "B.TEST", nil)
	opts := func(conf string, extra ...string) string {
		return strings.Join(append([]string{"-Djava.security.auth.login.config=" + jaas,
			"-Djava.security.krb5.conf=" + conf}, extra...), " ")
	}

	// The names have no comma: the broker's log.dirs is under the subtest's temporary directory.
	for i, tc := range []struct {
		name, opts string
	}{
		{"domain_realm", opts(mapped)},
		{"domain_realm and server.realm of the client", opts(mapped, "-Dzookeeper.server.realm=A.TEST",
			"-Dzookeeper.server.principal=zookeeper/localhost@A.TEST")},
		{"domain_realm and upper-case host", opts(mapped, "-Dzookeeper.server.principal=zookeeper/LocalHost")},
		{"default realm of the server", opts(defaultB)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KAFKA_OPTS", tc.opts)
			chroot := fmt.Sprintf("/kafka%d", i)
			startBroker(t, srv.Addr()+chroot, "zookeeper.set.acl=true")
			conn, _, err := zk.Connect([]string{srv.Addr()}, 5*time.Second, zk.WithLogInfo(false))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			want := []zk.ACL{{Perms: zk.PermAll, Scheme: "sasl", ID: "kafka/localhost@A.TEST"},
				{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}}
			if got, _, err := conn.GetACL(chroot + "/brokers/ids/0"); err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s/brokers/ids/0: %v %v, want %v", chroot, got, err, want)
			}
		})
	}
	// Without a mapping the Java client asks for zookeeper/localhost@A.TEST, which A.TEST's KDC does not know.
	for _, tc := range []struct {
		name, opts string
	}{
		{"no domain_realm", opts(unmapped)},
		{"no domain_realm with server.realm", opts(unmapped, "-Dzookeeper.server.realm=B.TEST")},
		{"no domain_realm with principal realm", opts(unmapped,
			"-Dzookeeper.server.principal=zookeeper/localhost@B.TEST")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KAFKA_OPTS", tc.opts)
			out := runBrokerToExit(t, srv.Addr()+"/refused")
			if !strings.Contains(out, "Auth failed either before or while waiting for connection") {
				t.Errorf("the broker did not stop with Kafka's auth failure:\n%s", out)
			}
		})
	}
}

// runBrokerToExit runs a broker on zkConnect that should stop at start and returns its output.
func runBrokerToExit(t *testing.T, zkConnect string) string {
	t.Helper()
	_, kafkaBin := binaries(t)
	c := newBrokerCluster(t, zkConnect)
	props := filepath.Join(c.dir, "server.properties")
	writeLines(t, props, c.props("PLAINTEXT://"+c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kafkaBin, props).CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("the broker did not stop with an error (%v):\n%s", err, out)
	}
	return string(out)
}

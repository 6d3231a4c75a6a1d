package kafkaclients

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
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

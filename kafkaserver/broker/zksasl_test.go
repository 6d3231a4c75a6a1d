package broker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/zkserver/acl"
)

// writeJaas writes a JAAS file with zkserver's Server section (users kafka and super) and the ZooKeeper client's
// Client section logging in as kafka with password.
func writeJaas(t *testing.T, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jaas.conf")
	text := fmt.Sprintf(`Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_kafka="kafka-secret";
};
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="kafka"
  password="%s";
};
`, password)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestZooKeeperSASLAndSecureACLs runs a broker whose KAFKA_OPTS name a JAAS file with a Client section: its
// ZooKeeper session logs in with DIGEST-MD5 (zkserver checking it against its Server section), and with
// zookeeper.set.acl=true its znodes get Kafka's secure ACLs for its sasl id. A wrong password stops the start with
// the ZooKeeper client's auth failure.
func TestZooKeeperSASLAndSecureACLs(t *testing.T) {
	t.Setenv("SERVER_JVMFLAGS", "-Djava.security.auth.login.config="+writeJaas(t, "kafka-secret"))
	addr, _ := startZK(t, "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
		"DigestAuthenticationProvider.superDigest="+acl.GenerateDigest("super:secret"))
	c := &cluster{t: t, zk: addr, logDir: t.TempDir(), port: freePort(t)}

	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+writeJaas(t, "wrong"))
	b := New(c.config("zookeeper.set.acl=true", "zookeeper.connection.timeout.ms=20000"),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Now()
	err := b.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Auth failed either before or while waiting for connection") {
		t.Fatalf("a wrong ZooKeeper password: %v", err)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("the auth failure took %v, not reported at once", time.Since(start))
	}

	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+writeJaas(t, "kafka-secret"))
	c.start("zookeeper.set.acl=true", dtMasterKey)
	if err := c.client().Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	super, _, err := zk.Connect([]string{addr}, 5*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close()
	if err := super.AddAuth("digest", []byte("super:secret")); err != nil {
		t.Fatal(err)
	}
	me := zk.ACL{Perms: zk.PermAll, Scheme: "sasl", ID: "kafka"}
	readable := []zk.ACL{me, {Perms: zk.PermRead, Scheme: "world", ID: "anyone"}}
	for path, want := range map[string][]zk.ACL{
		"/kafka/brokers/ids/0":  readable,
		"/kafka/controller":     readable,
		"/kafka/config/brokers": {me},
		"/kafka/consumers":      zk.WorldACL(zk.PermAll),
		// With delegation tokens on, their paths; token information is for the brokers only.
		"/kafka/delegation_token/tokens":        {me},
		"/kafka/delegation_token/token_changes": readable,
	} {
		got, _, err := super.GetACL(path)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v %v, want %v", path, got, err, want)
		}
	}
}

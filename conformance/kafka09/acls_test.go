package kafka09

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zkafka/zkafka/conformance/harness"
)

// aclSetup gives the SSL listener client authentication (two client certificates, CN=client and CN=stranger, in
// the broker's trust store) and turns the authorizer on; the PLAINTEXT listener's User:ANONYMOUS is a super user,
// as inter-broker traffic needs. Before the broker starts, as on a cluster that had Kafka 0.9, ACLs are made with
// kafka-acls.sh (it writes ZooKeeper only): CN=client may produce to acl-ok, everyone may consume it. It returns the
// server.properties lines and writes each client's SSL properties.
func aclSetup(e *env) []string {
	trust := filepath.Join(e.dir, "broker-trust.jks")
	for _, cn := range []string{"client", "stranger"} {
		ks := filepath.Join(e.dir, cn+".jks")
		keytool(e.t, "-genkeypair", "-keystore", ks, "-storetype", "JKS", "-storepass", "client-pw", "-keypass", "client-pw",
			"-alias", cn, "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN="+cn)
		crt := filepath.Join(e.dir, cn+".crt")
		keytool(e.t, "-exportcert", "-rfc", "-keystore", ks, "-storepass", "client-pw", "-alias", cn, "-file", crt)
		keytool(e.t, "-importcert", "-noprompt", "-keystore", trust, "-storetype", "JKS", "-storepass", "trust-pw",
			"-alias", cn, "-file", crt)
		writeFile(e.t, filepath.Join(e.dir, cn+"-ssl.properties"), "security.protocol=SSL",
			"ssl.truststore.location="+filepath.Join(e.dir, "client-trust.jks"), "ssl.truststore.password=trust-pw",
			"ssl.keystore.location="+ks, "ssl.keystore.password=client-pw", "ssl.key.password=client-pw",
			"group.id=acl-group", "max.block.ms=5000")
	}
	// The chroot exists, as on a cluster that ran before.
	conn, _, err := zk.Connect([]string{e.zkAddr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create(chroot, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		e.t.Fatal(err)
	}
	e.acls("--add", "--allow-principal", "User:CN=client", "--producer", "--topic", "acl-ok")
	e.acls("--add", "--allow-principal", "User:*", "--consumer", "--topic", "acl-ok", "--group", "acl-group")
	return []string{"listener.name.ssl.ssl.client.auth=required", "listener.name.ssl.ssl.truststore.location=" + trust,
		"listener.name.ssl.ssl.truststore.password=trust-pw",
		"authorizer.class.name=kafka.security.auth.SimpleAclAuthorizer", "super.users=User:ANONYMOUS"}
}

// ACLs Kafka 0.9's kafka-acls.sh wrote to ZooKeeper are enforced by our broker for 0.9's console producer and new
// consumer over SSL with client certificates, next to ones made through CreateAcls.
func TestKafka09ACLs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM per tool run")
	}
	e := newEnv(t, harness.Kafka09Home(t), aclSetup)
	if err := e.createTopic("acl-ok", 1); err != nil {
		t.Fatal(err)
	}

	clientProps, strangerProps := filepath.Join(e.dir, "client-ssl.properties"), filepath.Join(e.dir, "stranger-ssl.properties")
	msgs := lines("acl", 20)
	if _, p, err := e.run(60*time.Second, strings.Join(msgs, "\n")+"\n", "kafka-console-producer.sh",
		"--broker-list", e.sslBroker, "--topic", "acl-ok", "--request-required-acks", "-1", "--sync",
		"--producer.config", clientProps); err != nil {
		t.Fatalf("the granted producer: %v\n%s", err, p.diag())
	}
	out, p, err := e.run(90*time.Second, "", "kafka-console-consumer.sh", "--new-consumer", "--bootstrap-server",
		e.sslBroker, "--consumer.config", clientProps, "--topic", "acl-ok", "--from-beginning", "--max-messages", "20")
	if err != nil {
		t.Fatalf("the granted consumer: %v\n%s", err, p.diag())
	}
	if err := sameMessages(out, msgs); err != nil {
		t.Fatal(err)
	}

	// The stranger's producer is refused (TOPIC_AUTHORIZATION_FAILED: 0.9's TopicAuthorizationException) and nothing
	// lands.
	_, p, _ = e.run(60*time.Second, "stranger\n", "kafka-console-producer.sh", "--broker-list", e.sslBroker,
		"--topic", "acl-ok", "--request-required-acks", "-1", "--sync", "--producer.config", strangerProps)
	if diag := p.diag(); !strings.Contains(p.stderr.String(), "Not authorized to access topics: [acl-ok]") {
		t.Errorf("the stranger's producer did not report TopicAuthorizationException:\n%s", diag)
	}
	ends, err := e.endOffsets("acl-ok")
	if err != nil || ends[0] != 20 {
		t.Fatalf("end offsets %v %v", ends, err)
	}

	// An ACL made through CreateAcls (franz-go, as the super user on PLAINTEXT) is listed by 0.9's tool.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := kadm.NewClient(cl).CreateACLs(ctx, kadm.NewACLs().Deny("User:CN=stranger").Topics("acl-ok").
		Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("CreateAcls: %+v %v", res, err)
	}
	// The stranger's new consumer, allowed by 0.9's User:* entry but now denied READ on the topic, gets nothing.
	_, p, _ = e.run(60*time.Second, "", "kafka-console-consumer.sh", "--new-consumer", "--bootstrap-server",
		e.sslBroker, "--consumer.config", strangerProps, "--topic", "acl-ok", "--from-beginning", "--max-messages", "1",
		"--timeout-ms", "10000")
	if out := p.stdout.String(); strings.Contains(out, "acl-") {
		t.Errorf("the stranger consumed %q", out)
	}

	// As against Kafka 2.8 (KafkaZkClient.createAclPaths makes /kafka-acl/<type> for every resource type), 0.9's
	// tool no longer reads the store once the broker has started: it knows no DelegationToken or TransactionalId.
	_, p, err = e.run(60*time.Second, "", "kafka-acls.sh", "--authorizer-properties", "zookeeper.connect="+e.zkConnect,
		"--list", "--topic", "acl-ok")
	if err == nil || !regexp.MustCompile(`(DelegationToken|TransactionalId) not a valid resourceType name`).MatchString(p.stdout.String()) {
		t.Errorf("kafka-acls.sh --list after the start: %v\n%s", err, p.stdout.String())
	}
	if t.Failed() {
		t.Logf("broker WARN/ERROR lines:\n%s", e.brokerLogSince(0))
	}
}

// acls runs kafka-acls.sh against the ZooKeeper store with args.
func (e *env) acls(args ...string) {
	e.t.Helper()
	out, p, err := e.run(60*time.Second, "", "kafka-acls.sh",
		append([]string{"--authorizer-properties", "zookeeper.connect=" + e.zkConnect}, args...)...)
	if err != nil {
		e.t.Fatalf("kafka-acls.sh %s: %v\n%s\nstdout:\n%s", strings.Join(args, " "), err, p.diag(), out)
	}
}

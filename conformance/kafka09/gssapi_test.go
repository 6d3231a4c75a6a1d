package kafka09

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// TestKafka09GSSAPI: Kafka 0.9's console producer and new consumer log in with Kerberos (the JDK's GSSAPI, a
// KafkaClient JAAS section with a keytab) against an MIT KDC. 0.9 clients send GSSAPI tokens as their first
// packets, without SaslHandshake, which the broker must take as Kafka 2.8's does.
func TestKafka09GSSAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM per tool run")
	}
	home := harness.Kafka09Home(t)
	kdc := kdctest.Start(t)
	serviceKT := kdc.AddService(t, "kafka/localhost")
	aliceKT := kdc.AddService(t, "alice")
	jaasPath := filepath.Join(kdc.Dir, "jaas.conf")
	writeFile(t, jaasPath, kdctest.JaasSection("KafkaServer", serviceKT, "kafka/localhost@"+kdctest.Realm)+
		kdctest.JaasSection("KafkaClient", aliceKT, "alice@"+kdctest.Realm))
	// The broker and the tools read the same options, as on a host where both run.
	t.Setenv("KAFKA_OPTS", "-Djava.security.auth.login.config="+jaasPath+" -Djava.security.krb5.conf="+kdc.Krb5Conf)

	saslBroker := fmt.Sprintf("localhost:%d", freePort(t))
	e := newEnv(t, home, func(e *env) []string {
		return []string{"listeners=PLAINTEXT://" + e.broker + ",SSL://" + e.sslBroker + ",SASL_PLAINTEXT://" + saslBroker,
			"sasl.enabled.mechanisms=GSSAPI", "sasl.kerberos.service.name=kafka"}
	})
	if err := e.createTopic("krb", 1); err != nil {
		t.Fatal(err)
	}
	props := filepath.Join(e.dir, "client-sasl.properties")
	writeFile(t, props, "security.protocol=SASL_PLAINTEXT", "sasl.kerberos.service.name=kafka", "group.id=krb-group",
		"metadata.fetch.timeout.ms=15000")
	msgs := lines("krb", 10)
	if _, p, err := e.run(90*time.Second, strings.Join(msgs, "\n")+"\n", "kafka-console-producer.sh",
		"--broker-list", saslBroker, "--topic", "krb", "--request-required-acks", "-1", "--sync",
		"--producer.config", props); err != nil {
		t.Fatalf("producer: %v\n%s\nbroker:\n%s", err, p.diag(), e.brokerLogSince(0))
	}
	out, p, err := e.run(90*time.Second, "", "kafka-console-consumer.sh", "--new-consumer", "--bootstrap-server",
		saslBroker, "--consumer.config", props, "--topic", "krb", "--from-beginning", "--max-messages", "10")
	if err != nil {
		t.Fatalf("consumer: %v\n%s\nbroker:\n%s", err, p.diag(), e.brokerLogSince(0))
	}
	if err := sameMessages(out, msgs); err != nil {
		t.Fatal(err)
	}
}

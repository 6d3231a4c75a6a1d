package kafkaclients

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
)

// pythonGSSAPIScript: kafka-python (python-gssapi on MIT Kerberos, with the ticket cache kinit filled) produces
// three records and reads them back, logged in with Kerberos to the service kafka/<broker host>.
const pythonGSSAPIScript = pythonRoundTrip + `
import sys
round_trip('python-gssapi', bootstrap_servers=sys.argv[1], security_protocol='SASL_PLAINTEXT',
           sasl_mechanism='GSSAPI', sasl_kerberos_service_name='kafka')
print('ok')
`

// TestSASLGSSAPIClients: against an MIT KDC, with the broker logged in from a keytab by a JAAS KafkaServer section
// as Kafka's documentation sets it up, kcat (librdkafka, Cyrus SASL's GSSAPI plugin, kinit), kafka-python
// (python-gssapi) and sarama (gokrb5) log in with Kerberos; a client asking for another service is refused.
func TestSASLGSSAPIClients(t *testing.T) {
	kdc := kdctest.Start(t)
	serviceKT := kdc.AddService(t, "kafka/localhost")
	aliceKT := kdc.AddService(t, "alice")
	t.Setenv("KAFKA_OPTS", "-Djava.security.krb5.conf="+kdc.Krb5Conf)
	// MIT's tools and libraries (kinit, librdkafka's Cyrus plugin, python-gssapi) read these.
	t.Setenv("KRB5_CONFIG", kdc.Krb5Conf)
	t.Setenv("KRB5CCNAME", "FILE:"+filepath.Join(kdc.Dir, "alice.ccache"))
	jaas := kdctest.JaasSection("KafkaServer", serviceKT, "kafka/localhost@"+kdctest.Realm)
	// Kerberos names the service by host: the SASL listener is advertised as localhost.
	c, addr := startJaasClusterOn(t, "localhost", jaas, "GSSAPI", "sasl.kerberos.service.name=kafka")

	t.Run("kcat", func(t *testing.T) {
		kcat := lookPathOrSkip(t, "kcat", "kcat")
		krb := func(service string) []string {
			return []string{"-b", addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=GSSAPI",
				"-X", "sasl.kerberos.service.name=" + service, "-X", "sasl.kerberos.keytab=" + aliceKT,
				"-X", "sasl.kerberos.principal=alice"}
		}
		c.createTopic(t, "kcat-gssapi", 1)
		kcatRoundTrip(t, kcat, krb("kafka"), "kcat-gssapi")
		if out, err := run(t, 30*time.Second, nil, kcat, append(krb("zookeeper"), "-L", "-m", "5")...); err == nil {
			t.Fatalf("kcat with a ticket for another service:\n%s", out)
		}
	})

	t.Run("kafka-python", func(t *testing.T) {
		requireKafkaPython(t)
		if out, err := run(t, 30*time.Second, nil, "kinit", "-k", "-t", aliceKT, "alice"); err != nil {
			t.Fatalf("kinit: %v\n%s", err, out)
		}
		out, err := run(t, 120*time.Second, nil, debianPython, "-c", pythonGSSAPIScript, addr)
		if err != nil || !strings.Contains(out, "ok") {
			t.Fatalf("kafka-python: %v\n%s", err, out)
		}
	})

	t.Run("sarama", func(t *testing.T) {
		cfg := saramaConfig()
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Mechanism = sarama.SASLTypeGSSAPI
		cfg.Net.SASL.GSSAPI = sarama.GSSAPIConfig{AuthType: sarama.KRB5_KEYTAB_AUTH, KeyTabPath: aliceKT,
			KerberosConfigPath: kdc.Krb5Conf, ServiceName: "kafka", Username: "alice", Realm: kdctest.Realm,
			DisablePAFXFAST: true}
		c.createTopic(t, "sarama-gssapi", 1)
		p, err := sarama.NewSyncProducer([]string{addr}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		for i := 0; i < 3; i++ {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "sarama-gssapi", Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
	})
}

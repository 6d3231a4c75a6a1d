package kafkaclients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const saslJaas = `KafkaServer {
   org.apache.kafka.common.security.plain.PlainLoginModule required
   username="admin"
   password="admin-secret"
   user_admin="admin-secret"
   user_alice="alice-secret";
};
`

// kcatRoundTrip produces three lines to topic with kcat connected by conn (-b and -X arguments) and reads them back.
func kcatRoundTrip(t *testing.T, kcat string, conn []string, topic string) {
	t.Helper()
	out, err := run(t, 30*time.Second, []byte("one\ntwo\nthree\n"), kcat, slices.Concat(conn, []string{"-P", "-t", topic})...)
	if err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	out, err = run(t, 30*time.Second, nil, kcat,
		slices.Concat(conn, []string{"-C", "-t", topic, "-o", "beginning", "-c", "3", "-e"})...)
	if lines := strings.Fields(out); err != nil || strings.Join(lines, ",") != "one,two,three" {
		t.Fatalf("kcat -C: %v\n%q", err, out)
	}
}

// pythonRoundTrip defines round_trip(topic, **kw) for the kafka-python scripts: three records produced and read
// back by a consumer, both made with kw.
const pythonRoundTrip = `
from kafka import KafkaProducer, KafkaConsumer
def round_trip(topic, **kw):
    p = KafkaProducer(**kw)
    for i in range(3):
        p.send(topic, b'm%d' % i).get(timeout=30)
    p.close()
    c = KafkaConsumer(topic, auto_offset_reset='earliest', consumer_timeout_ms=10000, **kw)
    got = []
    for m in c:
        got.append(m.value)
        if len(got) == 3:
            break
    c.close()
    assert got[:3] == [b'm0', b'm1', b'm2'], got
`

// pythonSASLScript produces three records with kafka-python logged in as alice with each mechanism named (comma
// separated) and reads them back with a consumer; a wrong password must be refused.
const pythonSASLScript = pythonRoundTrip + `
import sys
from kafka.errors import KafkaError
addr = sys.argv[1]
for mech in sys.argv[2].split(','):
    common = dict(bootstrap_servers=addr, security_protocol='SASL_PLAINTEXT', sasl_mechanism=mech,
                  sasl_plain_username='alice')
    topic = 'python-' + mech.lower()
    round_trip(topic, sasl_plain_password='alice-secret', **common)
    try:
        KafkaProducer(sasl_plain_password='bad', request_timeout_ms=3000, max_block_ms=3000,
                      **common).send(topic, b'x').get(timeout=5)
        print(mech, 'bad password accepted'); sys.exit(1)
    except KafkaError as e:
        print(mech, 'bad password refused:', type(e).__name__)
print('ok')
`

func pythonSASLRoundTrip(t *testing.T, addr string, mechanisms ...string) {
	t.Helper()
	requireKafkaPython(t)
	out, err := run(t, 120*time.Second, nil, debianPython, "-c", pythonSASLScript, addr, strings.Join(mechanisms, ","))
	if err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("kafka-python: %v\n%s", err, out)
	}
	t.Log(out)
}

// startSASLCluster is startCluster with a SASL_PLAINTEXT listener (PLAIN) beside the PLAINTEXT one, its users in a
// JAAS file passed as Kafka's scripts pass it: -Djava.security.auth.login.config in KAFKA_OPTS.
func startSASLCluster(t *testing.T) (*cluster, string) {
	t.Helper()
	return startJaasCluster(t, saslJaas, "PLAIN")
}

// startJaasCluster starts zkserver and a broker with a SASL_PLAINTEXT listener (the mechanisms given) beside the
// PLAINTEXT one, its login context jaas written to a file passed as Kafka's scripts pass it (added to any
// KAFKA_OPTS already set), and the extra server.properties lines; it returns the SASL listener's address.
func startJaasCluster(t *testing.T, jaas, mechanisms string, extra ...string) (*cluster, string) {
	t.Helper()
	return startJaasClusterOn(t, "127.0.0.1", jaas, mechanisms, extra...)
}

// startJaasClusterOn is startJaasCluster with the SASL listener on host (a name where Kerberos needs one).
func startJaasClusterOn(t *testing.T, host, jaas, mechanisms string, extra ...string) (*cluster, string) {
	t.Helper()
	c := newBrokerCluster(t, startZKServer(t)+"/kafka")
	saslAddr := net.JoinHostPort(host, fmt.Sprint(freePort(t)))
	path := filepath.Join(c.dir, "kafka_server_jaas.conf")
	if err := os.WriteFile(path, []byte(jaas), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KAFKA_OPTS", strings.TrimSpace(os.Getenv("KAFKA_OPTS")+" -Djava.security.auth.login.config="+path))
	c.launch(t, slices.Concat(c.props("PLAINTEXT://"+c.addr+",SASL_PLAINTEXT://"+saslAddr),
		[]string{"sasl.enabled.mechanisms=" + mechanisms}, extra))
	return c, saslAddr
}

// TestSASLScramClients: users created with AlterUserScramCredentials (kadm, on the PLAINTEXT listener) log in
// with SCRAM-SHA-256 and SCRAM-SHA-512 from kcat (librdkafka) and kafka-python; a wrong password is refused.
func TestSASLScramClients(t *testing.T) {
	c, addr := startJaasCluster(t, "KafkaServer {\n  org.apache.kafka.common.security.scram.ScramLoginModule required;\n};\n",
		"SCRAM-SHA-256,SCRAM-SHA-512")
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	altered, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: "alice", Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "alice-secret"},
		{User: "alice", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "alice-secret"},
	})
	if err != nil || altered["alice"].Err != nil {
		t.Fatalf("create alice: %+v %v", altered, err)
	}

	t.Run("kcat", func(t *testing.T) {
		kcat := lookPathOrSkip(t, "kcat", "kcat")
		scram := func(mech, pass string) []string {
			return []string{"-b", addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=" + mech,
				"-X", "sasl.username=alice", "-X", "sasl.password=" + pass}
		}
		c.createTopic(t, "kcat-scram", 1)
		// The credential may reach the broker's cache a moment after the API answered (a change notification).
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, err := run(t, 30*time.Second, nil, kcat, append(scram("SCRAM-SHA-256", "alice-secret"), "-L", "-m", "5")...)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kcat -L: %v\n%s", err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
		kcatRoundTrip(t, kcat, scram("SCRAM-SHA-256", "alice-secret"), "kcat-scram")
		kcatRoundTrip(t, kcat, scram("SCRAM-SHA-512", "alice-secret"), "kcat-scram-512")
		out, err := run(t, 30*time.Second, nil, kcat, append(scram("SCRAM-SHA-512", "wrong"), "-L", "-m", "5")...)
		if err == nil || !strings.Contains(out, "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512") {
			t.Fatalf("kcat with a bad password: %v\n%s", err, out)
		}
	})

	t.Run("kafka-python", func(t *testing.T) { pythonSASLRoundTrip(t, addr, "SCRAM-SHA-256", "SCRAM-SHA-512") })
}

func TestSASLPlainClients(t *testing.T) {
	c, addr := startSASLCluster(t)

	t.Run("kcat", func(t *testing.T) {
		kcat := lookPathOrSkip(t, "kcat", "kcat")
		sasl := func(user, pass string) []string {
			return []string{"-b", addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=PLAIN",
				"-X", "sasl.username=" + user, "-X", "sasl.password=" + pass}
		}
		c.createTopic(t, "kcat-sasl", 1)
		kcatRoundTrip(t, kcat, sasl("alice", "alice-secret"), "kcat-sasl")
		out, err := run(t, 30*time.Second, nil, kcat, append(sasl("alice", "wrong"), "-L", "-m", "5")...)
		if err == nil || !strings.Contains(out, "Invalid username or password") {
			t.Fatalf("kcat with a bad password: %v\n%s", err, out)
		}
	})

	t.Run("kafka-python", func(t *testing.T) { pythonSASLRoundTrip(t, addr, "PLAIN") })

	for _, v := range []int16{sarama.SASLHandshakeV0, sarama.SASLHandshakeV1} {
		t.Run(fmt.Sprintf("sarama-handshake-v%d", v), func(t *testing.T) {
			cfg := func(pass string) *sarama.Config {
				cfg := saramaConfig()
				cfg.Net.SASL.Enable = true
				cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
				cfg.Net.SASL.Version = v
				cfg.Net.SASL.Handshake = true
				cfg.Net.SASL.User, cfg.Net.SASL.Password = "alice", pass
				if v == sarama.SASLHandshakeV0 {
					// Raw tokens after the handshake, as clients of Kafka 0.10-1.0 send them; sarama then skips
					// ApiVersions and picks request versions from cfg.Version.
					cfg.ApiVersionsRequest = false
					cfg.Version = sarama.V1_0_0_0
				}
				return cfg
			}
			topic := fmt.Sprintf("sarama-sasl-v%d", v)
			c.createTopic(t, topic, 1)
			p, err := sarama.NewSyncProducer([]string{addr}, cfg("alice-secret"))
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
					b, _ := os.ReadFile(c.kafkaLog)
					t.Fatalf("send: %v\n%s", err, tail(b, 3000))
				}
			}
			p.Close()
			cons, err := sarama.NewConsumer([]string{addr}, cfg("alice-secret"))
			if err != nil {
				t.Fatal(err)
			}
			defer cons.Close()
			pc, err := cons.ConsumePartition(topic, 0, sarama.OffsetOldest)
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			for i := 0; i < 3; i++ {
				select {
				case m := <-pc.Messages():
					if string(m.Value) != fmt.Sprint(i) {
						t.Fatalf("message %d: %q", i, m.Value)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("message %d not consumed", i)
				}
			}
			_, err = sarama.NewClient([]string{addr}, cfg("wrong"))
			if err == nil {
				t.Fatal("bad password accepted")
			}
			if v == sarama.SASLHandshakeV1 && !errors.Is(err, sarama.ErrSASLAuthenticationFailed) && !strings.Contains(err.Error(), "Invalid username or password") {
				t.Logf("bad password error: %v", err)
			}
		})
	}
}

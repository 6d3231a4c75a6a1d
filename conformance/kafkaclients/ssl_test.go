package kafkaclients

import (
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
)

// sslFiles are the PEM files of an SSL test: the CA clients trust, and a client's certificate and key.
type sslFiles struct{ ca, cert, key string }

// startSSLCluster is startCluster with an SSL listener beside the PLAINTEXT one, requiring client certificates:
// the broker's key store is a PKCS12 file and its trust store a PEM file, both signed by one test CA.
func startSSLCluster(t *testing.T) (*cluster, string, sslFiles) {
	t.Helper()
	c := newBrokerCluster(t, startZKServer(t)+"/kafka")
	ca := keystoretest.NewCA(t, "zkafka conformance CA")
	client := ca.Issue(pkix.Name{CommonName: "client"})
	files := sslFiles{ca: ca.WriteTrustPEM(c.dir, "ca.pem"), cert: filepath.Join(c.dir, "client.crt"),
		key: filepath.Join(c.dir, "client.key")}
	for p, b := range map[string][]byte{files.cert: client.ChainPEM(), files.key: client.KeyPEM()} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sslAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.launch(t, append(c.props("PLAINTEXT://"+c.addr+",SSL://"+sslAddr),
		"ssl.keystore.type=PKCS12",
		"ssl.keystore.location="+ca.Issue(pkix.Name{CommonName: "broker-0"}, "127.0.0.1").WritePKCS12(c.dir, "broker.p12", "store-pw"),
		"ssl.keystore.password=store-pw",
		"ssl.truststore.type=PEM",
		"ssl.truststore.location="+files.ca,
		"ssl.client.auth=required"))
	return c, sslAddr, files
}

// kcat (librdkafka over OpenSSL) and kafka-python (Python's ssl module) produce and consume through an SSL listener
// with client certificates; without a certificate they are refused.
func TestSSLClients(t *testing.T) {
	c, addr, files := startSSLCluster(t)

	t.Run("kcat", func(t *testing.T) {
		kcat := lookPathOrSkip(t, "kcat", "kcat")
		ssl := func(withCert bool) []string {
			args := []string{"-b", addr, "-X", "security.protocol=ssl", "-X", "ssl.ca.location=" + files.ca}
			if withCert {
				args = append(args, "-X", "ssl.certificate.location="+files.cert, "-X", "ssl.key.location="+files.key)
			}
			return args
		}
		c.createTopic(t, "kcat-ssl", 1)
		kcatRoundTrip(t, kcat, ssl(true), "kcat-ssl")
		out, err := run(t, 30*time.Second, nil, kcat, append(ssl(false), "-L", "-m", "5")...)
		if err == nil {
			t.Fatalf("kcat without a client certificate served:\n%s", out)
		}
	})

	t.Run("kafka-python", func(t *testing.T) {
		requireKafkaPython(t)
		script := pythonRoundTrip + `
import sys
from kafka.errors import KafkaError
addr, ca, cert, key = sys.argv[1:5]
round_trip('python-ssl', bootstrap_servers=addr, security_protocol='SSL', ssl_cafile=ca, ssl_certfile=cert,
           ssl_keyfile=key)
try:
    KafkaProducer(bootstrap_servers=addr, security_protocol='SSL', ssl_cafile=ca, request_timeout_ms=3000,
                  max_block_ms=3000).send('python-ssl', b'x').get(timeout=5)
    print('no certificate accepted'); sys.exit(1)
except (KafkaError, OSError) as e:
    # Under TLS 1.3 the server refuses the missing certificate after the client's side of the handshake is done:
    # the client sees the connection end (ssl.SSLEOFError, an OSError) as it does with Kafka's own brokers.
    print('no certificate refused:', type(e).__name__)
print('ok')
`
		out, err := run(t, 90*time.Second, nil, debianPython, "-c", script, addr, files.ca, files.cert, files.key)
		if err != nil || !strings.Contains(out, "ok") {
			t.Fatalf("kafka-python: %v\n%s", err, out)
		}
		t.Log(out)
	})
}

package kafkaclients

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// oauthJaas is the broker's OAUTHBEARER login context as Kafka's documentation sets it up for unsecured tokens:
// a token for the broker's own use, and a validator requiring the scope "kafka".
const oauthJaas = `KafkaServer {
   org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required
   unsecuredLoginStringClaim_sub="admin"
   unsecuredLoginListClaim_scope=",kafka"
   unsecuredValidatorRequiredScope="kafka";
};
`

// pythonOAuthScript produces three records with kafka-python logged in with an unsecured token for alice and
// reads them back; a token without the required scope must be refused.
const pythonOAuthScript = pythonRoundTrip + `
import sys, json, base64, time
from kafka.errors import KafkaError
from kafka.oauth.abstract import AbstractTokenProvider
addr = sys.argv[1]
def b64(d):
    return base64.urlsafe_b64encode(json.dumps(d, separators=(',', ':')).encode()).decode().rstrip('=')
class Provider(AbstractTokenProvider):
    def __init__(self, scope):
        self.scope = scope
    def token(self):
        claims = {'sub': 'alice', 'exp': int(time.time()) + 3600}
        if self.scope:
            claims['scope'] = self.scope
        return b64({'alg': 'none'}) + '.' + b64(claims) + '.'
common = dict(bootstrap_servers=addr, security_protocol='SASL_PLAINTEXT', sasl_mechanism='OAUTHBEARER')
topic = 'python-oauth'
round_trip(topic, sasl_oauth_token_provider=Provider('kafka'), **common)
try:
    KafkaProducer(sasl_oauth_token_provider=Provider(None), request_timeout_ms=3000, max_block_ms=3000,
                  **common).send(topic, b'x').get(timeout=5)
    print('token without scope accepted'); sys.exit(1)
except KafkaError as e:
    print('token without scope refused:', type(e).__name__)
print('ok')
`

// saramaToken is sarama's token provider for an unsecured token.
type saramaToken struct{ claims string }

func (s saramaToken) Token() (*sarama.AccessToken, error) {
	e := base64.RawURLEncoding
	return &sarama.AccessToken{Token: e.EncodeToString([]byte(`{"alg":"none"}`)) + "." + e.EncodeToString([]byte(s.claims)) + "."}, nil
}

// TestSASLOAuthBearerClients: kcat (librdkafka's own unsecured JWT), kafka-python and sarama log in with
// OAUTHBEARER to a broker whose login context is Kafka's documented unsecured set-up; a token without the
// required scope or an expired one is refused.
func TestSASLOAuthBearerClients(t *testing.T) {
	c, addr := startJaasCluster(t, oauthJaas, "OAUTHBEARER")

	t.Run("kcat", func(t *testing.T) {
		kcat := lookPathOrSkip(t, "kcat", "kcat")
		oauth := func(config string) []string {
			return []string{"-b", addr, "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=OAUTHBEARER",
				"-X", "enable.sasl.oauthbearer.unsecure.jwt=true", "-X", "sasl.oauthbearer.config=" + config}
		}
		c.createTopic(t, "kcat-oauth", 1)
		kcatRoundTrip(t, kcat, oauth("principal=alice scope=kafka"), "kcat-oauth")
		out, err := run(t, 30*time.Second, nil, kcat, append(oauth("principal=alice scope=other"), "-L", "-m", "5")...)
		if err == nil || !strings.Contains(out, `{"status":"insufficient_scope", "scope":"[kafka]"}`) {
			t.Fatalf("kcat without the scope: %v\n%s", err, out)
		}
	})

	t.Run("kafka-python", func(t *testing.T) {
		requireKafkaPython(t)
		out, err := run(t, 120*time.Second, nil, debianPython, "-c", pythonOAuthScript, addr)
		if err != nil || !strings.Contains(out, "ok") {
			t.Fatalf("kafka-python: %v\n%s", err, out)
		}
		t.Log(out)
	})

	t.Run("sarama", func(t *testing.T) {
		cfg := func(claims string) *sarama.Config {
			cfg := saramaConfig()
			cfg.Net.SASL.Enable = true
			cfg.Net.SASL.Mechanism = sarama.SASLTypeOAuth
			cfg.Net.SASL.TokenProvider = saramaToken{claims}
			return cfg
		}
		exp := time.Now().Add(time.Hour).Unix()
		c.createTopic(t, "sarama-oauth", 1)
		p, err := sarama.NewSyncProducer([]string{addr}, cfg(fmt.Sprintf(`{"sub":"alice","exp":%d,"scope":["kafka"]}`, exp)))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "sarama-oauth", Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		p.Close()
		expired := fmt.Sprintf(`{"sub":"alice","exp":%d,"scope":["kafka"]}`, time.Now().Unix()-60)
		// sarama answers the error challenge with the four characters `\x01` rather than the byte 0x01, which
		// Kafka's server parses as a new first message and refuses without detail.
		_, err = sarama.NewClient([]string{addr}, cfg(expired))
		if err == nil || !strings.Contains(err.Error(), "invalid credentials with SASL mechanism OAUTHBEARER") {
			t.Fatalf("expired token: %v", err)
		}
	})
}

package broker

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// unsecuredToken is an unsecured JWS as Kafka's OAuthBearerUnsecuredLoginCallbackHandler makes one.
func unsecuredToken(claims string) string {
	e := base64.RawURLEncoding
	return e.EncodeToString([]byte(`{"alg":"none"}`)) + "." + e.EncodeToString([]byte(claims)) + "."
}

// saslExchange runs SaslHandshake v1 and then one SaslAuthenticate v1 per token on one connection, returning
// each response (nil once the broker closed the connection).
func saslExchange(t *testing.T, addr, mech string, tokens ...[]byte) []*kmsg.SASLAuthenticateResponse {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	roundTrip := func(req kmsg.Request, resp kmsg.Response, corr int32) bool {
		if _, err := nc.Write(requestFrame(req, corr)); err != nil {
			return false
		}
		var size [4]byte
		if _, err := io.ReadFull(nc, size[:]); err != nil {
			return false
		}
		b := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(nc, b); err != nil {
			t.Fatal(err)
		}
		resp.SetVersion(req.GetVersion())
		if err := resp.ReadFrom(b[4:]); err != nil {
			t.Fatal(err)
		}
		return true
	}
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version, hs.Mechanism = 1, mech
	hsr := kmsg.NewPtrSASLHandshakeResponse()
	if !roundTrip(hs, hsr, 1) || hsr.ErrorCode != 0 {
		t.Fatalf("handshake: %+v", hsr)
	}
	var out []*kmsg.SASLAuthenticateResponse
	for i, tok := range tokens {
		req := kmsg.NewPtrSASLAuthenticateRequest()
		req.Version, req.SASLAuthBytes = 1, tok
		resp := kmsg.NewPtrSASLAuthenticateResponse()
		if !roundTrip(req, resp, int32(i+2)) {
			resp = nil
		}
		out = append(out, resp)
	}
	return out
}

// Two brokers whose inter-broker listener is SASL_PLAINTEXT with OAUTHBEARER: the controller's requests and the
// follower's fetches log in with the unsecured token made from the listener's unsecuredLogin* options, clients
// with tokens of their own; the validator's required scope and the token's expiry are enforced.
// startSASLPair starts brokers 0 (the controller) and 1 with a PLAINTEXT and a SASL_PLAINTEXT listener each and
// the common properties, and waits until broker 1 knows both.
func startSASLPair(t *testing.T, c *cluster, common []string) (b0, b1 *Broker) {
	t.Helper()
	listeners := func() string {
		return fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SASL_PLAINTEXT://127.0.0.1:%d", freePort(t), freePort(t))
	}
	b0 = startBrokerN(c, 0, nil, append([]string{listeners()}, common...)...)
	c.waitFor("broker 0 controller", func() bool { return b0.Controller() != nil && isActive(b0) })
	b1 = startBrokerN(c, 1, nil, append([]string{listeners()}, common...)...)
	c.b = b0
	c.waitFor("broker 1 metadata", func() bool {
		cache := b1.Replicas().Cache()
		return len(cache.AliveBrokers()) == 2 && cache.ControllerID() == 0
	})
	return b0, b1
}

func TestSASLOAuthBearer(t *testing.T) {
	c := newCluster(t)
	jaas := "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=" +
		`org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ` +
		`unsecuredLoginStringClaim_sub="broker" unsecuredLoginListClaim_scope="|kafka" ` +
		`unsecuredValidatorRequiredScope="kafka";`
	common := []string{"sasl.enabled.mechanisms=OAUTHBEARER", "sasl.mechanism.inter.broker.protocol=OAUTHBEARER",
		"security.inter.broker.protocol=SASL_PLAINTEXT", jaas, "connection.failed.authentication.delay.ms=0",
		"connections.max.reauth.ms=600000", "offsets.topic.replication.factor=1"}
	b0, b1 := startSASLPair(t, c, common)
	ctx := ctxT(t)
	// Led by broker 1 and followed by broker 0 over the OAUTHBEARER listener.
	createAssigned(t, ctx, c.client(), "oauth", []int32{1, 0})

	addr := b1.Addr("SASL_PLAINTEXT").String()
	exp := time.Now().Add(time.Hour).Unix()
	alice := unsecuredToken(fmt.Sprintf(`{"sub":"alice","exp":%d,"scope":"kafka"}`, exp))
	cl := saslClient(t, addr, oauth.Auth{Token: alice}.AsMechanism(), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"oauth": {0: kgo.NewOffset().AtStart()}}))
	produceN(t, cl, "oauth", 0, 0, 3)
	pollN(t, cl, 3)
	c.waitFor("follower caught up", func() bool {
		l, ok := b0.logs.Get("oauth", 0)
		return ok && l.LogEndOffset() == 3
	})

	// The session lasts until the token expires when that is sooner than connections.max.reauth.ms.
	soon := unsecuredToken(fmt.Sprintf(`{"sub":"alice","exp":%d,"scope":"kafka"}`, time.Now().Unix()+30))
	r := saslExchange(t, addr, "OAUTHBEARER", []byte("n,,\x01auth=Bearer "+soon+"\x01\x01"))
	if r[0] == nil || r[0].ErrorCode != 0 || r[0].SessionLifetimeMillis <= 0 || r[0].SessionLifetimeMillis > 30000 {
		t.Fatalf("short-lived token: %+v", r[0])
	}

	// A token without the required scope: the error challenge, then the client's 0x01 fails the exchange with it.
	noScope := unsecuredToken(fmt.Sprintf(`{"sub":"alice","exp":%d}`, exp))
	r = saslExchange(t, addr, "OAUTHBEARER", []byte("n,,\x01auth=Bearer "+noScope+"\x01\x01"), []byte{1})
	want := `{"status":"insufficient_scope", "scope":"[kafka]"}`
	if r[0] == nil || r[0].ErrorCode != 0 || string(r[0].SASLAuthBytes) != want {
		t.Fatalf("challenge: %+v", r[0])
	}
	if r[1] == nil || r[1].ErrorCode != kerr.SaslAuthenticationFailed.Code || r[1].ErrorMessage == nil || *r[1].ErrorMessage != want {
		t.Fatalf("after 0x01: %+v", r[1])
	}
	// A malformed first message is refused without detail.
	r = saslExchange(t, addr, "OAUTHBEARER", []byte("n,,\x01auth=Basic abc\x01\x01"))
	if r[0] == nil || r[0].ErrorCode != kerr.SaslAuthenticationFailed.Code || r[0].ErrorMessage == nil ||
		*r[0].ErrorMessage != "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER" {
		t.Fatalf("malformed: %+v", r[0])
	}

	// franz-go with an expired token does not get in.
	expired := unsecuredToken(fmt.Sprintf(`{"sub":"alice","exp":%d,"scope":"kafka"}`, time.Now().Unix()-60))
	bad := saslClient(t, addr, oauth.Auth{Token: expired}.AsMechanism())
	ctx2, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx2, bad); err == nil {
		t.Fatal("expired token accepted")
	}
}

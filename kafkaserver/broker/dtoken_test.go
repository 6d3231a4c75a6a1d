package broker

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/zkafka/zkafka/kafkaserver/dtoken"
	kafkasasl "github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

const dtMasterKey = "delegation.token.master.key=token-secret"

// scramTokenSettings are a PLAINTEXT listener (inter-broker) and a SCRAM SASL_PLAINTEXT one beside it.
func scramTokenSettings(port int, extra ...string) []string {
	const jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
	return append([]string{
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SASL_PLAINTEXT://127.0.0.1:0", port),
		"sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
		"listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=" + jaas,
		"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=" + jaas,
		"connection.failed.authentication.delay.ms=0",
	}, extra...)
}

// dtUsers writes the SCRAM users of the token tests into ZooKeeper before the brokers start.
func dtUsers(t *testing.T, c *cluster) *zkmeta.Client {
	t.Helper()
	zc, err := zkmeta.Connect(c.zk+"/kafka", 6*time.Second, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zc.Close() })
	if err := zc.CreateTopLevelPaths(); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob", "carol", "admin"} {
		setScramCredential(t, zc, u, kafkasasl.MechanismScramSHA256, u+"-secret", 4096)
	}
	return zc
}

func dtUserClient(t *testing.T, addr, user string, opts ...kgo.Opt) *kadm.Client {
	return kadm.NewClient(saslClient(t, addr, scram.Auth{User: user, Pass: user + "-secret"}.AsSha256Mechanism(), opts...))
}

func tokenMech(tok kadm.DelegationToken, sha512 bool) sasl.Mechanism {
	a := scram.Auth{User: tok.TokenID, Pass: base64.StdEncoding.EncodeToString(tok.HMAC), IsToken: true}
	if sha512 {
		return a.AsSha512Mechanism()
	}
	return a.AsSha256Mechanism()
}

func tokenLogin(t *testing.T, addr string, tok kadm.DelegationToken) error {
	_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctxT(t), saslClient(t, addr, tokenMech(tok, false)))
	return err
}

// TestDelegationTokens: KIP-48 as Kafka 2.8 serves it, with kadm and franz-go's SCRAM token login: tokens created
// by SCRAM users, refused on PLAINTEXT and token connections, logins with a token acting as its owner, renewal and
// expiry by owners and renewers only, describe filters, the znode's JSON, a second broker that loads the tokens at
// start and follows the change notifications, and the controller's expiry check.
func TestDelegationTokens(t *testing.T) {
	c := newCluster(t)
	zc := dtUsers(t, c)
	b0 := c.start(scramTokenSettings(c.port, dtMasterKey, "delegation.token.expiry.check.interval.ms=300",
		"authorizer.class.name=kafka.security.authorizer.AclAuthorizer", "super.users=User:admin;User:ANONYMOUS")...)
	addr := b0.Addr("SASL_PLAINTEXT").String()
	ctx := ctxT(t)

	admin := kadm.NewClient(c.client())
	if r, err := admin.CreateTopic(ctx, 1, 1, nil, "dt-topic"); err != nil || r.Err != nil {
		t.Fatalf("create topic: %v %v", err, r.Err)
	}
	acls := kadm.NewACLs().Allow("User:alice").Topics("dt-topic").Operations(kadm.OpAll).ResourcePatternType(kadm.ACLPatternLiteral)
	if res, err := admin.CreateACLs(ctx, acls); err != nil || res[0].Err != nil {
		t.Fatalf("create acls: %v %+v", err, res)
	}

	// PLAINTEXT connections may not ask for tokens.
	if _, err := admin.CreateDelegationToken(ctx, kadm.CreateDelegationToken{}); !errors.Is(err, kerr.DelegationTokenRequestNotAllowed) {
		t.Fatalf("create over PLAINTEXT: %v", err)
	}
	alice, bob, carol := dtUserClient(t, addr, "alice"), dtUserClient(t, addr, "bob"), dtUserClient(t, addr, "carol")
	if _, err := alice.CreateDelegationToken(ctx, kadm.CreateDelegationToken{Renewers: []kadm.Principal{{Type: "Group", Name: "g"}}}); !errors.Is(err, kerr.InvalidPrincipalType) {
		t.Fatalf("group renewer: %v", err)
	}
	tok, err := alice.CreateDelegationToken(ctx, kadm.CreateDelegationToken{Renewers: []kadm.Principal{{Type: "User", Name: "bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Owner != (kadm.Principal{Type: "User", Name: "alice"}) || tok.TokenID == "" || len(tok.HMAC) != 64 {
		t.Fatalf("token %+v", tok)
	}
	// Kafka's defaults: a day until renewed, seven days at most.
	if d := tok.ExpiryTimestamp.Sub(tok.IssueTimestamp); d != 24*time.Hour {
		t.Fatalf("expiry %v after issue", d)
	}
	if d := tok.MaxTimestamp.Sub(tok.IssueTimestamp); d != 7*24*time.Hour {
		t.Fatalf("max %v after issue", d)
	}
	short, err := alice.CreateDelegationToken(ctx, kadm.CreateDelegationToken{MaxLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if short.MaxTimestamp.Sub(short.IssueTimestamp) != time.Hour || !short.ExpiryTimestamp.Equal(short.MaxTimestamp) {
		t.Fatalf("short token %+v", short)
	}
	if !bytes.Equal(tok.HMAC, dtoken.HMAC(tok.TokenID, "token-secret")) {
		t.Fatal("HMAC is not HmacSHA512 of the token id")
	}

	// The znode as Kafka writes it.
	data, _, err := zc.Get(dtoken.TokenPath(tok.TokenID))
	if err != nil {
		t.Fatal(err)
	}
	var js map[string]any
	if err := json.Unmarshal(data, &js); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"version": 1.0, "owner": "User%3Aalice", "renewers": []any{"User%3Abob"}, "tokenId": tok.TokenID,
		"issueTimestamp": float64(tok.IssueTimestamp.UnixMilli()), "maxTimestamp": float64(tok.MaxTimestamp.UnixMilli()),
		"expiryTimestamp": float64(tok.ExpiryTimestamp.UnixMilli())}
	// Kafka's key order (a Scala immutable Map's) puts issueTimestamp first and version last.
	if fmt.Sprint(js) != fmt.Sprint(want) || !bytes.HasPrefix(data, []byte(`{"issueTimestamp":`)) || !bytes.HasSuffix(data, []byte(`"version":1}`)) {
		t.Fatalf("znode %s\nwant %v", data, want)
	}

	// A token login acts as alice: it reads and writes her topic, with either mechanism.
	tc := saslClient(t, addr, tokenMech(tok, true),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"dt-topic": {0: kgo.NewOffset().AtStart()}}))
	produceN(t, tc, "dt-topic", 0, 0, 3)
	for n := 0; n < 3; {
		fs := tc.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 3", n)
		}
		n += len(fs.Records())
	}
	if err := tokenLogin(t, addr, tok); err != nil {
		t.Fatalf("SCRAM-SHA-256 token login: %v", err)
	}
	// ... but may not make, renew or list tokens.
	tadm := kadm.NewClient(tc)
	if _, err := tadm.CreateDelegationToken(ctx, kadm.CreateDelegationToken{}); !errors.Is(err, kerr.DelegationTokenRequestNotAllowed) {
		t.Fatalf("create over a token login: %v", err)
	}
	if _, err := tadm.RenewDelegationToken(ctx, tok.HMAC, 0); !errors.Is(err, kerr.DelegationTokenRequestNotAllowed) {
		t.Fatalf("renew over a token login: %v", err)
	}
	if _, err := tadm.DescribeDelegationTokens(ctx); !errors.Is(err, kerr.DelegationTokenRequestNotAllowed) {
		t.Fatalf("describe over a token login: %v", err)
	}
	// A plain SCRAM login as the token id is no token login.
	if _, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, saslClient(t, addr,
		scram.Auth{User: tok.TokenID, Pass: base64.StdEncoding.EncodeToString(tok.HMAC)}.AsSha256Mechanism())); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("token id as a user: %v", err)
	}

	// Renewal: owner and renewers only, never past the maximum.
	if _, err := carol.RenewDelegationToken(ctx, tok.HMAC, time.Hour); !errors.Is(err, kerr.DelegationTokenOwnerMismatch) {
		t.Fatalf("carol's renew: %v", err)
	}
	if _, err := bob.RenewDelegationToken(ctx, []byte("nope"), time.Hour); !errors.Is(err, kerr.DelegationTokenNotFound) {
		t.Fatalf("unknown hmac: %v", err)
	}
	exp, err := bob.RenewDelegationToken(ctx, tok.HMAC, 2*time.Hour)
	if err != nil || !exp.Before(tok.ExpiryTimestamp) || !exp.After(tok.IssueTimestamp) {
		t.Fatalf("bob's renew: %v %v", exp, err)
	}
	exp, err = alice.RenewDelegationToken(ctx, short.HMAC, 30*24*time.Hour)
	if err != nil || !exp.Equal(short.MaxTimestamp) {
		t.Fatalf("renew past max: %v %v (max %v)", exp, err, short.MaxTimestamp)
	}

	// Describe: owners and renewers see their tokens, others need DESCRIBE on the token; owners filter.
	ids := func(cl *kadm.Client, owners ...kadm.Principal) []string {
		t.Helper()
		ts, err := cl.DescribeDelegationTokens(ctx, owners...)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range ts {
			out = append(out, x.TokenID)
		}
		slices.Sort(out)
		return out
	}
	both := []string{tok.TokenID, short.TokenID}
	slices.Sort(both)
	check := func(what string, got, want []string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
	check("alice", ids(alice), both)
	check("bob", ids(bob), []string{tok.TokenID})
	check("carol", ids(carol), nil)
	check("admin, owner bob", ids(dtUserClient(t, addr, "admin"), kadm.Principal{Type: "User", Name: "bob"}), []string{tok.TokenID})
	check("admin, owner carol", ids(dtUserClient(t, addr, "admin"), kadm.Principal{Type: "User", Name: "carol"}), nil)
	// Kafka 1.1's versions (v0, not flexible) answer the same.
	alice11 := dtUserClient(t, addr, "alice", kgo.MaxVersions(kversion.V1_1_0()))
	old, err := alice11.CreateDelegationToken(ctx, kadm.CreateDelegationToken{MaxLifetime: time.Hour})
	if err != nil || old.Owner.Name != "alice" || old.MaxTimestamp.Sub(old.IssueTimestamp) != time.Hour {
		t.Fatalf("v0 create: %+v %v", old, err)
	}
	all := append([]string{old.TokenID}, both...)
	slices.Sort(all)
	check("alice over v0", ids(alice11), all)
	if _, err := alice11.ExpireDelegationToken(ctx, old.HMAC, -time.Millisecond); err != nil {
		t.Fatalf("v0 expire: %v", err)
	}
	check("alice after the v0 expire", ids(alice), both)
	grant := kadm.NewACLs().Allow("User:carol").DelegationTokens(short.TokenID).Operations(kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	if res, err := admin.CreateACLs(ctx, grant); err != nil || res[0].Err != nil {
		t.Fatalf("create acls: %v %+v", err, res)
	}
	c.waitFor("carol's DESCRIBE", func() bool { return fmt.Sprint(ids(carol)) == fmt.Sprint([]string{short.TokenID}) })

	// A second broker loads the existing tokens at start and follows later changes.
	b1 := startBrokerN(c, 1, nil, scramTokenSettings(freePort(t), dtMasterKey)...)
	addr1 := b1.Addr("SASL_PLAINTEXT").String()
	if err := tokenLogin(t, addr1, tok); err != nil {
		t.Fatalf("login on the second broker: %v", err)
	}
	later, err := alice.CreateDelegationToken(ctx, kadm.CreateDelegationToken{})
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor("the new token on the second broker", func() bool { return tokenLogin(t, addr1, later) == nil })

	// Expire now: the token is gone everywhere.
	if _, err := carol.ExpireDelegationToken(ctx, tok.HMAC, -1); !errors.Is(err, kerr.DelegationTokenOwnerMismatch) {
		t.Fatalf("carol's expire: %v", err)
	}
	if _, err := alice.ExpireDelegationToken(ctx, tok.HMAC, -time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := tokenLogin(t, addr, tok); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("login with an expired token: %v", err)
	}
	c.waitFor("the expired token gone from the second broker", func() bool {
		return errors.Is(tokenLogin(t, addr1, tok), kerr.SaslAuthenticationFailed)
	})
	if _, err := alice.RenewDelegationToken(ctx, tok.HMAC, 0); !errors.Is(err, kerr.DelegationTokenNotFound) {
		t.Fatalf("renew after expire: %v", err)
	}
	if ok, _ := zc.PathExists(dtoken.TokenPath(tok.TokenID)); ok {
		t.Fatal("expired token's znode still there")
	}

	// Expire later: the controller's expiry check removes it once its time has passed.
	if _, err := alice.ExpireDelegationToken(ctx, later.HMAC, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the expiry check", func() bool {
		ok, err := zc.PathExists(dtoken.TokenPath(later.TokenID))
		return err == nil && !ok
	})
	c.waitFor("the expired token gone from the second broker", func() bool {
		return errors.Is(tokenLogin(t, addr1, later), kerr.SaslAuthenticationFailed)
	})
}

// TestDelegationTokensDisabled: without delegation.token.master.key the APIs answer DELEGATION_TOKEN_AUTH_DISABLED
// and a token login fails.
func TestDelegationTokensDisabled(t *testing.T) {
	c := newCluster(t)
	dtUsers(t, c)
	b := c.start(scramTokenSettings(c.port)...)
	addr := b.Addr("SASL_PLAINTEXT").String()
	alice := dtUserClient(t, addr, "alice")
	ctx := ctxT(t)
	if _, err := alice.CreateDelegationToken(ctx, kadm.CreateDelegationToken{}); !errors.Is(err, kerr.DelegationTokenAuthDisabled) {
		t.Fatalf("create: %v", err)
	}
	if _, err := alice.RenewDelegationToken(ctx, []byte("x"), 0); !errors.Is(err, kerr.DelegationTokenAuthDisabled) {
		t.Fatalf("renew: %v", err)
	}
	if _, err := alice.ExpireDelegationToken(ctx, []byte("x"), 0); !errors.Is(err, kerr.DelegationTokenAuthDisabled) {
		t.Fatalf("expire: %v", err)
	}
	if _, err := alice.DescribeDelegationTokens(ctx); !errors.Is(err, kerr.DelegationTokenAuthDisabled) {
		t.Fatalf("describe: %v", err)
	}
	fake := kadm.DelegationToken{TokenID: "abc", HMAC: dtoken.HMAC("abc", "k")}
	if err := tokenLogin(t, addr, fake); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Fatalf("token login: %v", err)
	}
}

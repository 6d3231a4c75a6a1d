package ensemble

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// quorumTLS gives every member its own key store (a certificate for 127.0.0.1 from the ensemble's CA) and the CA's
// trust store, as ssl.quorum.* zoo.cfg lines; host names are verified (the default).
func (en *ensemble) quorumTLS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "quorum-ca")
	trust := ca.WriteTrustJKS(dir, "trust.jks", "trustpw")
	for id := range en.members {
		name := "zk" + strconv.FormatInt(id, 10)
		ks := ca.Issue(pkix.Name{CommonName: name}, "127.0.0.1").WriteJKS(dir, name+".jks", "pw-"+name, "pw-"+name)
		en.extra[id] = map[string]string{
			"ssl.quorum.keyStore.location": ks, "ssl.quorum.keyStore.password": "pw-" + name,
			"ssl.quorum.trustStore.location": trust, "ssl.quorum.trustStore.password": "trustpw",
		}
	}
}

// quorumTLSEncryptedPEM is quorumTLS with PEM stores: each member's key encrypted by openssl (-v1 PBE-SHA1-3DES, what
// Apache's PemReader decrypts on Java 17) and decrypted with ssl.quorum.keyStore.password.
func (en *ensemble) quorumTLSEncryptedPEM(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "quorum-ca")
	trust := ca.WriteTrustPEM(dir, "trust.pem")
	for id := range en.members {
		name := "zk" + strconv.FormatInt(id, 10)
		ks := ca.Issue(pkix.Name{CommonName: name}, "127.0.0.1").
			WriteOpenSSLEncryptedPEM(dir, name+".pem", "pw-"+name, "-v1", "PBE-SHA1-3DES")
		en.extra[id] = map[string]string{
			"ssl.quorum.keyStore.location": ks, "ssl.quorum.keyStore.password": "pw-" + name,
			"ssl.quorum.trustStore.location": trust,
		}
	}
}

// setQuorumTLS sets server id's sslQuorum and portUnification for its next start.
func (en *ensemble) setQuorumTLS(id int64, sslQuorum, portUnification bool) {
	en.extra[id]["sslQuorum"] = strconv.FormatBool(sslQuorum)
	en.extra[id]["portUnification"] = strconv.FormatBool(portUnification)
}

// An ensemble whose peers speak TLS only (sslQuorum): ours, server 3, joins Apache's servers 1 and 2 and follows
// their leader, server 2 (its election and learner connections to Apache's, and Apache's to ours, all TLS: a
// plaintext peer is refused by either side); when server 2 stops, ours and Apache's server 1 elect ours (the same
// history, the higher id), and ours leads Apache's follower over TLS.
func TestQuorumTLS(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	en.quorumTLS(t)
	for id := range en.members {
		en.setQuorumTLS(id, true, false)
	}
	a1, _ := en.oursFollowsThenLeads(t)
	// Apache's quorum ports log each TLS peer they accept: ours came over TLS.
	if !a1.LogContains("Accepted TLS connection from") {
		t.Error("Apache's server 1 logged no TLS connection accepted")
	}
}

// TestQuorumTLS with PEM key stores whose keys are encrypted, each decrypted with its key store password: ours
// follows Apache's leader and leads Apache's follower over TLS.
func TestQuorumTLSEncryptedPEM(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	en.quorumTLSEncryptedPEM(t)
	for id := range en.members {
		en.setQuorumTLS(id, true, false)
	}
	a1, _ := en.oursFollowsThenLeads(t)
	if !a1.LogContains("Accepted TLS connection from") {
		t.Error("Apache's server 1 logged no TLS connection accepted")
	}
}

// Apache's move of a running ensemble to TLS without downtime (the Administrator's Guide's "Upgrading existing
// non-TLS cluster with no downtime"), ours as server 3 among Apache's 1 and 2: every server first takes both on its
// quorum ports (portUnification) while dialing in plaintext; then each in turn restarts with sslQuorum (dialing
// TLS, still taking plaintext); then each in turn drops portUnification. After every restart the ensemble has a
// leader and the restarted server serves a write that the others see.
func TestQuorumTLSRollingUpgrade(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	en.quorumTLS(t)
	for id := range en.members {
		en.setQuorumTLS(id, false, true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	defer cancel()
	restart := en.rolling(t, ctx, "portUnification everywhere")
	for _, step := range []struct {
		name                       string
		sslQuorum, portUnification bool
	}{{"sslQuorum", true, true}, {"portUnification off", true, false}} {
		for id := int64(1); id <= 3; id++ {
			en.setQuorumTLS(id, step.sslQuorum, step.portUnification)
			restart(id, fmt.Sprintf("%s on server %d", step.name, id))
		}
	}
}

// eventually2 is eventually with a longer wait, for elections after a server stops.
func eventually2(t *testing.T, ctx context.Context, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("%s: %v", what, errors.Join(err, ctx.Err()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rolling starts ours (server 3) first and then Apache's 1 and 2, so that ours leads (three empty servers elect
// the highest id), checks that a write through ours reaches the others (step names the set-up), and returns a
// restart of one server with its current settings, checked the same way. Restarts move the leadership between
// ours and Apache's server 2. restart returns the restarted server.
func (en *ensemble) rolling(t *testing.T, ctx context.Context, step string) (restart func(id int64, step string) *harness.Server) {
	t.Helper()
	kinds := map[int64]harness.Kind{1: harness.Apache, 2: harness.Apache, 3: harness.ZKServer}
	servers := map[int64]*harness.Server{}
	for _, id := range []int64{3, 1, 2} {
		servers[id] = en.start(t, kinds[id], id, "")
	}
	check := rollingCheck(t, ctx, servers)
	check(step, 3)
	if m := mode(t, servers[3]); m != "leader" {
		t.Fatalf("ours is %s, not the leader", m)
	}
	return func(id int64, step string) *harness.Server {
		t.Helper()
		if err := servers[id].Stop(); err != nil {
			t.Fatal(err)
		}
		servers[id] = en.start(t, kinds[id], id, servers[id].Dir())
		check(step, id)
		return servers[id]
	}
}

// rollingCheck returns a check for rolling restarts: after server id restarted (step says how), it serves, and a
// write through it reaches every other server, with the writes of the steps before.
func rollingCheck(t *testing.T, ctx context.Context, servers map[int64]*harness.Server) func(step string, id int64) {
	writes := 0
	return func(step string, id int64) {
		t.Helper()
		if err := servers[id].WaitServing(ctx); err != nil {
			t.Fatalf("%s: server %d: %v", step, id, err)
		}
		t.Logf("%s: modes 1 %s, 2 %s, ours %s", step, mode(t, servers[1]), mode(t, servers[2]), mode(t, servers[3]))
		c, _ := connect(t, servers[id].Addr())
		defer c.Close()
		writes++
		p := fmt.Sprintf("/w%02d", writes)
		if _, err := c.Create(p, []byte(step), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("%s: create %s through server %d: %v", step, p, id, err)
		}
		for other, s := range servers {
			if other == id {
				continue
			}
			o, _ := connect(t, s.Addr())
			eventually2(t, ctx, fmt.Sprintf("%s: %s on server %d", step, p, other), func() error {
				if _, err := o.Sync(p); err != nil {
					return err
				}
				for i := 1; i <= writes; i++ {
					if ok, _, err := o.Exists(fmt.Sprintf("/w%02d", i)); err != nil || !ok {
						return fmt.Errorf("/w%02d: %v %v", i, ok, err)
					}
				}
				return nil
			})
			o.Close()
		}
	}
}

// followThenLead checks ours, server 3, following Apache's leader, server 2 (writes through ours, the leader's
// writes firing watches on ours), then, when server 2 stops, elected by ours and Apache's server 1 (the same
// history, the higher id) and leading it: a write through Apache's follower reaches ours, and the follower syncs.
// oursFollowsThenLeads starts Apache's servers 1 and 2, then ours as 3, and runs followThenLead; it returns
// Apache's server 1 and ours.
func (en *ensemble) oursFollowsThenLeads(t *testing.T) (a1, ours *harness.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	a1 = en.startApache(t, 1)
	a2 := en.startApache(t, 2)
	waitServing(t, ctx, a1, a2)
	ours = en.start(t, harness.ZKServer, 3, "")
	waitServing(t, ctx, ours)
	followThenLead(t, ctx, a1, a2, ours)
	return a1, ours
}

func followThenLead(t *testing.T, ctx context.Context, a1, a2, ours *harness.Server) {
	t.Helper()
	if m1, m2, m3 := mode(t, a1), mode(t, a2), mode(t, ours); m1 != "follower" || m2 != "leader" || m3 != "follower" {
		t.Fatalf("modes: 1 %s, 2 %s, ours %s", m1, m2, m3)
	}
	c3, _ := connect(t, ours.Addr())
	c2, _ := connect(t, a2.Addr())
	writesThroughLearner(t, c3, c2, "/f")
	watchFiresForLeaderWrite(t, c2, c3, "/g")

	if err := a2.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually2(t, ctx, "ours leading Apache's server 1", func() error {
		if m1, m3 := mode(t, a1), mode(t, ours); m1 != "follower" || m3 != "leader" {
			return fmt.Errorf("modes: 1 %s, ours %s", m1, m3)
		}
		return nil
	})
	c1, _ := connect(t, a1.Addr())
	c3b, _ := connect(t, ours.Addr())
	if _, err := c1.Create("/through-apache", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create through Apache's follower: %v", err)
	}
	if data, _, err := c3b.Get("/through-apache"); err != nil || string(data) != "x" {
		t.Fatalf("/through-apache on ours: %q %v", data, err)
	}
	if _, err := c1.Sync("/f"); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := c1.Exists("/f"); err != nil || !ok {
		t.Fatalf("/f on Apache's follower: %v %v", ok, err)
	}
}

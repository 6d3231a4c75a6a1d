package ensemble

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/kerberos/kdctest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// quorumSASL writes a JAAS file whose QuorumLearner logs in as learner with password, beside a QuorumServer
// section knowing learner's real password, and names it in every later start of server id; quorum SASL is on
// and required both ways.
func (en *ensemble) quorumSASL(t *testing.T, id int64, password string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jaas.conf")
	text := fmt.Sprintf(`QuorumServer {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_learner="learner-secret";
};
QuorumLearner {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="learner"
  password="%s";
};
`, password)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	en.jvmFlags[id] = []string{"-Djava.security.auth.login.config=" + path}
	en.extra[id] = map[string]string{"quorum.auth.enableSasl": "true", "quorum.auth.learnerRequireSasl": "true",
		"quorum.auth.serverRequireSasl": "true"}
}

// An ensemble whose peers authenticate with DIGEST-MD5 (quorum.auth.*, required both ways): ours, server 3, with a
// wrong password is turned away by Apache's servers 1 and 2 and serves nothing; with the right one it joins,
// follows their leader, and, when that stops, leads Apache's server 1, which authenticates to ours; Apache's
// server 1 restarted with a wrong password is turned away by ours.
func TestQuorumSASL(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	for id := range en.members {
		en.quorumSASL(t, id, "learner-secret")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	a1 := en.startApache(t, 1)
	a2 := en.startApache(t, 2)
	waitServing(t, ctx, a1, a2)

	en.quorumSASL(t, 3, "wrong")
	bad := en.start(t, harness.ZKServer, 3, "")
	eventually2(t, ctx, "Apache refusing ours", func() error {
		if !a2.LogContains("Failed to authenticate using SASL") && !a1.LogContains("Failed to authenticate using SASL") {
			return errors.New("no authentication failure logged by Apache's servers")
		}
		return nil
	})
	if m := mode(t, bad); m != "" {
		t.Fatalf("ours with a wrong password: mode %q", m)
	}
	if err := bad.Stop(); err != nil {
		t.Fatal(err)
	}

	en.quorumSASL(t, 3, "learner-secret")
	ours := en.start(t, harness.ZKServer, 3, bad.Dir())
	waitServing(t, ctx, ours)
	followThenLead(t, ctx, a1, a2, ours)
	if !ours.LogContains("completed quorum SASL authentication") {
		t.Error("ours logged no quorum SASL authentication")
	}

	// Apache's server 1 back with a wrong password: ours turns it away.
	if err := a1.Stop(); err != nil {
		t.Fatal(err)
	}
	en.quorumSASL(t, 1, "wrong")
	a1 = en.start(t, harness.Apache, 1, a1.Dir())
	eventually2(t, ctx, "ours refusing Apache's server 1", func() error {
		if !ours.LogContains("quorum SASL: learner failed to authenticate") {
			return errors.New("no authentication failure logged by ours")
		}
		return nil
	})
	if m := mode(t, a1); m != "" {
		t.Fatalf("Apache's server 1 with a wrong password: mode %q", m)
	}
}

// Apache's way to turn quorum SASL on in a running ensemble (the Administrator's Guide's quorum authentication
// steps), ours as server 3 among Apache's 1 and 2, one server at a time: first quorum.auth.enableSasl with nothing
// required (learners then send nothing, and servers let anyone through), then learnerRequireSasl (every learner
// authenticates), then serverRequireSasl (every server insists). After every restart the restarted server serves a
// write the others see.
func TestQuorumSASLRollingUpgrade(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	defer cancel()
	restart := en.rolling(t, ctx, "plaintext")
	var ours *harness.Server
	for _, step := range []struct{ name, learner, server string }{
		{"enableSasl", "false", "false"}, {"learnerRequireSasl", "true", "false"}, {"serverRequireSasl", "true", "true"},
	} {
		for id := int64(1); id <= 3; id++ {
			en.quorumSASL(t, id, "learner-secret")
			en.extra[id]["quorum.auth.learnerRequireSasl"] = step.learner
			en.extra[id]["quorum.auth.serverRequireSasl"] = step.server
			if s := restart(id, fmt.Sprintf("%s on server %d", step.name, id)); id == 3 {
				ours = s
			}
		}
	}
	if !ours.LogContains("completed quorum SASL authentication") {
		t.Error("ours logged no quorum SASL authentication")
	}
}

// An ensemble whose peers authenticate with Kerberos (Krb5LoginModule QuorumLearner and QuorumServer sections
// with one keytab for zkquorum/localhost, quorum.auth.kerberos.servicePrincipal zkquorum/_HOST), against an MIT
// KDC: ours, server 3, joins Apache's 1 and 2, follows their leader, then leads Apache's server 1, each side's
// GSSAPI accepted by the other (the JDK's on Apache's side).
func TestQuorumKerberos(t *testing.T) {
	harness.EnsureZKServer(t)
	kdc := kdctest.Start(t)
	kt := kdc.AddService(t, "zkquorum/localhost")
	en := newEnsemble(t)
	jaas := filepath.Join(kdc.Dir, "quorum-jaas.conf")
	principal := "zkquorum/localhost@" + kdctest.Realm
	if err := os.WriteFile(jaas, []byte(kdctest.JaasSection("QuorumServer", kt, principal)+
		kdctest.JaasSection("QuorumLearner", kt, principal)), 0o600); err != nil {
		t.Fatal(err)
	}
	for id, m := range en.members {
		// The ensemble's host names are what a Kerberos peer's principal must name.
		m.ip = "localhost"
		en.members[id] = m
		en.jvmFlags[id] = []string{"-Djava.security.auth.login.config=" + jaas, "-Djava.security.krb5.conf=" + kdc.Krb5Conf}
		en.extra[id] = map[string]string{"quorum.auth.enableSasl": "true", "quorum.auth.learnerRequireSasl": "true",
			"quorum.auth.serverRequireSasl": "true", "quorum.auth.kerberos.servicePrincipal": "zkquorum/_HOST"}
	}
	_, ours := en.oursFollowsThenLeads(t)
	if !ours.LogContains("completed quorum SASL authentication") {
		t.Error("ours logged no quorum SASL authentication")
	}
}

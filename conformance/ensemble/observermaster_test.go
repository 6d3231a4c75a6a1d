package ensemble

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// observerMasterEnsemble is three voters and observers 4 and 5 with observerMasterPort: each server on its own
// loopback IP (127.0.0.<id>), since they all serve observers on the same port.
func observerMasterEnsemble(t *testing.T) *ensemble {
	t.Helper()
	en := newEnsemble(t)
	en.addObserver(t, 4)
	en.addObserver(t, 5)
	port := strconv.Itoa(en.freePort(t))
	for id, m := range en.members {
		m.ip = fmt.Sprintf("127.0.0.%d", id)
		en.members[id] = m
		en.extra[id] = map[string]string{"observerMasterPort": port}
	}
	return en
}

// mntrHas waits until s's mntr has every line.
func mntrHas(t *testing.T, ctx context.Context, who string, s *harness.Server, lines ...string) string {
	t.Helper()
	var mntr string
	eventually2(t, ctx, who+"'s mntr", func() error {
		var err error
		if mntr, err = harness.FourLetter(ctx, s.Addr(), "mntr"); err != nil {
			return err
		}
		for _, l := range lines {
			if !strings.Contains(mntr, l) {
				return fmt.Errorf("no %q in\n%s", l, mntr)
			}
		}
		return nil
	})
	return mntr
}

// With observerMasterPort, Apache's followers serve observers and observers learn from a voting member there
// rather than from the leader. Ours, following Apache's leader, serves Apache's observer: its sync, the commits
// as INFORMs, its writes, syncs, watches and sessions through ours to the leader; mntr on ours says what
// Apache's follower says. Then ours, observing, learns from Apache's follower the same way.
func TestObserverMasterWithApache(t *testing.T) {
	harness.EnsureZKServer(t)
	en := observerMasterEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()

	// Apache's server 3 leads ours (server 1); server 2 is down, and the leader serves no observers, so Apache's
	// observer, trying the voters in turn, ends at ours.
	ourAdmin, a2Admin := en.enableAdmin(t, 1), en.enableAdmin(t, 2)
	a3 := en.startApache(t, 3)
	ours := en.start(t, harness.ZKServer, 1, "")
	waitServing(t, ctx, a3, ours)
	if m3, m1 := mode(t, a3), mode(t, ours); m3 != "leader" || m1 != "follower" {
		t.Fatalf("modes: Apache's 3 %q, ours %q", m3, m1)
	}
	ao := en.startApache(t, 4)
	waitServing(t, ctx, ao)
	mntrHas(t, ctx, "Apache's observer", ao, "zk_observer_master_id\t1\n")
	mntrHas(t, ctx, "our follower", ours, "zk_synced_observers\t1\n")

	c4, _ := connect(t, ao.Addr())
	c3, _ := connect(t, a3.Addr())
	writesThroughLearner(t, c4, c3, "/o4")
	watchFiresForLeaderWrite(t, c3, c4, "/g4")
	ephemeralThroughLearner(t, c3, ao.Addr(), "/e4")
	// obsr on ours lists Apache's observer with Apache's keys; its writes came as requests; orst starts the
	// counts over.
	e, config := soleObserver(t, ctx, "our follower", ourAdmin, c3, 4)
	if e.num("requests") < 1 || e.num("packets_received") < e.num("requests") {
		t.Errorf("our follower's obsr: %v", e.vals)
	}
	if _, err := adminBody(ctx, ourAdmin+"/commands/orst"); err != nil {
		t.Fatal(err)
	}
	if e := obsrHas(t, ctx, "our follower", ourAdmin, 4)[0]; e.num("requests") != 0 {
		t.Errorf("after orst: %v", e.vals)
	}

	// Apache's server 2 joins as a follower serving observers too: its mntr and ours have the same keys.
	a2 := en.startApache(t, 2)
	waitServing(t, ctx, a2)
	amntr := mntrHas(t, ctx, "Apache's follower", a2, "zk_synced_observers\t0\n")
	omntr := mntrHas(t, ctx, "our follower", ours, "zk_synced_observers\t1\n")
	if k, ak := mntrKeys(omntr), mntrKeys(amntr); !slices.Equal(k, ak) {
		t.Errorf("a follower's mntr keys:\nours   %v\nApache %v", k, ak)
	}

	// Ours stops: Apache's observer goes on to Apache's follower; ours, now an observer, learns from it as well.
	if err := ours.Stop(); err != nil {
		t.Fatal(err)
	}
	mntrHas(t, ctx, "Apache's observer", ao, "zk_observer_master_id\t2\n")
	oo := en.start(t, harness.ZKServer, 5, "")
	waitServing(t, ctx, oo)
	mntrHas(t, ctx, "our observer", oo, "zk_observer_master_id\t2\n", "zk_peer_state\tobserving - broadcast\n")
	mntrHas(t, ctx, "Apache's follower", a2, "zk_synced_observers\t2\n")
	for _, e := range obsrHas(t, ctx, "Apache's follower", a2Admin, 4, 5) {
		checkObsrEntry(t, "Apache's follower", e)
		checkQueuedSize(t, "Apache's follower", e, config)
	}
	c5, _ := connect(t, oo.Addr())
	writesThroughLearner(t, c5, c3, "/o5")
	watchFiresForLeaderWrite(t, c3, c5, "/g5")
	ephemeralThroughLearner(t, c3, oo.Addr(), "/e5")
	for _, p := range []string{"/o4", "/o5"} {
		if ok, _, err := c5.Exists(p); err != nil || !ok {
			t.Errorf("%s on our observer: %v %v", p, ok, err)
		}
	}
}

// ephemeralThroughLearner creates path as an ephemeral of a new session on a learner: the leader has it with the
// session as owner, and drops it when the session closes.
func ephemeralThroughLearner(t *testing.T, leader *zk.Conn, learnerAddr, path string) {
	t.Helper()
	c, _ := connect(t, learnerAddr)
	if _, err := c.Create(path, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	// Apache's leader sends COMMIT and INFORM before its own CommitProcessor applies the txn: the learner can
	// answer the create before the leader's clients see it.
	eventually(t, "the ephemeral on the leader", func() error {
		ok, st, err := leader.Exists(path)
		if err == nil && (!ok || st.EphemeralOwner != c.SessionID()) {
			err = fmt.Errorf("exists %v, owner %#x, want %#x", ok, st.EphemeralOwner, c.SessionID())
		}
		return err
	})
	c.Close()
	eventually(t, "the closed session's ephemeral gone", func() error {
		if ok, _, err := leader.Exists(path); err != nil || ok {
			return errors.New("still there")
		}
		return nil
	})
}

// A reconfig committed while Apache's observer learns from our follower's observer master reaches it as
// INFORMANDACTIVATE through ours: it activates the new config (node, dynamic file) with the voters; an observer
// that syncs from ours afterwards (ours, server 5) gets that config in NEWLEADER.
func TestObserverMasterReconfigWithApache(t *testing.T) {
	harness.EnsureZKServer(t)
	en := observerMasterEnsemble(t)
	for id := range en.members {
		en.extra[id]["reconfigEnabled"] = "true"
		en.extra[id]["standaloneEnabled"] = "false"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Apache's 3 leads ours (1); server 2 stays down; Apache's observer ends at ours, the only observer master up.
	a3 := en.startApache(t, 3)
	ours := en.start(t, harness.ZKServer, 1, "")
	waitServing(t, ctx, a3, ours)
	ao := en.startApache(t, 4)
	waitServing(t, ctx, ao)
	mntrHas(t, ctx, "Apache's observer", ao, "zk_observer_master_id\t1\n")

	c, _ := connect(t, a3.Addr())
	if err := c.AddAuth("digest", []byte("super:"+harness.SuperPassword)); err != nil {
		t.Fatal(err)
	}
	st, err := c.IncrementalReconfig(nil, []string{"2"}, -1)
	if err != nil {
		t.Fatalf("remove server 2: %v", err)
	}
	servers := map[int64]*harness.Server{1: ours, 3: a3, 4: ao}
	text := sameConfigEverywhere(t, servers, st.Mzxid)
	if strings.Contains(text, "server.2=") {
		t.Fatalf("server 2 still in %q", text)
	}
	sameDynamicFiles(t, servers, st.Mzxid, 1, 3)
	mntrHas(t, ctx, "Apache's observer", ao, "zk_observer_master_id\t1\n")

	// Our observer: the voters left are 1 and 3, the leader serves no observers, so it syncs from ours too.
	oo := en.start(t, harness.ZKServer, 5, "")
	waitServing(t, ctx, oo)
	mntrHas(t, ctx, "our observer", oo, "zk_observer_master_id\t1\n")
	mntrHas(t, ctx, "our follower", ours, "zk_synced_observers\t2\n")
	servers[5] = oo
	sameConfigEverywhere(t, servers, st.Mzxid)
	c5, _ := connect(t, oo.Addr())
	writesThroughLearner(t, c5, c, "/after-reconfig")
}

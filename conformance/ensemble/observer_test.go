package ensemble

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// bin/zkserver as an observer (peerType=observer, server.4 ...:observer) of Apache's three servers, beside an
// Apache observer: it finds the leader from the voters' notifications, syncs with OBSERVERINFO, learns each commit
// as INFORM, serves clients (writes forwarded with their errors, reads of one's own writes, watches, sync,
// ephemerals), reports itself in srvr and mntr as Apache's observer does, and, when the leader stops, observes the
// leader the voters elect next.
func TestZKServerObservesApacheEnsemble(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	en.addObserver(t, 4)
	en.addObserver(t, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	a2, a3 := en.apacheQuorum(t, ctx) // before server 1, which with 2 alone would elect 2
	a1 := en.startApache(t, 1)
	ao := en.startApache(t, 5)
	ours := en.start(t, harness.ZKServer, 4, "")
	waitServing(t, ctx, a1, ao, ours)
	if m, mo := mode(t, ours), mode(t, ao); m != "observer" || mo != "observer" {
		t.Fatalf("modes: ours %q, Apache's observer %q", m, mo)
	}
	c4, _ := connect(t, ours.Addr())
	c3, _ := connect(t, a3.Addr())
	if sid := c4.SessionID(); sid>>56 != 4 {
		t.Errorf("session %#x made by server 4 should carry its id in the top byte", sid)
	}

	// Writes through ours are forwarded to the leader; their errors come back through ours; ours answers the read
	// of its own create after the INFORM of it.
	writesThroughLearner(t, c4, c3, "/o")

	// A watch on ours fires for the leader's write; sync brings ours up to the leader.
	watchFiresForLeaderWrite(t, c3, c4, "/g")

	// An ephemeral of a session on ours lives on the leader and goes with the session.
	ephemeralThroughLearner(t, c3, ours.Addr(), "/e")

	// srvr and mntr say what Apache's observer says.
	mntr, err := harness.FourLetter(ctx, ours.Addr(), "mntr")
	if err != nil {
		t.Fatal(err)
	}
	amntr, err := harness.FourLetter(ctx, ao.Addr(), "mntr")
	if err != nil {
		t.Fatal(err)
	}
	if k, ak := mntrKeys(mntr), mntrKeys(amntr); !slices.Equal(k, ak) {
		t.Errorf("mntr keys:\nours   %v\nApache %v", k, ak)
	}
	for _, line := range []string{"zk_server_state\tobserver\n", "zk_peer_state\tobserving - broadcast\n",
		"zk_observer_master_id\t3\n", "zk_quorum_size\t3\n"} {
		if !strings.Contains(amntr, line) {
			t.Errorf("Apache's observer's mntr has no %q:\n%s", line, amntr)
		}
		if !strings.Contains(mntr, line) {
			t.Errorf("our mntr has no %q:\n%s", line, mntr)
		}
	}
	lmntr, err := harness.FourLetter(ctx, a3.Addr(), "mntr")
	if err != nil || !strings.Contains(lmntr, "zk_synced_observers\t2\n") {
		t.Fatalf("the leader's mntr (%v): want two synced observers:\n%s", err, lmntr)
	}

	// The leader stops: servers 1 and 2 elect server 2, and ours observes it.
	if err := a3.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ours observing the new leader", func() error {
		if m := mode(t, a2); m != "leader" {
			return errors.New("server 2's mode " + m)
		}
		if m := mode(t, ours); m != "observer" {
			return errors.New("our mode " + m)
		}
		return nil
	})
	c4b, _ := connect(t, ours.Addr())
	if _, err := c4b.Create("/after", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create through ours after the failover: %v", err)
	}
	c2, _ := connect(t, a2.Addr())
	for _, p := range []string{"/o", "/g", "/after"} {
		if ok, _, err := c2.Exists(p); err != nil || !ok {
			t.Fatalf("%s on the new leader: %v %v", p, ok, err)
		}
	}
	mntr, err = harness.FourLetter(ctx, ours.Addr(), "mntr")
	if err != nil || !strings.Contains(mntr, "zk_observer_master_id\t2\n") {
		t.Fatalf("our mntr after the failover (%v):\n%s", err, mntr)
	}
}

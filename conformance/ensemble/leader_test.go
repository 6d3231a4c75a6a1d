package ensemble

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// bin/zkserver, elected by two Apache servers (three empty servers elect the highest id, ours), leads them:
// writes through Apache's followers are prepped and committed by ours (errors and failed multis included),
// watches on the followers fire for the leader's writes, sync, ephemerals and session closes work; when ours stops,
// Apache's servers elect again and keep the data, and ours, restarted, follows the new leader with nothing lost.
func TestZKServerLeadsApacheFollowers(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	ours, a1, a2 := en.oursLeadingApache(t, ctx)
	c1, _ := connect(t, a1.Addr())
	c3, _ := connect(t, ours.Addr())

	// A write through Apache's follower is prepped by ours; its error comes back through the follower.
	if _, err := c1.Create("/f", []byte("a"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Create("/f", []byte("b"), 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("second create through Apache's follower: %v", err)
	}
	data, st3, err := c3.Get("/f")
	if err != nil || string(data) != "a" {
		t.Fatalf("/f on ours: %q %v", data, err)
	}
	_, st1, err := c1.Get("/f")
	if err != nil || *st1 != *st3 {
		t.Fatalf("the follower's stat %+v, ours %+v (%v)", st1, st3, err)
	}
	_, err = c1.Multi(&zk.CreateRequest{Path: "/m", Data: []byte{}, Acl: zk.WorldACL(zk.PermAll)},
		&zk.CreateRequest{Path: "/f", Data: []byte{}, Acl: zk.WorldACL(zk.PermAll)})
	if !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("failing multi through Apache's follower: %v", err)
	}
	if ok, _, _ := c3.Exists("/m"); ok {
		t.Fatal("the failed multi's first create is on ours")
	}
	if _, err := c1.Set("/f", []byte("x"), 7); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("bad version through Apache's follower: %v", err)
	}

	// The leader's writes fire the follower's watches; a sync there sees them.
	_, _, w, err := c1.GetW("/f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c3.Set("/f", []byte("c"), -1); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w:
		if ev.Type != zk.EventNodeDataChanged || ev.Path != "/f" {
			t.Fatalf("watch event %+v", ev)
		}
	case <-time.After(30 * time.Second): // only a broken run waits this long; a loaded machine can take seconds
		t.Fatal("no watch event on Apache's follower for the leader's write")
	}
	if _, err := c3.Create("/g", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.Sync("/g"); err != nil {
		t.Fatalf("sync on Apache's follower: %v", err)
	}
	if ok, _, err := c1.Exists("/g"); err != nil || !ok {
		t.Fatalf("after sync, /g on Apache's follower: %v %v", ok, err)
	}

	// An ephemeral of a follower's session goes when that session closes there.
	c2, _ := connect(t, a2.Addr())
	if _, err := c2.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	_, st, err := c3.Exists("/eph")
	if err != nil || st == nil || st.EphemeralOwner != c2.SessionID() {
		t.Fatalf("/eph on ours: %+v %v", st, err)
	}
	c2.Close()
	eventually(t, "the closed session's ephemeral leaves ours", func() error {
		if ok, _, err := c3.Exists("/eph"); err != nil || ok {
			return fmt.Errorf("exists %v %v", ok, err)
		}
		return nil
	})
	for i := range 50 {
		if _, err := c1.Create(fmt.Sprintf("/n%02d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	srvr, err := harness.FourLetter(ctx, ours.Addr(), "srvr")
	if err != nil || !strings.Contains(srvr, "Mode: leader") || strings.Contains(srvr, "Proposal sizes last/min/max: -1/") {
		t.Fatalf("srvr on ours (%v):\n%s", err, srvr)
	}
	oursMntr, err := harness.FourLetter(ctx, ours.Addr(), "mntr")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"zk_server_state\tleader\n", "zk_peer_state\tleading - broadcast\n", "zk_synced_followers\t2\n",
		"zk_learners\t2\n", "zk_pending_syncs\t0\n", "zk_quorum_size\t3\n"} {
		if !strings.Contains(oursMntr, want) {
			t.Errorf("mntr on ours lacks %q:\n%s", want, oursMntr)
		}
	}

	// Ours stops: Apache's servers elect server 2 and keep everything.
	if err := ours.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Apache's servers elect again", func() error {
		if m := mode(t, a2); m != "leader" {
			return fmt.Errorf("server 2 is %q", m)
		}
		return nil
	})
	// Apache's leader prints the same info and gauge lines as ours did. (Their order is its metric map's, which
	// varies with the order they were registered in: a server that led from the start prints avg_latency after
	// num_alive_connections, as ours does, one that followed first before it.)
	apacheMntr, err := harness.FourLetter(ctx, a2.Addr(), "mntr")
	if err != nil {
		t.Fatal(err)
	}
	o, a := mntrKeys(oursMntr), mntrKeys(apacheMntr)
	slices.Sort(o)
	slices.Sort(a)
	if !slices.Equal(o, a) {
		t.Errorf("mntr keys of a leader:\nours   %v\nApache %v", o, a)
	}
	c2b, _ := connect(t, a2.Addr())
	if _, err := c2b.Create("/after", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if ok, _, err := c2b.Exists(fmt.Sprintf("/n%02d", i)); err != nil || !ok {
			t.Fatalf("/n%02d after ours stopped: %v %v", i, ok, err)
		}
	}
	if err := ours.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitServing(t, ctx, ours)
	if m := mode(t, ours); m != "follower" {
		t.Fatalf("ours after its restart: %s", m)
	}
	c3b, _ := connect(t, ours.Addr())
	if _, err := c3b.Sync("/"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/f", "/g", "/after", "/n49"} {
		if ok, _, err := c3b.Exists(p); err != nil || !ok {
			t.Fatalf("%s on ours after its restart: %v %v", p, ok, err)
		}
	}
}

// oursLeadingApache starts bin/zkserver as server 3, then Apache's servers 1 and 2, and checks that ours leads them
// (three empty servers elect the highest id).
func (en *ensemble) oursLeadingApache(t *testing.T, ctx context.Context) (ours, a1, a2 *harness.Server) {
	t.Helper()
	ours = en.start(t, harness.ZKServer, 3, "")
	a1 = en.startApache(t, 1)
	a2 = en.startApache(t, 2)
	waitServing(t, ctx, a1, a2, ours)
	if m1, m2, m3 := mode(t, a1), mode(t, a2), mode(t, ours); m1 != "follower" || m2 != "follower" || m3 != "leader" {
		t.Fatalf("modes: 1 %s, 2 %s, ours %s", m1, m2, m3)
	}
	return ours, a1, a2
}

// mixedQuorum starts ours with two of Apache's servers, ours leading (as server 3) or following (as server 1); it
// returns the servers by id and ours's id.
func (en *ensemble) mixedQuorum(t *testing.T, ctx context.Context, oursLead bool) (map[int64]*harness.Server, int64) {
	t.Helper()
	servers := map[int64]*harness.Server{}
	if oursLead {
		servers[3], servers[1], servers[2] = en.oursLeadingApache(t, ctx)
		return servers, 3
	}
	servers[1], servers[2], servers[3] = en.oursFollowingApache(t, ctx)
	return servers, 1
}

// oursFollowingApache starts Apache's servers 2 and 3, which elect 3, then ours as server 1, which follows.
func (en *ensemble) oursFollowingApache(t *testing.T, ctx context.Context) (ours, a2, a3 *harness.Server) {
	t.Helper()
	a2, a3 = en.apacheQuorum(t, ctx)
	ours = en.start(t, harness.ZKServer, 1, "")
	waitServing(t, ctx, ours)
	return ours, a2, a3
}

// Three bin/zkservers and a bin/zkserver observer make an ensemble of their own: server 3 leads, writes through
// any server are seen by all, sessions created on a follower live through the leader; when the leader is killed
// the other two elect one of themselves and go on with every acknowledged write, the observer observes the new
// leader, and server 3, restarted, follows and catches up.
func TestZKServerEnsemble(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	en.addObserver(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	var srv [5]*harness.Server
	for id := int64(1); id <= 4; id++ {
		srv[id] = en.start(t, harness.ZKServer, id, "")
	}
	for id := 1; id <= 4; id++ {
		waitServing(t, ctx, srv[id])
	}
	if m1, m2, m3, m4 := mode(t, srv[1]), mode(t, srv[2]), mode(t, srv[3]), mode(t, srv[4]); m1 != "follower" ||
		m2 != "follower" || m3 != "leader" || m4 != "observer" {
		t.Fatalf("modes: %s %s %s %s", m1, m2, m3, m4)
	}
	var cs [5]*zk.Conn
	for id := 1; id <= 4; id++ {
		cs[id], _ = connect(t, srv[id].Addr())
	}
	for i := range 30 {
		c := cs[1+i%4]
		if _, err := c.Create(fmt.Sprintf("/k%02d", i), []byte{byte(i)}, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatalf("create /k%02d through server %d: %v", i, 1+i%4, err)
		}
	}
	if _, err := cs[1].Create("/eph1", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 4; id++ {
		if _, err := cs[id].Sync("/"); err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			if data, _, err := cs[id].Get(fmt.Sprintf("/k%02d", i)); err != nil || len(data) != 1 || data[0] != byte(i) {
				t.Fatalf("/k%02d on server %d: %v %v", i, id, data, err)
			}
		}
	}

	// kill -9 the leader while server 1's client writes: servers 1 and 2 elect the one holding the later zxid (either
	// may, depending on which proposals reached it before the kill), the client's session lives on (it reconnects),
	// and every write acknowledged is there.
	done := make(chan []string, 1)
	go func() {
		var acked []string
		for i := range 200 {
			p := fmt.Sprintf("/load%03d", i)
			if _, err := cs[1].Create(p, nil, 0, zk.WorldACL(zk.PermAll)); err == nil {
				acked = append(acked, p)
			}
		}
		done <- acked
	}()
	time.Sleep(30 * time.Millisecond)
	if err := srv[3].Kill(); err != nil {
		t.Fatal(err)
	}
	acked := <-done
	eventually(t, "servers 1 and 2 elect a leader", func() error {
		if m1, m2 := mode(t, srv[1]), mode(t, srv[2]); !(m1 == "leader" && m2 == "follower") &&
			!(m1 == "follower" && m2 == "leader") {
			return fmt.Errorf("server 1 is %q, server 2 is %q", m1, m2)
		}
		return nil
	})
	if _, err := cs[2].Create("/after", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		eventually(t, "a write after the failover", func() error {
			_, err := cs[2].Create("/after", nil, 0, zk.WorldACL(zk.PermAll))
			if errors.Is(err, zk.ErrNodeExists) {
				return nil
			}
			return err
		})
	}
	eventually(t, "the observer observes the new leader", func() error {
		if m := mode(t, srv[4]); m != "observer" {
			return fmt.Errorf("server 4 is %q", m)
		}
		_, err := cs[4].Sync("/")
		return err
	})
	for _, p := range append(acked, "/after", "/k29", "/eph1") {
		if ok, _, err := cs[4].Exists(p); err != nil || !ok {
			t.Fatalf("%s on the observer after the failover: %v %v (%d writes acknowledged)", p, ok, err, len(acked))
		}
	}
	if err := srv[3].Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitServing(t, ctx, srv[3])
	c3, _ := connect(t, srv[3].Addr())
	if _, err := c3.Sync("/"); err != nil {
		t.Fatal(err)
	}
	for _, p := range append(acked, "/after", "/k29", "/eph1") {
		if ok, _, err := c3.Exists(p); err != nil || !ok {
			t.Fatalf("%s on server 3 after its restart: %v %v (%d writes acknowledged)", p, ok, err, len(acked))
		}
	}
	t.Logf("%d of 200 writes acknowledged around the leader's kill", len(acked))
}

// mntrKeys are the keys of an mntr answer up to the first counter, in order: the info and gauge lines.
func mntrKeys(mntr string) []string {
	var keys []string
	for line := range strings.SplitSeq(mntr, "\n") {
		k, _, _ := strings.Cut(line, "\t")
		if k == "zk_proposal_count" {
			break
		}
		keys = append(keys, k)
	}
	return keys
}

// An Apache observer learns from our leader: it syncs (OBSERVERINFO, no vote), gets each commit as INFORM, serves
// its clients, and forwards their writes to ours.
func TestZKServerLeadsApacheObserver(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	en.addObserver(t, 4)
	ourAdmin := en.enableAdmin(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ours := en.start(t, harness.ZKServer, 3, "")
	a1 := en.startApache(t, 1)
	waitServing(t, ctx, a1, ours)
	obs := en.startApache(t, 4)
	waitServing(t, ctx, obs)
	if m := mode(t, obs); m != "observer" {
		t.Fatalf("server 4: %s", m)
	}
	c3, _ := connect(t, ours.Addr())
	c4, _ := connect(t, obs.Addr())
	if _, err := c3.Create("/o", []byte("1"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the observer applies the leader's write", func() error {
		data, _, err := c4.Get("/o")
		if err == nil && string(data) != "1" {
			err = fmt.Errorf("data %q", data)
		}
		return err
	})
	if _, err := c4.Create("/from-observer", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("write through the observer: %v", err)
	}
	if ok, _, err := c3.Exists("/from-observer"); err != nil || !ok {
		t.Fatalf("the observer's write on ours: %v %v", ok, err)
	}
	mntr, err := harness.FourLetter(ctx, ours.Addr(), "mntr")
	if err != nil || !strings.Contains(mntr, "zk_synced_observers\t1\n") || !strings.Contains(mntr, "zk_synced_followers\t1\n") {
		t.Fatalf("mntr on ours (%v):\n%s", err, mntr)
	}
	// obsr on our leader: the observer's connection as Apache's leader lists its observing learners.
	e, _ := soleObserver(t, ctx, "our leader", ourAdmin, c3, 4)
	if e.num("requests") < 1 {
		t.Errorf("our leader's obsr: the observer's write not counted: %v", e.vals)
	}
}

// Apache's follower restarts again and again while clients write through ours, the leader, without a pause: each
// time it joins with proposals outstanding and commits made while it syncs, and it must come back serving with
// every write. (Apache's 3.8 follower fails its sync on a COMMIT between NEWLEADER and UPTODATE with no PROPOSAL
// since NEWLEADER, ZOOKEEPER-4394; ours holds such commits until UPTODATE.)
func TestApacheFollowerJoinsDuringWrites(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	ours, a1, a2 := en.oursLeadingApache(t, ctx)
	c3, _ := connect(t, ours.Addr())
	if _, err := c3.Create("/w", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}

	// Writers: each creates /w/<writer>-<n> in turn until stopped, and counts what was acknowledged.
	const writers = 4
	stop := make(chan struct{})
	done := make(chan error, writers)
	acked := make([]int, writers)
	for w := range writers {
		go func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if _, err := c3.Create(fmt.Sprintf("/w/%d-%06d", w, n), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
					done <- fmt.Errorf("writer %d, create %d: %w", w, n, err)
					return
				}
				acked[w] = n + 1
			}
		}()
	}
	stopWriters := func() {
		close(stop)
		for range writers {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}

	for round := 1; round <= 5; round++ {
		if err := a1.Stop(); err != nil {
			stopWriters()
			t.Fatal(err)
		}
		a1 = en.start(t, harness.Apache, 1, a1.Dir())
		if err := a1.WaitServing(ctx); err != nil {
			stopWriters()
			t.Fatalf("round %d: Apache's server 1 after its restart: %v", round, err)
		}
		if m := mode(t, a1); m != "follower" {
			stopWriters()
			t.Fatalf("round %d: Apache's server 1 is %s", round, m)
		}
	}
	stopWriters()
	total := 0
	for _, n := range acked {
		total += n
	}
	for id, s := range map[int64]*harness.Server{1: a1, 2: a2} {
		c, _ := connect(t, s.Addr())
		if _, err := c.Sync("/w"); err != nil {
			t.Fatal(err)
		}
		kids, _, err := c.Children("/w")
		if err != nil || len(kids) < total {
			t.Fatalf("server %d holds %d of /w's children (%v): %d were acknowledged", id, len(kids), err, total)
		}
		c.Close()
		if s.LogContains("NullPointerException") {
			t.Errorf("Apache's server %d logged a NullPointerException", id)
		}
	}
	t.Logf("%d writes acknowledged across 5 restarts of Apache's follower", total)
}

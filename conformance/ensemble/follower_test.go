package ensemble

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/conformance/internal/zkwire"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/session"
)

func connect(t *testing.T, addr string) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	return connectFor(t, addr, 10*time.Second)
}

// connectFor connects with the given session timeout: go-zookeeper pings every third of it, whatever else it
// sends.
func connectFor(t *testing.T, addr string, sessionTimeout time.Duration) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, sessionTimeout, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	deadline := time.Now().Add(20 * time.Second)
	for c.State() != zk.StateHasSession {
		if time.Now().After(deadline) {
			t.Fatalf("no session from %s: %v", addr, c.State())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c, ev
}

// waitServing waits until each server serves clients.
func waitServing(t *testing.T, ctx context.Context, servers ...*harness.Server) {
	t.Helper()
	for _, s := range servers {
		if err := s.WaitServing(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// eventually retries f until it holds: a write acknowledged by one server is applied by another when the leader's
// commit reaches it, an election ends when the followers see the leader gone (syncLimit ticks) and sync. The bound
// only ends a broken run: 10 s was tight for an election and sync among JVMs on a loaded 2-core machine.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writesThroughLearner writes through ours, a learner: a create, the same create again (NodeExists through ours), a
// multi that fails on its second op (NodeExists, and nothing of it on the leader), then reads its own create with
// the stat the leader has.
func writesThroughLearner(t *testing.T, ours, leader *zk.Conn, path string) {
	t.Helper()
	if _, err := ours.Create(path, []byte("a"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := ours.Create(path, []byte("b"), 0, zk.WorldACL(zk.PermAll)); !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("second create through ours: %v", err)
	}
	// Apache's leader applies its commit on a thread of its own: its client sees the write soon, not at once.
	var stLeader *zk.Stat
	eventually(t, "the leader reads "+path, func() error {
		data, st, err := leader.Get(path)
		if err == nil && string(data) != "a" {
			err = errors.New("data " + string(data))
		}
		stLeader = st
		return err
	})
	// Read your own write: the read after the create is answered after its commit.
	_, st, err := ours.Get(path)
	if err != nil || *st != *stLeader {
		t.Fatalf("our stat %+v, the leader's %+v (%v)", st, stLeader, err)
	}
	// A multi that fails applies nothing and answers each op.
	_, err = ours.Multi(&zk.CreateRequest{Path: "/m", Data: []byte{}, Acl: zk.WorldACL(zk.PermAll)},
		&zk.CreateRequest{Path: path, Data: []byte{}, Acl: zk.WorldACL(zk.PermAll)})
	if !errors.Is(err, zk.ErrNodeExists) {
		t.Fatalf("failing multi through ours: %v", err)
	}
	if ok, _, _ := leader.Exists("/m"); ok {
		t.Fatal("the failed multi's first create is on the leader")
	}
}

// watchFiresForLeaderWrite creates path on the leader, syncs ours, sets a data watch on ours and changes path on the
// leader: the watch must fire on ours.
func watchFiresForLeaderWrite(t *testing.T, leader, ours *zk.Conn, path string) {
	t.Helper()
	if _, err := leader.Create(path, []byte("1"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := ours.Sync(path); err != nil {
		t.Fatalf("sync on ours: %v", err)
	}
	_, _, w, err := ours.GetW(path)
	if err != nil {
		t.Fatalf("after sync, ours must have %s: %v", path, err)
	}
	if _, err := leader.Set(path, []byte("2"), -1); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w:
		if ev.Type != zk.EventNodeDataChanged || ev.Path != path {
			t.Fatalf("watch event %+v", ev)
		}
	case <-time.After(30 * time.Second): // only a broken run waits this long; a loaded machine can take seconds
		t.Fatal("no watch event on ours for the leader's write")
	}
}

// bin/zkserver, as server 1 of a three-server zoo.cfg, joins Apache's servers 2 and 3, follows Apache's leader and
// serves clients: writes go through the leader (errors included), reads, watches, sync and ephemerals work as on
// Apache's servers, sessions move between servers both ways; when Apache's leader stops, ours and Apache's other
// server elect again and ours follows the new leader and serves again.
func TestZKServerFollowsApacheLeader(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	ours, a2, a3 := en.oursFollowingApache(t, ctx)
	if m := mode(t, ours); m != "follower" {
		t.Fatalf("our mode %q", m)
	}
	c1, _ := connect(t, ours.Addr())
	c3, _ := connect(t, a3.Addr())
	if sid := c1.SessionID(); sid>>56 != 1 {
		t.Errorf("session %#x made by server 1 should carry its id in the top byte", sid)
	}

	// A write through ours is the leader's; its error comes back through ours.
	writesThroughLearner(t, c1, c3, "/f")

	// Watches set on ours fire for writes made on the leader.
	watchFiresForLeaderWrite(t, c3, c1, "/g")

	// Ephemerals of a session on ours belong to it on every server and go with it.
	if _, err := c1.Create("/e", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ephemeral on the leader, owned by our session", func() error {
		_, st, err := c3.Exists("/e")
		if err == nil && st.EphemeralOwner != c1.SessionID() {
			err = fmt.Errorf("owner %#x, want %#x", st.EphemeralOwner, c1.SessionID())
		}
		return err
	})
	c1.Close()
	eventually(t, "the closed session's ephemeral gone", func() error {
		if ok, _, err := c3.Exists("/e"); err != nil || ok {
			return errors.New("still there")
		}
		return nil
	})

	// A session made on Apache's server resumes on ours (REVALIDATE); one nobody knows does not.
	sid := c3.SessionID()
	moved, err := zkwire.Dial(ctx, ours.Addr(), zkwire.Options{SessionID: sid, Passwd: session.Password(sid), NoPing: true})
	if err != nil || moved.SessionID() != sid || moved.Timeout() != 10000 {
		t.Fatalf("resuming Apache's session %#x on ours: %v", sid, err)
	}
	moved.CloseNoSession() // the session stays c3's
	unknown, err := zkwire.Dial(ctx, ours.Addr(), zkwire.Options{SessionID: sid ^ 0xff, Passwd: session.Password(sid ^ 0xff), NoPing: true})
	if !errors.Is(err, jute.ErrSessionExpired) || unknown == nil || unknown.SessionID() != 0 || unknown.Timeout() != 0 {
		t.Fatalf("resuming an unknown session on ours: %v", err)
	}

	// A connection that never sent its connect request belongs to no session.
	idle, err := net.Dial("tcp", ours.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()

	// The leader stops: ours and Apache's server 2 elect again (server 2: the same history, the higher id), and
	// ours syncs with it and serves.
	if err := a3.Stop(); err != nil {
		t.Fatal(err)
	}
	waitServing(t, ctx, a2)
	eventually(t, "ours serving again", func() error {
		if m := mode(t, ours); m != "follower" {
			return errors.New("mode " + m)
		}
		if m := mode(t, a2); m != "leader" {
			return errors.New("server 2's mode " + m)
		}
		return nil
	})
	// Every connection closed when ours stopped following (Apache's closeAllConnections), the idle one too.
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the idle connection after ours stopped following: %v", err)
	}
	c1b, _ := connect(t, ours.Addr())
	if _, err := c1b.Create("/after", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create through ours after the failover: %v", err)
	}
	c2, _ := connect(t, a2.Addr())
	for _, p := range []string{"/f", "/g", "/after"} {
		eventually(t, p+" on the new leader", func() error {
			if ok, _, err := c2.Exists(p); err != nil || !ok {
				return fmt.Errorf("exists %v, %v", ok, err)
			}
			return nil
		})
	}
}

// An operator replaces Apache's server 1 of a running ensemble with ours: stop it, start bin/zkserver on the same
// zoo.cfg and dataDir. Ours reads Apache's snapshot, txn log and epoch files, rejoins and syncs with the leader by
// DIFF, and serves every znode and live session; killed with -9 during the leader's writes and restarted, it comes
// back from its own files with nothing lost.
func TestReplaceApacheServerInPlace(t *testing.T) {
	harness.EnsureZKServer(t)
	en := newEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	// Server 1 starts after the quorum of 2 and 3 has elected 3: started first, it could form a quorum with 2
	// alone, which would then lead.
	a2, a3 := en.apacheQuorum(t, ctx)
	a1 := en.startApache(t, 1)
	waitServing(t, ctx, a1)
	if m := mode(t, a1); m != "follower" {
		t.Fatalf("Apache server 1: %s", m)
	}
	c3, _ := connect(t, a3.Addr())
	for i := range 30 {
		if _, err := c3.Create(fmt.Sprintf("/n%02d", i), []byte{byte(i)}, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c3.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if err := a1.Stop(); err != nil {
		t.Fatal(err)
	}
	// Writes while server 1 is away: ours must get them from the leader.
	if _, err := c3.Create("/while-away", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	ours := en.start(t, harness.ZKServer, 1, a1.Dir())
	waitServing(t, ctx, ours)
	check := func(want ...string) {
		t.Helper()
		c1, _ := connect(t, ours.Addr())
		defer c1.Close()
		if _, err := c1.Sync("/"); err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			p := fmt.Sprintf("/n%02d", i)
			if data, _, err := c1.Get(p); err != nil || len(data) != 1 || data[0] != byte(i) {
				t.Fatalf("%s on ours: %v %v", p, data, err)
			}
		}
		_, st, err := c1.Exists("/eph")
		if err != nil || st == nil || st.EphemeralOwner != c3.SessionID() {
			t.Fatalf("the live session's ephemeral on ours: %+v %v", st, err)
		}
		for _, p := range want {
			if ok, _, err := c1.Exists(p); err != nil || !ok {
				t.Fatalf("%s on ours: %v %v", p, ok, err)
			}
		}
	}
	check("/while-away")
	mntr, err := harness.FourLetter(ctx, a3.Addr(), "mntr")
	if err != nil || !strings.Contains(mntr, "zk_synced_followers\t2") {
		t.Fatalf("the leader does not count ours as synced (%v):\n%s", err, mntr)
	}

	// kill -9 while the leader writes, write more while ours is down, restart it from its own files.
	done := make(chan error, 1)
	go func() {
		for i := range 100 {
			if _, err := c3.Create(fmt.Sprintf("/load%03d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	time.Sleep(20 * time.Millisecond)
	if err := ours.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the leader's writes with server 1 killed: %v", err)
	}
	if err := ours.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	waitServing(t, ctx, ours)
	var want []string
	for i := range 100 {
		want = append(want, fmt.Sprintf("/load%03d", i))
	}
	check(want...)
	_ = a2
}

// Package ensemble runs zkserver's quorum protocols against Apache ZooKeeper 3.8 servers in one ensemble.
package ensemble

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/electionnet"
)

// member is one server of a three-server ensemble on loopback ports.
type member struct {
	id           int64
	quorumPort   int
	electionPort int
	clientPort   int
	observer     bool
	// ip is the member's quorum and election IP (127.0.0.1 when empty): servers that share a port need their own.
	ip string
}

func (m member) host() string {
	if m.ip == "" {
		return "127.0.0.1"
	}
	return m.ip
}

func (m member) line() string {
	if m.observer {
		return fmt.Sprintf("%s:%d:%d:observer", m.host(), m.quorumPort, m.electionPort)
	}
	return fmt.Sprintf("%s:%d:%d", m.host(), m.quorumPort, m.electionPort)
}

// addObserver adds server id as an observer (to the servers started after).
func (en *ensemble) addObserver(t *testing.T, id int64) {
	t.Helper()
	en.members[id] = member{id: id, quorumPort: en.freePort(t), electionPort: en.freePort(t), clientPort: en.freePort(t),
		observer: true}
}

// freePort returns a free port that no member of the ensemble has: harness.FreePort can hand out a port again
// until it is bound, and members bind theirs only when they start.
func (en *ensemble) freePort(t *testing.T) int {
	t.Helper()
	for {
		p, err := harness.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if !en.used[p] {
			en.used[p] = true
			return p
		}
	}
}

func (m member) electionAddr() string { return fmt.Sprintf("%s:%d", m.host(), m.electionPort) }

type ensemble struct {
	members map[int64]member
	used    map[int]bool   // every port handed to a member
	cfg     *zoocfg.Config // the servers as zoo.cfg has them, for our config text
	// extra are zoo.cfg lines of one server beside the ensemble's (TLS settings, say), read when it starts.
	extra map[int64]map[string]string
	// jvmFlags are one server's -D flags (SERVER_JVMFLAGS), read when it starts.
	jvmFlags map[int64][]string
	// net, when set, runs each server in its namespace of a test network (see inNet).
	net *harness.TestNet
}

// inNet moves the ensemble onto a test network: each server in its own namespace, peers on their peer addresses,
// clients on their client addresses. Call it before any server starts.
func (en *ensemble) inNet(t *testing.T, n *harness.TestNet) {
	t.Helper()
	en.net = n
	for id := int64(1); id <= 3; id++ {
		m := en.members[id]
		m.ip = n.PeerIP(id)
		en.members[id] = m
	}
	en.setServers(t)
}

// setServers makes the config's server list from members 1-3.
func (en *ensemble) setServers(t *testing.T) {
	t.Helper()
	en.cfg.Servers = nil
	for id := int64(1); id <= 3; id++ {
		s, err := zoocfg.ParseServer(id, en.members[id].line(), false)
		if err != nil {
			t.Fatal(err)
		}
		en.cfg.Servers = append(en.cfg.Servers, s)
	}
}

func newEnsemble(t *testing.T) *ensemble {
	t.Helper()
	en := &ensemble{members: map[int64]member{}, used: map[int]bool{}, cfg: &zoocfg.Config{},
		extra: map[int64]map[string]string{}, jvmFlags: map[int64][]string{}}
	for id := int64(1); id <= 3; id++ {
		en.members[id] = member{id: id, quorumPort: en.freePort(t), electionPort: en.freePort(t),
			clientPort: en.freePort(t)}
	}
	en.setServers(t)
	return en
}

// startApache starts Apache's server id without waiting for it to serve.
func (en *ensemble) startApache(t *testing.T, id int64) *harness.Server {
	t.Helper()
	return en.start(t, harness.Apache, id, "")
}

// start starts server id of kind (Apache's or bin/zkserver) on the ensemble's zoo.cfg in dir (a new directory when
// empty), without waiting for it to serve.
func (en *ensemble) start(t *testing.T, kind harness.Kind, id int64, dir string) *harness.Server {
	t.Helper()
	props := map[string]string{}
	for _, m := range en.members {
		props[fmt.Sprintf("server.%d", m.id)] = m.line()
	}
	if en.members[id].observer {
		props["peerType"] = "observer"
	}
	for k, v := range en.extra[id] {
		props[k] = v
	}
	cfg := harness.Config{Props: props, MyID: id, NoWait: true, Dir: dir, Port: en.members[id].clientPort,
		JVMFlags: en.jvmFlags[id]}
	if en.net != nil {
		cfg.NetNS, cfg.Host = en.net.NS(id), en.net.ClientIP(id)
	}
	s, err := harness.Start(context.Background(), kind, cfg)
	harness.NeedOrSkip(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- %s server %d log (warnings) ---\n%s\n--- (tail) ---\n%s", kind, id, s.LogNotable(40),
				s.LogTail(1500))
		}
		_ = s.Stop()
		_ = s.Cleanup(false)
	})
	return s
}

// startOurs starts our election for id on its election port.
func (en *ensemble) startOurs(t *testing.T, ctx context.Context, id int64) *electionnet.Node {
	t.Helper()
	peers := map[int64]string{}
	for _, m := range en.members {
		peers[m.id] = m.electionAddr()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mgr, err := electionnet.Listen(electionnet.Config{MyID: id, ListenAddr: en.members[id].electionAddr(),
		Peers: peers, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgr.Close() })
	e := election.New(election.Config{MyID: id, Verifier: election.NewMajority([]int64{1, 2, 3}),
		ConfigText: []byte(en.cfg.QuorumConfigText())})
	node := electionnet.NewNode(e, mgr, log)
	go node.Run(ctx)
	return node
}

// apacheQuorum starts Apache's servers 2 and 3, which elect server 3 (the higher id of two empty servers) and
// serve without server 1.
func (en *ensemble) apacheQuorum(t *testing.T, ctx context.Context) (a2, a3 *harness.Server) {
	t.Helper()
	a2 = en.startApache(t, 2)
	a3 = en.startApache(t, 3)
	waitServing(t, ctx, a2, a3)
	if m2, m3 := mode(t, a2), mode(t, a3); m2 != "follower" || m3 != "leader" {
		t.Fatalf("Apache modes: 2 %s, 3 %s", m2, m3)
	}
	return a2, a3
}

func mode(t *testing.T, s *harness.Server) string {
	t.Helper()
	out, err := harness.FourLetter(context.Background(), s.Addr(), "srvr")
	if err != nil {
		// Not fatal: a server that stops following closes every client connection, a srvr in flight among them,
		// and callers poll. The text names the failure for callers that expected a mode.
		return "(srvr failed: " + err.Error() + ")"
	}
	for line := range strings.SplitSeq(out, "\n") {
		if m, ok := strings.CutPrefix(line, "Mode: "); ok {
			return m
		}
	}
	return ""
}

// Two Apache servers form a quorum and elect server 3; ours, server 1, starts later and, from the notifications
// the settled Apache servers send back, follows server 3 in the round they settled in.
func TestJoinApacheEnsembleElection(t *testing.T) {
	en := newEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_, a3 := en.apacheQuorum(t, ctx)
	node := en.startOurs(t, ctx, 1)
	v, err := node.Look(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Leader != 3 || v.State != election.Following || v.PeerEpoch != 1 || v.ElectionEpoch < 1 {
		t.Fatalf("our decision %+v", v)
	}
	if !a3.LogContains("n.sid:1, n.state:LOOKING") {
		t.Error("Apache's leader logged no notification from server 1")
	}
}

// Ours is server 3 and starts first; two Apache servers with the same (empty) history start after it. All three
// must pick server 3 (highest id): the Apache servers adopt our vote and we count theirs, in one round.
// Apache's servers then fail to reach a leader on our quorum port (not served yet) and look again; once ours
// stops, they elect server 2 among themselves and serve.
func TestApacheServersElectOurs(t *testing.T) {
	en := newEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	oursCtx, stopOurs := context.WithCancel(ctx)
	node := en.startOurs(t, oursCtx, 3)
	// Our node only elects. An Apache follower that finds no leader on the quorum port gives up in half a second
	// and looks again, and server 2's JVM may start only after that: then 1 and 2 elect 2 without ever following 3.
	// So our quorum port takes connections and holds them unanswered, for initLimit ticks (30 s here), until ours
	// stops and closes them.
	holdQuorumPort(t, oursCtx, fmt.Sprintf("%s:%d", en.members[3].host(), en.members[3].quorumPort))
	for _, id := range []int64{1, 2} {
		en.extra[id] = map[string]string{"initLimit": "60"}
	}
	type decision struct {
		v   election.Vote
		err error
	}
	ch := make(chan decision, 1)
	go func() {
		v, err := node.Look(ctx, 0, 0)
		ch <- decision{v, err}
	}()
	a1 := en.startApache(t, 1)
	a2 := en.startApache(t, 2)
	d := <-ch
	if d.err != nil {
		t.Fatal(d.err)
	}
	if d.v.Leader != 3 || d.v.State != election.Leading || d.v.ElectionEpoch < 1 {
		t.Fatalf("our decision %+v", d.v)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !(a1.LogContains("FOLLOWING - LEADER ELECTION TOOK") && a2.LogContains("FOLLOWING - LEADER ELECTION TOOK")) {
		if time.Now().After(deadline) {
			t.Fatal("the Apache servers did not follow server 3")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !a1.LogContains("n.sid:3, n.state:LOOKING, n.leader:3,") {
		t.Error("Apache server 1 logged no vote of ours for server 3")
	}
	stopOurs()
	waitServing(t, ctx, a1, a2)
	if m1, m2 := mode(t, a1), mode(t, a2); m1 != "follower" || m2 != "leader" {
		t.Fatalf("after ours stopped: 1 %s, 2 %s", m1, m2)
	}
}

// holdQuorumPort accepts connections on addr and holds them, reading nothing and writing nothing, until ctx ends;
// then it closes them and the listener.
func holdQuorumPort(t *testing.T, ctx context.Context, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	stopped := false
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if stopped {
				c.Close()
			} else {
				held = append(held, c)
			}
			mu.Unlock()
		}
	}()
	stop := func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		ln.Close()
		for _, c := range held {
			c.Close()
		}
		held = nil
	}
	go func() {
		<-ctx.Done()
		stop()
	}()
	t.Cleanup(stop)
}

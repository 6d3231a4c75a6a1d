package zab

import (
	"slices"
	"testing"

	"github.com/zkafka/zkafka/jute"
)

// reconfigTxn is a reconfig txn at zxid setting /zookeeper/config to cfg, proposing quorum.
func reconfigTxn(zxid int64, cfg string, quorum Quorum, keepsLeader bool) Txn {
	data := append(jute.Marshal(&jute.TxnHeader{ClientID: 1, Zxid: zxid, Type: jute.OpReconfig}),
		jute.Marshal(&jute.SetDataTxn{Path: "/zookeeper/config", Data: []byte(cfg), Version: -1})...)
	return Txn{Zxid: zxid, Data: data,
		Reconfig: &NewConfig{Quorum: quorum, Version: zxid, Data: []byte(cfg), KeepsLeader: keepsLeader}}
}

// observe joins an observer on conn.
func (s *sim) observe(conn ConnID, sid, last int64) *simFollower {
	o := &simFollower{conn: conn, l: NewLearner(LearnerConfig{MyID: sid, Observer: true, AcceptedEpoch: last >> 32,
		CurrentEpoch: last >> 32, LastZxid: last})}
	o.logged = []int64{last}
	s.fs[conn] = o
	s.toLeader(o, o.l.Start().Send)
	return o
}

// Adding servers 4 and 5 to voters 1-3: the reconfig and the txns proposed while it is pending need a quorum of
// the old config and of the new one; its commit is COMMITANDACTIVATE (with the designated leader, us) to every
// follower, voting or not, and INFORMANDACTIVATE to observers; from then on the new config's quorum alone counts.
func TestLeaderReconfigNeedsBothQuorums(t *testing.T) {
	const e = 2
	s := newSim(t, cfg3(1<<32|5, txnsBetween(1, 1, 5)))
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	o := s.observe(9, 6, 1<<32|5)
	if !s.started || !f2.synced || !o.synced {
		t.Fatalf("started %v, synced %v %v", s.started, f2.synced, o.synced)
	}
	newCfg := "server.1=a\nserver.2=b\nserver.3=c\nserver.4=d\nserver.5=e\nversion=200000001"
	s.apply(s.l.Propose([]Txn{reconfigTxn(e<<32|1, newCfg, votersOf{1, 2, 3, 4, 5}, true), txnAt(e<<32 | 2)}, s.now))
	s.apply(s.l.Durable(e<<32|2, 0))
	if s.committed != 0 {
		t.Fatalf("committed %#x with 1 and 2 of the new five", s.committed)
	}
	if string(f2.lastSeen) != newCfg {
		t.Fatalf("follower 2's last seen config %q", f2.lastSeen)
	}
	// A joiner (no voter of the active config, a follower all the same) syncs: NEWLEADER carries the last config
	// seen, the pending one, and its acknowledgements make the new config's quorum.
	f4 := s.join(4, 4, 1, 1, 1<<32|5)
	if string(f4.lastSeen) != newCfg {
		t.Fatalf("NEWLEADER's config %q, want the pending one", f4.lastSeen)
	}
	if s.committed != e<<32|2 {
		t.Fatalf("committed %#x once 1, 2 and 4 logged both", s.committed)
	}
	if len(f4.activated) != 2 || f4.activated[0].HasDesignated || string(f4.activated[1].Config) != newCfg {
		t.Fatalf("joiner activations %+v: NEWLEADER's config at UPTODATE, then the commit's", f4.activated)
	}
	if len(s.activated) != 1 || s.activated[0].Designated != 1 || s.activated[0].Zxid != e<<32|1 {
		t.Fatalf("leader activations %+v", s.activated)
	}
	// Every learner activates NEWLEADER's config at UPTODATE (a no-op for the version it has), then the reconfig.
	if len(f2.activated) != 2 || f2.activated[1].Designated != 1 || string(f2.activated[1].Config) != newCfg ||
		f2.activated[1].BeforeApply {
		t.Fatalf("follower 2 activations %+v", f2.activated)
	}
	if !slices.Contains(f2.applied, e<<32|1) || !slices.Contains(o.applied, e<<32|1) {
		t.Fatalf("reconfig applied: follower %x observer %x", f2.applied, o.applied)
	}
	if len(o.activated) != 2 || o.activated[1].Designated != 1 || string(o.activated[1].Config) != newCfg {
		t.Fatalf("observer activations %+v", o.activated)
	}
	// The new config's quorum alone: 1, 2 and 4 of five commit without 3.
	s.proposeLogged(e<<32 | 3)
	if s.committed != e<<32|3 {
		t.Fatalf("committed %#x after the reconfig", s.committed)
	}
}

// A reconfig that removes the leader designates a voter of the new config that acknowledged it, and the leader
// commits nothing after it (allowedToCommit=false).
func TestLeaderReconfigHandsOver(t *testing.T) {
	const e = 2
	s := newSim(t, cfg3(1<<32|5, txnsBetween(1, 1, 5)))
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	f3 := s.join(2, 3, 1, 1, 1<<32|5)
	newCfg := "server.2=b\nserver.3=c\nversion=200000001"
	s.apply(s.l.Propose([]Txn{reconfigTxn(e<<32|1, newCfg, votersOf{2, 3}, false)}, s.now))
	if s.committed != e<<32|1 {
		t.Fatalf("committed %#x", s.committed)
	}
	if len(s.activated) != 1 || s.activated[0].Designated != 2 {
		t.Fatalf("activations %+v: want 2, the lowest of the voters that acknowledged it", s.activated)
	}
	for _, f := range []*simFollower{f2, f3} {
		if len(f.activated) != 2 || f.activated[1].Designated != 2 {
			t.Fatalf("follower activations %+v", f.activated)
		}
	}
	s.proposeLogged(e<<32 | 2)
	if s.committed != e<<32|1 {
		t.Fatalf("committed %#x after handing over", s.committed)
	}
}

// getDesignatedLeader: among the new config's voters that acknowledged the reconfig, the one that acknowledged
// the most of the proposals after it; among equals the first of a Java HashSet.
func TestDesignatedLeader(t *testing.T) {
	l := &Leader{cfg: LeaderConfig{MyID: 1}, conns: map[ConnID]*learnerConn{}}
	for sid, acked := range map[int64]int64{2: 11, 3: 13, 4: 12, 5: 9, 18: 12} {
		l.conns[ConnID(sid)] = &learnerConn{sid: sid, forwarding: true, state: connUpToDate, acked: acked}
	}
	nc := &NewConfig{Quorum: votersOf{2, 3, 4, 5, 18}}
	r := proposal{Txn: Txn{Zxid: 10, Reconfig: nc}, acks: []int64{18, 1, 4, 3, 2}}
	both := []Quorum{votersOf{1, 2, 3, 4, 5, 18}, nc.Quorum}
	for z := int64(11); z <= 14; z++ {
		l.outstanding = append(l.outstanding, proposal{Txn: Txn{Zxid: z}, quorums: both})
	}
	if d := l.designatedLeader(r); d != 3 {
		t.Fatalf("designated %d, want 3 (acknowledged up to 13)", d)
	}
	l.outstanding = l.outstanding[:2] // 3, 4 and 18 acknowledged 11 and 12: 18 before 2 and 3 in bucket 2
	if d := l.designatedLeader(r); d != 18 {
		t.Fatalf("designated %d among 3, 4 and 18, want 18 (HashSet order: 18 in bucket 2 with 2, first)", d)
	}
	l.outstanding = nil
	if d := l.designatedLeader(r); d != 18 {
		t.Fatalf("designated %d with nothing after the reconfig, want 18", d)
	}
	r.acks = []int64{2, 1, 4, 3, 18}
	if d := l.designatedLeader(r); d != 2 {
		t.Fatalf("designated %d with 2 acknowledging before 18, want 2", d)
	}
	// A candidate that is no voter of the active config leaves the candidates at the old config's ackset.
	l.outstanding = []proposal{{Txn: Txn{Zxid: 11}, quorums: []Quorum{votersOf{1, 3, 4}, nc.Quorum}}}
	if d := l.designatedLeader(r); d != 3 {
		t.Fatalf("designated %d, want 3 (2 is no voter of the old config)", d)
	}
	r.Reconfig.KeepsLeader = true
	if d := l.designatedLeader(r); d != 1 {
		t.Fatalf("designated %d when we stay a voter, want us", d)
	}
}

// cfgVoters is a leader (1) of voters at zxid last, with dynamic reconfiguration.
func cfgVoters(last int64, voters votersOf) LeaderConfig {
	c := cfg3(last, txnsBetween(last>>32, 1, last&0xffffffff))
	c.Quorum = voters
	return c
}

// A reconfig removing leader 1 from voters 1, 3 and 19: 3 and 19 acknowledge it alike, and Apache designates the
// first of its HashSet: 3 and 19 share a bucket, so the one whose ACK came first (not the lowest id).
func TestLeaderReconfigDesignatesInAckOrder(t *testing.T) {
	const e = 2
	for _, first := range []int64{19, 3} {
		s := newSim(t, cfgVoters(1<<32|5, votersOf{1, 3, 19}))
		second := map[int64]int64{3: 19, 19: 3}[first]
		s.join(1, first, 1, 1, 1<<32|5) // conn 1: sent to, and acknowledging, first
		s.join(2, second, 1, 1, 1<<32|5)
		newCfg := "server.3=c\nserver.19=s\nversion=200000001"
		s.apply(s.l.Propose([]Txn{reconfigTxn(e<<32|1, newCfg, votersOf{3, 19}, false)}, s.now))
		s.apply(s.l.Durable(e<<32|1, 0))
		if s.committed != e<<32|1 || len(s.activated) != 1 || s.activated[0].Designated != first {
			t.Fatalf("committed %#x, activations %+v: want %d, whose ACK came first", s.committed, s.activated, first)
		}
	}
}

// The config NEWLEADER carries, without the leader: the first of its voters' NEWLEADER acknowledgements in
// Java's HashSet order, here the first to acknowledge of 3 and 19.
func TestNewLeaderDesignatesInAckOrder(t *testing.T) {
	for _, first := range []int64{19, 3} {
		c := cfgVoters(1<<32|5, votersOf{1, 3, 19})
		next := "server.3=c\nserver.19=s\nversion=100000006"
		c.LastSeen = &NewConfig{Quorum: votersOf{3, 19}, Version: 1<<32 | 6, Data: []byte(next)}
		s := newSim(t, c)
		s.join(1, first, 1, 1, 1<<32|5)
		s.join(2, map[int64]int64{3: 19, 19: 3}[first], 1, 1, 1<<32|5)
		if !s.started || len(s.activated) != 1 || s.activated[0].Designated != first {
			t.Fatalf("started %v, activations %+v: want %d, the first to acknowledge NEWLEADER", s.started,
				s.activated, first)
		}
	}
}

// ZOOKEEPER-1783: with reconfiguration, an initial config (version 0) gets the new epoch's first zxid as version.
// NEWLEADER carries it; once a quorum acknowledged NEWLEADER the leader activates it (keeping the lead) and the
// learners do at UPTODATE. A config already versioned is left as it is.
func TestLeaderVersionsInitialConfig(t *testing.T) {
	const initial = "server.1=a\nserver.2=b\nserver.3=c\nversion=0"
	const versioned = "server.1=a\nserver.2=b\nserver.3=c\nversion=200000000"
	cfg := cfg3(1<<32|5, txnsBetween(1, 1, 5))
	cfg.ConfigData, cfg.VersionInitialConfig = []byte(initial), true
	s := newSim(t, cfg)
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	if len(s.lastSeen) != 1 || string(s.lastSeen[0].Data) != versioned || s.lastSeen[0].Version != 2<<32 {
		t.Fatalf("leader's last seen %+v, want %q", s.lastSeen, versioned)
	}
	if string(f2.lastSeen) != versioned {
		t.Fatalf("NEWLEADER's config %q, want %q", f2.lastSeen, versioned)
	}
	if !s.started || len(s.activated) != 1 || s.activated[0].Zxid != 2<<32 || s.activated[0].Designated != 1 ||
		string(s.activated[0].Config.Data) != versioned {
		t.Fatalf("started %v, leader activations %+v", s.started, s.activated)
	}
	if len(f2.activated) != 1 || string(f2.activated[0].Config) != versioned {
		t.Fatalf("follower activations %+v", f2.activated)
	}
	// Committing goes on with the config activated.
	s.proposeLogged(2<<32 | 1)
	if s.committed != 2<<32|1 {
		t.Fatalf("committed %#x", s.committed)
	}

	cfg.ConfigData, cfg.ConfigVersion = []byte(versioned), 2<<32
	s = newSim(t, cfg)
	f2 = s.join(1, 2, 1, 1, 1<<32|5)
	if len(s.lastSeen) != 0 || len(s.activated) != 0 || string(f2.lastSeen) != versioned {
		t.Fatalf("versioned config: last seen %+v, activated %+v, NEWLEADER's %q", s.lastSeen, s.activated, f2.lastSeen)
	}
}

func TestWithVersion(t *testing.T) {
	for in, want := range map[string]string{
		"server.1=a\nversion=0": "server.1=a\nversion=10", "version=0": "version=10",
		"server.1=a\n": "server.1=a\nversion=10", "server.1=a": "server.1=a\nversion=10",
	} {
		if got := string(withVersion([]byte(in), 16)); got != want {
			t.Errorf("withVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// A leader that finds a reconfig proposed and not committed (its last seen config is newer than the active one)
// sends it with NEWLEADER, starts once a quorum of both configs acknowledged NEWLEADER, and activates it.
func TestLeaderCompletesPendingReconfig(t *testing.T) {
	const pending = "server.1=a\nserver.2=b\nserver.3=c\nserver.4=d\nversion=100000003"
	cfg := cfg3(1<<32|5, txnsBetween(1, 1, 5))
	cfg.ConfigVersion, cfg.VersionInitialConfig = 1<<32, true
	cfg.LastSeen = &NewConfig{Quorum: votersOf{1, 2, 3, 4}, Version: 1<<32 | 3, Data: []byte(pending), KeepsLeader: true}
	s := newSim(t, cfg)
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	if string(f2.lastSeen) != pending {
		t.Fatalf("NEWLEADER's config %q", f2.lastSeen)
	}
	if s.started || len(s.activated) != 0 {
		t.Fatalf("started with 1 and 2, 2 of the pending config's 4 voters")
	}
	s.join(2, 4, 1, 1, 1<<32|5)
	if !s.started || len(s.activated) != 1 || s.activated[0].Zxid != 1<<32|3 || s.activated[0].Designated != 1 {
		t.Fatalf("started %v, activations %+v", s.started, s.activated)
	}
	if len(s.lastSeen) != 0 {
		t.Fatalf("a config proposed at the new epoch beside a pending one: %+v", s.lastSeen)
	}
}

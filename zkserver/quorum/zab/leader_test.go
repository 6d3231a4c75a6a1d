package zab

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
)

func txnAt(zxid int64) Txn {
	return Txn{Zxid: zxid, Data: jute.Marshal(&jute.TxnHeader{ClientID: 1, Zxid: zxid, Type: jute.OpSetData})}
}

func txnsBetween(epoch, from, to int64) []Txn {
	var ts []Txn
	for i := from; i <= to; i++ {
		ts = append(ts, txnAt(epoch<<32|i))
	}
	return ts
}

type votersOf []int64

func (v votersOf) Voters() []int64        { return v }
func (v votersOf) IsVoter(sid int64) bool { return slices.Contains(v, sid) }
func (v votersOf) ContainsQuorum(set map[int64]bool) bool {
	n := 0
	for sid, in := range set {
		if in && v.IsVoter(sid) {
			n++
		}
	}
	return 2*n > len(v)
}

// simFollower is a learner with an in-memory log: what it logs it acknowledges at once.
type simFollower struct {
	conn    ConnID
	l       *Learner
	logged  []int64
	applied []int64
	snapAt  int64 // zxid of the snapshot it loaded (0: none)
	synced  bool
	trunc   int64
	dead    bool // drops what it is sent
	first   []int32
	// activated are the configs it was told to activate, and lastSeen the last config proposed to it.
	activated []LearnerActivation
	lastSeen  []byte
	// proposals and commits are the packets it counted after the sync (Ready.ProposalReceived, CommitReceived).
	proposals, commits int
}

// sim routes packets between one leader core and its followers, synchronously.
type sim struct {
	t         *testing.T
	now       int64
	l         *Leader
	fs        map[ConnID]*simFollower
	started   bool
	committed int64
	epochs    [2]int64
	shutdown  error
	closed    []ConnID
	activated []Activation
	lastSeen  []*NewConfig
	metrics   metrics.Quorum // what the leader's steps counted
	// snapAt is the zxid of the snapshots the runtime captures (nil: the last committed, as Apache's).
	snapAt func() int64
}

func newSim(t *testing.T, cfg LeaderConfig) *sim {
	s := &sim{t: t, now: 1000, fs: map[ConnID]*simFollower{}}
	s.l = Lead(cfg, s.now)
	s.apply(s.l.Start())
	return s
}

func (s *sim) join(conn ConnID, sid, accepted, current, last int64) *simFollower {
	f := &simFollower{conn: conn, l: NewLearner(LearnerConfig{MyID: sid, AcceptedEpoch: accepted, CurrentEpoch: current, LastZxid: last})}
	f.logged = []int64{last}
	s.fs[conn] = f
	s.toLeader(f, f.l.Start().Send)
	return f
}

func (s *sim) toLeader(f *simFollower, ps []Packet) {
	for _, p := range ps {
		s.apply(s.l.Step(f.conn, p, s.now))
	}
}

func (s *sim) apply(r LeaderReady) {
	s.t.Helper()
	r.Metrics.AddTo(&s.metrics)
	if r.AcceptedEpoch > 0 {
		s.epochs[0] = r.AcceptedEpoch
	}
	if r.CurrentEpoch > 0 {
		s.epochs[1] = r.CurrentEpoch
	}
	if r.Start {
		s.started = true
	}
	if r.Committed > 0 {
		s.committed = r.Committed
	}
	if r.Shutdown != nil {
		s.shutdown = r.Shutdown
	}
	s.activated = append(s.activated, r.Activated...)
	if r.LastSeen != nil {
		s.lastSeen = append(s.lastSeen, r.LastSeen)
	}
	s.closed = append(s.closed, r.Close...)
	for _, id := range r.SnapshotFor {
		zxid := s.l.lastCommitted
		if s.snapAt != nil {
			zxid = s.snapAt()
		}
		defer func() { s.apply(s.l.SnapshotTaken(id, zxid)) }()
	}
	for _, o := range r.Send {
		f := s.fs[o.Conn]
		if f == nil || f.dead {
			continue
		}
		if len(f.first) < 3 {
			f.first = append(f.first, o.Packet.Type)
		}
		rd, err := f.l.Step(o.Packet)
		if errors.Is(err, ErrNeedSnapshot) {
			f.l.SnapshotLoaded(o.Packet.Zxid)
			f.snapAt, f.logged = o.Packet.Zxid, nil
			continue
		}
		if err != nil {
			s.t.Fatalf("follower on %v: %v", o.Packet, err)
		}
		if rd.Truncate {
			f.trunc = rd.TruncateTo
			for len(f.logged) > 0 && f.logged[len(f.logged)-1] > rd.TruncateTo {
				f.logged = f.logged[:len(f.logged)-1]
			}
		}
		for _, t := range rd.Log {
			f.logged = append(f.logged, t.Zxid)
		}
		for _, t := range rd.Apply {
			f.applied = append(f.applied, t.Zxid)
		}
		f.synced = f.synced || rd.Serving
		if rd.ProposalReceived {
			f.proposals++
		}
		if rd.CommitReceived {
			f.commits++
		}
		if rd.Activate != nil {
			f.activated = append(f.activated, *rd.Activate)
		}
		if rd.LastSeenConfig != nil {
			f.lastSeen = rd.LastSeenConfig
		}
		if rd.PingReply {
			rd.Send = append(rd.Send, PingReplyPacket(rd.PingZxid, nil))
		}
		s.toLeader(f, rd.Send)
	}
}

// proposeLogged proposes one txn at zxid and has the leader log it (its own acknowledgement).
func (s *sim) proposeLogged(zxid int64) {
	s.apply(s.l.Propose([]Txn{txnAt(zxid)}, s.now))
	s.apply(s.l.Durable(zxid, 0))
}

func (s *sim) tick() {
	s.now += 1000 // tickTime 2000: a half tick
	s.apply(s.l.Tick(s.now))
}

func cfg3(last int64, log []Txn) LeaderConfig {
	return LeaderConfig{MyID: 1, Quorum: votersOf{1, 2, 3}, AcceptedEpoch: last >> 32, CurrentEpoch: last >> 32,
		LastZxid: last, CommittedLog: log, TickTime: 2000, InitLimit: 5, SyncLimit: 2, ConfigData: []byte("version=0")}
}

// A new epoch with one follower up to date (empty DIFF) and one behind (DIFF and the txns it lacks), then
// proposals committed once a quorum logged them, and a sync answered after the commit before it.
func TestLeaderDiscoverySyncBroadcast(t *testing.T) {
	log := txnsBetween(1, 1, 5)
	s := newSim(t, cfg3(1<<32|5, log))
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	if s.epochs[0] != 2 || s.l.Epoch() != 2 {
		t.Fatalf("accepted epoch %d, epoch %d: want 2 once two of three joined", s.epochs[0], s.l.Epoch())
	}
	if !s.started || s.epochs[1] != 2 || !f2.synced {
		t.Fatalf("started %v, current epoch %d, follower synced %v", s.started, s.epochs[1], f2.synced)
	}
	if f2.first[0] != LeaderInfo || f2.first[1] != Diff || f2.first[2] != NewLeader {
		t.Fatalf("follower 2 got %v", f2.first)
	}
	f3 := s.join(2, 3, 1, 1, 1<<32|3)
	if !f3.synced || !slices.Equal(f3.logged, []int64{1<<32 | 3, 1<<32 | 4, 1<<32 | 5}) {
		t.Fatalf("follower 3 synced %v, logged %x", f3.synced, f3.logged)
	}
	// Followers 2 and 3 are a quorum without the leader's own log.
	s.apply(s.l.Propose(txnsBetween(2, 1, 1), s.now))
	if s.committed != 2<<32|1 {
		t.Fatalf("committed %#x, want 0x200000001 (acknowledged by both followers)", s.committed)
	}
	// With follower 3 silent, a proposal waits for the leader's log.
	f3.dead = true
	s.apply(s.l.Propose(txnsBetween(2, 2, 3), s.now))
	if s.committed != 2<<32|1 {
		t.Fatalf("committed %#x with one of three", s.committed)
	}
	s.apply(s.l.Sync(1)) // behind the two outstanding proposals
	if len(s.l.pendingSyncs) != 1 {
		t.Fatalf("sync answered before the proposals before it committed")
	}
	s.apply(s.l.Durable(2<<32|2, 0))
	if s.committed != 2<<32|2 {
		t.Fatalf("committed %#x, want 0x200000002", s.committed)
	}
	s.apply(s.l.Durable(2<<32|3, 0))
	if !slices.Equal(f2.applied, []int64{2<<32 | 1, 2<<32 | 2, 2<<32 | 3}) {
		t.Fatalf("follower 2 applied %x", f2.applied)
	}
	if n := s.l.pendingSyncs; len(n) != 0 {
		t.Fatalf("sync still pending: %v", n)
	}
	// Two DIFF syncs, three txns proposed and committed; the txns the sync sent follower 3 are not counted.
	m := &s.metrics
	if m.DiffCount.Load() != 2 || m.SnapCount.Load() != 0 || m.ProposalCount.Load() != 3 || m.CommitCount.Load() != 3 {
		t.Fatalf("diff %d snap %d proposals %d commits %d", m.DiffCount.Load(), m.SnapCount.Load(),
			m.ProposalCount.Load(), m.CommitCount.Load())
	}
	// inflight_diff_count: each sync counted as it begins (one in progress) and at the ACK of NEWLEADER (none).
	if d := m.InflightDiff.Snapshot(); d.Count != 4 || d.Sum != 2 || d.Max != 1 || m.InflightSnap.Snapshot().Count != 0 {
		t.Fatalf("inflight diff %+v, snap %+v", d, m.InflightSnap.Snapshot())
	}
	if f2.proposals != 3 || f2.commits != 3 || f3.proposals != 1 || f3.commits != 1 {
		t.Fatalf("received: follower 2 %d/%d, follower 3 %d/%d", f2.proposals, f2.commits, f3.proposals, f3.commits)
	}
}

// With no txn in its in-memory log (a database loaded from a snapshot alone), a leader syncs the followers of its
// quorum at their shared last zxid by an empty DIFF; once it serves, its last processed zxid is the new epoch's
// first (Leader.startZkServer), so one that joins later at that old zxid gets a snapshot, as in Apache, while one
// at the epoch's first zxid gets an empty DIFF.
func TestLeaderSyncsLateLearnerFromEpochStart(t *testing.T) {
	s := newSim(t, cfg3(1<<32|3, nil))
	f2 := s.join(1, 2, 1, 1, 1<<32|3)
	if !s.started || f2.first[1] != Diff || f2.snapAt != 0 {
		t.Fatalf("quorum follower: leader started %v, got %v, snapshot at %#x", s.started, f2.first, f2.snapAt)
	}
	f3 := s.join(2, 3, 1, 1, 1<<32|3)
	if !f3.synced || f3.first[1] != Snap || f3.snapAt != 2<<32 {
		t.Fatalf("late follower: synced %v, got %v, snapshot at %#x", f3.synced, f3.first, f3.snapAt)
	}
	s.l.Closed(2)
	f3 = s.join(3, 3, 2, 2, 2<<32)
	if !f3.synced || f3.first[1] != Diff || f3.snapAt != 0 {
		t.Fatalf("follower at the epoch's first zxid: synced %v, got %v, snapshot at %#x", f3.synced, f3.first, f3.snapAt)
	}
}

// A follower with a txn the leader lacks is truncated; one older than the leader's committed log (and no txn log
// to read) gets a snapshot; followers that stop answering are dropped at the sync limit, and the leader gives up
// without a quorum.
func TestLeaderTruncSnapAndQuorumLoss(t *testing.T) {
	s := newSim(t, cfg3(1<<32|5, txnsBetween(1, 3, 5)))
	// Ahead of the leader while the epoch is acknowledged: refused (the election chose the leader).
	s.join(1, 2, 1, 1, 1<<32|7)
	if len(s.closed) != 1 || s.started {
		t.Fatalf("follower ahead at the epoch acknowledgement: closed %v, started %v", s.closed, s.started)
	}
	f2 := s.join(2, 2, 1, 1, 1<<32|5)
	// Once the leader leads, a learner ahead in the same epoch is truncated.
	f3 := s.join(3, 3, 1, 1, 1<<32|7)
	if f3.trunc != 1<<32|5 || !f3.synced || !s.started {
		t.Fatalf("follower ahead: truncated to %#x, synced %v, leader started %v", f3.trunc, f3.synced, s.started)
	}
	s.l.Closed(3)
	s.closed = nil
	f3 = s.join(4, 3, 1, 1, 1<<32|1)
	// The snapshot is the serving leader's tree, whose last processed zxid is the epoch's first (startZkServer).
	if f3.snapAt != 2<<32 || !f3.synced || f3.first[1] != Snap {
		t.Fatalf("follower behind the committed log: snapshot at %#x, synced %v, got %v", f3.snapAt, f3.synced, f3.first)
	}
	// diff_count counts TRUNC syncs with DIFF ones (follower 2's DIFF, the TRUNC), snap_count the snapshot.
	if d, sn := s.metrics.DiffCount.Load(), s.metrics.SnapCount.Load(); d != 2 || sn != 1 {
		t.Fatalf("diff %d snap %d", d, sn)
	}
	// Each sync counted as it began (one in progress) and at the ACK of NEWLEADER (none), the TRUNC as a diff; the
	// refused follower never began one.
	if d, sn := s.metrics.InflightDiff.Snapshot(), s.metrics.InflightSnap.Snapshot(); d.Count != 4 || d.Sum != 2 || sn.Count != 2 || sn.Sum != 1 {
		t.Fatalf("inflight diff %+v, snap %+v", d, sn)
	}
	s.proposeLogged(2<<32 | 1)
	if s.committed != 2<<32|1 || !slices.Equal(f3.applied, []int64{2<<32 | 1}) {
		t.Fatalf("committed %#x, follower 3 applied %x", s.committed, f3.applied)
	}
	f2.dead, f3.dead = true, true
	s.proposeLogged(2<<32 | 2)
	if s.committed != 2<<32|1 {
		t.Fatalf("committed %#x with no follower answering", s.committed)
	}
	for i := 0; i < 10 && s.shutdown == nil; i++ {
		s.tick()
	}
	if len(s.closed) != 2 {
		t.Fatalf("closed %v: want both followers dropped at the sync limit", s.closed)
	}
	if s.shutdown == nil || !strings.Contains(s.shutdown.Error(), "not sufficient followers synced") {
		t.Fatalf("shutdown: %v", s.shutdown)
	}
}

// queueCommitted follows LearnerHandler.queueCommittedProposals' decisions.
func TestQueueCommitted(t *testing.T) {
	log := append(txnsBetween(1, 1, 3), txnsBetween(3, 1, 2)...)
	kinds := func(ps []Packet) string {
		var b strings.Builder
		for _, p := range ps {
			fmt.Fprintf(&b, "%s:%x ", typeName(p.Type), p.Zxid)
		}
		return strings.TrimSpace(b.String())
	}
	for _, tc := range []struct {
		peer int64
		want string
		ok   bool
	}{
		{1<<32 | 3, "DIFF:300000002 PROPOSAL:300000001 COMMIT:300000001 PROPOSAL:300000002 COMMIT:300000002", true},
		{3 << 32, "DIFF:300000002 PROPOSAL:300000001 COMMIT:300000001 PROPOSAL:300000002 COMMIT:300000002", true},
		{3<<32 | 2, "DIFF:300000002", true},
		{1<<32 | 2, "DIFF:300000002 PROPOSAL:100000003 COMMIT:100000003 PROPOSAL:300000001 COMMIT:300000001 PROPOSAL:300000002 COMMIT:300000002", true},
		{2<<32 | 5, "", false}, // an epoch we lack: snapshot
	} {
		pkts, _, ok := queueCommitted(log, tc.peer, 3<<32|2)
		if got := kinds(pkts); ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("peer %#x: %q %v, want %q %v", tc.peer, got, ok, tc.want, tc.ok)
		}
	}
}

// Discovery without a quorum ends at the init limit.
func TestLeaderDiscoveryTimeout(t *testing.T) {
	s := newSim(t, cfg3(0, nil))
	for i := 0; i < 12 && s.shutdown == nil; i++ {
		s.tick()
	}
	if s.shutdown == nil || !strings.Contains(s.shutdown.Error(), "waiting for epoch from quorum") {
		t.Fatalf("shutdown: %v", s.shutdown)
	}
}

// A leader still waiting for the new epoch quits when a voter goes looking after QuitWaitingForEpochAfter, not
// before, not once discovery is over, never without the setting; it counts quit_leading_due_to_disloyal_voter.
func TestLeaderQuitsWaitingForEpoch(t *testing.T) {
	cfg := cfg3(0, nil)
	cfg.QuitWaitingForEpochAfter = 1501 // maxTimeToWaitForEpoch 1500
	s := newSim(t, cfg)
	s.apply(s.l.VoterLooking(2, s.now+1500))
	if s.shutdown != nil {
		t.Fatalf("quit after waiting 1500 ms: %v", s.shutdown)
	}
	s.apply(s.l.VoterLooking(2, s.now+1501))
	if s.shutdown == nil || !strings.Contains(s.shutdown.Error(), "voter 2 is looking") ||
		s.metrics.QuitLeadingDisloyal.Load() != 1 {
		t.Fatalf("after 1501 ms: shutdown %v, counted %d", s.shutdown, s.metrics.QuitLeadingDisloyal.Load())
	}
	s.apply(s.l.VoterLooking(2, s.now+1600))
	if n := s.metrics.QuitLeadingDisloyal.Load(); n != 1 {
		t.Fatalf("a leadership that ended quit again: %d", n)
	}

	s = newSim(t, cfg3(0, nil)) // not set: only the init limit ends the wait
	s.apply(s.l.VoterLooking(2, s.now+9000))
	if s.shutdown != nil || s.metrics.QuitLeadingDisloyal.Load() != 0 {
		t.Fatalf("without the setting: %v", s.shutdown)
	}

	s = newSim(t, cfg)
	s.join(1, 2, 0, 0, 0)
	if s.l.Epoch() != 1 {
		t.Fatalf("epoch %d once two of three joined", s.l.Epoch())
	}
	s.apply(s.l.VoterLooking(3, s.now+5000))
	if s.shutdown != nil || s.metrics.QuitLeadingDisloyal.Load() != 0 {
		t.Fatalf("quit after discovery: %v", s.shutdown)
	}
}

// An observer syncs by DIFF (the proposals and commits it lacks, committed at UPTODATE), learns each commit from an
// INFORM, and its acknowledgements never count towards a quorum.
func TestLeaderObserver(t *testing.T) {
	s := newSim(t, cfg3(1<<32|5, txnsBetween(1, 1, 5)))
	o := &simFollower{conn: 9, l: NewLearner(LearnerConfig{MyID: 4, Observer: true, AcceptedEpoch: 1, CurrentEpoch: 1,
		LastZxid: 1<<32 | 2})}
	o.logged = []int64{1<<32 | 2}
	s.fs[9] = o
	s.toLeader(o, o.l.Start().Send)
	if s.l.Epoch() > 0 || s.started {
		t.Fatalf("an observer made the epoch: %d, started %v", s.l.Epoch(), s.started)
	}
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	if !s.started || !f2.synced || !o.synced {
		t.Fatalf("started %v, follower synced %v, observer synced %v", s.started, f2.synced, o.synced)
	}
	if o.first[0] != LeaderInfo || o.first[1] != Diff {
		t.Fatalf("observer got %v", o.first)
	}
	want := []int64{1<<32 | 3, 1<<32 | 4, 1<<32 | 5}
	if !slices.Equal(o.applied, want) || !slices.Equal(o.logged[1:], want) {
		t.Fatalf("observer applied %x, logged %x: want %x", o.applied, o.logged, want)
	}
	// A proposal commits once the follower and the leader logged it: the observer, sent nothing until the commit,
	// never stands in for the leader's own log.
	s.apply(s.l.Propose(txnsBetween(2, 1, 2), s.now))
	if s.committed != 0 || len(o.applied) != 3 {
		t.Fatalf("committed %#x, observer applied %x, before the leader logged", s.committed, o.applied)
	}
	s.apply(s.l.Durable(2<<32|2, 0))
	if s.committed != 2<<32|2 {
		t.Fatalf("committed %#x, want 0x200000002", s.committed)
	}
	want = append(want, 2<<32|1, 2<<32|2)
	if !slices.Equal(o.applied, want) || !slices.Equal(o.logged[1:], want) {
		t.Fatalf("observer applied %x, logged %x: want %x", o.applied, o.logged, want)
	}
	// PROPOSAL and COMMIT are not for an observer: ignored, as Apache's observer does, and not counted.
	if rd, err := o.l.Step(Packet{Type: Commit, Zxid: 2<<32 | 3}); err != nil || len(rd.Apply) != 0 || rd.CommitReceived {
		t.Fatalf("observer on COMMIT: %+v, %v", rd, err)
	}
	// An observer counts each INFORM after its sync as a commit received.
	if o.commits != 2 || o.proposals != 0 {
		t.Fatalf("observer counted %d commits, %d proposals", o.commits, o.proposals)
	}
}

// A follower that joins a serving leader while a proposal is outstanding gets that proposal before NEWLEADER and
// its COMMIT only after UPTODATE, even when the commit happens in between: Apache's 3.8 followers fail their sync
// on a COMMIT between NEWLEADER and UPTODATE that no PROPOSAL since NEWLEADER precedes (ZOOKEEPER-4394).
func TestLeaderHoldsCommitsUntilUpToDate(t *testing.T) {
	s := newSim(t, cfg3(1<<32|5, txnsBetween(1, 1, 5)))
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	if !s.started || !f2.synced {
		t.Fatalf("started %v, follower 2 synced %v", s.started, f2.synced)
	}
	a := int64(2<<32 | 1)
	s.apply(s.l.Propose(txnsBetween(2, 1, 1), s.now)) // follower 2 acknowledges; the leader has not logged it
	if s.committed != 0 {
		t.Fatalf("committed %#x before the leader logged", s.committed)
	}

	// Follower 3, driven by hand: its packets go to the leader, the leader's to it are collected.
	l3 := NewLearner(LearnerConfig{MyID: 3, AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: 1<<32 | 5})
	var got []Packet
	var applied []int64
	deliver := func(r LeaderReady) []Packet {
		s.apply(LeaderReady{Send: r.Send, Committed: r.Committed}) // follower 2's share
		var mine []Packet
		for _, o := range r.Send {
			if o.Conn == 3 {
				mine = append(mine, o.Packet)
			}
		}
		got = append(got, mine...)
		return mine
	}
	toLeader := func(ps []Packet) []Packet {
		var out []Packet
		for _, p := range ps {
			out = append(out, deliver(s.l.Step(3, p, s.now))...)
		}
		return out
	}
	pending := toLeader(l3.Start().Send) // LEADERINFO
	var ackNewLeader []Packet
	for len(pending) > 0 {
		p := pending[0]
		pending = pending[1:]
		rd, err := l3.Step(p)
		if err != nil {
			t.Fatalf("follower 3 on %v: %v", p, err)
		}
		for _, x := range rd.Apply {
			applied = append(applied, x.Zxid)
		}
		if p.Type == NewLeader {
			ackNewLeader = rd.Send // held back: the commit comes first
			continue
		}
		pending = append(pending, toLeader(rd.Send)...)
	}
	if ackNewLeader == nil {
		t.Fatalf("follower 3 got no NEWLEADER: %v", got)
	}
	if n := len(got); n < 2 || got[n-2].Type != Proposal || got[n-2].Zxid != a {
		t.Fatalf("follower 3 got %v: want the outstanding proposal before NEWLEADER", got)
	}

	before := len(got)
	deliver(s.l.Durable(a, 0)) // the leader logs it: committed by the leader and follower 2
	if s.committed != a {
		t.Fatalf("committed %#x, want %#x", s.committed, a)
	}
	if len(got) != before {
		t.Fatalf("follower 3 was sent %v between NEWLEADER and UPTODATE", got[before:])
	}
	after := toLeader(ackNewLeader)
	if len(after) != 2 || after[0].Type != UpToDate || after[1].Type != Commit || after[1].Zxid != a {
		t.Fatalf("after NEWLEADER's ACK follower 3 got %v: want UPTODATE, then COMMIT %#x", after, a)
	}
	for _, p := range after {
		rd, err := l3.Step(p)
		if err != nil {
			t.Fatalf("follower 3 on %v: %v", p, err)
		}
		for _, x := range rd.Apply {
			applied = append(applied, x.Zxid)
		}
	}
	if !slices.Contains(applied, a) {
		t.Fatalf("follower 3 applied %x: want %#x", applied, a)
	}
}

// Our leader's tree holds the txns it has prepped, so a snapshot it captures for a learner while proposals are
// outstanding holds them too: that learner gets UPTODATE, and serves clients, only once they are committed.
// Apache's snapshot is its committed tree; a learner serving an uncommitted txn could show it to clients and then
// lose it to a new leader that never had it.
func TestLeaderSnapshotHoldingOutstandingProposals(t *testing.T) {
	s := newSim(t, cfg3(1<<32|5, txnsBetween(1, 3, 5)))
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	if !s.started || !f2.synced {
		t.Fatalf("started %v, follower 2 synced %v", s.started, f2.synced)
	}
	f2.dead = true
	x := int64(2<<32 | 1)
	s.apply(s.l.Propose([]Txn{txnAt(x)}, s.now)) // logged by nobody yet
	s.snapAt = func() int64 { return s.l.lastProposed }
	f3 := s.join(2, 3, 1, 1, 1<<32|1) // older than the committed log: a snapshot
	if f3.snapAt != x {
		t.Fatalf("follower 3 loaded a snapshot at %#x, want %#x", f3.snapAt, x)
	}
	if f3.synced {
		t.Fatalf("follower 3 got UPTODATE while its snapshot's %#x is not committed", x)
	}
	s.apply(s.l.Durable(x, s.now)) // the leader and follower 3 (through its snapshot): a quorum
	if s.committed != x || !f3.synced {
		t.Fatalf("committed %#x, follower 3 synced %v: want %#x and UPTODATE", s.committed, f3.synced, x)
	}
	y := int64(2<<32 | 2)
	s.proposeLogged(y)
	if s.committed != y || !slices.Equal(f3.applied, []int64{y}) || !slices.Equal(f3.logged, []int64{y}) {
		t.Fatalf("committed %#x; follower 3 logged %x, applied %x: want %#x after the snapshot", s.committed,
			f3.logged, f3.applied, y)
	}
}

// Before the epoch's first txn, the runtime's snapshot is named after the epoch's first zxid, which is no txn: the
// learner gets UPTODATE at once.
func TestLeaderSnapshotAtEpochStart(t *testing.T) {
	s := newSim(t, cfg3(1<<32|5, txnsBetween(1, 3, 5)))
	s.join(1, 2, 1, 1, 1<<32|5)
	s.snapAt = func() int64 { return s.l.Epoch() << 32 }
	f3 := s.join(2, 3, 1, 1, 1<<32|1)
	if f3.snapAt != 2<<32 || !f3.synced {
		t.Fatalf("follower 3 loaded a snapshot at %#x, synced %v: want 0x200000000 and UPTODATE", f3.snapAt, f3.synced)
	}
}

// The leader times each txn's quorum from its header's time (quorum_ack_latency), and, for zxids that are
// multiples of AckLoggingFrequency, each acknowledgement that comes before the commit, by member (ack_latency):
// Leader.processAck ignores those of committed txns.
func TestLeaderTimesAcknowledgements(t *testing.T) {
	c := cfg3(1<<32|5, txnsBetween(1, 1, 5))
	c.AckLoggingFrequency = 2
	s := newSim(t, c)
	f2 := s.join(1, 2, 1, 1, 1<<32|5)
	f3 := s.join(2, 3, 1, 1, 1<<32|5)
	timed := func(zxid, ms int64) Txn {
		return Txn{Zxid: zxid, Data: jute.Marshal(&jute.TxnHeader{ClientID: 1, Zxid: zxid, Time: ms, Type: jute.OpSetData})}
	}
	base := s.now
	// 2<<32|1 is odd: not timed by member. Followers 2 and 3 acknowledge at once and commit it.
	s.apply(s.l.Propose([]Txn{timed(2<<32|1, base-7)}, s.now))
	// 2<<32|2: follower 3 is silent, so follower 2 and the leader's log (5 ms later) commit it.
	f3.dead = true
	s.apply(s.l.Propose([]Txn{timed(2<<32|2, base-3)}, s.now))
	s.apply(s.l.Durable(2<<32|2, base+5))
	// The leader's own log of 2<<32|1 came after its commit; a header time after now is not counted.
	s.apply(s.l.Propose([]Txn{timed(2<<32|4, base+50)}, s.now))
	s.apply(s.l.Durable(2<<32|4, base+5))
	if !f2.synced || s.committed != 2<<32|4 {
		t.Fatalf("committed %#x", s.committed)
	}
	q := s.metrics.QuorumAckLatency.Snapshot()
	if q.Count != 2 || q.Sum != 7+8 {
		t.Fatalf("quorum_ack_latency %+v, want 7 and 8 ms", q)
	}
	acks := s.metrics.AckLatency.Snapshot()
	if len(acks) != 2 || acks["2"].Count != 1 || acks["2"].Sum != 3 || acks["1"].Count != 1 || acks["1"].Sum != 8 {
		t.Fatalf("ack_latency %+v, want members 2 (3 ms) and 1 (8 ms)", acks)
	}
}

package zab_test

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
)

// The ensemble simulation runs whole servers' cores in one goroutine: fast leader election, then the ZAB leader
// or learner, over a seeded network (delays; partitions that silently cut links) with crashes and restarts from
// what each server made durable. The runtime around the cores is modelled as zkserver's: a leader applies txns to
// its tree as it preps them and logs them in the background, a learner logs before it acknowledges, a snapshot
// for a learner is the leader's tree as prepped, a learner that loses its leader applies the proposals it logged
// (fastForwardDataBase), a server elected leader persists its tree (PrepareLeading's snapshot). Observers (none, one
// or two) learn from the leader or, with observerMasterPort, from the followers' observer masters, tried in turn;
// a follower's observer master starts once it is synced and ends, with its observers' connections, when it stops
// following.
//
// After every event it checks ZAB's guarantees: one leader per epoch; every leader that starts serving holds all
// that was ever committed, in the same order; a learner serves only committed txns, in commit order, with no
// gap (observers too). At the end, with the network healed and every server up, one leader serves, every other
// server follows or observes and serves, and every server holds the same txns. ensemble_reconfig_sim_test.go adds
// dynamic reconfiguration.

const (
	simTickTime  = 100 // ms
	simInitLimit = 10  // ticks
	simSyncLimit = 5   // ticks
	simMaxDiff   = 30  // txns a learner may be sent from the log, beyond which it gets a snapshot

	simMaxNotificationInterval = 2 * time.Second
)

type simRole int

const (
	roleDown simRole = iota
	roleLooking
	roleLeading
	roleFollowing
)

func (r simRole) String() string {
	return [...]string{"down", "looking", "leading", "following"}[r]
}

// simPeer is one server: what survives a crash (epochs, disk) and what does not.
type simPeer struct {
	sid      int64
	observer bool // peerType=observer: it never votes, and learns committed txns by INFORM
	// Durable: the epoch files, and the database a restart loads (snapshot and txn log as one history).
	accepted, current int64
	disk              []zab.Txn
	// With reconfiguration: the active config and the last one seen (the dynamic config files).
	active, last *simConfig

	// leader is who we last decided leads (dynConfig.leader); designated, that a committed reconfig named it and
	// the next look goes to it without an election.
	leader     int64
	designated bool

	gen  int // incarnation: events scheduled for an earlier one are dropped
	role simRole
	tree []zab.Txn // the data tree's txns (a leader's include those it prepped)
	// snapAt is the zxid of the snapshot a SNAP loaded the tree from, until the tree is written: the tree's last
	// processed zxid, which passes its last txn when a serving leader sent it (the epoch's first zxid).
	snapAt int64
	el     *election.Election

	// Leading.
	ld        *zab.Leader
	unsynced  []zab.Txn // handed to the log, not yet durable
	syncing   bool      // a log sync is scheduled
	nextCount int64

	// Following.
	om        *zab.ObserverMaster // a synced follower's, with observer masters
	masters   []int64             // an observer's learner masters, shuffled, tried in turn
	ln        *zab.Learner
	conn      *simConn
	serving   bool
	heard     int64 // last packet from the leader (ms)
	connTries int
	verified  int // tree[:verified] checked as committed, in order, without gaps
	// unapplied: committed txns logged and not applied, as a reconfig's major change ended the sync first.
	unapplied []zab.Txn
}

// simConn is a learner's connection to its leader; FIFO each way while it lasts.
type simConn struct {
	id              zab.ConnID
	learner, leader *simPeer // leader: the learner master (a follower's observer master, see viaOM)
	lgen, fgen      int      // the ends' incarnations
	broken          bool
	lastAt          [2]int64  // last delivery time scheduled toward the leader [0] and the learner [1]
	snap            []zab.Txn // the snapshot captured for the learner, sent after SNAP
}

type simEvKind int

const (
	evNote simEvKind = iota // an election notification
	evPacket
	evConnClosed // the other end closed the connection (a learner or a leader finds out)
	evTick
	evLogSync
	evConnect
	evFault
	evRestart
)

type simEvent struct {
	at    int64
	seq   int
	kind  simEvKind
	to    *simPeer
	gen   int
	from  int64
	note  election.Notification
	conn  *simConn
	toLdr bool
	pkt   zab.Packet
	snap  []zab.Txn
}

type simQueue []*simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type ensembleSim struct {
	t        *testing.T
	seed     uint64
	rnd      *rand.Rand
	now      int64
	seq      int
	queue    simQueue
	peers    []*simPeer
	voters   *election.Majority
	cut      map[[2]int64]bool  // links cut by a partition
	noteAt   map[[2]int64]int64 // last delivery time scheduled, per pair
	lastNote map[[2]int64]election.Notification
	nextConn zab.ConnID
	chaos    bool // faults and proposals go on
	propose  bool
	// useOM: observers learn from followers' observer masters (observerMasterPort), not from the leader.
	useOM bool
	// reconfig: servers change roles by reconfiguration (ensemble_reconfig_sim_test.go); initial is the config
	// they start with.
	reconfig bool
	initial  *simConfig

	// What the checks know.
	committed    []zab.Txn     // every txn committed, in order
	committedPos map[int64]int // zxid -> index in committed
	epochLeader  map[int64]int64
	trace        []string // the last events, for a failure's report
	stats        map[string]int
}

func newEnsembleSim(t *testing.T, seed uint64, n, observers int, useOM, reconfig bool) *ensembleSim {
	s := &ensembleSim{t: t, seed: seed, rnd: rand.New(rand.NewPCG(seed, 7)), now: 1_000_000, cut: map[[2]int64]bool{},
		noteAt: map[[2]int64]int64{}, lastNote: map[[2]int64]election.Notification{}, committedPos: map[int64]int{}, epochLeader: map[int64]int64{},
		stats: map[string]int{}, chaos: true, propose: true, useOM: useOM && !reconfig, reconfig: reconfig}
	var ids []int64
	for sid := int64(1); sid <= int64(n); sid++ {
		ids = append(ids, sid)
	}
	s.voters = election.NewMajority(ids)
	s.initial = &simConfig{voters: ids}
	for i := range observers {
		s.initial.observers = append(s.initial.observers, int64(n+1+i))
	}
	for _, sid := range ids {
		s.peers = append(s.peers, &simPeer{sid: sid, active: s.initial, leader: -1})
	}
	for _, sid := range s.initial.observers {
		s.peers = append(s.peers, &simPeer{sid: sid, observer: true, active: s.initial, leader: -1})
	}
	for _, p := range s.peers {
		s.start(p)
	}
	s.at(s.now+s.between(200, 2000), &simEvent{kind: evFault})
	return s
}

func (s *ensembleSim) between(lo, hi int64) int64 { return lo + s.rnd.Int64N(hi-lo+1) }

func (s *ensembleSim) at(t int64, e *simEvent) {
	s.seq++
	e.at, e.seq = t, s.seq
	if e.to != nil && e.gen == 0 {
		e.gen = e.to.gen
	}
	heap.Push(&s.queue, e)
}

func (s *ensembleSim) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf("%d: ", s.now-1_000_000)+fmt.Sprintf(format, args...))
	if len(s.trace) > 300 {
		s.trace = s.trace[len(s.trace)-200:]
	}
}

func (s *ensembleSim) fatalf(format string, args ...any) {
	s.t.Helper()
	var b strings.Builder
	for _, p := range s.peers {
		fmt.Fprintf(&b, "\n  peer %d %v gen %d epochs %d/%d disk %s tree %s serving %v", p.sid, p.role, p.gen,
			p.accepted, p.current, zxids(p.disk), zxids(p.tree), p.serving)
		if s.reconfig {
			fmt.Fprintf(&b, " config %v last %v observer %v", p.active, p.last, p.observer)
		}
	}
	s.t.Fatalf("seed %d at %d ms: %s\npeers:%s\ncommitted %s\nlast events:\n%s", s.seed, s.now-1_000_000,
		fmt.Sprintf(format, args...), b.String(), zxids(s.committed), strings.Join(s.trace, "\n"))
}

// zxids prints a history briefly: its length and last few zxids.
func zxids(ts []zab.Txn) string {
	var parts []string
	for _, t := range ts[max(0, len(ts)-4):] {
		parts = append(parts, fmt.Sprintf("%x", t.Zxid))
	}
	return fmt.Sprintf("%d[..%s]", len(ts), strings.Join(parts, " "))
}

func lastZxid(ts []zab.Txn) int64 {
	if len(ts) == 0 {
		return 0
	}
	return ts[len(ts)-1].Zxid
}

func (s *ensembleSim) reachable(a, b int64) bool { return !s.cut[[2]int64{min(a, b), max(a, b)}] }

// start boots p from its disk and looks for a leader.
func (s *ensembleSim) start(p *simPeer) {
	p.gen++
	p.tree, p.snapAt = slices.Clone(p.disk), 0
	p.el = s.newElection(p)
	s.look(p)
	for _, q := range s.peers {
		if q != p {
			s.resendNotes(p.sid, q.sid)
		}
	}
	s.at(s.now+s.between(1, simTickTime/2), &simEvent{kind: evTick, to: p})
}

func (s *ensembleSim) crash(p *simPeer) {
	s.logf("crash %d (%v)", p.sid, p.role)
	s.stats["crash"]++
	if p.conn != nil {
		s.closeConn(p.conn, true)
	}
	s.closeLeaderConns(p) // as leader or observer master
	*p = simPeer{sid: p.sid, observer: p.observer, accepted: p.accepted, current: p.current, disk: p.disk,
		active: p.active, last: p.last, leader: -1, gen: p.gen + 1}
}

func (s *ensembleSim) look(p *simPeer) {
	if p.om != nil {
		// Following ends, and with it the observer master and its observers' connections.
		s.closeLeaderConns(p)
		p.om = nil
	}
	p.role, p.ld, p.ln, p.conn, p.serving, p.verified, p.unsynced, p.syncing = roleLooking, nil, nil, nil, false, 0, nil, false
	p.unapplied = nil
	if p.designated {
		// runQuorum's takeDesignated: the leader a committed reconfig designated, without an election.
		p.designated = false
		s.logf("%d goes to designated leader %d", p.sid, p.leader)
		s.stats["designated"]++
		p.el.Designate(p.leader, lastZxid(p.tree))
	} else {
		s.sendNotes(p, p.el.Look(lastZxid(p.tree), p.current, s.time()))
	}
	s.decided(p)
}

func (s *ensembleSim) time() time.Time { return time.UnixMilli(s.now) }

func (s *ensembleSim) sendNotes(p *simPeer, msgs []election.Message) {
	for _, m := range msgs {
		s.lastNote[[2]int64{p.sid, m.To}] = m.Notification
		s.deliverNote(p.sid, m.To, m.Notification)
	}
}

func (s *ensembleSim) deliverNote(from, toSid int64, n election.Notification) {
	to := s.peers[toSid-1]
	if to.role == roleDown || !s.reachable(from, toSid) {
		return
	}
	key := [2]int64{from, toSid}
	at := max(s.now+s.between(1, 30), s.noteAt[key])
	s.noteAt[key] = at
	s.at(at, &simEvent{kind: evNote, to: to, from: from, note: n})
}

// resendNotes is QuorumCnxManager reconnecting a and b: each sends the other the last notification it queued for
// it (SendWorker's lastMessageSent), so that a vote sent while they were apart is not lost.
func (s *ensembleSim) resendNotes(a, b int64) {
	if s.peers[a-1].role == roleDown || s.peers[b-1].role == roleDown || !s.reachable(a, b) {
		return
	}
	for _, k := range [][2]int64{{a, b}, {b, a}} {
		if n, ok := s.lastNote[k]; ok {
			s.deliverNote(k[0], k[1], n)
		}
	}
}

// decided acts on the election's decision, if it made one.
func (s *ensembleSim) decided(p *simPeer) {
	if p.role != roleLooking || p.el.State() == election.Looking {
		return
	}
	v, _ := p.el.Decided()
	p.leader = v.Leader
	if v.Leader == p.sid {
		s.lead(p)
		return
	}
	if p.observer && v.Leader == p.sid {
		s.fatalf("observer %d elected itself", p.sid)
	}
	p.role, p.connTries = roleFollowing, 0
	master := v.Leader
	if s.viaOM(p) {
		master = s.nextMaster(p)
	}
	s.logf("%d follows %d through %d (observer %v)", p.sid, v.Leader, master, p.observer)
	s.at(s.now+s.between(1, 20), &simEvent{kind: evConnect, to: p, from: master})
}

// viaOM says p learns from a follower's observer master rather than from the leader.
func (s *ensembleSim) viaOM(p *simPeer) bool { return p.observer && s.useOM }

// nextMaster is an observer's next learner master with observerMasterPort: the voters shuffled, the leader among
// them though it serves no observers there, tried in turn.
func (s *ensembleSim) nextMaster(p *simPeer) int64 {
	if len(p.masters) == 0 {
		for _, q := range s.peers {
			if !q.observer {
				p.masters = append(p.masters, q.sid)
			}
		}
		s.rnd.Shuffle(len(p.masters), func(i, j int) { p.masters[i], p.masters[j] = p.masters[j], p.masters[i] })
	}
	m := p.masters[0]
	p.masters = append(p.masters[1:], m)
	return m
}

// lead is PrepareLeading (the tree persisted) and Leader.lead.
func (s *ensembleSim) lead(p *simPeer) {
	p.role = roleLeading
	s.snapshotToDisk(p)
	s.logf("%d leads from %x (epochs %d/%d)", p.sid, lastZxid(p.tree), p.accepted, p.current)
	recent := p.tree[max(0, len(p.tree)-50):]
	cfg := zab.LeaderConfig{MyID: p.sid, Quorum: s.quorumOf(p), AcceptedEpoch: p.accepted,
		CurrentEpoch: p.current, LastZxid: lastZxid(p.tree), CommittedLog: slices.Clone(recent),
		History: diskHistory{p}, TickTime: simTickTime, InitLimit: simInitLimit, SyncLimit: simSyncLimit,
		ConfigData: []byte("version=0"), CommittedLogMax: 50}
	s.leaderConfigs(p, &cfg)
	p.ld = zab.Lead(cfg, s.now)
	s.leaderReady(p, p.ld.Start())
}

// snapshotToDisk makes p's tree its durable database. The txn log must not hold txns past the tree's: a restart
// would replay them over the snapshot. Those before the snapshot's zxid are not replayed (a learner's txns of an
// abandoned epoch, below the serving leader's snapshot it loaded).
func (s *ensembleSim) snapshotToDisk(p *simPeer) {
	last := max(lastZxid(p.tree), p.snapAt)
	p.snapAt = 0
	for _, t := range p.disk {
		if t.Zxid > last && !slices.ContainsFunc(p.tree, func(x zab.Txn) bool { return x.Zxid == t.Zxid }) {
			s.fatalf("peer %d snapshots its tree at %x while its log holds %x past it", p.sid, last, t.Zxid)
		}
	}
	p.disk = slices.Clone(p.tree)
}

// diskHistory is a leader's (or observer master's) txn log, read for learners older than its committed log.
type diskHistory struct{ p *simPeer }

func (h diskHistory) After(after, upTo int64) ([]zab.Txn, bool) {
	i := slices.IndexFunc(h.p.disk, func(t zab.Txn) bool { return t.Zxid == after })
	if i < 0 && after&0xffffffff != 0 {
		return nil, false
	}
	var out []zab.Txn
	for _, t := range h.p.disk {
		if t.Zxid > after && t.Zxid <= upTo {
			out = append(out, t)
		}
	}
	if len(out) > simMaxDiff {
		return nil, false // too much to send as a diff: a snapshot instead (learnerconn's maxDiffBytes)
	}
	return out, len(out) > 0 && out[len(out)-1].Zxid == upTo
}

func (s *ensembleSim) leaderReady(p *simPeer, r zab.LeaderReady) {
	if r.AcceptedEpoch > 0 {
		p.accepted = r.AcceptedEpoch
	}
	if r.CurrentEpoch > 0 {
		p.current = r.CurrentEpoch
	}
	for _, id := range r.SnapshotFor {
		// CaptureSnapshot: the tree as prepped, named after the last zxid assigned (the epoch's first before any).
		zxid := lastZxid(p.tree)
		if p.ld.Serving() {
			zxid = max(zxid, p.ld.Epoch()<<32)
		}
		if c := s.leaderConn(p, id); c != nil {
			c.snap = slices.Clone(p.tree)
		}
		s.stats["snap"]++
		s.leaderReady(p, p.ld.SnapshotTaken(id, zxid))
		if p.ld == nil {
			return // it stopped leading
		}
	}
	if r.Start {
		s.leaderStarts(p)
	}
	s.leaderConfigReady(p, r)
	if r.Committed > 0 {
		s.leaderCommits(p, r.Committed)
	}
	s.sendAndClose(p, r)
	if r.Shutdown != nil {
		s.logf("%d stops leading: %v", p.sid, r.Shutdown)
		s.stats["leader shutdown"]++
		// StopLeading: what was prepped is written to the log first.
		p.disk = append(p.disk, p.unsynced...)
		s.closeLeaderConns(p)
		s.look(p)
	}
}

// omReady carries out what a follower's observer master asks: snapshots of the follower's tree (all committed),
// packets and closed connections.
func (s *ensembleSim) omReady(p *simPeer, r zab.LeaderReady) {
	for _, id := range r.SnapshotFor {
		if c := s.leaderConn(p, id); c != nil {
			c.snap = slices.Clone(p.tree)
		}
		s.stats["om snap"]++
		s.omReady(p, p.om.SnapshotTaken(id, lastZxid(p.tree)))
	}
	s.sendAndClose(p, r)
}

// sendAndClose sends what a leader or observer master p queued for its learners (SNAP with the snapshot captured
// for that connection), and closes the connections it dropped.
func (s *ensembleSim) sendAndClose(p *simPeer, r zab.LeaderReady) {
	for _, o := range r.Send {
		if c := s.leaderConn(p, o.Conn); c != nil {
			var snap []zab.Txn
			if o.Packet.Type == zab.Snap {
				snap = c.snap
			}
			s.transmit(c, false, o.Packet, snap)
		}
	}
	for i, id := range r.Close {
		s.logf("%d drops learner conn %d: %v", p.sid, id, r.Dropped[i])
		if c := s.leaderConn(p, id); c != nil {
			s.closeConn(c, false)
		}
	}
}

// conns are found through the learners: each learner has at most one.
func (s *ensembleSim) leaderConn(p *simPeer, id zab.ConnID) *simConn {
	for _, q := range s.peers {
		if q.conn != nil && q.conn.id == id && q.conn.leader == p && !q.conn.broken {
			return q.conn
		}
	}
	return nil
}

func (s *ensembleSim) closeLeaderConns(p *simPeer) {
	for _, q := range s.peers {
		if q.conn != nil && q.conn.leader == p {
			s.closeConn(q.conn, false)
		}
	}
}

// closeConn ends c; the end that did not close it finds out shortly (byLearner: the learner closed it).
func (s *ensembleSim) closeConn(c *simConn, byLearner bool) {
	if c.broken {
		return
	}
	c.broken = true
	if byLearner {
		s.at(s.now+s.between(1, 10), &simEvent{kind: evConnClosed, to: c.leader, gen: c.lgen, conn: c})
	} else {
		s.at(s.now+s.between(1, 10), &simEvent{kind: evConnClosed, to: c.learner, gen: c.fgen, conn: c})
	}
}

func (s *ensembleSim) transmit(c *simConn, toLeader bool, pkt zab.Packet, snap []zab.Txn) {
	if c.broken {
		return
	}
	dir, to, gen := 1, c.learner, c.fgen
	if toLeader {
		dir, to, gen = 0, c.leader, c.lgen
	}
	at := max(s.now+s.between(1, 15), c.lastAt[dir])
	c.lastAt[dir] = at
	s.at(at, &simEvent{kind: evPacket, to: to, gen: gen, conn: c, toLdr: toLeader, pkt: pkt, snap: snap})
}

// leaderStarts: a quorum acknowledged NEWLEADER; the leader's history is committed.
func (s *ensembleSim) leaderStarts(p *simPeer) {
	epoch := p.ld.Epoch()
	s.logf("%d serves as leader of epoch %d with %s", p.sid, epoch, zxids(p.tree))
	s.stats["leaderships"]++
	if other, ok := s.epochLeader[epoch]; ok {
		s.fatalf("epoch %d has two leaders: %d and %d", epoch, other, p.sid)
	}
	s.epochLeader[epoch] = p.sid
	if len(p.tree) < len(s.committed) {
		s.fatalf("leader %d of epoch %d starts with %d txns; %d were committed", p.sid, epoch, len(p.tree), len(s.committed))
	}
	for i, t := range s.committed {
		if p.tree[i].Zxid != t.Zxid || string(p.tree[i].Data) != string(t.Data) {
			s.fatalf("leader %d of epoch %d: txn %d is %x, committed %x", p.sid, epoch, i, p.tree[i].Zxid, t.Zxid)
		}
	}
	s.commitFrom(p.tree[len(s.committed):])
	p.nextCount = 1
	s.updateElectionVote(p)
}

// updateElectionVote is QuorumPeer.updateElectionVote, once the server leads or follows in the new epoch: its
// answers to looking servers carry that epoch.
func (s *ensembleSim) updateElectionVote(p *simPeer) {
	if v, ok := p.el.Decided(); ok {
		v.PeerEpoch = p.current
		p.el.SetCurrentVote(v)
	}
}

func (s *ensembleSim) commitFrom(ts []zab.Txn) {
	for _, t := range ts {
		if t.Zxid <= lastZxid(s.committed) {
			s.fatalf("txn %x committed after %x", t.Zxid, lastZxid(s.committed))
		}
		s.committedPos[t.Zxid] = len(s.committed)
		s.committed = append(s.committed, t)
	}
}

// leaderCommits: every proposal up to zxid is committed. Each of the leader's txns up to zxid (its tree is in zxid
// order) is the committed txn of its zxid, or is committed now, after all committed before.
func (s *ensembleSim) leaderCommits(p *simPeer, zxid int64) {
	for _, t := range p.tree {
		if t.Zxid > zxid {
			break
		}
		i, ok := s.committedPos[t.Zxid]
		if ok && string(s.committed[i].Data) == string(t.Data) {
			continue
		}
		if ok || t.Zxid <= lastZxid(s.committed) {
			s.fatalf("leader %d commits up to %x, but its %x was not committed", p.sid, zxid, t.Zxid)
		}
		s.commitFrom([]zab.Txn{t})
	}
}

// propose preps n txns on a serving leader: applied to its tree, handed to its log, proposed.
func (s *ensembleSim) proposeOn(p *simPeer, n int) {
	var ts []zab.Txn
	for range n {
		zxid := p.ld.Epoch()<<32 | p.nextCount
		p.nextCount++
		hdr := jute.TxnHeader{ClientID: p.sid, Cxid: int32(s.rnd.Uint32()), Zxid: zxid, Time: s.now, Type: jute.OpSetData}
		t := zab.Txn{Zxid: zxid, Data: jute.Marshal(&hdr)}
		ts = append(ts, t)
	}
	s.prepped(p, ts)
}

// prepped: txns prepped on leader p are applied to its tree, handed to its log and proposed.
func (s *ensembleSim) prepped(p *simPeer, ts []zab.Txn) {
	p.tree = append(p.tree, ts...)
	p.unsynced = append(p.unsynced, ts...)
	s.stats["proposed"] += len(ts)
	if !p.syncing {
		p.syncing = true
		s.at(s.now+s.between(1, 10), &simEvent{kind: evLogSync, to: p})
	}
	s.leaderReady(p, p.ld.Propose(ts, s.now))
}

// connect is Learner.connectToLeader: the leader must be up, reachable and leading (a follower serving observers,
// for an observer with observer masters).
func (s *ensembleSim) connect(p *simPeer, leader int64) {
	if p.role != roleFollowing || p.conn != nil {
		return
	}
	l := s.peers[leader-1]
	listening := l.role == roleLeading
	if s.viaOM(p) {
		listening = l.om != nil
	}
	if !listening || !s.reachable(p.sid, leader) {
		p.connTries++
		if p.connTries >= 5 {
			s.logf("%d cannot reach leader %d", p.sid, leader)
			s.look(p)
			return
		}
		s.at(s.now+100, &simEvent{kind: evConnect, to: p, from: leader})
		return
	}
	s.nextConn++
	c := &simConn{id: s.nextConn, learner: p, leader: l, lgen: l.gen, fgen: p.gen}
	p.conn, p.heard = c, s.now
	lc := zab.LearnerConfig{MyID: p.sid, Observer: p.observer, AcceptedEpoch: p.accepted,
		CurrentEpoch: p.current, LastZxid: lastZxid(p.tree)}
	if s.reconfig {
		lc.ConfigVersion = p.active.version
	}
	p.ln = zab.NewLearner(lc)
	s.logf("%d connects to %d (conn %d) from %x", p.sid, leader, c.id, lastZxid(p.tree))
	for _, pkt := range p.ln.Start().Send {
		s.transmit(c, true, pkt, nil)
	}
}

// stopFollowing ends p's time with its leader: the proposals it logged are applied, and it looks again.
func (s *ensembleSim) stopFollowing(p *simPeer, why error) {
	s.logf("%d stops following: %v", p.sid, why)
	if p.conn != nil {
		s.closeConn(p.conn, true)
	}
	if p.ln != nil && p.ln.TreeUnsaved() {
		p.tree, p.snapAt = slices.Clone(p.disk), 0 // the database loaded again
		s.stats["reload"]++
	} else if p.ln != nil {
		last := lastZxid(p.tree)
		for _, t := range slices.Concat(p.unapplied, p.ln.Uncommitted()) {
			if t.Zxid > last {
				p.tree = append(p.tree, t)
			}
		}
	}
	s.look(p)
}

// learnerPacket runs one packet from the leader through p's learner, and its Ready as the follower runtime does.
func (s *ensembleSim) learnerPacket(p *simPeer, pkt zab.Packet, snap []zab.Txn) {
	p.heard = s.now
	r, err := p.ln.Step(pkt)
	if errors.Is(err, zab.ErrNeedSnapshot) {
		p.tree, p.verified, p.snapAt = slices.Clone(snap), 0, pkt.Zxid
		p.ln.SnapshotLoaded(pkt.Zxid)
		return
	}
	if err != nil {
		if strings.Contains(err.Error(), "ommit") || strings.Contains(err.Error(), "UPTODATE") {
			s.fatalf("learner %d: %v", p.sid, err)
		}
		s.stopFollowing(p, err)
		return
	}
	if r.AcceptedEpoch > 0 {
		p.accepted = r.AcceptedEpoch
	}
	if r.CurrentEpoch > 0 && r.Snapshot {
		s.snapshotToDisk(p)
	}
	if r.CurrentEpoch > 0 {
		p.current = r.CurrentEpoch
	}
	if r.Truncate {
		i := slices.IndexFunc(p.disk, func(t zab.Txn) bool { return t.Zxid > r.TruncateTo })
		if i >= 0 {
			p.disk = p.disk[:i]
		}
		p.tree, p.verified, p.snapAt = slices.Clone(p.disk), 0, 0 // the database reloaded
		s.stats["trunc"]++
	}
	for _, t := range r.Log {
		if t.Zxid <= lastZxid(p.disk) {
			s.fatalf("learner %d logs %x after %x", p.sid, t.Zxid, lastZxid(p.disk))
		}
		p.disk = append(p.disk, t)
	}
	if s.learnerConfigBefore(p, r) {
		p.unapplied = r.Apply
		s.stopFollowing(p, errors.New("changes proposed in reconfig"))
		return
	}
	for _, t := range r.Apply {
		if t.Zxid <= lastZxid(p.tree) {
			s.fatalf("learner %d applies %x after %x", p.sid, t.Zxid, lastZxid(p.tree))
		}
		p.tree = append(p.tree, t)
		if p.om != nil {
			s.omReady(p, p.om.Committed(t, nil))
		}
	}
	send := r.Send
	if s.learnerConfigAfter(p, r) {
		for _, out := range send {
			s.transmit(p.conn, true, out, nil)
		}
		if p.serving {
			s.checkServed(p)
		}
		s.stopFollowing(p, errors.New("changes proposed in reconfig"))
		return
	}
	if r.PingReply {
		send = append(send, zab.PingReplyPacket(r.PingZxid, nil))
	}
	for _, out := range send {
		s.transmit(p.conn, true, out, nil)
	}
	if r.Serving {
		p.serving = true
		s.updateElectionVote(p)
		s.logf("%d serves as follower from %s (observer %v)", p.sid, zxids(p.tree), p.observer)
		if s.viaOM(p) {
			s.stats["observer syncs by om"]++
		} else if p.observer {
			s.stats["observer syncs"]++
		}
		if s.useOM && !p.observer {
			// startObserverMaster: the follower's committed txns, its log for older ones.
			p.om = zab.NewObserverMaster(zab.ObserverMasterConfig{CurrentEpoch: p.current,
				LastCommitted: lastZxid(p.tree), CommittedLog: slices.Clone(p.tree[max(0, len(p.tree)-50):]),
				History: diskHistory{p}, ConfigData: []byte("version=0"), TickTime: simTickTime,
				InitLimit: simInitLimit, SyncLimit: simSyncLimit, SizeLimit: 2000, CommittedLogMax: 50}, s.now)
		}
	}
	if p.serving {
		s.checkServed(p)
	}
}

// checkServed: what a serving learner's clients can read is committed, in commit order, with no gap.
func (s *ensembleSim) checkServed(p *simPeer) {
	for i := p.verified; i < len(p.tree); i++ {
		t := p.tree[i]
		pos, ok := s.committedPos[t.Zxid]
		if !ok || string(s.committed[pos].Data) != string(t.Data) {
			s.fatalf("learner %d serves txn %x, which is not committed", p.sid, t.Zxid)
		}
		if pos != i {
			s.fatalf("learner %d serves txn %x at %d, committed at %d", p.sid, t.Zxid, i, pos)
		}
	}
	p.verified = len(p.tree)
}

func (s *ensembleSim) step(e *simEvent) {
	p := e.to
	if p != nil && (p.gen != e.gen || p.role == roleDown && e.kind != evRestart) {
		return
	}
	switch e.kind {
	case evNote:
		s.sendNotes(p, p.el.Receive(e.from, e.note, s.time()))
		s.decided(p)
	case evTick:
		s.tick(p)
		s.at(s.now+simTickTime/2, &simEvent{kind: evTick, to: p})
	case evConnect:
		s.connect(p, e.from)
	case evPacket:
		if e.conn.broken {
			return
		}
		if e.toLdr && s.viaOM(e.conn.learner) {
			if p.om != nil && e.conn.leader == p {
				s.omReady(p, p.om.Step(e.conn.id, e.pkt, s.now))
			}
			return
		}
		if e.toLdr {
			if p.ld == nil || e.conn.leader != p {
				return
			}
			s.leaderReady(p, p.ld.Step(e.conn.id, e.pkt, s.now))
			return
		}
		if p.conn != e.conn {
			return
		}
		s.learnerPacket(p, e.pkt, e.snap)
	case evConnClosed:
		if e.conn.leader == p {
			if om := s.viaOM(e.conn.learner); om && p.om != nil {
				p.om.Closed(e.conn.id)
			} else if !om && p.ld != nil {
				p.ld.Closed(e.conn.id)
			}
			return
		}
		if p.conn == e.conn {
			s.stopFollowing(p, errors.New("connection closed by the leader"))
		}
	case evLogSync:
		p.syncing = false
		if p.ld == nil || len(p.unsynced) == 0 {
			return
		}
		p.disk = append(p.disk, p.unsynced...)
		last := lastZxid(p.unsynced)
		p.unsynced = nil
		s.leaderReady(p, p.ld.Durable(last, s.now))
	case evFault:
		s.fault()
	case evRestart:
		if p.role == roleDown {
			s.logf("restart %d", p.sid)
			s.start(p)
		}
	}
}

func (s *ensembleSim) tick(p *simPeer) {
	switch p.role {
	case roleLooking:
		s.sendNotes(p, p.el.Tick(s.time()))
		s.decided(p)
	case roleLeading:
		if p.ld == nil {
			return
		}
		s.leaderReady(p, p.ld.Tick(s.now))
		if p.ld != nil && p.ld.Serving() && s.propose && s.rnd.IntN(3) == 0 {
			s.proposeOn(p, 1+s.rnd.IntN(3))
		}
		if p.ld != nil && p.ld.Serving() && s.propose && s.reconfig && s.rnd.IntN(15) == 0 {
			s.proposeReconfig(p)
		}
	case roleFollowing:
		if p.om != nil {
			s.omReady(p, p.om.Tick(s.now))
		}
		if p.conn == nil {
			return
		}
		limit := int64(simInitLimit * simTickTime)
		if p.serving {
			limit = simSyncLimit * simTickTime
		}
		if s.now-p.heard > limit {
			s.stopFollowing(p, fmt.Errorf("read timed out after %d ms", s.now-p.heard))
		}
	}
}

// fault injects one fault: a crash, a restart, a partition or a heal.
func (s *ensembleSim) fault() {
	if !s.chaos {
		return
	}
	s.at(s.now+s.between(100, 1500), &simEvent{kind: evFault})
	p := s.peers[s.rnd.IntN(len(s.peers))]
	switch s.rnd.IntN(6) {
	case 0, 1:
		if p.role != roleDown {
			s.crash(p)
			s.at(s.now+s.between(50, 3000), &simEvent{kind: evRestart, to: p})
		}
	case 2:
		// Isolate one server.
		s.logf("isolate %d", p.sid)
		s.stats["partition"]++
		for _, q := range s.peers {
			if q != p {
				s.cutLink(p.sid, q.sid)
			}
		}
	case 3:
		// Split the ensemble in two at random.
		s.logf("split")
		s.stats["partition"]++
		side := map[int64]bool{}
		for _, q := range s.peers {
			side[q.sid] = s.rnd.IntN(2) == 0
		}
		for _, a := range s.peers {
			for _, b := range s.peers {
				if a.sid < b.sid && side[a.sid] != side[b.sid] {
					s.cutLink(a.sid, b.sid)
				}
			}
		}
	default:
		s.heal()
	}
}

// cutLink cuts a and b apart: a connection between them breaks silently (each end finds out by its timeouts).
func (s *ensembleSim) cutLink(a, b int64) {
	s.cut[[2]int64{min(a, b), max(a, b)}] = true
	for _, q := range s.peers {
		if c := q.conn; c != nil && !c.broken &&
			(c.learner.sid == a && c.leader.sid == b || c.learner.sid == b && c.leader.sid == a) {
			c.broken = true
		}
	}
}

func (s *ensembleSim) heal() {
	if len(s.cut) > 0 {
		s.logf("heal")
	}
	links := slices.SortedFunc(maps.Keys(s.cut), func(a, b [2]int64) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	clear(s.cut)
	for _, k := range links {
		s.resendNotes(k[0], k[1])
	}
}

// run processes events until the virtual time passes d.
func (s *ensembleSim) run(d int64) {
	end := s.now + d
	for len(s.queue) > 0 && s.queue[0].at <= end {
		e := heap.Pop(&s.queue).(*simEvent)
		s.now = e.at
		s.step(e)
		if s.t.Failed() {
			return
		}
	}
	s.now = end
}

// settle ends the faults, restarts every server and heals the network, then checks that one leader serves
// and every server holds the same txns once proposals stop.
func (s *ensembleSim) settle() {
	s.chaos = false
	s.heal()
	for _, p := range s.peers {
		if p.role == roleDown {
			s.logf("restart %d", p.sid)
			s.start(p)
		}
	}
	s.run(20_000)
	s.propose = false
	s.run(5_000)
	var leader *simPeer
	for _, p := range s.peers {
		switch {
		case p.role == roleLeading && p.ld != nil && p.ld.Serving():
			if leader != nil {
				s.fatalf("two serving leaders after the network healed: %d and %d", leader.sid, p.sid)
			}
			leader = p
		case p.role == roleFollowing && p.serving:
		default:
			s.fatalf("peer %d is %v (serving %v) 25 s after the faults ended", p.sid, p.role, p.serving)
		}
	}
	if leader == nil {
		s.fatalf("no leader 25 s after the faults ended")
	}
	s.checkSettledConfig(leader)
	for _, p := range s.peers {
		if len(p.tree) != len(s.committed) || lastZxid(p.tree) != lastZxid(s.committed) {
			s.fatalf("peer %d holds %s, committed %s", p.sid, zxids(p.tree), zxids(s.committed))
		}
	}
}

// simSeeds is the seeds to run: ZAB_SIM_SEEDS as "N" (1..N) or "A-B", default 1..def.
func simSeeds(t *testing.T, def uint64) (from, to uint64) {
	v := os.Getenv("ZAB_SIM_SEEDS")
	if v == "" {
		return 1, def
	}
	a, b, isRange := strings.Cut(v, "-")
	if !isRange {
		a, b = "1", a
	}
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("ZAB_SIM_SEEDS=%q: want N or A-B", v)
	}
	return x, y
}

// TestEnsembleSimulation runs ensembles of three or five voters and up to two observers through a minute of
// crashes, restarts and partitions each, then heals them (ZAB_SIM_SEEDS widens the seeds).
func TestEnsembleSimulation(t *testing.T) {
	from, to := simSeeds(t, 200)
	runSimSeeds(t, from, to, func(seed uint64) *ensembleSim {
		// Three or five voters, with none, one or two observers.
		n, observers := 3+2*int(seed%2), int(seed/2%3)
		return newEnsembleSim(t, seed, n, observers, seed/6%2 == 1, false)
	})
}

// runSimSeeds runs the simulation newSim makes for each seed, a minute of faults and then healed, and logs the
// totals of what happened.
func runSimSeeds(t *testing.T, from, to uint64, newSim func(seed uint64) *ensembleSim) {
	t.Helper()
	total := map[string]int{}
	for seed := from; seed <= to; seed++ {
		s := newSim(seed)
		s.run(60_000)
		if t.Failed() {
			return
		}
		s.settle()
		if t.Failed() {
			return
		}
		for k, v := range s.stats {
			total[k] += v
		}
		total["committed"] += len(s.committed)
	}
	t.Logf("seeds %d-%d: %v", from, to, total)
}

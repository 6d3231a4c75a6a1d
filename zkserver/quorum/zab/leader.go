package zab

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
)

// ConnID names one learner connection of a Leader (a server may have two for a moment when it reconnects).
type ConnID uint64

// Quorum says who votes and which sets of voters are a quorum (election.Verifier satisfies it).
type Quorum interface {
	// Voters lists the voting members (their count sizes Apache's acknowledgement sets).
	Voters() []int64
	IsVoter(sid int64) bool
	ContainsQuorum(set map[int64]bool) bool
}

// History reads the leader's committed txns older than its in-memory committed log, from its txn log.
type History interface {
	// After returns the txns with after < zxid <= upTo, in order. ok is false when the log does not hold after
	// itself (unless after is an epoch's first zxid, which names no txn) or does not reach upTo, or the txns are
	// too many to send: the peer then gets a snapshot.
	After(after, upTo int64) (txns []Txn, ok bool)
}

// LeaderConfig is what a server elected leader knows when it starts leading.
type LeaderConfig struct {
	MyID          int64
	Quorum        Quorum
	AcceptedEpoch int64
	CurrentEpoch  int64
	// LastZxid is the last zxid of the leader's database: all of its history, which the new epoch commits.
	LastZxid int64
	// CommittedLog holds the most recent txns of that history, ascending, ending at LastZxid (may be empty);
	// History reads older ones.
	CommittedLog []Txn
	History      History
	TickTime     int // ms
	InitLimit    int // ticks to gather the quorum at each step of discovery and synchronisation
	SyncLimit    int // ticks a follower may take to acknowledge
	// ConfigData is NEWLEADER's data: the quorum config as QuorumVerifier.toString prints it.
	ConfigData []byte
	// ConfigVersion is our config's version; a learner with a later one is refused.
	ConfigVersion int64
	// LastSeen, with reconfiguration, is a config newer than the active one that a reconfig proposed and did not
	// commit: NEWLEADER carries it, and once a quorum of it and of the active config acknowledged NEWLEADER we
	// activate it (Leader.lead completing a reconfig).
	LastSeen *NewConfig
	// VersionInitialConfig, with reconfiguration, gives an initial config (version 0, none newer seen) the new
	// epoch's first zxid as version, proposed with NEWLEADER and activated as LastSeen (ZOOKEEPER-1783).
	VersionInitialConfig bool
	// CommittedLogMax bounds the in-memory committed log (Apache's commitLogCount, 500).
	CommittedLogMax int
	// AckLoggingFrequency: the acknowledgements of txns whose zxid is a multiple of it are timed (ack_latency,
	// zookeeper.leader.ackLoggingFrequency); none when <= 0.
	AckLoggingFrequency int64
	// QuitWaitingForEpochAfter (ms; 0: never) ends the leadership while it waits for a quorum for the new epoch,
	// when it has waited at least this long and a voter of the configs it was elected under goes LOOKING
	// (VoterLooking). zookeeper.leader.maxTimeToWaitForEpoch plus one: Apache's is a strict bound.
	QuitWaitingForEpochAfter int64
}

// NewConfig is the config a reconfig txn proposes (the runtime reads it from the txn).
type NewConfig struct {
	Quorum  Quorum
	Version int64 // the reconfig's zxid
	// Data is the config as QuorumVerifier.toString prints it: NEWLEADER carries the last config proposed.
	Data []byte
	// KeepsLeader: we vote in it with the quorum address we lead on, so we stay leader (getDesignatedLeader).
	KeepsLeader bool
}

// Activation is a reconfig the leader committed: the config is active from now on, and Designated leads in it.
type Activation struct {
	Zxid       int64
	Config     *NewConfig
	Designated int64
}

// Outgoing is a packet for one learner connection. A SNAP packet is followed on the stream by the snapshot the
// runtime captured for that connection (see LeaderReady.SnapshotFor).
type Outgoing struct {
	Conn   ConnID
	Packet Packet
}

// LearnerRequest is a client request a learner forwarded (REQUEST): the pipeline preps it like a local one.
type LearnerRequest struct {
	Conn    ConnID
	Server  int64 // the learner's sid: the session's owner
	Session int64
	Cxid    int32
	Op      int32
	Body    []byte
	Auth    []jute.Id
}

// RevalidateRequest asks whether a session a client reconnected with at a learner is valid (REVALIDATE).
type RevalidateRequest struct {
	Conn    ConnID
	Server  int64
	Session int64
	Timeout int32
	Zxid    int64 // echoed in the answer
}

// Touch is a session a learner's client used since its last PING answer.
type Touch struct {
	Session int64
	Timeout int32
}

// LeaderReady is what a leader step asks of its runtime, in this order: persist the epochs, capture snapshots for
// SnapshotFor, start serving (Start), release what is committed (Committed), hand over Requests, Revalidate and
// Touches, send Send, close Close. Shutdown, when set, ends the leadership.
type LeaderReady struct {
	AcceptedEpoch int64 // when > 0: persist as acceptedEpoch
	CurrentEpoch  int64 // when > 0: persist as currentEpoch
	// SnapshotFor are connections that are synced by a snapshot: the runtime captures the database, keeps it for
	// the connection's SNAP packet, and calls SnapshotTaken with its zxid.
	SnapshotFor []ConnID
	// Start: a quorum acknowledged NEWLEADER; the leader serves clients from now on.
	Start bool
	// Committed, when > 0: every proposal up to this zxid is committed.
	Committed  int64
	Requests   []LearnerRequest
	Revalidate []RevalidateRequest
	Touches    []Touch
	Send       []Outgoing
	Close      []ConnID
	// Dropped says why each connection in Close ends (for the log).
	Dropped []error
	// LastSeen is a config proposed at the new epoch (ZOOKEEPER-1783's): the runtime records it as the last seen.
	LastSeen *NewConfig
	// Activated are the reconfigs committed, in order, each right after its Committed: the runtime makes the
	// config the active one (before Send: COMMITANDACTIVATE goes out after).
	Activated []Activation
	Shutdown  error
	// Metrics is what the step adds to ServerMetrics' leader counters.
	Metrics LeaderMetrics
}

// LeaderMetrics count, for ServerMetrics, the txns proposed (proposal_count), the commits sent (commit_count:
// Leader.commit's, which a reconfig's COMMITANDACTIVATE is not), the learners synced by a snapshot (snap_count)
// or by DIFF or TRUNC (diff_count), and the learners' REVALIDATE packets (revalidate_count).
type LeaderMetrics struct {
	Proposals, Commits, SnapSyncs, DiffSyncs, Revalidations int
	// QuitLeading: the leadership ended on a voter gone LOOKING (quit_leading_due_to_disloyal_voter).
	QuitLeading int
	// QuorumAckLatency are the times (ms) from the txns' header times to their commit (quorum_ack_latency), for
	// every commit but a reconfig's; AckLatency the times to the acknowledgements the leader timed (ack_latency).
	QuorumAckLatency []int64
	AckLatency       []SidLatency
	// InflightDiff and InflightSnap are the numbers of syncs by DIFF or TRUNC, and by snapshot, in progress as
	// one began or was acknowledged (inflight_diff_count, inflight_snap_count).
	InflightDiff, InflightSnap []int64
}

// syncKind says which of Apache's two LearnerSyncThrottlers a learner's sync counts in.
type syncKind uint8

const (
	syncNone syncKind = iota
	syncDiff          // DIFF or TRUNC
	syncSnap
)

// syncTrack is the sync a learner connection has in progress, from its start to the ACK of NEWLEADER: a leader's
// and an observer master's connections keep one.
type syncTrack struct{ syncing syncKind }

func (s *syncTrack) track() *syncTrack { return s }

// setSync begins (kind) or ends (syncNone) c's sync among conns, and records the syncs of its kind then in progress
// in m, as LearnerHandler does when a sync begins and when its NEWLEADER is acknowledged.
func setSync[C interface{ track() *syncTrack }](conns map[ConnID]C, c C, kind syncKind, m *LeaderMetrics) {
	counted := kind
	if kind == syncNone {
		counted = c.track().syncing
	}
	c.track().syncing = kind
	n := 0
	for _, o := range conns {
		if o.track().syncing == counted {
			n++
		}
	}
	switch counted {
	case syncDiff:
		m.InflightDiff = append(m.InflightDiff, int64(n))
	case syncSnap:
		m.InflightSnap = append(m.InflightSnap, int64(n))
	}
}

// SidLatency is a time (ms) taken for the member sid.
type SidLatency struct {
	Sid int64
	Ms  int64
}

// AddTo adds the counts to the server's metrics.
func (m LeaderMetrics) AddTo(q *metrics.Quorum) {
	for _, d := range m.QuorumAckLatency {
		q.QuorumAckLatency.Add(d)
	}
	for _, a := range m.AckLatency {
		q.AckLatency.Add(strconv.FormatInt(a.Sid, 10), a.Ms)
	}
	q.ProposalCount.Add(int64(m.Proposals))
	q.CommitCount.Add(int64(m.Commits))
	q.SnapCount.Add(int64(m.SnapSyncs))
	q.DiffCount.Add(int64(m.DiffSyncs))
	q.RevalidateCount.Add(int64(m.Revalidations))
	q.QuitLeadingDisloyal.Add(int64(m.QuitLeading))
	for _, n := range m.InflightDiff {
		q.InflightDiff.Add(n)
	}
	for _, n := range m.InflightSnap {
		q.InflightSnap.Add(n)
	}
}

func (r *LeaderReady) send(c ConnID, p Packet) { r.Send = append(r.Send, Outgoing{Conn: c, Packet: p}) }

type leaderPhase int

const (
	leaderDiscovery leaderPhase = iota // gathering FOLLOWERINFOs for the new epoch
	leaderEpochAck                     // LEADERINFO sent, gathering ACKEPOCHs
	leaderSync                         // learners synced, gathering NEWLEADER acks
	leaderBroadcast                    // serving
	leaderDone                         // shut down
)

type connState int

const (
	connNew       connState = iota // nothing received
	connInfo                       // FOLLOWERINFO received, waiting for the epoch
	connAckEpoch                   // LEADERINFO sent, waiting for ACKEPOCH
	connEpochWait                  // ACKEPOCH received, waiting for a quorum of them
	connSnapWait                   // waiting for the runtime's snapshot
	connNewLeader                  // NEWLEADER queued, waiting for its ACK
	connStartWait                  // NEWLEADER acknowledged, waiting for the leader to serve
	connUpToDate                   // UPTODATE sent: broadcast
)

type learnerConn struct {
	id       ConnID
	state    connState
	sid      int64
	observer bool
	peerLast int64 // the zxid in ACKEPOCH
	// syncedTo is what the learner holds once it acknowledges NEWLEADER (the end of its sync); skipTo is the zxid
	// of its snapshot: proposals and commits up to it are not sent to it.
	syncedTo   int64
	skipTo     int64
	forwarding bool
	acked      int64 // highest proposal acknowledged (a learner logs and acknowledges in order)
	// ackDeadline is the tick by which the learner must be heard from to count as synced.
	ackDeadline int64
	// unacked are proposals sent and not yet acknowledged, oldest first, with when they were sent (SyncLimitCheck).
	unacked []sentProposal
	// heldCommits are the COMMITs of a follower that has NEWLEADER and not yet UPTODATE, sent right after
	// UPTODATE: Apache's 3.8 followers clear their uncommitted proposals when they log them at NEWLEADER, and a
	// COMMIT arriving before the next PROPOSAL there fails their sync with a NullPointerException
	// (ZOOKEEPER-4394); after UPTODATE they commit it like any other.
	heldCommits []Packet
	syncTrack   // the sync in progress (inflight_diff_count, inflight_snap_count)
}

type sentProposal struct {
	zxid int64
	at   int64 // ms
}

// Leader is the leader's side of ZAB (Leader.lead and LearnerHandler): discovery of the new epoch with a quorum,
// synchronisation of each learner by DIFF, TRUNC or SNAP, then broadcast: proposals, acknowledgements, commits,
// pings and the sync limit. It takes packets, proposals and time, and returns what to do (LeaderReady).
type Leader struct {
	cfg   LeaderConfig
	phase leaderPhase
	now   int64 // ms, the latest time given
	// started is when we began leading, and waiting for a quorum for the new epoch (timeStartWaitForEpoch).
	started int64
	// deadline ends the current phase of discovery or synchronisation (initLimit ticks).
	deadline int64

	epoch      int64 // proposed; fixed once leaderDiscovery ends
	newZxid    int64 // epoch << 32: NEWLEADER's zxid and the first of the epoch
	connecting map[int64]bool
	electing   map[int64]bool
	newLeader  map[int64]bool
	// newLeaderOrder is newLeader in the order the acknowledgements came (Apache's ackset order).
	newLeaderOrder []int64

	conns map[ConnID]*learnerConn

	tick     int64
	tickSkip bool

	lastProposed  int64
	lastCommitted int64
	selfAcked     int64
	outstanding   []proposal
	committedLog  []Txn
	pendingSyncs  map[int64][]ConnID

	// quorum is the active config's; pending the reconfig proposed and not committed (the last seen config).
	quorum        Quorum
	configVersion int64
	configData    []byte
	pending       *NewConfig
	// stopCommitting: a committed reconfig designated another leader (Apache's allowedToCommit=false).
	stopCommitting bool
}

// proposal is an outstanding txn and the configs whose quorums must acknowledge it: the active one, and the one
// pending while a reconfig is in flight (Proposal.qvAcksetPairs).
type proposal struct {
	Txn
	quorums []Quorum
	// acks: who acknowledged it, in the order Step saw it (kept for a reconfig and the proposals made while it
	// is pending: their acknowledgement sets' order designates the next leader).
	acks []int64
}

// tracksAcks is whether p's acknowledgement order can matter to getDesignatedLeader.
func (p proposal) tracksAcks() bool { return p.reconfig() != nil || len(p.quorums) > 1 }

// reconfig is the config p proposes, when p is a reconfig.
func (p proposal) reconfig() *NewConfig { return p.Txn.Reconfig }

// Lead starts leading: the leader itself is the first of the quorum gathered for the new epoch.
func Lead(cfg LeaderConfig, nowMs int64) *Leader {
	if cfg.CommittedLogMax <= 0 {
		cfg.CommittedLogMax = 500
	}
	l := &Leader{cfg: cfg, now: nowMs, started: nowMs, epoch: -1, connecting: map[int64]bool{}, electing: map[int64]bool{},
		newLeader: map[int64]bool{}, conns: map[ConnID]*learnerConn{}, tickSkip: true,
		pendingSyncs: map[int64][]ConnID{}, lastCommitted: cfg.LastZxid, lastProposed: cfg.LastZxid,
		selfAcked: cfg.LastZxid, committedLog: slices.Clone(cfg.CommittedLog), quorum: cfg.Quorum,
		configVersion: cfg.ConfigVersion, configData: cfg.ConfigData, pending: cfg.LastSeen}
	l.deadline = nowMs + l.initTimeout()
	l.proposeEpoch(cfg.MyID, cfg.AcceptedEpoch)
	return l
}

// Start returns what the leader asks for at once: with a quorum of one (a single voter), the new epoch.
func (l *Leader) Start() LeaderReady {
	var r LeaderReady
	l.advance(&r)
	return r
}

func (l *Leader) initTimeout() int64 { return int64(l.cfg.InitLimit) * int64(l.cfg.TickTime) }
func (l *Leader) syncTimeout() int64 { return int64(l.cfg.SyncLimit) * int64(l.cfg.TickTime) }

// Epoch is the new epoch, once discovery has fixed it (-1 before).
func (l *Leader) Epoch() int64 {
	if l.phase == leaderDiscovery {
		return -1
	}
	return l.epoch
}

// Serving reports whether the leader broadcasts (a quorum acknowledged NEWLEADER).
func (l *Leader) Serving() bool { return l.phase == leaderBroadcast }

// LeaderCounts are the leader's gauges: its learner connections, the followers (voting or not) and observers
// it forwards to, and the syncs waiting for a commit.
type LeaderCounts struct {
	Learners, SyncedFollowers, SyncedNonVoting, SyncedObservers, PendingSyncs int
}

// Counts reports the leader's gauges (LeaderZooKeeperServer's).
func (l *Leader) Counts() LeaderCounts {
	n := LeaderCounts{Learners: len(l.conns)}
	for _, c := range l.conns {
		switch {
		case !c.forwarding:
		case c.observer:
			n.SyncedObservers++
		case l.quorum.IsVoter(c.sid):
			n.SyncedFollowers++
		default:
			n.SyncedNonVoting++
		}
	}
	for _, ids := range l.pendingSyncs {
		n.PendingSyncs += len(ids)
	}
	return n
}

// Observers are the synced observers (observingLearners) by connection, with their server ids; nil when none.
func (l *Leader) Observers() map[ConnID]int64 {
	var m map[ConnID]int64
	for id, c := range l.conns {
		if c.forwarding && c.observer {
			if m == nil {
				m = map[ConnID]int64{}
			}
			m[id] = c.sid
		}
	}
	return m
}

// SyncedFollowers are the followers (voting or not) synced with us and heard from within the sync limit
// (forwardingFollowers' synced()), for Leader.isQuorumSynced.
func (l *Leader) SyncedFollowers() []int64 {
	var ids []int64
	for _, c := range l.sortedConns() {
		if c.forwarding && !c.observer && c.state >= connStartWait && l.tick <= c.ackDeadline {
			ids = append(ids, c.sid)
		}
	}
	return ids
}

// proposeEpoch is getEpochToPropose: sid's accepted epoch raises the candidate; a voter joins the quorum gathered.
func (l *Leader) proposeEpoch(sid, accepted int64) {
	if l.phase != leaderDiscovery {
		return
	}
	if accepted >= l.epoch {
		l.epoch = accepted + 1
	}
	if l.cfg.Quorum.IsVoter(sid) {
		l.connecting[sid] = true
	}
}

// VoterLooking is Leader.reportLookingSid: the election heard a voter of the configs we were elected under (sid)
// ask for a leader. While we still wait for a quorum for the new epoch, and have waited longer than allowed, we
// give up leading, as if the init limit had passed: the voter that went looking will not join us.
func (l *Leader) VoterLooking(sid, nowMs int64) LeaderReady {
	l.now = max(l.now, nowMs)
	var r LeaderReady
	if l.cfg.QuitWaitingForEpochAfter <= 0 || l.phase != leaderDiscovery || l.now-l.started < l.cfg.QuitWaitingForEpochAfter {
		return r
	}
	r.Shutdown = fmt.Errorf("quit leading: voter %d is looking for a leader after %d ms waiting for the epoch "+
		"from a quorum (have %s)", sid, l.now-l.started, sidList(l.connecting))
	r.Metrics.QuitLeading = 1
	l.phase = leaderDone
	return r
}

// advance moves discovery and synchronisation on when their quorums are complete.
func (l *Leader) advance(r *LeaderReady) {
	if l.phase == leaderDiscovery && l.connecting[l.cfg.MyID] && l.cfg.Quorum.ContainsQuorum(l.connecting) {
		l.phase = leaderEpochAck
		l.newZxid = l.epoch << 32
		l.lastProposed = max(l.lastProposed, l.newZxid)
		r.AcceptedEpoch = l.epoch
		if l.cfg.VersionInitialConfig && l.configVersion == 0 && l.pending == nil {
			// Before any NEWLEADER is built: the initial config, established now, outranks unestablished ones.
			l.pending = &NewConfig{Quorum: l.quorum, Version: l.newZxid, Data: withVersion(l.configData, l.newZxid),
				KeepsLeader: true}
			r.LastSeen = l.pending
		}
		l.deadline = l.now + l.initTimeout()
		// The leader's own ACKEPOCH: its state summary is the one learners are compared with.
		if l.cfg.CurrentEpoch != -1 {
			l.electing[l.cfg.MyID] = true
		}
		for _, c := range l.sortedConns() {
			if c.state == connInfo {
				l.sendLeaderInfo(c, r)
			}
		}
	}
	if l.phase == leaderEpochAck && l.electing[l.cfg.MyID] && l.cfg.Quorum.ContainsQuorum(l.electing) {
		l.phase = leaderSync
		r.CurrentEpoch = l.epoch
		l.deadline = l.now + l.initTimeout()
		l.addNewLeaderAck(l.cfg.MyID) // waitForNewLeaderAck(self)
		for _, c := range l.sortedConns() {
			if c.state == connEpochWait {
				l.syncLearner(c, r)
			}
		}
	}
	if l.phase == leaderSync && l.quorum.ContainsQuorum(l.newLeader) &&
		(l.pending == nil || l.pending.Quorum.ContainsQuorum(l.newLeader)) {
		l.phase = leaderBroadcast
		r.Start = true
		// startZkServer: the last processed zxid is now the epoch's first, so a learner that joins later with an
		// older zxid the in-memory log does not hold gets a snapshot, not an empty DIFF.
		l.lastCommitted = l.newZxid
		if l.pending != nil {
			l.activate(l.pending, l.newLeaderDesignated(), r)
		}
		for _, c := range l.sortedConns() {
			l.upToDateIfCommitted(c, r)
		}
	}
}

func (l *Leader) sortedConns() []*learnerConn {
	cs := make([]*learnerConn, 0, len(l.conns))
	for _, c := range l.conns {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].id < cs[j].id })
	return cs
}

func (l *Leader) sendLeaderInfo(c *learnerConn, r *LeaderReady) {
	c.state = connAckEpoch
	r.send(c.id, Packet{Type: LeaderInfo, Zxid: l.newZxid, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)})
}

// Step handles one packet from a learner connection (a new ConnID starts a learner).
func (l *Leader) Step(id ConnID, p Packet, nowMs int64) LeaderReady {
	l.now = max(l.now, nowMs)
	var r LeaderReady
	if l.phase == leaderDone {
		return r
	}
	c := l.conns[id]
	if c == nil {
		c = &learnerConn{id: id, ackDeadline: l.tick + int64(l.cfg.InitLimit+l.cfg.SyncLimit)}
		l.conns[id] = c
	}
	if err := l.step(c, p, &r); err != nil {
		l.drop(c, err, &r)
	}
	l.advance(&r)
	return r
}

// errDrop ends one learner's connection (LearnerHandler's exit), not the leadership.
type errDrop struct{ why string }

func (e errDrop) Error() string { return e.why }

func (l *Leader) step(c *learnerConn, p Packet, r *LeaderReady) error {
	switch c.state {
	case connNew:
		return l.takeLearnerInfo(c, p, r)
	case connInfo, connEpochWait, connSnapWait:
		return errDrop{fmt.Sprintf("%s before the leader answered", p)}
	case connAckEpoch:
		return l.ackEpoch(c, p, r)
	case connNewLeader:
		if p.Type != Ack {
			return errDrop{fmt.Sprintf("expected the ACK of NEWLEADER, got %s", p)}
		}
		return l.newLeaderAck(c, p, r)
	}
	c.ackDeadline = l.tick + int64(l.cfg.SyncLimit)
	if p.Type == Ack {
		l.ack(c, p.Zxid, r)
		return nil
	}
	return learnerPacket(c.id, c.sid, p, r)
}

// learnerPacket takes a synced learner's PING answer, REVALIDATE or REQUEST (LearnerHandler.run's loop), for a
// leader or an observer master alike; anything else is ignored, as LearnerHandler logs and ignores it.
func learnerPacket(id ConnID, sid int64, p Packet, r *LeaderReady) error {
	switch p.Type {
	case Ping:
		d := p.Data
		for len(d) >= 12 {
			r.Touches = append(r.Touches, Touch{Session: int64(binary.BigEndian.Uint64(d)), Timeout: int32(binary.BigEndian.Uint32(d[8:]))})
			d = d[12:]
		}
	case Revalidate:
		r.Metrics.Revalidations++ // LearnerHandler counts it before reading it
		if len(p.Data) < 12 {
			return errDrop{fmt.Sprintf("%s: want a session id and a timeout", p)}
		}
		r.Revalidate = append(r.Revalidate, RevalidateRequest{Conn: id, Server: sid, Session: int64(binary.BigEndian.Uint64(p.Data)),
			Timeout: int32(binary.BigEndian.Uint32(p.Data[8:])), Zxid: p.Zxid})
	case Request:
		if len(p.Data) < 16 {
			return errDrop{fmt.Sprintf("%s: want a session, cxid and type", p)}
		}
		r.Requests = append(r.Requests, LearnerRequest{Conn: id, Server: sid, Session: int64(binary.BigEndian.Uint64(p.Data)),
			Cxid: int32(binary.BigEndian.Uint32(p.Data[8:])), Op: int32(binary.BigEndian.Uint32(p.Data[12:])), Body: p.Data[16:],
			Auth: p.AuthInfo})
	}
	return nil
}

// learnerInfo reads the sid in a FOLLOWERINFO or OBSERVERINFO, and refuses a learner of ZAB before 1.0 (before
// ZooKeeper 3.4) or with a config later than ours (configVersion).
func learnerInfo(p Packet, configVersion int64) (int64, error) {
	d := p.Data
	if len(d) < 12 || binary.BigEndian.Uint32(d[8:]) < ProtocolVersion {
		return 0, errDrop{fmt.Sprintf("%s: no ZAB 1.0 learner info", p)}
	}
	sid := int64(binary.BigEndian.Uint64(d))
	if len(d) >= 20 && int64(binary.BigEndian.Uint64(d[12:])) > configVersion {
		return sid, errDrop{fmt.Sprintf("learner %d is ahead of the leader (has a later activated configuration)", sid)}
	}
	return sid, nil
}

// takeLearnerInfo takes FOLLOWERINFO or OBSERVERINFO, the first packet of a learner.
func (l *Leader) takeLearnerInfo(c *learnerConn, p Packet, r *LeaderReady) error {
	if p.Type != FollowerInfo && p.Type != ObserverInfo {
		return errDrop{fmt.Sprintf("first packet %s is not FOLLOWERINFO or OBSERVERINFO", p)}
	}
	c.observer = p.Type == ObserverInfo
	sid, err := learnerInfo(p, l.configVersion)
	if err != nil {
		return err
	}
	c.sid = sid
	c.state = connInfo
	if l.phase == leaderDiscovery {
		if !c.observer {
			l.proposeEpoch(c.sid, p.Zxid>>32) // the epoch the learner accepted
		}
		return nil // LEADERINFO goes out once the epoch is fixed
	}
	l.sendLeaderInfo(c, r)
	return nil
}

// ackEpoch takes ACKEPOCH: the learner's current epoch and last zxid (waitForEpochAck).
func (l *Leader) ackEpoch(c *learnerConn, p Packet, r *LeaderReady) error {
	if p.Type != AckEpoch || len(p.Data) < 4 {
		return errDrop{fmt.Sprintf("%s is not ACKEPOCH", p)}
	}
	current := int64(int32(binary.BigEndian.Uint32(p.Data)))
	c.peerLast = p.Zxid
	if l.phase == leaderEpochAck {
		if current != -1 {
			if current > l.cfg.CurrentEpoch || current == l.cfg.CurrentEpoch && p.Zxid > l.cfg.LastZxid {
				// Apache's LearnerHandler ends on this; the election chose us, so the others will follow.
				return errDrop{fmt.Sprintf("learner %d is ahead of the leader (epoch %d, zxid %#x; ours %d, %#x)",
					c.sid, current, p.Zxid, l.cfg.CurrentEpoch, l.cfg.LastZxid)}
			}
			if p.Zxid != -1 && !c.observer && l.cfg.Quorum.IsVoter(c.sid) {
				l.electing[c.sid] = true
			}
		}
		c.state = connEpochWait
		return nil
	}
	l.syncLearner(c, r)
	return nil
}

// syncLearner is LearnerHandler.syncFollower: DIFF, TRUNC or SNAP, the committed txns the learner lacks as
// PROPOSAL and COMMIT pairs, the outstanding proposals (startForwarding), then NEWLEADER.
func (l *Leader) syncLearner(c *learnerConn, r *LeaderReady) {
	pkts, current, ok := syncPackets(l.committedLog, l.lastCommitted, l.cfg.History, c.peerLast)
	if !ok {
		c.state = connSnapWait
		r.SnapshotFor = append(r.SnapshotFor, c.id)
		setSync(l.conns, c, syncSnap, &r.Metrics)
		return
	}
	setSync(l.conns, c, syncDiff, &r.Metrics)
	r.Metrics.DiffSyncs++
	for _, p := range pkts {
		r.send(c.id, p)
	}
	c.syncedTo = current
	l.startForwarding(c, current, r)
}

// syncPackets is LearnerHandler.syncFollower's choice for a peer whose last zxid is peer, against a committed
// history ending at lastCommitted (log holds its latest txns, history the older ones): DIFF or TRUNC and the
// committed txns the peer lacks as PROPOSAL and COMMIT pairs, and the zxid the peer then holds. ok is false when
// the peer must get a snapshot.
func syncPackets(log []Txn, lastCommitted int64, history History, peer int64) (pkts []Packet, current int64, ok bool) {
	newEpochZxid := peer&0xffffffff == 0
	minC, maxC := lastCommitted, lastCommitted
	if len(log) > 0 {
		minC, maxC = log[0].Zxid, log[len(log)-1].Zxid
	}
	switch {
	case peer == lastCommitted:
		return []Packet{{Type: Diff, Zxid: peer}}, peer, true
	case peer > maxC && !newEpochZxid:
		return []Packet{{Type: Trunc, Zxid: maxC}}, maxC, true
	case peer >= minC && peer <= maxC:
		return queueCommitted(log, peer, maxC)
	case peer < minC && history != nil:
		older, found := history.After(peer, minC)
		if !found || len(older) == 0 || older[len(older)-1].Zxid != minC {
			return nil, peer, false
		}
		// The txns after the peer's, which the log holds: DIFF, then those and the in-memory log's after them.
		pkts = append(pkts, Packet{Type: Diff, Zxid: maxC})
		current = peer
		if len(log) > 0 {
			older = append(older, log[1:]...) // log[0] is minC, older's last
		}
		for _, t := range older {
			pkts = append(pkts, Packet{Type: Proposal, Zxid: t.Zxid, Data: t.Data}, Packet{Type: Commit, Zxid: t.Zxid})
			current = t.Zxid
		}
		return pkts, current, true
	}
	return nil, peer, false
}

// queueCommitted is queueCommittedProposals over the in-memory committed log: DIFF when the peer's last zxid is
// ours or starts an epoch, TRUNC back to our txn before it when the peer has one we lack in the same epoch; then
// the txns after it. ok is false when the peer must get a snapshot instead (its txn is from an epoch we lack).
func queueCommitted(log []Txn, peer, lastCommitted int64) (pkts []Packet, queued int64, ok bool) {
	newEpochZxid := peer&0xffffffff == 0
	queued = peer
	prev := int64(-1)
	needOp := true
	for _, t := range log {
		if t.Zxid < peer {
			prev = t.Zxid
			continue
		}
		if needOp {
			if t.Zxid == peer {
				pkts = append(pkts, Packet{Type: Diff, Zxid: lastCommitted})
				needOp = false
				continue
			}
			if newEpochZxid {
				pkts = append(pkts, Packet{Type: Diff, Zxid: lastCommitted})
				needOp = false
			} else if t.Zxid > peer {
				if t.Zxid>>32 != peer>>32 {
					return nil, queued, false
				}
				pkts = append(pkts, Packet{Type: Trunc, Zxid: prev})
				queued = prev
				needOp = false
			}
		}
		if t.Zxid <= queued {
			continue
		}
		pkts = append(pkts, Packet{Type: Proposal, Zxid: t.Zxid, Data: t.Data}, Packet{Type: Commit, Zxid: t.Zxid})
		queued = t.Zxid
	}
	if needOp && newEpochZxid {
		pkts = append(pkts, Packet{Type: Diff, Zxid: lastCommitted})
		needOp = false
	}
	return pkts, queued, !needOp
}

// SnapshotTaken continues the sync of a connection the runtime captured a snapshot for, as of zxid: SNAP, then the
// proposals after it, then NEWLEADER.
func (l *Leader) SnapshotTaken(id ConnID, zxid int64) LeaderReady {
	var r LeaderReady
	c := l.conns[id]
	if c == nil || c.state != connSnapWait || l.phase == leaderDone {
		return r
	}
	r.send(c.id, Packet{Type: Snap, Zxid: zxid})
	r.Metrics.SnapSyncs++
	c.syncedTo, c.skipTo = zxid, zxid
	l.startForwarding(c, zxid, &r)
	l.advance(&r)
	return r
}

// startForwarding sends the learner the proposals it lacks that are not committed yet, makes it a receiver of the
// broadcast, and queues NEWLEADER.
func (l *Leader) startForwarding(c *learnerConn, seen int64, r *LeaderReady) {
	if !c.observer {
		for _, p := range l.outstanding {
			if p.Zxid > seen {
				l.sendProposal(c, p.Txn, r)
			}
		}
	}
	c.forwarding = true
	c.state = connNewLeader
	r.send(c.id, Packet{Type: NewLeader, Zxid: l.newZxid, Data: l.lastSeenData()})
}

// lastSeenData is the last config proposed, as NEWLEADER carries it (getQuorumVerifierBytes).
func (l *Leader) lastSeenData() []byte {
	if l.pending != nil {
		return l.pending.Data
	}
	return l.configData
}

func (l *Leader) sendProposal(c *learnerConn, t Txn, r *LeaderReady) {
	r.send(c.id, Packet{Type: Proposal, Zxid: t.Zxid, Data: t.Data})
	c.unacked = append(c.unacked, sentProposal{zxid: t.Zxid, at: l.now})
}

// newLeaderAck is waitForNewLeaderAck for one learner.
func (l *Leader) newLeaderAck(c *learnerConn, p Packet, r *LeaderReady) error {
	setSync(l.conns, c, syncNone, &r.Metrics)
	c.ackDeadline = l.tick + int64(l.cfg.SyncLimit)
	c.acked = max(c.acked, c.syncedTo)
	c.state = connStartWait
	// Proposal.addAck: a voter of the active config or of the one NEWLEADER carries.
	if l.phase == leaderSync && p.Zxid == l.newZxid && !c.observer &&
		(l.quorum.IsVoter(c.sid) || l.pending != nil && l.pending.Quorum.IsVoter(c.sid)) {
		l.addNewLeaderAck(c.sid)
	}
	l.upToDateIfCommitted(c, r)
	l.tryCommit(r)
	return nil
}

// upToDateIfCommitted sends UPTODATE, once we broadcast, to a learner that acknowledged NEWLEADER, unless its
// snapshot holds proposals not committed yet. Apache's snapshot is its committed tree; ours applies txns as it preps
// them, so a snapshot taken while proposals are outstanding holds them, and a learner serving it could show its
// clients a txn a quorum never logged, which a new leader may not have. UPTODATE then waits for their commit.
func (l *Leader) upToDateIfCommitted(c *learnerConn, r *LeaderReady) {
	// Once we broadcast, lastCommitted is at least the epoch's first zxid, which names a snapshot taken before
	// our epoch's first txn.
	uncommitted := c.skipTo > l.lastCommitted
	if l.phase == leaderBroadcast && c.state == connStartWait && !uncommitted {
		l.upToDate(c, r)
	}
}

func (l *Leader) upToDate(c *learnerConn, r *LeaderReady) {
	c.state = connUpToDate
	r.send(c.id, Packet{Type: UpToDate, Zxid: -1})
	for _, p := range c.heldCommits {
		r.send(c.id, p)
	}
	c.heldCommits = nil
}

// Propose broadcasts the pipeline's new txns (in zxid order) to the synced followers.
func (l *Leader) Propose(txns []Txn, nowMs int64) LeaderReady {
	l.now = max(l.now, nowMs)
	var r LeaderReady
	if l.phase != leaderBroadcast {
		return r
	}
	cs := l.sortedConns()
	r.Metrics.Proposals = len(txns)
	for _, t := range txns {
		if t.Reconfig != nil {
			l.pending = t.Reconfig // setLastSeenQuorumVerifier
		}
		p := proposal{Txn: t, quorums: []Quorum{l.quorum}}
		if l.pending != nil {
			p.quorums = append(p.quorums, l.pending.Quorum)
		}
		l.outstanding = append(l.outstanding, p)
		l.lastProposed = t.Zxid
		for _, c := range cs {
			if c.forwarding && !c.observer && t.Zxid > c.skipTo {
				l.sendProposal(c, t, &r)
			}
		}
	}
	l.tryCommit(&r)
	return r
}

// Durable says the leader's own txn log holds every proposal up to zxid (its own acknowledgement), at nowMs.
func (l *Leader) Durable(zxid, nowMs int64) LeaderReady {
	l.now = max(l.now, nowMs)
	var r LeaderReady
	l.timeAcks(l.cfg.MyID, l.selfAcked, zxid, &r)
	l.selfAcked = max(l.selfAcked, zxid)
	l.tryCommit(&r)
	return r
}

func (l *Leader) ack(c *learnerConn, zxid int64, r *LeaderReady) {
	i := 0
	for i < len(c.unacked) && c.unacked[i].zxid <= zxid {
		i++
	}
	c.unacked = c.unacked[i:]
	if zxid&0xffffffff == 0 || c.observer {
		return // NEWLEADER's ACK again, or an observer's: neither counts
	}
	l.timeAcks(c.sid, c.acked, zxid, r)
	c.acked = max(c.acked, zxid)
	l.tryCommit(r)
}

// timeAcks adds to ack_latency sid's acknowledgement of the outstanding proposals in (from, to] whose zxid is a
// multiple of AckLoggingFrequency, as Leader.processAck times an ACK of a proposal not yet committed.
func (l *Leader) timeAcks(sid, from, to int64, r *LeaderReady) {
	f := l.cfg.AckLoggingFrequency
	if f <= 0 || to <= from {
		return
	}
	for _, p := range l.outstanding {
		if p.Zxid <= from || p.Zxid%f != 0 {
			continue
		}
		if p.Zxid > to {
			break
		}
		if d, ok := l.sinceMade(p.Txn); ok {
			r.Metrics.AckLatency = append(r.Metrics.AckLatency, SidLatency{Sid: sid, Ms: d})
		}
	}
}

// sinceMade is the time from t's header time to now, as Request.logLatency takes it: false when t carries no
// header or the difference is negative (another server's clock).
func (l *Leader) sinceMade(t Txn) (int64, bool) {
	tm, ok := t.Time()
	return l.now - tm, ok && l.now >= tm
}

// tryCommit commits the outstanding proposals, in order, that a quorum of each of their configs has logged.
func (l *Leader) tryCommit(r *LeaderReady) {
	if l.phase != leaderBroadcast {
		return
	}
	l.recordAcks()
	for len(l.outstanding) > 0 && !l.stopCommitting {
		p := l.outstanding[0]
		set := l.ackedBy(p.Zxid)
		for _, q := range p.quorums {
			if !q.ContainsQuorum(set) {
				return
			}
		}
		l.outstanding = l.outstanding[1:]
		l.commit(p, r)
	}
}

// recordAcks appends the servers that acknowledged a tracked outstanding proposal since the last call (one
// acknowledgement comes per event; should several, in sid order). Tracked proposals are the outstanding ones'
// tail: from the pending reconfig on.
func (l *Leader) recordAcks() {
	for i := len(l.outstanding) - 1; i >= 0 && l.outstanding[i].tracksAcks(); i-- {
		p := &l.outstanding[i]
		acked := l.ackedBy(p.Zxid)
		var added []int64
		for sid := range acked {
			if !slices.Contains(p.acks, sid) {
				added = append(added, sid)
			}
		}
		slices.Sort(added)
		p.acks = append(p.acks, added...)
	}
}

func (l *Leader) addNewLeaderAck(sid int64) {
	if !l.newLeader[sid] {
		l.newLeader[sid] = true
		l.newLeaderOrder = append(l.newLeaderOrder, sid)
	}
}

// javaAckset is Proposal's ackset for q (a HashSet<Long> sized for q's voters, taking q's voters among acks in
// their order).
func javaAckset(q Quorum, acks []int64) *javaLongSet {
	s := newJavaLongSet(len(q.Voters()))
	for _, sid := range acks {
		if q.IsVoter(sid) {
			s.add(sid)
		}
	}
	return s
}

// ackedBy is who has logged zxid: the leader, and the followers synced with it (learners acknowledge in order).
func (l *Leader) ackedBy(zxid int64) map[int64]bool {
	set := map[int64]bool{}
	if l.selfAcked >= zxid {
		set[l.cfg.MyID] = true
	}
	for _, c := range l.conns {
		if c.forwarding && !c.observer && c.state >= connStartWait && c.acked >= zxid {
			set[c.sid] = true
		}
	}
	return set
}

func (l *Leader) commit(p proposal, r *LeaderReady) {
	t := p.Txn
	l.lastCommitted = t.Zxid
	r.Committed = t.Zxid
	commitPkt, informPkt := Packet{Type: Commit, Zxid: t.Zxid}, Packet{Type: Inform, Zxid: t.Zxid, Data: t.Data}
	if nc := p.reconfig(); nc != nil {
		designated := l.designatedLeader(p)
		l.activate(nc, designated, r)
		// Followers that must change leader leave on this packet themselves: at least a quorum of them gets it.
		d := binary.BigEndian.AppendUint64(nil, uint64(designated))
		commitPkt = Packet{Type: CommitAndActivate, Zxid: t.Zxid, Data: d}
		informPkt = Packet{Type: InformAndActivate, Zxid: t.Zxid, Data: append(slices.Clip(d), t.Data...)}
	} else {
		r.Metrics.Commits++
		if d, ok := l.sinceMade(t); ok {
			r.Metrics.QuorumAckLatency = append(r.Metrics.QuorumAckLatency, d)
		}
	}
	for _, c := range l.sortedConns() {
		if !c.forwarding {
			continue
		}
		if t.Zxid > c.skipTo {
			switch {
			case c.observer:
				r.send(c.id, informPkt)
			case c.state < connUpToDate:
				c.heldCommits = append(c.heldCommits, commitPkt)
			default:
				r.send(c.id, commitPkt)
			}
		}
		l.upToDateIfCommitted(c, r) // its snapshot's proposals may be committed now
	}
	for _, id := range l.pendingSyncs[t.Zxid] {
		if l.conns[id] != nil {
			r.send(id, Packet{Type: Sync, Zxid: 0})
		}
	}
	delete(l.pendingSyncs, t.Zxid)
	l.committedLog = append(l.committedLog, t)
	if n := len(l.committedLog) - l.cfg.CommittedLogMax; n > 0 {
		l.committedLog = slices.Delete(l.committedLog, 0, n)
	}
}

// activate makes a committed reconfig's config the active one (QuorumPeer.processReconfig on the leader); when
// another server is to lead it, we commit nothing more.
func (l *Leader) activate(nc *NewConfig, designated int64, r *LeaderReady) {
	l.quorum, l.configVersion, l.configData = nc.Quorum, nc.Version, nc.Data
	if l.pending == nc {
		l.pending = nil
	}
	for i := range l.outstanding {
		l.outstanding[i].quorums = []Quorum{nc.Quorum}
		if l.pending != nil {
			l.outstanding[i].quorums = append(l.outstanding[i].quorums, l.pending.Quorum)
		}
	}
	r.Activated = append(r.Activated, Activation{Zxid: nc.Version, Config: nc, Designated: designated})
	if designated != l.cfg.MyID {
		l.stopCommitting = true
	}
}

// designatedLeader is Leader.getDesignatedLeader: we stay leader when the new config keeps us as a voter on our
// quorum address; otherwise the first, in Java's HashSet order, of the new config's voters that acknowledged the
// reconfig, narrowed by each config's acknowledgements of the proposals after it while any is left.
func (l *Leader) designatedLeader(p proposal) int64 {
	nc := p.reconfig()
	if nc.KeepsLeader {
		return l.cfg.MyID
	}
	candidates := copyJavaLongSet(javaAckset(nc.Quorum, p.acks))
	candidates.remove(l.cfg.MyID)
	best, ok := candidates.first()
	if !ok {
		return l.cfg.MyID // cannot happen: a quorum of the new config acknowledged it
	}
	for _, next := range l.outstanding { // the proposals after p, which has left the outstanding ones
		acked := l.ackedBy(next.Zxid)
		for _, q := range next.quorums {
			candidates.retain(func(sid int64) bool { return acked[sid] && q.IsVoter(sid) })
			first, ok := candidates.first()
			if !ok {
				return best // none acknowledged next: the best so far
			}
			if best = first; candidates.size == 1 {
				return best
			}
		}
	}
	return best
}

// newLeaderDesignated is getDesignatedLeader for the config NEWLEADER carried: us when we keep our vote in it,
// otherwise the first, in Java's HashSet order, of its voters that acknowledged NEWLEADER (nothing is
// outstanding yet to narrow them).
func (l *Leader) newLeaderDesignated() int64 {
	if l.pending.KeepsLeader {
		return l.cfg.MyID
	}
	candidates := copyJavaLongSet(javaAckset(l.pending.Quorum, l.newLeaderOrder))
	candidates.remove(l.cfg.MyID)
	if best, ok := candidates.first(); ok {
		return best
	}
	return l.cfg.MyID
}

// withVersion is config text (QuorumVerifier.toString: server lines, then version=<hex>) with another version.
func withVersion(text []byte, version int64) []byte {
	s := string(text)
	if i := strings.LastIndex(s, "version="); i == 0 || i > 0 && s[i-1] == '\n' {
		s = s[:i]
	} else if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return []byte(s + "version=" + strconv.FormatInt(version, 16))
}

// Sync answers a learner's sync request once every proposal before it is committed (Leader.processSync). The
// pipeline calls it in the order of its proposals.
func (l *Leader) Sync(id ConnID) LeaderReady {
	var r LeaderReady
	if l.conns[id] == nil {
		return r
	}
	if len(l.outstanding) == 0 {
		r.send(id, Packet{Type: Sync, Zxid: 0})
		return r
	}
	l.pendingSyncs[l.lastProposed] = append(l.pendingSyncs[l.lastProposed], id)
	return r
}

// Revalidated answers a learner's REVALIDATE.
func (l *Leader) Revalidated(rq RevalidateRequest, valid bool) LeaderReady {
	var r LeaderReady
	if l.conns[rq.Conn] == nil {
		return r
	}
	r.send(rq.Conn, RevalidatedPacket(rq.Session, valid, rq.Zxid))
	return r
}

// Closed forgets a learner connection that ended.
func (l *Leader) Closed(id ConnID) {
	delete(l.conns, id)
}

func (l *Leader) drop(c *learnerConn, why error, r *LeaderReady) {
	delete(l.conns, c.id)
	r.Close = append(r.Close, c.id)
	r.Dropped = append(r.Dropped, why)
}

// Tick is called every half tickTime: it pings the learners, drops those that have not acknowledged a proposal
// within the sync limit, and every other call counts a tick and checks that a quorum is still synced. During
// discovery and synchronisation it ends the leadership when a step takes longer than the init limit.
func (l *Leader) Tick(nowMs int64) LeaderReady {
	l.now = max(l.now, nowMs)
	var r LeaderReady
	switch l.phase {
	case leaderDone:
		return r
	case leaderDiscovery, leaderEpochAck, leaderSync:
		if l.now > l.deadline {
			r.Shutdown = l.setupTimeout()
			l.phase = leaderDone
			return r
		}
		l.pingAll(&r) // ticks are counted from the broadcast on, as Leader.lead's loop does
		return r
	}
	if !l.tickSkip {
		l.tick++
		synced := map[int64]bool{l.cfg.MyID: true}
		for _, c := range l.conns {
			if c.state >= connStartWait && !c.observer && l.tick <= c.ackDeadline {
				synced[c.sid] = true
			}
		}
		if !l.quorum.ContainsQuorum(synced) || l.pending != nil && !l.pending.Quorum.ContainsQuorum(synced) {
			r.Shutdown = fmt.Errorf("not sufficient followers synced, only synced with sids: [ %s ]", sidList(synced))
			l.phase = leaderDone
			return r
		}
	}
	l.tickSkip = !l.tickSkip
	l.pingAll(&r)
	return r
}

func (l *Leader) setupTimeout() error {
	switch l.phase {
	case leaderDiscovery:
		return fmt.Errorf("timeout while waiting for epoch from quorum (have %s)", sidList(l.connecting))
	case leaderEpochAck:
		return fmt.Errorf("timeout while waiting for epoch to be acked by quorum (have %s)", sidList(l.electing))
	default:
		return fmt.Errorf("timeout while waiting for NEWLEADER to be acked by quorum (have %s)", sidList(l.newLeader))
	}
}

// pingAll pings each learner that has been sent NEWLEADER, or drops it when it sits on a proposal past the sync
// limit (LearnerHandler.ping).
func (l *Leader) pingAll(r *LeaderReady) {
	for _, c := range l.sortedConns() {
		if c.state < connNewLeader {
			continue
		}
		if len(c.unacked) > 0 && l.now-c.unacked[0].at >= l.syncTimeout() {
			l.drop(c, errDrop{fmt.Sprintf("learner %d acknowledged no proposal within the sync limit", c.sid)}, r)
			continue
		}
		r.send(c.id, Packet{Type: Ping, Zxid: l.lastProposed})
	}
}

func sidList(set map[int64]bool) string {
	var ids []string
	for sid, in := range set {
		if in {
			ids = append(ids, fmt.Sprint(sid))
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

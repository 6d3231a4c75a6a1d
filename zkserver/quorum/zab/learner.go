package zab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/zkafka/zkafka/jute"
)

// Txn is a proposed transaction: its zxid and its bytes as the leader sent them (TxnHeader, txn record and
// optionally the digest: the same bytes as a txn log entry).
type Txn struct {
	Zxid int64
	Data []byte
	// Reconfig is the config a reconfig txn proposes (the leader's runtime sets it on proposals it makes).
	Reconfig *NewConfig
}

// Time is the txn header's time (ms): the leader's wall clock when it made the txn (TxnHeader: clientId, cxid,
// zxid, then time); false when Data is too short to hold it.
func (t Txn) Time() (int64, bool) {
	if len(t.Data) < 28 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(t.Data[20:])), true
}

// Ready is what a learner step asks of its runtime, in this order: persist the epochs, truncate the log, write
// and sync Log, apply Apply to the data tree, then send Send. Acknowledgements in Send rely on Log being durable.
type Ready struct {
	AcceptedEpoch int64 // when > 0: persist as acceptedEpoch
	CurrentEpoch  int64 // when > 0: persist as currentEpoch
	// TruncateTo, when Truncate is set, is the zxid to truncate the txn log and data tree back to.
	Truncate   bool
	TruncateTo int64
	// Snapshot asks for a snapshot of the tree before CurrentEpoch is persisted (a sync by SNAP or TRUNC).
	Snapshot bool
	Log      []Txn
	Apply    []Txn
	Send     []Packet
	// Serving is set by the step that ends synchronisation: the server may answer clients from now on.
	Serving bool
	// PingZxid, when PingReply is set, is a leader's PING to answer with the sessions touched since the last
	// answer (Learner.ping): the runtime owns those.
	PingReply bool
	PingZxid  int64
	// Synced counts the leader's SYNC packets: each answers the oldest sync request we forwarded.
	Synced int
	// Revalidated are the leader's answers to our REVALIDATE requests.
	Revalidated []Revalidation
	// LastSeenConfig, when set, is a config proposed by a reconfig or carried by NEWLEADER
	// (setLastSeenQuorumVerifier: the ".next" dynamic file).
	LastSeenConfig []byte
	// Activate, when set, is a config to activate (QuorumPeer.processReconfig); when it is a major change (our
	// role or our leader changes) the runtime ends the connection, after Apply unless BeforeApply.
	Activate *LearnerActivation
	// ProposalReceived and CommitReceived count the step's packet in ServerMetrics' learner_proposal_received_count
	// and learner_commit_received_count: a follower's PROPOSAL and COMMIT, an observer's INFORM, after the sync
	// (Follower's and Observer's processPacket; a reconfig's ...ANDACTIVATE is not counted).
	ProposalReceived, CommitReceived bool
}

// LearnerActivation is a config a learner activates: a reconfig committed (COMMITANDACTIVATE,
// INFORMANDACTIVATE, with the leader the old one designated), or NEWLEADER's config at UPTODATE (no designated
// leader).
type LearnerActivation struct {
	Config        []byte
	Zxid          int64
	Designated    int64
	HasDesignated bool
	// BeforeApply: during the sync Apache processes the reconfig before the commit and leaves without applying
	// it on a major change.
	BeforeApply bool
}

// Revalidation is the leader's answer to a REVALIDATE: whether a session a client reconnected with lives on.
type Revalidation struct {
	Session int64
	Valid   bool
}

// RevalidatePacket asks the leader whether session (reconnecting with timeout) is still valid.
func RevalidatePacket(session int64, timeout int32) Packet {
	b := make([]byte, 12)
	binary.BigEndian.PutUint64(b, uint64(session))
	binary.BigEndian.PutUint32(b[8:], uint32(timeout))
	return Packet{Type: Revalidate, Zxid: -1, Data: b}
}

// RevalidatedPacket is the leader's answer to a REVALIDATE: the session and whether it is valid, with the
// question's zxid echoed (Leader.revalidateSession reuses the learner's packet).
func RevalidatedPacket(session int64, valid bool, zxid int64) Packet {
	d := binary.BigEndian.AppendUint64(nil, uint64(session))
	if valid {
		return Packet{Type: Revalidate, Zxid: zxid, Data: append(d, 1)}
	}
	return Packet{Type: Revalidate, Zxid: zxid, Data: append(d, 0)}
}

// RequestPacket forwards a client request to the leader: the session, the request's xid and type, then its body as
// the client sent it, and the connection's auth ids (Learner.request).
func RequestPacket(session int64, cxid, op int32, body []byte, auth []jute.Id) Packet {
	b := make([]byte, 16, 16+len(body))
	binary.BigEndian.PutUint64(b, uint64(session))
	binary.BigEndian.PutUint32(b[8:], uint32(cxid))
	binary.BigEndian.PutUint32(b[12:], uint32(op))
	return Packet{Type: Request, Zxid: -1, Data: append(b, body...), AuthInfo: auth}
}

// PingReplyPacket answers a leader's PING with the sessions touched since the last answer.
func PingReplyPacket(zxid int64, touched map[int64]int32) Packet {
	b := make([]byte, 0, 12*len(touched))
	for id, to := range touched {
		b = binary.BigEndian.AppendUint64(b, uint64(id))
		b = binary.BigEndian.AppendUint32(b, uint32(to))
	}
	return Packet{Type: Ping, Zxid: zxid, Data: b}
}

// LearnerConfig is what a learner knows of its server when it connects to a leader.
type LearnerConfig struct {
	MyID          int64
	Observer      bool
	ConfigVersion int64
	AcceptedEpoch int64
	CurrentEpoch  int64
	LastZxid      int64 // last logged zxid
}

type learnerPhase int

const (
	phaseConnect   learnerPhase = iota // sent FOLLOWERINFO, waiting for LEADERINFO
	phaseSyncStart                     // sent ACKEPOCH, waiting for DIFF, SNAP or TRUNC
	phaseSync                          // proposals and commits of the sync, then NEWLEADER and UPTODATE
	phaseBroadcast                     // serving
)

// ErrNeedSnapshot says the leader sent SNAP: the runtime reads the snapshot that follows the packet on the
// stream, loads it, and calls SnapshotLoaded.
var ErrNeedSnapshot = errors.New("leader sends a snapshot")

// Learner is a follower's (or observer's) side of ZAB with one leader, from FOLLOWERINFO to broadcast
// (Learner.registerWithLeader, syncWithLeader and Follower.processPacket). A new connection to a leader gets a
// new Learner.
type Learner struct {
	cfg      LearnerConfig
	phase    learnerPhase
	newEpoch int64

	snapshotNeeded bool
	writeToTxnLog  bool
	notCommitted   []Txn   // proposals of the sync not yet committed or logged
	committed      []int64 // commits of the sync received after NEWLEADER
	// pending are logged proposals of the broadcast phase awaiting their COMMIT, in zxid order.
	pending []Txn
	// LastZxid is the last zxid logged or loaded.
	LastZxid int64
	// newLeaderConfig is NEWLEADER's config, activated at UPTODATE.
	newLeaderConfig []byte
}

// NewLearner starts a learner for one connection to a leader.
func NewLearner(cfg LearnerConfig) *Learner {
	return &Learner{cfg: cfg, LastZxid: cfg.LastZxid}
}

// Uncommitted are the proposals logged (or handed to the runtime to log) and not yet committed, in zxid order: a
// follower that loses its leader applies them before it looks for the next one, as Apache's fastForwardDataBase
// replays its log.
func (l *Learner) Uncommitted() []Txn { return slices.Clone(l.pending) }

// NewEpoch is the leader's epoch, known after LEADERINFO.
func (l *Learner) NewEpoch() int64 { return l.newEpoch }

// TreeUnsaved says the sync, by SNAP or TRUNC, has changed the tree without logging (a snapshot loaded, committed
// txns applied) and NEWLEADER has not yet had it saved: if the connection ends now, the tree is not what the disk
// holds, and a sync from it would log txns after a gap. The runtime then reloads its database from disk, as
// Apache's learner, shut down during a SNAP sync, clears its database to load it again (Learner.shutdown). Apache
// keeps the tree after an unfinished TRUNC sync; we reload it too, for the same reason.
func (l *Learner) TreeUnsaved() bool {
	return l.phase == phaseSync && l.snapshotNeeded && !l.writeToTxnLog
}

// Start registers with the leader: FOLLOWERINFO (OBSERVERINFO for an observer) with our accepted epoch.
func (l *Learner) Start() Ready {
	t := int32(FollowerInfo)
	if l.cfg.Observer {
		t = ObserverInfo
	}
	info := jute.Marshal(&jute.LearnerInfo{ServerID: l.cfg.MyID, ProtocolVersion: ProtocolVersion,
		ConfigVersion: l.cfg.ConfigVersion})
	return Ready{Send: []Packet{{Type: t, Zxid: l.cfg.AcceptedEpoch << 32, Data: info}}}
}

// Step handles one packet from the leader. An error means the connection to this leader must end (the server then
// looks for a leader again), except ErrNeedSnapshot.
func (l *Learner) Step(p Packet) (Ready, error) {
	switch l.phase {
	case phaseConnect:
		return l.leaderInfo(p)
	case phaseSyncStart:
		return l.syncStart(p)
	case phaseSync:
		return l.sync(p)
	default:
		return l.broadcast(p)
	}
}

func (l *Learner) leaderInfo(p Packet) (Ready, error) {
	if p.Type != LeaderInfo {
		return Ready{}, fmt.Errorf("expected LEADERINFO, got %s", p)
	}
	if len(p.Data) < 4 || binary.BigEndian.Uint32(p.Data) < ProtocolVersion {
		return Ready{}, fmt.Errorf("leader speaks a ZAB protocol before 1.0 (%s)", p)
	}
	l.newEpoch = p.Zxid >> 32
	var r Ready
	epochBytes := make([]byte, 4)
	switch {
	case l.newEpoch > l.cfg.AcceptedEpoch:
		binary.BigEndian.PutUint32(epochBytes, uint32(l.cfg.CurrentEpoch))
		r.AcceptedEpoch = l.newEpoch
	case l.newEpoch == l.cfg.AcceptedEpoch:
		binary.BigEndian.PutUint32(epochBytes, 0xffffffff) // -1: nothing new accepted
	default:
		return Ready{}, fmt.Errorf("leader's epoch %d is less than our accepted epoch %d", l.newEpoch, l.cfg.AcceptedEpoch)
	}
	r.Send = []Packet{{Type: AckEpoch, Zxid: l.LastZxid, Data: epochBytes}}
	l.phase = phaseSyncStart
	return r, nil
}

func (l *Learner) syncStart(p Packet) (Ready, error) {
	var r Ready
	switch p.Type {
	case Diff:
		l.snapshotNeeded = false
	case Snap:
		l.phase = phaseSync
		l.snapshotNeeded = true
		return r, ErrNeedSnapshot
	case Trunc:
		r.Truncate, r.TruncateTo = true, p.Zxid
		l.LastZxid = p.Zxid
		l.snapshotNeeded = true
	default:
		return r, fmt.Errorf("expected DIFF, SNAP or TRUNC, got %s", p)
	}
	l.writeToTxnLog = !l.snapshotNeeded
	l.phase = phaseSync
	return r, nil
}

// SnapshotLoaded continues the sync after the runtime read the leader's snapshot (ReadSnapshotStream) and loaded
// it; zxid is the SNAP packet's.
func (l *Learner) SnapshotLoaded(zxid int64) {
	l.LastZxid = zxid
	l.writeToTxnLog = false
}

func (l *Learner) sync(p Packet) (Ready, error) {
	var r Ready
	switch p.Type {
	case Proposal:
		t, err := txnOf(p)
		if err != nil {
			return r, err
		}
		r.LastSeenConfig = reconfigData(t)
		l.notCommitted = append(l.notCommitted, t)
	case Commit, CommitAndActivate:
		if p.Type == CommitAndActivate && len(l.notCommitted) > 0 && l.notCommitted[0].Zxid == p.Zxid {
			a, err := activation(l.notCommitted[0], p)
			if err != nil {
				return r, err
			}
			a.BeforeApply = true
			r.Activate = a
		}
		if l.writeToTxnLog {
			// Its proposal may have been logged at NEWLEADER already; UPTODATE commits in order.
			l.committed = append(l.committed, p.Zxid)
			break
		}
		if len(l.notCommitted) == 0 {
			return r, fmt.Errorf("commit %#x with no proposal", p.Zxid)
		}
		// Before NEWLEADER, committed txns go straight into the tree; the snapshot at NEWLEADER holds them.
		if head := l.notCommitted[0]; head.Zxid == p.Zxid {
			r.Apply = append(r.Apply, head)
			l.notCommitted = l.notCommitted[1:]
			l.LastZxid = head.Zxid
		}
	case Inform, InformAndActivate:
		t, a, err := informed(p)
		if err != nil {
			return r, err
		}
		if a != nil {
			a.BeforeApply = true
			r.Activate = a
		}
		if !l.writeToTxnLog {
			r.Apply = append(r.Apply, t)
			l.LastZxid = t.Zxid
		} else {
			l.notCommitted = append(l.notCommitted, t)
			l.committed = append(l.committed, p.Zxid)
		}
	case NewLeader:
		if len(p.Data) > 1 {
			r.LastSeenConfig, l.newLeaderConfig = p.Data, p.Data
		}
		// The runtime snapshots its tree when the sync was by SNAP or TRUNC (snapshotNeeded) before the epoch.
		r.Snapshot = l.snapshotNeeded
		r.CurrentEpoch = l.newEpoch
		l.writeToTxnLog = true
		// NEWLEADER's ACK first: the leader takes the first packet after NEWLEADER as that ACK.
		r.Send = []Packet{{Type: Ack, Zxid: p.Zxid}}
		if l.cfg.Observer {
			// An observer logs nothing here: at UPTODATE it commits what has a commit (Learner.syncWithLeader).
			break
		}
		r.Log = l.notCommitted
		for _, t := range l.notCommitted {
			l.LastZxid = max(l.LastZxid, t.Zxid)
			r.Send = append(r.Send, Packet{Type: Ack, Zxid: t.Zxid})
		}
		l.pending = append(l.pending, l.notCommitted...)
		l.notCommitted = nil
	case UpToDate:
		r.Send = []Packet{{Type: Ack, Zxid: l.newEpoch << 32}}
		l.phase = phaseBroadcast
		r.Serving = true
		if l.newLeaderConfig != nil {
			r.Activate = &LearnerActivation{Config: l.newLeaderConfig, BeforeApply: true}
		}
		if l.cfg.Observer {
			l.observerUpToDate(&r)
			break
		}
		// Proposals logged during the sync are acknowledged; the commits seen since NEWLEADER apply now.
		r.Log = l.notCommitted
		for _, t := range l.notCommitted {
			r.Send = append(r.Send, Packet{Type: Ack, Zxid: t.Zxid})
			l.LastZxid = max(l.LastZxid, t.Zxid)
		}
		l.pending = append(l.pending, l.notCommitted...)
		l.notCommitted = nil
		for _, z := range l.committed {
			t, err := l.commit(z)
			if err != nil {
				return r, err
			}
			r.Apply = append(r.Apply, t)
		}
		l.committed = nil
	case Ping:
		// The leader pings during a long sync too; the answer says we are alive.
		r.Send = []Packet{{Type: Ping, Zxid: p.Zxid, Data: []byte{}}}
	default:
		return r, fmt.Errorf("unexpected %s during sync", p)
	}
	return r, nil
}

// observerUpToDate commits, logged and applied, the sync's proposals (and INFORMs) since NEWLEADER that have a
// commit, in order; a proposal without the next commit is skipped, as an observer of an old leader may have been
// sent an outstanding proposal (Learner.syncWithLeader's observer branch).
func (l *Learner) observerUpToDate(r *Ready) {
	committed := l.committed
	for _, t := range l.notCommitted {
		if len(committed) == 0 || committed[0] != t.Zxid {
			continue
		}
		committed = committed[1:]
		r.Log = append(r.Log, t)
		r.Apply = append(r.Apply, t)
		l.LastZxid = max(l.LastZxid, t.Zxid)
	}
	l.notCommitted, l.committed = nil, nil
}

// txnOf is the txn a PROPOSAL or INFORM carries, numbered by its header's zxid (as Apache reads it).
func txnOf(p Packet) (Txn, error) {
	zxid, err := TxnZxid(p.Data)
	if err != nil {
		return Txn{}, fmt.Errorf("%s: %w", p, err)
	}
	return Txn{Zxid: zxid, Data: p.Data}, nil
}

// commit takes the next pending proposal, which must be zxid (Apache exits on a commit out of order).
func (l *Learner) commit(zxid int64) (Txn, error) {
	if len(l.pending) == 0 {
		return Txn{}, fmt.Errorf("commit %#x with no pending proposal", zxid)
	}
	if l.pending[0].Zxid != zxid {
		return Txn{}, fmt.Errorf("commit %#x, but the next pending proposal is %#x", zxid, l.pending[0].Zxid)
	}
	t := l.pending[0]
	l.pending = l.pending[1:]
	return t, nil
}

func (l *Learner) broadcast(p Packet) (Ready, error) {
	var r Ready
	if l.cfg.Observer && (p.Type == Proposal || p.Type == Commit || p.Type == CommitAndActivate || p.Type == UpToDate) {
		// Not for an observer: Observer.processPacket ignores them (with a log line) and observes on.
		return r, nil
	}
	switch p.Type {
	case Ping:
		r.PingReply, r.PingZxid = true, p.Zxid
	case Revalidate:
		if len(p.Data) < 9 {
			return r, fmt.Errorf("%s: want a session id and a flag", p)
		}
		r.Revalidated = []Revalidation{{Session: int64(binary.BigEndian.Uint64(p.Data)), Valid: p.Data[8] != 0}}
	case Proposal:
		t, err := txnOf(p)
		if err != nil {
			return r, err
		}
		l.pending = append(l.pending, t)
		l.LastZxid = t.Zxid
		r.Log = []Txn{t}
		r.Send = []Packet{{Type: Ack, Zxid: t.Zxid}}
		r.LastSeenConfig = reconfigData(t)
		r.ProposalReceived = true
	case Commit, CommitAndActivate:
		t, err := l.commit(p.Zxid)
		if err != nil {
			return r, err
		}
		r.Apply = []Txn{t}
		r.CommitReceived = p.Type == Commit
		if p.Type == CommitAndActivate {
			// Follower.processPacket: the config activates, the commit applies, then a major change ends us.
			if r.Activate, err = activation(t, p); err != nil {
				return r, err
			}
		}
	case Inform, InformAndActivate:
		t, a, err := informed(p)
		if err != nil {
			return r, err
		}
		l.LastZxid = t.Zxid
		r.Log, r.Apply, r.Activate = []Txn{t}, []Txn{t}, a
		r.CommitReceived = p.Type == Inform
	case Sync:
		r.Synced = 1
	case UpToDate:
		return r, fmt.Errorf("UPTODATE after the sync ended")
	default:
		return r, fmt.Errorf("unexpected %s", p)
	}
	return r, nil
}

// informed is the txn an INFORM or INFORMANDACTIVATE carries, and the latter's activation (its data is the
// designated leader's sid, then the txn).
func informed(p Packet) (Txn, *LearnerActivation, error) {
	if p.Type == Inform {
		t, err := txnOf(p)
		return t, nil, err
	}
	if len(p.Data) < 8 {
		return Txn{}, nil, fmt.Errorf("%s: want the designated leader", p)
	}
	t, err := txnOf(Packet{Type: p.Type, Zxid: p.Zxid, Data: p.Data[8:]})
	if err != nil {
		return Txn{}, nil, err
	}
	a, err := activation(t, p)
	return t, a, err
}

// activation is what COMMITANDACTIVATE or INFORMANDACTIVATE p activates: the config t (a reconfig) sets.
func activation(t Txn, p Packet) (*LearnerActivation, error) {
	if len(p.Data) < 8 {
		return nil, fmt.Errorf("%s: want the designated leader", p)
	}
	cfg := reconfigData(t)
	if cfg == nil {
		return nil, fmt.Errorf("%s: txn %#x is not a reconfig", p, t.Zxid)
	}
	return &LearnerActivation{Config: cfg, Zxid: p.Zxid, Designated: int64(binary.BigEndian.Uint64(p.Data)),
		HasDesignated: true}, nil
}

func reconfigData(t Txn) []byte { return ReconfigData(t.Data) }

// ReconfigData is the config a reconfig txn (a txn log entry's bytes) writes to /zookeeper/config, its
// SetDataTxn's data; nil for any other txn.
func ReconfigData(entry []byte) []byte {
	d := jute.NewDecoder(entry)
	var hdr jute.TxnHeader
	hdr.Decode(d)
	if d.Err() != nil || hdr.Type != jute.OpReconfig {
		return nil
	}
	var sd jute.SetDataTxn
	sd.Decode(d)
	if d.Err() != nil {
		return nil
	}
	return sd.Data
}

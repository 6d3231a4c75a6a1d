package zab

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
)

// DefaultObserverMasterSizeLimit bounds the committed INFORMs an observer master keeps for observers that sync
// (zookeeper.observerMaster.sizeLimit's default, 32 MiB).
const DefaultObserverMasterSizeLimit = 32 << 20

// ObserverMasterConfig is what a follower synced with its leader knows when it starts serving observers
// (observerMasterPort).
type ObserverMasterConfig struct {
	// CurrentEpoch is the follower's: LEADERINFO and NEWLEADER carry it (ObserverMaster.getEpochToPropose).
	CurrentEpoch int64
	// LastCommitted is the follower's last committed zxid; CommittedLog holds its latest committed txns, ascending,
	// ending at it (may be empty), and History the older ones: observers are synced against them.
	LastCommitted int64
	CommittedLog  []Txn
	History       History
	// ConfigData is the last config the follower saw (NEWLEADER's data); ConfigVersion its active config's version:
	// an observer with a later one is refused.
	ConfigData    []byte
	ConfigVersion int64
	TickTime      int // ms
	InitLimit     int // ticks an observer may take at each step of its sync
	SyncLimit     int // ticks an observer synced may stay silent
	// SizeLimit bounds, in bytes (LearnerHandler.packetSize), the committed INFORMs kept for observers' syncs
	// (DefaultObserverMasterSizeLimit when 0).
	SizeLimit int64
	// CommittedLogMax bounds the in-memory committed log (500 when 0).
	CommittedLogMax int
}

type omConn struct {
	id         ConnID
	sid        int64
	state      connState // connNew, connAckEpoch, connSnapWait, connNewLeader, connUpToDate
	peerLast   int64
	forwarding bool
	// deadline is when the observer must next be heard from (the runtime's read timeout in LearnerHandler).
	deadline  int64
	syncTrack // the sync in progress (inflight_diff_count, inflight_snap_count)
}

type pendingRevalidation struct {
	conn    ConnID
	session int64
	timeout int32
}

// ObserverMaster is a follower's side of ZAB towards observers (Apache's ObserverMaster with its LearnerHandlers):
// the leader's handshake and sync against the follower's own committed history, then every txn the follower
// commits sent on as INFORM (INFORMANDACTIVATE for a reconfig), pings, and the observers' requests, session
// touches and revalidations handed to the follower, which forwards them to its leader. It takes packets, the
// follower's commits and time, and returns what to do as a LeaderReady, of which it uses SnapshotFor, Requests,
// Revalidate, Touches, Send, Close and Dropped.
type ObserverMaster struct {
	cfg   ObserverMasterConfig
	now   int64
	conns map[ConnID]*omConn

	lastCommitted int64
	committedLog  []Txn
	// cache are the INFORMs sent since we started, oldest first, cacheSize their size, for startForwarding.
	cache     []Packet
	cacheSize int64
	// lastSent is the last INFORM's zxid: PINGs carry it (ObserverMaster.getLastProposed; 0 before any).
	lastSent      int64
	revalidations []pendingRevalidation
}

// NewObserverMaster starts serving observers for a follower synced with its leader.
func NewObserverMaster(cfg ObserverMasterConfig, nowMs int64) *ObserverMaster {
	if cfg.SizeLimit <= 0 {
		cfg.SizeLimit = DefaultObserverMasterSizeLimit
	}
	if cfg.CommittedLogMax <= 0 {
		cfg.CommittedLogMax = 500
	}
	return &ObserverMaster{cfg: cfg, now: nowMs, conns: map[ConnID]*omConn{}, lastCommitted: cfg.LastCommitted,
		committedLog: slices.Clone(cfg.CommittedLog)}
}

// Observers counts the observers synced or syncing with us (getNumActiveObservers).
func (m *ObserverMaster) Observers() int {
	n := 0
	for _, c := range m.conns {
		if c.forwarding {
			n++
		}
	}
	return n
}

// ActiveObservers are the observers Observers counts, by connection, with their server ids; nil when none.
func (m *ObserverMaster) ActiveObservers() map[ConnID]int64 {
	var out map[ConnID]int64
	for id, c := range m.conns {
		if c.forwarding {
			if out == nil {
				out = map[ConnID]int64{}
			}
			out[id] = c.sid
		}
	}
	return out
}

func (m *ObserverMaster) newLeaderZxid() int64 { return m.cfg.CurrentEpoch << 32 }

func (m *ObserverMaster) limit(ticks int) int64 { return int64(ticks) * int64(m.cfg.TickTime) }

// Step handles one packet from an observer connection (a new ConnID starts one).
func (m *ObserverMaster) Step(id ConnID, p Packet, nowMs int64) LeaderReady {
	m.now = max(m.now, nowMs)
	var r LeaderReady
	c := m.conns[id]
	if c == nil {
		c = &omConn{id: id}
		m.conns[id] = c
	}
	if err := m.step(c, p, &r); err != nil {
		m.drop(c, err, &r)
	}
	return r
}

func (m *ObserverMaster) step(c *omConn, p Packet, r *LeaderReady) error {
	switch c.state {
	case connNew:
		// Only observers: a follower's FOLLOWERINFO is its leader's business.
		if p.Type != ObserverInfo {
			return errDrop{fmt.Sprintf("first packet %s is not OBSERVERINFO", p)}
		}
		sid, err := learnerInfo(p, m.cfg.ConfigVersion)
		c.sid = sid
		if err != nil {
			return err
		}
		c.state = connAckEpoch
		c.deadline = m.now + m.limit(m.cfg.InitLimit)
		// The epoch is the follower's own: nothing to gather (getEpochToPropose, waitForEpochAck are no-ops).
		r.send(c.id, Packet{Type: LeaderInfo, Zxid: m.newLeaderZxid(),
			Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)})
		return nil
	case connAckEpoch:
		if p.Type != AckEpoch || len(p.Data) < 4 {
			return errDrop{fmt.Sprintf("%s is not ACKEPOCH", p)}
		}
		c.peerLast = p.Zxid
		c.deadline = m.now + m.limit(m.cfg.InitLimit)
		pkts, current, ok := syncPackets(m.committedLog, m.lastCommitted, m.cfg.History, c.peerLast)
		if !ok {
			c.state = connSnapWait
			r.SnapshotFor = append(r.SnapshotFor, c.id)
			setSync(m.conns, c, syncSnap, &r.Metrics)
			return nil
		}
		setSync(m.conns, c, syncDiff, &r.Metrics)
		r.Metrics.DiffSyncs++
		for _, q := range pkts {
			r.send(c.id, q)
		}
		return m.startForwarding(c, current, r)
	case connSnapWait:
		return errDrop{fmt.Sprintf("%s before the snapshot", p)}
	case connNewLeader:
		if p.Type != Ack {
			return errDrop{fmt.Sprintf("expected the ACK of NEWLEADER, got %s", p)}
		}
		c.state = connUpToDate
		c.deadline = m.now + m.limit(m.cfg.SyncLimit)
		setSync(m.conns, c, syncNone, &r.Metrics)
		r.send(c.id, Packet{Type: UpToDate, Zxid: -1})
		return nil
	}
	c.deadline = m.now + m.limit(m.cfg.SyncLimit)
	switch p.Type {
	case Ack:
		if p.Zxid&0xffffffff != 0 { // UPTODATE's ACK is the epoch's zxid; an observer acknowledges nothing else
			return errDrop{fmt.Sprintf("observer %d acknowledged %#x", c.sid, p.Zxid)}
		}
		return nil
	case Revalidate:
		if err := learnerPacket(c.id, c.sid, p, r); err != nil {
			return err
		}
		// The leader's answers come back to the follower in the order it forwarded the questions.
		rq := r.Revalidate[len(r.Revalidate)-1]
		m.revalidations = append(m.revalidations, pendingRevalidation{conn: c.id, session: rq.Session, timeout: rq.Timeout})
		return nil
	}
	return learnerPacket(c.id, c.sid, p, r)
}

// SnapshotTaken continues the sync of a connection the runtime captured the follower's database for, as of zxid
// (its last applied txn): SNAP, the INFORMs after it, NEWLEADER.
func (m *ObserverMaster) SnapshotTaken(id ConnID, zxid int64) LeaderReady {
	var r LeaderReady
	c := m.conns[id]
	if c == nil || c.state != connSnapWait {
		return r
	}
	r.send(c.id, Packet{Type: Snap, Zxid: zxid})
	r.Metrics.SnapSyncs++
	if err := m.startForwarding(c, zxid, &r); err != nil {
		m.drop(c, err, &r)
	}
	return r
}

// startForwarding replays the INFORMs kept after seen, makes the observer a receiver of the commits, and queues
// NEWLEADER; an observer missing a txn that is no longer kept is disconnected (ObserverMaster.startForwarding).
func (m *ObserverMaster) startForwarding(c *omConn, seen int64, r *LeaderReady) error {
	if len(m.cache) > 0 && m.cache[0].Zxid > seen+1 {
		return errDrop{fmt.Sprintf("observer %d is too far behind (%#x < %#x)", c.sid, seen+1, m.cache[0].Zxid)}
	}
	for _, p := range m.cache {
		if p.Zxid > seen {
			r.send(c.id, p)
		}
	}
	c.forwarding = true
	c.state = connNewLeader
	r.send(c.id, Packet{Type: NewLeader, Zxid: m.newLeaderZxid(), Data: m.cfg.ConfigData})
	return nil
}

// Committed takes a txn the follower committed, in order: it joins the committed history observers sync
// against, and goes to the observers as INFORM, or INFORMANDACTIVATE with the designated leader when it is a
// reconfig the follower activates (act from COMMITANDACTIVATE).
func (m *ObserverMaster) Committed(t Txn, act *LearnerActivation) LeaderReady {
	var r LeaderReady
	if t.Zxid <= m.lastCommitted {
		return r // already in the history we started from
	}
	m.lastCommitted = t.Zxid
	m.committedLog = append(m.committedLog, t)
	if n := len(m.committedLog) - m.cfg.CommittedLogMax; n > 0 {
		m.committedLog = slices.Delete(m.committedLog, 0, n)
	}
	p := Packet{Type: Inform, Zxid: t.Zxid, Data: t.Data}
	if act != nil && act.HasDesignated {
		d := binary.BigEndian.AppendUint64(nil, uint64(act.Designated))
		p = Packet{Type: InformAndActivate, Zxid: t.Zxid, Data: append(d, t.Data...)}
	}
	m.keep(p)
	for _, c := range m.sortedConns() {
		if c.forwarding {
			r.send(c.id, p)
		}
	}
	m.lastSent = t.Zxid
	return r
}

// keep adds p to the INFORMs kept: near the size limit (80%) up to five of the oldest go for each added, and
// never more than the limit is kept (ObserverMaster.cacheCommittedPacket).
func (m *ObserverMaster) keep(p Packet) {
	m.cache = append(m.cache, p)
	m.cacheSize += packetSize(p)
	for i := 0; i < 5 && len(m.cache) > 0 && m.cacheSize*5 > m.cfg.SizeLimit*4; i++ {
		m.evictOldest()
	}
	for len(m.cache) > 0 && m.cacheSize > m.cfg.SizeLimit {
		m.evictOldest()
	}
}

func (m *ObserverMaster) evictOldest() {
	m.cacheSize -= packetSize(m.cache[0])
	m.cache = m.cache[1:]
}

// packetSize is LearnerHandler.packetSize: a packet's data and a fixed 28 bytes.
func packetSize(p Packet) int64 { return 28 + int64(len(p.Data)) }

// Synced answers an observer's sync request the follower forwarded, once its leader answered it.
func (m *ObserverMaster) Synced(id ConnID) LeaderReady {
	var r LeaderReady
	if m.conns[id] != nil {
		r.send(id, Packet{Type: Sync, Zxid: 0})
	}
	return r
}

// Revalidated routes the leader's answer to a REVALIDATE to the observer that asked, when the oldest question
// forwarded is an observer's and about this session (ObserverMaster.revalidateLearnerSession); a valid session
// is touched. ok is false when the answer is the follower's own.
func (m *ObserverMaster) Revalidated(p Packet) (r LeaderReady, ok bool) {
	if len(m.revalidations) == 0 || len(p.Data) < 9 {
		return r, false
	}
	head := m.revalidations[0]
	if int64(binary.BigEndian.Uint64(p.Data)) != head.session {
		return r, false
	}
	m.revalidations = m.revalidations[1:]
	if m.conns[head.conn] != nil {
		r.send(head.conn, Packet{Type: p.Type, Zxid: p.Zxid, Data: slices.Clone(p.Data), AuthInfo: p.AuthInfo})
	}
	if p.Data[8] != 0 {
		r.Touches = append(r.Touches, Touch{Session: head.session, Timeout: head.timeout})
	}
	return r, true
}

// Tick is called every half tickTime: it pings the observers forwarded to, with the last zxid sent, and drops
// those not heard from in time (the init limit during their sync, the sync limit after).
func (m *ObserverMaster) Tick(nowMs int64) LeaderReady {
	m.now = max(m.now, nowMs)
	var r LeaderReady
	for _, c := range m.sortedConns() {
		if c.state != connNew && c.state != connSnapWait && m.now > c.deadline {
			m.drop(c, errDrop{fmt.Sprintf("observer %d not heard from in time", c.sid)}, &r)
			continue
		}
		if c.forwarding {
			r.send(c.id, Packet{Type: Ping, Zxid: m.lastSent})
		}
	}
	return r
}

// SetConfig is the follower's config from now on (a reconfig seen or activated): data, the last config seen,
// goes in NEWLEADER; an observer with a version later than the active one's is refused.
func (m *ObserverMaster) SetConfig(data []byte, version int64) {
	m.cfg.ConfigData, m.cfg.ConfigVersion = data, version
}

// Closed forgets an observer connection that ended.
func (m *ObserverMaster) Closed(id ConnID) { delete(m.conns, id) }

func (m *ObserverMaster) drop(c *omConn, why error, r *LeaderReady) {
	delete(m.conns, c.id)
	r.Close = append(r.Close, c.id)
	r.Dropped = append(r.Dropped, why)
}

func (m *ObserverMaster) sortedConns() []*omConn {
	cs := make([]*omConn, 0, len(m.conns))
	for _, c := range m.conns {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *omConn) int { return cmp.Compare(a.id, b.id) })
	return cs
}

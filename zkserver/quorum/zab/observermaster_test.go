package zab

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/zkafka/zkafka/jute"
)

// omSim routes packets between one observer master and observers of ours (Learner cores), synchronously.
type omSim struct {
	t   *testing.T
	now int64
	m   *ObserverMaster
	os  map[ConnID]*omObserver
	// seen are the packets sent to each connection, by type name, in order.
	seen    map[ConnID][]string
	closed  []ConnID
	dropped []error
	touches []Touch
	reqs    []LearnerRequest
	reval   []RevalidateRequest
	// snapAt is the database zxid the runtime captures for a SNAP (0: leave the connection waiting).
	snapAt int64
}

type omObserver struct {
	l       *Learner
	serving bool
	applied []int64
	act     []LearnerActivation
}

func newOMSim(t *testing.T, cfg ObserverMasterConfig) *omSim {
	return &omSim{t: t, now: 1000, m: NewObserverMaster(cfg, 1000), os: map[ConnID]*omObserver{},
		seen: map[ConnID][]string{}}
}

func omCfg(log []Txn) ObserverMasterConfig {
	return ObserverMasterConfig{CurrentEpoch: 2, LastCommitted: log[len(log)-1].Zxid, CommittedLog: log,
		ConfigData: []byte("server.1=a:1:2:participant\nversion=100000000"), TickTime: 100, InitLimit: 10,
		SyncLimit: 5}
}

func (s *omSim) observe(conn ConnID, sid, last int64) *omObserver {
	o := &omObserver{l: NewLearner(LearnerConfig{MyID: sid, Observer: true, AcceptedEpoch: last >> 32,
		CurrentEpoch: last >> 32, LastZxid: last})}
	s.os[conn] = o
	s.toMaster(conn, o.l.Start().Send)
	return o
}

func (s *omSim) toMaster(conn ConnID, ps []Packet) {
	for _, p := range ps {
		s.apply(s.m.Step(conn, p, s.now))
	}
}

func (s *omSim) apply(r LeaderReady) {
	s.touches = append(s.touches, r.Touches...)
	s.reqs = append(s.reqs, r.Requests...)
	s.reval = append(s.reval, r.Revalidate...)
	s.closed = append(s.closed, r.Close...)
	s.dropped = append(s.dropped, r.Dropped...)
	for _, out := range r.Send {
		s.seen[out.Conn] = append(s.seen[out.Conn], typeName(out.Packet.Type))
		o := s.os[out.Conn]
		if o == nil || slices.Contains(r.Close, out.Conn) {
			continue
		}
		rd, err := o.l.Step(out.Packet)
		if errors.Is(err, ErrNeedSnapshot) {
			o.l.SnapshotLoaded(out.Packet.Zxid)
			o.applied = append(o.applied, out.Packet.Zxid)
			continue
		}
		if err != nil {
			s.t.Fatalf("observer on %d: %s: %v", out.Conn, out.Packet, err)
		}
		for _, t := range rd.Apply {
			o.applied = append(o.applied, t.Zxid)
		}
		if rd.Activate != nil {
			o.act = append(o.act, *rd.Activate)
		}
		o.serving = o.serving || rd.Serving
		if rd.PingReply {
			rd.Send = append(rd.Send, PingReplyPacket(rd.PingZxid, map[int64]int32{0x77: 4000}))
		}
		s.toMaster(out.Conn, rd.Send)
	}
	for _, id := range r.SnapshotFor {
		if s.snapAt != 0 {
			s.apply(s.m.SnapshotTaken(id, s.snapAt))
		}
	}
}

func (s *omSim) expectSeen(conn ConnID, want ...string) {
	s.t.Helper()
	if !slices.Equal(s.seen[conn], want) {
		s.t.Fatalf("conn %d was sent %v, want %v", conn, s.seen[conn], want)
	}
	s.seen[conn] = nil
}

func zxids(ts []Txn) []int64 {
	var zs []int64
	for _, t := range ts {
		zs = append(zs, t.Zxid)
	}
	return zs
}

// An observer behind the follower's committed log is synced by DIFF against it: LEADERINFO with the follower's
// epoch, DIFF, the txns it lacks, NEWLEADER with the last seen config, then UPTODATE once it acknowledged.
func TestObserverMasterDiff(t *testing.T) {
	log := append(txnsBetween(1, 1, 5), txnsBetween(2, 1, 2)...)
	s := newOMSim(t, omCfg(log))
	o := s.observe(1, 9, 0x100000003)
	s.expectSeen(1, "LEADERINFO", "DIFF", "PROPOSAL", "COMMIT", "PROPOSAL", "COMMIT", "PROPOSAL", "COMMIT",
		"PROPOSAL", "COMMIT", "NEWLEADER", "UPTODATE")
	if !o.serving || !slices.Equal(o.applied, zxids(log[3:])) || o.l.NewEpoch() != 2 {
		t.Fatalf("observer serving=%v applied %x epoch %d", o.serving, o.applied, o.l.NewEpoch())
	}
	if len(o.act) != 1 || string(o.act[0].Config) != string(s.m.cfg.ConfigData) {
		t.Fatalf("activations %+v", o.act)
	}
	if s.m.Observers() != 1 {
		t.Fatalf("observers %d", s.m.Observers())
	}
	// Up to date: DIFF alone; a config set since goes in NEWLEADER.
	s.m.SetConfig([]byte("version=200000002"), 0x200000002)
	var newLeader []byte
	r := s.m.Step(2, Packet{Type: ObserverInfo, Data: jute.Marshal(&jute.LearnerInfo{ServerID: 10,
		ProtocolVersion: ProtocolVersion, ConfigVersion: 0x200000002})}, s.now)
	r2 := s.m.Step(2, Packet{Type: AckEpoch, Zxid: 0x200000002, Data: []byte{0, 0, 0, 2}}, s.now)
	for _, o := range append(r.Send, r2.Send...) {
		s.seen[2] = append(s.seen[2], typeName(o.Packet.Type))
		if o.Packet.Type == NewLeader {
			newLeader = o.Packet.Data
		}
	}
	s.expectSeen(2, "LEADERINFO", "DIFF", "NEWLEADER")
	if string(newLeader) != "version=200000002" {
		t.Fatalf("NEWLEADER carries %q", newLeader)
	}
}

// An observer with a txn the follower does not have, in an epoch it has, is truncated back to the follower's;
// one whose epoch the follower lacks gets a snapshot.
func TestObserverMasterTrunc(t *testing.T) {
	log := []Txn{txnAt(0x200000001), txnAt(0x200000002), txnAt(0x200000005)}
	s := newOMSim(t, omCfg(log))
	s.observe(1, 9, 0x200000003)
	s.expectSeen(1, "LEADERINFO", "TRUNC", "PROPOSAL", "COMMIT", "NEWLEADER", "UPTODATE")
	// Ahead of the log in its last epoch: TRUNC to its end.
	s.observe(2, 10, 0x200000009)
	s.expectSeen(2, "LEADERINFO", "TRUNC", "NEWLEADER", "UPTODATE")
	if o := s.os[2]; !o.serving || o.l.LastZxid != 0x200000005 {
		t.Fatalf("observer 2 serving=%v at %#x", o.serving, o.l.LastZxid)
	}
	s.snapAt = 0x200000005
	s.observe(3, 11, 0x100000007)
	s.expectSeen(3, "LEADERINFO", "SNAP", "NEWLEADER", "UPTODATE")
}

// An observer older than the committed log gets a snapshot of the follower's database; the INFORMs committed after
// the snapshot's zxid are replayed from those kept, before NEWLEADER; an observer that lacks a txn no longer kept is
// disconnected.
func TestObserverMasterSnapAndReplay(t *testing.T) {
	log := txnsBetween(2, 10, 12)
	cfg := omCfg(log)
	cfg.SizeLimit = 3 * packetSize(Packet{Data: txnAt(1).Data}) // three INFORMs, evicted near 80%
	s := newOMSim(t, cfg)
	for _, z := range []int64{13, 14} {
		s.apply(s.m.Committed(txnAt(2<<32|z), nil))
	}
	// The database the runtime captures lags the commits: 0x20000000c.
	s.snapAt = 0x20000000c
	o := s.observe(1, 9, 0x100000001)
	s.expectSeen(1, "LEADERINFO", "SNAP", "INFORM", "INFORM", "NEWLEADER", "UPTODATE")
	if want := []int64{0x20000000c, 0x20000000d, 0x20000000e}; !slices.Equal(o.applied, want) || !o.serving {
		t.Fatalf("applied %x, want %x", o.applied, want)
	}
	// Two more commits: the 80% mark evicts the oldest kept ones, 13 and 14 are gone.
	for _, z := range []int64{15, 16} {
		s.apply(s.m.Committed(txnAt(2<<32|z), nil))
	}
	s.expectSeen(1, "INFORM", "INFORM")
	if s.m.cache[0].Zxid != 0x20000000f {
		t.Fatalf("cache head %#x", s.m.cache[0].Zxid)
	}
	s.observe(2, 10, 0x100000001)
	s.expectSeen(2, "LEADERINFO", "SNAP")
	if !slices.Equal(s.closed, []ConnID{2}) || len(s.dropped) != 1 {
		t.Fatalf("closed %v dropped %v", s.closed, s.dropped)
	}
	// A snapshot at the commits' end needs nothing kept.
	s.snapAt = 0x200000010
	s.observe(3, 11, 0x100000001)
	s.expectSeen(3, "LEADERINFO", "SNAP", "NEWLEADER", "UPTODATE")
}

// Commits go to every synced observer in order; a reconfig activated by COMMITANDACTIVATE goes as
// INFORMANDACTIVATE with the designated leader, which our observer activates.
func TestObserverMasterInformAndActivate(t *testing.T) {
	s := newOMSim(t, omCfg(txnsBetween(2, 1, 2)))
	a, b := s.observe(1, 9, 0x200000002), s.observe(2, 10, 0x200000001)
	s.seen = map[ConnID][]string{}
	s.apply(s.m.Committed(txnAt(0x200000003), nil))
	cfg := "server.1=a:1:2:participant\nversion=200000004"
	rt := reconfigTxn(0x200000004, cfg, votersOf{1}, true)
	s.apply(s.m.Committed(rt, &LearnerActivation{Config: []byte(cfg), Zxid: rt.Zxid, Designated: 3, HasDesignated: true}))
	s.apply(s.m.Committed(txnAt(0x200000003), nil)) // already committed: ignored
	for _, c := range []ConnID{1, 2} {
		s.expectSeen(c, "INFORM", "INFORMANDACTIVATE")
	}
	for _, o := range []*omObserver{a, b} {
		if o.applied[len(o.applied)-1] != 0x200000004 || len(o.act) != 2 || o.act[1].Designated != 3 ||
			string(o.act[1].Config) != cfg {
			t.Fatalf("applied %x activations %+v", o.applied, o.act)
		}
	}
	if s.m.lastCommitted != 0x200000004 {
		t.Fatalf("last committed %#x", s.m.lastCommitted)
	}
}

// Pings carry the last zxid sent; the observer's answer touches its sessions; an observer silent past the sync
// limit is dropped.
func TestObserverMasterPingAndTimeout(t *testing.T) {
	s := newOMSim(t, omCfg(txnsBetween(2, 1, 2)))
	s.observe(1, 9, 0x200000002)
	s.seen = map[ConnID][]string{}
	s.apply(s.m.Committed(txnAt(0x200000003), nil))
	s.now += 50
	r := s.m.Tick(s.now)
	if len(r.Send) != 1 || r.Send[0].Packet.Type != Ping || r.Send[0].Packet.Zxid != 0x200000003 {
		t.Fatalf("tick sends %+v", r.Send)
	}
	s.apply(r)
	if !slices.Equal(s.touches, []Touch{{Session: 0x77, Timeout: 4000}}) {
		t.Fatalf("touches %+v", s.touches)
	}
	s.now += 501 // the sync limit, 5 ticks of 100 ms, with no word from the observer
	delete(s.os, 1)
	s.apply(s.m.Tick(s.now))
	if !slices.Equal(s.closed, []ConnID{1}) || s.m.Observers() != 0 {
		t.Fatalf("closed %v", s.closed)
	}
}

// An observer's requests are handed to the follower as learner requests, a sync answered when the follower's
// leader answered it; revalidations are answered to the observer that asked, in order, and an answer to a
// question of the follower's own is not taken.
func TestObserverMasterRequestsAndRevalidate(t *testing.T) {
	s := newOMSim(t, omCfg(txnsBetween(2, 1, 2)))
	s.observe(1, 9, 0x200000002)
	s.observe(2, 10, 0x200000002)
	s.seen = map[ConnID][]string{}
	auth := []jute.Id{{Scheme: "digest", ID: "u:x"}}
	s.toMaster(1, []Packet{RequestPacket(0x51, 7, jute.OpSync, []byte{0, 0, 0, 1, '/'}, auth)})
	if len(s.reqs) != 1 || s.reqs[0].Conn != 1 || s.reqs[0].Server != 9 || s.reqs[0].Session != 0x51 ||
		s.reqs[0].Cxid != 7 || s.reqs[0].Op != jute.OpSync || !slices.Equal(s.reqs[0].Auth, auth) {
		t.Fatalf("requests %+v", s.reqs)
	}
	s.apply(s.m.Synced(1))
	s.expectSeen(1, "SYNC")

	s.toMaster(1, []Packet{RevalidatePacket(0xa, 3000)})
	s.toMaster(2, []Packet{RevalidatePacket(0xb, 4000)})
	if len(s.reval) != 2 || s.reval[0].Session != 0xa || s.reval[1].Conn != 2 || s.reval[1].Timeout != 4000 {
		t.Fatalf("revalidations %+v", s.reval)
	}
	answer := func(session int64, valid bool) Packet {
		d := binary.BigEndian.AppendUint64(nil, uint64(session))
		if valid {
			return Packet{Type: Revalidate, Zxid: -1, Data: append(d, 1)}
		}
		return Packet{Type: Revalidate, Zxid: -1, Data: append(d, 0)}
	}
	if _, ok := s.m.Revalidated(answer(0xc, true)); ok {
		t.Fatal("the follower's own session taken as an observer's")
	}
	r, ok := s.m.Revalidated(answer(0xa, true))
	if !ok || len(r.Send) != 1 || r.Send[0].Conn != 1 || !slices.Equal(r.Touches, []Touch{{Session: 0xa, Timeout: 3000}}) {
		t.Fatalf("answer a: %v %+v", ok, r)
	}
	r, ok = s.m.Revalidated(answer(0xb, false))
	if !ok || len(r.Send) != 1 || r.Send[0].Conn != 2 || len(r.Touches) != 0 {
		t.Fatalf("answer b: %v %+v", ok, r)
	}
	if _, ok := s.m.Revalidated(answer(0xb, false)); ok {
		t.Fatal("an answer with no question pending taken")
	}
}

// Only observers are served; an observer acknowledging anything but the epoch is dropped (processAck).
func TestObserverMasterRefuses(t *testing.T) {
	s := newOMSim(t, omCfg(txnsBetween(2, 1, 2)))
	f := NewLearner(LearnerConfig{MyID: 4, AcceptedEpoch: 2, CurrentEpoch: 2, LastZxid: 0x200000002})
	s.toMaster(5, f.Start().Send)
	if !slices.Equal(s.closed, []ConnID{5}) {
		t.Fatalf("a follower served: closed %v", s.closed)
	}
	s.observe(1, 9, 0x200000002)
	s.toMaster(1, []Packet{{Type: Ack, Zxid: 0x200000000}})
	if len(s.closed) != 1 {
		t.Fatalf("the epoch's ACK dropped the observer")
	}
	s.toMaster(1, []Packet{{Type: Ack, Zxid: 0x200000002}})
	if !slices.Equal(s.closed, []ConnID{5, 1}) {
		t.Fatalf("closed %v", s.closed)
	}
}

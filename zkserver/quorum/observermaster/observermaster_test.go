package observermaster

import (
	"bufio"
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/quorum/zab"
)

type fakeHost struct {
	mu       sync.Mutex
	forwards []zab.LearnerRequest
	syncs    []func()
	touches  []int64
	revals   []int64
}

func (h *fakeHost) CaptureSnapshot() (int64, []byte, error) {
	return 0, nil, net.ErrClosed // the test syncs by DIFF
}

func (h *fakeHost) Forward(rq zab.LearnerRequest, synced func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.forwards = append(h.forwards, rq)
	if synced != nil {
		h.syncs = append(h.syncs, synced)
	}
}

func (h *fakeHost) Revalidate(session int64, _ int32, _ int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.revals = append(h.revals, session)
}

func (h *fakeHost) Touch(session int64, _ int32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.touches = append(h.touches, session)
}

func (h *fakeHost) wait(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		ok := done()
		h.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func txnAt(zxid int64) zab.Txn {
	return zab.Txn{Zxid: zxid, Data: jute.Marshal(&jute.TxnHeader{ClientID: 1, Zxid: zxid, Type: jute.OpSetData})}
}

// An observer of ours connects over TCP, is synced by DIFF, receives a commit as INFORM, and its request, sync,
// ping answer and revalidation reach the follower; the leader's answers come back to it.
func TestObserverOverTCP(t *testing.T) {
	host := &fakeHost{}
	log := []zab.Txn{txnAt(0x200000001), txnAt(0x200000002)}
	s, err := Start(context.Background(), Config{Listen: "127.0.0.1:0", Core: zab.ObserverMasterConfig{
		CurrentEpoch: 2, LastCommitted: 0x200000002, CommittedLog: log, ConfigData: []byte("version=0"),
		TickTime: 50, InitLimit: 10, SyncLimit: 10}}, host)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	o := NewRawObserver(t, nc, zab.LearnerConfig{MyID: 9, Observer: true, AcceptedEpoch: 2, CurrentEpoch: 2,
		LastZxid: 0x200000001}, map[int64]int32{0x55: 3000})
	applied := func(zxids ...int64) func() bool {
		return func() bool {
			return slices.EqualFunc(o.Applied, zxids, func(t zab.Txn, z int64) bool { return t.Zxid == z })
		}
	}
	o.Next("the sync", applied(0x200000002))
	s.Committed(txnAt(0x200000003), nil)
	o.Next("the INFORM", applied(0x200000002, 0x200000003))

	o.Send(zab.RequestPacket(0x55, 1, jute.OpSync, []byte{0, 0, 0, 1, '/'}, nil), zab.RevalidatePacket(0x66, 4000))
	host.wait(t, "the forwards", func() bool { return len(host.syncs) == 1 && len(host.revals) == 1 })
	host.mu.Lock()
	if host.forwards[0].Session != 0x55 || host.forwards[0].Server != 9 || host.revals[0] != 0x66 {
		t.Fatalf("forwarded %+v, revalidations %x", host.forwards, host.revals)
	}
	syncDone := host.syncs[0]
	host.mu.Unlock()
	syncDone()
	if !s.Revalidated(zab.Packet{Type: zab.Revalidate, Zxid: -1, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0x66, 1}}) {
		t.Fatal("the observer's revalidation answer was not taken")
	}
	o.Next("the SYNC and the revalidation", func() bool { return o.Synced == 1 && len(o.Revalidated) == 1 })
	if rv := o.Revalidated[0]; !rv.Valid || rv.Session != 0x66 {
		t.Fatalf("revalidated %+v", o.Revalidated)
	}
	o.Next("a ping", func() bool {
		host.mu.Lock()
		defer host.mu.Unlock()
		return len(host.touches) >= 2 // the revalidated session, then the ping answer's
	})
}

// RawObserver is an observer for tests: our observer's Learner over one connection, its packets stepped as they
// come (snapshots loaded), what it applied, revalidated and synced kept.
type RawObserver struct {
	t           *testing.T
	nc          net.Conn
	br          *bufio.Reader
	l           *zab.Learner
	touches     map[int64]int32 // in every ping answer
	Serving     bool
	Applied     []zab.Txn
	Revalidated []zab.Revalidation
	Synced      int
}

// NewRawObserver starts an observer's handshake on nc; its ping answers report touches.
func NewRawObserver(t *testing.T, nc net.Conn, cfg zab.LearnerConfig, touches map[int64]int32) *RawObserver {
	o := &RawObserver{t: t, nc: nc, br: bufio.NewReader(nc), l: zab.NewLearner(cfg), touches: touches}
	o.Send(o.l.Start().Send...)
	return o
}

// Send writes packets to the observer master.
func (o *RawObserver) Send(ps ...zab.Packet) {
	o.t.Helper()
	for _, p := range ps {
		if _, err := o.nc.Write(p.Marshal()); err != nil {
			o.t.Fatal(err)
		}
	}
}

// Next reads and steps packets until cond holds.
func (o *RawObserver) Next(what string, cond func() bool) {
	o.t.Helper()
	for !cond() {
		p, err := zab.ReadPacket(o.br, 1<<20)
		if err != nil {
			o.t.Fatalf("waiting for %s: %v", what, err)
		}
		rd, err := o.l.Step(p)
		if err == zab.ErrNeedSnapshot {
			if _, err := zab.ReadSnapshotStream(o.br, 1<<20); err != nil {
				o.t.Fatalf("snapshot: %v", err)
			}
			o.l.SnapshotLoaded(p.Zxid)
			continue
		}
		if err != nil {
			o.t.Fatalf("%s: %v", p, err)
		}
		o.Serving = o.Serving || rd.Serving
		o.Synced += rd.Synced
		o.Revalidated = append(o.Revalidated, rd.Revalidated...)
		o.Applied = append(o.Applied, rd.Apply...)
		if rd.PingReply {
			rd.Send = append(rd.Send, zab.PingReplyPacket(rd.PingZxid, o.touches))
		}
		o.Send(rd.Send...)
	}
}

package zab

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/tree"
)

func TestPacketStream(t *testing.T) {
	ps := []Packet{
		{Type: Ping, Zxid: 0x100000003},
		{Type: Proposal, Zxid: 7, Data: []byte("txn"), AuthInfo: []jute.Id{{Scheme: "digest", ID: "u:x"}}},
		{Type: Ack, Zxid: -1, Data: []byte{}},
	}
	var buf bytes.Buffer
	for _, p := range ps {
		buf.Write(p.Marshal())
	}
	r := bufio.NewReader(&buf)
	for _, want := range ps {
		got, err := ReadPacket(r, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != want.Type || got.Zxid != want.Zxid || !bytes.Equal(got.Data, want.Data) ||
			(got.Data == nil) != (want.Data == nil) || len(got.AuthInfo) != len(want.AuthInfo) {
			t.Fatalf("got %+v want %+v", got, want)
		}
	}
	// A data length over the limit is refused before anything is allocated.
	big := binary.BigEndian.AppendUint32(nil, Proposal)
	big = binary.BigEndian.AppendUint64(big, 1)
	big = binary.BigEndian.AppendUint32(big, 1<<30)
	if _, err := ReadPacket(bufio.NewReader(bytes.NewReader(big)), 1<<20); err == nil ||
		!strings.Contains(err.Error(), "over") {
		t.Fatalf("oversize data: %v", err)
	}
}

// The SNAP stream: sessions, the tree as DataTree.serialize writes it, the signature; read back into a tree.
func TestSnapshotStream(t *testing.T) {
	src := tree.New(nil)
	hdr := &jute.TxnHeader{ClientID: 1, Zxid: 0x100000001, Type: 1}
	if res := src.Apply(hdr, &jute.CreateTxn{Path: "/a", Data: []byte("x"), ACL: []jute.ACL{{Perms: 31,
		ID: jute.Id{Scheme: "world", ID: "anyone"}}}}); res.Err != 0 {
		t.Fatalf("create: %v", res.Err)
	}
	var stream bytes.Buffer
	stream.Write(binary.BigEndian.AppendUint32(nil, 1))
	stream.Write(binary.BigEndian.AppendUint64(nil, 0x55))
	stream.Write(binary.BigEndian.AppendUint32(nil, 30000))
	if err := src.WriteSnapshot(&stream); err != nil {
		t.Fatal(err)
	}
	e := &jute.Encoder{}
	e.String("BenWasHere")
	stream.Write(e.Buf)
	stream.Write(Packet{Type: NewLeader}.Marshal()) // what follows on the stream stays unread
	r := bufio.NewReader(&stream)
	body, err := ReadSnapshotStream(r, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	dst := tree.New(nil)
	sessions, err := LoadSnapshot(body, dst)
	if err != nil {
		t.Fatal(err)
	}
	if sessions[0x55] != 30000 || dst.Node("/a") == nil || string(dst.Node("/a").Data) != "x" {
		t.Fatalf("sessions %v, /a %+v", sessions, dst.Node("/a"))
	}
	if p, err := ReadPacket(r, 1<<20); err != nil || p.Type != NewLeader {
		t.Fatalf("next packet %v %v", p, err)
	}
}

func TestSnapshotStreamSignature(t *testing.T) {
	var stream bytes.Buffer
	stream.Write(binary.BigEndian.AppendUint32(nil, 0)) // no sessions
	if err := tree.New(nil).WriteSnapshot(&stream); err != nil {
		t.Fatal(err)
	}
	e := &jute.Encoder{}
	e.String("BenWasGone")
	stream.Write(e.Buf)
	if _, err := ReadSnapshotStream(bufio.NewReader(&stream), 1<<20); err == nil ||
		!strings.Contains(err.Error(), "signature") {
		t.Fatalf("bad signature: %v", err)
	}
}

func txn(zxid int64) []byte {
	return jute.Marshal(&jute.TxnHeader{ClientID: 1, Zxid: zxid, Type: 2})
}

func step(t *testing.T, l *Learner, p Packet) Ready {
	t.Helper()
	r, err := l.Step(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return r
}

func sends(r Ready) []string {
	var out []string
	for _, p := range r.Send {
		out = append(out, p.String())
	}
	return out
}

// A learner one epoch behind, synced by DIFF with two proposals (one committed before NEWLEADER, one after),
// then broadcast: the order of epochs, log, apply and acknowledgements is Apache's.
func TestLearnerDiffSync(t *testing.T) {
	l := NewLearner(LearnerConfig{MyID: 1, AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: 0x100000005})
	r := l.Start()
	if len(r.Send) != 1 || r.Send[0].Type != FollowerInfo || r.Send[0].Zxid != 1<<32 {
		t.Fatalf("start %v", sends(r))
	}
	var li jute.LearnerInfo
	if err := jute.Unmarshal(r.Send[0].Data, &li); err != nil || li.ServerID != 1 || li.ProtocolVersion != ProtocolVersion {
		t.Fatalf("learner info %+v %v", li, err)
	}
	r = step(t, l, Packet{Type: LeaderInfo, Zxid: 2 << 32, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)})
	if r.AcceptedEpoch != 2 || r.Send[0].Type != AckEpoch || r.Send[0].Zxid != 0x100000005 ||
		binary.BigEndian.Uint32(r.Send[0].Data) != 1 {
		t.Fatalf("leaderinfo: %+v", r)
	}
	step(t, l, Packet{Type: Diff, Zxid: 0x100000007})
	step(t, l, Packet{Type: Proposal, Zxid: 0x100000006, Data: txn(0x100000006)})
	// After DIFF the sync's txns go to the log at NEWLEADER and commits wait for UPTODATE.
	if r = step(t, l, Packet{Type: Commit, Zxid: 0x100000006}); len(r.Apply) != 0 {
		t.Fatalf("commit during a DIFF sync applied at once: %+v", r)
	}
	step(t, l, Packet{Type: Proposal, Zxid: 0x100000007, Data: txn(0x100000007)})
	r = step(t, l, Packet{Type: NewLeader, Zxid: 2 << 32})
	if r.CurrentEpoch != 2 || r.Snapshot || len(r.Log) != 2 || r.Log[1].Zxid != 0x100000007 ||
		strings.Join(sends(r), ",") != "ACK zxid=0x200000000 data=0 bytes,ACK zxid=0x100000006 data=0 bytes,"+
			"ACK zxid=0x100000007 data=0 bytes" {
		t.Fatalf("newleader: %+v %v", r, sends(r))
	}
	step(t, l, Packet{Type: Commit, Zxid: 0x100000007})
	r = step(t, l, Packet{Type: UpToDate})
	if !r.Serving || len(r.Apply) != 2 || r.Apply[0].Zxid != 0x100000006 || r.Apply[1].Zxid != 0x100000007 ||
		r.Send[0].Zxid != 2<<32 {
		t.Fatalf("uptodate: %+v", r)
	}
	r = step(t, l, Packet{Type: Proposal, Zxid: 0x200000001, Data: txn(0x200000001)})
	if len(r.Log) != 1 || len(r.Send) != 1 || r.Send[0].Type != Ack || r.Send[0].Zxid != 0x200000001 {
		t.Fatalf("proposal: %+v", r)
	}
	// In broadcast the runtime answers a PING with the sessions its clients touched.
	r = step(t, l, Packet{Type: Ping, Zxid: 0x200000001})
	if !r.PingReply || r.PingZxid != 0x200000001 || len(r.Send) != 0 {
		t.Fatalf("ping: %+v", r)
	}
	ping := PingReplyPacket(0x200000001, map[int64]int32{0x100: 4000})
	if !bytes.Equal(ping.Data, []byte{0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x0f, 0xa0}) {
		t.Fatalf("ping reply data %x", ping.Data)
	}
	if r = step(t, l, Packet{Type: Sync}); r.Synced != 1 {
		t.Fatalf("sync: %+v", r)
	}
	r = step(t, l, Packet{Type: Revalidate, Zxid: -1, Data: []byte{0, 0, 0, 0, 0, 0, 1, 0, 1}})
	if len(r.Revalidated) != 1 || r.Revalidated[0] != (Revalidation{Session: 0x100, Valid: true}) {
		t.Fatalf("revalidate: %+v", r)
	}
	req := RequestPacket(0x100, 7, jute.OpSync, []byte{0, 0, 0, 1, '/'}, nil)
	if req.Type != Request || req.Zxid != -1 || !bytes.Equal(req.Data, []byte{0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 1, '/'}) {
		t.Fatalf("request packet %+v", req)
	}
	if got := l.Uncommitted(); len(got) != 1 || got[0].Zxid != 0x200000001 {
		t.Fatalf("uncommitted %+v", got)
	}
	if _, err := l.Step(Packet{Type: Commit, Zxid: 0x200000002}); err == nil {
		t.Fatal("a commit of a zxid not proposed next must end the connection")
	}
}

func TestLearnerRefusals(t *testing.T) {
	l := NewLearner(LearnerConfig{MyID: 1, AcceptedEpoch: 5})
	l.Start()
	if _, err := l.Step(Packet{Type: LeaderInfo, Zxid: 4 << 32, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)}); err == nil {
		t.Fatal("a leader epoch below our accepted epoch")
	}
	l = NewLearner(LearnerConfig{MyID: 1, AcceptedEpoch: 5, CurrentEpoch: 4})
	l.Start()
	r := step(t, l, Packet{Type: LeaderInfo, Zxid: 5 << 32, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)})
	if r.AcceptedEpoch != 0 || int32(binary.BigEndian.Uint32(r.Send[0].Data)) != -1 {
		t.Fatalf("same epoch: %+v", r)
	}
	r = step(t, l, Packet{Type: Trunc, Zxid: 0x400000002})
	if !r.Truncate || r.TruncateTo != 0x400000002 {
		t.Fatalf("trunc: %+v", r)
	}
	if r = step(t, l, Packet{Type: NewLeader, Zxid: 5 << 32}); !r.Snapshot {
		t.Fatal("after TRUNC the tree is snapshotted at NEWLEADER")
	}
	l = NewLearner(LearnerConfig{MyID: 1})
	l.Start()
	step(t, l, Packet{Type: LeaderInfo, Zxid: 1 << 32, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)})
	if _, err := l.Step(Packet{Type: Snap, Zxid: 1 << 32}); !errors.Is(err, ErrNeedSnapshot) {
		t.Fatalf("snap: %v", err)
	}
	// After a snapshot, the sync's commits apply to the tree at once; the snapshot at NEWLEADER holds them.
	l.SnapshotLoaded(1 << 32)
	step(t, l, Packet{Type: Proposal, Zxid: 0x100000001, Data: txn(0x100000001)})
	if r = step(t, l, Packet{Type: Commit, Zxid: 0x100000001}); len(r.Apply) != 1 {
		t.Fatalf("commit after SNAP: %+v", r)
	}
	if r = step(t, l, Packet{Type: NewLeader, Zxid: 1 << 32}); !r.Snapshot || len(r.Log) != 0 {
		t.Fatalf("newleader after SNAP: %+v", r)
	}
}

// A count of ACLs the stream does not hold ends the read at the stream's end with an error; the walk once went on
// counting for up to 2^31 rounds after it (found by FuzzLearnerStream; testdata/fuzz holds that input).
func TestSnapshotStreamCountPastEnd(t *testing.T) {
	var b []byte
	b = binary.BigEndian.AppendUint32(b, 0)          // no sessions
	b = binary.BigEndian.AppendUint32(b, 0x7fffffff) // ACL cache size
	b = binary.BigEndian.AppendUint64(b, 1)          // first ACL id, then the end
	if _, err := ReadSnapshotStream(bufio.NewReader(bytes.NewReader(b)), 1<<20); err == nil {
		t.Fatal("a truncated ACL cache was read")
	}
}

// A sync by SNAP or TRUNC changes the tree without logging until NEWLEADER has it saved: TreeUnsaved says so
// until then; a DIFF sync logs what it gets and never does.
func TestLearnerTreeUnsaved(t *testing.T) {
	for _, tc := range []struct {
		first   Packet
		unsaved bool
	}{
		{Packet{Type: Diff, Zxid: 0x100000005}, false},
		{Packet{Type: Snap, Zxid: 0x100000009}, true},
		{Packet{Type: Trunc, Zxid: 0x100000003}, true},
	} {
		l := NewLearner(LearnerConfig{MyID: 1, AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: 0x100000005})
		l.Start()
		step(t, l, Packet{Type: LeaderInfo, Zxid: 2 << 32, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)})
		if l.TreeUnsaved() {
			t.Fatalf("%v: unsaved before the sync began", tc.first)
		}
		if _, err := l.Step(tc.first); errors.Is(err, ErrNeedSnapshot) {
			l.SnapshotLoaded(tc.first.Zxid)
		} else if err != nil {
			t.Fatal(err)
		}
		if l.TreeUnsaved() != tc.unsaved {
			t.Fatalf("after %v: unsaved %v, want %v", tc.first, l.TreeUnsaved(), tc.unsaved)
		}
		if r := step(t, l, Packet{Type: NewLeader, Zxid: 2 << 32}); r.Snapshot != tc.unsaved || l.TreeUnsaved() {
			t.Fatalf("%v, then NEWLEADER: snapshot %v, unsaved %v", tc.first, r.Snapshot, l.TreeUnsaved())
		}
	}
}

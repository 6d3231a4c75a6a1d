package pipeline

import (
	"encoding/binary"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// frames is a client connection's write side that keeps what the pipeline sends.
type frames chan []byte

func (f frames) Send(b []byte)    { f <- b }
func (f frames) CloseAfterFlush() {}

func (f frames) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-f:
		return b[4:]
	case <-time.After(10 * time.Second):
		t.Fatal("no frame")
		return nil
	}
}

// replyXid is the xid of a reply frame (its header's first field).
func replyXid(b []byte) int32 { return int32(binary.BigEndian.Uint32(b)) }

type forward struct {
	session   int64
	cxid, op  int32
	body      []byte
	revalidat bool
}

// fakeLeader records what the pipeline sends its leader.
type fakeLeader chan forward

func (l fakeLeader) Forward(session int64, cxid, op int32, body []byte, auth []jute.Id) {
	l <- forward{session: session, cxid: cxid, op: op, body: body}
}

func (l fakeLeader) Revalidate(session int64, timeout int32) {
	l <- forward{session: session, revalidat: true}
}

func (l fakeLeader) next(t *testing.T) forward {
	t.Helper()
	return recv(t, l)
}

func newFollower(t *testing.T, dir string) *Processor {
	t.Helper()
	return startQuorumMember(t, dir, Config{TickTime: 2000, MinSessionTimeout: 4000, MaxSessionTimeout: 40000})
}

// startQuorumMember starts a processor of server 1 in an ensemble, its snapshots and logs under dir, cfg giving the
// rest; it is closed when the test ends.
func startQuorumMember(t *testing.T, dir string, cfg Config) *Processor {
	t.Helper()
	cfg.ServerID, cfg.Quorum, cfg.ForceSync = 1, true, true
	cfg.SnapDir, cfg.LogDir = filepath.Join(dir, "snap"), filepath.Join(dir, "log")
	return startProcessor(t, cfg)
}

// committed is the txn the leader commits, decoded as the follower runtime hands it over.
func committed(t *testing.T, hdr jute.TxnHeader, txn jute.Record) *storage.Entry {
	t.Helper()
	e, err := storage.DecodeEntry(storage.EncodeEntry(&hdr, txn, nil))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A follower forwards writes and session creation, answers them when their commit comes, and holds a session's
// read behind its forwarded write: the read sees the write.
func TestFollowerOrdersReadsBehindForwardedWrites(t *testing.T) {
	p := newFollower(t, t.TempDir())
	leader := fakeLeader(make(chan forward, 16))
	p.StartServing(leader)
	out := frames(make(chan []byte, 16))
	c := p.NewClient(out, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, jute.Id{Scheme: "ip", ID: "127.0.0.1"})
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000}})
	fw := leader.next(t)
	if fw.op != jute.OpCreateSession || fw.session>>56 != 1 || binary.BigEndian.Uint32(fw.body) != 10000 {
		t.Fatalf("createSession forwarded as %+v", fw)
	}
	sid := fw.session
	p.ApplyCommitted([]*storage.Entry{committed(t, jute.TxnHeader{ClientID: sid, Zxid: 0x100000001,
		Type: jute.OpCreateSession}, &jute.CreateSessionTxn{TimeOut: 10000})}, true)
	var cr jute.ConnectResponse
	if err := jute.Unmarshal(out.next(t), &cr); err != nil || cr.SessionID != sid || cr.TimeOut != 10000 {
		t.Fatalf("connect response %+v %v", cr, err)
	}

	create := &jute.CreateRequest{Path: "/a", Data: []byte("v"), ACL: []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}}
	p.Submit(&Request{Client: c, Xid: 1, Op: jute.OpCreate, Body: create, Start: time.Now()})
	p.Submit(&Request{Client: c, Xid: 2, Op: jute.OpGetData, Body: &jute.GetDataRequest{Path: "/a"}, Start: time.Now()})
	fw = leader.next(t)
	if fw.op != jute.OpCreate || fw.cxid != 1 || fw.session != sid || string(fw.body) != string(jute.Marshal(create)) {
		t.Fatalf("create forwarded as %+v", fw)
	}
	// Another client's ping is answered at once; the read waits behind the create.
	other := frames(make(chan []byte, 4))
	c2 := p.NewClient(other, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, jute.Id{Scheme: "ip", ID: "127.0.0.1"})
	p.Submit(&Request{Client: c2, Xid: jute.XidPing, Op: jute.OpPing, Start: time.Now()})
	other.next(t)
	select {
	case b := <-out:
		t.Fatalf("answered before the commit: xid %d", replyXid(b[4:]))
	default:
	}
	p.ApplyCommitted([]*storage.Entry{committed(t, jute.TxnHeader{ClientID: sid, Cxid: 1, Zxid: 0x100000002,
		Type: jute.OpCreate}, &jute.CreateTxn{Path: "/a", Data: []byte("v"), ACL: create.ACL, ParentCVersion: 1})}, true)
	if b := out.next(t); replyXid(b) != 1 {
		t.Fatalf("first reply xid %d", replyXid(b))
	}
	b := out.next(t)
	d := jute.NewDecoder(b)
	var hdr jute.ReplyHeader
	hdr.Decode(d)
	var gd jute.GetDataResponse
	gd.Decode(d)
	if hdr.Xid != 2 || hdr.Err != 0 || string(gd.Data) != "v" || gd.Stat.Czxid != 0x100000002 {
		t.Fatalf("read behind the write: %+v %+v", hdr, gd)
	}
}

// TRUNC: proposals logged but never committed are taken back from the log and the tree.
func TestFollowerTruncate(t *testing.T) {
	dir := t.TempDir()
	p := newFollower(t, dir)
	var entries [][]byte
	var zxids []int64
	for i := int64(1); i <= 6; i++ {
		hdr := jute.TxnHeader{ClientID: 5, Cxid: int32(i), Zxid: 0x100000000 + i, Type: jute.OpCreate}
		entries = append(entries, storage.EncodeEntry(&hdr, &jute.CreateTxn{Path: "/n" + string(rune('0'+i)),
			ACL: []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}, ParentCVersion: int32(i)}, nil))
		zxids = append(zxids, hdr.Zxid)
	}
	logged := make(chan struct{})
	p.LogProposals(entries, zxids, func() { close(logged) })
	<-logged
	var ents []*storage.Entry
	for _, e := range entries {
		ent, _ := storage.DecodeEntry(e)
		ents = append(ents, ent)
	}
	// The connection to the leader ends: the logged proposals are applied, as Apache's fastForwardDataBase.
	if err := p.StopServing(ents, false); err != nil || p.LastZxid() != 0x100000006 {
		t.Fatalf("after StopServing: zxid %#x, %v", p.LastZxid(), err)
	}
	if err := p.Truncate(0x100000003); err != nil {
		t.Fatal(err)
	}
	if p.LastZxid() != 0x100000003 {
		t.Fatalf("zxid after TRUNC %#x", p.LastZxid())
	}
	var has [7]bool
	p.call(func() error {
		for i := 1; i <= 6; i++ {
			has[i] = p.tree.Node("/n"+string(rune('0'+i))) != nil
		}
		return nil
	})
	if has != [7]bool{false, true, true, true, false, false, false} {
		t.Fatalf("nodes after TRUNC %v", has)
	}
	// The log continues after the truncation point.
	logged = make(chan struct{})
	p.LogProposals(entries[3:4], zxids[3:4], func() { close(logged) })
	<-logged
	p.Close()
	n := 0
	if _, err := storage.ReadLog(filepath.Join(dir, "log"), 0, func(e *storage.Entry) error {
		n++
		return nil
	}); err != nil || n != 4 {
		t.Fatalf("log after TRUNC and one more proposal: %d txns, %v", n, err)
	}
}

// A sync by SNAP that ends before NEWLEADER saved the leader's snapshot: StopServing with reload drops the tree
// loaded from the leader and loads the database from disk again, as Apache's learner clears its database then.
func TestFollowerReloadsUnsavedSync(t *testing.T) {
	dir := t.TempDir()
	p := newFollower(t, dir)
	var entries [][]byte
	var zxids []int64
	var ents []*storage.Entry
	for i := int64(1); i <= 3; i++ {
		hdr := jute.TxnHeader{ClientID: 5, Cxid: int32(i), Zxid: 0x100000000 + i, Type: jute.OpCreate}
		e := storage.EncodeEntry(&hdr, &jute.CreateTxn{Path: "/n" + string(rune('0'+i)),
			ACL: []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}, ParentCVersion: int32(i)}, nil)
		entries, zxids = append(entries, e), append(zxids, hdr.Zxid)
		ent, _ := storage.DecodeEntry(e)
		ents = append(ents, ent)
	}
	logged := make(chan struct{})
	p.LogProposals(entries, zxids, func() { close(logged) })
	<-logged
	if err := p.StopServing(ents, false); err != nil || p.LastZxid() != 0x100000003 {
		t.Fatalf("after StopServing: zxid %#x, %v", p.LastZxid(), err)
	}
	// The next leader's snapshot, loaded and not saved.
	p.ReplaceDatabase(p.NewTree(), nil, 0x200000009)
	p.call(func() error { return nil }) // after the replacement
	if p.LastZxid() != 0x200000009 {
		t.Fatalf("zxid after the snapshot %#x", p.LastZxid())
	}
	if err := p.StopServing(nil, true); err != nil || p.LastZxid() != 0x100000003 {
		t.Fatalf("after StopServing with reload: zxid %#x, %v", p.LastZxid(), err)
	}
	var has bool
	p.call(func() error {
		has = p.tree.Node("/n3") != nil
		return nil
	})
	if !has {
		t.Fatal("/n3, logged before the sync, is missing after the reload")
	}
}

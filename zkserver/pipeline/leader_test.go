package pipeline

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// fakeEnsemble records what a leading pipeline proposes.
type fakeEnsemble struct {
	proposed chan int64
	durable  chan int64
	syncs    chan uint64
}

func newFakeEnsemble() *fakeEnsemble {
	return &fakeEnsemble{proposed: make(chan int64, 64), durable: make(chan int64, 64), syncs: make(chan uint64, 8)}
}

func (e *fakeEnsemble) Propose(entry []byte, zxid int64) { e.proposed <- zxid }
func (e *fakeEnsemble) Durable(zxid int64)               { e.durable <- zxid }
func (e *fakeEnsemble) Sync(conn uint64)                 { e.syncs <- conn }

func recv[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received")
		var zero T
		return zero
	}
}

// closingFrames also reports the connection's close.
type closingFrames struct {
	frames
	closed chan struct{}
}

func (f closingFrames) CloseAfterFlush() { f.closed <- struct{}{} }

func replyErr(b []byte) int32 { return int32(binary.BigEndian.Uint32(b[12:])) }

// A leader proposes each txn as it is made and answers (replies and watch events) only once the ensemble commits:
// its own log is not enough. Requests forwarded by a learner create sessions owned by that learner; a local client
// using such a session gets SessionMoved; the learner's sync waits for the proposals before it.
func TestLeaderHoldsRepliesUntilCommit(t *testing.T) {
	p := newFollower(t, t.TempDir())
	ens := newFakeEnsemble()
	p.StartLeading(ens, 2)
	out := frames(make(chan []byte, 16))
	closed := make(chan struct{}, 1)
	c := p.NewClient(closingFrames{out, closed}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, jute.Id{Scheme: "ip", ID: "127.0.0.1"})
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000}})
	if z := recv(t, ens.proposed); z != 2<<32|1 {
		t.Fatalf("createSession proposed as %#x, want the epoch's first zxid", z)
	}
	if z := recv(t, ens.durable); z != 2<<32|1 {
		t.Fatalf("durable %#x", z)
	}
	select {
	case <-out:
		t.Fatal("connect answered before its commit")
	case <-time.After(50 * time.Millisecond):
	}
	p.Committed(2<<32 | 1)
	var cr jute.ConnectResponse
	if err := jute.Unmarshal(out.next(t), &cr); err != nil || cr.TimeOut != 10000 {
		t.Fatalf("connect response %+v %v", cr, err)
	}

	acl := []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	p.Submit(&Request{Client: c, Xid: 1, Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/a", ACL: acl}, Start: time.Now()})
	p.Submit(&Request{Client: c, Xid: 2, Op: jute.OpExists, Body: &jute.ExistsRequest{Path: "/a"}, Start: time.Now()})
	recv(t, ens.proposed)
	recv(t, ens.durable)
	// A learner's client's session, and a write through it.
	p.SubmitLearnerRequest(LearnerRequest{Conn: 7, Learner: 3, Session: 0x0300000000000001, Op: jute.OpCreateSession,
		Body: binary.BigEndian.AppendUint32(nil, 6000)})
	p.SubmitLearnerRequest(LearnerRequest{Conn: 7, Learner: 3, Session: 0x0300000000000001, Cxid: 1, Op: jute.OpCreate,
		Body: jute.Marshal(&jute.CreateRequest{Path: "/b", ACL: acl})})
	p.SubmitLearnerRequest(LearnerRequest{Conn: 7, Learner: 3, Session: 0x0300000000000001, Cxid: 2, Op: jute.OpSync,
		Body: jute.Marshal(&jute.SyncRequest{Path: "/"})})
	for _, want := range []int64{2<<32 | 3, 2<<32 | 4} {
		if z := recv(t, ens.proposed); z != want {
			t.Fatalf("proposed %#x, want %#x", z, want)
		}
	}
	if conn := recv(t, ens.syncs); conn != 7 {
		t.Fatalf("sync for connection %d", conn)
	}
	select {
	case b := <-out:
		t.Fatalf("reply xid %d before its commit", replyXid(b[4:]))
	case <-time.After(50 * time.Millisecond):
	}
	p.Committed(2<<32 | 2)
	if b := out.next(t); replyXid(b) != 1 || replyErr(b) != 0 {
		t.Fatalf("create's reply: xid %d err %d", replyXid(b), replyErr(b))
	}
	if b := out.next(t); replyXid(b) != 2 || replyErr(b) != 0 {
		t.Fatalf("exists' reply: xid %d err %d", replyXid(b), replyErr(b))
	}
	p.Committed(2<<32 | 4)
	// The learner's session is the learner's: used here, it has moved. SessionMoved is a connection-level error:
	// the write's ErrorTxn takes a zxid, and the connection closes without a reply (a read's and a ping's too, in
	// their prep).
	var z int64
	for i, req := range []*Request{
		{Xid: 5, Op: jute.OpSetData, Body: &jute.SetDataRequest{Path: "/b", Version: -1}},
		{Xid: 6, Op: jute.OpExists, Body: &jute.ExistsRequest{Path: "/b"}},
		{Xid: jute.XidPing, Op: jute.OpPing},
	} {
		out2, closed2 := frames(make(chan []byte, 4)), make(chan struct{}, 1)
		c2 := p.NewClient(closingFrames{out2, closed2}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, jute.Id{Scheme: "ip", ID: "127.0.0.1"})
		c2.session = 0x0300000000000001
		req.Client, req.Start = c2, time.Now()
		p.Submit(req)
		if i == 0 {
			z = recv(t, ens.proposed)
			p.Committed(z)
		}
		recv(t, closed2)
		select {
		case b := <-out2:
			t.Fatalf("op %d on a learner's session here answered: xid %d err %d", req.Op, replyXid(b[4:]), replyErr(b[4:]))
		default:
		}
	}
	// Another learner's write on that session: its ErrorTxn is proposed and nothing is sent here (that learner
	// closes its client's connection on the commit).
	p.SubmitLearnerRequest(LearnerRequest{Conn: 8, Learner: 4, Session: 0x0300000000000001, Cxid: 3, Op: jute.OpSetData,
		Body: jute.Marshal(&jute.SetDataRequest{Path: "/b", Version: -1})})
	z = recv(t, ens.proposed)
	p.Committed(z)
	// Leadership ends: what waits for a commit is never sent (the delete's reply), and the connections close.
	p.Submit(&Request{Client: c, Xid: 6, Op: jute.OpDelete, Body: &jute.DeleteRequest{Path: "/a", Version: -1}, Start: time.Now()})
	recv(t, ens.proposed)
	if err := p.StopLeading(); err != nil {
		t.Fatal(err)
	}
	recv(t, closed)
	select {
	case b := <-out:
		t.Fatalf("reply xid %d after the leadership ended", replyXid(b[4:]))
	case <-time.After(50 * time.Millisecond):
	}
	if p.LastZxid() != z+1 {
		t.Fatalf("last zxid %#x after stopping, want the delete's %#x (logged, to be settled by the next leader)", p.LastZxid(), z+1)
	}
}

// PrepRequestProcessor checks a session where each op is prepped: a multi's per op, a create's after its mode. On a
// session that moved, an empty multi is answered, a create with a bad mode gets BadArguments, and a multi with an op
// closes the connection without a reply (its txn, a multi of errors, still takes a zxid).
func TestMovedSessionCheckedPerOp(t *testing.T) {
	p := newFollower(t, t.TempDir())
	ens := newFakeEnsemble()
	p.StartLeading(ens, 2)
	const sid = 0x0300000000000001
	p.SubmitLearnerRequest(LearnerRequest{Conn: 7, Learner: 3, Session: sid, Op: jute.OpCreateSession,
		Body: binary.BigEndian.AppendUint32(nil, 6000)})
	p.Committed(recv(t, ens.proposed))
	acl := []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	for _, tc := range []struct {
		req     *Request
		txn     bool // a txn is proposed
		closes  bool
		wantErr int32
	}{
		{req: &Request{Xid: 1, Op: jute.OpMulti, Body: &jute.MultiRequest{}}, txn: true},
		{req: &Request{Xid: 2, Op: jute.OpCreate, Body: &jute.CreateRequest{Path: "/x", ACL: acl, Flags: 99}}, txn: true,
			wantErr: int32(jute.ErrBadArguments)},
		{req: &Request{Xid: 3, Op: jute.OpMulti, Body: &jute.MultiRequest{Ops: []jute.Op{
			{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: "/x", ACL: acl}}}}}, txn: true, closes: true},
	} {
		out, closed := frames(make(chan []byte, 4)), make(chan struct{}, 1)
		c := p.NewClient(closingFrames{out, closed}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, jute.Id{Scheme: "ip", ID: "127.0.0.1"})
		c.session = sid
		tc.req.Client, tc.req.Start = c, time.Now()
		p.Submit(tc.req)
		if tc.txn {
			p.Committed(recv(t, ens.proposed))
		}
		if tc.closes {
			recv(t, closed)
			select {
			case b := <-out:
				t.Fatalf("xid %d on a moved session answered: err %d", tc.req.Xid, replyErr(b[4:]))
			default:
			}
			continue
		}
		if b := out.next(t); replyXid(b) != tc.req.Xid || replyErr(b) != tc.wantErr {
			t.Fatalf("xid %d: reply xid %d err %d, want err %d", tc.req.Xid, replyXid(b), replyErr(b), tc.wantErr)
		}
	}
}

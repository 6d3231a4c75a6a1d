package pipeline

import (
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/session"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// roConn is a client connection's write side that keeps the frames sent and whether it was closed.
type roConn struct {
	frames chan []byte
	closed chan struct{}
	once   sync.Once
}

func newROConn() *roConn { return &roConn{frames: make(chan []byte, 64), closed: make(chan struct{})} }

func (c *roConn) Send(b []byte)    { c.frames <- b }
func (c *roConn) CloseAfterFlush() { c.once.Do(func() { close(c.closed) }) }

func (c *roConn) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-c.frames:
		return b[4:]
	case <-time.After(10 * time.Second):
		t.Fatal("no frame")
		return nil
	}
}

// waitClosed waits for the connection to be closed and returns the frames sent before.
func (c *roConn) waitClosed(t *testing.T) [][]byte {
	t.Helper()
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("connection not closed")
	}
	var out [][]byte
	for {
		select {
		case b := <-c.frames:
			out = append(out, b[4:])
		default:
			return out
		}
	}
}

func (c *roConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func reply(t *testing.T, b []byte) (jute.ReplyHeader, *jute.Decoder) {
	t.Helper()
	d := jute.NewDecoder(b)
	var hdr jute.ReplyHeader
	hdr.Decode(d)
	if d.Err() != nil {
		t.Fatalf("reply %x: %v", b, d.Err())
	}
	return hdr, d
}

var openACL = []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}

// newReadOnly is a quorum member (server 1) holding /a ("v") and a global session 0x77, serving read-only clients.
func newReadOnly(t *testing.T, tickTime int, localSessions bool) (*Processor, string) {
	t.Helper()
	dir := t.TempDir()
	p := startQuorumMember(t, dir, Config{TickTime: tickTime, MinSessionTimeout: 2 * tickTime, MaxSessionTimeout: 40000})
	p.ApplyCommitted([]*storage.Entry{
		committed(t, jute.TxnHeader{ClientID: 0x77, Zxid: 0x100000001, Type: jute.OpCreateSession},
			&jute.CreateSessionTxn{TimeOut: 30000}),
		committed(t, jute.TxnHeader{ClientID: 0x77, Cxid: 1, Zxid: 0x100000002, Type: jute.OpCreate},
			&jute.CreateTxn{Path: "/a", Data: []byte("v"), ACL: openACL, ParentCVersion: 1}),
	}, true)
	if err := p.StartReadOnly(localSessions); err != nil {
		t.Fatal(err)
	}
	if !p.ReadOnly() || !p.Serving() {
		t.Fatalf("read-only %v, serving %v", p.ReadOnly(), p.Serving())
	}
	return p, filepath.Join(dir, "log")
}

func roClient(p *Processor) (*Client, *roConn) {
	out := newROConn()
	return p.NewClient(out, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, jute.Id{Scheme: "ip", ID: "127.0.0.1"}), out
}

// connectRO connects a read-only client with a new local session and checks the response: flagged read-only, a
// session of server 1.
func connectRO(t *testing.T, p *Processor) (*Client, *roConn, int64) {
	t.Helper()
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}, ReadOnly: true, HasRO: true})
	d := jute.NewDecoder(out.next(t))
	var cr jute.ConnectResponse
	cr.Decode(d)
	if d.Err() != nil || d.Remaining() != 1 || !d.Bool() || cr.SessionID>>56 != 1 || cr.TimeOut != 10000 ||
		string(cr.Passwd) != string(session.Password(cr.SessionID)) {
		t.Fatalf("read-only connect response %+v (%v)", cr, d.Err())
	}
	return c, out, cr.SessionID
}

// A read-only server answers reads from its tree and every state change NotReadOnly, with its last zxid and no txn.
func TestReadOnlyRefusesWrites(t *testing.T) {
	p, logDir := newReadOnly(t, 2000, true)
	c, out, _ := connectRO(t, p)
	writes := []struct {
		op   int32
		body jute.Record
	}{
		{jute.OpCreate, &jute.CreateRequest{Path: "/b", ACL: openACL}},
		{jute.OpCreate2, &jute.CreateRequest{Path: "/b", ACL: openACL}},
		{jute.OpCreateContainer, &jute.CreateRequest{Path: "/b", ACL: openACL, Flags: 4}},
		{jute.OpCreateTTL, &jute.CreateTTLRequest{Path: "/b", ACL: openACL, Flags: 5, TTL: 100}},
		{jute.OpDelete, &jute.DeleteRequest{Path: "/a", Version: -1}},
		{jute.OpDeleteContainer, nil},
		{jute.OpSetData, &jute.SetDataRequest{Path: "/a", Data: []byte("w"), Version: -1}},
		{jute.OpSetACL, &jute.SetACLRequest{Path: "/a", ACL: openACL, Version: -1}},
		{jute.OpCheck, &jute.CheckVersionRequest{Path: "/a", Version: 0}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.Op{{Type: jute.OpDelete, Rec: &jute.DeleteRequest{Path: "/a", Version: -1}}}}},
		{jute.OpSync, &jute.SyncRequest{Path: "/a"}},
		{jute.OpReconfig, &jute.ReconfigRequest{LeavingServers: "2", CurConfigID: -1}},
	}
	for i, w := range writes {
		xid := int32(i + 1)
		p.Submit(&Request{Client: c, Xid: xid, Op: w.op, Body: w.body, Start: time.Now()})
		hdr, _ := reply(t, out.next(t))
		if hdr.Xid != xid || hdr.Err != int32(jute.ErrNotReadOnly) || hdr.Zxid != 0x100000002 {
			t.Errorf("op %d: reply %+v, want NotReadOnly at zxid 0x100000002", w.op, hdr)
		}
	}
	// A malformed write is refused before its body is looked at, as ReadOnlyRequestProcessor does.
	p.Submit(&Request{Client: c, Xid: 50, Op: jute.OpSetData, Malformed: true, Start: time.Now()})
	if hdr, _ := reply(t, out.next(t)); hdr.Err != int32(jute.ErrNotReadOnly) {
		t.Errorf("malformed setData: %+v", hdr)
	}
	// A createSession request of a local session passes the filter, and FinalRequestProcessor answers it with the
	// session's connect response.
	p.Submit(&Request{Client: c, Xid: 60, Op: jute.OpCreateSession, Start: time.Now()})
	d := jute.NewDecoder(out.next(t))
	var cr jute.ConnectResponse
	cr.Decode(d)
	if cr.SessionID != c.SessionID() || cr.TimeOut != 10000 || !d.Bool() {
		t.Fatalf("createSession of a local session: %+v", cr)
	}
	p.Submit(&Request{Client: c, Xid: 51, Op: jute.OpGetData, Body: &jute.GetDataRequest{Path: "/a"}, Start: time.Now()})
	hdr, d := reply(t, out.next(t))
	var gd jute.GetDataResponse
	gd.Decode(d)
	if hdr.Xid != 51 || hdr.Err != 0 || hdr.Zxid != 0x100000002 || string(gd.Data) != "v" || gd.Stat.Czxid != 0x100000002 {
		t.Fatalf("getData on the read-only server: %+v %+v", hdr, gd)
	}
	if p.LastZxid() != 0x100000002 {
		t.Fatalf("a read-only server made a txn: last zxid %#x", p.LastZxid())
	}
	// The session closes here, with no txn: answered, then the connection closes.
	p.Submit(&Request{Client: c, Xid: 52, Op: jute.OpCloseSession, Start: time.Now()})
	frames := out.waitClosed(t)
	if len(frames) != 1 {
		t.Fatalf("closeSession: %d frames", len(frames))
	}
	if hdr, _ := reply(t, frames[0]); hdr.Xid != 52 || hdr.Err != 0 || hdr.Zxid != 0x100000002 {
		t.Fatalf("closeSession reply %+v", hdr)
	}
	if p.LocalSessionCount() != 0 {
		t.Fatalf("%d local sessions after closeSession", p.LocalSessionCount())
	}
	p.Close()
	n := 0
	if _, err := storage.ReadLog(logDir, 0, func(e *storage.Entry) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("txn log after read-only service: %d txns, %v", n, err)
	}
}

// Clients that did not ask for read-only service are turned away with no answer, as are global sessions; a local
// session resumes on a new connection, its old one closing.
func TestReadOnlyConnect(t *testing.T) {
	p, _ := newReadOnly(t, 2000, true)
	for _, cr := range []*ConnectRequest{
		{Req: jute.ConnectRequest{TimeOut: 10000}, HasRO: true}, // readOnly=false
		{Req: jute.ConnectRequest{TimeOut: 10000}},              // legacy: no readOnly byte
		{Req: jute.ConnectRequest{TimeOut: 10000, SessionID: 0x77, Passwd: session.Password(0x77)}, ReadOnly: true, HasRO: true},
		{Req: jute.ConnectRequest{TimeOut: 10000, LastZxidSeen: 0x100000003}, ReadOnly: true, HasRO: true},
	} {
		c, out := roClient(p)
		p.Connect(c, cr)
		if frames := out.waitClosed(t); len(frames) != 0 {
			t.Errorf("connect %+v answered %x", cr, frames)
		}
	}
	_, out, sid := connectRO(t, p)
	c2, out2 := roClient(p)
	p.Connect(c2, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, SessionID: sid, Passwd: session.Password(sid)},
		ReadOnly: true, HasRO: true})
	var cr jute.ConnectResponse
	d := jute.NewDecoder(out2.next(t))
	cr.Decode(d)
	if cr.SessionID != sid || !d.Bool() {
		t.Fatalf("resumed local session: %+v", cr)
	}
	out.waitClosed(t)
	p.Submit(&Request{Client: c2, Xid: 1, Op: jute.OpExists, Body: &jute.ExistsRequest{Path: "/a"}, Start: time.Now()})
	if hdr, _ := reply(t, out2.next(t)); hdr.Err != 0 {
		t.Fatalf("exists on the resumed session: %+v", hdr)
	}
	// A wrong password gets the invalid-session response, flagged read-only, and the connection closes.
	c3, out3 := roClient(p)
	p.Connect(c3, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, SessionID: sid, Passwd: make([]byte, 16)},
		ReadOnly: true, HasRO: true})
	frames := out3.waitClosed(t)
	if len(frames) != 1 {
		t.Fatalf("wrong password: %d frames", len(frames))
	}
	d = jute.NewDecoder(frames[0])
	cr.Decode(d)
	if cr.SessionID != 0 || cr.TimeOut != 0 || !d.Bool() {
		t.Fatalf("wrong password: %+v", cr)
	}
}

// Without localSessionsEnabled a new session's createSession is refused as Apache 3.8 refuses it: NotReadOnly where
// the connect response should be, and nothing the client sends after is answered.
func TestReadOnlyWithoutLocalSessions(t *testing.T) {
	p, _ := newReadOnly(t, 2000, false)
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}, ReadOnly: true, HasRO: true})
	hdr, d := reply(t, out.next(t))
	if hdr.Xid != 0 || hdr.Zxid != 0x100000002 || hdr.Err != int32(jute.ErrNotReadOnly) || d.Remaining() != 0 {
		t.Fatalf("new session without local sessions: %+v", hdr)
	}
	p.Submit(&Request{Client: c, Xid: 1, Op: jute.OpGetData, Body: &jute.GetDataRequest{Path: "/a"}, Start: time.Now()})
	other, oout := roClient(p)
	p.Submit(&Request{Client: other, Xid: jute.XidPing, Op: jute.OpPing, Start: time.Now()})
	oout.next(t) // the ping queued after the getData is answered: the getData was not
	select {
	case b := <-out.frames:
		t.Fatalf("a request after the refused session was answered: %x", b)
	default:
	}
	// A session nobody knows resumes (LearnerSessionTracker checks nothing without local sessions) and reads; its
	// closeSession, not a local session's, is refused.
	const sid = 0x0100000000000abc
	c2, out2 := roClient(p)
	p.Connect(c2, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, SessionID: sid, Passwd: session.Password(sid)},
		ReadOnly: true, HasRO: true})
	var cr jute.ConnectResponse
	d = jute.NewDecoder(out2.next(t))
	cr.Decode(d)
	if cr.SessionID != sid || cr.TimeOut != 10000 || !d.Bool() {
		t.Fatalf("resuming an unknown session: %+v", cr)
	}
	p.Submit(&Request{Client: c2, Xid: 1, Op: jute.OpGetData, Body: &jute.GetDataRequest{Path: "/a"}, Start: time.Now()})
	if hdr, _ := reply(t, out2.next(t)); hdr.Err != 0 {
		t.Fatalf("getData: %+v", hdr)
	}
	p.Submit(&Request{Client: c2, Xid: 2, Op: jute.OpCloseSession, Start: time.Now()})
	frames := out2.waitClosed(t)
	if len(frames) != 1 {
		t.Fatalf("closeSession: %d frames", len(frames))
	}
	if hdr, _ := reply(t, frames[0]); hdr.Xid != 2 || hdr.Err != int32(jute.ErrNotReadOnly) {
		t.Fatalf("closeSession of a session that is not local: %+v", hdr)
	}
}

// Read-only service ends when an election does: every connection closes, local sessions are gone, and the server
// serves no one until it follows or leads.
func TestStopReadOnly(t *testing.T) {
	p, _ := newReadOnly(t, 2000, true)
	_, out, _ := connectRO(t, p)
	if err := p.StopReadOnly(); err != nil {
		t.Fatal(err)
	}
	out.waitClosed(t)
	if p.ReadOnly() || p.Serving() || p.LocalSessionCount() != 0 {
		t.Fatalf("after StopReadOnly: read-only %v, serving %v, %d local sessions", p.ReadOnly(), p.Serving(),
			p.LocalSessionCount())
	}
	c, out2 := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000}, ReadOnly: true, HasRO: true})
	if frames := out2.waitClosed(t); len(frames) != 0 {
		t.Fatalf("a client of a server not serving: %x", frames)
	}
	if p.ServingPeriods() != 1 {
		t.Fatalf("serving periods %d", p.ServingPeriods())
	}
}

// A local session nobody touches expires on the read-only server: its connection closes.
func TestReadOnlyLocalSessionExpires(t *testing.T) {
	p, _ := newReadOnly(t, 50, true)
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 100, Passwd: make([]byte, 16)}, ReadOnly: true, HasRO: true})
	out.next(t)
	if p.LocalSessionCount() != 1 {
		t.Fatalf("%d local sessions", p.LocalSessionCount())
	}
	out.waitClosed(t)
	deadline := time.Now().Add(10 * time.Second)
	for p.LocalSessionCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the expired local session is still tracked")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

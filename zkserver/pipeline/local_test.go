package pipeline

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/session"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// newMember is quorum member 1 with localSessionsEnabled (and localSessionsUpgradingEnabled when upgrading), not
// yet following or leading.
func newMember(t *testing.T, tickTime int, upgrading bool) *Processor {
	t.Helper()
	return startQuorumMember(t, t.TempDir(), Config{TickTime: tickTime, MinSessionTimeout: 2 * tickTime,
		MaxSessionTimeout: 40000, LocalSessions: true, LocalSessionsUpgrading: upgrading})
}

// barrier returns once the core has handled everything submitted before: what it forwards or proposes for them
// has been handed over by then.
func barrier(t *testing.T, p *Processor) {
	t.Helper()
	if err := p.call(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func noneSent[T any](t *testing.T, ch chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s: %+v", what, v)
	default:
	}
}

// startStandalone starts a standalone processor on a new data dir (server 1, tickTime 2 s, sessions of 4-40 s),
// with tweak's changes to that config, closed when the test ends.
func startStandalone(t *testing.T, tweak func(*Config)) *Processor {
	t.Helper()
	dir := t.TempDir()
	cfg := Config{ServerID: 1, TickTime: 2000, MinSessionTimeout: 4000, MaxSessionTimeout: 40000,
		SnapDir: filepath.Join(dir, "snap"), LogDir: filepath.Join(dir, "log")}
	if tweak != nil {
		tweak(&cfg)
	}
	return startProcessor(t, cfg)
}

// startProcessor starts a processor of cfg, closed when the test ends.
func startProcessor(t *testing.T, cfg Config) *Processor {
	t.Helper()
	p, err := New(cfg, func(err error) { t.Errorf("fatal: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(func() { p.Close() })
	return p
}

// connectNew connects a new client and returns its connection and session (checked to be server 1's).
func connectNew(t *testing.T, p *Processor, timeout int32) (*Client, *roConn, int64) {
	t.Helper()
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: timeout, Passwd: make([]byte, 16)}})
	var cr jute.ConnectResponse
	if err := jute.Unmarshal(out.next(t), &cr); err != nil || cr.SessionID>>56 != 1 || cr.TimeOut != timeout ||
		string(cr.Passwd) != string(session.Password(cr.SessionID)) {
		t.Fatalf("connect response %+v %v", cr, err)
	}
	return c, out, cr.SessionID
}

// resume connects with an existing session and returns the connect response.
func resume(t *testing.T, p *Processor, sid int64) (jute.ConnectResponse, *Client, *roConn) {
	t.Helper()
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, SessionID: sid, Passwd: session.Password(sid)}})
	var cr jute.ConnectResponse
	if err := jute.Unmarshal(out.next(t), &cr); err != nil {
		t.Fatal(err)
	}
	return cr, c, out
}

// resumeGone reconnects with a session that is no longer local here: the leader is asked, and says no, as it
// knows no local session.
func resumeGone(t *testing.T, p *Processor, leader fakeLeader, sid int64) jute.ConnectResponse {
	t.Helper()
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, SessionID: sid, Passwd: session.Password(sid)}})
	if fw := leader.next(t); !fw.revalidat || fw.session != sid {
		t.Fatalf("reconnect of a session gone here: %+v", fw)
	}
	p.Revalidated(sid, false)
	var cr jute.ConnectResponse
	if err := jute.Unmarshal(out.next(t), &cr); err != nil {
		t.Fatal(err)
	}
	return cr
}

func submit(p *Processor, c *Client, xid, op int32, body jute.Record) {
	p.Submit(&Request{Client: c, Xid: xid, Op: op, Body: body, Start: time.Now()})
}

func ephemeral(path string) *jute.CreateRequest {
	return &jute.CreateRequest{Path: path, ACL: openACL, Flags: jute.ModeEphemeral}
}

func persistent(path string) *jute.CreateRequest {
	return &jute.CreateRequest{Path: path, ACL: openACL}
}

func expectReply(t *testing.T, out *roConn, xid int32, e jute.Err) jute.ReplyHeader {
	t.Helper()
	hdr, _ := reply(t, out.next(t))
	if hdr.Xid != xid || jute.Err(hdr.Err) != e {
		t.Fatalf("reply %+v, want xid %d err %d", hdr, xid, e)
	}
	return hdr
}

// A follower's new session is local: answered at once, nothing sent to the leader. Its persistent create goes to
// the leader under its id; an ephemeral create upgrades it first (a createSession with its id and timeout, ahead of
// the create), after which it is global and its closeSession goes to the leader too.
func TestFollowerUpgradesLocalSession(t *testing.T) {
	p := newMember(t, 2000, true)
	leader := fakeLeader(make(chan forward, 16))
	p.StartServing(leader)
	c, out, sid := connectNew(t, p, 10000)
	barrier(t, p)
	noneSent(t, leader, "a local session's connect forwarded")
	if p.LocalSessionCount() != 1 || p.Sessions().Count() != 0 {
		t.Fatalf("local %d, global %d", p.LocalSessionCount(), p.Sessions().Count())
	}

	submit(p, c, 1, jute.OpCreate, persistent("/p"))
	if fw := leader.next(t); fw.op != jute.OpCreate || fw.session != sid || fw.cxid != 1 {
		t.Fatalf("persistent create forwarded as %+v", fw)
	}
	p.ApplyCommitted([]*storage.Entry{committed(t, jute.TxnHeader{ClientID: sid, Cxid: 1, Zxid: 0x100000001,
		Type: jute.OpCreate}, &jute.CreateTxn{Path: "/p", ACL: openACL, ParentCVersion: 1})}, true)
	expectReply(t, out, 1, jute.ErrOK)

	submit(p, c, 2, jute.OpCreate2, ephemeral("/e"))
	fw := leader.next(t)
	if fw.op != jute.OpCreateSession || fw.session != sid || fw.cxid != 0 || binary.BigEndian.Uint32(fw.body) != 10000 {
		t.Fatalf("upgrade forwarded as %+v", fw)
	}
	if fw = leader.next(t); fw.op != jute.OpCreate2 || fw.cxid != 2 {
		t.Fatalf("ephemeral create forwarded as %+v", fw)
	}
	barrier(t, p)
	if p.LocalSessionCount() != 0 {
		t.Fatalf("upgraded session still local: %d", p.LocalSessionCount())
	}
	p.ApplyCommitted([]*storage.Entry{
		committed(t, jute.TxnHeader{ClientID: sid, Zxid: 0x100000002, Type: jute.OpCreateSession},
			&jute.CreateSessionTxn{TimeOut: 10000}),
		committed(t, jute.TxnHeader{ClientID: sid, Cxid: 2, Zxid: 0x100000003, Type: jute.OpCreate2},
			&jute.CreateTxn{Path: "/e", ACL: openACL, Ephemeral: true, ParentCVersion: 2}),
	}, true)
	expectReply(t, out, 2, jute.ErrOK)
	barrier(t, p)
	if p.Sessions().Count() != 1 || p.LocalSessionCount() != 0 {
		t.Fatalf("after the upgrade: local %d, global %d", p.LocalSessionCount(), p.Sessions().Count())
	}

	// Global now: its close is the leader's.
	submit(p, c, 3, jute.OpCloseSession, nil)
	if fw := leader.next(t); fw.op != jute.OpCloseSession || fw.session != sid {
		t.Fatalf("closeSession of the upgraded session forwarded as %+v", fw)
	}
}

// Without localSessionsUpgradingEnabled a local session's ephemeral create still goes to the leader (which fails it
// with SessionExpired, knowing no such session), and the client gets EphemeralOnLocalSession. The session resumes on
// a new connection here; one this server does not know is the leader's to revalidate. Its close is local: answered
// with our last zxid, nothing sent.
func TestFollowerEphemeralOnLocalSession(t *testing.T) {
	p := newMember(t, 2000, false)
	leader := fakeLeader(make(chan forward, 16))
	p.StartServing(leader)
	c, out, sid := connectNew(t, p, 10000)

	submit(p, c, 1, jute.OpCreate, ephemeral("/e"))
	if fw := leader.next(t); fw.op != jute.OpCreate || fw.cxid != 1 {
		t.Fatalf("ephemeral create forwarded as %+v", fw)
	}
	p.ApplyCommitted([]*storage.Entry{committed(t, jute.TxnHeader{ClientID: sid, Cxid: 1, Zxid: 0x100000001,
		Type: jute.OpError}, &jute.ErrorTxn{Err: int32(jute.ErrSessionExpired)})}, true)
	if hdr := expectReply(t, out, 1, jute.ErrEphemeralOnLocalSession); hdr.Zxid != 0x100000001 {
		t.Fatalf("reply zxid %#x", hdr.Zxid)
	}
	barrier(t, p)
	if p.LocalSessionCount() != 1 || p.Sessions().Count() != 0 {
		t.Fatalf("local %d, global %d", p.LocalSessionCount(), p.Sessions().Count())
	}

	// Resumed here on a new connection: the old one closes.
	cr, c2, out2 := resume(t, p, sid)
	if cr.SessionID != sid || cr.TimeOut != 10000 {
		t.Fatalf("resuming the local session: %+v", cr)
	}
	out.waitClosed(t)
	noneSent(t, leader, "a local session's reconnect sent to the leader")
	other := int64(0x0200000000000001)
	resume2, _ := roClient(p)
	p.Connect(resume2, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, SessionID: other, Passwd: session.Password(other)}})
	if fw := leader.next(t); !fw.revalidat || fw.session != other {
		t.Fatalf("another server's session: %+v", fw)
	}

	submit(p, c2, 2, jute.OpCloseSession, nil)
	if hdr := expectReply(t, out2, 2, jute.ErrOK); hdr.Zxid != 0x100000001 {
		t.Fatalf("local close answered with zxid %#x", hdr.Zxid)
	}
	out2.waitClosed(t)
	barrier(t, p)
	noneSent(t, leader, "a local session's close sent to the leader")
	if p.LocalSessionCount() != 0 {
		t.Fatalf("closed local session still tracked")
	}
	if cr := resumeGone(t, p, leader, sid); cr.SessionID != 0 || cr.TimeOut != 0 {
		t.Fatalf("a closed local session resumed: %+v", cr)
	}
}

// A local session expires on the server that made it: its connection closes, with nothing sent to the leader.
func TestLocalSessionExpires(t *testing.T) {
	p := newMember(t, 20, false)
	leader := fakeLeader(make(chan forward, 16))
	p.StartServing(leader)
	_, out, sid := connectNew(t, p, 40)
	out.waitClosed(t)
	barrier(t, p)
	noneSent(t, leader, "a local session's expiry sent to the leader")
	if p.LocalSessionCount() != 0 {
		t.Fatal("expired local session still tracked")
	}
	if n := p.Stats.SessionsExpired.Load(); n != 1 { // stale_sessions_expired: LocalSessionTracker's too
		t.Fatalf("sessions expired %d", n)
	}
	if cr := resumeGone(t, p, leader, sid); cr.SessionID != 0 {
		t.Fatalf("an expired local session resumed: %+v", cr)
	}
	if n := p.Stats.ConnectionRevalidates.Load(); n != 1 {
		t.Fatalf("connection_revalidate_count %d after one resume", n)
	}
}

// entEnsemble keeps what a leading pipeline proposes, decoded.
type entEnsemble chan *storage.Entry

func (e entEnsemble) Propose(entry []byte, zxid int64) {
	ent, err := storage.DecodeEntry(append([]byte(nil), entry...))
	if err != nil {
		panic(err)
	}
	e <- ent
}
func (e entEnsemble) Durable(zxid int64) {}
func (e entEnsemble) Sync(conn uint64)   {}

// proposed returns the next proposal, which must be of type typ.
func proposed(t *testing.T, e entEnsemble, typ int32) *storage.Entry {
	t.Helper()
	ent := recv(t, e)
	if ent.Hdr.Type != typ {
		t.Fatalf("proposed %+v %+v, want type %d", ent.Hdr, ent.Txn, typ)
	}
	return ent
}

// A leader's own new sessions are local: no createSession txn. Without upgrading, an ephemeral create from one
// fails with EphemeralOnLocalSession, an ErrorTxn logged as Apache's leader does; its persistent writes are
// prepped; its close makes no txn.
func TestLeaderLocalSession(t *testing.T) {
	p := newMember(t, 2000, false)
	ens := entEnsemble(make(chan *storage.Entry, 16))
	p.StartLeading(ens, 2)
	c, out, sid := connectNew(t, p, 10000)
	barrier(t, p)
	noneSent(t, ens, "a local session proposed")
	if p.LocalSessionCount() != 1 || p.Sessions().Count() != 0 {
		t.Fatalf("local %d, global %d", p.LocalSessionCount(), p.Sessions().Count())
	}
	submit(p, c, 1, jute.OpCreate, ephemeral("/e"))
	ent := proposed(t, ens, jute.OpError)
	if et, _ := ent.Txn.(*jute.ErrorTxn); et == nil || jute.Err(et.Err) != jute.ErrEphemeralOnLocalSession || ent.Hdr.ClientID != sid {
		t.Fatalf("ephemeral create from a local session logged as %+v %+v", ent.Hdr, ent.Txn)
	}
	p.Committed(ent.Hdr.Zxid)
	expectReply(t, out, 1, jute.ErrEphemeralOnLocalSession)

	// In a multi the ephemeral create's op fails so.
	submit(p, c, 2, jute.OpMulti, &jute.MultiRequest{Ops: []jute.Op{
		{Type: jute.OpCreate, Rec: persistent("/m")}, {Type: jute.OpCreate, Rec: ephemeral("/m/e")}}})
	ent = proposed(t, ens, jute.OpMulti)
	mt := ent.Txn.(*jute.MultiTxn)
	var et jute.ErrorTxn
	if len(mt.Txns) != 2 || mt.Txns[1].Type != jute.OpError || jute.Unmarshal(mt.Txns[1].Data, &et) != nil ||
		jute.Err(et.Err) != jute.ErrEphemeralOnLocalSession {
		t.Fatalf("multi logged as %+v", mt)
	}
	p.Committed(ent.Hdr.Zxid)
	expectReply(t, out, 2, jute.ErrOK)

	submit(p, c, 3, jute.OpCreate, persistent("/p"))
	if ent := proposed(t, ens, jute.OpCreate); ent.Hdr.ClientID != sid {
		t.Fatalf("persistent create logged as %+v", ent.Hdr)
	}
	p.Committed(p.LastZxid())
	expectReply(t, out, 3, jute.ErrOK)

	submit(p, c, 4, jute.OpCloseSession, nil)
	expectReply(t, out, 4, jute.ErrOK)
	out.waitClosed(t)
	barrier(t, p)
	noneSent(t, ens, "a local session's close proposed")
	if p.LocalSessionCount() != 0 {
		t.Fatal("closed local session still tracked")
	}
}

// With upgrading, a leader's own local session that creates an ephemeral is made global first: a createSession txn
// with its id and timeout, then the create; closing it is then a closeSession txn deleting the ephemeral.
func TestLeaderUpgradesLocalSession(t *testing.T) {
	p := newMember(t, 2000, true)
	ens := entEnsemble(make(chan *storage.Entry, 16))
	p.StartLeading(ens, 2)
	c, out, sid := connectNew(t, p, 10000)
	submit(p, c, 1, jute.OpCreate, ephemeral("/e"))
	ent := proposed(t, ens, jute.OpCreateSession)
	if cs, _ := ent.Txn.(*jute.CreateSessionTxn); cs == nil || cs.TimeOut != 10000 || ent.Hdr.ClientID != sid || ent.Hdr.Cxid != 0 {
		t.Fatalf("upgrade logged as %+v %+v", ent.Hdr, ent.Txn)
	}
	ent = proposed(t, ens, jute.OpCreate)
	if ct, _ := ent.Txn.(*jute.CreateTxn); ct == nil || !ct.Ephemeral {
		t.Fatalf("ephemeral create logged as %+v", ent.Txn)
	}
	p.Committed(ent.Hdr.Zxid)
	expectReply(t, out, 1, jute.ErrOK)
	if p.LocalSessionCount() != 0 || p.Sessions().Count() != 1 {
		t.Fatalf("after the upgrade: local %d, global %d", p.LocalSessionCount(), p.Sessions().Count())
	}
	submit(p, c, 2, jute.OpCloseSession, nil)
	ent = proposed(t, ens, jute.OpCloseSession)
	if cs, _ := ent.Txn.(*jute.CloseSessionTxn); cs == nil || len(cs.Paths2Delete) != 1 || cs.Paths2Delete[0] != "/e" {
		t.Fatalf("close of the upgraded session logged as %+v", ent.Txn)
	}
}

// The leader takes writes of sessions it does not know when local sessions are on and the id is another server's
// (a local session there), but not of one with its own id, nor an ephemeral create of any session it does not know
// (a global session is required): LeaderSessionTracker.checkSession and checkGlobalSession. Without local sessions
// an unknown session has expired.
func TestLeaderChecksLearnersLocalSessions(t *testing.T) {
	learnerCreate := func(p *Processor, sid int64, cxid int32, req *jute.CreateRequest) {
		p.SubmitLearnerRequest(LearnerRequest{Conn: 7, Learner: 3, Session: sid, Cxid: cxid, Op: jute.OpCreate,
			Body: jute.Marshal(req)})
	}
	errOf := func(t *testing.T, ent *storage.Entry) jute.Err {
		t.Helper()
		if ent.Hdr.Type != jute.OpError {
			return jute.ErrOK
		}
		return jute.Err(ent.Txn.(*jute.ErrorTxn).Err)
	}
	const theirs, ours = int64(0x0300000000000001), int64(0x0100000000000001)
	t.Run("local sessions", func(t *testing.T) {
		p := newMember(t, 2000, true)
		ens := entEnsemble(make(chan *storage.Entry, 16))
		p.StartLeading(ens, 2)
		learnerCreate(p, theirs, 1, persistent("/theirs"))
		if e := errOf(t, recv(t, ens)); e != jute.ErrOK {
			t.Fatalf("another server's local session's create: %d", e)
		}
		learnerCreate(p, ours, 1, persistent("/ours"))
		if e := errOf(t, recv(t, ens)); e != jute.ErrSessionExpired {
			t.Fatalf("an unknown session with the leader's id: %d", e)
		}
		learnerCreate(p, theirs, 2, ephemeral("/theirs-e"))
		if e := errOf(t, recv(t, ens)); e != jute.ErrSessionExpired {
			t.Fatalf("another server's local session's ephemeral create: %d", e)
		}
	})
	t.Run("no local sessions", func(t *testing.T) {
		p := newFollower(t, t.TempDir())
		ens := entEnsemble(make(chan *storage.Entry, 16))
		p.StartLeading(ens, 2)
		learnerCreate(p, theirs, 1, persistent("/theirs"))
		if e := errOf(t, recv(t, ens)); e != jute.ErrSessionExpired {
			t.Fatalf("an unknown session without local sessions: %d", e)
		}
	})
}

// A standalone server ignores localSessionsEnabled, as Apache's: its sessions are global (a createSession txn).
func TestStandaloneIgnoresLocalSessions(t *testing.T) {
	p := startStandalone(t, func(c *Config) { c.LocalSessions = true })
	before := p.LastZxid()
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}})
	out.next(t)
	if p.LastZxid() != before+1 || p.Sessions().Count() != 1 || p.LocalSessionCount() != 0 {
		t.Fatalf("zxid %#x -> %#x, global %d, local %d", before, p.LastZxid(), p.Sessions().Count(), p.LocalSessionCount())
	}
}

// With local sessions a learner drops the requests of a session it does not know, as Apache's submitRequestNow
// when LearnerSessionTracker.touchSession fails: neither answered nor sent to the leader. A session being upgraded
// is known (its requests go on while its createSession is on its way); one closed, locally or by the leader's
// commit, is not.
func TestFollowerDropsRequestsOfUnknownSessions(t *testing.T) {
	p := newMember(t, 2000, true)
	leader := fakeLeader(make(chan forward, 16))
	p.StartServing(leader)

	// A local session closed here: what its client pipelined after the close goes nowhere.
	c, out, _ := connectNew(t, p, 10000)
	submit(p, c, 1, jute.OpCloseSession, nil)
	submit(p, c, 2, jute.OpCreate, persistent("/after-close"))
	submit(p, c, 3, jute.OpGetData, &jute.GetDataRequest{Path: "/"})
	submit(p, c, 4, jute.OpSync, &jute.SyncRequest{Path: "/"})
	expectReply(t, out, 1, jute.ErrOK)
	out.waitClosed(t)
	barrier(t, p)
	noneSent(t, leader, "a request of a closed local session forwarded")
	if n := p.Stats.Outstanding.Load(); n != 0 {
		t.Fatalf("outstanding requests %d after the drops", n)
	}

	// Upgrading: the requests behind the ephemeral create are the session's, forwarded or queued, and answered.
	c2, out2, sid2 := connectNew(t, p, 10000)
	submit(p, c2, 1, jute.OpCreate, ephemeral("/e"))
	submit(p, c2, 2, jute.OpGetData, &jute.GetDataRequest{Path: "/"})
	submit(p, c2, 3, jute.OpCreate, persistent("/p"))
	for _, want := range []struct{ op, cxid int32 }{{jute.OpCreateSession, 0}, {jute.OpCreate, 1}, {jute.OpCreate, 3}} {
		if fw := leader.next(t); fw.op != want.op || fw.cxid != want.cxid || fw.session != sid2 {
			t.Fatalf("forwarded %+v, want %+v", fw, want)
		}
	}
	p.ApplyCommitted([]*storage.Entry{
		committed(t, jute.TxnHeader{ClientID: sid2, Zxid: 0x100000001, Type: jute.OpCreateSession},
			&jute.CreateSessionTxn{TimeOut: 10000}),
		committed(t, jute.TxnHeader{ClientID: sid2, Cxid: 1, Zxid: 0x100000002, Type: jute.OpCreate},
			&jute.CreateTxn{Path: "/e", ACL: openACL, Ephemeral: true, ParentCVersion: 1}),
		committed(t, jute.TxnHeader{ClientID: sid2, Cxid: 3, Zxid: 0x100000003, Type: jute.OpCreate},
			&jute.CreateTxn{Path: "/p", ACL: openACL, ParentCVersion: 2}),
	}, true)
	expectReply(t, out2, 1, jute.ErrOK)
	expectReply(t, out2, 2, jute.ErrOK)
	expectReply(t, out2, 3, jute.ErrOK)

	// Global now, and closed by another server's client: the commit closes our connection, and a request of the
	// session still arriving is dropped.
	p.ApplyCommitted([]*storage.Entry{committed(t, jute.TxnHeader{ClientID: sid2, Cxid: 7, Zxid: 0x100000004,
		Type: jute.OpCloseSession}, nil)}, true)
	out2.waitClosed(t)
	submit(p, c2, 4, jute.OpSetData, &jute.SetDataRequest{Path: "/p", Data: []byte("x"), Version: -1})
	barrier(t, p)
	noneSent(t, leader, "a request of a session closed by the leader forwarded")
}

// Without local sessions a learner's touch never fails: a session it does not know goes to the leader, which
// decides.
func TestFollowerWithoutLocalSessionsForwardsUnknownSessions(t *testing.T) {
	p := newFollower(t, t.TempDir())
	leader := fakeLeader(make(chan forward, 16))
	p.StartServing(leader)
	c, _ := roClient(p)
	c.session = 0x0200000000000001 // bound elsewhere; never committed here
	submit(p, c, 1, jute.OpCreate, persistent("/x"))
	if fw := leader.next(t); fw.op != jute.OpCreate || fw.session != c.session {
		t.Fatalf("forwarded %+v", fw)
	}
}

// A follower makes FinalRequestProcessor's stale check when a forwarded request's commit arrives: a write the
// leader applied counts once its connection has closed, one it failed (an ErrorTxn) does not.
func TestFollowerStaleReplies(t *testing.T) {
	p := startQuorumMember(t, t.TempDir(), Config{TickTime: 2000, MinSessionTimeout: 4000, MaxSessionTimeout: 40000,
		Throttle: ThrottleConfig{StaleConnectionCheck: true}})
	leader := fakeLeader(make(chan forward, 16))
	p.StartServing(leader)
	c, _ := roClient(p)
	c.session = 0x0100000000000001
	submit(p, c, 1, jute.OpCreate, persistent("/a"))
	submit(p, c, 2, jute.OpCreate, persistent("/a"))
	leader.next(t)
	leader.next(t)
	c.closed.Store(true)
	p.ApplyCommitted([]*storage.Entry{
		committed(t, jute.TxnHeader{ClientID: c.session, Cxid: 1, Zxid: 0x100000001, Type: jute.OpCreate},
			&jute.CreateTxn{Path: "/a", ACL: openACL, ParentCVersion: 1}),
		committed(t, jute.TxnHeader{ClientID: c.session, Cxid: 2, Zxid: 0x100000002, Type: jute.OpError},
			&jute.ErrorTxn{Err: int32(jute.ErrNodeExists)}),
	}, true)
	// The check is made as the batch is delivered; a second client's answer comes after it.
	other, out := roClient(p)
	other.session = 0x0100000000000002
	p.Sessions().Add(other.session, 10000, time.Now().UnixMilli())
	submit(p, other, 1, jute.OpExists, &jute.ExistsRequest{Path: "/a"})
	expectReply(t, out, 1, jute.ErrOK)
	if got := p.ThrottleStats().StaleReplies.Load(); got != 1 {
		t.Fatalf("stale_replies %d, want 1", got)
	}
}

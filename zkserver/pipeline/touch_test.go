package pipeline

import (
	"testing"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// noReply fails if the connection got a frame.
func noReply(t *testing.T, out *roConn, what string) {
	t.Helper()
	select {
	case b := <-out.frames:
		hdr, _ := reply(t, b[4:])
		t.Fatalf("%s: answered %+v", what, hdr)
	default:
	}
}

// A standalone server's touch fails for a closing or closed session: the requests are dropped before prep, with no
// answer and no ErrorTxn, as SessionTrackerImpl.touchSession and submitRequestNow do.
func TestStandaloneDropsRequestsOfClosingSessions(t *testing.T) {
	p := startStandalone(t, nil)

	// Marked closing, as the expirer marks a session before its closeSession is processed.
	c, out, sid := connectNew(t, p, 10000)
	submit(p, c, 1, jute.OpCreate, persistent("/a"))
	expectReply(t, out, 1, jute.ErrOK)
	zxid := p.LastZxid()
	p.Sessions().SetClosing(sid)
	submit(p, c, 2, jute.OpCreate, persistent("/b"))
	submit(p, c, 3, jute.OpGetData, &jute.GetDataRequest{Path: "/a"})
	submit(p, c, 4, jute.OpSync, &jute.SyncRequest{Path: "/"})
	barrier(t, p)
	noReply(t, out, "a request of a closing session")
	if z := p.LastZxid(); z != zxid {
		t.Fatalf("last zxid %#x after the drops, want %#x (no ErrorTxn)", z, zxid)
	}
	if n := p.Stats.Outstanding.Load(); n != 0 {
		t.Fatalf("outstanding requests %d after the drops", n)
	}

	// Pipelined behind its closeSession: only the close is logged and answered.
	c2, out2, _ := connectNew(t, p, 10000)
	zxid = p.LastZxid()
	submit(p, c2, 1, jute.OpCloseSession, nil)
	submit(p, c2, 2, jute.OpCreate, persistent("/c"))
	expectReply(t, out2, 1, jute.ErrOK)
	out2.waitClosed(t)
	barrier(t, p)
	if z := p.LastZxid(); z != zxid+1 {
		t.Fatalf("last zxid %#x, want %#x: the closeSession only", z, zxid+1)
	}
	if n := p.Stats.Outstanding.Load(); n != 0 {
		t.Fatalf("outstanding requests %d after the drop", n)
	}
}

// A leader's own clients are touched as a standalone server's: a request of a closing global session is not
// prepped, so nothing is proposed for it. A learner's forwarded request is not touched on the leader.
func TestLeaderDropsRequestsOfClosingSessions(t *testing.T) {
	p := newFollower(t, t.TempDir())
	ens := entEnsemble(make(chan *storage.Entry, 16))
	p.StartLeading(ens, 2)
	c, out := roClient(p)
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}})
	ent := proposed(t, ens, jute.OpCreateSession)
	sid := ent.Hdr.ClientID
	p.Committed(ent.Hdr.Zxid)
	out.next(t)

	p.Sessions().SetClosing(sid)
	submit(p, c, 1, jute.OpCreate, persistent("/a"))
	submit(p, c, 2, jute.OpGetData, &jute.GetDataRequest{Path: "/"})
	barrier(t, p)
	noneSent(t, ens, "a request of a closing session proposed")
	noReply(t, out, "a request of a closing session")

	// The same session's write forwarded by a learner is prepped: it fails there, as Apache's prep fails it.
	p.SubmitLearnerRequest(LearnerRequest{Learner: 2, Session: sid, Cxid: 3, Op: jute.OpCreate,
		Body: jute.Marshal(persistent("/b"))})
	if ent := proposed(t, ens, jute.OpError); ent.Hdr.ClientID != sid {
		t.Fatalf("learner's request logged as %+v", ent.Hdr)
	}
}

// A follower's reads are not session-checked (no prep on its chain): a session it does not know, which its touch
// lets through without local sessions, is answered as any other.
func TestFollowerServesReadsOfUnknownSessions(t *testing.T) {
	p := newFollower(t, t.TempDir())
	p.StartServing(fakeLeader(make(chan forward, 16)))
	c, out := roClient(p)
	c.session = 0x0200000000000001 // bound elsewhere; never committed here
	submit(p, c, 1, jute.OpGetData, &jute.GetDataRequest{Path: "/"})
	submit(p, c, 2, jute.OpExists, &jute.ExistsRequest{Path: "/none"})
	expectReply(t, out, 1, jute.ErrOK)
	expectReply(t, out, 2, jute.ErrNoNode)
}

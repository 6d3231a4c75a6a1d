package pipeline

import (
	"encoding/binary"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// A leader's pipeline, as Apache's LeaderZooKeeperServer: requests are prepped and applied as on a standalone
// server, from local clients and from the learners (forwarded), and every txn is proposed to the ensemble as it is
// made. Replies and events wait until the ensemble commits the txns before them instead of only our own fsync;
// a learner's client gets its reply from the learner, on the commit. The quorum runtime drives it through the
// exported methods below.

// Ensemble is a leader's link to its followers. Its methods must not block: Propose and Sync run on the core
// goroutine, Durable on the log syncer's.
type Ensemble interface {
	// Propose sends a new txn to the followers: its bytes as logged.
	Propose(entry []byte, zxid int64)
	// Durable says our txn log holds every txn up to zxid (the leader's own acknowledgement).
	Durable(zxid int64)
	// Sync answers a learner's forwarded sync once the txns proposed before it are committed.
	Sync(conn uint64)
}

// Txn is a logged txn: its zxid and its bytes as a txn log entry (and a PROPOSAL) carries them.
type Txn struct {
	Zxid int64
	Data []byte
}

// recentTxns is how many recent txns a new leader keeps in memory to sync learners from (Apache's
// commitLogCount).
const recentTxns = 500

// owner is who a session's requests come through (SessionTrackerImpl's owner): this server's own connections,
// or a learner by its sid.
type owner struct {
	learner bool
	sid     int64
}

// learnerOwner is the owner of the sessions of a learner's clients.
func learnerOwner(sid int64) owner { return owner{learner: true, sid: sid} }

// checkSession is PrepRequestProcessor's session check: unknown or closing sessions fail, and while leading a
// session used through another server than its owner fails with SessionMoved (local sessions: see
// leaderCheckSession). A follower's local sessions pass.
func (p *Processor) checkSession(c *Client, sid int64) jute.Err {
	switch {
	case p.ro:
		return p.roCheckSession(sid)
	case p.ens != nil:
		return p.leaderCheckSession(sid, c.via)
	case p.local != nil && p.local.Check(sid) == jute.ErrOK:
		return jute.ErrOK
	}
	return p.sessions.Check(sid)
}

// PrepareLeading is what Leader.lead does first (zk.loadData on a loaded database): the ephemerals of sessions the
// database has no timeout for go, without a txn, and a snapshot of the database is written at its last zxid, on
// every leadership. A learner keeps such ephemerals unless it is synced by SNAP, as Apache's do.
func (p *Processor) PrepareLeading() error {
	return p.call(func() error {
		p.killDeadSessions()
		_, err := p.writeSnapshot()
		return err
	})
}

// StartLeading makes the server lead the ensemble from epoch on: the next txn is the epoch's first. Sessions get
// a full timeout from now, as a new leader's session tracker gives them.
func (p *Processor) StartLeading(ens Ensemble, epoch int64) {
	p.submit(func() {
		p.ens = ens
		p.fw = followerState{}
		p.zxid = epoch << 32
		p.lastZxid.Store(p.zxid)
		p.committed.Store(p.zxid)
		p.sessions.RecordTouches(false)
		p.sessions.Replace(p.sessions.Sessions(), time.Now().UnixMilli())
		p.startLocalSessions(p.cfg.LocalSessions)
		p.serving.Store(!p.cfg.LeaderRefusesClients)
		p.beginPeriod()
	})
}

// StopLeading ends the leadership: what was prepped is written to the log, so that the next election starts from
// the last logged zxid (as Apache's fastForwardDataBase), replies still waiting for a commit are dropped, and then
// every client connection closes. It returns once done.
func (p *Processor) StopLeading() error {
	return p.call(func() error {
		if p.ens == nil {
			return nil
		}
		// Drained while still leading, so that the current batch's replies are held (then dropped) too.
		if err := p.drainSyncer(true); err != nil {
			return err
		}
		p.ens = nil
		p.serving.Store(false)
		p.sessions.RecordTouches(true)
		p.stopLocalSessions()
		// Behind the drop: the closes go out.
		for _, c := range p.owners {
			p.dropClient(c)
		}
		return nil
	})
}

// Committed says the ensemble committed every txn up to zxid: the replies and events behind them go out.
func (p *Processor) Committed(zxid int64) {
	p.commits.committedUpTo(zxid) // Leader.tryToCommit hands each to the CommitProcessor
	for {
		c := p.committed.Load()
		if zxid <= c || p.committed.CompareAndSwap(c, zxid) {
			break
		}
	}
	select {
	case p.commitSig <- struct{}{}:
	default:
	}
}

// LearnerRequest is a request a learner forwarded from its client (REQUEST).
type LearnerRequest struct {
	Conn    uint64 // the learner's connection, for a sync's answer
	Learner int64  // its sid: the session's owner
	Session int64
	Cxid    int32
	Op      int32
	Body    []byte
	Auth    []jute.Id
}

// SubmitLearnerRequest preps a forwarded request as the leader's PrepRequestProcessor does; its reply is the
// learner's to send, on the commit.
func (p *Processor) SubmitLearnerRequest(lr LearnerRequest) {
	queued := time.Now()
	p.submit(func() { p.learnerRequest(lr, queued) })
}

func (p *Processor) learnerRequest(lr LearnerRequest, queued time.Time) {
	if p.ens == nil {
		return // leadership ended: the learner's connection is gone with it, and its client reconnects elsewhere
	}
	if validOp(lr.Op) {
		pr := p.prepBegin(queued) // LearnerHandler submits to the leader's prep
		if lr.Op != jute.OpSync {
			pr = p.toCommit(pr, nil, lr.Session, lr.Cxid) // a LearnerSyncRequest skips the CommitProcessor
		}
		defer p.prepEnd(pr)
	}
	c := &Client{p: p, session: lr.Session, ids: lr.Auth, via: learnerOwner(lr.Learner)}
	c.closed.Store(true) // its outputs go nowhere: the learner answers its client
	switch lr.Op {
	case jute.OpCreateSession:
		if len(lr.Body) < 4 {
			p.log.Warn("createSession from a learner without a timeout", "learner", lr.Learner, "session", lr.Session)
			return
		}
		to := int32(binary.BigEndian.Uint32(lr.Body))
		p.sessions.Add(lr.Session, to, time.Now().UnixMilli())
		p.sessions.SetOwner(lr.Session, c.via)
		hdr := p.nextHeader(lr.Session, lr.Cxid, jute.OpCreateSession)
		p.logTxn(hdr, &jute.CreateSessionTxn{TimeOut: to})
		p.globalSessionCreated(lr.Session)
		return
	case jute.OpCloseSession:
		p.closeSession(lr.Session, nil, lr.Cxid, true)
		return
	case jute.OpSync:
		p.ens.Sync(lr.Conn)
		return
	}
	if !isWrite(lr.Op) && lr.Op != jute.OpDeleteContainer {
		return // learners answer reads themselves
	}
	r := &Request{Client: c, Xid: lr.Cxid, Op: lr.Op, Start: time.Now()}
	if lr.Op != jute.OpDeleteContainer { // a client's deleteContainer gets its ErrorTxn in serve
		body, _ := jute.RequestRecord(lr.Op)
		d := jute.NewDecoder(lr.Body)
		d.Max = 0 // bounded by the packet
		body.Decode(d)
		r.Body = body
		if d.Err() != nil {
			r.Body, r.Malformed = nil, true
		}
	}
	p.Stats.Outstanding.Add(1)
	p.serve(r)
}

// Revalidate answers a learner's question about a session its client reconnected with: valid when it lives on (it
// is touched and moves to that learner), as Leader.revalidateSession.
func (p *Processor) Revalidate(session, learner int64, answer func(valid bool)) {
	p.submit(func() {
		valid := p.ens != nil && p.sessions.Touch(session, time.Now().UnixMilli())
		if valid {
			p.sessions.SetOwner(session, learnerOwner(learner))
		}
		answer(valid)
	})
}

// RecentTxns are the last txns logged or applied (at most recentTxns), oldest first: a new leader's committed
// log.
func (p *Processor) RecentTxns() []Txn {
	var out []Txn
	p.call(func() error {
		out = append(out, p.recent...)
		return nil
	})
	return out
}

// CaptureSnapshot captures the database for a learner synced by SNAP: its zxid, sessions and tree, taken on the
// core goroutine between two requests (the capture is then serialized outside it).
func (p *Processor) CaptureSnapshot() (zxid int64, sessions map[int64]int32, c *tree.Capture, err error) {
	err = p.call(func() error {
		zxid = p.zxid
		sessions = p.sessions.Sessions()
		j := p.tree.StartCapture(false)
		for !j.Step(1 << 30) {
		}
		c = j.Finish()
		return nil
	})
	return zxid, sessions, c, err
}

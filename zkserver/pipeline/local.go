package pipeline

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/session"
)

// Local sessions (localSessionsEnabled), as Apache's UpgradeableSessionTracker keeps them on a quorum member that
// serves (follower, observer, leader, read-only server): a new session is this server's alone, made with no
// createSession txn and never sent to the leader; it expires here and closes here, with no txn. Its writes are
// forwarded and prepped as anyone's (a leader lets an unknown session of another server's through). An ephemeral
// create from it first upgrades it to a global session (forgotten here, then created through the leader with the
// same id and timeout) when localSessionsUpgradingEnabled, and otherwise fails with EphemeralOnLocalSession. The
// sessions live as long as the serving period that made them: Apache makes a new server, and tracker, for each.

// startLocalSessions gives a serving period a new LocalSessionTracker when on (ids of this server's, made as a
// global tracker makes them; expiry buckets), or none.
func (p *Processor) startLocalSessions(on bool) {
	p.local, p.upgrading = nil, nil
	if on {
		p.upgrading = map[int64]bool{}
		p.local = session.NewTracker(p.cfg.ServerID, p.cfg.TickTime, time.Now().UnixMilli())
	}
	p.localPub.Store(p.local)
}

// stopLocalSessions forgets the local sessions: never logged, they were this serving period's alone.
func (p *Processor) stopLocalSessions() {
	p.local, p.upgrading = nil, nil
	p.localPub.Store(nil)
}

// isLocal reports whether sid is one of our local sessions (a closing one too, until it is removed).
func (p *Processor) isLocal(sid int64) bool {
	return p.local != nil && p.local.Check(sid) != jute.ErrUnknownSession
}

// connectLocal answers a new session's connect with a local session: tracked here only, no txn.
func (p *Processor) connectLocal(c *Client, to int32) {
	id := p.local.Create(to, time.Now().UnixMilli())
	p.bind(c, id)
	p.finalCheck(c, jute.OpCreateSession, time.Now()) // its createSession still reaches FinalRequestProcessor
	p.sendConnectResponse(c, to, id, session.Password(id), false)
}

// resumeLocal answers a reconnect (its password checked) with a local session of ours: valid while we track it, as
// revalidateSession touches it. false: not ours, someone else decides.
func (p *Processor) resumeLocal(c *Client, id int64, to int32) bool {
	if !p.isLocal(id) {
		return false
	}
	if !p.local.Touch(id, time.Now().UnixMilli()) {
		p.sendConnectResponse(c, 0, 0, make([]byte, 16), true)
		return true
	}
	p.bind(c, id)
	p.sendConnectResponse(c, to, id, session.Password(id), false)
	return true
}

// closeLocalSession answers a local session's closeSession here, with our last zxid and no txn, and closes the
// connection.
func (p *Processor) closeLocalSession(c *Client, sid int64, xid int32) {
	if p.local != nil {
		p.local.Remove(sid)
	}
	p.watches.RemoveWatcher(c)
	if p.owners[sid] == c {
		delete(p.owners, sid)
	}
	p.answerClose(c, xid, p.zxid)
}

// expireLocalSessions closes the local sessions whose time is up, as the LocalSessionTracker's expirer: their
// connections close, with no txn.
func (p *Processor) expireLocalSessions() {
	for _, sid := range p.local.Expired(time.Now().UnixMilli()) {
		p.log.Info("local session expired", "session", fmt.Sprintf("0x%x", sid))
		p.Stats.SessionsExpired.Add(1)
		p.enteredThrottler() // its closeSession, which a leader's prep takes too
		p.prepEnd(p.chainEntered(jute.OpCloseSession, time.Time{}, nil, sid, 0))
		p.local.Remove(sid)
		if c := p.owners[sid]; c != nil {
			p.dropClient(c)
		}
	}
}

// globalSessionCreated is commitSession's local half: a session whose createSession txn is applied is global, not
// local here.
func (p *Processor) globalSessionCreated(sid int64) {
	if p.local != nil {
		p.local.Remove(sid)
		delete(p.upgrading, sid) // finishedUpgrading
	}
}

// touchFails reports whether ZooKeeperServer.touch fails for a request of session sid as it arrives from one of
// this server's connections, so that submitRequestNow drops it (MissingSessionException). A leader's
// (LeaderSessionTracker) and a standalone server's (SessionTrackerImpl) touch fails for a session that is neither a
// live local session nor a global one that is not closing: what a client pipelined behind its closeSession, or
// sent after its session expired and before the closeSession's commit closed the connection, is not prepped (no
// ErrorTxn, no SessionExpired answer). A learner's: see learnerDrops. Requests forwarded by learners never come
// here (Leader's submitLearnerRequest touches nothing).
func (p *Processor) touchFails(sid int64) bool {
	if sid == 0 {
		return false
	}
	if p.cfg.Quorum && p.ens == nil {
		return p.learnerDrops(sid)
	}
	if p.local != nil && p.local.Check(sid) == jute.ErrOK {
		return false
	}
	return p.sessions.Check(sid) != jute.ErrOK
}

// learnerDrops reports whether a follower, observer or read-only server drops a request of session sid as it
// arrives: with local sessions on, LearnerSessionTracker.touchSession fails for a session that is neither a live
// local one, nor global (committed and not yet closed, as the database's sessions), nor being upgraded, and
// ZooKeeperServer.submitRequestNow then drops the request (MissingSessionException). Requests pipelined behind a
// closeSession, or still in flight when the session expired or was closed elsewhere, are neither answered nor sent
// to the leader (where a closed local session's write would be taken as another server's local session's). Without
// local sessions a learner's touch always succeeds.
func (p *Processor) learnerDrops(sid int64) bool {
	if p.local == nil {
		return false
	}
	if p.local.Check(sid) == jute.ErrOK {
		return false
	}
	if _, global := p.sessions.Timeout(sid); global {
		return false
	}
	return !p.upgrading[sid]
}

// dropUnknown ends a request touchFails refused: it leaves the in-process counts (requestFinished), and, as in
// Apache, stays outstanding on its connection (cons's queued), which no answer ends.
func (p *Processor) dropUnknown(r *Request) {
	p.dropRequest(r)
	if r.throttlerHeld {
		p.throttler.finished()
	}
}

// checkUpgrade is checkUpgradeSession, for a request about to be forwarded or prepped: an ephemeral create from a
// local session upgrades the session (upgrade is true: the caller sends or logs its createSession, with timeout,
// ahead of the request) or, without localSessionsUpgradingEnabled, marks the request to fail with
// EphemeralOnLocalSession.
func (p *Processor) checkUpgrade(r *Request, sid int64) (timeout int32, upgrade bool) {
	if p.local == nil || r.Malformed || !createsEphemeral(r) || !p.isLocal(sid) {
		return 0, false
	}
	if !p.cfg.LocalSessionsUpgrading {
		r.ephemeralOnLocal = true
		return 0, false
	}
	// Gone from here at once (local_sessions drops), global once its createSession is applied; meanwhile it is
	// upgrading (UpgradeableSessionTracker.upgradingSessions), which its requests' touch accepts.
	to, _ := p.local.Timeout(sid)
	p.local.Remove(sid)
	p.upgrading[sid] = true
	p.log.Info("upgrading session", "session", fmt.Sprintf("0x%x", sid))
	return to, true
}

// upgradeOnLeader logs the createSession of a session the leader's own client upgrades, ahead of its request, as
// the leader's LeaderRequestProcessor hands it to prep.
func (p *Processor) upgradeOnLeader(sid int64, to int32) {
	p.sessions.Add(sid, to, time.Now().UnixMilli())
	hdr := p.nextHeader(sid, 0, jute.OpCreateSession)
	p.logTxn(hdr, &jute.CreateSessionTxn{TimeOut: to})
	p.globalSessionCreated(sid)
}

// createSessionBody is a forwarded createSession's body: the 4-byte timeout.
func createSessionBody(to int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(to)) }

// createsEphemeral reports whether r is a create or create2 of an ephemeral node, or a multi holding one: the
// requests checkUpgradeSession upgrades a local session for (not createTTL, containers or TTL nodes).
func createsEphemeral(r *Request) bool {
	switch r.Op {
	case jute.OpCreate, jute.OpCreate2:
		cr, ok := r.Body.(*jute.CreateRequest)
		return ok && ephemeralMode(cr.Flags)
	case jute.OpMulti:
		m, ok := r.Body.(*jute.MultiRequest)
		if !ok || mixedMulti(m) {
			return false // Apache's decode of it fails: no upgrade
		}
		for _, op := range m.Ops {
			// The op as MultiOperationRecord makes it: a create by its mode (an ephemeral createTTL op too).
			op, _ = multiCreateOp(op)
			if cr, ok := op.Rec.(*jute.CreateRequest); ok && (op.Type == jute.OpCreate || op.Type == jute.OpCreate2) &&
				ephemeralMode(cr.Flags) {
				return true
			}
		}
	}
	return false
}

func ephemeralMode(flags int32) bool {
	return flags == jute.ModeEphemeral || flags == jute.ModeEphemeralSequential
}

// leaderCheckSession is LeaderSessionTracker.checkSession: a local session of ours passes (unless it is global too,
// mid-upgrade); a global one is checked with its owner; an unknown one has expired, unless local sessions are on
// and its id is another server's (a local session there, whose writes the leader takes).
func (p *Processor) leaderCheckSession(sid int64, via owner) jute.Err {
	if p.local != nil {
		switch e := p.local.Check(sid); e {
		case jute.ErrOK:
			if p.sessions.Check(sid) == jute.ErrUnknownSession {
				return jute.ErrOK
			}
		case jute.ErrUnknownSession:
		default:
			return e
		}
	}
	if e := p.sessions.CheckOwner(sid, via); e != jute.ErrUnknownSession {
		return e
	}
	if p.local == nil || sid>>56 == p.cfg.ServerID {
		return jute.ErrSessionExpired
	}
	return jute.ErrOK
}

// checkGlobalSession is the leader's check of an ephemeral create's session: it must be a global one.
func (p *Processor) checkGlobalSession(sid int64, via owner) jute.Err {
	if e := p.sessions.CheckOwner(sid, via); e != jute.ErrUnknownSession {
		return e
	}
	return jute.ErrSessionExpired
}

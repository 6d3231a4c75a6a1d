package pipeline

import (
	"bytes"
	"fmt"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/connthrottle"
	"github.com/zkafka/zkafka/zkserver/session"
)

// A read-only server's pipeline, as Apache's ReadOnlyZooKeeperServer: a quorum member that has looked for a leader
// for a while (readonlymode.enabled) serves the clients that asked for read-only service from the tree it has.
// Connections without the readOnly flag are closed; state-changing requests are answered NotReadOnly before
// anything else looks at them (ReadOnlyRequestProcessor); no txn is made, logged or sent anywhere. Sessions are
// local to this server (localSessionsEnabled: a LocalSessionTracker with its own ids and expiry) and gone when
// read-only service ends; without local sessions a new session is refused the way Apache 3.8 refuses it (its
// createSession answered NotReadOnly), and a session the ensemble knows (a global one) cannot be resumed here.
// The local sessions are kept as on a serving member (local.go), without upgrades: nothing is forwarded.

// refusedReadOnly reports whether a read-only server refuses op (ReadOnlyRequestProcessor's list; createSession
// and closeSession are refused when their session is not local, which the callers check).
func refusedReadOnly(op int32) bool {
	switch op {
	case jute.OpSync, jute.OpCreate, jute.OpCreate2, jute.OpCreateTTL, jute.OpCreateContainer, jute.OpDelete,
		jute.OpDeleteContainer, jute.OpSetData, jute.OpReconfig, jute.OpSetACL, jute.OpMulti, jute.OpCheck:
		return true
	}
	return false
}

// StartReadOnly makes a quorum member that has no leader serve read-only clients; localSessions is
// localSessionsEnabled. It returns once the core serves them.
func (p *Processor) StartReadOnly(localSessions bool) error {
	return p.call(func() error {
		if p.ens != nil || p.fw.leader != nil {
			return fmt.Errorf("read-only service while following or leading")
		}
		// A LocalSessionTracker made when the read-only server starts: ids from this server's id and now.
		p.startLocalSessions(localSessions)
		p.ro = true
		p.readOnly.Store(true)
		p.serving.Store(true)
		p.beginPeriod()
		return nil
	})
}

// StopReadOnly ends read-only service: every client connection closes and the local sessions are forgotten (never
// logged, they were this server's alone). It returns once done.
func (p *Processor) StopReadOnly() error {
	return p.call(func() error {
		if !p.ro {
			return nil
		}
		for _, c := range p.owners {
			p.dropClient(c)
		}
		p.ro = false
		p.stopLocalSessions()
		p.readOnly.Store(false)
		p.serving.Store(false)
		return nil
	})
}

// ReadOnly reports whether the server serves read-only clients (isro's "ro", srvr's Mode read-only).
func (p *Processor) ReadOnly() bool { return p.readOnly.Load() }

// beginPeriod counts a serving period and gives it a new connection throttle and request processors, as each of
// Apache's ZooKeeperServers has its own; the role (leading, following, read-only) is set before.
func (p *Processor) beginPeriod() {
	p.periods.Add(1)
	p.newConnThrottle()
	p.chainStarted()
}

func (p *Processor) newConnThrottle() {
	p.connThrottle.Store(connthrottle.New(p.cfg.ConnThrottle, p.mono(), p.rng.Float64))
}

// mono is the connection throttle's clock: ms on a monotonic clock (Apache's Time.currentElapsedTime).
func (p *Processor) mono() int64 { return time.Since(p.monoBase).Milliseconds() }

// ConnDropChance is the connection throttle's drop probability (connection_drop_probability).
func (p *Processor) ConnDropChance() float64 { return p.connThrottle.Load().DropChance() }

// ServingPeriods counts the times this server started serving in an ensemble: following, leading or read-only.
func (p *Processor) ServingPeriods() int64 { return p.periods.Load() }

// LocalSessionCount is the number of local sessions (mntr's local_sessions).
func (p *Processor) LocalSessionCount() int {
	if t := p.localPub.Load(); t != nil {
		return t.Count()
	}
	return 0
}

// LocalSessionExpiry are the local sessions' expiry sets and count (dump); ok is false without local sessions.
func (p *Processor) LocalSessionExpiry() (expiry map[int64][]int64, count int, ok bool) {
	t := p.localPub.Load()
	if t == nil {
		return nil, 0, false
	}
	return t.ExpiryBuckets(), t.Count(), true
}

// Touch renews a session's expiry on each of its requests (ZooKeeperServer.touch): a local session of ours, else a
// global one (on a learner, reported to the leader in the next PING reply).
func (p *Processor) Touch(sid int64, nowMs int64) {
	if t := p.localPub.Load(); t != nil && t.Touch(sid, nowMs) {
		return
	}
	p.sessions.Touch(sid, nowMs)
}

// SessionTimeout is a session's negotiated timeout, local or global (cons).
func (p *Processor) SessionTimeout(sid int64) (int32, bool) {
	if t := p.localPub.Load(); t != nil {
		if to, ok := t.Timeout(sid); ok {
			return to, true
		}
	}
	return p.sessions.Timeout(sid)
}

// roConnect is processConnectRequest on a read-only server.
func (p *Processor) roConnect(c *Client, cr *ConnectRequest) {
	req := &cr.Req
	// processConnectRequest's order: the read-only flag, then the zxid check.
	if !cr.ReadOnly {
		p.log.Info("refusing session request for not-read-only client", "remote", c.remote)
		p.dropClient(c)
		return
	}
	if p.refuseNewerZxid(c, req.LastZxidSeen) {
		return
	}
	to := p.negotiateTimeout(req.TimeOut)
	if req.SessionID == 0 {
		if p.local == nil {
			// Without local sessions the createSession request is not a local one, and ReadOnlyRequestProcessor
			// answers it NotReadOnly: the client gets a reply header where it waits for a connect response, and
			// the connection, not reading any more, stays until the client closes it.
			p.log.Info("read-only server without localSessionsEnabled: new session refused", "remote", c.remote)
			c.refused = true
			p.emit(c, EncodeReply(jute.ReplyHeader{Xid: 0, Zxid: p.zxid, Err: int32(jute.ErrNotReadOnly)}, nil))
			return
		}
		// Its createSession, a local one, passes ReadOnlyRequestProcessor to prep.
		pr := p.prepBegin(time.Time{})
		p.connectLocal(c, to)
		p.prepEnd(pr)
		return
	}
	id := req.SessionID
	if p.sessions.Check(id) != jute.ErrUnknownSession {
		p.log.Info("refusing global session reconnection in read-only mode", "session", fmt.Sprintf("0x%x", id),
			"remote", c.remote)
		p.dropClient(c)
		return
	}
	p.Stats.ConnectionRevalidates.Add(1) // past ReadOnlyZooKeeperServer.validateSession
	if old := p.owners[id]; old != nil && old != c {
		p.dropClient(old)
	}
	// LearnerSessionTracker.touchSession: a local session must be tracked; without local sessions any session the
	// ensemble does not know passes.
	if !bytes.Equal(req.Passwd, session.Password(id)) || (p.local != nil && !p.local.Touch(id, time.Now().UnixMilli())) {
		p.sendConnectResponse(c, 0, 0, make([]byte, 16), true)
		return
	}
	p.bind(c, id)
	p.sendConnectResponse(c, to, id, session.Password(id), false)
}

// roHandle answers a request on a read-only server: state changes refused, the rest served from the tree.
func (p *Processor) roHandle(r *Request) {
	c := r.Client
	sid := c.SessionID()
	local := p.isLocal(sid)
	switch {
	case refusedReadOnly(r.Op),
		(r.Op == jute.OpCreateSession || r.Op == jute.OpCloseSession) && !local:
		if r.Op == jute.OpCloseSession {
			// Apache answers and keeps the connection, which the client then closes; our reader has stopped at the
			// closeSession, so the connection goes after the answer.
			p.log.Warn("closeSession of a global session in read-only mode", "session", fmt.Sprintf("0x%x", sid))
			p.finishUnanswered(r)
			p.cur.outs = append(p.cur.outs, output{c: c, close: true,
				frame: EncodeReply(jute.ReplyHeader{Xid: r.Xid, Zxid: p.zxid, Err: int32(jute.ErrNotReadOnly)}, nil)})
			return
		}
		// ReadOnlyRequestProcessor answers these itself, ahead of FinalRequestProcessor.
		p.finishUnanswered(r)
		if f := p.replyFrame(c, r.Xid, p.zxid, jute.ErrNotReadOnly, nil); f != nil {
			p.emit(c, f)
		}
	case r.Op == jute.OpCreateSession:
		// A local session's createSession goes through untouched, and FinalRequestProcessor answers it as a new
		// session: with the connection's connect response.
		p.finish(r)
		to, _ := p.local.Timeout(sid)
		p.sendConnectResponse(c, to, sid, session.Password(sid), false)
	case r.Op == jute.OpCloseSession:
		// A local session closes here, with no txn.
		p.finish(r)
		p.closeLocalSession(c, sid, r.Xid)
	default:
		p.serve(r)
	}
}

// roCheckSession is LearnerSessionTracker.checkSession on a read-only server: with local sessions a request's
// session must be a live local one or a global one; without, nothing is checked.
func (p *Processor) roCheckSession(sid int64) jute.Err {
	if p.local == nil {
		return jute.ErrOK
	}
	switch p.local.Check(sid) {
	case jute.ErrOK:
		return jute.ErrOK
	case jute.ErrUnknownSession:
		if p.sessions.Check(sid) != jute.ErrUnknownSession {
			return jute.ErrOK
		}
	}
	return jute.ErrSessionExpired
}

package pipeline

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/sasl"
	"github.com/zkafka/zkafka/zkserver/session"
	"github.com/zkafka/zkafka/zkserver/tree"
)

func isWrite(op int32) bool {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpDelete,
		jute.OpSetData, jute.OpSetACL, jute.OpCheck, jute.OpMulti, jute.OpReconfig:
		return true
	}
	return false
}

func (p *Processor) handle(r *Request) {
	c := r.Client
	if c.refused {
		// After a refused request Apache stops reading the connection: nothing it sent later runs.
		p.finishUnanswered(r)
		return
	}
	if len(p.cfg.EnforceAuth) > 0 && !c.via.learner && r.Op != jute.OpAuth && r.Op != jute.OpSASL && !p.authEnforced(c) {
		// AuthenticationHelper.enforceAuthentication: answered, then the connection closes.
		p.log.Error("client has not authenticated with a required scheme, closing its connection",
			"schemes", p.cfg.EnforceAuth, "remote", c.remote)
		p.finishUnanswered(r)
		p.refuse(c, r.Xid, jute.ErrSessionClosedRequireAuth, nil)
		return
	}
	// Auth and SASL packets are answered on Apache's reading thread: they never reach its throttler or processors.
	chained := r.Op != jute.OpAuth && r.Op != jute.OpSASL
	if p.throttler == nil && chained {
		// Apache's RequestThrottler always runs (throttling nothing by default) and counts what it passes on
		// stale; ours counts there when it runs, and here otherwise.
		if p.stale(c, r.Op, r.Start) {
			p.throttleStats.Stale.Add(1)
		}
		p.enteredThrottler()
	}
	if chained && p.touchFails(c.SessionID()) {
		// ZooKeeperServer.submitRequestNow: the session's touch fails (MissingSessionException) and the request is
		// dropped, unanswered, unforwarded and unprepped, the connection left as it is. Auth and SASL packets never
		// get there: Apache answers them on the reading thread.
		p.log.Debug("dropping request of an unknown or closing session", "session",
			fmt.Sprintf("0x%x", c.SessionID()), "op", r.Op, "xid", r.Xid)
		p.dropUnknown(r)
		return
	}
	if r.Op == jute.OpCloseSession {
		r.local = p.isLocal(c.SessionID()) // setLocalSessionFlag: decided as the request arrives
	}
	if chained {
		defer p.prepEnd(p.chainEntered(r.Op, r.queued, c, 0, r.Xid))
	}
	if p.ro {
		p.roHandle(r)
		return
	}
	if p.cfg.Quorum && p.ens == nil && p.followerHandle(r) {
		return
	}
	if p.ens != nil {
		// LeaderRequestProcessor: the leader's own clients' local sessions upgrade here (learners' upgrades come
		// forwarded as createSession).
		if to, ok := p.checkUpgrade(r, c.SessionID()); ok {
			p.upgradeOnLeader(c.SessionID(), to)
		}
	}
	p.serve(r)
}

// serve answers a request here: all of them on a standalone server, the local ones on a follower.
func (p *Processor) serve(r *Request) {
	defer p.finish(r)
	// Requests of a connection that has gone are still processed (a write
	// the client sent before disconnecting is applied, as in Apache); only
	// their replies are dropped, when the batch is delivered.
	c := r.Client
	sid := c.SessionID()
	switch {
	case r.throttled:
		// Held in the RequestThrottler past throttled_op_wait_time: answered without being processed (the stale
		// check comes first in FinalRequestProcessor).
		p.finalCheck(c, r.Op, r.Start)
		p.reply(c, r.Xid, p.zxid, jute.ErrThrottledOp, nil)
		return
	case r.Malformed:
		zxid := p.zxid
		if isWrite(r.Op) {
			hdr := p.nextHeader(sid, r.Xid, jute.OpError)
			p.logTxn(hdr, &jute.ErrorTxn{Err: int32(jute.ErrMarshallingError)})
			zxid = hdr.Zxid
		} else {
			p.finalCheck(c, r.Op, r.Start) // a read's body fails to decode in FinalRequestProcessor, after the check
		}
		p.reply(c, r.Xid, zxid, jute.ErrMarshallingError, nil)
		return
	case r.Op == jute.OpPing && p.ens != nil && p.checkSession(c, sid) == jute.ErrSessionMoved:
		// The leader's PrepRequestProcessor checks a ping's session too: the connection a session left for another
		// server closes at its next ping.
		p.closeMoved(c)
		return
	case r.Op == jute.OpPing:
		p.finalCheck(c, r.Op, r.Start)
		p.reply(c, jute.XidPing, p.zxid, jute.ErrOK, nil)
		return
	case r.Op == jute.OpDeleteContainer || r.Op == jute.OpCreateSession:
		// Internal ops sent by a client: Apache reads deleteContainer's path
		// from the whole buffer (header NULs included: BadArguments) and
		// fails createSession's body; both log an ErrorTxn.
		e := jute.ErrBadArguments
		if r.Op == jute.OpCreateSession {
			e = jute.ErrMarshallingError
		}
		hdr := p.nextHeader(sid, r.Xid, jute.OpError)
		p.logTxn(hdr, &jute.ErrorTxn{Err: int32(e)})
		p.reply(c, r.Xid, hdr.Zxid, e, nil)
		return
	case r.Op == jute.OpSASL:
		p.handleSASL(c, r.Xid, r.SASL)
		return
	case (r.Op == jute.OpMulti || r.Op == jute.OpMultiRead) && mixedMulti(r.Body.(*jute.MultiRequest)):
		// MultiOperationRecord refuses to mix reads and writes while
		// decoding: a multi still logs an ErrorTxn, a multiRead takes no zxid.
		zxid := p.zxid
		if r.Op == jute.OpMulti {
			hdr := p.nextHeader(sid, r.Xid, jute.OpError)
			p.logTxn(hdr, &jute.ErrorTxn{Err: int32(jute.ErrMarshallingError)})
			zxid = hdr.Zxid
		} else {
			p.finalCheck(c, r.Op, r.Start)
		}
		p.reply(c, r.Xid, zxid, jute.ErrMarshallingError, nil)
		return
	case r.Op == jute.OpAuth:
		p.handleAuth(c, r.Xid, r.Body.(*jute.AuthPacket))
		return
	case r.Op == jute.OpCloseSession && r.local:
		p.closeLocalSession(c, sid, r.Xid)
		return
	case r.Op == jute.OpCloseSession:
		p.closeSession(sid, c, r.Xid, false)
		return
	case isWrite(r.Op):
		hdr := p.nextHeader(sid, r.Xid, r.Op)
		var txn jute.Record
		e := jute.ErrOK
		// The session is checked inside each op's prep, where PrepRequestProcessor checks it: a multi's per op (an
		// empty multi on any session passes), a create's after its mode and TTL.
		v := &view{p: p, ephemeralOnLocal: r.ephemeralOnLocal}
		if r.Op == jute.OpMulti {
			if mt := p.prepMulti(v, c, hdr, r.Body.(*jute.MultiRequest)); mt != nil {
				txn = mt
			} else {
				e = jute.ErrMarshallingError
			}
		} else {
			txn, e = p.prepWrite(v, c, hdr, r.Op, r.Body)
		}
		if e != jute.ErrOK {
			hdr.Type = jute.OpError
			txn = &jute.ErrorTxn{Err: int32(e)}
		}
		res := p.logTxn(hdr, txn)
		p.changesPrepped(v, e == jute.ErrOK)
		if e == jute.ErrOK {
			p.finalCheck(c, r.Op, r.Start) // an ErrorTxn's answer is sent before FinalRequestProcessor's check
		}
		if r.Op == jute.OpCheck && e == jute.ErrOK && res.Err == jute.ErrOK {
			// Apache 3.8.0 fails to serialize a successful top-level check's
			// reply (its stat is null) and sends nothing.
			return
		}
		p.writeReply(c, r, hdr.Zxid, e, res)
		return
	}
	// PrepRequestProcessor checks a read's session; a follower's and an observer's reads never pass a prep (their
	// chains go straight to the CommitProcessor), so a session they do not know is served.
	if learner := p.cfg.Quorum && p.ens == nil && !p.ro; !learner {
		if e := p.checkSession(c, sid); e != jute.ErrOK {
			p.reply(c, r.Xid, p.zxid, e, nil)
			return
		}
	}
	p.finalCheck(c, r.Op, r.Start)
	body, e := p.read(c, r)
	if e == errAnswered {
		return
	}
	p.replyRead(c, r, e, body)
}

// errAnswered: the read already queued its own (unusual) reply.
const errAnswered = jute.Err(1)

// mixedMulti reports a multi holding both read and write ops.
func mixedMulti(m *jute.MultiRequest) bool {
	reads, writes := false, false
	for _, op := range m.Ops {
		if op.Type == jute.OpGetData || op.Type == jute.OpGetChildren {
			reads = true
		} else {
			writes = true
		}
	}
	return reads && writes
}

type resultT = tree.Result

func (p *Processor) writeReply(c *Client, r *Request, zxid int64, e jute.Err, res resultT) {
	if e != jute.ErrOK {
		p.reply(c, r.Xid, zxid, e, nil)
		return
	}
	if res.Err != jute.ErrOK && r.Op != jute.OpMulti {
		p.reply(c, r.Xid, zxid, res.Err, nil)
		return
	}
	var body jute.Record
	switch r.Op {
	case jute.OpCreate:
		body = &jute.CreateResponse{Path: res.Path}
	case jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		body = &jute.Create2Response{Path: res.Path, Stat: res.Stat}
	case jute.OpSetData, jute.OpCheck:
		body = &jute.SetDataResponse{Stat: res.Stat}
	case jute.OpSetACL:
		body = &jute.SetACLResponse{Stat: res.Stat}
	case jute.OpReconfig:
		// FinalRequestProcessor answers with the active config, which the commit has just made the new one.
		body = &jute.GetDataResponse{Data: p.tree.Node(tree.ConfigPath).Data, Stat: res.Stat}
	case jute.OpMulti:
		mr := &jute.MultiResponse{Results: make([]jute.OpResult, 0, len(res.Multi))}
		for _, sr := range res.Multi {
			if sr.Type == jute.OpError && sr.Err == jute.ErrSessionMoved {
				// FinalRequestProcessor throws SessionMoved out of a multi too: no reply, the connection closes.
				p.reply(c, r.Xid, zxid, jute.ErrSessionMoved, nil)
				return
			}
			mr.Results = append(mr.Results, multiResult(sr))
		}
		body = mr
	}
	p.reply(c, r.Xid, zxid, jute.ErrOK, body)
}

func multiResult(sr resultT) jute.OpResult {
	switch sr.Type {
	case jute.OpCreate:
		return jute.OpResult{Type: jute.OpCreate, Rec: &jute.CreateResponse{Path: sr.Path}}
	case jute.OpCreate2, jute.OpCreateTTL, jute.OpCreateContainer:
		return jute.OpResult{Type: jute.OpCreate2, Rec: &jute.Create2Response{Path: sr.Path, Stat: sr.Stat}}
	case jute.OpDelete, jute.OpDeleteContainer:
		return jute.OpResult{Type: jute.OpDelete}
	case jute.OpSetData:
		return jute.OpResult{Type: jute.OpSetData, Rec: &jute.SetDataResponse{Stat: sr.Stat}}
	case jute.OpCheck:
		return jute.OpResult{Type: jute.OpCheck}
	}
	return jute.OpResult{Type: jute.OpError, Err: int32(sr.Err)}
}

func (p *Processor) read(c *Client, r *Request) (jute.Record, jute.Err) {
	t := p.tree
	switch r.Op {
	case jute.OpSync:
		return &jute.SyncResponse{Path: r.Body.(*jute.SyncRequest).Path}, jute.ErrOK
	case jute.OpExists:
		req := r.Body.(*jute.ExistsRequest)
		if hasNUL(req.Path) {
			return nil, jute.ErrBadArguments
		}
		// Apache 3.8.0 checks no permission on exists (later releases do).
		n := t.Node(req.Path)
		if req.Watch {
			p.watches.AddData(req.Path, c)
		}
		if n == nil {
			return nil, jute.ErrNoNode
		}
		t.NoteRead(req.Path, 0)
		return &jute.ExistsResponse{Stat: t.ClientStat(n)}, jute.ErrOK
	case jute.OpGetData:
		return p.getData(c, r.Body.(*jute.GetDataRequest))
	case jute.OpGetChildren:
		return p.getChildren(c, r.Body.(*jute.GetChildrenRequest))
	case jute.OpGetChildren2:
		req := r.Body.(*jute.GetChildren2Request)
		n := t.Node(req.Path)
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if !p.acl.Check(t.ACL(n), jute.PermRead, c.ids) {
			return nil, jute.ErrNoAuth
		}
		if req.Watch {
			p.watches.AddChild(req.Path, c)
		}
		children := t.ChildNames(n)
		t.NoteRead(req.Path, tree.ChildNamesLen(children))
		return &jute.GetChildren2Response{Children: children, Stat: t.ClientStat(n)}, jute.ErrOK
	case jute.OpGetACL:
		req := r.Body.(*jute.GetACLRequest)
		n := t.Node(req.Path)
		if n == nil {
			return nil, jute.ErrNoNode
		}
		acls := t.ACL(n)
		if !p.acl.Check(acls, jute.PermRead|jute.PermAdmin, c.ids) {
			return nil, jute.ErrNoAuth
		}
		if !p.acl.Check(acls, jute.PermAdmin, c.ids) {
			acls = acl.MaskDigests(acls)
		}
		return &jute.GetACLResponse{ACL: acls, Stat: t.ClientStat(n)}, jute.ErrOK
	case jute.OpGetAllChildrenNumber:
		req := r.Body.(*jute.GetAllChildrenNumberRequest)
		n := t.Node(req.Path)
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if !p.acl.Check(t.ACL(n), jute.PermRead, c.ids) {
			return nil, jute.ErrNoAuth
		}
		return &jute.GetAllChildrenNumberResponse{TotalNumber: int32(t.CountDescendants(req.Path))}, jute.ErrOK
	case jute.OpGetEphemerals:
		prefix := r.Body.(*jute.GetEphemeralsRequest).PrefixPath
		all := t.EphemeralPaths(c.SessionID())
		out := make([]string, 0, len(all))
		trimmed := strings.TrimSpace(prefix)
		for _, e := range all {
			if trimmed == "" || trimmed == "/" || strings.HasPrefix(e, prefix) {
				out = append(out, e)
			}
		}
		return &jute.GetEphemeralsResponse{Ephemerals: out}, jute.ErrOK
	case jute.OpMultiRead:
		req := r.Body.(*jute.MultiRequest)
		mr := &jute.MultiResponse{}
		for _, op := range req.Ops {
			var res jute.OpResult
			switch op.Type {
			case jute.OpGetChildren:
				body, e := p.getChildren(c, &jute.GetChildrenRequest{Path: op.Rec.(*jute.GetChildrenRequest).Path})
				if e != jute.ErrOK {
					res = jute.OpResult{Type: jute.OpError, Err: int32(e)}
				} else {
					res = jute.OpResult{Type: jute.OpGetChildren, Rec: body}
				}
			case jute.OpGetData:
				body, e := p.getData(c, &jute.GetDataRequest{Path: op.Rec.(*jute.GetDataRequest).Path})
				if e != jute.ErrOK {
					res = jute.OpResult{Type: jute.OpError, Err: int32(e)}
				} else {
					res = jute.OpResult{Type: jute.OpGetData, Rec: body}
				}
			default:
				// Apache fails after building the (empty) response and
				// sends it with the error.
				p.emit(c, EncodeReply(jute.ReplyHeader{Xid: r.Xid, Zxid: p.zxid, Err: int32(jute.ErrMarshallingError)}, &jute.MultiResponse{}))
				return nil, errAnswered
			}
			mr.Results = append(mr.Results, res)
		}
		return mr, jute.ErrOK
	case jute.OpSetWatches, jute.OpSetWatches2:
		var sw jute.SetWatches2
		if r.Op == jute.OpSetWatches {
			s := r.Body.(*jute.SetWatches)
			sw = jute.SetWatches2{RelativeZxid: s.RelativeZxid, DataWatches: s.DataWatches, ExistWatches: s.ExistWatches, ChildWatches: s.ChildWatches}
		} else {
			sw = *r.Body.(*jute.SetWatches2)
		}
		p.setWatches(c, &sw)
		return nil, jute.ErrOK
	case jute.OpAddWatch:
		req := r.Body.(*jute.AddWatchRequest)
		switch req.Mode {
		case jute.AddWatchPersistent:
			p.watches.AddPersistent(req.Path, c, false)
		case jute.AddWatchPersistentRecursive:
			p.watches.AddPersistent(req.Path, c, true)
		default:
			return nil, jute.ErrMarshallingError
		}
		return &jute.ErrorResponse{Err: 0}, jute.ErrOK
	case jute.OpCheckWatches:
		req := r.Body.(*jute.CheckWatchesRequest)
		if req.Type < jute.WatcherChildren || req.Type > jute.WatcherAny {
			return nil, jute.ErrMarshallingError // WatcherType.fromInt throws
		}
		if !p.watches.Contains(req.Path, c, req.Type) {
			return nil, jute.ErrNoWatcher
		}
		return nil, jute.ErrOK
	case jute.OpRemoveWatches:
		req := r.Body.(*jute.RemoveWatchesRequest)
		if req.Type < jute.WatcherChildren || req.Type > jute.WatcherAny {
			return nil, jute.ErrMarshallingError
		}
		if !p.watches.Remove(req.Path, c, req.Type) {
			return nil, jute.ErrNoWatcher
		}
		return nil, jute.ErrOK
	case jute.OpWhoAmI:
		return &jute.WhoAmIResponse{ClientInfo: acl.ClientInfo(c.ids)}, jute.ErrOK
	}
	// sasl and anything unknown: Apache answers unknown types with an error.
	return nil, jute.ErrUnimplemented
}

func (p *Processor) getData(c *Client, req *jute.GetDataRequest) (jute.Record, jute.Err) {
	t := p.tree
	n := t.Node(req.Path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !p.acl.Check(t.ACL(n), jute.PermRead, c.ids) {
		return nil, jute.ErrNoAuth
	}
	if req.Watch {
		p.watches.AddData(req.Path, c)
	}
	t.NoteRead(req.Path, int64(len(n.Data)))
	return &jute.GetDataResponse{Data: n.Data, Stat: t.ClientStat(n)}, jute.ErrOK
}

func (p *Processor) getChildren(c *Client, req *jute.GetChildrenRequest) (jute.Record, jute.Err) {
	t := p.tree
	n := t.Node(req.Path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if !p.acl.Check(t.ACL(n), jute.PermRead, c.ids) {
		return nil, jute.ErrNoAuth
	}
	if req.Watch {
		p.watches.AddChild(req.Path, c)
	}
	children := t.ChildNames(n)
	t.NoteRead(req.Path, tree.ChildNamesLen(children))
	return &jute.GetChildrenResponse{Children: children}, jute.ErrOK
}

// setWatches re-registers a reconnecting client's watches, firing at once
// those whose condition changed after relativeZxid (DataTree.setWatches).
// Those events are not filtered by READ permission: DataTree.setWatches calls
// the connection's process(event), which checks a null ACL (the CVE-2024-23944
// check of 3.8.0-11+deb12u2 covers only watches triggered by txns).
func (p *Processor) setWatches(c *Client, sw *jute.SetWatches2) {
	t := p.tree
	rel := sw.RelativeZxid
	fire := func(path string, typ int32) {
		c.Process(jute.WatcherEvent{Type: typ, State: jute.StateSyncConnected, Path: path}, nil)
	}
	for _, path := range sw.DataWatches {
		n := t.Node(path)
		switch {
		case n == nil:
			fire(path, jute.EventNodeDeleted)
		case n.Stat.Mzxid > rel:
			fire(path, jute.EventNodeDataChanged)
		default:
			p.watches.AddData(path, c)
		}
	}
	for _, path := range sw.ExistWatches {
		if n := t.Node(path); n != nil {
			fire(path, jute.EventNodeCreated)
		} else {
			p.watches.AddData(path, c)
		}
	}
	for _, path := range sw.ChildWatches {
		n := t.Node(path)
		switch {
		case n == nil:
			fire(path, jute.EventNodeDeleted)
		case n.Stat.Pzxid > rel:
			fire(path, jute.EventNodeChildrenChanged)
		default:
			p.watches.AddChild(path, c)
		}
	}
	for _, path := range sw.PersistentWatches {
		p.watches.AddPersistent(path, c, false)
	}
	for _, path := range sw.PersistentRecursiveWatches {
		p.watches.AddPersistent(path, c, true)
	}
}

// handleAuth answers with the request's own xid (-4 from the Java client, a
// normal xid from others), as ZooKeeperServer.processPacket does.
func (p *Processor) handleAuth(c *Client, xid int32, a *jute.AuthPacket) {
	if a.Scheme == "ensemble" && p.acl.Registered("ensemble") {
		p.handleEnsembleAuth(c, xid, a)
		return
	}
	ids, e := p.authenticate(c, a)
	if e != jute.ErrOK {
		p.log.Info("authentication failed", "scheme", a.Scheme, "remote", c.remote)
		p.refuse(c, xid, jute.ErrAuthFailed, nil)
		return
	}
	// Apache keeps a connection's ids in a hash set; whoAmI and "auth"
	// expansion follow that set's order.
	c.ids = acl.AddAuthInfo(c.ids, ids...)
	p.emit(c, EncodeReply(jute.ReplyHeader{Xid: xid, Zxid: 0, Err: 0}, nil))
}

// handleEnsembleAuth is EnsembleAuthenticationProvider: a client naming an ensemble this server is not part of has
// its connection closed without an answer (not AuthFailed, which would end its session), so that it tries
// another server; one naming none, or any name when the server has none, passes. Failures are logged at most
// once a second.
func (p *Processor) handleEnsembleAuth(c *Client, xid int32, a *jute.AuthPacket) {
	switch p.acl.CheckEnsemble(a.Auth) {
	case acl.EnsembleSkip:
		p.Stats.EnsembleAuthSkip.Add(1)
	case acl.EnsembleSuccess:
		p.Stats.EnsembleAuthSuccess.Add(1)
	default:
		p.Stats.EnsembleAuthFail.Add(1)
		if secondPassed(&p.ensembleFailLogged) {
			p.log.Warn("unexpected ensemble name", "name", string(a.Auth), "remote", c.remote)
		}
		c.refused = true
		p.dropClient(c)
		return
	}
	p.emit(c, EncodeReply(jute.ReplyHeader{Xid: xid, Zxid: 0, Err: 0}, nil))
}

// handleSASL answers a SASL request with what the connection's reader made of its token: the server's token and
// the ids the client gained, or an error and a closed connection. Without a SASL login (out nil) Apache answers OK
// with a null token.
func (p *Processor) handleSASL(c *Client, xid int32, out *sasl.Outcome) {
	if out == nil {
		p.emit(c, EncodeReply(jute.ReplyHeader{Xid: xid, Zxid: 0}, &jute.SetSASLResponse{}))
		return
	}
	if out.Err != jute.ErrOK {
		p.refuse(c, xid, out.Err, &jute.SetSASLResponse{})
		return
	}
	c.ids = acl.AddAuthInfo(c.ids, out.IDs...)
	p.emit(c, EncodeReply(jute.ReplyHeader{Xid: xid, Zxid: 0}, &jute.SetSASLResponse{Token: out.Token}))
}

// refuse answers a request with e (and body, when Apache sends one with the error), then closes the connection
// and ignores whatever it sent after.
func (p *Processor) refuse(c *Client, xid int32, e jute.Err, body jute.Record) {
	c.refused = true
	p.emit(c, EncodeReply(jute.ReplyHeader{Xid: xid, Zxid: 0, Err: int32(e)}, body))
	p.cur.outs[len(p.cur.outs)-1].close = true
}

// authEnforced reports whether c has an id of one of the schemes the server requires.
func (p *Processor) authEnforced(c *Client) bool {
	for _, id := range c.ids {
		if slices.Contains(p.cfg.EnforceAuth, id.Scheme) {
			return true
		}
	}
	return false
}

// admitConnect is the start of processConnectRequest: the connection throttle draws the request's tokens (a
// refused connection is closed unanswered and counted in connection_rejected), then connection_token_deficit
// and connection_request_count count it, before any check that may refuse the session.
func (p *Processor) admitConnect(c *Client, sessionID int64) bool {
	t := p.connThrottle.Load()
	if !t.Allow(t.Need(sessionID, p.local != nil), p.mono()) {
		p.Stats.ConnectionRejected.Add(1)
		p.log.Warn("closing a connection the connection throttle refused", "remote", c.remote,
			"session", fmt.Sprintf("0x%x", sessionID))
		p.dropClient(c)
		return false
	}
	p.Stats.TokenDeficit.Add(int64(t.Deficit()))
	p.Stats.ConnectionRequests.Add(1)
	return true
}

// ConnectRequest is a decoded connect handshake handed to the core.
type ConnectRequest struct {
	Req      jute.ConnectRequest
	ReadOnly bool // the client appended the readOnly byte
	HasRO    bool
}

// Connect establishes or resumes a session for c (ZooKeeperServer
// processConnectRequest); the response is sent through the batch.
func (p *Processor) Connect(c *Client, cr *ConnectRequest) {
	p.submit(func() { p.connect(c, cr) })
}

func (p *Processor) connect(c *Client, cr *ConnectRequest) {
	if p.cfg.LeaderRefusesClients && p.ens != nil {
		p.dropClient(c) // a leader that does not serve closes every client connection, as when not running
		return
	}
	req := &cr.Req
	if !p.admitConnect(c, req.SessionID) {
		return
	}
	c.roByte = cr.HasRO
	if p.ro {
		if req.SessionID == 0 {
			p.enteredThrottler() // its createSession
		}
		p.roConnect(c, cr)
		return
	}
	if p.refuseNewerZxid(c, req.LastZxidSeen) {
		return
	}
	if req.SessionID == 0 {
		// The new session's createSession request, through the RequestThrottler and, standalone or leading, prep.
		p.enteredThrottler()
		defer p.prepEnd(p.chainEntered(jute.OpCreateSession, time.Time{}, c, 0, 0))
	}
	if req.SessionID != 0 {
		p.Stats.ConnectionRevalidates.Add(1)
	}
	to := p.negotiateTimeout(req.TimeOut)
	// Apache closes the session's current connection before it checks the
	// password (CLIENT_RECONNECT).
	if old := p.owners[req.SessionID]; req.SessionID != 0 && old != nil && old != c {
		p.dropClient(old)
	}
	if p.cfg.Quorum && p.ens == nil {
		p.followerConnect(c, req.SessionID, req.Passwd, to)
		return
	}
	if req.SessionID == 0 && p.local != nil {
		p.connectLocal(c, to) // a leader's new sessions are local too
		return
	}
	if req.SessionID == 0 {
		id := p.sessions.Create(to, time.Now().UnixMilli())
		hdr := p.nextHeader(id, 0, jute.OpCreateSession)
		p.logTxn(hdr, &jute.CreateSessionTxn{TimeOut: to})
		p.bind(c, id)
		p.finalCheck(c, jute.OpCreateSession, time.Now()) // the createSession request's, answered with this
		p.recordLatency(jute.OpCreateSession, time.Now())
		p.sendConnectResponse(c, to, id, session.Password(id), false)
		return
	}
	id := req.SessionID
	if !bytes.Equal(req.Passwd, session.Password(id)) {
		p.sendConnectResponse(c, 0, 0, make([]byte, 16), true)
		return
	}
	if p.resumeLocal(c, id, to) {
		return
	}
	if !p.sessions.Touch(id, time.Now().UnixMilli()) {
		p.sendConnectResponse(c, 0, 0, make([]byte, 16), true)
		return
	}
	p.bind(c, id)
	p.sendConnectResponse(c, to, id, session.Password(id), false)
}

// refuseNewerZxid closes the connection of a client that has seen a zxid we have not: it must try another server.
func (p *Processor) refuseNewerZxid(c *Client, seen int64) bool {
	if seen <= p.zxid {
		return false
	}
	p.log.Info("refusing session: client has seen a newer zxid", "client_zxid", seen, "our_zxid", p.zxid, "remote", c.remote)
	c.closed.Store(true)
	p.cur.outs = append(p.cur.outs, output{c: c, frame: nil, close: true})
	return true
}

// negotiateTimeout bounds a requested session timeout by minSessionTimeout and maxSessionTimeout.
func (p *Processor) negotiateTimeout(to int32) int32 {
	return min(max(to, int32(p.cfg.MinSessionTimeout)), int32(p.cfg.MaxSessionTimeout))
}

func (p *Processor) bind(c *Client, id int64) {
	atomic.StoreInt64(&c.session, id) // read by the connection's goroutines (SessionID)
	p.owners[id] = c
	if p.ens != nil && !p.isLocal(id) {
		p.sessions.SetOwner(id, c.via) // a session resumed at the leader moves here
	}
}

func (p *Processor) sendConnectResponse(c *Client, to int32, id int64, pw []byte, closeAfter bool) {
	c.timeout.Store(to)
	e := jute.Encoder{Buf: make([]byte, 4, 48)}
	resp := jute.ConnectResponse{ProtocolVersion: 0, TimeOut: to, SessionID: id, Passwd: pw}
	resp.Encode(&e)
	if c.roByte {
		e.Bool(p.ro) // are we a read-only server (only for clients that sent the flag, as Apache)
	}
	p.cur.outs = append(p.cur.outs, output{c: c, frame: frame(e.Buf), close: closeAfter})
}

// Disconnected tells the core a connection went away (its session lives on
// until it expires).
func (p *Processor) Disconnected(c *Client) {
	c.closed.Store(true)
	p.submit(func() {
		p.watches.RemoveWatcher(c)
		if sid := c.SessionID(); sid != 0 && p.owners[sid] == c {
			delete(p.owners, sid)
		}
	})
}

// dropClient closes a client's connection: a session's older connection when it reconnects, every connection of
// a follower between leaders.
func (p *Processor) dropClient(c *Client) {
	c.closed.Store(true)
	p.watches.RemoveWatcher(c)
	if sid := c.SessionID(); sid != 0 && p.owners[sid] == c {
		delete(p.owners, sid)
	}
	p.cur.outs = append(p.cur.outs, output{c: c, close: true})
}

// closeSession logs a closeSession txn that deletes the session's ephemerals.
// c is nil when the session expired or a learner's client closed it; a
// learner's (forced) gets its txn even for a session we do not know, as the
// leader's PrepRequestProcessor checks nothing for it: the learner answers
// its client on that txn's commit.
func (p *Processor) closeSession(sid int64, c *Client, xid int32, forced bool) {
	if !forced && (sid == 0 || p.sessions.Check(sid) == jute.ErrUnknownSession) {
		if c != nil {
			p.answerClose(c, xid, p.zxid)
		}
		return
	}
	began := time.Now()
	p.sessions.SetClosing(sid)
	// The session's HashSet order, as PrepRequestProcessor lists them.
	paths := p.tree.EphemeralPaths(sid)
	p.Stats.Chain.CloseSessionPrep.Add(time.Since(began).Milliseconds())
	// A change record for each ephemeral, and with digests one for its parent too.
	perNode := 1
	if p.cfg.DigestEnabled {
		perNode = 2
	}
	hdr := p.nextHeader(sid, xid, jute.OpCloseSession)
	p.logTxn(hdr, &jute.CloseSessionTxn{Paths2Delete: paths})
	p.queueChanges(perNode*len(paths), true)
	p.sessions.Remove(sid)
	owner := p.owners[sid]
	delete(p.owners, sid)
	if c != nil {
		p.answerClose(c, xid, hdr.Zxid)
		p.watches.RemoveWatcher(c)
	} else if owner != nil {
		p.watches.RemoveWatcher(owner)
		p.cur.outs = append(p.cur.outs, output{c: owner, close: true})
	}
}

func (p *Processor) expireSessions() {
	for _, sid := range p.sessions.Expired(time.Now().UnixMilli()) {
		p.log.Info("session expired", "session", sid)
		p.Stats.SessionsExpired.Add(1)
		p.enteredThrottler() // ZooKeeperServer.expire submits a closeSession
		pr := p.toCommit(p.prepBegin(time.Time{}), nil, sid, 0)
		p.closeSession(sid, nil, 0, false)
		p.prepEnd(pr)
	}
}

// sweepContainers deletes empty containers that once had children and
// expired TTL nodes (ContainerManager), through deleteContainer txns.
func (p *Processor) sweepContainers() {
	now := p.cfg.Now()
	var victims []string
	for _, path := range p.tree.Containers() {
		n := p.tree.Node(path)
		if n == nil || len(n.Children) > 0 {
			continue
		}
		if n.Stat.Cversion > 0 || (p.cfg.ContainerMaxNeverUsedMs > 0 && now-n.Stat.Mtime > p.cfg.ContainerMaxNeverUsedMs) {
			victims = append(victims, path)
		}
	}
	for _, path := range p.tree.TTLs() {
		n := p.tree.Node(path)
		if n == nil || len(n.Children) > 0 {
			continue
		}
		if ttl := p.tree.TTLOf(n); ttl > 0 && now-n.Stat.Mtime > ttl {
			victims = append(victims, path)
		}
	}
	limit := p.cfg.ContainerMaxPerMinute
	if limit <= 0 {
		limit = 10000
	}
	// At most maxPerMinute deletions per minute, spread over each sweep.
	perSweep := max(1, int(int64(limit)*p.cfg.ContainerCheckInterval.Milliseconds()/60000))
	if len(victims) > perSweep {
		victims = victims[:perSweep]
	}
	for _, path := range victims {
		pr := p.toCommit(p.prepBegin(time.Time{}), nil, 0, 0) // ContainerManager hands its requests to prep directly
		hdr := p.nextHeader(0, 0, jute.OpDeleteContainer)
		v := &view{p: p}
		txn, e := p.prepWrite(v, nil, hdr, jute.OpDeleteContainer, &jute.DeleteTxn{Path: path})
		if e != jute.ErrOK {
			hdr.Type = jute.OpError
			txn = &jute.ErrorTxn{Err: int32(e)}
		}
		p.logTxn(hdr, txn)
		p.changesPrepped(v, e == jute.ErrOK)
		p.prepEnd(pr)
	}
}

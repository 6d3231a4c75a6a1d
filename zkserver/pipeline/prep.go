package pipeline

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// record is prep's view of a znode: the tree's node, or a change made by an
// earlier op of the same multi that is not applied yet (Apache's ChangeRecord).
type record struct {
	stat       jute.StatPersisted // internal cversion, raw ephemeralOwner
	acl        []jute.ACL
	childCount int
	dataLen    int // the node's data size, for setData's quota check
}

// view looks nodes up through the pending changes of the current multi.
type view struct {
	p       *Processor
	pending map[string]*record // nil value = deleted
	// ephemeralOnLocal: the request's local session may not be upgraded, so its ephemeral creates fail with
	// EphemeralOnLocalSession where their session is checked.
	ephemeralOnLocal bool
	// changes counts the change records Apache's prep adds for the request (addChangeRecord: one per node an op
	// changes); rolledBack: an op of its multi failed and they were taken back.
	changes    int
	rolledBack bool
}

func (v *view) get(path string) *record {
	if path == "" {
		path = "/"
	}
	if v.pending != nil {
		if r, ok := v.pending[path]; ok {
			return r
		}
	}
	n := v.p.tree.Node(path)
	if n == nil {
		return nil
	}
	return &record{stat: n.Stat, acl: v.p.tree.ACL(n), childCount: len(n.Children), dataLen: len(n.Data)}
}

func (v *view) put(path string, r *record) {
	v.changes++
	if v.pending == nil {
		return // single op: applied right away, nothing to remember
	}
	if path == "" {
		path = "/"
	}
	v.pending[path] = r
}

// prepWrite turns one write request into a txn, checking it as
// PrepRequestProcessor does; the returned error is the code of an ErrorTxn.
func (p *Processor) prepWrite(v *view, c *Client, hdr *jute.TxnHeader, op int32, body jute.Record) (jute.Record, jute.Err) {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		return p.prepCreate(v, c, hdr, op, body)
	case jute.OpDelete:
		if e := p.checkSession(c, hdr.ClientID); e != jute.ErrOK {
			return nil, e
		}
		req := body.(*jute.DeleteRequest)
		return p.prepDelete(v, c, hdr, req.Path, req.Version)
	case jute.OpDeleteContainer:
		req := body.(*jute.DeleteTxn)
		parent, ok := parentOf(req.Path)
		if !ok || specialPath(req.Path) {
			return nil, jute.ErrBadArguments
		}
		n := v.get(req.Path)
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if n.childCount > 0 {
			return nil, jute.ErrNotEmpty
		}
		if p.treeOptions().NormalEphemeral(n.stat.EphemeralOwner) {
			return nil, jute.ErrBadVersion
		}
		pr := v.get(parent)
		if pr == nil {
			return nil, jute.ErrNoNode
		}
		p.noteDelete(v, parent, pr, req.Path, hdr.Zxid)
		return &jute.DeleteTxn{Path: req.Path}, jute.ErrOK
	case jute.OpSetData:
		req := body.(*jute.SetDataRequest)
		if e := p.checkSession(c, hdr.ClientID); e != jute.ErrOK {
			return nil, e
		}
		if !validPath(req.Path) {
			return nil, jute.ErrBadArguments
		}
		n := v.get(req.Path)
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if !p.acl.Check(n.acl, jute.PermWrite, c.ids) {
			return nil, jute.ErrNoAuth
		}
		if e := p.checkQuota(req.Path, int64(len(req.Data)-n.dataLen), 0); e != jute.ErrOK {
			return nil, e
		}
		if req.Version != -1 && req.Version != n.stat.Version {
			return nil, jute.ErrBadVersion
		}
		nr := *n
		nr.dataLen = len(req.Data)
		nr.stat.Version++
		nr.stat.Mzxid = hdr.Zxid
		nr.stat.Mtime = hdr.Time
		v.put(req.Path, &nr)
		return &jute.SetDataTxn{Path: req.Path, Data: req.Data, Version: n.stat.Version + 1}, jute.ErrOK
	case jute.OpSetACL:
		req := body.(*jute.SetACLRequest)
		if e := p.checkSession(c, hdr.ClientID); e != jute.ErrOK {
			return nil, e
		}
		if !validPath(req.Path) {
			return nil, jute.ErrBadArguments
		}
		acl, e := p.acl.FixupACL(req.ACL, c.ids)
		if e != jute.ErrOK {
			return nil, e
		}
		n := v.get(req.Path)
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if !p.acl.Check(n.acl, jute.PermAdmin, c.ids) {
			return nil, jute.ErrNoAuth
		}
		if req.Version != -1 && req.Version != n.stat.Aversion {
			return nil, jute.ErrBadVersion
		}
		nr := *n
		nr.stat.Aversion++
		nr.acl = acl
		v.put(req.Path, &nr)
		return &jute.SetACLTxn{Path: req.Path, ACL: acl, Version: n.stat.Aversion + 1}, jute.ErrOK
	case jute.OpCheck:
		req := body.(*jute.CheckVersionRequest)
		if e := p.checkSession(c, hdr.ClientID); e != jute.ErrOK {
			return nil, e
		}
		if !validPath(req.Path) {
			return nil, jute.ErrBadArguments
		}
		n := v.get(req.Path)
		if n == nil {
			return nil, jute.ErrNoNode
		}
		if !p.acl.Check(n.acl, jute.PermRead, c.ids) {
			return nil, jute.ErrNoAuth
		}
		if req.Version != -1 && req.Version != n.stat.Version {
			return nil, jute.ErrBadVersion
		}
		return &jute.CheckVersionTxn{Path: req.Path, Version: n.stat.Version + 1}, jute.ErrOK
	case jute.OpReconfig:
		if e := p.checkSession(c, hdr.ClientID); e != jute.ErrOK {
			return nil, e
		}
		return p.prepReconfig(v, c, hdr, body.(*jute.ReconfigRequest))
	}
	return nil, jute.ErrUnimplemented
}

func (p *Processor) prepCreate(v *view, c *Client, hdr *jute.TxnHeader, op int32, body jute.Record) (jute.Record, jute.Err) {
	var (
		path  string
		data  []byte
		acls  []jute.ACL
		flags int32
		ttl   int64 = -1
	)
	switch r := body.(type) {
	case *jute.CreateRequest:
		path, data, acls, flags = r.Path, r.Data, r.ACL, r.Flags
	case *jute.CreateTTLRequest:
		path, data, acls, flags, ttl = r.Path, r.Data, r.ACL, r.Flags, r.TTL
	default:
		return nil, jute.ErrMarshallingError
	}
	if flags < jute.ModePersistent || flags > jute.ModePersistentSequentialWithTTL {
		return nil, jute.ErrBadArguments
	}
	isTTL := flags == jute.ModePersistentWithTTL || flags == jute.ModePersistentSequentialWithTTL
	if isTTL && !p.cfg.ExtendedTypes {
		return nil, jute.ErrUnimplemented
	}
	if isTTL {
		if _, ok := tree.TTLOwner(ttl); !ok {
			return nil, jute.ErrBadArguments
		}
	} else if ttl >= 0 {
		return nil, jute.ErrBadArguments
	}
	if e := p.checkEphemeralSession(v, c, hdr.ClientID, flags); e != jute.ErrOK {
		return nil, e
	}
	parent, ok := parentOf(path)
	if !ok {
		return nil, jute.ErrBadArguments
	}
	acl, e := p.acl.FixupACL(acls, c.ids)
	if e != jute.ErrOK {
		return nil, e
	}
	pr := v.get(parent)
	if pr == nil {
		return nil, jute.ErrNoNode
	}
	if !p.acl.Check(pr.acl, jute.PermCreate, c.ids) {
		return nil, jute.ErrNoAuth
	}
	if flags == jute.ModePersistentSequential || flags == jute.ModeEphemeralSequential || flags == jute.ModePersistentSequentialWithTTL {
		path += fmt.Sprintf("%010d", pr.stat.Cversion)
	}
	if !validPath(path) {
		return nil, jute.ErrBadArguments
	}
	if v.get(path) != nil {
		return nil, jute.ErrNodeExists
	}
	if p.treeOptions().NormalEphemeral(pr.stat.EphemeralOwner) {
		return nil, jute.ErrNoChildrenForEphemerals
	}
	if e := p.checkQuota(path, int64(len(data)), 1); e != jute.ErrOK {
		return nil, e
	}
	newCversion := pr.stat.Cversion + 1
	var owner int64
	switch {
	case flags == jute.ModeContainer:
		owner = tree.ContainerOwner
	case isTTL:
		owner, _ = tree.TTLOwner(ttl)
	case flags == jute.ModeEphemeral || flags == jute.ModeEphemeralSequential:
		owner = hdr.ClientID
	}
	npr := *pr
	npr.childCount++
	npr.stat.Cversion = newCversion
	npr.stat.Pzxid = hdr.Zxid
	v.put(parent, &npr)
	v.put(path, &record{acl: acl, dataLen: len(data), stat: jute.StatPersisted{Czxid: hdr.Zxid, Mzxid: hdr.Zxid, Pzxid: hdr.Zxid,
		Ctime: hdr.Time, Mtime: hdr.Time, EphemeralOwner: owner}})
	switch op {
	case jute.OpCreateContainer:
		return &jute.CreateContainerTxn{Path: path, Data: data, ACL: acl, ParentCVersion: newCversion}, jute.ErrOK
	case jute.OpCreateTTL:
		return &jute.CreateTTLTxn{Path: path, Data: data, ACL: acl, ParentCVersion: newCversion, TTL: ttl}, jute.ErrOK
	}
	eph := flags == jute.ModeEphemeral || flags == jute.ModeEphemeralSequential
	return &jute.CreateTxn{Path: path, Data: data, ACL: acl, Ephemeral: eph, ParentCVersion: newCversion}, jute.ErrOK
}

// checkEphemeralSession is validateCreateRequest's session check, after the create's mode and TTL: an ephemeral
// create's local session that may not upgrade fails with EphemeralOnLocalSession, and its session must be a global
// one (a leader's checkGlobalSession: a learner's local one has expired, as far as the leader knows); any other
// create's session gets the usual check.
func (p *Processor) checkEphemeralSession(v *view, c *Client, sid int64, flags int32) jute.Err {
	switch {
	case !ephemeralMode(flags):
	case v.ephemeralOnLocal:
		return jute.ErrEphemeralOnLocalSession
	case p.ens != nil:
		return p.checkGlobalSession(sid, c.via)
	}
	return p.checkSession(c, sid)
}

func (p *Processor) prepDelete(v *view, c *Client, hdr *jute.TxnHeader, path string, version int32) (jute.Record, jute.Err) {
	parent, ok := parentOf(path)
	if !ok || specialPath(path) {
		return nil, jute.ErrBadArguments
	}
	pr := v.get(parent)
	if pr == nil {
		return nil, jute.ErrNoNode
	}
	if !p.acl.Check(pr.acl, jute.PermDelete, c.ids) {
		return nil, jute.ErrNoAuth
	}
	n := v.get(path)
	if n == nil {
		return nil, jute.ErrNoNode
	}
	if version != -1 && version != n.stat.Version {
		return nil, jute.ErrBadVersion
	}
	if n.childCount > 0 {
		return nil, jute.ErrNotEmpty
	}
	p.noteDelete(v, parent, pr, path, hdr.Zxid)
	return &jute.DeleteTxn{Path: path}, jute.ErrOK
}

func (p *Processor) noteDelete(v *view, parent string, pr *record, path string, zxid int64) {
	if v.pending == nil {
		v.changes += 2 // the parent's record and the node's
		return
	}
	npr := *pr
	npr.childCount--
	npr.stat.Pzxid = zxid
	v.put(parent, &npr)
	v.put(path, nil)
}

// prepMulti builds a MultiTxn: ops share one zxid; after the first failure
// the rest become ErrorTxn(RuntimeInconsistency), as Apache logs them. It
// returns nil when the whole request fails with MarshallingError.
func (p *Processor) prepMulti(v *view, c *Client, hdr *jute.TxnHeader, req *jute.MultiRequest) *jute.MultiTxn {
	v.pending = map[string]*record{}
	mt := &jute.MultiTxn{Txns: make([]jute.Txn, 0, len(req.Ops))}
	failed := false
	for _, op := range req.Ops {
		if failed {
			mt.Txns = append(mt.Txns, jute.Txn{Type: jute.OpError, Data: jute.Marshal(&jute.ErrorTxn{Err: int32(jute.ErrRuntimeInconsistency)})})
			continue
		}
		var txn jute.Record
		e := jute.ErrOK
		op, castFails := multiCreateOp(op)
		if castFails {
			return nil
		}
		switch op.Type {
		case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpDelete, jute.OpSetData, jute.OpCheck:
			txn, e = p.prepWrite(v, c, hdr, op.Type, op.Rec)
		default:
			e = jute.ErrUnimplemented
		}
		if e == jute.ErrMarshallingError {
			return nil // an exception in Apache's prep, which fails the whole multi
		}
		if e != jute.ErrOK {
			failed, v.rolledBack = true, true
			mt.Txns = append(mt.Txns, jute.Txn{Type: jute.OpError, Data: jute.Marshal(&jute.ErrorTxn{Err: int32(e)})})
			continue
		}
		mt.Txns = append(mt.Txns, jute.Txn{Type: op.Type, Data: jute.Marshal(txn)})
	}
	return mt
}

// multiCreateOp gives a create inside a multi the opcode Apache's
// MultiOperationRecord gives it: chosen by the create mode, not by the opcode
// the client sent (so create2 becomes create, answered with a path only).
// castFails reports a plain create carrying a TTL mode: Apache then casts its
// CreateRequest to CreateTTLRequest, throws, and fails the whole multi with
// MarshallingError.
func multiCreateOp(op jute.Op) (_ jute.Op, castFails bool) {
	switch r := op.Rec.(type) {
	case *jute.CreateRequest:
		switch r.Flags {
		case jute.ModeContainer:
			return jute.Op{Type: jute.OpCreateContainer, Rec: r}, false
		case jute.ModePersistentWithTTL, jute.ModePersistentSequentialWithTTL:
			return op, true
		}
		return jute.Op{Type: jute.OpCreate, Rec: r}, false
	case *jute.CreateTTLRequest:
		switch r.Flags {
		case jute.ModePersistentWithTTL, jute.ModePersistentSequentialWithTTL:
			return jute.Op{Type: jute.OpCreateTTL, Rec: r}, false
		case jute.ModeContainer:
			return jute.Op{Type: jute.OpCreateContainer, Rec: &jute.CreateRequest{Path: r.Path, Data: r.Data, ACL: r.ACL, Flags: r.Flags}}, false
		}
		return jute.Op{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: r.Path, Data: r.Data, ACL: r.ACL, Flags: r.Flags}}, false
	}
	return op, false
}

// checkQuota is ZooKeeperServer.checkQuota for a create (countDiff 1) or setData at path: with
// zookeeper.enforceQuota, a change past a hard limit fails with QuotaExceeded and is counted against the path's
// top-level name; every limit passed is logged.
func (p *Processor) checkQuota(path string, bytesDiff, countDiff int64) jute.Err {
	if !p.cfg.EnforceQuota {
		return jute.ErrOK
	}
	qc := p.tree.CheckQuota(path, bytesDiff, countDiff)
	if qc.Malformed {
		// Apache's StatsTrack throws on the node's data; PrepRequestProcessor answers any exception so.
		p.log.Error("failed to process request: quota node data does not parse", "path", path, "quota", qc.Prefix)
		return jute.ErrMarshallingError
	}
	for _, w := range qc.Warnings {
		p.quotaLog.warn(p.log, w, time.Now())
	}
	if !qc.Exceeded {
		return jute.ErrOK
	}
	if ns := tree.TopNamespace(path); ns != "" {
		p.Stats.addQuotaExceeded(ns)
	}
	return jute.ErrQuotaExceeded
}

// rateLog is Apache's RateLogger (100 ms): a message repeated within the interval is counted, not logged, and
// the count goes out with the next message logged.
type rateLog struct {
	msg   string
	at    time.Time
	count int
}

func (r *rateLog) warn(log *slog.Logger, msg string, now time.Time) {
	if msg == r.msg {
		r.count++
		if now.Sub(r.at) < 100*time.Millisecond {
			return
		}
		r.flush(log)
		r.msg, r.at = msg, now
		return
	}
	r.flush(log)
	r.msg, r.at = msg, now
	log.Warn(msg)
}

func (r *rateLog) flush(log *slog.Logger) {
	if r.msg != "" && r.count > 0 {
		log.Warn(r.msg, "times", r.count)
	}
	r.msg, r.count = "", 0
}

// Package diff is the differential conformance runner: every Scenario runs
// against a reference server (Apache ZooKeeper) and a candidate (zkserver)
// through a Recorder that logs each operation's outcome and each watch event
// in order; the two logs are compared after normalising what legitimately
// differs (times, absolute zxids, session ids).
package diff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/zkafka/zkafka/conformance/internal/zkwire"
	"github.com/zkafka/zkafka/jute"
)

// OpTimeout bounds a single request; a server that does not answer in time
// is logged as TIMEOUT.
const OpTimeout = 10 * time.Second

// R records one scenario run against one server.
type R struct {
	ctx  context.Context
	addr string
	// addrs are the servers of an ensemble (addrs[0] == addr); a client
	// connects to one of them (ConnOpts.Server).
	addrs []string
	// quorum: the servers are an ensemble, so Flush syncs (a follower
	// applies a write only when the leader's commit reaches it).
	quorum bool
	root   string
	lines  []string
	n      norm
	conns  []*Client
	// live holds sessions not known to be closed or expired, so the runner
	// can close them: a session left to expire would add a closeSession txn
	// in the middle of a later scenario.
	live map[int64][]byte
	// broken is set when the harness itself failed (not a server difference).
	broken error
	// pingsHeld: the clients send no pings (holdPings), those connected later neither.
	pingsHeld bool
}

// holdPings stops (true) or resumes the pings of the scenario's clients: each is a packet, and in Apache's chain
// a read, that a slow machine adds to counts taken over a window.
func (r *R) holdPings(hold bool) {
	r.pingsHeld = hold
	for _, cl := range r.conns {
		cl.c.HoldPings(hold)
	}
}

func newR(ctx context.Context, addrs []string, root string) *R {
	return &R{ctx: ctx, addr: addrs[0], addrs: addrs, quorum: len(addrs) > 1, root: root,
		n: norm{sessions: map[int64]string{}}, live: map[int64][]byte{}}
}

// Servers is how many servers the scenario may connect to (1 standalone).
func (r *R) Servers() int { return len(r.addrs) }

// Root is the scenario's own subtree, e.g. "/s12".
func (r *R) Root() string { return r.root }

// P joins rel under the scenario root: P("a/b") = "/s12/a/b"; P("") = root.
func (r *R) P(rel string) string {
	if rel == "" {
		return r.root
	}
	return r.root + "/" + rel
}

// Logf adds a free-form line (for notes that help read a diff).
func (r *R) Logf(format string, args ...any) {
	r.lines = append(r.lines, "# "+fmt.Sprintf(format, args...))
}

func (r *R) add(s string) { r.lines = append(r.lines, s) }

// Lines returns the log.
func (r *R) Lines() []string { return r.lines }

// Sleep pauses the scenario (for time-driven server behaviour only).
func (r *R) Sleep(d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.ctx.Done():
	}
}

// ConnOpts tune Connect.
type ConnOpts struct {
	Timeout  time.Duration // requested session timeout (default 10s)
	NoPing   bool
	ReadOnly *bool
	// Server is the 1-based index of the ensemble server to connect to; 0
	// is the first one (or, for Reattach, the client's own).
	Server    int
	sessionID int64
	passwd    []byte
	lastZxid  int64
}

// Client is one recorded connection.
type Client struct {
	r      *R
	label  string
	server int // index into r.addrs
	c      *zkwire.Conn
	seen   int // events already logged
	dead   bool
	opTO   time.Duration
}

// SetOpTimeout changes how long this client waits for each reply (default
// OpTimeout); for requests a server may legitimately leave unanswered.
func (cl *Client) SetOpTimeout(d time.Duration) { cl.opTO = d }

// Connect opens a new session labelled label.
func (r *R) Connect(label string, opts ...ConnOpts) *Client {
	var o ConnOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	return r.dial(label, o)
}

func (r *R) dial(label string, o ConnOpts) *Client {
	cl := &Client{r: r, label: label, server: max(o.Server-1, 0)}
	if cl.server >= len(r.addrs) {
		cl.server = 0
	}
	ctx, cancel := context.WithTimeout(r.ctx, OpTimeout)
	defer cancel()
	c, err := zkwire.Dial(ctx, r.addrs[cl.server], zkwire.Options{
		Timeout: o.Timeout, NoPing: o.NoPing, ReadOnly: o.ReadOnly,
		SessionID: o.sessionID, Passwd: o.passwd, LastZxid: o.lastZxid,
	})
	desc := fmt.Sprintf("%s: connect", label)
	if r.quorum {
		desc += fmt.Sprintf(" server=%d", cl.server+1)
	}
	if o.Timeout != 0 {
		desc += fmt.Sprintf(" timeout=%d", o.Timeout.Milliseconds())
	}
	if o.sessionID != 0 {
		desc += " session=" + r.n.owner(o.sessionID)
	}
	if err != nil {
		cl.dead = true
		switch {
		case errors.Is(err, jute.ErrSessionExpired):
			delete(r.live, o.sessionID)
			r.add(desc + " -> SessionExpired (timeout 0)")
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
			r.add(desc + " -> CONNECTION CLOSED")
		default:
			r.add(desc + " -> FAILED")
			r.broken = fmt.Errorf("%s: %w", desc, err)
		}
		return cl
	}
	cl.c = c
	c.HoldPings(r.pingsHeld)
	r.live[c.SessionID()] = c.Passwd()
	if _, ok := r.n.sessions[c.SessionID()]; !ok {
		r.n.sessions[c.SessionID()] = fmt.Sprintf("S%d", len(r.n.sessions)+1)
	}
	r.conns = append(r.conns, cl)
	r.add(fmt.Sprintf("%s -> session=%s timeout=%d", desc, r.n.sessions[c.SessionID()], c.Timeout()))
	return cl
}

// SessionLabel returns the label of the client's session.
func (cl *Client) SessionLabel() string {
	if cl.c == nil {
		return "none"
	}
	return cl.r.n.owner(cl.c.SessionID())
}

// LogSessionIDShape logs what a standalone server's session id must look
// like: the top byte is the server id (0 standalone), never 0xFF (TTL owner
// marker) nor 0x80 (container marker).
func (cl *Client) LogSessionIDShape() {
	if cl.c == nil {
		cl.r.add(fmt.Sprintf("%s: session id -> NOT CONNECTED", cl.label))
		return
	}
	id := cl.c.SessionID()
	cl.r.add(fmt.Sprintf("%s: session id top byte=0x%02x nonzero=%v passwd len=%d", cl.label, uint64(id)>>56, id != 0, len(cl.c.Passwd())))
}

// logEvents logs events received before position upTo (-1 = all so far).
func (cl *Client) logEvents(upTo int) {
	if cl.c == nil {
		return
	}
	evs := cl.c.Events(cl.seen)
	if upTo >= 0 && upTo-cl.seen < len(evs) {
		evs = evs[:upTo-cl.seen]
	}
	for _, ev := range evs {
		if ev.Stray != nil {
			cl.r.add(fmt.Sprintf("%s: stray reply xid=%d %s %s zxid=%s", cl.label, ev.Stray.Hdr.Xid, errName(ev.Stray.Hdr.Err), rawBody(ev.Stray.Body), cl.r.n.zx(ev.Zxid)))
			continue
		}
		cl.r.add(fmt.Sprintf("%s: event %s %s %q zxid=%s", cl.label, eventName(ev.Type), stateName(ev.State), ev.Path, cl.r.n.zx(ev.Zxid)))
	}
	cl.seen += len(evs)
}

// do sends one request and returns the reply, logging events that preceded
// it. ok is false when no reply came (the failure is logged with desc).
func (cl *Client) do(xid, op int32, req jute.Record, desc string) (zkwire.Result, bool) {
	if cl.c == nil || cl.dead {
		cl.r.add(fmt.Sprintf("%s: %s -> NOT CONNECTED", cl.label, desc))
		return zkwire.Result{}, false
	}
	to := OpTimeout
	if cl.opTO > 0 {
		to = cl.opTO
	}
	ctx, cancel := context.WithTimeout(cl.r.ctx, to)
	defer cancel()
	res, err := cl.c.DoXid(ctx, xid, op, req)
	if err != nil {
		cl.logEvents(-1)
		if errors.Is(err, zkwire.ErrClosed) {
			cl.dead = true
			cl.r.add(fmt.Sprintf("%s: %s -> CONNECTION CLOSED", cl.label, desc))
		} else {
			cl.r.add(fmt.Sprintf("%s: %s -> TIMEOUT", cl.label, desc))
		}
		return res, false
	}
	cl.logEvents(res.EventsSoFar)
	cl.r.n.observe(res.Hdr.Zxid)
	return res, true
}

// result logs "<label>: <desc> -> <err> <body> zxid=..." and returns the code.
func (cl *Client) result(desc string, res zkwire.Result, body string) jute.Err {
	s := fmt.Sprintf("%s: %s -> %s", cl.label, desc, errName(res.Hdr.Err))
	if body != "" {
		s += " " + body
	}
	s += " zxid=" + cl.r.n.zx(res.Hdr.Zxid)
	cl.r.add(s)
	return jute.Err(res.Hdr.Err)
}

// call runs a request whose OK reply decodes into resp, and renders it with
// show; returns the error code (ErrConnectionLoss when no reply).
func (cl *Client) call(op int32, req, resp jute.Record, desc string, show func() string) jute.Err {
	res, ok := cl.do(0, op, req, desc)
	if !ok {
		return jute.ErrConnectionLoss
	}
	body := ""
	if res.Hdr.Err == 0 && resp != nil {
		if err := jute.Unmarshal(res.Body, resp); err != nil {
			body = fmt.Sprintf("UNDECODABLE(%v) body=%x", err, res.Body)
		} else if show != nil {
			body = show()
		}
	} else if len(res.Body) > 0 {
		body = fmt.Sprintf("body=%x", res.Body)
	}
	return cl.result(desc, res, body)
}

func aclOrOpen(acl []jute.ACL) []jute.ACL {
	if acl == nil {
		return jute.OpenACLUnsafe
	}
	return acl
}

// Create sends create(1). A nil acl means OPEN_ACL_UNSAFE.
func (cl *Client) Create(path, d string, flags int32, acl []jute.ACL) (string, jute.Err) {
	return cl.CreateReq(&jute.CreateRequest{Path: path, Data: []byte(d), ACL: aclOrOpen(acl), Flags: flags})
}

// CreateReq sends create(1) with a request as given.
func (cl *Client) CreateReq(req *jute.CreateRequest) (string, jute.Err) {
	var resp jute.CreateResponse
	desc := fmt.Sprintf("create %q data=%s flags=%d acl=%s", req.Path, data(req.Data), req.Flags, acls(req.ACL))
	code := cl.call(jute.OpCreate, req, &resp, desc, func() string { return "path=" + resp.Path })
	return resp.Path, code
}

// Create2 sends create2(15).
func (cl *Client) Create2(path, d string, flags int32, acl []jute.ACL) (string, jute.Err) {
	return cl.create2(jute.OpCreate2, &jute.CreateRequest{Path: path, Data: []byte(d), ACL: aclOrOpen(acl), Flags: flags})
}

// CreateContainer sends createContainer(19) with the given flags (normally
// ModeContainer).
func (cl *Client) CreateContainer(path, d string, flags int32) (string, jute.Err) {
	return cl.create2(jute.OpCreateContainer, &jute.CreateRequest{Path: path, Data: []byte(d), ACL: jute.OpenACLUnsafe, Flags: flags})
}

func (cl *Client) create2(op int32, req *jute.CreateRequest) (string, jute.Err) {
	var resp jute.Create2Response
	desc := fmt.Sprintf("%s %q data=%s flags=%d acl=%s", opName(op), req.Path, data(req.Data), req.Flags, acls(req.ACL))
	code := cl.call(op, req, &resp, desc, func() string { return "path=" + resp.Path + " stat=" + cl.r.n.stat(&resp.Stat) })
	return resp.Path, code
}

// CreateTTL sends createTTL(21).
func (cl *Client) CreateTTL(path, d string, flags int32, ttl int64) (string, jute.Err) {
	req := &jute.CreateTTLRequest{Path: path, Data: []byte(d), ACL: jute.OpenACLUnsafe, Flags: flags, TTL: ttl}
	var resp jute.Create2Response
	desc := fmt.Sprintf("createTTL %q data=%s flags=%d ttl=%d", path, data(req.Data), flags, ttl)
	code := cl.call(jute.OpCreateTTL, req, &resp, desc, func() string { return "path=" + resp.Path + " stat=" + cl.r.n.stat(&resp.Stat) })
	return resp.Path, code
}

// Delete sends delete(2).
func (cl *Client) Delete(path string, version int32) jute.Err {
	return cl.call(jute.OpDelete, &jute.DeleteRequest{Path: path, Version: version}, nil, fmt.Sprintf("delete %q v=%d", path, version), nil)
}

// Exists sends exists(3).
func (cl *Client) Exists(path string, watch bool) jute.Err {
	var resp jute.ExistsResponse
	return cl.call(jute.OpExists, &jute.ExistsRequest{Path: path, Watch: watch}, &resp,
		fmt.Sprintf("exists %q watch=%v", path, watch), func() string { return "stat=" + cl.r.n.stat(&resp.Stat) })
}

// Get sends getData(4).
func (cl *Client) Get(path string, watch bool) ([]byte, jute.Err) {
	var resp jute.GetDataResponse
	code := cl.call(jute.OpGetData, &jute.GetDataRequest{Path: path, Watch: watch}, &resp,
		fmt.Sprintf("getData %q watch=%v", path, watch), func() string {
			return "data=" + data(resp.Data) + " stat=" + cl.r.n.stat(&resp.Stat)
		})
	return resp.Data, code
}

// Set sends setData(5).
func (cl *Client) Set(path, d string, version int32) jute.Err {
	return cl.SetB(path, []byte(d), version)
}

// SetB sends setData(5) with raw bytes (nil is sent as a null buffer).
func (cl *Client) SetB(path string, d []byte, version int32) jute.Err {
	var resp jute.SetDataResponse
	return cl.call(jute.OpSetData, &jute.SetDataRequest{Path: path, Data: d, Version: version}, &resp,
		fmt.Sprintf("setData %q data=%s v=%d", path, data(d), version), func() string { return "stat=" + cl.r.n.stat(&resp.Stat) })
}

// GetACL sends getACL(6).
func (cl *Client) GetACL(path string) ([]jute.ACL, jute.Err) {
	var resp jute.GetACLResponse
	code := cl.call(jute.OpGetACL, &jute.GetACLRequest{Path: path}, &resp, fmt.Sprintf("getACL %q", path),
		func() string { return "acl=" + acls(resp.ACL) + " stat=" + cl.r.n.stat(&resp.Stat) })
	return resp.ACL, code
}

// SetACL sends setACL(7).
func (cl *Client) SetACL(path string, acl []jute.ACL, version int32) jute.Err {
	var resp jute.SetACLResponse
	return cl.call(jute.OpSetACL, &jute.SetACLRequest{Path: path, ACL: acl, Version: version}, &resp,
		fmt.Sprintf("setACL %q acl=%s v=%d", path, acls(acl), version), func() string { return "stat=" + cl.r.n.stat(&resp.Stat) })
}

// Children sends getChildren(8).
func (cl *Client) Children(path string, watch bool) ([]string, jute.Err) {
	var resp jute.GetChildrenResponse
	code := cl.call(jute.OpGetChildren, &jute.GetChildrenRequest{Path: path, Watch: watch}, &resp,
		fmt.Sprintf("getChildren %q watch=%v", path, watch), func() string { return "children=" + sortedList(resp.Children) })
	return resp.Children, code
}

// Children2 sends getChildren2(12).
func (cl *Client) Children2(path string, watch bool) ([]string, jute.Err) {
	var resp jute.GetChildren2Response
	code := cl.call(jute.OpGetChildren2, &jute.GetChildren2Request{Path: path, Watch: watch}, &resp,
		fmt.Sprintf("getChildren2 %q watch=%v", path, watch), func() string {
			return "children=" + sortedList(resp.Children) + " stat=" + cl.r.n.stat(&resp.Stat)
		})
	return resp.Children, code
}

// Sync sends sync(9).
func (cl *Client) Sync(path string) jute.Err {
	var resp jute.SyncResponse
	return cl.call(jute.OpSync, &jute.SyncRequest{Path: path}, &resp, fmt.Sprintf("sync %q", path),
		func() string { return "path=" + resp.Path })
}

// Check sends a top-level check(13) (normally only used inside multi).
func (cl *Client) Check(path string, version int32) jute.Err {
	return cl.Raw(jute.OpCheck, &jute.CheckVersionRequest{Path: path, Version: version})
}

// Multi sends multi(14).
func (cl *Client) Multi(ops ...jute.Op) jute.Err {
	return cl.multi(jute.OpMulti, ops)
}

// MultiRead sends multiRead(22).
func (cl *Client) MultiRead(ops ...jute.Op) jute.Err {
	return cl.multi(jute.OpMultiRead, ops)
}

func (cl *Client) multi(op int32, ops []jute.Op) jute.Err {
	parts := make([]string, len(ops))
	for i, o := range ops {
		parts[i] = describeOp(o)
	}
	desc := fmt.Sprintf("%s [%s]", opName(op), strings.Join(parts, " | "))
	res, ok := cl.do(0, op, &jute.MultiRequest{Ops: ops}, desc)
	if !ok {
		return jute.ErrConnectionLoss
	}
	// A failed multi still carries per-op results.
	var m jute.MultiResponse
	body := ""
	if len(res.Body) > 0 {
		if err := jute.Unmarshal(res.Body, &m); err != nil {
			body = fmt.Sprintf("UNDECODABLE(%v) body=%x", err, res.Body)
		} else {
			body = "results=" + cl.r.n.multiResult(&m)
		}
	}
	return cl.result(desc, res, body)
}

func describeOp(o jute.Op) string {
	switch q := o.Rec.(type) {
	case *jute.CreateRequest:
		return fmt.Sprintf("%s %q %s f=%d", opName(o.Type), q.Path, data(q.Data), q.Flags)
	case *jute.CreateTTLRequest:
		return fmt.Sprintf("%s %q %s f=%d ttl=%d", opName(o.Type), q.Path, data(q.Data), q.Flags, q.TTL)
	case *jute.DeleteRequest:
		return fmt.Sprintf("delete %q v=%d", q.Path, q.Version)
	case *jute.SetDataRequest:
		return fmt.Sprintf("setData %q %s v=%d", q.Path, data(q.Data), q.Version)
	case *jute.CheckVersionRequest:
		return fmt.Sprintf("check %q v=%d", q.Path, q.Version)
	case *jute.GetDataRequest:
		return fmt.Sprintf("getData %q", q.Path)
	case *jute.GetChildrenRequest:
		return fmt.Sprintf("getChildren %q", q.Path)
	}
	return fmt.Sprintf("%s %T", opName(o.Type), o.Rec)
}

// Multi op builders.

// MCreate is a create op for Multi (nil acl = OPEN_ACL_UNSAFE).
func MCreate(path, d string, flags int32) jute.Op {
	return jute.Op{Type: jute.OpCreate, Rec: &jute.CreateRequest{Path: path, Data: []byte(d), ACL: jute.OpenACLUnsafe, Flags: flags}}
}

// MCreate2 is a create2 op for Multi.
func MCreate2(path, d string, flags int32) jute.Op {
	return jute.Op{Type: jute.OpCreate2, Rec: &jute.CreateRequest{Path: path, Data: []byte(d), ACL: jute.OpenACLUnsafe, Flags: flags}}
}

// MCreateContainer is a createContainer op for Multi.
func MCreateContainer(path, d string) jute.Op {
	return jute.Op{Type: jute.OpCreateContainer, Rec: &jute.CreateRequest{Path: path, Data: []byte(d), ACL: jute.OpenACLUnsafe, Flags: jute.ModeContainer}}
}

// MCreateTTL is a createTTL op for Multi.
func MCreateTTL(path, d string, flags int32, ttl int64) jute.Op {
	return jute.Op{Type: jute.OpCreateTTL, Rec: &jute.CreateTTLRequest{Path: path, Data: []byte(d), ACL: jute.OpenACLUnsafe, Flags: flags, TTL: ttl}}
}

// MDelete is a delete op for Multi.
func MDelete(path string, version int32) jute.Op {
	return jute.Op{Type: jute.OpDelete, Rec: &jute.DeleteRequest{Path: path, Version: version}}
}

// MSet is a setData op for Multi.
func MSet(path, d string, version int32) jute.Op {
	return jute.Op{Type: jute.OpSetData, Rec: &jute.SetDataRequest{Path: path, Data: []byte(d), Version: version}}
}

// MCheck is a check op for Multi.
func MCheck(path string, version int32) jute.Op {
	return jute.Op{Type: jute.OpCheck, Rec: &jute.CheckVersionRequest{Path: path, Version: version}}
}

// MGet is a getData op for MultiRead.
func MGet(path string) jute.Op {
	return jute.Op{Type: jute.OpGetData, Rec: &jute.GetDataRequest{Path: path}}
}

// MChildren is a getChildren op for MultiRead.
func MChildren(path string) jute.Op {
	return jute.Op{Type: jute.OpGetChildren, Rec: &jute.GetChildrenRequest{Path: path}}
}

// AddAuth sends an auth packet (xid -4).
func (cl *Client) AddAuth(scheme, auth string) jute.Err {
	desc := fmt.Sprintf("addAuth %s %q", scheme, auth)
	res, ok := cl.do(jute.XidAuth, jute.OpAuth, &jute.AuthPacket{Scheme: scheme, Auth: []byte(auth)}, desc)
	if !ok {
		return jute.ErrConnectionLoss
	}
	return cl.result(desc, res, "")
}

// GetEphemerals sends getEphemerals(103).
func (cl *Client) GetEphemerals(prefix string) ([]string, jute.Err) {
	var resp jute.GetEphemeralsResponse
	code := cl.call(jute.OpGetEphemerals, &jute.GetEphemeralsRequest{PrefixPath: prefix}, &resp,
		fmt.Sprintf("getEphemerals %q", prefix), func() string { return "paths=" + sortedList(resp.Ephemerals) })
	return resp.Ephemerals, code
}

// AllChildrenNumber sends getAllChildrenNumber(104).
func (cl *Client) AllChildrenNumber(path string) jute.Err {
	var resp jute.GetAllChildrenNumberResponse
	return cl.call(jute.OpGetAllChildrenNumber, &jute.GetAllChildrenNumberRequest{Path: path}, &resp,
		fmt.Sprintf("getAllChildrenNumber %q", path), func() string { return fmt.Sprintf("total=%d", resp.TotalNumber) })
}

// WhoAmI sends whoAmI(107).
func (cl *Client) WhoAmI() jute.Err {
	var resp jute.WhoAmIResponse
	return cl.call(jute.OpWhoAmI, nil, &resp, "whoAmI", func() string {
		parts := make([]string, len(resp.ClientInfo))
		for i, ci := range resp.ClientInfo {
			parts[i] = ci.AuthScheme + ":" + ci.User
		}
		return "[" + strings.Join(parts, ", ") + "]"
	})
}

// AddWatch sends addWatch(106).
func (cl *Client) AddWatch(path string, mode int32) jute.Err {
	return cl.Raw(jute.OpAddWatch, &jute.AddWatchRequest{Path: path, Mode: mode})
}

// RemoveWatches sends removeWatches(18).
func (cl *Client) RemoveWatches(path string, typ int32) jute.Err {
	return cl.Raw(jute.OpRemoveWatches, &jute.RemoveWatchesRequest{Path: path, Type: typ})
}

// CheckWatches sends checkWatches(17).
func (cl *Client) CheckWatches(path string, typ int32) jute.Err {
	return cl.Raw(jute.OpCheckWatches, &jute.CheckWatchesRequest{Path: path, Type: typ})
}

// SetWatches sends setWatches(101) with xid -8, as clients do on reconnect.
func (cl *Client) SetWatches(req *jute.SetWatches) jute.Err {
	desc := fmt.Sprintf("setWatches rel=%s data=%v exist=%v child=%v", cl.r.n.zx(req.RelativeZxid), req.DataWatches, req.ExistWatches, req.ChildWatches)
	res, ok := cl.do(jute.XidSetWatches, jute.OpSetWatches, req, desc)
	if !ok {
		return jute.ErrConnectionLoss
	}
	return cl.result(desc, res, rawBody(res.Body))
}

// SetWatches2 sends setWatches2(105) with xid -8.
func (cl *Client) SetWatches2(req *jute.SetWatches2) jute.Err {
	desc := fmt.Sprintf("setWatches2 rel=%s data=%v exist=%v child=%v persistent=%v recursive=%v", cl.r.n.zx(req.RelativeZxid),
		req.DataWatches, req.ExistWatches, req.ChildWatches, req.PersistentWatches, req.PersistentRecursiveWatches)
	res, ok := cl.do(jute.XidSetWatches, jute.OpSetWatches2, req, desc)
	if !ok {
		return jute.ErrConnectionLoss
	}
	return cl.result(desc, res, rawBody(res.Body))
}

// Reconfig sends reconfig(16); an empty members is sent as null (an incremental change).
func (cl *Client) Reconfig(joining, leaving, members string, configID int64) jute.Err {
	var resp jute.GetDataResponse
	req := &jute.ReconfigRequest{JoiningServers: joining, LeavingServers: leaving, CurConfigID: configID}
	if members != "" {
		req.NewMembers = &members
	}
	return cl.call(jute.OpReconfig, req,
		&resp, fmt.Sprintf("reconfig join=%q leave=%q members=%q id=%d", joining, leaving, members, configID),
		func() string { return "data=" + data(resp.Data) + " stat=" + cl.r.n.stat(&resp.Stat) })
}

func rawBody(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 64 {
		return fmt.Sprintf("body=<%d bytes>", len(b))
	}
	return fmt.Sprintf("body=%x", b)
}

// Raw sends any request and logs the error code and the raw reply body.
func (cl *Client) Raw(op int32, req jute.Record) jute.Err {
	desc := opName(op)
	if req != nil {
		desc += fmt.Sprintf(" %+v", req)
	}
	res, ok := cl.do(0, op, req, desc)
	if !ok {
		return jute.ErrConnectionLoss
	}
	return cl.result(desc, res, rawBody(res.Body))
}

// RawBytes sends a request header for op followed by body bytes as they are.
func (cl *Client) RawBytes(op int32, body []byte, label string) jute.Err {
	desc := fmt.Sprintf("%s raw(%s)", opName(op), label)
	res, ok := cl.do(0, op, rawRecord(body), desc)
	if !ok {
		return jute.ErrConnectionLoss
	}
	return cl.result(desc, res, rawBody(res.Body))
}

type rawRecord []byte

func (b rawRecord) Encode(e *jute.Encoder) { e.Buf = append(e.Buf, b...) }
func (b rawRecord) Decode(d *jute.Decoder) {}

// WriteFrame writes bytes on the socket as they are (no framing added) and
// logs it; used for oversized or malformed frames.
func (cl *Client) WriteFrame(b []byte, label string) {
	if cl.c == nil || cl.dead {
		cl.r.add(fmt.Sprintf("%s: write %s -> NOT CONNECTED", cl.label, label))
		return
	}
	if err := cl.c.WriteRaw(b); err != nil {
		cl.r.add(fmt.Sprintf("%s: write %s -> write error", cl.label, label))
		return
	}
	cl.r.add(fmt.Sprintf("%s: write %s", cl.label, label))
}

// Flush makes a round trip that is not logged (exists "/"), then logs every
// event that arrived before its reply: watch events caused by an earlier
// completed request of any session are guaranteed to precede it. In an
// ensemble the round trip makes the client's server apply every write
// committed before it (see roundTrip).
func (cl *Client) Flush() {
	if cl.c == nil || cl.dead {
		cl.r.add(fmt.Sprintf("%s: flush -> NOT CONNECTED", cl.label))
		return
	}
	ctx, cancel := context.WithTimeout(cl.r.ctx, OpTimeout)
	defer cancel()
	res, err := cl.roundTrip(ctx)
	if err != nil {
		cl.logEvents(-1)
		if errors.Is(err, zkwire.ErrClosed) {
			cl.dead = true
			cl.r.add(fmt.Sprintf("%s: flush -> CONNECTION CLOSED", cl.label))
		} else {
			cl.r.add(fmt.Sprintf("%s: flush -> TIMEOUT", cl.label))
		}
		return
	}
	cl.logEvents(res.EventsSoFar)
}

// roundTrip sends the unlogged request of Flush and Resync: exists "/", or
// in an ensemble sync "/", which a follower answers only after applying
// every write committed before it. Apache's leader answers its own clients'
// syncs as reads (CommitProcessor's matchSyncs is false there), possibly
// before it applies a commit its followers already have: on the leader (the
// last server) the round trip is a write that fails (delete of a node that
// never exists), which the leader answers in commit order.
func (cl *Client) roundTrip(ctx context.Context) (zkwire.Result, error) {
	switch {
	case cl.r.quorum && cl.server == len(cl.r.addrs)-1:
		return cl.c.DoXid(ctx, 0, jute.OpDelete, &jute.DeleteRequest{Path: "/zkconf-barrier", Version: -1})
	case cl.r.quorum:
		return cl.c.DoXid(ctx, 0, jute.OpSync, &jute.SyncRequest{Path: "/"})
	}
	return cl.c.DoXid(ctx, 0, jute.OpExists, &jute.ExistsRequest{Path: "/"})
}

// FlushSorted is Flush for events whose relative order a server does not
// define (several ephemerals deleted by one closeSession): the events that
// arrived are logged sorted.
func (cl *Client) FlushSorted() {
	mark := len(cl.r.lines)
	cl.Flush()
	tail := cl.r.lines[mark:]
	sort.Strings(tail)
}

// ExistsCode sends exists(3) and logs only the error code (for nodes whose
// stat depends on other scenarios, such as the root).
func (cl *Client) ExistsCode(path string) jute.Err {
	return cl.call(jute.OpExists, &jute.ExistsRequest{Path: path}, &jute.ExistsResponse{}, fmt.Sprintf("exists %q (code only)", path), nil)
}

// WaitEvents waits up to timeout for n events not yet logged (for
// time-driven server actions: expiry, TTL, containers) and logs them; a
// shortfall is logged too.
func (cl *Client) WaitEvents(n int, timeout time.Duration) {
	if cl.c == nil {
		cl.r.add(fmt.Sprintf("%s: wait %d events -> NOT CONNECTED", cl.label, n))
		return
	}
	ctx, cancel := context.WithTimeout(cl.r.ctx, timeout)
	defer cancel()
	for {
		total := cl.c.WaitEvents(ctx, cl.seen+n-1)
		if total >= cl.seen+n || ctx.Err() != nil || cl.c.Cause() != nil {
			break
		}
	}
	got := len(cl.c.Events(cl.seen))
	if got > n {
		got = n
	}
	cl.logEvents(cl.seen + got)
	if got < n {
		cl.r.add(fmt.Sprintf("%s: wait -> only %d of %d events", cl.label, got, n))
	}
}

// Resync starts a new zxid segment after a time-driven server action
// (expiry, TTL or container deletion) whose number of txns may vary: it waits
// settle for stragglers, makes an unlogged round trip on cl, and renders
// later zxids relative to that reply's zxid.
func (cl *Client) Resync(settle time.Duration) {
	cl.r.Sleep(settle)
	if cl.c == nil || cl.dead {
		cl.r.add(fmt.Sprintf("%s: resync -> NOT CONNECTED", cl.label))
		return
	}
	ctx, cancel := context.WithTimeout(cl.r.ctx, OpTimeout)
	defer cancel()
	res, err := cl.roundTrip(ctx)
	if err != nil {
		cl.r.add(fmt.Sprintf("%s: resync -> FAILED", cl.label))
		return
	}
	cl.logEvents(res.EventsSoFar)
	cl.r.n.newSegment(res.Hdr.Zxid)
	cl.r.add(fmt.Sprintf("%s: resync (zxid segment %d)", cl.label, len(cl.r.n.bases)-1))
}

// WaitClosed waits up to timeout for the server to close the connection and
// logs whether it did.
func (cl *Client) WaitClosed(timeout time.Duration) {
	if cl.c == nil {
		return
	}
	select {
	case <-cl.c.Done():
		cl.logEvents(-1)
		cl.dead = true
		cl.r.add(fmt.Sprintf("%s: connection closed by server", cl.label))
	case <-time.After(timeout):
		cl.r.add(fmt.Sprintf("%s: connection still open", cl.label))
	}
}

// Close sends closeSession and logs its reply.
func (cl *Client) Close() {
	if cl.c == nil || cl.dead {
		if cl.c != nil {
			cl.c.CloseNoSession()
		}
		return
	}
	ctx, cancel := context.WithTimeout(cl.r.ctx, OpTimeout)
	defer cancel()
	res, err := cl.c.Close(ctx)
	cl.logEvents(-1)
	cl.dead = true
	if err != nil {
		cl.r.add(fmt.Sprintf("%s: closeSession -> NO REPLY", cl.label))
		return
	}
	cl.r.n.observe(res.Hdr.Zxid)
	if res.Hdr.Err == 0 {
		delete(cl.r.live, cl.c.SessionID())
	}
	cl.result("closeSession", res, rawBody(res.Body))
}

// closeLeftovers closes every session still open at the end of a scenario,
// reattaching to those whose connections are gone.
func (r *R) closeLeftovers() {
	for _, cl := range r.conns {
		cl.Close()
	}
	for len(r.live) > 0 {
		var id int64
		for k := range r.live {
			if id == 0 || r.n.sessions[k] < r.n.sessions[id] {
				id = k
			}
		}
		passwd := r.live[id]
		delete(r.live, id)
		cl := r.dial("cleanup", ConnOpts{sessionID: id, passwd: passwd})
		if cl.c != nil {
			delete(r.live, id)
			cl.Close()
		}
	}
}

// Drop closes the socket without closing the session (it stays until it
// expires or a client reattaches).
func (cl *Client) Drop() {
	if cl.c == nil {
		return
	}
	cl.logEvents(-1)
	cl.c.CloseNoSession()
	cl.dead = true
	cl.r.add(fmt.Sprintf("%s: drop connection", cl.label))
}

// Reattach opens a new connection to the same session (as a reconnecting
// client does), labelled label.
func (cl *Client) Reattach(label string, opts ...ConnOpts) *Client {
	var o ConnOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	if cl.c == nil {
		cl.r.add(fmt.Sprintf("%s: reattach -> NO SESSION", label))
		return &Client{r: cl.r, label: label, dead: true}
	}
	o.sessionID = cl.c.SessionID()
	if o.Server == 0 {
		o.Server = cl.server + 1
	}
	if o.passwd == nil {
		o.passwd = cl.c.Passwd()
	}
	return cl.r.dial(label, o)
}

// ReattachBadPassword reattaches with a wrong password.
func (cl *Client) ReattachBadPassword(label string) *Client {
	if cl.c == nil {
		return &Client{r: cl.r, label: label, dead: true}
	}
	bad := append([]byte(nil), cl.c.Passwd()...)
	bad[0] ^= 0xff
	id := cl.c.SessionID()
	passwd, live := cl.r.live[id]
	nc := cl.r.dial(label, ConnOpts{sessionID: id, passwd: bad})
	// A refused password does not end the session: keep it for cleanup,
	// or it would expire (a closeSession txn) during a later scenario.
	if _, still := cl.r.live[id]; live && !still {
		cl.r.live[id] = passwd
	}
	return nc
}

// Server is the 1-based index of the server the client connected to.
func (cl *Client) Server() int { return cl.server + 1 }

// LastZxid is the largest reply zxid this client has seen (raw, for
// setWatches).
func (cl *Client) LastZxid() int64 {
	if cl.c == nil {
		return 0
	}
	return cl.c.LastZxid()
}

package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/session"
	"github.com/zkafka/zkafka/zkserver/storage"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// A follower's pipeline, as Apache's FollowerZooKeeperServer: writes, syncs and session changes go to the leader as
// they arrive; reads are answered from our tree, behind the earlier forwarded requests of their session (as
// CommitProcessor orders them); the tree changes only by what the leader commits. The quorum runtime drives it
// through the exported methods below, which queue their work on the core goroutine in the order they are called.

// Leader is a follower's link to its leader. Its methods run on the core goroutine and must not block for long.
type Leader interface {
	// Forward sends a client request to the leader: the session, the request's xid and type, its body as the
	// client sent it, and the connection's auth ids.
	Forward(session int64, cxid, op int32, body []byte, auth []jute.Id)
	// Revalidate asks the leader whether a session a client reconnects with lives on.
	Revalidate(session int64, timeout int32)
}

// followerState is the core goroutine's state of a follower.
type followerState struct {
	leader Leader // nil while not serving (no leader, or syncing): clients are turned away
	// queues are each session's requests from the oldest forwarded one not yet answered on; the reads behind it
	// wait for it.
	queues       map[int64][]*Request
	connecting   map[int64]*pendingConnect   // createSession forwarded, by the new session's id
	revalidating map[int64][]*pendingConnect // reconnects asked about, by session
	syncs        []*Request                  // forwarded syncs, oldest first
}

type pendingConnect struct {
	c       *Client
	timeout int32
	start   time.Time // when the connect was read (the createSession request's creation time)
}

// forwarded reports whether a follower sends r to the leader (FollowerRequestProcessor): writes, syncs and the
// closeSession of a session that is not local.
func (r *Request) forwarded() bool {
	// A throttled request is answered here, as a read, behind the session's pending requests.
	return !r.throttled && (isWrite(r.Op) || r.Op == jute.OpSync || (r.Op == jute.OpCloseSession && !r.local))
}

// followerHandle takes r when it goes to the leader or must wait behind a request that did; false leaves it to the
// local path.
func (p *Processor) followerHandle(r *Request) bool {
	c := r.Client
	switch r.Op {
	case jute.OpAuth, jute.OpSASL:
		return false // the connection's own state, handled where it arrives as in Apache
	case jute.OpDeleteContainer, jute.OpCreateSession:
		// The leader's internal ops: a client's is refused here, with no txn (only the leader makes those).
		p.finish(r)
		p.reply(c, r.Xid, p.zxid, jute.ErrMarshallingError, nil)
		return true
	}
	f := &p.fw
	if f.leader == nil {
		p.finishUnanswered(r)
		p.dropClient(c)
		return true
	}
	sid := c.SessionID()
	q := f.queues[sid]
	if !r.forwarded() {
		if len(q) == 0 {
			return false
		}
		f.queues[sid] = append(q, r)
		return true
	}
	if to, ok := p.checkUpgrade(r, sid); ok {
		// The upgrade's createSession goes first, as Apache queues it ahead of the request; its commit makes the
		// session global here too.
		p.forward(sid, 0, jute.OpCreateSession, createSessionBody(to), nil)
	}
	body := []byte{}
	if r.Body != nil {
		body = jute.Marshal(r.Body)
	}
	p.forward(sid, r.Xid, r.Op, body, c.ids)
	if r.Op == jute.OpSync {
		f.syncs = append(f.syncs, r)
	}
	f.queues[sid] = append(q, r)
	return true
}

// forward sends a request to the leader: in Apache's learner it then waits in the CommitProcessor for its commit
// (or a sync for the leader's answer).
func (p *Processor) forward(sid int64, cxid, op int32, body []byte, auth []jute.Id) {
	p.fw.leader.Forward(sid, cxid, op, body, auth)
	p.cpWrites++
	p.commits.enter(commitKey{sid: sid, cxid: cxid}, true, time.Now())
}

// followerConnect starts or resumes a session through the leader: a new session is proposed by the leader
// (createSession), a resumed one revalidated with it; the client's answer waits for the leader's.
func (p *Processor) followerConnect(c *Client, id int64, passwd []byte, to int32) {
	f := &p.fw
	if f.leader == nil {
		p.dropClient(c)
		return
	}
	if id == 0 && p.local != nil {
		p.connectLocal(c, to) // not sent to the leader
		return
	}
	if id == 0 {
		id = p.sessions.NewID()
		atomic.StoreInt64(&c.session, id) // read by the connection's goroutines (SessionID)
		f.connecting[id] = &pendingConnect{c: c, timeout: to, start: time.Now()}
		p.forward(id, 0, jute.OpCreateSession, createSessionBody(to), nil)
		return
	}
	if !bytes.Equal(passwd, session.Password(id)) {
		p.sendConnectResponse(c, 0, 0, make([]byte, 16), true)
		return
	}
	// A local session of ours is revalidated here; any other by the leader (which knows no other server's local
	// sessions: they have expired).
	if p.resumeLocal(c, id, to) {
		return
	}
	f.revalidating[id] = append(f.revalidating[id], &pendingConnect{c: c, timeout: to})
	f.leader.Revalidate(id, to)
}

// StartServing makes a synced follower serve clients through leader.
func (p *Processor) StartServing(leader Leader) {
	p.submit(func() {
		p.fw = followerState{leader: leader, queues: map[int64][]*Request{},
			connecting: map[int64]*pendingConnect{}, revalidating: map[int64][]*pendingConnect{}}
		p.startLocalSessions(p.cfg.LocalSessions)
		p.serving.Store(true)
		p.beginPeriod()
	})
	if p.cfg.OnServing != nil {
		p.cfg.OnServing()
	}
}

// StopServing ends a follower's time with its leader: every client connection closes (as Apache's
// closeAllConnections) and uncommitted, the proposals it logged, are applied to the tree (as fastForwardDataBase
// replays the log), so that the next election and sync start from the last logged zxid. With reload, the tree is
// not what the disk holds (a sync by SNAP or TRUNC ended before it was saved): the database is loaded again from
// the snapshots and txn logs instead, as Apache's learner clears its database then. It returns once done.
func (p *Processor) StopServing(uncommitted []*storage.Entry, reload bool) error {
	return p.call(func() error {
		f := &p.fw
		for _, q := range f.queues {
			for _, r := range q {
				p.finishUnanswered(r)
			}
		}
		for _, pc := range f.connecting {
			p.dropClient(pc.c)
		}
		for _, l := range f.revalidating {
			for _, pc := range l {
				p.dropClient(pc.c)
			}
		}
		for _, c := range p.owners {
			p.dropClient(c)
		}
		p.fw = followerState{}
		p.stopLocalSessions()
		p.serving.Store(false)
		if reload {
			if err := p.reload(nil); err != nil {
				err = fmt.Errorf("load the database again: %w", err)
				p.fatal(err)
				return err
			}
			return nil
		}
		for _, e := range uncommitted {
			if e.Hdr.Zxid > p.zxid {
				p.applyCommitted(e)
			}
		}
		return nil
	})
}

// LogProposals appends a leader's proposals (their txn bytes, as PROPOSAL carries them) to the txn log; after runs
// once they are durable (the acknowledgements).
func (p *Processor) LogProposals(entries [][]byte, zxids []int64, after func()) {
	p.submit(func() {
		p.cur.entries = append(p.cur.entries, entries...)
		p.cur.zxids = append(p.cur.zxids, zxids...)
		if prev := p.cur.done; prev != nil {
			p.cur.done = func() { prev(); after() }
		} else {
			p.cur.done = after
		}
		p.txnsSinceSnap += len(entries)
		if p.txnsSinceSnap >= p.snapAt {
			p.snapshotNow()
		}
	})
}

// ApplyCommitted applies txns the leader committed, in order, and answers the requests of ours they finish.
// viaCommitProcessor: Apache's learner hands them to its CommitProcessor (its commits once synced, and those its sync
// ends with) rather than applying them directly.
func (p *Processor) ApplyCommitted(entries []*storage.Entry, viaCommitProcessor bool) {
	p.submit(func() {
		for _, e := range entries {
			began := time.Now()
			p.applyCommitted(e)
			if viaCommitProcessor {
				p.commits.commit(commitKey{sid: e.Hdr.ClientID, cxid: e.Hdr.Cxid}, began)
			}
		}
	})
}

func (p *Processor) applyCommitted(e *storage.Entry) {
	hdr := &e.Hdr
	res := p.tree.Apply(hdr, e.Txn)
	p.compareDigest(e, res)
	p.zxid = hdr.Zxid
	p.lastZxid.Store(hdr.Zxid)
	p.remember(hdr.Zxid, e.Raw)
	sid := hdr.ClientID
	f := &p.fw
	switch hdr.Type {
	case jute.OpCreateSession:
		cs, _ := e.Txn.(*jute.CreateSessionTxn)
		if cs == nil {
			return
		}
		p.sessions.Add(sid, cs.TimeOut, time.Now().UnixMilli())
		p.globalSessionCreated(sid) // an upgrade of ours, done
		if pc := f.connecting[sid]; pc != nil {
			delete(f.connecting, sid)
			p.bind(pc.c, sid)
			p.finalCheck(pc.c, jute.OpCreateSession, pc.start)
			p.recordLatency(jute.OpCreateSession, pc.start)
			p.sendConnectResponse(pc.c, pc.timeout, sid, session.Password(sid), false)
		}
		return
	case jute.OpCloseSession:
		p.sessions.Remove(sid)
		if p.local != nil {
			p.local.Remove(sid)
		}
	}
	q := f.queues[sid]
	if len(q) == 0 || q[0].Xid != hdr.Cxid || !q[0].forwarded() {
		// Another server's client's request, or a session the leader closed (expired): a connection of that
		// session here closes.
		if hdr.Type == jute.OpCloseSession {
			if c := p.owners[sid]; c != nil {
				p.dropClient(c)
			}
			for _, r := range q {
				p.finishUnanswered(r) // never answered: the session is gone
			}
			delete(f.queues, sid)
		}
		return
	}
	r := q[0]
	p.finish(r)
	c := r.Client
	if hdr.Type != jute.OpError && (!r.ephemeralOnLocal || r.Op == jute.OpMulti) {
		// FinalRequestProcessor's stale check, which an ErrorTxn's answer or a request exception other than a
		// multi's skips (a closeSession is never stale).
		p.finalCheck(c, r.Op, r.Start)
	}
	switch {
	case r.Op == jute.OpCloseSession:
		p.watches.RemoveWatcher(c)
		if p.owners[sid] == c {
			delete(p.owners, sid)
		}
		p.answerClose(c, r.Xid, hdr.Zxid)
	case r.ephemeralOnLocal && (hdr.Type == jute.OpError || r.Op != jute.OpMulti):
		// The leader failed it (SessionExpired: it knows no local session of ours); the client learns why, as
		// FinalRequestProcessor answers with the request's own exception. A multi answers its ops' results.
		p.reply(c, r.Xid, hdr.Zxid, jute.ErrEphemeralOnLocalSession, nil)
	case hdr.Type == jute.OpError:
		p.reply(c, r.Xid, hdr.Zxid, res.Err, nil)
	case r.Op == jute.OpCheck && res.Err == jute.ErrOK:
		// Apache 3.8.0 sends no reply to a successful top-level check (see handle).
	default:
		p.writeReply(c, r, hdr.Zxid, jute.ErrOK, res)
	}
	p.advance(sid)
}

// advance drops the answered head of a session's queue and answers the reads behind it, up to the next forwarded
// request.
func (p *Processor) advance(sid int64) {
	f := &p.fw
	q := f.queues[sid][1:]
	for len(q) > 0 && !q[0].forwarded() {
		r := q[0]
		q = q[1:]
		p.serve(r)
	}
	if len(q) == 0 {
		delete(f.queues, sid)
		return
	}
	f.queues[sid] = q
}

// Synced answers the oldest forwarded sync: the leader's SYNC says we have seen every commit before it.
func (p *Processor) Synced() {
	p.submit(func() {
		f := &p.fw
		if len(f.syncs) == 0 {
			p.log.Warn("SYNC from the leader with no sync request waiting")
			return
		}
		r := f.syncs[0]
		f.syncs = f.syncs[1:]
		sid := r.Client.SessionID()
		began := time.Now()
		// FollowerZooKeeperServer.sync: the sync is the CommitProcessor's commit for itself.
		defer p.commits.commit(commitKey{sid: sid, cxid: r.Xid}, began)
		q := f.queues[sid]
		if len(q) == 0 || q[0] != r {
			p.log.Warn("SYNC from the leader before the session's earlier requests were answered", "session", sid)
			return
		}
		p.serve(r)
		p.advance(sid)
	})
}

// Revalidated is the leader's answer about a session a client reconnected with.
func (p *Processor) Revalidated(sid int64, valid bool) {
	p.submit(func() {
		f := &p.fw
		l := f.revalidating[sid]
		if len(l) == 0 {
			return
		}
		pc := l[0]
		if len(l) == 1 {
			delete(f.revalidating, sid)
		} else {
			f.revalidating[sid] = l[1:]
		}
		if !valid || pc.c.closed.Load() {
			p.sendConnectResponse(pc.c, 0, 0, make([]byte, 16), true)
			return
		}
		p.sessions.Add(sid, pc.timeout, time.Now().UnixMilli())
		p.bind(pc.c, sid)
		p.sendConnectResponse(pc.c, pc.timeout, sid, session.Password(sid), false)
	})
}

// NewTree is an empty tree for this server (to load a leader's snapshot into).
func (p *Processor) NewTree() *tree.Tree { return tree.NewWithOptions(p.watches, p.treeOptions()) }

// ReplaceDatabase makes t, with sessions, the server's state as of zxid (a snapshot from the leader).
func (p *Processor) ReplaceDatabase(t *tree.Tree, sessions map[int64]int32, zxid int64) {
	p.submit(func() {
		p.tree = t
		p.sessions.Replace(sessions, time.Now().UnixMilli())
		p.zxid = zxid
		p.lastZxid.Store(zxid)
	})
}

// Snapshot writes a snapshot of the tree and waits for it (a follower synced by SNAP or TRUNC, at NEWLEADER).
func (p *Processor) Snapshot() error {
	return p.call(func() error {
		_, err := p.writeSnapshot()
		return err
	})
}

// call runs fn on the core goroutine and returns its error.
func (p *Processor) call(fn func() error) error {
	done := make(chan error, 1)
	select {
	case p.in <- func() { done <- fn() }:
	case <-p.stop:
		return errors.New("server stopped")
	}
	select {
	case err := <-done:
		return err
	case <-p.stop:
		return fmt.Errorf("server stopped")
	}
}

// Truncate takes the log and the tree back to zxid (the leader's TRUNC): what is queued for the log is written,
// the log is cut after zxid and the database loaded again from what remains, as Apache's ZKDatabase.truncateLog.
// A failure stops the server, as it stops Apache's.
func (p *Processor) Truncate(zxid int64) error {
	err := p.call(func() error {
		return p.reload(func() error { return storage.TruncateLog(p.cfg.LogDir, p.cfg.SnapDir, zxid) })
	})
	if err != nil {
		err = fmt.Errorf("truncate the txn log to 0x%x: %w", zxid, err)
		p.fatal(err)
	}
	return err
}

// reload drops the database in memory and loads it from disk again (ZKDatabase.clear, then loadDataBase), once
// what was queued for the log is written and the log closed; change (nil: none) changes the files first.
func (p *Processor) reload(change func() error) error {
	if err := p.drainSyncer(false); err != nil {
		return err
	}
	if err := p.txnlog.Close(); err != nil {
		return fmt.Errorf("close txn log: %w", err)
	}
	if change != nil {
		if err := change(); err != nil {
			return err
		}
	}
	p.snap = nil
	now := time.Now().UnixMilli()
	p.sessions.Replace(nil, now)
	return p.recover(now)
}

// compareDigest is the end of DataTree.processTxn for a txn a learner applies or the server replays from its log at
// start (res is what applying it gave): the loaded snapshot's digest when this is the txn it was taken at, then,
// unless the tree is still fuzzy, the digest logged with the txn (version 2; its leader's, for a learner). Each
// mismatch adds to digest_mismatches_count and is logged, at most once a second. A learner whose tree differs from
// its leader's (one that kept what its leader removed without a txn, say) mismatches on every txn.
func (p *Processor) compareDigest(e *storage.Entry, res tree.Result) {
	if res.SnapshotDigestMismatch {
		p.digestMismatch(e.Hdr.Zxid, "the loaded snapshot's digest")
	}
	if !p.cfg.DigestEnabled || p.tree.Fuzzy() || e.Digest == nil || e.Digest.Version != tree.DigestVersion ||
		e.Digest.TreeDigest == p.tree.Digest() {
		return
	}
	p.digestMismatch(e.Hdr.Zxid, "the txn's logged digest")
}

// digestMismatch is DataTree.reportDigestMismatch: the tree's digest after zxid is not the one expected.
func (p *Processor) digestMismatch(zxid int64, expected string) {
	p.Stats.DigestMismatches.Add(1)
	if secondPassed(&p.digestMismatchLogged) {
		p.log.Error("digest mismatch: the tree's digest is not "+expected, "zxid", fmt.Sprintf("0x%x", zxid),
			"actual", p.tree.Digest())
	}
}

// secondPassed reports whether more than a second has passed since *last, and then sets it to now: a log line
// written through it appears at most once a second, as Apache's RateLogger.
func secondPassed(last *time.Time) bool {
	now := time.Now()
	if now.Sub(*last) <= time.Second {
		return false
	}
	*last = now
	return true
}

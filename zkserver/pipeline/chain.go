package pipeline

import (
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
)

// ChainStats are the metrics of Apache's PrepRequestProcessor and SyncRequestProcessor, counted where our stages do
// their work: the core goroutine preps (and applies) what Apache's prep thread takes, the syncer writes and syncs
// what Apache's sync thread does. A request is counted by the processors it would pass in Apache's chain for the
// server's role: prep on a standalone server and a leader; sync for every request on a standalone server, for the
// txns on a leader, for the proposals a follower logs and the INFORMs an observer logs.
type ChainStats struct {
	// prep_processor_request_queued, sync_processor_request_queued; outstanding_changes_queued and _removed:
	// PrepRequestProcessor's change records (a znode's pending state, one per node a txn changes), removed when
	// their txn is applied, never for the ops of a multi that failed.
	PrepQueued, SyncQueued, ChangesQueued, ChangesRemoved atomic.Int64
	// prep_processor_queue_size and _queue_time_ms, prep_process_time, proposal_process_time (the hand-off of the
	// prepped request: proposing it while leading), close_session_prep_time; learner_request_processor_queue_size
	// (a follower's or observer's first processor, where a leader's is prep).
	PrepQueueSize, PrepQueueTime, PrepTime, ProposalTime, CloseSessionPrep, LearnerQueueSize metrics.SummaryCounter
	// sync_processor_queue_size and _queue_time_ms, sync_process_time (a txn's append, and a request behind one
	// waiting for the flush), sync_processor_batch_size (the requests one flush covers),
	// sync_processor_queue_flush_time_ms (the flush) and sync_processor_queue_and_flush_time_ms (each flushed
	// request's time from entering the queue).
	SyncQueueSize, SyncQueueTime, SyncTime, SyncBatchSize, SyncFlushTime, SyncQueueAndFlush metrics.SummaryCounter
}

// Named lists them under Apache's names.
func (s *ChainStats) Named() metrics.Named {
	return metrics.Named{
		Counters: map[string]*atomic.Int64{"prep_processor_request_queued": &s.PrepQueued,
			"sync_processor_request_queued": &s.SyncQueued, "outstanding_changes_queued": &s.ChangesQueued,
			"outstanding_changes_removed": &s.ChangesRemoved},
		Summaries: map[string]*metrics.SummaryCounter{"prep_processor_queue_size": &s.PrepQueueSize,
			"prep_processor_queue_time_ms": &s.PrepQueueTime, "prep_process_time": &s.PrepTime,
			"proposal_process_time": &s.ProposalTime, "close_session_prep_time": &s.CloseSessionPrep,
			"learner_request_processor_queue_size": &s.LearnerQueueSize,
			"sync_processor_queue_size":            &s.SyncQueueSize, "sync_processor_queue_time_ms": &s.SyncQueueTime,
			"sync_process_time": &s.SyncTime, "sync_processor_batch_size": &s.SyncBatchSize,
			"sync_processor_queue_flush_time_ms":     &s.SyncFlushTime,
			"sync_processor_queue_and_flush_time_ms": &s.SyncQueueAndFlush},
	}
}

// chainStarted counts the first loop of the processors a serving period starts: Apache's first processor (prep when
// the server decides, standalone or leading, else a learner's request processor) and its sync thread each sample
// their (empty) queue's size before they first wait on it. A read-only server's chain has prep and no sync thread. A
// leader's and a learner's CommitProcessor starts empty.
func (p *Processor) chainStarted() {
	if p.ro {
		p.Stats.Chain.PrepQueueSize.Add(0)
		return
	}
	if p.decides() {
		p.Stats.Chain.PrepQueueSize.Add(0)
	} else {
		p.Stats.Chain.LearnerQueueSize.Add(0)
	}
	p.Stats.Chain.SyncQueueSize.Add(0)
	p.commits.reset()
}

// enteredThrottler counts a request that Apache's RequestThrottler passes on at once (request_throttle_queue_time_ms)
// when ours does not run: everything a connection submits but auth and SASL packets, the createSession of a new
// session, the closeSession of an expiring one.
func (p *Processor) enteredThrottler() {
	if p.throttler == nil {
		p.throttleStats.addQueueTime(0)
	}
}

// Unimplemented counts a request of a type Request.isValid refuses, which the connection answers: Apache's passes
// its RequestThrottler first, then goes to the UnimplementedRequestProcessor, not to prep.
func (p *Processor) Unimplemented() { p.throttleStats.addQueueTime(0) }

// prepping is a request in the core's prep, from prepBegin to prepEnd, or on its way to a CommitProcessor.
type prepping struct {
	active  bool // false: the request is not prepped here
	began   time.Time
	entries int // the batch's entries when it began: more at the end mean it made a txn
	// commit: leading or following, the request then enters the CommitProcessor, as a read unless it made a write
	// there (cpWrites past writesAt); by its client's session (read at the end: a connect's is new) or sid, and xid.
	commit   bool
	c        *Client
	sid      int64
	xid      int32
	writesAt int64
}

// chainEntered counts a request of type op, queued since queued, reaching the first processor of this server's
// chain, for the types Request.isValid accepts (auth and SASL packets are answered before the chain, unknown types
// by the UnimplementedRequestProcessor): prep on a standalone server and a leader (end it with prepEnd), the
// learner's request processor on a follower or observer serving its clients (learner_request_processor_queue_size),
// prep on a read-only server for what its ReadOnlyRequestProcessor passes on.
func (p *Processor) chainEntered(op int32, queued time.Time, c *Client, sid int64, xid int32) prepping {
	switch {
	case !validOp(op):
	case p.ro:
		if c != nil {
			sid = c.SessionID()
		}
		if !refusedReadOnly(op) && (op != jute.OpCreateSession && op != jute.OpCloseSession || p.isLocal(sid)) {
			return p.prepBegin(queued)
		}
	case p.decides():
		return p.toCommit(p.prepBegin(queued), c, sid, xid)
	case p.fw.leader != nil:
		p.Stats.Chain.LearnerQueueSize.Add(int64(len(p.in)))
		return p.toCommit(prepping{}, c, sid, xid)
	}
	return prepping{}
}

// toCommit marks a request that reaches the CommitProcessor at prepEnd, leading or following: a leader's
// ProposalRequestProcessor and a learner's request processor pass every request on (a learner's sync aside, which
// the leader answers itself).
func (p *Processor) toCommit(pr prepping, c *Client, sid int64, xid int32) prepping {
	if p.ens == nil && p.fw.leader == nil {
		return pr
	}
	pr.commit, pr.c, pr.sid, pr.xid, pr.writesAt = true, c, sid, xid, p.cpWrites
	if pr.began.IsZero() {
		pr.began = time.Now()
	}
	return pr
}

// prepBegin counts a request that Apache's PrepRequestProcessor takes from its queue, where it waited since queued.
func (p *Processor) prepBegin(queued time.Time) prepping {
	now := time.Now()
	c := &p.Stats.Chain
	c.PrepQueued.Add(1)
	c.PrepQueueSize.Add(int64(len(p.in)))
	if !queued.IsZero() {
		c.PrepQueueTime.Add(now.Sub(queued).Milliseconds())
	} else {
		c.PrepQueueTime.Add(0)
	}
	p.handoff = 0
	return prepping{active: true, began: now, entries: len(p.cur.entries)}
}

// prepEnd ends a request's prep: its time and its hand-off's. On a standalone server a request that made no txn
// goes through the sync processor too (Apache's chain is prep, sync, final for every request).
func (p *Processor) prepEnd(pr prepping) {
	if pr.commit && p.cpWrites == pr.writesAt {
		sid := pr.sid
		if pr.c != nil {
			sid = pr.c.SessionID()
		}
		p.commits.enter(commitKey{sid: sid, cxid: pr.xid}, false, pr.began)
	}
	if !pr.active {
		return
	}
	c := &p.Stats.Chain
	total := time.Since(pr.began)
	c.PrepTime.Add((total - p.handoff).Milliseconds())
	c.ProposalTime.Add(p.handoff.Milliseconds())
	p.handoff = 0
	if !p.cfg.Quorum && len(p.cur.entries) == pr.entries {
		p.cur.reads++
		if len(p.cur.entries) == 0 {
			p.cur.readsFirst++
		}
	}
}

// changesPrepped counts the change records of a request prepped through v, and, made is true when its txn went to
// the log without an ErrorTxn and without a failed multi's rollback, has them removed when the txn is applied.
func (p *Processor) changesPrepped(v *view, made bool) {
	p.queueChanges(v.changes, made && !v.rolledBack)
}

func (p *Processor) queueChanges(n int, applied bool) {
	if n == 0 {
		return
	}
	p.Stats.Chain.ChangesQueued.Add(int64(n))
	if applied {
		p.cur.changes += n
	}
}

// validOp is Request.isValid.
func validOp(op int32) bool {
	switch op {
	case jute.OpCheck, jute.OpCloseSession, jute.OpCreate, jute.OpCreate2, jute.OpCreateTTL,
		jute.OpCreateContainer, jute.OpCreateSession, jute.OpDelete, jute.OpDeleteContainer, jute.OpExists,
		jute.OpGetACL, jute.OpGetChildren, jute.OpGetAllChildrenNumber, jute.OpGetChildren2, jute.OpGetData,
		jute.OpGetEphemerals, jute.OpMulti, jute.OpMultiRead, jute.OpPing, jute.OpReconfig, jute.OpSetACL,
		jute.OpSetData, jute.OpSetWatches, jute.OpSetWatches2, jute.OpSync, jute.OpCheckWatches,
		jute.OpRemoveWatches, jute.OpAddWatch, jute.OpWhoAmI:
		return true
	}
	return false
}

// syncRound counts one pass of the syncer over the batches it took: each txn, and on a standalone server each
// request without one, as a request Apache's sync thread takes from its queue. It returns how many of them wait for
// the flush: the round's txns and the requests behind its first one (Apache's toFlush; those before it pass
// straight on).
func (s *ChainStats) syncRound(pending []*batch, took time.Time) (flushed int) {
	items := 0
	for _, b := range pending {
		items += len(b.entries) + b.reads
	}
	left := items
	sawTxn := false
	for _, b := range pending {
		waited := took.Sub(b.handed).Milliseconds()
		for range len(b.entries) + b.reads {
			left--
			s.SyncQueued.Add(1)
			s.SyncQueueSize.Add(int64(left))
			s.SyncQueueTime.Add(waited)
		}
		var n int
		n, sawTxn = flushedOf(b, sawTxn)
		flushed += n
	}
	return flushed
}

// flushedOf returns how many of b's requests wait for the flush, given whether a txn came before b in its round,
// and whether one came up to its end.
func flushedOf(b *batch, sawTxn bool) (int, bool) {
	switch {
	case sawTxn:
		return len(b.entries) + b.reads, true
	case len(b.entries) > 0:
		return len(b.entries) + b.reads - b.readsFirst, true
	}
	return 0, false
}

// syncFlushed counts the flush of the txn log that made a round's txns durable, from start to done: the batch size,
// the flush's time, and each flushed request's time since it was queued.
func (s *ChainStats) syncFlushed(pending []*batch, start, done time.Time) {
	total, sawTxn := 0, false
	for _, b := range pending {
		var n int
		n, sawTxn = flushedOf(b, sawTxn)
		waited := done.Sub(b.handed).Milliseconds()
		for range n {
			s.SyncQueueAndFlush.Add(waited)
		}
		total += n
	}
	if total > 0 {
		s.SyncBatchSize.Add(int64(total))
		s.SyncFlushTime.Add(done.Sub(start).Milliseconds())
	}
}

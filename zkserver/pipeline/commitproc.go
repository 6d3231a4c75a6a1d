package pipeline

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/zkserver/metrics"
)

// CommitStats are the metrics of Apache's CommitProcessor, the stage of a leader's and a learner's chain that holds
// each write until its commit and the requests of its session behind it. Ours has no such stage (a leader applies
// as it preps and holds the replies; a learner holds a session's requests behind its forwarded ones), so
// commitModel replays that processor's loop on the events it would see.
type CommitStats struct {
	// request_commit_queued: the commits handed to the processor.
	Commits atomic.Int64
	// read_, write_ and commit_commit_proc_req_queued: what each loop iteration finds queued; read_ and
	// write_commit_proc_issued: the reads it passes on from its queue and the commits it processes.
	ReadsQueued, WritesQueued, CommitsQueued, ReadsIssued, WritesIssued metrics.SummaryCounter
	// requests_in_session_queue (a session's queue as a request joins it or its write leaves it),
	// pending_session_queue_size (the sessions with a queue, at a commit of one of ours),
	// reads_after_write_in_session_queue and reads_issued_from_session_queue (the reads behind a committed write),
	// session_queues_drained.
	InSessionQueue, PendingSessionQueues, ReadsAfterWrite, ReadsFromSessionQueue, QueuesDrained metrics.SummaryCounter
	// time_waiting_empty_pool_in_commit_processor_read_ms, write_batch_time_in_commit_processor, commit_process_time
	// (an iteration).
	EmptyPoolWait, WriteBatchTime, ProcessTime metrics.SummaryCounter
	// read_ and write_commitproc_time_ms (from entering the processor to leaving it), local_ and
	// server_write_committed_time_ms (from the commit to its processing, for a write of ours and one of another
	// server), read_ and write_final_proc_time_ms (the final processing: our serving of the request, or applying and
	// answering the commit).
	ReadTime, WriteTime, LocalCommitted, ServerCommitted, ReadFinal, WriteFinal metrics.SummaryCounter
}

// Named lists them under Apache's names.
func (s *CommitStats) Named() metrics.Named {
	return metrics.Named{
		Counters: map[string]*atomic.Int64{"request_commit_queued": &s.Commits},
		Summaries: map[string]*metrics.SummaryCounter{"read_commit_proc_req_queued": &s.ReadsQueued,
			"write_commit_proc_req_queued": &s.WritesQueued, "commit_commit_proc_req_queued": &s.CommitsQueued,
			"read_commit_proc_issued": &s.ReadsIssued, "write_commit_proc_issued": &s.WritesIssued,
			"requests_in_session_queue": &s.InSessionQueue, "pending_session_queue_size": &s.PendingSessionQueues,
			"reads_after_write_in_session_queue": &s.ReadsAfterWrite,
			"reads_issued_from_session_queue":    &s.ReadsFromSessionQueue, "session_queues_drained": &s.QueuesDrained,
			"time_waiting_empty_pool_in_commit_processor_read_ms": &s.EmptyPoolWait,
			"write_batch_time_in_commit_processor":                &s.WriteBatchTime, "commit_process_time": &s.ProcessTime,
			"read_commitproc_time_ms": &s.ReadTime, "write_commitproc_time_ms": &s.WriteTime,
			"local_write_committed_time_ms": &s.LocalCommitted, "server_write_committed_time_ms": &s.ServerCommitted,
			"read_final_proc_time_ms": &s.ReadFinal, "write_final_proc_time_ms": &s.WriteFinal},
	}
}

// commitKey is how CommitProcessor matches a commit with the oldest write it holds: session and cxid.
type commitKey struct {
	sid  int64
	cxid int32
}

// cpRequest is a request the model holds.
type cpRequest struct {
	commitKey
	write  bool      // needCommit: it waits for a commit
	queued time.Time // when it entered the processor
}

// cpCommit is a commit the model holds.
type cpCommit struct {
	commitKey
	recv  time.Time // when it was handed to the processor
	began time.Time // when our processing of it began
}

// maxModelWrites bounds the writes the model holds: more mean a commit it waits for never came (a leader that never
// answered a forwarded request), which stalls Apache's processor too; the model then starts afresh.
const maxModelWrites = 1 << 16

// commitModel is Apache's CommitProcessor loop with its default batch sizes (every queued read per iteration, one
// commit), run at once on each event: a request entering (enter) or a commit arriving (commit), as its thread wakes
// for each. Its final processing never runs beside the loop (reads are served where they enter), so it never waits
// for an empty worker pool. The leader's core enters and its syncer commits: the model has its own lock.
type commitModel struct {
	mu    sync.Mutex
	stats *CommitStats

	queued         []cpRequest           // queuedRequests: taken by the next iteration
	writes         []commitKey           // queuedWriteRequests: the writes entered and not yet committed
	pending        map[int64][]cpRequest // pendingRequests: per session, from its oldest waiting write
	reads, nWrites int64                 // numReadQueuedRequests, numWriteQueuedRequests
	committed      []cpCommit            // committedRequests
	// proposed are a leader's writes by zxid, for their commits.
	proposed []cpProposal
}

type cpProposal struct {
	zxid int64
	k    commitKey
}

func newCommitModel(s *CommitStats) *commitModel {
	return &commitModel{stats: s, pending: map[int64][]cpRequest{}}
}

// reset starts a new processor (each serving period has its own): nothing held.
func (m *commitModel) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clear()
}

func (m *commitModel) clear() {
	m.queued, m.writes, m.committed = nil, nil, nil
	m.pending = map[int64][]cpRequest{}
	m.reads, m.nWrites = 0, 0
	m.proposed = nil
}

// enter is a request entering the processor (processRequest), write when it waits for a commit; began is when our
// processing of it began, for the final time of a read passed on at once.
func (m *commitModel) enter(k commitKey, write bool, began time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.enterLocked(k, write, began)
}

func (m *commitModel) enterLocked(k commitKey, write bool, began time.Time) {
	if len(m.writes) >= maxModelWrites {
		m.clear()
	}
	m.queued = append(m.queued, cpRequest{commitKey: k, write: write, queued: time.Now()})
	if write {
		m.writes = append(m.writes, k)
		m.nWrites++
	} else {
		m.reads++
	}
	m.run(began)
}

// propose is a leader's txn: its request enters as a write (ProposalRequestProcessor passes it on, then proposes
// it), to be committed by committedUpTo.
func (m *commitModel) propose(zxid int64, k commitKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.proposed = append(m.proposed, cpProposal{zxid: zxid, k: k})
	m.enterLocked(k, true, time.Now())
}

// committedUpTo commits a leader's txns up to zxid, in order.
func (m *commitModel) committedUpTo(zxid int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.proposed) > 0 && m.proposed[0].zxid <= zxid {
		m.commitLocked(m.proposed[0].k, time.Now())
		m.proposed = m.proposed[1:]
	}
}

// commit is a commit handed to the processor (commit); began is when our processing of it (applying and answering)
// began.
func (m *commitModel) commit(k commitKey, began time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commitLocked(k, began)
}

func (m *commitModel) commitLocked(k commitKey, began time.Time) {
	m.stats.Commits.Add(1)
	m.committed = append(m.committed, cpCommit{commitKey: k, recv: time.Now(), began: began})
	m.run(began)
}

// run iterates until nothing is left to do, as the processor's thread before it waits again.
func (m *commitModel) run(began time.Time) {
	for len(m.queued) > 0 || len(m.committed) > 0 {
		q, c := len(m.queued), len(m.committed)
		m.iterate(began)
		if len(m.queued) == q && len(m.committed) == c {
			return // no progress: cannot happen with the queues consistent, but never spin
		}
	}
}

// iterate is one iteration of CommitProcessor.run's loop.
func (m *commitModel) iterate(began time.Time) {
	s := m.stats
	s.ReadsQueued.Add(m.reads)
	s.WritesQueued.Add(m.nWrites)
	s.CommitsQueued.Add(int64(len(m.committed)))
	start := time.Now()
	waiting := len(m.committed) > 0
	issued := 0
	for n := len(m.queued); n > 0; n-- {
		r := m.queued[0]
		m.queued = m.queued[1:]
		if q, ok := m.pending[r.sid]; r.write || ok {
			q = append(q, r)
			m.pending[r.sid] = q
			s.InSessionQueue.Add(int64(len(q)))
		} else {
			issued++
			m.issueRead(r, began)
		}
		if len(m.pending) > 0 && len(m.committed) > 0 {
			waiting = true // a commit for a pending write (ours or another server's) is ready
			break
		}
	}
	s.ReadsIssued.Add(int64(issued))
	if waiting = waiting || len(m.committed) > 0; waiting {
		m.processCommit(began)
	}
	s.ProcessTime.Add(time.Since(start).Milliseconds())
}

// processCommit processes the oldest commit and then the reads of its session behind it.
func (m *commitModel) processCommit(began time.Time) {
	s := m.stats
	s.EmptyPoolWait.Add(0) // no final processing runs beside the loop: nothing to wait for
	start := time.Now()
	processed := 0
	var drain []int64
	for processed < 1 { // maxCommitBatchSize
		c := m.committed[0]
		r := cpRequest{commitKey: c.commitKey, write: true}
		if len(m.writes) > 0 && m.writes[0] == c.commitKey {
			// The commit of our oldest write: it leaves its session's queue, where it must be first.
			q := m.pending[c.sid]
			s.PendingSessionQueues.Add(int64(len(m.pending)))
			if len(q) == 0 || !q[0].write {
				break // not taken from the queue yet
			}
			s.InSessionQueue.Add(int64(len(q)))
			r = q[0]
			m.pending[c.sid] = q[1:]
			m.writes = m.writes[1:]
			m.nWrites--
			drain = append(drain, c.sid)
		}
		m.committed = m.committed[1:]
		processed++
		now := time.Now()
		if !r.queued.IsZero() { // ours: it entered here
			s.WriteTime.Add(now.Sub(r.queued).Milliseconds())
			s.LocalCommitted.Add(now.Sub(c.recv).Milliseconds())
		} else {
			s.ServerCommitted.Add(now.Sub(c.recv).Milliseconds())
		}
		s.WriteFinal.Add(time.Since(c.began).Milliseconds())
	}
	s.WriteBatchTime.Add(time.Since(start).Milliseconds())
	s.WritesIssued.Add(int64(processed))
	reads := 0
	for _, sid := range drain {
		q := m.pending[sid]
		n := 0
		for len(q) > 0 && !q[0].write {
			m.issueRead(q[0], began)
			q = q[1:]
			n++
		}
		s.ReadsAfterWrite.Add(int64(n))
		reads += n
		if len(q) == 0 {
			delete(m.pending, sid)
		} else {
			m.pending[sid] = q
		}
	}
	s.QueuesDrained.Add(int64(len(drain)))
	s.ReadsFromSessionQueue.Add(int64(reads))
}

// issueRead passes a read on to the final processing (sendToNextProcessor).
func (m *commitModel) issueRead(r cpRequest, began time.Time) {
	m.reads--
	m.stats.ReadTime.Add(time.Since(r.queued).Milliseconds())
	m.stats.ReadFinal.Add(time.Since(began).Milliseconds())
}

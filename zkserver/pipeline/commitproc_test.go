package pipeline

import (
	"testing"
	"time"

	"github.com/zkafka/zkafka/zkserver/metrics"
)

// TestCommitModelAsCommitProcessor runs the events of a learner's CommitProcessor through the model and checks what
// Apache's loop counts for them: a read passed on at once, a write held for its commit with a read of its session
// behind it, a commit of another server's write, a sync.
func TestCommitModelAsCommitProcessor(t *testing.T) {
	var s CommitStats
	m := newCommitModel(&s)
	now := time.Now()
	a, b := commitKey{sid: 1, cxid: 1}, commitKey{sid: 1, cxid: 2}
	m.enter(commitKey{sid: 2, cxid: 1}, false, now) // a read of a session with nothing pending: passed on
	m.enter(a, true, now)                           // a write: held in its session's queue
	m.enter(b, false, now)                          // a read behind it
	m.enter(commitKey{sid: 3, cxid: 5}, false, now) // another session's read: passed on
	m.commit(commitKey{sid: 9, cxid: 4}, now)       // another server's write
	m.commit(a, now)                                // ours: the read behind it follows
	if len(m.pending) != 0 || len(m.writes) != 0 || m.reads != 0 || m.nWrites != 0 {
		t.Fatalf("left held: pending %v, writes %v, %d reads, %d writes", m.pending, m.writes, m.reads, m.nWrites)
	}
	cnt := func(c *metrics.SummaryCounter) [2]int64 { v := c.Snapshot(); return [2]int64{v.Count, v.Sum} }
	for name, c := range map[string]struct {
		got  [2]int64
		want [2]int64 // count, sum
	}{
		// One iteration per event: 4 requests, 2 commits.
		"read_commit_proc_req_queued":   {cnt(&s.ReadsQueued), [2]int64{6, 1 + 0 + 1 + 2 + 1 + 1}},
		"write_commit_proc_req_queued":  {cnt(&s.WritesQueued), [2]int64{6, 0 + 1 + 1 + 1 + 1 + 1}},
		"commit_commit_proc_req_queued": {cnt(&s.CommitsQueued), [2]int64{6, 2}},
		"read_commit_proc_issued":       {cnt(&s.ReadsIssued), [2]int64{6, 2}},
		// The two iterations with a commit processed it; the second took our write from its session queue.
		"write_commit_proc_issued":           {cnt(&s.WritesIssued), [2]int64{2, 2}},
		"requests_in_session_queue":          {cnt(&s.InSessionQueue), [2]int64{3, 1 + 2 + 2}},
		"pending_session_queue_size":         {cnt(&s.PendingSessionQueues), [2]int64{1, 1}},
		"reads_after_write_in_session_queue": {cnt(&s.ReadsAfterWrite), [2]int64{1, 1}},
		"reads_issued_from_session_queue":    {cnt(&s.ReadsFromSessionQueue), [2]int64{2, 1}},
		"session_queues_drained":             {cnt(&s.QueuesDrained), [2]int64{2, 1}},
		"commit_process_time":                {[2]int64{cnt(&s.ProcessTime)[0]}, [2]int64{6}},
		"write_batch_time_in_commit_processor": {[2]int64{cnt(&s.WriteBatchTime)[0]},
			[2]int64{2}},
		"time_waiting_empty_pool_in_commit_processor_read_ms": {[2]int64{cnt(&s.EmptyPoolWait)[0]}, [2]int64{2}},
		"read_commitproc_time_ms":                             {[2]int64{cnt(&s.ReadTime)[0]}, [2]int64{3}},
		"read_final_proc_time_ms":                             {[2]int64{cnt(&s.ReadFinal)[0]}, [2]int64{3}},
		"write_commitproc_time_ms":                            {[2]int64{cnt(&s.WriteTime)[0]}, [2]int64{1}},
		"local_write_committed_time_ms":                       {[2]int64{cnt(&s.LocalCommitted)[0]}, [2]int64{1}},
		"server_write_committed_time_ms":                      {[2]int64{cnt(&s.ServerCommitted)[0]}, [2]int64{1}},
		"write_final_proc_time_ms":                            {[2]int64{cnt(&s.WriteFinal)[0]}, [2]int64{2}},
	} {
		if c.got != c.want {
			t.Errorf("%s: count and sum %v, want %v", name, c.got, c.want)
		}
	}
	if n := s.Commits.Load(); n != 2 {
		t.Errorf("request_commit_queued %d, want 2", n)
	}

	// A write whose commit never comes holds its session's reads, as Apache's; a new serving period starts empty.
	m.enter(commitKey{sid: 4, cxid: 1}, true, now)
	m.enter(commitKey{sid: 4, cxid: 2}, false, now)
	if len(m.pending[4]) != 2 {
		t.Fatalf("session queue %v", m.pending[4])
	}
	m.reset()
	m.enter(commitKey{sid: 4, cxid: 3}, false, now)
	if len(m.pending) != 0 || m.reads != 0 {
		t.Fatalf("after reset: pending %v, %d reads", m.pending, m.reads)
	}
	// Writes that are never committed are bounded.
	for i := range maxModelWrites + 1 {
		m.enter(commitKey{sid: 5, cxid: int32(i)}, true, now)
	}
	if len(m.writes) > maxModelWrites {
		t.Fatalf("%d writes held", len(m.writes))
	}
}

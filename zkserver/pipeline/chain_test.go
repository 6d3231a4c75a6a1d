package pipeline

import (
	"testing"
	"time"
)

// A round of the syncer counts each txn and each standalone request without one as taken by Apache's sync thread;
// the flush covers the txns and whatever came after the round's first txn, as SyncRequestProcessor's toFlush.
func TestSyncRoundCountsAsSyncRequestProcessor(t *testing.T) {
	handed := time.UnixMilli(1000)
	took := handed.Add(3 * time.Millisecond)
	pending := []*batch{
		{reads: 2, readsFirst: 2, handed: handed},                              // reads only: straight on
		{entries: make([][]byte, 2), reads: 3, readsFirst: 1, handed: handed},  // 1 read before, 2 after
		{reads: 1, readsFirst: 1, handed: handed.Add(time.Millisecond)},        // behind a txn: flushed
		{entries: make([][]byte, 1), handed: handed.Add(2 * time.Millisecond)}, // a txn
		{dropHeld: true}, // a marker: nothing
	}
	var s ChainStats
	flushed := s.syncRound(pending, took)
	if flushed != 2+2+1+1 {
		t.Errorf("flushed = %d, want 6 (3 txns, 3 requests behind the first)", flushed)
	}
	if got := s.SyncQueued.Load(); got != 9 {
		t.Errorf("sync_processor_request_queued = %d, want 9", got)
	}
	qs := s.SyncQueueSize.Snapshot()
	if qs.Count != 9 || qs.Max != 8 || qs.Min != 0 || qs.Sum != 36 {
		t.Errorf("sync_processor_queue_size = %+v, want 9 samples counting down from 8", qs)
	}
	if qt := s.SyncQueueTime.Snapshot(); qt.Count != 9 || qt.Max != 3 || qt.Min != 1 {
		t.Errorf("sync_processor_queue_time_ms = %+v, want 9 waits of 1 to 3 ms", qt)
	}

	s.syncFlushed(pending, took, took.Add(2*time.Millisecond))
	if b := s.SyncBatchSize.Snapshot(); b.Count != 1 || b.Sum != 6 {
		t.Errorf("sync_processor_batch_size = %+v, want one flush of 6", b)
	}
	if f := s.SyncFlushTime.Snapshot(); f.Count != 1 || f.Sum != 2 {
		t.Errorf("sync_processor_queue_flush_time_ms = %+v, want one of 2 ms", f)
	}
	if qf := s.SyncQueueAndFlush.Snapshot(); qf.Count != 6 || qf.Max != 5 || qf.Min != 3 {
		t.Errorf("sync_processor_queue_and_flush_time_ms = %+v, want 6 of 3 to 5 ms", qf)
	}

	// A round of reads only flushes nothing.
	var r ChainStats
	reads := []*batch{{reads: 2, readsFirst: 2, handed: handed}}
	if n := r.syncRound(reads, took); n != 0 {
		t.Errorf("reads only: flushed = %d", n)
	}
	r.syncFlushed(reads, took, took)
	if b := r.SyncBatchSize.Snapshot(); b.Count != 0 {
		t.Errorf("reads only: a flush was counted: %+v", b)
	}
}

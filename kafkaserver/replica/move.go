package replica

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/quota"
)

// maxLogDirNameLen is the longest directory name a future log may have (KAFKA-4893).
const maxLogDirNameLen = 255

// move is one partition's copy into its future log (a ReplicaAlterLogDirsThread's partition).
type move struct {
	fut     *klog.Log
	thread  *moveThread // nil until StartFetchers
	retryAt time.Time   // after an error no round before this (a delayed PartitionFetchState); under thread.mu
}

// moveThread is one ReplicaAlterLogDirsThread of num.replica.alter.log.dirs.threads: it copies its partitions
// one at a time, keeping to the one under way until it is done or delayed by an error, then taking the lowest
// (topic, partition) ready, so that each move finishes as early as it can.
type moveThread struct {
	id     int32
	cancel context.CancelFunc
	wake   chan struct{} // signalled when partitions are added
	// mu is held through a round, as Kafka's partitionMapLock: removing a partition waits for its round to end,
	// so that no copy touches a future log after its move stopped.
	mu         sync.Mutex
	parts      map[klog.TopicPartition]*move
	inProgress *klog.TopicPartition
}

// MoveQuota is the throttle on copies between log dirs (replica.alter.log.dirs.io.max.bytes.per.second;
// Kafka's quotas.alterLogDirs): every moving partition counts against it.
func (m *Manager) MoveQuota() *quota.Replication { return m.moveQuota }

// AlterReplicaLogDir is one partition of ReplicaManager.alterReplicaLogDirs: move tp's log to dir (a log.dirs
// entry, compared as an absolute path). A different destination cancels a move under way; a partition not hosted
// here remembers dir for when its log is created. The errors are Kafka's: INVALID_TOPIC_EXCEPTION,
// LOG_DIR_NOT_FOUND, REPLICA_NOT_AVAILABLE (UNKNOWN_TOPIC_OR_PARTITION when the cluster does not know it),
// KAFKA_STORAGE_ERROR.
func (m *Manager) AlterReplicaLogDir(topic string, partition int32, dir string) error {
	tp := klog.TopicPartition{Topic: topic, Partition: partition}
	if klog.FutureDirNameLen(tp) > maxLogDirNameLen {
		return kerr.InvalidTopicException
	}
	logs := m.cfg.Logs
	d, err := logs.ResolveDir(dir)
	if err != nil {
		return kerr.LogDirNotFound
	}
	m.moveMu.Lock() // replicaStateChangeLock: one change of a partition's logs at a time
	defer m.moveMu.Unlock()
	m.mu.RLock()
	p := m.partitions[tp]
	m.mu.RUnlock()
	if p != nil {
		if _, fdir, ok := logs.Future(tp); ok && fdir != d {
			if err := m.cancelMoveLocked(tp); err != nil {
				m.logger.Warn("cancelling log dir move", "partition", tp.String(), "err", err)
				return kerr.KafkaStorageError
			}
		}
	}
	logs.SetPreferredDir(tp, d)
	if p == nil {
		if m.cache.HasPartition(topic, partition) {
			return kerr.ReplicaNotAvailable
		}
		return kerr.UnknownTopicOrPartition
	}
	if cd, ok := logs.DirOf(tp); !ok {
		return kerr.ReplicaNotAvailable
	} else if cd == d {
		return nil // already there (maybeCreateFutureReplica does nothing)
	}
	if _, _, err := logs.CreateFuture(tp, p.Log().Config()); err != nil {
		m.logger.Warn("creating future log", "partition", tp.String(), "dir", d, "err", err)
		return kerr.KafkaStorageError
	}
	m.startMoveLocked(tp)
	return nil
}

// resumeMove starts the copy of a partition whose future log exists (loaded at start-up, or created before the
// partition's LeaderAndIsr), as becomeLeaderOrFollower adds the alter-log-dirs fetcher for existing future logs.
func (m *Manager) resumeMove(tp klog.TopicPartition) {
	if _, _, ok := m.cfg.Logs.Future(tp); !ok {
		return
	}
	m.moveMu.Lock()
	defer m.moveMu.Unlock()
	m.startMoveLocked(tp)
}

// stopMove stops tp's copy, leaving its future log (StopReplica without delete removes the fetcher only).
func (m *Manager) stopMove(tp klog.TopicPartition) {
	m.moveMu.Lock()
	defer m.moveMu.Unlock()
	m.stopMoveLocked(tp)
}

// stopMoveLocked takes tp from its thread, after the round under way on it, and ends a thread left without
// partitions (shutdownIdleFetcherThreads).
func (m *Manager) stopMoveLocked(tp klog.TopicPartition) {
	mv := m.moves[tp]
	if mv == nil {
		return
	}
	delete(m.moves, tp)
	if t := mv.thread; t != nil {
		t.mu.Lock()
		if t.parts[tp] == mv {
			delete(t.parts, tp)
		}
		t.mu.Unlock()
		m.endIdleMoveThreadLocked(t)
	}
}

// endIdleMoveThreadLocked ends t if it has no partitions left.
func (m *Manager) endIdleMoveThreadLocked(t *moveThread) {
	t.mu.Lock()
	idle := len(t.parts) == 0
	t.mu.Unlock()
	if idle && m.moveThreads[t.id] == t {
		delete(m.moveThreads, t.id)
		t.cancel()
	}
}

// cancelMoveLocked stops tp's copy and drops its future log (Partition.removeFutureLocalReplica).
func (m *Manager) cancelMoveLocked(tp klog.TopicPartition) error {
	m.stopMoveLocked(tp)
	return m.cfg.Logs.DeleteFuture(tp)
}

// startMoveLocked starts tp's copy unless it runs; before StartFetchers it waits for it.
func (m *Manager) startMoveLocked(tp klog.TopicPartition) {
	fut, _, ok := m.cfg.Logs.Future(tp)
	if !ok {
		return
	}
	if mv := m.moves[tp]; mv != nil && mv.fut == fut {
		return
	}
	m.stopMoveLocked(tp)
	mv := &move{fut: fut}
	m.moves[tp] = mv
	m.assignMovesLocked(map[klog.TopicPartition]*move{tp: mv})
}

// startPendingMoves starts the copies decided before StartFetchers.
func (m *Manager) startPendingMoves() {
	m.moveMu.Lock()
	defer m.moveMu.Unlock()
	pending := map[klog.TopicPartition]*move{}
	for tp, mv := range m.moves {
		if mv.thread == nil {
			pending[tp] = mv
		}
	}
	m.assignMovesLocked(pending)
}

// assignMovesLocked hands moves to the threads AbstractFetcherManager.getFetcherId gives them, starting threads
// as needed; a thread's partitions are all added before it looks for one. Before StartFetchers (or after Close)
// the moves wait.
func (m *Manager) assignMovesLocked(moves map[klog.TopicPartition]*move) {
	m.fetchMu.Lock()
	ctx, stopped, n := m.fetchCtx, m.fetchStopped, m.fetchCfg.AlterLogDirsThreads
	m.fetchMu.Unlock()
	if ctx == nil || stopped || len(moves) == 0 {
		return
	}
	byThread := map[int32]map[klog.TopicPartition]*move{}
	for tp, mv := range moves {
		id := fetcherID(tp, max(n, 1))
		if byThread[id] == nil {
			byThread[id] = map[klog.TopicPartition]*move{}
		}
		byThread[id][tp] = mv
	}
	for id, parts := range byThread {
		t := m.moveThreads[id]
		fresh := t == nil
		if fresh {
			t = &moveThread{id: id, wake: make(chan struct{}, 1), parts: map[klog.TopicPartition]*move{}}
		}
		t.mu.Lock()
		for tp, mv := range parts {
			mv.thread = t
			t.parts[tp] = mv
		}
		t.mu.Unlock()
		if !fresh {
			select {
			case t.wake <- struct{}{}:
			default:
			}
			continue
		}
		m.fetchMu.Lock()
		stopped := m.fetchStopped
		if !stopped {
			m.fetchWG.Add(1)
		}
		m.fetchMu.Unlock()
		if stopped {
			return
		}
		var tctx context.Context
		tctx, t.cancel = context.WithCancel(ctx)
		m.moveThreads[id] = t
		go m.runMoveThread(tctx, t)
	}
}

// stopMoves ends every copy (Close).
func (m *Manager) stopMoves() {
	m.moveMu.Lock()
	defer m.moveMu.Unlock()
	for tp := range m.moves {
		m.stopMoveLocked(tp)
	}
	for _, t := range m.moveThreads {
		t.cancel()
	}
	clear(m.moveThreads)
}

// moveBackoff is how long a copy waits after an error (without replica.fetch.backoff.ms), or for appends when it
// has caught up.
const (
	moveBackoff = time.Second
	moveIdle    = 200 * time.Millisecond
)

// nextMove is ReplicaAlterLogDirsThread.selectPartitionToFetch: the partition under way while it is ready (not
// delayed by an error), else the ready one lowest by topic, then partition.
func nextMove(parts map[klog.TopicPartition]*move, inProgress *klog.TopicPartition, now time.Time) (klog.TopicPartition, bool) {
	ready := func(mv *move) bool { return !now.Before(mv.retryAt) }
	if inProgress != nil {
		if mv, ok := parts[*inProgress]; ok && ready(mv) {
			return *inProgress, true
		}
	}
	var best klog.TopicPartition
	found := false
	for tp, mv := range parts {
		if !ready(mv) {
			continue
		}
		if !found || tp.Topic < best.Topic || tp.Topic == best.Topic && tp.Partition < best.Partition {
			best, found = tp, true
		}
	}
	return best, found
}

// moveRound is what one round of a thread did.
type moveRound int

const (
	roundIdle    moveRound = iota // nothing ready, or nothing copied: wait for appends or a retry
	roundCopied                   // records copied (or an error delayed the partition): go on
	roundDropped                  // a partition left the thread: swapped, or its partition or future log gone
)

// runMoveThread copies t's partitions until ctx ends. The copy waits while the move quota is exceeded (buildFetch
// builds no fetch then) and counts what it copies.
func (m *Manager) runMoveThread(ctx context.Context, t *moveThread) {
	defer m.fetchWG.Done()
	for ctx.Err() == nil {
		wait := m.Changed()
		if m.moveQuota.Exceeded(time.Now().UnixMilli()) {
			sleepCtx(ctx, moveIdle)
			continue
		}
		switch r, tp, mv := m.runMoveRound(t); r {
		case roundDropped:
			// After the round, as moveMu comes before a thread's lock.
			m.moveMu.Lock()
			if m.moves[tp] == mv {
				delete(m.moves, tp) // a later LeaderAndIsr or AlterReplicaLogDirs starts it afresh
			}
			m.endIdleMoveThreadLocked(t)
			m.moveMu.Unlock()
		case roundIdle:
			select {
			case <-ctx.Done():
			case <-wait:
			case <-t.wake:
			case <-time.After(moveIdle):
			}
		}
	}
}

// runMoveRound is one round of t: up to a fetch's bytes copied into the future log of the partition nextMove
// picks, then the swap once it has caught up (ReplicaAlterLogDirsThread.processPartitionData). A dropped
// partition is returned with its move.
func (m *Manager) runMoveRound(t *moveThread) (moveRound, klog.TopicPartition, *move) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	tp, ok := nextMove(t.parts, t.inProgress, now)
	if !ok {
		t.inProgress = nil
		return roundIdle, tp, nil
	}
	if t.inProgress == nil || *t.inProgress != tp {
		t.inProgress = &tp
		m.logger.Info("beginning or resuming copy of partition", "partition", tp.String(), "thread", t.id,
			"partitions", len(t.parts))
	}
	mv := t.parts[tp]
	m.mu.RLock()
	p := m.partitions[tp]
	m.mu.RUnlock()
	if f, _, ok := m.cfg.Logs.Future(tp); p == nil || !ok || f != mv.fut {
		delete(t.parts, tp)
		t.inProgress = nil
		return roundDropped, tp, mv
	}
	n, caughtUp, err := moveStep(p.Log(), mv.fut, m.moveFetchBytes())
	if n > 0 {
		m.moveQuota.Record(int64(n), time.Now().UnixMilli())
	}
	if err != nil {
		if !errors.Is(err, klog.ErrClosed) {
			m.logger.Warn("copying to future log", "partition", tp.String(), "err", err)
		}
		mv.retryAt = now.Add(m.moveBackoffTime())
		return roundCopied, tp, mv // another partition may be ready
	}
	if caughtUp {
		p.mu.Lock() // Partition.maybeReplaceCurrentWithFutureReplica's leaderIsrUpdateLock
		ok, err := m.cfg.Logs.ReplaceCurrentWithFuture(tp)
		p.mu.Unlock()
		if err != nil {
			m.logger.Warn("replacing current log with future log", "partition", tp.String(), "err", err)
		}
		if ok {
			delete(t.parts, tp)
			t.inProgress = nil
			return roundDropped, tp, mv
		}
	}
	if n == 0 {
		return roundIdle, tp, mv
	}
	return roundCopied, tp, mv
}

// moveFetchBytes is what a round copies at most: replica.fetch.max.bytes, within replica.fetch.response.max.bytes
// (the fetch of a ReplicaAlterLogDirsThread asks both of the current log); at least one batch.
func (m *Manager) moveFetchBytes() int32 {
	m.fetchMu.Lock()
	cfg := m.fetchCfg
	m.fetchMu.Unlock()
	n := cfg.PartitionMaxBytes
	if n <= 0 {
		n = 1 << 20 // replica.fetch.max.bytes' default
	}
	if cfg.ResponseMaxBytes > 0 {
		n = min(n, cfg.ResponseMaxBytes)
	}
	return n
}

// moveBackoffTime is replica.fetch.backoff.ms, the delay of a partition whose round failed.
func (m *Manager) moveBackoffTime() time.Duration {
	m.fetchMu.Lock()
	d := m.fetchCfg.Backoff
	m.fetchMu.Unlock()
	if d <= 0 {
		return moveBackoff
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

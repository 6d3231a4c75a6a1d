package replica

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/quota"
)

// maxLogDirNameLen is the longest directory name a future log may have (KAFKA-4893).
const maxLogDirNameLen = 255

// move is one partition's running copy into its future log (a ReplicaAlterLogDirsThread's partition).
type move struct {
	fut    *klog.Log
	cancel context.CancelFunc
	done   chan struct{}
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

func (m *Manager) stopMoveLocked(tp klog.TopicPartition) {
	mv := m.moves[tp]
	if mv == nil {
		return
	}
	delete(m.moves, tp)
	if mv.cancel != nil {
		mv.cancel()
		<-mv.done
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
	mv := &move{fut: fut, done: make(chan struct{})}
	m.moves[tp] = mv
	m.fetchMu.Lock()
	ctx, stopped := m.fetchCtx, m.fetchStopped
	if ctx != nil && !stopped {
		m.fetchWG.Add(1)
	}
	m.fetchMu.Unlock()
	if ctx == nil || stopped {
		return // StartFetchers starts it (startPendingMoves)
	}
	m.runMove(ctx, tp, mv)
}

// startPendingMoves starts the copies decided before StartFetchers.
func (m *Manager) startPendingMoves(ctx context.Context) {
	m.moveMu.Lock()
	defer m.moveMu.Unlock()
	for tp, mv := range m.moves {
		if mv.cancel != nil {
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
		m.runMove(ctx, tp, mv)
	}
}

// stopMoves ends every copy (Close).
func (m *Manager) stopMoves() {
	m.moveMu.Lock()
	defer m.moveMu.Unlock()
	for tp := range m.moves {
		m.stopMoveLocked(tp)
	}
}

func (m *Manager) runMove(ctx context.Context, tp klog.TopicPartition, mv *move) {
	ctx, mv.cancel = context.WithCancel(ctx)
	go func() {
		defer m.fetchWG.Done()
		swapped := m.copyUntilSwapped(ctx, tp, mv.fut)
		close(mv.done) // before moveMu: stopMoveLocked waits for it holding moveMu
		if swapped {
			m.moveMu.Lock()
			if m.moves[tp] == mv {
				delete(m.moves, tp)
			}
			m.moveMu.Unlock()
		}
	}()
}

// moveBackoff is how long a copy waits after an error, or for appends when it has caught up.
const (
	moveBackoff = time.Second
	moveIdle    = 200 * time.Millisecond
)

// copyUntilSwapped runs moveStep until the future log has caught up and replaced the current one (true), or ctx
// ends or the move is gone (false). The copy waits while the move quota is exceeded and counts what it copies.
func (m *Manager) copyUntilSwapped(ctx context.Context, tp klog.TopicPartition, fut *klog.Log) bool {
	maxBytes := m.fetchCfg.PartitionMaxBytes
	if maxBytes <= 0 {
		maxBytes = 1 << 20 // replica.fetch.max.bytes' default
	}
	for ctx.Err() == nil {
		m.mu.RLock()
		p := m.partitions[tp]
		m.mu.RUnlock()
		if f, _, ok := m.cfg.Logs.Future(tp); p == nil || !ok || f != fut {
			return false
		}
		wait := m.Changed()
		if m.moveQuota.Exceeded(time.Now().UnixMilli()) {
			sleepCtx(ctx, moveIdle)
			continue
		}
		n, caughtUp, err := moveStep(p.Log(), fut, maxBytes)
		if n > 0 {
			m.moveQuota.Record(int64(n), time.Now().UnixMilli())
		}
		if err != nil {
			if !errors.Is(err, klog.ErrClosed) {
				m.logger.Warn("copying to future log", "partition", tp.String(), "err", err)
			}
			sleepCtx(ctx, moveBackoff)
			continue
		}
		if caughtUp {
			p.mu.Lock() // Partition.maybeReplaceCurrentWithFutureReplica's leaderIsrUpdateLock
			ok, err := m.cfg.Logs.ReplaceCurrentWithFuture(tp)
			p.mu.Unlock()
			if err != nil {
				m.logger.Warn("replacing current log with future log", "partition", tp.String(), "err", err)
			}
			if ok {
				return true
			}
		}
		if n == 0 {
			select {
			case <-ctx.Done():
			case <-wait:
			case <-time.After(moveIdle):
			}
		}
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

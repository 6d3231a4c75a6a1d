package log

import (
	"cmp"
	"path/filepath"
	"slices"
)

// DeleteEnabled reports whether cleanup.policy includes delete: only then may DeleteRecords move the log start
// (Partition.deleteRecordsOnLeader answers POLICY_VIOLATION otherwise).
func (c Config) DeleteEnabled() bool {
	n := c.normalized()
	return n.isDelete()
}

// CheckpointLogStartOffsets writes log-start-offset-checkpoint in every log dir now. Kafka writes it on a timer
// (log.flush.start.offset.checkpoint.interval.ms); DeleteRecords calls this so a crash right after the answer
// cannot bring deleted records back.
func (m *Manager) CheckpointLogStartOffsets() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil // Close wrote the final checkpoints
	}
	for _, d := range m.dirs {
		start := map[TopicPartition]int64{}
		for tp, l := range m.logsIn(d) {
			// As checkpointLocked: only starts that differ from the first segment's base are recorded.
			if ls := l.LogStartOffset(); ls > l.FirstSegmentBase() {
				start[tp] = ls
			}
		}
		if err := WriteOffsetCheckpoint(filepath.Join(d, LogStartOffsetCheckpointFile), start); err != nil {
			return err
		}
	}
	return nil
}

// LogsInDir returns the logs held in log dir d (one of Dirs), ordered by topic and partition.
func (m *Manager) LogsInDir(d string) []*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	return logsInDir(m.logs, m.logDir, d)
}

// logsInDir picks the logs whose dir is d, ordered by topic and partition.
func logsInDir(logs map[TopicPartition]*Log, dirs map[TopicPartition]string, d string) []*Log {
	var out []*Log
	for tp, l := range logs {
		if dirs[tp] == d {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *Log) int {
		return cmp.Or(cmp.Compare(a.tp.Topic, b.tp.Topic), cmp.Compare(a.tp.Partition, b.tp.Partition))
	})
	return out
}

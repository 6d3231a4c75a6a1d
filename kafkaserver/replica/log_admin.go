package replica

import (
	"cmp"
	"path/filepath"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// EndOffsetForEpoch answers one partition of OffsetsForLeaderEpoch on the leader (Partition.lastOffsetForLeaderEpoch
// with fetchOnlyFromLeader): the largest epoch <= leaderEpoch in the leader epoch cache and the start offset of the
// next epoch (the log end offset for the latest epoch), or (-1, -1) when unknown. currentLeaderEpoch (-1: not sent)
// fences stale and future clients with FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH.
func (m *Manager) EndOffsetForEpoch(topic string, partition int32, currentLeaderEpoch, leaderEpoch int32) (int32, int64, error) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return -1, -1, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.leaderLocked(m.cfg.BrokerID, currentLeaderEpoch); err != nil {
		return -1, -1, err
	}
	e, off := p.log.EndOffsetForEpoch(leaderEpoch)
	if off == -1 {
		return -1, -1, nil
	}
	return e, off, nil
}

// LogDirInfo describes one log dir for DescribeLogDirs.
type LogDirInfo struct {
	Path string // absolute, as Kafka reports it
	Err  error  // KAFKA_STORAGE_ERROR for an offline dir; offline dirs are not tracked yet, so always nil
	Logs []LogInfo
}

// LogInfo describes one partition log in a log dir.
type LogInfo struct {
	TP        klog.TopicPartition
	Size      int64 // bytes of all segments
	OffsetLag int64 // high watermark - log end offset, floored at 0; -1 when the partition is not hosted (yet)
	IsFuture  bool  // the future log of a partition moving to this dir (AlterReplicaLogDirs)
}

// DescribeLogDirs lists every configured log dir (once each) with the logs it holds (ReplicaManager.describeLogDirs).
func (m *Manager) DescribeLogDirs() []LogDirInfo {
	var out []LogDirInfo
	seen := map[string]bool{}
	for _, d := range m.cfg.Logs.Dirs() {
		abs, err := filepath.Abs(d)
		if err != nil {
			abs = d
		}
		if seen[abs] {
			continue
		}
		seen[abs] = true
		info := LogDirInfo{Path: abs}
		for _, l := range m.cfg.Logs.LogsInDir(d) {
			info.Logs = append(info.Logs, LogInfo{TP: l.TopicPartition(), Size: l.Size(), OffsetLag: m.offsetLag(l)})
		}
		for _, l := range m.cfg.Logs.FutureLogsInDir(d) {
			info.Logs = append(info.Logs, LogInfo{TP: l.TopicPartition(), Size: l.Size(), OffsetLag: m.futureLag(l), IsFuture: true})
		}
		slices.SortStableFunc(info.Logs, func(a, b LogInfo) int {
			return cmp.Or(cmp.Compare(a.TP.Topic, b.TP.Topic), cmp.Compare(a.TP.Partition, b.TP.Partition))
		})
		out = append(out, info)
	}
	return out
}

// offsetLag is ReplicaManager.getLogEndOffsetLag for a current (not future) log.
func (m *Manager) offsetLag(l *klog.Log) int64 {
	tp := l.TopicPartition()
	m.mu.RLock()
	p := m.partitions[tp]
	m.mu.RUnlock()
	if p == nil || p.log != l {
		return -1
	}
	return max(l.HighWatermark()-l.LogEndOffset(), 0)
}

// futureLag is getLogEndOffsetLag for a future log: how far it is behind the current log's end (not floored).
func (m *Manager) futureLag(fut *klog.Log) int64 {
	m.mu.RLock()
	p := m.partitions[fut.TopicPartition()]
	m.mu.RUnlock()
	if p == nil {
		return -1
	}
	return p.Log().LogEndOffset() - fut.LogEndOffset()
}

// ActiveProducers answers one partition of DescribeProducers (ReplicaManager.activeProducerState): the producers
// the local log tracks, on a leader or a follower alike; a partition not hosted here gets NOT_LEADER_OR_FOLLOWER
// when the cluster knows it, UNKNOWN_TOPIC_OR_PARTITION otherwise.
func (m *Manager) ActiveProducers(topic string, partition int32) ([]klog.ProducerState, error) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	l := p.log
	p.mu.Unlock()
	if l == nil {
		return nil, kerr.NotLeaderForPartition
	}
	return l.ActiveProducers(), nil
}

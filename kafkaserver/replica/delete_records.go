package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// DeleteRecords raises the log start offset of a partition this broker leads (ReplicaManager.deleteRecordsOnLocalLog
// and Partition.deleteRecordsOnLeader): offset -1 means the high watermark, an offset past it is OFFSET_OUT_OF_RANGE.
// It returns the offset the low watermark must reach before the request is answered and the low watermark now;
// WaitLowWatermark does the waiting.
func (m *Manager) DeleteRecords(topic string, partition int32, offset int64) (required, lowWatermark int64, err error) {
	if IsInternal(topic) {
		return -1, -1, kerr.InvalidTopicException
	}
	p, err := m.lookup(topic, partition)
	if err != nil {
		return -1, -1, err
	}
	p.mu.Lock()
	if p.leader != m.cfg.BrokerID {
		p.mu.Unlock()
		return -1, -1, kerr.NotLeaderForPartition
	}
	if !p.log.Config().DeleteEnabled() {
		p.mu.Unlock()
		return -1, -1, kerr.PolicyViolation
	}
	if offset == -1 {
		offset = p.log.HighWatermark()
	}
	if offset < 0 {
		p.mu.Unlock()
		return -1, -1, fmt.Errorf("the offset %d for partition %s is not valid: %w", offset, p.TP, klog.ErrOffsetOutOfRange)
	}
	err = p.log.DeleteRecordsBefore(offset)
	lw := p.lowWatermarkLocked(m.cfg.BrokerID, m.alive)
	p.mu.Unlock()
	if err != nil {
		if errors.Is(err, klog.ErrOffsetOutOfRange) {
			return -1, -1, err
		}
		return -1, -1, fmt.Errorf("delete records of %s: %w: %w", p.TP, kerr.KafkaStorageError, err)
	}
	// Segments below the new start are gone already, so the start within a segment must not be lost either.
	if err := m.cfg.Logs.CheckpointLogStartOffsets(); err != nil {
		return -1, -1, fmt.Errorf("delete records of %s: %w: %w", p.TP, kerr.KafkaStorageError, err)
	}
	m.logger.Info("deleted records", "partition", p.TP.String(), "log_start_offset", offset)
	return offset, lw, nil
}

// WaitLowWatermark blocks until the partition's low watermark (the smallest log start offset over the leader and its
// live followers) reaches required, as DelayedDeleteRecords does; ctx's deadline is the request timeout
// (REQUEST_TIMED_OUT). Losing leadership meanwhile gives NOT_LEADER_OR_FOLLOWER, losing the partition
// UNKNOWN_TOPIC_OR_PARTITION.
func (m *Manager) WaitLowWatermark(ctx context.Context, topic string, partition int32, required int64) (int64, error) {
	tp := klog.TopicPartition{Topic: topic, Partition: partition}
	for {
		m.mu.RLock()
		p := m.partitions[tp]
		m.mu.RUnlock()
		if p == nil {
			return -1, kerr.UnknownTopicOrPartition
		}
		p.mu.Lock()
		if p.leader != m.cfg.BrokerID {
			p.mu.Unlock()
			return -1, kerr.NotLeaderForPartition
		}
		lw, ch := p.lowWatermarkLocked(m.cfg.BrokerID, m.alive), p.hwChanged
		p.mu.Unlock()
		if lw >= required {
			return lw, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return lw, kerr.RequestTimedOut
		}
	}
}

// UpdateFollowerLogStart records the log start offset a follower sent in its Fetch (Replica.updateFetchState); the
// follower fetch path calls it. It wakes DeleteRecords requests waiting for the low watermark.
func (m *Manager) UpdateFollowerLogStart(topic string, partition int32, replicaID int32, logStart int64) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leader != m.cfg.BrokerID || !slices.Contains(p.replicas, replicaID) {
		return
	}
	if p.followerLogStart == nil || p.followerLogStartEpoch != p.leaderEpoch {
		p.followerLogStart, p.followerLogStartEpoch = map[int32]int64{}, p.leaderEpoch
	}
	if old, ok := p.followerLogStart[replicaID]; ok && old == logStart {
		return
	}
	p.followerLogStart[replicaID] = logStart
	p.signalLocked()
}

// LowWatermark is the partition's low watermark on its leader (Partition.lowWatermarkIfLeader).
func (m *Manager) LowWatermark(topic string, partition int32) (int64, error) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return -1, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leader != m.cfg.BrokerID {
		return -1, kerr.NotLeaderForPartition
	}
	return p.lowWatermarkLocked(m.cfg.BrokerID, m.alive), nil
}

func (m *Manager) alive(id int32) bool {
	_, ok := m.cache.Broker(id)
	return ok
}

// lowWatermarkLocked is the smallest log start offset over the leader and every live follower; a follower that has
// not reported one in this leader epoch counts as -1 (Kafka's UnknownOffset), so a request waits for it.
func (p *Partition) lowWatermarkLocked(self int32, alive func(int32) bool) int64 {
	lw := p.log.LogStartOffset()
	for _, r := range p.replicas {
		if r == self || !alive(r) {
			continue
		}
		ls, ok := int64(-1), false
		if p.followerLogStartEpoch == p.leaderEpoch {
			ls, ok = p.followerLogStart[r]
		}
		if !ok {
			ls = -1
		}
		lw = min(lw, ls)
	}
	return lw
}

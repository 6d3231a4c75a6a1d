// Package replica is the broker's replica manager: which partitions this broker leads or follows (as the controller
// says through LeaderAndIsr), the high watermark, acks handling for produce, reads for fetch and ListOffsets, and the
// metadata cache fed by UpdateMetadata.
package replica

import (
	"slices"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// Partition is one partition hosted on this broker, as leader or follower.
type Partition struct {
	TP klog.TopicPartition

	mu              sync.Mutex
	log             *klog.Log
	leader          int32
	leaderEpoch     int32
	partitionEpoch  int32 // state znode zkVersion
	controllerEpoch int32
	isr             []int32
	replicas        []int32
	followers       map[int32]*followerState // leader only: each follower's fetch position and when it last caught up
	epochStart      int64                    // leader only: the log end when this broker became leader
	pendingIsr      bool                     // leader only: an ISR change (proposedIsr) awaits the controller
	proposedIsr     []int32
	hwChanged       chan struct{} // closed (and replaced) whenever the high watermark moves

	// followerLogStart holds the log start offsets followers reported while leaderEpoch was followerLogStartEpoch
	// (DeleteRecords' low watermark); older reports do not count.
	followerLogStart      map[int32]int64
	followerLogStartEpoch int32
}

// PartitionInfo is a snapshot of a partition's replication state.
type PartitionInfo struct {
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
	ISR            []int32
	Replicas       []int32
	HighWatermark  int64
	LogEndOffset   int64
	LogStartOffset int64
}

func newPartition(tp klog.TopicPartition, l *klog.Log) *Partition {
	return &Partition{TP: tp, log: l, leader: -1, leaderEpoch: -1, hwChanged: make(chan struct{})}
}

// Log returns the partition's log.
func (p *Partition) Log() *klog.Log { return p.log }

// Info returns a snapshot of the partition's state.
func (p *Partition) Info() PartitionInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PartitionInfo{
		Leader: p.leader, LeaderEpoch: p.leaderEpoch, PartitionEpoch: p.partitionEpoch,
		ISR: slices.Clone(p.isr), Replicas: slices.Clone(p.replicas),
		HighWatermark: p.log.HighWatermark(), LogEndOffset: p.log.LogEndOffset(), LogStartOffset: p.log.LogStartOffset(),
	}
}

// leaderLocked checks that this broker (id) leads the partition and the client's epoch (-1: unknown) matches.
// As Partition.getLocalLog, the epoch is checked before leadership.
func (p *Partition) leaderLocked(id, clientEpoch int32) error {
	if err := checkEpoch(clientEpoch, p.leaderEpoch); err != nil {
		return err
	}
	if p.leader != id {
		return kerr.NotLeaderForPartition
	}
	return nil
}

func checkEpoch(clientEpoch, current int32) error {
	switch {
	case clientEpoch < 0 || clientEpoch == current:
		return nil
	case clientEpoch < current:
		return kerr.FencedLeaderEpoch
	default:
		return kerr.UnknownLeaderEpoch
	}
}

// maybeIncrementHWLocked moves the high watermark to the smallest log end offset over the leader and the ISR
// followers (Partition.maybeIncrementLeaderHW); it never moves backwards.
func (p *Partition) maybeIncrementHWLocked(self int32) bool {
	newHW := p.log.LogEndOffset()
	for _, r := range p.isr {
		if r == self {
			continue
		}
		var leo int64 // a follower that has not fetched yet holds nothing we know of
		if fs := p.followers[r]; fs != nil && fs.leo > 0 {
			leo = fs.leo
		}
		newHW = min(newHW, leo)
	}
	if newHW <= p.log.HighWatermark() {
		return false
	}
	p.log.SetHighWatermark(newHW)
	p.signalLocked()
	return true
}

func (p *Partition) signalLocked() {
	close(p.hwChanged)
	p.hwChanged = make(chan struct{})
}

// hwWait returns the high watermark and a channel closed when it next changes.
func (p *Partition) hwWait() (int64, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.HighWatermark(), p.hwChanged
}

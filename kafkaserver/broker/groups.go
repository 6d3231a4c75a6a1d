package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"

	"github.com/zkafka/zkafka/kafkaserver/group"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/replica"
)

// internalLog is __consumer_offsets or __transaction_state as its coordinator sees it, on top of the replica
// manager.
type internalLog struct {
	rm      *replica.Manager
	topic   string
	timeout time.Duration // offsets.commit.timeout.ms; request.timeout.ms for the transaction log
}

var _ coordlog.Log = (*internalLog)(nil)

// Append writes a batch as leader, as the coordinators append (AppendOrigin.Coordinator: no sequence checks for
// TxnOffsetCommit's transactional batches), and waits for the ISR (required acks -1).
func (o *internalLog) Append(partition int32, records []byte) (int64, error) {
	info, err := o.rm.AppendAsCoordinator(o.topic, partition, records)
	if err != nil {
		return -1, fmt.Errorf("append to %s-%d: %w", o.topic, partition, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	if err := o.rm.WaitReplicated(ctx, o.topic, partition, info.LastOffset+1); err != nil {
		return -1, fmt.Errorf("replicate %s-%d: %w", o.topic, partition, err)
	}
	return info.FirstOffset, nil
}

// ReadAll replays a partition from its log start to its log end, as GroupMetadataManager and
// TransactionStateManager load it.
func (o *internalLog) ReadAll(partition int32, fn func(batch []byte) error) error {
	p, err := o.rm.Partition(o.topic, partition)
	if err != nil {
		return fmt.Errorf("load %s-%d: %w", o.topic, partition, err)
	}
	l := p.Log()
	for off, end := l.LogStartOffset(), l.LogEndOffset(); off < end; {
		res, err := l.Read(off, 5<<20, end, true)
		if err != nil {
			return fmt.Errorf("read %s-%d at %d: %w", o.topic, partition, off, err)
		}
		if len(res.Records) == 0 {
			// Nothing more below end in this segment read: move to the next batch start, if any.
			return nil
		}
		if err := fn(res.Records); err != nil {
			return err
		}
		next, err := nextOffsetAfter(res.Records)
		if err != nil {
			return err
		}
		if next <= off {
			return fmt.Errorf("read %s-%d: no progress at %d", o.topic, partition, off)
		}
		off = next
	}
	return nil
}

// nextOffsetAfter is the offset after the last whole batch in p (v2 headers: base offset at 0, last offset delta
// at 23; older message sets end at their wrapper's offset).
func nextOffsetAfter(p []byte) (int64, error) {
	var next int64 = -1
	for len(p) >= 12 {
		base := int64(be64(p[0:8]))
		size := int(be32(p[8:12]))
		if size < 0 || 12+size > len(p) {
			break
		}
		last := base
		if size >= 27 && p[16] == 2 {
			last = base + int64(int32(be32(p[23:27])))
		}
		next = last + 1
		p = p[12+size:]
	}
	if next < 0 {
		return 0, fmt.Errorf("no whole batch in read")
	}
	return next, nil
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
func be64(b []byte) uint64 { return uint64(be32(b[0:4]))<<32 | uint64(be32(b[4:8])) }

// newMemberID is the random part of member ids (Kafka uses a UUID's text).
func newMemberID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// coordinatorEvent is a leadership change of an internal topic partition, or partitions of deleted topics whose
// committed offsets go, applied in order off the request path (Kafka loads groups on its scheduler too).
type coordinatorEvent struct {
	topic     string
	partition int32
	leader    bool
	deleted   []group.TopicPartition
}

func (b *Broker) onPartitionsDeleted(tps []klog.TopicPartition) {
	if b.groupEvents == nil {
		return
	}
	ev := coordinatorEvent{deleted: make([]group.TopicPartition, len(tps))}
	for i, tp := range tps {
		ev.deleted[i] = group.TopicPartition{Topic: tp.Topic, Partition: tp.Partition}
	}
	b.groupEvents <- ev
}

func (b *Broker) onLeadershipChange(tp klog.TopicPartition, leader bool) {
	if (tp.Topic != replica.GroupMetadataTopic && tp.Topic != replica.TransactionStateTopic) || b.groupEvents == nil {
		return
	}
	b.groupEvents <- coordinatorEvent{topic: tp.Topic, partition: tp.Partition, leader: leader}
}

func (b *Broker) runGroupLoader(ctx context.Context) {
	defer b.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-b.groupEvents:
			if ev.deleted != nil {
				b.group.HandleDeletedPartitions(ev.deleted)
				continue
			}
			if ev.topic == replica.TransactionStateTopic {
				b.txnEvent(ev)
				continue
			}
			if !ev.leader {
				b.group.ResignCoordinator(ev.partition)
				continue
			}
			if err := b.group.BecomeCoordinator(ev.partition); err != nil {
				b.logger.Error("loading group partition failed", "partition", ev.partition, "err", err)
			}
		}
	}
}

package broker

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// ibp27iv2 is the first inter.broker.protocol.version whose partition leaders send ISR changes to the controller
// with AlterIsr (Kafka's isAlterIsrSupported); below it they write the partition's state znode themselves.
var ibp27iv2, _ = serverprops.ParseAPIVersion("2.7-IV2")

// Kafka's IsrChangePropagationConfig: how often pending notifications are looked at, how long a change waits for
// others to join it, and the longest a change waits when changes keep coming.
const (
	isrPropagationCheck    = 2500 * time.Millisecond
	isrPropagationLinger   = 5 * time.Second
	isrPropagationMaxDelay = 60 * time.Second
)

// zkIsr is the ISR path of brokers below IBP 2.7-IV2 (Kafka's ZkIsrManager): the leader writes the new ISR into the
// partition's state znode, conditional on the version it knows, and tells the controller with a sequential
// /isr_change_notification/isr_change_ znode, batched.
type zkIsr struct {
	b *Broker

	mu             sync.Mutex
	changed        map[zkmeta.TopicPartition]bool
	lastChange     time.Time
	lastPropagated time.Time
}

// alter applies an AlterIsr request's proposals to ZooKeeper and answers as the controller would.
func (z *zkIsr) alter(req *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error) {
	resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewAlterPartitionResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p, err := z.update(req.BrokerID, rt.Topic, rp)
			if err != nil {
				return nil, err
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp, nil
}

// update is ReplicationUtils.updateLeaderAndIsr for one partition: a write that lost to another (a bad version) still
// succeeds if the znode already holds the same state, as after a retried write whose first reply was lost.
func (z *zkIsr) update(leader int32, topic string, rp kmsg.AlterPartitionRequestTopicPartition) (kmsg.AlterPartitionResponseTopicPartition, error) {
	out := kmsg.NewAlterPartitionResponseTopicPartition()
	out.Partition = rp.Partition
	ce, err := z.b.rm.ControllerEpochOf(topic, rp.Partition)
	if err != nil {
		out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return out, nil
	}
	st := zkmeta.PartitionState{Leader: leader, LeaderEpoch: rp.LeaderEpoch, ISR: rp.NewISR, ControllerEpoch: ce}
	path := zkmeta.PartitionStatePath(topic, rp.Partition)
	s, err := z.b.zk.Set(path, st.Encode(), rp.PartitionEpoch)
	version := int32(0)
	switch {
	case err == nil:
		version = s.Version
	case errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode):
		cur, ok, gerr := z.b.zk.GetPartitionState(zkmeta.TopicPartition{Topic: topic, Partition: rp.Partition})
		if gerr != nil {
			return out, gerr
		}
		if !ok || cur.Leader != st.Leader || cur.LeaderEpoch != st.LeaderEpoch || cur.ControllerEpoch != st.ControllerEpoch ||
			!slices.Equal(cur.ISR, st.ISR) {
			out.ErrorCode = kerr.InvalidUpdateVersion.Code
			return out, nil
		}
		version = cur.ZkVersion
	default:
		return out, err
	}
	out.LeaderID, out.LeaderEpoch, out.ISR, out.PartitionEpoch = leader, rp.LeaderEpoch, slices.Clone(rp.NewISR), version
	z.mu.Lock()
	if z.changed == nil {
		z.changed = map[zkmeta.TopicPartition]bool{}
	}
	z.changed[zkmeta.TopicPartition{Topic: topic, Partition: rp.Partition}] = true
	z.lastChange = time.Now()
	z.mu.Unlock()
	return out, nil
}

// run propagates ISR changes to the controller until ctx ends (ZkIsrManager.maybePropagateIsrChanges): once no
// change came for the linger time, or changes have waited for the longest delay.
func (z *zkIsr) run(ctx context.Context) {
	z.mu.Lock()
	z.lastChange, z.lastPropagated = time.Now(), time.Now() // both count from the start, as in Kafka
	z.mu.Unlock()
	t := time.NewTicker(isrPropagationCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := z.propagate(time.Now()); err != nil && ctx.Err() == nil {
			z.b.logger.Warn("ISR change notification failed; retrying", "err", err)
		}
	}
}

func (z *zkIsr) propagate(now time.Time) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.changed) == 0 || (now.Sub(z.lastChange) < isrPropagationLinger && now.Sub(z.lastPropagated) < isrPropagationMaxDelay) {
		return nil
	}
	tps := make([]zkmeta.TopicPartition, 0, len(z.changed))
	for tp := range z.changed {
		tps = append(tps, tp)
	}
	if _, err := z.b.zk.PropagateIsrChanges(tps); err != nil {
		return err
	}
	z.changed, z.lastPropagated = nil, now
	return nil
}

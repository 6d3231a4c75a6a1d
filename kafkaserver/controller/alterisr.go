package controller

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// Error codes of AlterIsr (KIP-497).
const (
	errUnknownTopicOrPartition int16 = 3
	errFencedLeaderEpoch       int16 = 74
	ErrInvalidUpdateVersion    int16 = 95
)

// AlterIsr is an AlterIsr (v0, key 56; AlterPartition in kmsg) request from a partition leader (IBP >= 2.7-IV2).
type AlterIsr struct{ Req *kmsg.AlterPartitionRequest }

func (AlterIsr) isEvent() {}

// onAlterIsr is processAlterIsr: check the broker epoch, fence old leader epochs, CAS-write the new ISR at the
// leader's partition epoch, answer with the new state, and tell every broker.
func (c *Core) onAlterIsr(e AlterIsr) {
	req := e.Req
	resp := kmsg.NewPtrAlterPartitionResponse()
	resp.Version = req.Version
	c.out.AlterIsr = resp
	b, ok := c.live[req.BrokerID]
	if !ok || req.BrokerEpoch < b.Epoch {
		resp.ErrorCode = errStaleBrokerEpoch
		return
	}
	var updated []TopicPartition
	for _, rt := range req.Topics {
		t := kmsg.NewAlterPartitionResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			tp := TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
			p := kmsg.NewAlterPartitionResponseTopicPartition()
			p.Partition = rp.Partition
			st, ok := c.states[tp]
			switch {
			case !ok || c.deleting[tp.Topic] != nil:
				p.ErrorCode = errUnknownTopicOrPartition
			case rp.LeaderEpoch < st.LeaderEpoch || st.Leader != req.BrokerID:
				p.ErrorCode = errFencedLeaderEpoch
			case rp.LeaderEpoch == st.LeaderEpoch && equalInt32s(rp.NewISR, st.ISR):
				// Already applied (a retry): answer with the current state.
				p.LeaderID, p.LeaderEpoch, p.ISR, p.PartitionEpoch = st.Leader, st.LeaderEpoch, st.ISR, st.ZkVersion
			default:
				ns := zkmeta.PartitionState{Leader: req.BrokerID, LeaderEpoch: rp.LeaderEpoch,
					ISR: append([]int32{}, rp.NewISR...), ControllerEpoch: c.epoch, ZkVersion: rp.PartitionEpoch}
				c.write(Write{Kind: SetPartitionState, TP: tp, State: ns})
				ns.ZkVersion++
				c.states[tp] = ns
				p.LeaderID, p.LeaderEpoch, p.ISR, p.PartitionEpoch = ns.Leader, ns.LeaderEpoch, ns.ISR, ns.ZkVersion
				updated = append(updated, tp)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	if len(updated) > 0 {
		c.addUpdateMetadata(c.liveBrokerIDs(), updated)
		c.flush()
		c.checkReassignments()
	}
}

// MarkAlterIsrConflicts sets INVALID_UPDATE_VERSION on the partitions whose write lost a race.
func MarkAlterIsrConflicts(resp *kmsg.AlterPartitionResponse, conflicts map[TopicPartition]bool) {
	if resp == nil {
		return
	}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if conflicts[TopicPartition{Topic: t.Topic, Partition: p.Partition}] && p.ErrorCode == 0 {
				part := p.Partition
				*p = kmsg.NewAlterPartitionResponseTopicPartition()
				p.Partition = part
				p.ErrorCode = ErrInvalidUpdateVersion
			}
		}
	}
}

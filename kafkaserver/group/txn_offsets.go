package group

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
)

// TxnOffsetCommit handles TxnOffsetCommit (GroupCoordinator.handleTxnCommitOffsets): the offsets go to
// __consumer_offsets in a transactional batch of the producer and apply when its transaction commits
// (HandleTxnCompletion). Topic existence is the handler's business.
func (c *Coordinator) TxnOffsetCommit(req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	codes := map[TopicPartition]int16{}
	c.lock()
	c.txnCommit(req, codes)
	c.unlock()
	for _, t := range req.Topics {
		rt := kmsg.TxnOffsetCommitResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.TxnOffsetCommitResponseTopicPartition{Partition: p.Partition,
				ErrorCode: codes[TopicPartition{t.Topic, p.Partition}]})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (c *Coordinator) txnCommit(req *kmsg.TxnOffsetCommitRequest, codes map[TopicPartition]int16) {
	all := func(code int16) {
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				codes[TopicPartition{t.Topic, p.Partition}] = code
			}
		}
	}
	if code := c.groupStatus(req.Group, false); code != 0 {
		all(code)
		return
	}
	g := c.groups[req.Group]
	if g == nil {
		g = newGroup(req.Group, coordlog.PartitionFor(req.Group, c.cfg.NumPartitions), c.now)
		c.groups[req.Group] = g
	}
	generation, member := int32(-1), ""
	if req.Version >= 3 {
		generation, member = req.Generation, req.MemberID
	}
	switch {
	case g.state == Dead:
		all(kerr.CoordinatorNotAvailable.Code)
		return
	case req.Version >= 3 && g.fenced(member, req.InstanceID):
		all(kerr.FencedInstanceID.Code)
		return
	case member != "" && g.members[member] == nil:
		all(kerr.UnknownMemberID.Code)
		return
	case generation >= 0 && generation != g.generation:
		all(kerr.IllegalGeneration.Code)
		return
	}
	var (
		recs []coordlog.Record
		tps  []TopicPartition
		vals []Offset
	)
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := TopicPartition{t.Topic, p.Partition}
			o := Offset{Offset: p.Offset, LeaderEpoch: -1, CommitTimestamp: c.now, ExpireTimestamp: -1}
			if p.Metadata != nil {
				o.Metadata = *p.Metadata
			}
			if req.Version >= 2 {
				o.LeaderEpoch = p.LeaderEpoch
			}
			if len(o.Metadata) > c.cfg.MaxMetadataSize {
				codes[tp] = kerr.OffsetMetadataTooLarge.Code
				continue
			}
			recs = append(recs, coordlog.Record{Key: offsetKey(g.id, tp.Topic, tp.Partition), Value: offsetValue(o)})
			tps = append(tps, tp)
			vals = append(vals, o)
		}
	}
	if len(recs) == 0 {
		return
	}
	producer := coordlog.Producer{ID: req.ProducerID, Epoch: req.ProducerEpoch, Transactional: true}
	at, err := c.olog.Append(g.partition, coordlog.EncodeBatch(c.now, producer, recs))
	if err != nil {
		c.logger.Warn("transactional offset commit append failed", "group", g.id, "err", err)
		for _, tp := range tps {
			codes[tp] = appendCode(err, true)
		}
		return
	}
	pending := g.txnOffsets[req.ProducerID]
	if pending == nil {
		pending = map[TopicPartition]Offset{}
		g.txnOffsets[req.ProducerID] = pending
	}
	for i, tp := range tps {
		vals[i].appendOffset = at
		pending[tp] = vals[i]
	}
}

// HandleTxnCompletion applies (commit) or drops (abort) a producer's transactional offsets in the groups of the given
// __consumer_offsets partitions, once the marker is written there (scheduleHandleTxnCompletion). A committed offset
// replaces only one written before it.
func (c *Coordinator) HandleTxnCompletion(producerID int64, partitions []int32, commit bool) {
	c.lock()
	defer c.unlock()
	for _, g := range c.sortedGroups() {
		if !slices.Contains(partitions, g.partition) {
			continue
		}
		pending, ok := g.txnOffsets[producerID]
		if !ok {
			continue
		}
		delete(g.txnOffsets, producerID)
		if !commit || g.state == Dead {
			continue
		}
		for tp, o := range pending {
			if cur, ok := g.offsets[tp]; !ok || cur.olderThan(o) {
				g.offsets[tp] = o
			}
		}
	}
}

// hasPendingTxnOffset: a transaction not yet ended has committed an offset for tp (OffsetFetch's requireStable).
func (g *group) hasPendingTxnOffset(tp TopicPartition) bool {
	for _, offs := range g.txnOffsets {
		if _, ok := offs[tp]; ok {
			return true
		}
	}
	return false
}

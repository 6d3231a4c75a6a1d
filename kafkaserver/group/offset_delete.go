package group

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
)

// DeleteOffsets is GroupCoordinator.handleDeleteOffsets (OffsetDelete, KIP-496). It returns a group-level error
// code (then the partition map is empty) or one code per partition: an Empty group loses the offsets of every
// given partition; a consumer group in a rebalance or Stable loses those of topics its members are not subscribed
// to and answers GROUP_SUBSCRIBED_TO_TOPIC for the others; any other live group is NON_EMPTY_GROUP. Partitions
// the handler already rejected (unknown topics) are not passed in.
func (c *Coordinator) DeleteOffsets(groupID string, partitions []TopicPartition) (int16, map[TopicPartition]int16) {
	c.lock()
	defer c.unlock()
	if code := c.groupStatus(groupID, false); code != 0 {
		return code, nil
	}
	g := c.groups[groupID]
	if g == nil || g.state == Dead {
		return kerr.GroupIDNotFound.Code, nil
	}
	codes := map[TopicPartition]int16{}
	var eligible []TopicPartition
	switch {
	case g.state == Empty:
		eligible = partitions
	case g.protocolType != nil && *g.protocolType == "consumer":
		// isSubscribedToTopic: an unknown subscription (nil) subscribes to nothing.
		for _, tp := range partitions {
			if g.subscribed[tp.Topic] {
				codes[tp] = kerr.GroupSubscribedToTopic.Code
			} else {
				eligible = append(eligible, tp)
			}
		}
	default:
		return kerr.NonEmptyGroup.Code, nil
	}
	if len(eligible) == 0 {
		return 0, codes
	}
	c.removeOffsets(g, eligible)
	for _, tp := range eligible {
		codes[tp] = 0
	}
	return 0, codes
}

// removeOffsets is cleanupGroupMetadata with removeOffsets as the selector: the group forgets the offsets, an
// Empty group left without offsets dies, and one batch carries the offset tombstones and, for a dead group that
// had a generation, the group's. As in Kafka, a failed append is only logged: the memory state has moved on.
func (c *Coordinator) removeOffsets(g *group, tps []TopicPartition) {
	var recs []coordlog.Record
	seen := map[TopicPartition]bool{}
	for _, tp := range tps {
		if _, ok := g.offsets[tp]; !ok || seen[tp] {
			continue
		}
		seen[tp] = true
		delete(g.offsets, tp)
		recs = append(recs, coordlog.Record{Key: offsetKey(g.id, tp.Topic, tp.Partition)})
	}
	recs = c.buryIfEmpty(g, recs)
	if len(recs) == 0 {
		return
	}
	if _, err := c.olog.Append(g.partition, coordlog.EncodeBatch(c.now, coordlog.Producer{}, recs)); err != nil {
		c.logger.Error("writing offset deletion tombstones failed", "group", g.id, "err", err)
		return
	}
	c.logger.Info("deleted group offsets", "group", g.id, "offsets", len(seen))
}

package group

import (
	"fmt"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
)

// HandleDeletedPartitions drops every group's committed offsets of partitions whose topic was deleted
// (GroupCoordinator.handleDeletedPartitions, fed by UpdateMetadata): tombstones go to __consumer_offsets, and a
// group left Empty without offsets becomes Dead, is forgotten and, if it ever had a generation, gets a group
// tombstone in the same batch. As in Kafka the cache forgets them even if the append fails (the failure is
// logged). It returns how many offsets were removed.
func (c *Coordinator) HandleDeletedPartitions(tps []TopicPartition) int {
	if len(tps) == 0 {
		return 0
	}
	gone := make(map[TopicPartition]bool, len(tps))
	for _, tp := range tps {
		gone[tp] = true
	}
	c.lock()
	defer c.unlock()
	removed := 0
	for _, g := range c.sortedGroups() {
		var recs []coordlog.Record
		for _, tp := range sortedTPs(g.offsets) {
			if gone[tp] {
				recs = append(recs, coordlog.Record{Key: offsetKey(g.id, tp.Topic, tp.Partition)})
				delete(g.offsets, tp)
			}
		}
		removed += len(recs)
		recs = c.buryIfEmpty(g, recs)
		if len(recs) == 0 {
			continue
		}
		if _, err := c.olog.Append(g.partition, coordlog.EncodeBatch(c.now, coordlog.Producer{}, recs)); err != nil {
			c.logger.Warn("writing tombstones for deleted partitions failed", "group", g.id,
				"err", fmt.Errorf("append %d tombstones: %w", len(recs), err))
		}
	}
	if removed > 0 {
		c.logger.Info("removed offsets of deleted partitions", "offsets", removed, "partitions", len(tps))
	}
	return removed
}

// buryIfEmpty ends a group left Empty with no offsets, as Kafka's cleanupGroupMetadata does: it becomes Dead, leaves
// the cache, and, if it ever had a generation, gets a group tombstone appended to recs.
func (c *Coordinator) buryIfEmpty(g *group, recs []coordlog.Record) []coordlog.Record {
	if g.state != Empty || len(g.offsets) != 0 {
		return recs
	}
	c.logger.Info("group transitioned to Dead", "group", g.id, "generation", g.generation)
	g.transition(Dead, c.now)
	delete(c.groups, g.id)
	// A generation-0 group only ever stored offsets: no metadata record to delete.
	if g.generation > 0 {
		recs = append(recs, coordlog.Record{Key: groupKey(g.id)})
	}
	return recs
}

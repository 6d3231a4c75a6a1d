package controller

import (
	"sort"
)

// ---- topic deletion (TopicDeletionManager) ----

func (c *Core) onDeleteTopicsRequested(e DeleteTopicsRequested) {
	ts := append([]string{}, e.Topics...)
	sort.Strings(ts)
	var queued []string
	for _, t := range ts {
		switch {
		case c.topics[t] == nil || !c.cfg.DeleteTopicEnable:
			// Unknown topics and disabled deletion: just drop the marker.
			c.write(Write{Kind: DeleteTopicMarker, Topic: t})
		case c.deleting[t] == nil:
			c.deleting[t] = &deletion{done: map[TopicPartition]map[int32]bool{}, started: map[TopicPartition]map[int32]bool{}}
			queued = append(queued, t)
		}
	}
	if len(queued) == 0 {
		return
	}
	// onTopicDeletion: brokers drop the topics from their caches (leader = LeaderDuringDelete), partitions go
	// Offline -> NonExistent.
	var tps []TopicPartition
	for _, t := range queued {
		for _, tp := range c.topicPartitions(t) {
			tps = append(tps, tp)
			c.phase[tp] = NonExistentPartition
		}
	}
	c.addUpdateMetadata(c.liveBrokerIDs(), tps)
	c.flush()
	c.resumeDeletions()
}

func (c *Core) topicReassigning(t string) bool {
	for _, tp := range c.topicPartitions(t) {
		if c.reassigning[tp] != nil {
			return true
		}
	}
	return false
}

// resumeDeletions starts replica deletion for every replica on a live broker not yet started (dead ones are
// ReplicaDeletionIneligible until they return), and completes topics whose replicas are all deleted.
func (c *Core) resumeDeletions() {
	topics := make([]string, 0, len(c.deleting))
	for t := range c.deleting {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	type rep struct {
		tp TopicPartition
		b  int32
	}
	var start []rep
	for _, t := range topics {
		d := c.deleting[t]
		if c.topicReassigning(t) {
			continue
		}
		for _, tp := range c.topicPartitions(t) {
			for _, r := range c.replicas(tp) {
				if d.done[tp][r] || d.started[tp][r] || !c.isLive(r) {
					continue
				}
				if d.started[tp] == nil {
					d.started[tp] = map[int32]bool{}
				}
				d.started[tp][r] = true
				start = append(start, rep{tp, r})
			}
		}
	}
	// OfflineReplica (StopReplica without delete), then ReplicaDeletionStarted (with delete), as two rounds.
	for _, x := range start {
		c.addStopReplica(x.b, x.tp, false)
	}
	c.flush()
	for _, x := range start {
		c.addStopReplica(x.b, x.tp, true)
	}
	c.flush()
	for _, t := range topics {
		c.maybeCompleteDeletion(t)
	}
}

func (c *Core) onReplicaDeletionResult(e ReplicaDeletionResult) {
	touched := map[string]bool{}
	for _, tp := range e.Partitions {
		d := c.deleting[tp.Topic]
		if d == nil {
			continue
		}
		touched[tp.Topic] = true
		if e.Failed {
			// ReplicaDeletionIneligible: retried when deletion resumes.
			delete(d.started[tp], e.Broker)
			continue
		}
		if d.done[tp] == nil {
			d.done[tp] = map[int32]bool{}
		}
		d.done[tp][e.Broker] = true
	}
	ts := make([]string, 0, len(touched))
	for t := range touched {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	for _, t := range ts {
		c.maybeCompleteDeletion(t)
	}
}

// maybeCompleteDeletion is completeDeleteTopic once every replica reported success.
func (c *Core) maybeCompleteDeletion(t string) {
	d := c.deleting[t]
	if d == nil {
		return
	}
	for _, tp := range c.topicPartitions(t) {
		for _, r := range c.replicas(tp) {
			if !d.done[tp][r] {
				return
			}
		}
	}
	c.write(Write{Kind: DeleteTopic, Topic: t})
	c.write(Write{Kind: DeleteTopicConfig, Topic: t})
	c.write(Write{Kind: DeleteTopicMarker, Topic: t})
	c.forgetTopic(t)
}

func equalInt32s(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func subset(a, b []int32) bool {
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

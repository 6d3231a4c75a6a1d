package group

import (
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// BecomeCoordinator loads the groups and offsets of a __consumer_offsets partition this broker now
// leads, replaying it from the start: the last record per key wins and tombstones delete.
// Transactional offset commits apply only once their commit marker is seen.
func (c *Coordinator) BecomeCoordinator(partition int32) error {
	c.lock()
	defer c.unlock()
	for _, g := range c.sortedGroups() {
		if g.partition == partition {
			c.unloadGroup(g)
		}
	}
	st := newReplay()
	if err := c.olog.ReadAll(partition, st.batch); err != nil {
		return fmt.Errorf("load __consumer_offsets-%d: %w", partition, err)
	}
	for id, g := range st.groups(partition, c.now) {
		c.groups[id] = g
		for _, m := range g.allMembers() {
			c.scheduleHeartbeat(m, int64(m.sessionTimeout))
		}
	}
	c.owned[partition] = true
	return nil
}

// ResignCoordinator unloads a partition this broker no longer leads; waiting members are told
// NOT_COORDINATOR.
func (c *Coordinator) ResignCoordinator(partition int32) {
	c.lock()
	defer c.unlock()
	delete(c.owned, partition)
	for _, g := range c.sortedGroups() {
		if g.partition == partition {
			c.unloadGroup(g)
		}
	}
}

type replay struct {
	offsets map[string]map[TopicPartition]Offset
	metas   map[string]*kmsg.GroupMetadataValue
	// pending transactional commits by producer id
	txn map[int64]map[string]map[TopicPartition]Offset
}

func newReplay() *replay {
	return &replay{offsets: map[string]map[TopicPartition]Offset{}, metas: map[string]*kmsg.GroupMetadataValue{},
		txn: map[int64]map[string]map[TopicPartition]Offset{}}
}

func (r *replay) batch(p []byte) error {
	return coordlog.SplitBatches(p, func(info coordlog.BatchInfo, e []byte) error {
		recs, err := klog.DecodeRecords(e)
		if err != nil {
			return fmt.Errorf("batch at offset %d: %w", info.BaseOffset, err)
		}
		if info.Control {
			for _, rc := range recs {
				if len(rc.Key) < 4 {
					continue
				}
				if coordlog.ParseMarker(rc.Key).Commit {
					for g, tps := range r.txn[info.ProducerID] {
						for tp, o := range tps {
							if cur, ok := r.offsetsOf(g)[tp]; !ok || cur.olderThan(o) {
								r.offsetsOf(g)[tp] = o
							}
						}
					}
				}
				delete(r.txn, info.ProducerID)
			}
			return nil
		}
		for _, rc := range recs {
			if err := r.record(info, rc); err != nil {
				return fmt.Errorf("record at offset %d: %w", rc.Offset, err)
			}
		}
		return nil
	})
}

func (r *replay) offsetsOf(g string) map[TopicPartition]Offset {
	m := r.offsets[g]
	if m == nil {
		m = map[TopicPartition]Offset{}
		r.offsets[g] = m
	}
	return m
}

func (r *replay) record(info coordlog.BatchInfo, rc klog.Record) error {
	if rc.Key == nil {
		return fmt.Errorf("null key")
	}
	k, ok, err := decodeKey(rc.Key)
	if err != nil || !ok {
		return err
	}
	if k.isGroup {
		if rc.Value == nil {
			delete(r.metas, k.group)
			return nil
		}
		v := new(kmsg.GroupMetadataValue)
		if err := v.ReadFrom(rc.Value); err != nil {
			return fmt.Errorf("group metadata value of %q: %w", k.group, err)
		}
		r.metas[k.group] = v
		return nil
	}
	tp := TopicPartition{k.topic, k.partition}
	if info.Transactional {
		byGroup := r.txn[info.ProducerID]
		if byGroup == nil {
			byGroup = map[string]map[TopicPartition]Offset{}
			r.txn[info.ProducerID] = byGroup
		}
		if byGroup[k.group] == nil {
			byGroup[k.group] = map[TopicPartition]Offset{}
		}
		if rc.Value != nil {
			o, err := decodeOffsetValue(rc.Value)
			if err != nil {
				return err
			}
			o.appendOffset = rc.Offset
			byGroup[k.group][tp] = o
		}
		return nil
	}
	if rc.Value == nil {
		delete(r.offsetsOf(k.group), tp)
		return nil
	}
	o, err := decodeOffsetValue(rc.Value)
	if err != nil {
		return err
	}
	o.appendOffset = rc.Offset
	r.offsetsOf(k.group)[tp] = o
	return nil
}

// groups builds the loaded groups: members restored Stable (Empty if none), offsets-only groups
// as Empty with generation 0.
func (r *replay) groups(partition int32, now int64) map[string]*group {
	out := map[string]*group{}
	ids := make([]string, 0, len(r.metas))
	for id := range r.metas {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		v := r.metas[id]
		g := newGroup(id, partition, now)
		g.generation = v.Generation
		if v.ProtocolType != "" {
			pt := v.ProtocolType
			g.protocolType = &pt
		}
		g.protocol = v.Protocol
		g.stateTS = -1
		if v.Version >= 2 {
			g.stateTS = v.CurrentStateTimestamp
		}
		for _, mv := range v.Members {
			m := &member{id: mv.MemberID, instanceID: mv.InstanceID, clientID: mv.ClientID, clientHost: mv.ClientHost,
				rebalanceTimeout: mv.RebalanceTimeoutMillis, sessionTimeout: mv.SessionTimeoutMillis, assignment: mv.Assignment}
			if v.Version == 0 {
				m.rebalanceTimeout = mv.SessionTimeoutMillis
			}
			if g.protocolType != nil {
				m.protocolType = *g.protocolType
			}
			if g.protocol != nil {
				m.protocols = []protocol{{name: *g.protocol, metadata: mv.Subscription}}
			}
			g.add(m, nil, 0)
		}
		if v.Leader != nil {
			g.leader = *v.Leader
		}
		if len(g.members) > 0 {
			g.state = Stable
		}
		g.subscribed = g.computeSubscribed()
		out[id] = g
	}
	// A group known only by its offsets is Empty with generation 0.
	offsetsGroup := func(id string) *group {
		g := out[id]
		if g == nil {
			g = newGroup(id, partition, now)
			g.stateTS = -1
			out[id] = g
		}
		return g
	}
	for id, offs := range r.offsets {
		if len(offs) == 0 {
			continue
		}
		g := offsetsGroup(id)
		for tp, o := range offs {
			g.offsets[tp] = o
		}
	}
	// Transactional commits without their marker yet wait in their group for it.
	for pid, byGroup := range r.txn {
		for id, offs := range byGroup {
			if len(offs) > 0 {
				offsetsGroup(id).txnOffsets[pid] = offs
			}
		}
	}
	return out
}

package group

import (
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// ZKOffsets is where OffsetCommit/OffsetFetch v0 keep offsets
// (/consumers/<group>/offsets/<topic>/<partition>); *zkmeta.Client implements it.
type ZKOffsets interface {
	GetConsumerOffset(group string, tp zkmeta.TopicPartition) (int64, bool, error)
	SetOrCreateConsumerOffset(group string, tp zkmeta.TopicPartition, offset int64) error
}

// OffsetCommit handles an OffsetCommit request. v0 goes to ZooKeeper (outside the coordinator
// lock); v1+ is checked against the group's generation and appended to __consumer_offsets.
// Topic existence and authorization are the handler's business.
func (c *Coordinator) OffsetCommit(req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	codes := map[TopicPartition]int16{}
	if req.Version == 0 {
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				tp := TopicPartition{t.Topic, p.Partition}
				switch {
				case p.Metadata != nil && len(*p.Metadata) > c.cfg.MaxMetadataSize:
					codes[tp] = kerr.OffsetMetadataTooLarge.Code
				case c.zk == nil:
					codes[tp] = kerr.UnknownServerError.Code
				default:
					if err := c.zk.SetOrCreateConsumerOffset(req.Group, zkmeta.TopicPartition{Topic: t.Topic, Partition: p.Partition}, p.Offset); err != nil {
						c.logger.Warn("zk offset commit failed", "group", req.Group, "err", err)
						codes[tp] = kerr.UnknownServerError.Code
					}
				}
			}
		}
	} else {
		c.lock()
		c.commit(req, codes)
		c.unlock()
	}
	for _, t := range req.Topics {
		rt := kmsg.OffsetCommitResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.OffsetCommitResponseTopicPartition{Partition: p.Partition,
				ErrorCode: codes[TopicPartition{t.Topic, p.Partition}]})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (c *Coordinator) commit(req *kmsg.OffsetCommitRequest, codes map[TopicPartition]int16) {
	all := func(code int16) {
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				codes[TopicPartition{t.Topic, p.Partition}] = code
			}
		}
	}
	if code := c.groupStatus(req.Group, true); code != 0 {
		all(code)
		return
	}
	g := c.groups[req.Group]
	if g == nil {
		if req.Generation >= 0 {
			all(kerr.IllegalGeneration.Code)
			return
		}
		// A simple consumer: Kafka only stores offsets for it.
		g = newGroup(req.Group, coordlog.PartitionFor(req.Group, c.cfg.NumPartitions), c.now)
		c.groups[req.Group] = g
	}
	switch {
	case g.state == Dead:
		all(kerr.CoordinatorNotAvailable.Code)
		return
	case g.fenced(req.MemberID, req.InstanceID):
		all(kerr.FencedInstanceID.Code)
		return
	case req.Generation < 0 && g.state == Empty:
	case g.members[req.MemberID] == nil:
		all(kerr.UnknownMemberID.Code)
		return
	case req.Generation != g.generation:
		all(kerr.IllegalGeneration.Code)
		return
	case g.state == CompletingRebalance:
		all(kerr.RebalanceInProgress.Code)
		return
	default:
		m := g.members[req.MemberID]
		c.scheduleHeartbeat(m, int64(m.sessionTimeout))
	}
	var expire int64 = -1
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis != -1 {
		expire = c.now + req.RetentionTimeMillis
	}
	var recs []coordlog.Record
	var tps []TopicPartition
	var vals []Offset
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := TopicPartition{t.Topic, p.Partition}
			o := Offset{Offset: p.Offset, LeaderEpoch: -1, CommitTimestamp: c.now, ExpireTimestamp: expire}
			if p.Metadata != nil {
				o.Metadata = *p.Metadata
			}
			if req.Version >= 6 {
				o.LeaderEpoch = p.LeaderEpoch
			}
			if req.Version == 1 && p.Timestamp != -1 {
				o.CommitTimestamp = p.Timestamp
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
	at, err := c.olog.Append(g.partition, coordlog.EncodeBatch(c.now, coordlog.Producer{}, recs))
	if err != nil {
		c.logger.Warn("offset commit append failed", "group", g.id, "err", err)
		for _, tp := range tps {
			codes[tp] = appendCode(err, true)
		}
		return
	}
	if g.state != Dead {
		for i, tp := range tps {
			vals[i].appendOffset = at
			g.offsets[tp] = vals[i]
		}
	}
}

// OffsetFetch handles an OffsetFetch request (v0..v7): listed partitions, or all of them when
// Topics is null (v2+). v0 reads ZooKeeper.
func (c *Coordinator) OffsetFetch(req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	part := func(p int32, o int64, epoch int32, md string, code int16) kmsg.OffsetFetchResponseTopicPartition {
		return kmsg.OffsetFetchResponseTopicPartition{Partition: p, Offset: o, LeaderEpoch: epoch, Metadata: &md, ErrorCode: code}
	}
	if req.Version == 0 {
		for _, t := range req.Topics {
			rt := kmsg.OffsetFetchResponseTopic{Topic: t.Topic}
			for _, p := range t.Partitions {
				r := part(p, -1, -1, "", 0)
				if c.zk == nil {
					r.ErrorCode = kerr.UnknownServerError.Code
				} else if off, ok, err := c.zk.GetConsumerOffset(req.Group, zkmeta.TopicPartition{Topic: t.Topic, Partition: p}); err != nil {
					c.logger.Warn("zk offset fetch failed", "group", req.Group, "err", err)
					r.ErrorCode = kerr.UnknownServerError.Code
				} else if ok {
					r.Offset = off
				} else {
					// Kafka 2.8's answer for no offset in ZooKeeper (OffsetFetchResponse.UNKNOWN_PARTITION).
					r.ErrorCode = kerr.UnknownTopicOrPartition.Code
				}
				rt.Partitions = append(rt.Partitions, r)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
	c.lock()
	defer c.unlock()
	if code := c.groupStatus(req.Group, true); code != 0 {
		resp.ErrorCode = code
		if req.Version < 2 {
			// No top-level error before v2: every requested partition carries it.
			for _, t := range req.Topics {
				rt := kmsg.OffsetFetchResponseTopic{Topic: t.Topic}
				for _, p := range t.Partitions {
					rt.Partitions = append(rt.Partitions, part(p, -1, -1, "", code))
				}
				resp.Topics = append(resp.Topics, rt)
			}
		}
		return resp
	}
	g := c.groups[req.Group]
	if g != nil && g.state == Dead {
		g = nil
	}
	if req.Topics == nil {
		if g == nil {
			return resp
		}
		byTopic := map[string][]TopicPartition{}
		var topics []string
		for tp := range g.offsets {
			if byTopic[tp.Topic] == nil {
				topics = append(topics, tp.Topic)
			}
			byTopic[tp.Topic] = append(byTopic[tp.Topic], tp)
		}
		sort.Strings(topics)
		for _, t := range topics {
			tps := byTopic[t]
			sort.Slice(tps, func(i, j int) bool { return tps[i].Partition < tps[j].Partition })
			rt := kmsg.OffsetFetchResponseTopic{Topic: t}
			for _, tp := range tps {
				o := g.offsets[tp]
				r := part(tp.Partition, o.Offset, o.LeaderEpoch, o.Metadata, 0)
				if req.RequireStable && g.hasPendingTxnOffset(tp) {
					r = part(tp.Partition, -1, -1, "", kerr.UnstableOffsetCommit.Code)
				}
				rt.Partitions = append(rt.Partitions, r)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp
	}
	for _, t := range req.Topics {
		rt := kmsg.OffsetFetchResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			r := part(p, -1, -1, "", 0)
			tp := TopicPartition{t.Topic, p}
			switch {
			case g == nil:
			case req.RequireStable && g.hasPendingTxnOffset(tp):
				// A read_committed consumer waits for the transaction that committed an offset here (KIP-447).
				r.ErrorCode = kerr.UnstableOffsetCommit.Code
			default:
				if o, ok := g.offsets[tp]; ok {
					r = part(p, o.Offset, o.LeaderEpoch, o.Metadata, 0)
				}
			}
			rt.Partitions = append(rt.Partitions, r)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// DescribeGroups handles a DescribeGroups request. Member metadata and assignments are shown
// only for Stable groups, as in Kafka.
func (c *Coordinator) DescribeGroups(req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		d := kmsg.NewDescribeGroupsResponseGroup()
		d.Group = id
		if code := c.groupStatus(id, true); code != 0 {
			d.ErrorCode = code
			resp.Groups = append(resp.Groups, d)
			continue
		}
		g := c.groups[id]
		if g == nil {
			d.State = Dead.String()
			resp.Groups = append(resp.Groups, d)
			continue
		}
		d.State = g.state.String()
		if g.protocolType != nil {
			d.ProtocolType = *g.protocolType
		}
		stable := g.state == Stable && g.protocol != nil
		if stable {
			d.Protocol = *g.protocol
		}
		for _, m := range g.allMembers() {
			dm := kmsg.DescribeGroupsResponseGroupMember{MemberID: m.id, InstanceID: m.instanceID, ClientID: m.clientID,
				ClientHost: m.clientHost, ProtocolMetadata: []byte{}, MemberAssignment: []byte{}}
			if stable {
				dm.ProtocolMetadata = m.metadata(*g.protocol)
				if m.assignment != nil {
					dm.MemberAssignment = m.assignment
				}
			}
			d.Members = append(d.Members, dm)
		}
		resp.Groups = append(resp.Groups, d)
	}
	return resp
}

// ListGroups handles a ListGroups request (v4 states filter included).
func (c *Coordinator) ListGroups(req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if !c.active {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	for _, g := range c.sortedGroups() {
		st := g.state.String()
		if len(req.StatesFilter) > 0 && !contains(req.StatesFilter, st) {
			continue
		}
		lg := kmsg.ListGroupsResponseGroup{Group: g.id, GroupState: st}
		if g.protocolType != nil {
			lg.ProtocolType = *g.protocolType
		}
		resp.Groups = append(resp.Groups, lg)
	}
	return resp
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// DeleteGroups handles a DeleteGroups request: only Empty groups go, with all their offsets.
func (c *Coordinator) DeleteGroups(req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		r := kmsg.DeleteGroupsResponseGroup{Group: id}
		if code := c.groupStatus(id, true); code != 0 {
			r.ErrorCode = code
		} else if g := c.groups[id]; g == nil || g.state == Dead {
			r.ErrorCode = kerr.GroupIDNotFound.Code
		} else if g.state != Empty {
			r.ErrorCode = kerr.NonEmptyGroup.Code
		} else if err := c.deleteGroup(g, true); err != nil {
			c.logger.Warn("group delete failed", "group", id, "err", err)
			r.ErrorCode = appendCode(err, false)
		}
		resp.Groups = append(resp.Groups, r)
	}
	return resp
}

// deleteGroup writes tombstones for the group's offsets (all, or the expired ones already removed
// by the caller) and for its metadata (if it ever had a generation), then forgets it.
func (c *Coordinator) deleteGroup(g *group, allOffsets bool) error {
	var recs []coordlog.Record
	if allOffsets {
		for _, tp := range sortedTPs(g.offsets) {
			recs = append(recs, coordlog.Record{Key: offsetKey(g.id, tp.Topic, tp.Partition)})
		}
	}
	if g.generation > 0 {
		recs = append(recs, coordlog.Record{Key: groupKey(g.id)})
	}
	if len(recs) > 0 {
		if _, err := c.olog.Append(g.partition, coordlog.EncodeBatch(c.now, coordlog.Producer{}, recs)); err != nil {
			return fmt.Errorf("delete group %q: %w", g.id, err)
		}
	}
	g.offsets = map[TopicPartition]Offset{}
	g.transition(Dead, c.now)
	delete(c.groups, g.id)
	return nil
}

func sortedTPs(m map[TopicPartition]Offset) []TopicPartition {
	out := make([]TopicPartition, 0, len(m))
	for tp := range m {
		out = append(out, tp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// cleanupExpired is GroupMetadataManager.cleanupGroupMetadata with removeExpiredOffsets.
func (c *Coordinator) cleanupExpired() {
	for _, g := range c.sortedGroups() {
		var base func(o Offset) int64
		var keep map[string]bool
		switch {
		case g.protocolType != nil && g.state == Empty:
			base = func(o Offset) int64 {
				if g.stateTS >= 0 {
					return g.stateTS
				}
				return o.CommitTimestamp
			}
		case g.protocolType != nil && *g.protocolType == "consumer" && g.subscribed != nil:
			base = func(o Offset) int64 { return o.CommitTimestamp }
			keep = g.subscribed
		case g.protocolType == nil:
			base = func(o Offset) int64 { return o.CommitTimestamp }
		}
		var recs []coordlog.Record
		if base != nil {
			for _, tp := range sortedTPs(g.offsets) {
				o := g.offsets[tp]
				if keep[tp.Topic] || g.hasPendingTxnOffset(tp) {
					continue
				}
				expired := c.now-base(o) >= c.cfg.OffsetsRetentionMs
				if o.ExpireTimestamp != -1 {
					expired = c.now >= o.ExpireTimestamp
				}
				if expired {
					recs = append(recs, coordlog.Record{Key: offsetKey(g.id, tp.Topic, tp.Partition)})
				}
			}
		}
		if len(recs) > 0 {
			if _, err := c.olog.Append(g.partition, coordlog.EncodeBatch(c.now, coordlog.Producer{}, recs)); err != nil {
				c.logger.Warn("offset expiration append failed", "group", g.id, "err", err)
				continue
			}
			for _, r := range recs {
				k, _, _ := decodeKey(r.Key)
				delete(g.offsets, TopicPartition{k.topic, k.partition})
			}
		}
		if g.state == Empty && len(g.offsets) == 0 {
			if err := c.deleteGroup(g, false); err != nil {
				c.logger.Warn("group expiration append failed", "group", g.id, "err", err)
			}
		}
	}
}

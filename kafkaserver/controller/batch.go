package controller

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// batch collects the requests of one state change round (ControllerBrokerRequestBatch). Contents are read from the
// context when built, so every request carries the state the writes just produced.
type batch struct {
	lai          map[int32]map[TopicPartition]bool // broker -> partition -> isNew
	umBrokers    map[int32]bool
	umPartitions map[TopicPartition]bool
	stop         map[int32]map[TopicPartition]bool // broker -> partition -> delete
}

func newBatch() *batch {
	return &batch{lai: map[int32]map[TopicPartition]bool{}, umBrokers: map[int32]bool{},
		umPartitions: map[TopicPartition]bool{}, stop: map[int32]map[TopicPartition]bool{}}
}

// addLeaderAndIsr queues the partition's state for the given (live) brokers and UpdateMetadata for all live
// brokers, as addLeaderAndIsrRequestForBrokers does.
func (c *Core) addLeaderAndIsr(brokers []int32, tp TopicPartition, isNew bool) {
	for _, b := range brokers {
		if !c.isLive(b) {
			continue
		}
		m := c.batch.lai[b]
		if m == nil {
			m = map[TopicPartition]bool{}
			c.batch.lai[b] = m
		}
		m[tp] = m[tp] || isNew
	}
	c.addUpdateMetadata(c.liveBrokerIDs(), []TopicPartition{tp})
}

func (c *Core) addUpdateMetadata(brokers []int32, tps []TopicPartition) {
	for _, b := range brokers {
		if c.isLive(b) {
			c.batch.umBrokers[b] = true
		}
	}
	for _, tp := range tps {
		c.batch.umPartitions[tp] = true
	}
}

func (c *Core) addStopReplica(b int32, tp TopicPartition, del bool) {
	if !c.isLive(b) {
		return
	}
	m := c.batch.stop[b]
	if m == nil {
		m = map[TopicPartition]bool{}
		c.batch.stop[b] = m
	}
	m[tp] = m[tp] || del
}

func securityProtocolID(p string) int16 {
	switch p {
	case "SSL":
		return 1
	case "SASL_PLAINTEXT":
		return 2
	case "SASL_SSL":
		return 3
	}
	return 0
}

// interBrokerEndpoint picks the endpoint other brokers use to reach b.
func (c *Core) interBrokerEndpoint(b zkmeta.BrokerInfo) (zkmeta.EndPoint, bool) {
	if len(b.Endpoints) == 0 {
		return zkmeta.EndPoint{}, false
	}
	for _, e := range b.Endpoints {
		if c.cfg.InterBrokerListener != "" && e.Listener == c.cfg.InterBrokerListener {
			return e, true
		}
	}
	for _, e := range b.Endpoints {
		if c.cfg.InterBrokerListener == "" && e.SecurityProtocol == "PLAINTEXT" {
			return e, true
		}
	}
	return b.Endpoints[0], true
}

func groupByTopic(tps []TopicPartition) ([]string, map[string][]TopicPartition) {
	by := map[string][]TopicPartition{}
	var topics []string
	for _, tp := range tps {
		if _, ok := by[tp.Topic]; !ok {
			topics = append(topics, tp.Topic)
		}
		by[tp.Topic] = append(by[tp.Topic], tp)
	}
	sort.Strings(topics)
	return topics, by
}

func (c *Core) topicID(topic string) [16]byte {
	if ti, ok := c.topics[topic]; ok {
		return ti.id
	}
	return zkmeta.ZeroUuid
}

func (b *batch) build(c *Core) []Request {
	var reqs []Request
	for _, broker := range sortedKeys(b.lai) {
		bi, ok := c.live[broker]
		if !ok {
			continue
		}
		var tps []TopicPartition
		for tp := range b.lai[broker] {
			if _, ok := c.states[tp]; ok {
				tps = append(tps, tp)
			}
		}
		if len(tps) == 0 {
			continue
		}
		sortTPs(tps)
		req := kmsg.NewPtrLeaderAndISRRequest()
		req.Version = LeaderAndIsrVersion
		req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = c.cfg.BrokerID, c.epoch, bi.Epoch
		leaders := map[int32]bool{}
		topics, by := groupByTopic(tps)
		for _, t := range topics {
			ts := kmsg.NewLeaderAndISRRequestTopicState()
			ts.Topic, ts.TopicID = t, c.topicID(t)
			for _, tp := range by[t] {
				st := c.states[tp]
				ra := c.topics[t].parts[tp.Partition]
				ps := kmsg.NewLeaderAndISRRequestTopicPartition()
				ps.Topic, ps.Partition = t, tp.Partition
				ps.ControllerEpoch, ps.Leader, ps.LeaderEpoch = st.ControllerEpoch, st.Leader, st.LeaderEpoch
				ps.ISR, ps.ZKVersion = append([]int32{}, st.ISR...), st.ZkVersion
				ps.Replicas = append([]int32{}, ra.Replicas...)
				ps.AddingReplicas = append([]int32{}, ra.Adding...)
				ps.RemovingReplicas = append([]int32{}, ra.Removing...)
				ps.IsNew = b.lai[broker][tp]
				ts.PartitionStates = append(ts.PartitionStates, ps)
				if st.Leader >= 0 {
					leaders[st.Leader] = true
				}
			}
			req.TopicStates = append(req.TopicStates, ts)
		}
		for _, l := range sortedKeys(leaders) {
			lb, ok := c.live[l]
			if !ok {
				continue
			}
			if ep, ok := c.interBrokerEndpoint(lb); ok {
				ll := kmsg.NewLeaderAndISRRequestLiveLeader()
				ll.BrokerID, ll.Host, ll.Port = l, ep.Host, ep.Port
				req.LiveLeaders = append(req.LiveLeaders, ll)
			}
		}
		reqs = append(reqs, Request{Broker: broker, Msg: req})
	}
	if len(b.umBrokers) > 0 {
		var tps []TopicPartition
		for tp := range b.umPartitions {
			if _, ok := c.states[tp]; ok && c.topics[tp.Topic] != nil {
				tps = append(tps, tp)
			}
		}
		sortTPs(tps)
		for _, broker := range sortedKeys(b.umBrokers) {
			if bi, ok := c.live[broker]; ok {
				reqs = append(reqs, Request{Broker: broker, Msg: c.updateMetadata(bi, tps)})
			}
		}
	}
	for _, broker := range sortedKeys(b.stop) {
		bi, ok := c.live[broker]
		if !ok {
			continue
		}
		var tps []TopicPartition
		for tp := range b.stop[broker] {
			tps = append(tps, tp)
		}
		sortTPs(tps)
		req := kmsg.NewPtrStopReplicaRequest()
		req.Version = StopReplicaVersion
		req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = c.cfg.BrokerID, c.epoch, bi.Epoch
		topics, by := groupByTopic(tps)
		for _, t := range topics {
			st := kmsg.NewStopReplicaRequestTopic()
			st.Topic = t
			for _, tp := range by[t] {
				ps := kmsg.NewStopReplicaRequestTopicPartitionState()
				ps.Partition, ps.Delete = tp.Partition, b.stop[broker][tp]
				ps.LeaderEpoch = EpochDuringDelete
				if !c.Deleting(t) {
					if s, ok := c.states[tp]; ok {
						ps.LeaderEpoch = s.LeaderEpoch
					}
				}
				st.PartitionStates = append(st.PartitionStates, ps)
			}
			req.Topics = append(req.Topics, st)
		}
		reqs = append(reqs, Request{Broker: broker, Msg: req})
	}
	return reqs
}

func (c *Core) updateMetadata(target zkmeta.BrokerInfo, tps []TopicPartition) *kmsg.UpdateMetadataRequest {
	req := kmsg.NewPtrUpdateMetadataRequest()
	req.Version = UpdateMetadataVersion
	req.ControllerID, req.ControllerEpoch, req.BrokerEpoch = c.cfg.BrokerID, c.epoch, target.Epoch
	topics, by := groupByTopic(tps)
	for _, t := range topics {
		ts := kmsg.NewUpdateMetadataRequestTopicState()
		ts.Topic, ts.TopicID = t, c.topicID(t)
		for _, tp := range by[t] {
			st := c.states[tp]
			reps := c.replicas(tp)
			ps := kmsg.NewUpdateMetadataRequestTopicPartition()
			ps.Topic, ps.Partition = t, tp.Partition
			ps.ControllerEpoch, ps.Leader, ps.LeaderEpoch = st.ControllerEpoch, st.Leader, st.LeaderEpoch
			if c.Deleting(t) {
				// Tells brokers to drop the topic from their metadata caches.
				ps.Leader = LeaderDuringDelete
			}
			ps.ISR, ps.ZKVersion = append([]int32{}, st.ISR...), st.ZkVersion
			ps.Replicas = append([]int32{}, reps...)
			ps.OfflineReplicas = []int32{}
			for _, r := range reps {
				if !c.isLive(r) {
					ps.OfflineReplicas = append(ps.OfflineReplicas, r)
				}
			}
			ts.PartitionStates = append(ts.PartitionStates, ps)
		}
		req.TopicStates = append(req.TopicStates, ts)
	}
	for _, id := range c.liveBrokerIDs() {
		bi := c.live[id]
		lb := kmsg.NewUpdateMetadataRequestLiveBroker()
		lb.ID = id
		for _, e := range bi.Endpoints {
			ep := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
			ep.Host, ep.Port, ep.ListenerName = e.Host, e.Port, e.Listener
			ep.SecurityProtocol = securityProtocolID(e.SecurityProtocol)
			lb.Endpoints = append(lb.Endpoints, ep)
		}
		if bi.Rack != "" {
			r := bi.Rack
			lb.Rack = &r
		}
		req.LiveBrokers = append(req.LiveBrokers, lb)
	}
	return req
}

// DropPartitions removes the given partitions from LeaderAndIsr and UpdateMetadata requests (requests left empty
// are dropped, except UpdateMetadata, which also carries live brokers). The runtime uses it when a state write lost
// a race: brokers must not learn a state ZooKeeper does not hold.
func DropPartitions(reqs []Request, drop map[TopicPartition]bool) []Request {
	if len(drop) == 0 {
		return reqs
	}
	out := reqs[:0:0]
	for _, r := range reqs {
		switch m := r.Msg.(type) {
		case *kmsg.LeaderAndISRRequest:
			var topics []kmsg.LeaderAndISRRequestTopicState
			for _, ts := range m.TopicStates {
				var ps []kmsg.LeaderAndISRRequestTopicPartition
				for _, p := range ts.PartitionStates {
					if !drop[TopicPartition{Topic: ts.Topic, Partition: p.Partition}] {
						ps = append(ps, p)
					}
				}
				if len(ps) > 0 {
					ts.PartitionStates = ps
					topics = append(topics, ts)
				}
			}
			if len(topics) == 0 {
				continue
			}
			m.TopicStates = topics
		case *kmsg.UpdateMetadataRequest:
			var topics []kmsg.UpdateMetadataRequestTopicState
			for _, ts := range m.TopicStates {
				var ps []kmsg.UpdateMetadataRequestTopicPartition
				for _, p := range ts.PartitionStates {
					if !drop[TopicPartition{Topic: ts.Topic, Partition: p.Partition}] {
						ps = append(ps, p)
					}
				}
				if len(ps) > 0 {
					ts.PartitionStates = ps
					topics = append(topics, ts)
				}
			}
			m.TopicStates = topics
		}
		out = append(out, r)
	}
	return out
}

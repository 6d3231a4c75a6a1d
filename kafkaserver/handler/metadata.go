package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// Authorized-operation bit sets reported when no authorizer is configured (every supported operation allowed,
// AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
// DESCRIBE_CONFIGS 10, IDEMPOTENT_WRITE 11, ALTER_CONFIGS 12).
const (
	topicOperations   int32 = 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<12
	clusterOperations int32 = 1<<5 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12
	noOperations      int32 = -2147483648
)

// metadata is KafkaApis.handleTopicMetadataRequest: live brokers and partitions from the metadata cache, and
// auto-creation of unknown topics when both the request and auto.create.topics.enable allow it.
func (h *Handlers) metadata(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.MetadataRequest)
	if !ok {
		return nil, fmt.Errorf("metadata: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	resp.Version = req.Version
	listener := rc.Conn.ListenerName()

	for _, b := range h.cache.AliveBrokers() {
		ep, ok := b.Endpoint(listener)
		if !ok {
			continue
		}
		rb := kmsg.NewMetadataResponseBroker()
		rb.NodeID, rb.Host, rb.Port, rb.Rack = b.ID, ep.Host, ep.Port, b.Rack
		resp.Brokers = append(resp.Brokers, rb)
	}
	cid := h.cfg.ClusterID
	resp.ClusterID = &cid
	resp.ControllerID = h.cache.ControllerID()
	if req.Version >= 8 && req.Version <= 10 && req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = clusterOperations
	}

	allTopics := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	var names []string
	var byID []kmsg.MetadataRequestTopic
	if allTopics {
		names = h.cache.Topics()
	} else {
		seen := map[string]bool{}
		for _, t := range req.Topics {
			if t.Topic == nil {
				byID = append(byID, t)
				continue
			}
			// Kafka takes the requested names as a set: a topic asked twice is answered once.
			if !seen[*t.Topic] {
				seen[*t.Topic] = true
				names = append(names, *t.Topic)
			}
		}
	}
	autoCreate := h.props.AutoCreateTopicsEnable && (req.Version < 4 || req.AllowAutoTopicCreation)
	for _, name := range names {
		resp.Topics = append(resp.Topics, h.topicMetadata(req, name, listener, !allTopics && autoCreate))
	}
	for _, t := range byID {
		rt := kmsg.NewMetadataResponseTopic()
		rt.TopicID = t.TopicID
		rt.ErrorCode = kerr.UnknownTopicID.Code
		for _, n := range h.cache.Topics() {
			if tm, ok := h.cache.Topic(n); ok && tm.ID == t.TopicID {
				rt = h.topicMetadata(req, n, listener, false)
			}
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

func (h *Handlers) topicMetadata(req *kmsg.MetadataRequest, name, listener string, autoCreate bool) kmsg.MetadataResponseTopic {
	rt := kmsg.NewMetadataResponseTopic()
	n := name
	rt.Topic = &n
	rt.IsInternal = replica.IsInternal(name)
	if req.Version >= 8 && req.IncludeTopicAuthorizedOperations {
		rt.AuthorizedOperations = topicOperations
	} else {
		rt.AuthorizedOperations = noOperations
	}
	tm, ok := h.cache.Topic(name)
	if !ok {
		rt.ErrorCode = h.autoCreateError(name, autoCreate)
		return rt
	}
	rt.TopicID = tm.ID
	for _, pm := range tm.SortedPartitions() {
		rp := kmsg.NewMetadataResponseTopicPartition()
		rp.Partition, rp.LeaderEpoch = pm.Partition, pm.LeaderEpoch
		rp.Replicas, rp.ISR, rp.OfflineReplicas = pm.Replicas, pm.ISR, pm.OfflineReplicas
		if rp.OfflineReplicas == nil {
			rp.OfflineReplicas = []int32{}
		}
		// v0 clients cannot cope with replicas they cannot reach: list only those with the listener.
		if req.Version == 0 {
			rp.Replicas, rp.ISR = h.withListener(pm.Replicas, listener), h.withListener(pm.ISR, listener)
		}
		leader, alive := h.cache.Broker(pm.Leader)
		_, hasListener := leader.Endpoint(listener)
		switch {
		case !alive:
			rp.ErrorCode, rp.Leader = kerr.LeaderNotAvailable.Code, -1
		case !hasListener:
			rp.Leader = -1
			rp.ErrorCode = kerr.LeaderNotAvailable.Code
			if req.Version >= 6 {
				rp.ErrorCode = kerr.ListenerNotFound.Code
			}
		default:
			rp.Leader = pm.Leader
			if len(rp.Replicas) < len(pm.Replicas) || len(rp.ISR) < len(pm.ISR) {
				rp.ErrorCode = kerr.ReplicaNotAvailable.Code
			}
		}
		rt.Partitions = append(rt.Partitions, rp)
	}
	return rt
}

func (h *Handlers) withListener(ids []int32, listener string) []int32 {
	out := []int32{}
	for _, id := range ids {
		if b, ok := h.cache.Broker(id); ok {
			if _, ok := b.Endpoint(listener); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// describeCluster is KafkaApis.handleDescribeCluster (KIP-700, new in 2.8).
func (h *Handlers) describeCluster(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeClusterRequest)
	if !ok {
		return nil, fmt.Errorf("describeCluster: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.Version = req.Version
	resp.ClusterID = h.cfg.ClusterID
	resp.ControllerID = h.cache.ControllerID()
	resp.ClusterAuthorizedOperations = noOperations
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = clusterOperations
	}
	listener := rc.Conn.ListenerName()
	for _, b := range h.cache.AliveBrokers() {
		ep, ok := b.Endpoint(listener)
		if !ok {
			continue
		}
		rb := kmsg.NewDescribeClusterResponseBroker()
		rb.NodeID, rb.Host, rb.Port, rb.Rack = b.ID, ep.Host, ep.Port, b.Rack
		resp.Brokers = append(resp.Brokers, rb)
	}
	return resp, nil
}

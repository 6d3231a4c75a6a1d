package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// noOperations is the authorized-operations fields' default (Integer.MIN_VALUE): not asked for.
const noOperations int32 = -2147483648

// metadata is KafkaApis.handleTopicMetadataRequest: live brokers and partitions from the metadata cache, and
// auto-creation of unknown topics when both the request and auto.create.topics.enable allow it. Topics need
// DESCRIBE (those refused are TOPIC_AUTHORIZATION_FAILED, or left out of an all-topics listing), and a topic to
// auto-create CREATE on the cluster or on itself.
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
		resp.AuthorizedOperations = h.clusterAuthorizedOperations(rc)
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
	// An all-topics listing drops the topics it may not describe without a word (nor a logged denial).
	allowed := h.authorizedNames(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, names, !allTopics)
	names, noDescribe := splitAuthorized(names, allowed, func(n string) string { return n })
	var noCreate []string
	if autoCreate {
		names, noCreate = h.authorizeAutoCreate(rc, names)
	}
	for _, name := range names {
		resp.Topics = append(resp.Topics, h.topicMetadata(rc, req, name, listener, !allTopics && autoCreate))
	}
	for _, name := range noCreate {
		resp.Topics = append(resp.Topics, refusedTopicMetadata(name, replica.IsInternal(name)))
	}
	if !allTopics {
		for _, name := range noDescribe {
			resp.Topics = append(resp.Topics, refusedTopicMetadata(name, false))
		}
	}
	for _, t := range byID {
		resp.Topics = append(resp.Topics, h.topicMetadataByID(rc, req, t, listener))
	}
	return resp, nil
}

// authorizeAutoCreate splits the topics missing from the cache that the principal may not create (neither CREATE
// on the cluster nor on the topic) from names, as handleTopicMetadataRequest does before auto-creating.
func (h *Handlers) authorizeAutoCreate(rc *kwire.RequestContext, names []string) (ok, refused []string) {
	var missing []string
	for _, n := range names {
		if _, exists := h.cache.Topic(n); !exists {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 ||
		h.authorizeQuietly(rc, kmsg.ACLOperationCreate, kmsg.ACLResourceTypeCluster, acl.ClusterName) {
		return names, nil
	}
	creatable := h.authorizedNames(rc, kmsg.ACLOperationCreate, kmsg.ACLResourceTypeTopic, missing, true)
	for _, n := range names {
		if _, exists := h.cache.Topic(n); exists || creatable[n] {
			ok = append(ok, n)
		} else {
			refused = append(refused, n)
		}
	}
	return ok, refused
}

// refusedTopicMetadata is a topic answered TOPIC_AUTHORIZATION_FAILED, without partitions.
func refusedTopicMetadata(name string, internal bool) kmsg.MetadataResponseTopic {
	rt := kmsg.NewMetadataResponseTopic()
	rt.Topic = kmsg.StringPtr(name)
	rt.ErrorCode, rt.IsInternal = kerr.TopicAuthorizationFailed.Code, internal
	return rt
}

// topicMetadataByID answers a topic asked by id (Metadata v10+; Kafka 2.8 refuses these requests): UNKNOWN_TOPIC_ID
// when no topic has it, or when the principal may not describe the one that does, which hides its existence.
func (h *Handlers) topicMetadataByID(rc *kwire.RequestContext, req *kmsg.MetadataRequest, t kmsg.MetadataRequestTopic,
	listener string) kmsg.MetadataResponseTopic {
	rt := kmsg.NewMetadataResponseTopic()
	rt.TopicID = t.TopicID
	rt.ErrorCode = kerr.UnknownTopicID.Code
	for _, n := range h.cache.Topics() {
		if tm, ok := h.cache.Topic(n); ok && tm.ID == t.TopicID &&
			h.authorize(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, n) {
			rt = h.topicMetadata(rc, req, n, listener, false)
		}
	}
	return rt
}

// clusterAuthorizedOperations is the cluster's authorized-operations field of Metadata v8-10 and DescribeCluster:
// 0 without DESCRIBE on the cluster.
func (h *Handlers) clusterAuthorizedOperations(rc *kwire.RequestContext) int32 {
	if !h.authorizeCluster(rc, kmsg.ACLOperationDescribe) {
		return 0
	}
	return h.authorizedOperations(rc, kmsg.ACLResourceTypeCluster, acl.ClusterName)
}

func (h *Handlers) topicMetadata(rc *kwire.RequestContext, req *kmsg.MetadataRequest, name, listener string,
	autoCreate bool) kmsg.MetadataResponseTopic {
	rt := kmsg.NewMetadataResponseTopic()
	n := name
	rt.Topic = &n
	rt.IsInternal = replica.IsInternal(name)
	if req.Version >= 8 && req.IncludeTopicAuthorizedOperations {
		rt.AuthorizedOperations = h.authorizedOperations(rc, kmsg.ACLResourceTypeTopic, name)
	} else {
		rt.AuthorizedOperations = noOperations
	}
	tm, ok := h.cache.Topic(name)
	if !ok {
		rt.ErrorCode = h.autoCreateError(rc, name, autoCreate)
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
		resp.ClusterAuthorizedOperations = h.clusterAuthorizedOperations(rc)
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

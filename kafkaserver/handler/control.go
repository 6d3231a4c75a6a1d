package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kwire"
)

// The controller's requests (LeaderAndIsr, StopReplica, UpdateMetadata) from a controller in another broker. The
// controller in this broker calls the replica manager directly instead. Each needs CLUSTER_ACTION: KafkaApis'
// authorizeClusterOperation throws, and the request's error response goes back.

func (h *Handlers) leaderAndIsr(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.LeaderAndISRRequest)
	if !ok {
		return nil, fmt.Errorf("leaderAndIsr: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationClusterAction) {
		return leaderAndIsrRefused(req, kerr.ClusterAuthorizationFailed.Code), nil
	}
	return h.rm.BecomeLeaderOrFollower(req), nil
}

// leaderAndIsrRefused is LeaderAndIsrRequest.getErrorResponse: the error, and on every partition (by name before
// v5, under each topic's id from v5).
func leaderAndIsrRefused(req *kmsg.LeaderAndISRRequest, code int16) *kmsg.LeaderAndISRResponse {
	resp := req.ResponseKind().(*kmsg.LeaderAndISRResponse)
	resp.Version = req.Version
	resp.ErrorCode = code
	partition := func(topic string, p int32) kmsg.LeaderAndISRResponseTopicPartition {
		rp := kmsg.NewLeaderAndISRResponseTopicPartition()
		rp.Topic, rp.Partition, rp.ErrorCode = topic, p, code
		return rp
	}
	if req.Version < 2 {
		for _, ps := range req.PartitionStates {
			resp.Partitions = append(resp.Partitions, partition(ps.Topic, ps.Partition))
		}
		return resp
	}
	for _, ts := range req.TopicStates {
		if req.Version < 5 {
			for _, ps := range ts.PartitionStates {
				resp.Partitions = append(resp.Partitions, partition(ts.Topic, ps.Partition))
			}
			continue
		}
		rt := kmsg.NewLeaderAndISRResponseTopic()
		rt.TopicID = ts.TopicID
		for _, ps := range ts.PartitionStates {
			rt.Partitions = append(rt.Partitions, partition(ts.Topic, ps.Partition))
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (h *Handlers) stopReplica(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.StopReplicaRequest)
	if !ok {
		return nil, fmt.Errorf("stopReplica: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationClusterAction) {
		return stopReplicaRefused(req, kerr.ClusterAuthorizationFailed.Code), nil
	}
	return h.rm.StopReplicas(req), nil
}

// stopReplicaRefused is StopReplicaRequest.getErrorResponse: the error, and on every partition.
func stopReplicaRefused(req *kmsg.StopReplicaRequest, code int16) *kmsg.StopReplicaResponse {
	resp := req.ResponseKind().(*kmsg.StopReplicaResponse)
	resp.Version = req.Version
	resp.ErrorCode = code
	add := func(topic string, p int32) {
		rp := kmsg.NewStopReplicaResponsePartition()
		rp.Topic, rp.Partition, rp.ErrorCode = topic, p, code
		resp.Partitions = append(resp.Partitions, rp)
	}
	for _, t := range req.Topics {
		switch {
		case req.Version == 0:
			add(t.Topic, t.Partition)
		case req.Version <= 2:
			for _, p := range t.Partitions {
				add(t.Topic, p)
			}
		default:
			for _, ps := range t.PartitionStates {
				add(t.Topic, ps.Partition)
			}
		}
	}
	return resp
}

func (h *Handlers) updateMetadata(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.UpdateMetadataRequest)
	if !ok {
		return nil, fmt.Errorf("updateMetadata: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationClusterAction) {
		resp := req.ResponseKind().(*kmsg.UpdateMetadataResponse)
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	return h.rm.UpdateMetadata(req), nil
}

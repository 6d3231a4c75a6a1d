package handler

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/controller"
	"github.com/zkafka/zkafka/kwire"
)

// The controller's admin APIs: ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments. The
// controller answers them; a broker that is not the controller says NOT_CONTROLLER.

func (h *Handlers) registerControllerAdmin(mux *kwire.Mux) {
	if h.cfg.Controller == nil {
		return
	}
	mux.Handle(kmsg.ElectLeaders.Int16(), 0, 2, h.electLeaders)
	mux.Handle(kmsg.AlterPartitionAssignments.Int16(), 0, 0, h.alterPartitionReassignments)
	mux.Handle(kmsg.ListPartitionReassignments.Int16(), 0, 0, h.listPartitionReassignments)
}

// alterPartitionReassignments is handleAlterPartitionReassignmentsRequest: ALTER on the cluster, then the controller.
func (h *Handlers) alterPartitionReassignments(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.AlterPartitionAssignmentsRequest)
	if !ok {
		return nil, fmt.Errorf("alterPartitionReassignments: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationAlter) {
		return alterReassignmentsRefused(req, kerr.ClusterAuthorizationFailed.Code, notAuthorizedMessage), nil
	}
	resp, err := h.cfg.Controller.AlterPartitionReassignments(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("alter partition reassignments: %w", err)
	}
	return resp, nil
}

// alterReassignmentsRefused is AlterPartitionReassignmentsRequest.getErrorResponse: the error and message at the top
// and on every partition.
func alterReassignmentsRefused(req *kmsg.AlterPartitionAssignmentsRequest, code int16,
	msg string) *kmsg.AlterPartitionAssignmentsResponse {
	resp := req.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	resp.Version = req.Version
	resp.ErrorCode, resp.ErrorMessage = code, kmsg.StringPtr(msg)
	for _, t := range req.Topics {
		rt := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.ErrorMessage = p.Partition, code, kmsg.StringPtr(msg)
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// listPartitionReassignments is handleListPartitionReassignmentsRequest: DESCRIBE on the cluster, then the
// controller.
func (h *Handlers) listPartitionReassignments(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.ListPartitionReassignmentsRequest)
	if !ok {
		return nil, fmt.Errorf("listPartitionReassignments: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationDescribe) {
		return listReassignmentsRefused(req, kerr.ClusterAuthorizationFailed.Code, notAuthorizedMessage), nil
	}
	resp, err := h.cfg.Controller.ListPartitionReassignments(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("list partition reassignments: %w", err)
	}
	return resp, nil
}

// listReassignmentsRefused is ListPartitionReassignmentsRequest.getErrorResponse: the error and message, and the
// requested partitions without replicas.
func listReassignmentsRefused(req *kmsg.ListPartitionReassignmentsRequest, code int16,
	msg string) *kmsg.ListPartitionReassignmentsResponse {
	resp := req.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	resp.Version = req.Version
	resp.ErrorCode, resp.ErrorMessage = code, kmsg.StringPtr(msg)
	for _, t := range req.Topics {
		rt := kmsg.NewListPartitionReassignmentsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
			rp.Partition = p
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// electLeaders is handleElectReplicaLeader plus ReplicaManager.electLeaders, with ALTER on the cluster: null topics
// means every partition this broker knows; elected partitions are answered once this broker's metadata shows the
// new leader, or with REQUEST_TIMED_OUT after the request's timeout (DelayedElectLeader).
func (h *Handlers) electLeaders(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.ElectLeadersRequest)
	if !ok {
		return nil, fmt.Errorf("electLeaders: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationAlter) {
		return electLeadersRefused(req, kerr.ClusterAuthorizationFailed.Code), nil
	}
	var tps []controller.TopicPartition
	if req.Topics == nil {
		for _, t := range h.cache.Topics() {
			tm, ok := h.cache.Topic(t)
			if !ok {
				continue
			}
			for _, p := range tm.SortedPartitions() {
				tps = append(tps, controller.TopicPartition{Topic: t, Partition: p.Partition})
			}
		}
	} else {
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				tps = append(tps, controller.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	}
	results, err := h.cfg.Controller.ElectLeaders(ctx, tps, req.Version >= 1 && req.ElectionType == 1)
	if err != nil {
		return nil, fmt.Errorf("elect leaders: %w", err)
	}
	rc.LocalComplete()
	h.awaitLeaders(ctx, results, time.Duration(req.TimeoutMillis)*time.Millisecond)

	resp := kmsg.NewPtrElectLeadersResponse()
	resp.Version = req.Version
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i].TP, results[j].TP
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	for _, res := range results {
		// Elections over all partitions leave out the ones that needed none.
		if req.Topics == nil && res.ErrorCode == kerr.ElectionNotNeeded.Code {
			continue
		}
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != res.TP.Topic {
			t := kmsg.NewElectLeadersResponseTopic()
			t.Topic = res.TP.Topic
			resp.Topics = append(resp.Topics, t)
		}
		p := kmsg.NewElectLeadersResponseTopicPartition()
		p.Partition, p.ErrorCode, p.ErrorMessage = res.TP.Partition, res.ErrorCode, res.Message
		t := &resp.Topics[len(resp.Topics)-1]
		t.Partitions = append(t.Partitions, p)
	}
	return resp, nil
}

// awaitLeaders waits until the metadata cache shows each elected leader; the ones still missing at the deadline
// become REQUEST_TIMED_OUT.
func (h *Handlers) awaitLeaders(ctx context.Context, results []controller.ElectionResult, timeout time.Duration) {
	timer := time.NewTimer(max(timeout, 0))
	defer timer.Stop()
	for {
		changed := h.cache.Changed()
		waiting := 0
		for i := range results {
			res := &results[i]
			if res.ErrorCode != 0 || res.Leader < 0 {
				continue
			}
			if tm, ok := h.cache.Topic(res.TP.Topic); ok {
				if pm, ok := tm.Partitions[res.TP.Partition]; ok && pm.Leader == res.Leader {
					res.Leader = -1 // done
					continue
				}
			}
			waiting++
		}
		if waiting == 0 {
			return
		}
		select {
		case <-changed:
			continue
		case <-ctx.Done():
		case <-timer.C:
		}
		for i := range results {
			if res := &results[i]; res.ErrorCode == 0 && res.Leader >= 0 {
				res.ErrorCode = kerr.RequestTimedOut.Code
			}
		}
		return
	}
}

// electLeadersRefused is handleElectReplicaLeader's answer without ALTER on the cluster: the error (v1+) and on each
// requested partition, without a message; none for null topics.
func electLeadersRefused(req *kmsg.ElectLeadersRequest, code int16) *kmsg.ElectLeadersResponse {
	resp := kmsg.NewPtrElectLeadersResponse()
	resp.Version = req.Version
	if req.Version >= 1 {
		resp.ErrorCode = code
	}
	// Kafka takes the partitions as a set and answers them grouped by topic.
	seen := map[controller.TopicPartition]bool{}
	topicIdx := map[string]int{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := controller.TopicPartition{Topic: t.Topic, Partition: p}
			if seen[tp] {
				continue
			}
			seen[tp] = true
			i, ok := topicIdx[t.Topic]
			if !ok {
				rt := kmsg.NewElectLeadersResponseTopic()
				rt.Topic = t.Topic
				resp.Topics = append(resp.Topics, rt)
				i = len(resp.Topics) - 1
				topicIdx[t.Topic] = i
			}
			rp := kmsg.NewElectLeadersResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p, code
			resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
		}
	}
	return resp
}

// activeController is KafkaController.isActive: this broker won the controller election. CreateTopics,
// DeleteTopics and CreatePartitions are answered by the controller only.
func (h *Handlers) activeController() bool {
	if h.cfg.Controller != nil {
		ok, _ := h.cfg.Controller.Active()
		return ok
	}
	return h.cache.ControllerID() == h.cfg.BrokerID
}

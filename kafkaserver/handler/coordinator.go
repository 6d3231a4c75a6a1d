package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// javaStringHash is String.hashCode over the UTF-16 code units of s.
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// partitionFor is GroupMetadataManager.partitionFor: Utils.abs(key.hashCode) % partitions.
func partitionFor(key string, partitions int32) int32 {
	h := javaStringHash(key)
	if h == -2147483648 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}

// findCoordinator is KafkaApis.handleFindCoordinatorRequest: the group coordinator is the leader of the group's
// __consumer_offsets partition, created on first use. TODO(kafkaserver/group): forward the group APIs to the group
// coordinator once it exists; transaction coordinators need __transaction_state and producer ids.
func (h *Handlers) findCoordinator(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.FindCoordinatorRequest)
	if !ok {
		return nil, fmt.Errorf("findCoordinator: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	resp.Version = req.Version
	resp.NodeID, resp.Port = -1, -1
	fail := func(e *kerr.Error) (kmsg.Response, error) {
		resp.ErrorCode = e.Code
		if req.Version >= 1 {
			msg := e.Message
			resp.ErrorMessage = &msg
		}
		return resp, nil
	}
	var topic string
	var parts int32
	switch req.CoordinatorType {
	case 0:
		topic, parts = replica.GroupMetadataTopic, h.props.OffsetsTopicPartitions
	case 1:
		topic, parts = replica.TransactionStateTopic, h.props.TransactionStateLogPartitions
	default:
		return fail(kerr.InvalidRequest)
	}
	tm, ok := h.cache.Topic(topic)
	if !ok {
		h.ensureInternalTopic(topic)
		return fail(kerr.CoordinatorNotAvailable)
	}
	pm, ok := tm.Partitions[partitionFor(req.CoordinatorKey, parts)]
	if !ok {
		return fail(kerr.CoordinatorNotAvailable)
	}
	b, ok := h.cache.Broker(pm.Leader)
	ep, hasEP := b.Endpoint(rc.Conn.ListenerName())
	if !ok || !hasEP {
		return fail(kerr.CoordinatorNotAvailable)
	}
	resp.NodeID, resp.Host, resp.Port = b.ID, ep.Host, ep.Port
	if req.Version >= 1 {
		msg := "NONE"
		resp.ErrorMessage = &msg
	}
	return resp, nil
}

package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// findCoordinator is KafkaApis.handleFindCoordinatorRequest: the group coordinator is the leader of the group's
// __consumer_offsets partition, the transaction coordinator the leader of the transactional id's
// __transaction_state partition; the topic is created on first use.
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
	if e := h.coordinatorKeyDenied(rc, req); e != nil {
		// FindCoordinatorResponse.prepareResponse: the error with Kafka's message, no node.
		resp.ErrorCode = e.Code
		if req.Version >= 1 {
			resp.ErrorMessage = authFailedMessage(e)
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
		h.ensureInternalTopic(rc, topic)
		return fail(kerr.CoordinatorNotAvailable)
	}
	pm, ok := tm.Partitions[coordlog.PartitionFor(req.CoordinatorKey, parts)]
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

// coordinatorKeyDenied is handleFindCoordinatorRequest's check, before anything else: DESCRIBE on the group or on
// the transactional id.
func (h *Handlers) coordinatorKeyDenied(rc *kwire.RequestContext, req *kmsg.FindCoordinatorRequest) *kerr.Error {
	switch req.CoordinatorType {
	case 0:
		if !h.authorize(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeGroup, req.CoordinatorKey) {
			return kerr.GroupAuthorizationFailed
		}
	case 1:
		if !h.authorize(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTransactionalId, req.CoordinatorKey) {
			return kerr.TransactionalIDAuthorizationFailed
		}
	}
	return nil
}

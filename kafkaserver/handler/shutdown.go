package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kwire"
)

func (h *Handlers) registerControlledShutdown(mux *kwire.Mux) {
	if h.cfg.Controller == nil {
		return
	}
	mux.Handle(kmsg.ControlledShutdown.Int16(), 0, 3, h.controlledShutdown)
	mux.Handle(kmsg.AlterPartition.Int16(), 0, 0, h.alterIsr)
}

// alterIsr is KafkaApis.handleAlterIsrRequest (AlterIsr v0, Kafka 2.8's only version), with CLUSTER_ACTION: a
// partition leader's ISR change, applied by the controller in this broker; any other broker answers NOT_CONTROLLER.
func (h *Handlers) alterIsr(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.AlterPartitionRequest)
	if !ok {
		return nil, fmt.Errorf("alterIsr: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationClusterAction) {
		// AlterIsrRequest.getErrorResponse: the top-level error.
		resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	resp, err := h.cfg.Controller.AlterIsr(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("AlterIsr from broker %d: %w", req.BrokerID, err)
	}
	return resp, nil
}

// controlledShutdown is KafkaApis.handleControlledShutdownRequest, with CLUSTER_ACTION: the controller in this
// broker moves leadership away from the broker and answers with the partitions it still leads; any other broker
// answers NOT_CONTROLLER, and a request from an older registration of the broker STALE_BROKER_EPOCH (v2+ carry the
// epoch; older versions leave it -1, which the controller accepts).
func (h *Handlers) controlledShutdown(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.ControlledShutdownRequest)
	if !ok {
		return nil, fmt.Errorf("controlledShutdown: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationClusterAction) {
		resp := req.ResponseKind().(*kmsg.ControlledShutdownResponse)
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return resp, nil
	}
	epoch := req.BrokerEpoch
	if req.Version < 2 {
		epoch = -1
	}
	remaining, code, err := h.cfg.Controller.ControlledShutdown(ctx, req.BrokerID, epoch)
	if err != nil {
		return nil, fmt.Errorf("controlled shutdown of broker %d: %w", req.BrokerID, err)
	}
	resp := req.ResponseKind().(*kmsg.ControlledShutdownResponse)
	resp.ErrorCode = code
	if code != 0 {
		return resp, nil
	}
	for _, tp := range remaining {
		resp.PartitionsRemaining = append(resp.PartitionsRemaining,
			kmsg.ControlledShutdownResponsePartitionsRemaining{Topic: tp.Topic, Partition: tp.Partition})
	}
	return resp, nil
}

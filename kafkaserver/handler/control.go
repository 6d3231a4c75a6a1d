package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kwire"
)

// The controller's requests (LeaderAndIsr, StopReplica, UpdateMetadata) from a controller in another broker. The
// controller in this broker calls the replica manager directly instead.

func (h *Handlers) leaderAndIsr(_ context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.LeaderAndISRRequest)
	if !ok {
		return nil, fmt.Errorf("leaderAndIsr: unexpected %T", r)
	}
	return h.rm.BecomeLeaderOrFollower(req), nil
}

func (h *Handlers) stopReplica(_ context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.StopReplicaRequest)
	if !ok {
		return nil, fmt.Errorf("stopReplica: unexpected %T", r)
	}
	return h.rm.StopReplicas(req), nil
}

func (h *Handlers) updateMetadata(_ context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.UpdateMetadataRequest)
	if !ok {
		return nil, fmt.Errorf("updateMetadata: unexpected %T", r)
	}
	return h.rm.UpdateMetadata(req), nil
}

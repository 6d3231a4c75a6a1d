package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/features"
	"github.com/zkafka/zkafka/kwire"
)

// UpdateFeatures (KIP-584): the controller changes the finalized features in /feature. A Kafka 2.8 broker
// supports no feature, so only deleting a finalized feature (written by a newer broker) can succeed.

func (h *Handlers) registerFeatures(mux *kwire.Mux) {
	if h.cfg.Features == nil || h.cfg.Controller == nil {
		return
	}
	mux.Handle(kmsg.UpdateFeatures.Int16(), 0, 0, h.updateFeatures)
}

// updateFeatures is handleUpdateFeatures: ALTER on the cluster, the active controller, versioning on
// (inter.broker.protocol.version 2.7-IV0 or later), then the controller's update.
func (h *Handlers) updateFeatures(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.UpdateFeaturesRequest)
	if !ok {
		return nil, fmt.Errorf("updateFeatures: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.UpdateFeaturesResponse)
	refuse := func(e *kerr.Error, msg string) (kmsg.Response, error) {
		resp.ErrorCode, resp.ErrorMessage = e.Code, kmsg.StringPtr(msg)
		return resp, nil
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationAlter) {
		return refuse(kerr.ClusterAuthorizationFailed, "Cluster authorization failed.")
	}
	if active, _ := h.cfg.Controller.Active(); !active {
		return refuse(kerr.NotController, "This is not the correct controller for this cluster.")
	}
	if !h.cfg.Features.Enabled() {
		return refuse(kerr.InvalidRequest, "Feature versioning system is disabled.")
	}
	updates := make([]features.Update, 0, len(req.FeatureUpdates))
	for _, u := range req.FeatureUpdates {
		updates = append(updates, features.Update{Feature: u.Feature, MaxVersionLevel: u.MaxVersionLevel, AllowDowngrade: u.AllowDowngrade})
	}
	timeout := time.Duration(max(req.TimeoutMillis, 0)) * time.Millisecond
	for _, res := range h.cfg.Features.Update(ctx, updates, timeout) {
		rr := kmsg.NewUpdateFeaturesResponseResult()
		rr.Feature, rr.ErrorCode, rr.ErrorMessage = res.Feature, res.Code, kmsg.StringPtr(res.Message)
		resp.Results = append(resp.Results, rr)
	}
	return resp, nil
}

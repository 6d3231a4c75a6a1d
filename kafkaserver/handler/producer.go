package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kwire"
)

// registerProducer adds InitProducerId when the broker has a producer id manager.
func (h *Handlers) registerProducer(mux *kwire.Mux) {
	if h.cfg.ProducerIDs == nil {
		return
	}
	mux.Handle(kmsg.InitProducerID.Int16(), 0, 4, h.initProducerID)
}

// initProducerID is KafkaApis.handleInitProducerIdRequest, authorized first (producerIDDenied): a null transactional
// id always gets a new producer id at epoch 0 (Kafka 2.8 ignores a producer id and epoch sent with it; idempotent
// producers bump their epoch themselves, KIP-360); a transactional id goes to the transaction coordinator. Without
// one (a broker built without it) a transactional id gets UNSUPPORTED_VERSION, which clients treat as fatal.
func (h *Handlers) initProducerID(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.InitProducerIDRequest)
	if !ok {
		return nil, fmt.Errorf("initProducerID: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	fail := func(e *kerr.Error) (kmsg.Response, error) {
		resp.ErrorCode = fencedFor(e.Code, req.Version, 4)
		return resp, nil
	}
	if e := h.producerIDDenied(rc, req); e != nil {
		return fail(e)
	}
	if (req.ProducerID == -1) != (req.ProducerEpoch == -1) {
		return fail(kerr.InvalidRequest)
	}
	if req.TransactionalID != nil {
		if h.cfg.Txn == nil {
			h.logger.Info("transactional producer refused: no transaction coordinator", "transactional_id", *req.TransactionalID)
			return fail(kerr.UnsupportedVersion)
		}
		pid, epoch, err := h.cfg.Txn.InitProducerID(*req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch)
		if err != nil {
			return fail(err)
		}
		resp.ProducerID, resp.ProducerEpoch = pid, epoch
		return resp, nil
	}
	id, err := h.cfg.ProducerIDs.Generate()
	if err != nil {
		// Kafka's ProducerIdManager failing to reach ZooKeeper surfaces as an unknown server error.
		h.logger.Warn("producer id allocation failed", "err", err)
		return fail(kerr.UnknownServerError)
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp, nil
}

// producerIDDenied is handleInitProducerIdRequest's check: WRITE on the transactional id, or for an idempotent
// producer IDEMPOTENT_WRITE on the cluster (its denial not logged) or else WRITE on some topic (KIP-679).
func (h *Handlers) producerIDDenied(rc *kwire.RequestContext, req *kmsg.InitProducerIDRequest) *kerr.Error {
	if req.TransactionalID != nil {
		if !h.authorize(rc, kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, *req.TransactionalID) {
			return kerr.TransactionalIDAuthorizationFailed
		}
		return nil
	}
	if !h.authorizeQuietly(rc, kmsg.ACLOperationIdempotentWrite, kmsg.ACLResourceTypeCluster, acl.ClusterName) &&
		!h.authorizeByResourceType(rc, kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTopic) {
		return kerr.ClusterAuthorizationFailed
	}
	return nil
}

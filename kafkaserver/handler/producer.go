package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kwire"
)

// registerProducer adds InitProducerId when the broker has a producer id manager.
func (h *Handlers) registerProducer(mux *kwire.Mux) {
	if h.cfg.ProducerIDs == nil {
		return
	}
	mux.Handle(kmsg.InitProducerID.Int16(), 0, 4, h.initProducerID)
}

// initProducerID is KafkaApis.handleInitProducerIdRequest with TransactionCoordinator.handleInitProducerId for
// idempotent producers: a null transactional id always gets a new producer id at epoch 0 (Kafka 2.8 ignores a
// producer id and epoch sent with it; idempotent producers bump their epoch themselves, KIP-360). Transactions
// are not supported yet: a transactional id that Kafka would accept gets UNSUPPORTED_VERSION, which every
// client treats as fatal with a clear message, rather than a retriable error it would retry forever.
func (h *Handlers) initProducerID(_ context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.InitProducerIDRequest)
	if !ok {
		return nil, fmt.Errorf("initProducerID: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.Version = req.Version
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	fail := func(e *kerr.Error) (kmsg.Response, error) {
		resp.ErrorCode = e.Code
		return resp, nil
	}
	if (req.ProducerID == -1) != (req.ProducerEpoch == -1) {
		return fail(kerr.InvalidRequest)
	}
	if req.TransactionalID != nil {
		switch {
		case *req.TransactionalID == "":
			return fail(kerr.InvalidRequest)
		case req.TransactionTimeoutMillis <= 0 || req.TransactionTimeoutMillis > h.props.TransactionMaxTimeoutMs:
			return fail(kerr.InvalidTransactionTimeout)
		}
		h.logger.Info("transactional producer refused: transactions are not supported", "transactional_id", *req.TransactionalID)
		return fail(kerr.UnsupportedVersion)
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

package handler

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	"github.com/zkafka/zkafka/kafkaserver/group"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/txn"
	"github.com/zkafka/zkafka/kwire"
)

// registerTxn adds the transaction APIs when the broker runs a transaction coordinator. WriteTxnMarkers is the
// coordinators' request to partition leaders; TxnOffsetCommit goes to the group coordinator.
func (h *Handlers) registerTxn(mux *kwire.Mux) {
	if h.cfg.Txn == nil {
		return
	}
	mux.Handle(kmsg.AddPartitionsToTxn.Int16(), 0, 3, h.addPartitionsToTxn)
	mux.Handle(kmsg.AddOffsetsToTxn.Int16(), 0, 3, h.addOffsetsToTxn)
	mux.Handle(kmsg.EndTxn.Int16(), 0, 3, h.endTxn)
	mux.Handle(kmsg.WriteTxnMarkers.Int16(), 0, 1, h.writeTxnMarkers)
	if h.cfg.Group != nil {
		mux.Handle(kmsg.TxnOffsetCommit.Int16(), 0, 3, h.txnOffsetCommit)
	}
}

// fencedFor is PRODUCER_FENCED as a request version knows it: versions before the code existed get
// INVALID_PRODUCER_EPOCH, as KafkaApis answers.
func fencedFor(code int16, version, firstWithFenced int16) int16 {
	if code == kerr.ProducerFenced.Code && version < firstWithFenced {
		return kerr.InvalidProducerEpoch.Code
	}
	return code
}

func codeOf(e *kerr.Error) int16 {
	if e == nil {
		return 0
	}
	return e.Code
}

// addPartitionsToTxn is handleAddPartitionToTxnRequest: without WRITE on the transactional id every partition
// fails; partitions of internal topics (never authorized for transactional writes) or of topics without WRITE, and
// partitions the metadata does not have, fail the request, the others are then not attempted.
func (h *Handlers) addPartitionsToTxn(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.AddPartitionsToTxnRequest)
	if !ok {
		return nil, fmt.Errorf("addPartitionsToTxn: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	resp.Version = req.Version
	if h.txnWriteDenied(rc, req.TransactionalID) {
		for _, t := range req.Topics {
			rt := kmsg.AddPartitionsToTxnResponseTopic{Topic: t.Topic}
			for _, p := range t.Partitions {
				rt.Partitions = append(rt.Partitions, kmsg.AddPartitionsToTxnResponseTopicPartition{Partition: p,
					ErrorCode: kerr.TransactionalIDAuthorizationFailed.Code})
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil
	}
	var names []string
	for _, t := range req.Topics {
		if !replica.IsInternal(t.Topic) {
			names = append(names, t.Topic)
		}
	}
	writable := h.authorizedNames(rc, kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTopic, names, true)
	var tps []txn.TopicPartition
	refused := map[txn.TopicPartition]int16{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := txn.TopicPartition{Topic: t.Topic, Partition: p}
			switch {
			case replica.IsInternal(t.Topic) || !writable[t.Topic]:
				// Kafka authorizes only non-internal topics for a transaction's writes.
				refused[tp] = kerr.TopicAuthorizationFailed.Code
			case !h.cache.HasPartition(t.Topic, p):
				refused[tp] = kerr.UnknownTopicOrPartition.Code
			}
			tps = append(tps, tp)
		}
	}
	var code int16
	if len(refused) == 0 {
		code = fencedFor(codeOf(h.cfg.Txn.AddPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, tps)), req.Version, 2)
	}
	for _, t := range req.Topics {
		rt := kmsg.AddPartitionsToTxnResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			c, bad := refused[txn.TopicPartition{Topic: t.Topic, Partition: p}]
			switch {
			case bad:
			case len(refused) > 0:
				c = kerr.OperationNotAttempted.Code
			default:
				c = code
			}
			rt.Partitions = append(rt.Partitions, kmsg.AddPartitionsToTxnResponseTopicPartition{Partition: p, ErrorCode: c})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

// addOffsetsToTxn is handleAddOffsetsToTxnRequest: WRITE on the transactional id, then READ on the group; the
// group's __consumer_offsets partition is added to the transaction.
func (h *Handlers) addOffsetsToTxn(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.AddOffsetsToTxnRequest)
	if !ok {
		return nil, fmt.Errorf("addOffsetsToTxn: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	resp.Version = req.Version
	if h.txnWriteDenied(rc, req.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	}
	if h.groupReadDenied(rc, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp, nil
	}
	tp := txn.TopicPartition{Topic: replica.GroupMetadataTopic,
		Partition: coordlog.PartitionFor(req.Group, h.props.OffsetsTopicPartitions)}
	code := codeOf(h.cfg.Txn.AddPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, []txn.TopicPartition{tp}))
	resp.ErrorCode = fencedFor(code, req.Version, 2)
	return resp, nil
}

// endTxn is handleEndTxnRequest: WRITE on the transactional id, then the coordinator ends the transaction.
func (h *Handlers) endTxn(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.EndTxnRequest)
	if !ok {
		return nil, fmt.Errorf("endTxn: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	resp.Version = req.Version
	if h.txnWriteDenied(rc, req.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return resp, nil
	}
	code := codeOf(h.cfg.Txn.EndTxn(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit))
	resp.ErrorCode = fencedFor(code, req.Version, 2)
	return resp, nil
}

// txnOffsetCommit is handleTxnOffsetCommitRequest: WRITE on the transactional id and READ on the group, or every
// partition fails; partitions of topics without READ get TOPIC_AUTHORIZATION_FAILED, partitions the metadata does not
// have UNKNOWN_TOPIC_OR_PARTITION, the others go to the group coordinator.
func (h *Handlers) txnOffsetCommit(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.TxnOffsetCommitRequest)
	if !ok {
		return nil, fmt.Errorf("txnOffsetCommit: unexpected %T", r)
	}
	if h.txnWriteDenied(rc, req.TransactionalID) {
		return txnOffsetCommitRefused(req, kerr.TransactionalIDAuthorizationFailed.Code), nil
	}
	if h.groupReadDenied(rc, req.Group) {
		return txnOffsetCommitRefused(req, kerr.GroupAuthorizationFailed.Code), nil
	}
	name := func(t *kmsg.TxnOffsetCommitRequestTopic) string { return t.Topic }
	parts := func(t *kmsg.TxnOffsetCommitRequestTopic) *[]kmsg.TxnOffsetCommitRequestTopicPartition {
		return &t.Partitions
	}
	id := func(p *kmsg.TxnOffsetCommitRequestTopicPartition) int32 { return p.Partition }
	// A partition given twice is committed once, with its last entry, as OffsetCommit.
	req.Topics = mergeTopics(req.Topics, name, parts, id)
	kept, refused := splitCommit(h, rc, req.Topics, name, parts, id)
	known := *req
	known.Topics = kept
	codes := map[group.TopicPartition]int16{}
	if len(known.Topics) > 0 {
		for _, t := range h.cfg.Group.TxnOffsetCommit(&known).Topics {
			for _, p := range t.Partitions {
				codes[group.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = p.ErrorCode
			}
		}
	}
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	resp.Version = req.Version
	for _, t := range req.Topics {
		rt := kmsg.TxnOffsetCommitResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			tp := group.TopicPartition{Topic: t.Topic, Partition: p.Partition}
			c, bad := refused[tp]
			if !bad {
				c = codes[tp]
			}
			if req.Version < 2 && c == kerr.CoordinatorLoadInProgress.Code {
				c = kerr.CoordinatorNotAvailable.Code
			}
			rt.Partitions = append(rt.Partitions, kmsg.TxnOffsetCommitResponseTopicPartition{Partition: p.Partition, ErrorCode: c})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

// txnOffsetCommitRefused is TxnOffsetCommitRequest.getErrorResponse: every partition as requested, with code.
func txnOffsetCommitRefused(req *kmsg.TxnOffsetCommitRequest, code int16) *kmsg.TxnOffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	resp.Version = req.Version
	for _, t := range req.Topics {
		rt := kmsg.TxnOffsetCommitResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions,
				kmsg.TxnOffsetCommitResponseTopicPartition{Partition: p.Partition, ErrorCode: code})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// txnWriteDenied is the transaction APIs' first check: WRITE on the transactional id.
func (h *Handlers) txnWriteDenied(rc *kwire.RequestContext, transactionalID string) bool {
	return !h.authorize(rc, kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, transactionalID)
}

// writeTxnMarkers is handleWriteTxnMarkersRequest: CLUSTER_ACTION (a coordinator's request), then each marker is
// appended to the partitions this broker leads (logs in a format before v2 cannot hold one) and waits for the ISR;
// markers on __consumer_offsets then apply or drop the producer's transactional offsets.
func (h *Handlers) writeTxnMarkers(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.WriteTxnMarkersRequest)
	if !ok {
		return nil, fmt.Errorf("writeTxnMarkers: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationClusterAction) {
		return writeTxnMarkersRefused(req, kerr.ClusterAuthorizationFailed.Code), nil
	}
	return h.WriteTxnMarkers(ctx, req), nil
}

// writeTxnMarkersRefused is WriteTxnMarkersRequest.getErrorResponse: every marker's partitions with code.
func writeTxnMarkersRefused(req *kmsg.WriteTxnMarkersRequest, code int16) *kmsg.WriteTxnMarkersResponse {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	resp.Version = req.Version
	for _, m := range req.Markers {
		rm := kmsg.WriteTxnMarkersResponseMarker{ProducerID: m.ProducerID}
		for _, t := range m.Topics {
			rt := kmsg.WriteTxnMarkersResponseMarkerTopic{Topic: t.Topic}
			for _, p := range t.Partitions {
				rt.Partitions = append(rt.Partitions,
					kmsg.WriteTxnMarkersResponseMarkerTopicPartition{Partition: p, ErrorCode: code})
			}
			rm.Topics = append(rm.Topics, rt)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp
}

// WriteTxnMarkers serves a WriteTxnMarkers request; the broker's own transaction coordinator calls it directly for
// the partitions this broker leads.
func (h *Handlers) WriteTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) *kmsg.WriteTxnMarkersResponse {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	resp.Version = req.Version
	timeout := time.Duration(h.props.RequestTimeoutMs) * time.Millisecond
	for _, m := range req.Markers {
		rm := kmsg.WriteTxnMarkersResponseMarker{ProducerID: m.ProducerID}
		var offsetsParts []int32
		for _, t := range m.Topics {
			rt := kmsg.WriteTxnMarkersResponseMarkerTopic{Topic: t.Topic}
			for _, p := range t.Partitions {
				code := h.writeMarker(ctx, timeout, t.Topic, p, m)
				if code == 0 && t.Topic == replica.GroupMetadataTopic {
					offsetsParts = append(offsetsParts, p)
				}
				rt.Partitions = append(rt.Partitions,
					kmsg.WriteTxnMarkersResponseMarkerTopicPartition{Partition: p, ErrorCode: code})
			}
			rm.Topics = append(rm.Topics, rt)
		}
		if len(offsetsParts) > 0 && h.cfg.Group != nil {
			h.cfg.Group.HandleTxnCompletion(m.ProducerID, offsetsParts, m.Committed)
		}
		resp.Markers = append(resp.Markers, rm)
	}
	return resp
}

func (h *Handlers) writeMarker(ctx context.Context, timeout time.Duration, topic string, partition int32, m kmsg.WriteTxnMarkersRequestMarker) int16 {
	p, err := h.rm.Partition(topic, partition)
	if err != nil {
		return kerr.UnknownTopicOrPartition.Code
	}
	if lc := p.Log().Config(); lc.RecordVersion() < 2 {
		return kerr.UnsupportedForMessageFormat.Code
	}
	info, err := h.rm.AppendTxnMarker(topic, partition, m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, m.Committed)
	if err != nil {
		h.logger.Info("writing a transaction marker failed", "partition", fmt.Sprintf("%s-%d", topic, partition),
			"producer_id", m.ProducerID, "err", err)
		return errCode(err)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := h.rm.WaitReplicated(wctx, topic, partition, info.LastOffset+1); err != nil {
		return errCode(err)
	}
	return 0
}

package handler

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/fetchsession"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// fetch is KafkaApis.handleFetchRequest with a long poll (DelayedFetch): it answers at once when min_bytes are
// there, a partition has an error or max_wait is zero, else when data arrives or max_wait passes. Fetch v7+ may use
// incremental fetch sessions (KIP-227): the session context says which partitions to read and, at the end, which go
// into the response.
func (h *Handlers) fetch(ctx context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.FetchRequest)
	if !ok {
		return nil, fmt.Errorf("fetch: unexpected %T", r)
	}
	fctx := h.fetchContext(req)
	parts := fctx.Partitions()
	st := &fetchState{}
	deadline := time.Now().Add(time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond)
	for fctx.Kind() != fetchsession.SessionError {
		changed := h.rm.Changed()
		n, anyErr := h.readFetch(req, parts, st)
		if n >= int(req.MinBytes) || anyErr || req.MaxWaitMillis <= 0 || len(parts) == 0 {
			break
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
			t.Stop()
			continue
		case <-t.C:
			// One more read: data may have come in since.
			h.readFetch(req, parts, st)
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		break
	}
	out := fctx.Respond(time.Now().UnixMilli(), st.results)
	return buildFetchResponse(req, parts, st, out), nil
}

// fetchContext turns the request into fetch-session terms (FetchManager.newContext). Fetch v0-6 has no sessions:
// its metadata is always (0, FINAL_EPOCH).
func (h *Handlers) fetchContext(req *kmsg.FetchRequest) *fetchsession.Context {
	n := 0
	for i := range req.Topics {
		n += len(req.Topics[i].Partitions)
	}
	parts := make([]fetchsession.PartitionRequest, 0, n)
	for i := range req.Topics {
		t := &req.Topics[i]
		for j := range t.Partitions {
			p := &t.Partitions[j]
			pr := fetchsession.PartitionRequest{
				TopicPartition: fetchsession.TopicPartition{Topic: t.Topic, Partition: p.Partition},
				FetchOffset:    p.FetchOffset, MaxBytes: p.PartitionMaxBytes,
				LogStartOffset: -1, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1,
			}
			if req.Version >= 5 {
				pr.LogStartOffset = p.LogStartOffset
			}
			if req.Version >= 9 {
				pr.CurrentLeaderEpoch = p.CurrentLeaderEpoch
			}
			if req.Version >= 12 {
				pr.LastFetchedEpoch = p.LastFetchedEpoch
			}
			parts = append(parts, pr)
		}
	}
	sessionID, epoch := fetchsession.InvalidSessionID, fetchsession.FinalEpoch
	var forget []fetchsession.TopicPartition
	if req.Version >= 7 {
		sessionID, epoch = req.SessionID, req.SessionEpoch
		for _, ft := range req.ForgottenTopics {
			for _, p := range ft.Partitions {
				forget = append(forget, fetchsession.TopicPartition{Topic: ft.Topic, Partition: p})
			}
		}
	}
	return h.fetchSessions.NewContext(time.Now().UnixMilli(), sessionID, epoch, parts, forget, req.ReplicaID >= 0)
}

// fetchState holds one request's reads; a long poll reads again into the same slices.
type fetchState struct {
	parts   []kmsg.FetchResponseTopicPartition
	results []fetchsession.PartitionResult
}

// readFetch reads every partition once (ReplicaManager.readFromLocalLog) and returns the bytes read and whether a
// partition failed.
func (h *Handlers) readFetch(req *kmsg.FetchRequest, parts []fetchsession.PartitionRequest, st *fetchState) (int, bool) {
	if st.parts == nil {
		st.parts = make([]kmsg.FetchResponseTopicPartition, len(parts))
		st.results = make([]fetchsession.PartitionResult, len(parts))
	}
	hardMaxBytesLimit := req.Version <= 2
	limit := int64(math.MaxInt32)
	if req.Version >= 3 {
		limit = int64(min(req.MaxBytes, h.props.FetchMaxBytes))
		if req.ReplicaID >= 0 {
			limit = int64(req.MaxBytes)
		}
	}
	minOneMessage := !hardMaxBytesLimit
	total, anyErr := 0, false
	for i := range parts {
		p := &parts[i]
		rp := &st.parts[i]
		*rp = kmsg.FetchResponseTopicPartition{Partition: p.Partition, HighWatermark: -1, LastStableOffset: -1,
			LogStartOffset: -1, PreferredReadReplica: -1}
		maxBytes := int32(min(int64(p.MaxBytes), max(limit, 0)))
		res, err := h.rm.Read(p.Topic, p.Partition, replica.ReadParams{
			Offset: p.FetchOffset, MaxBytes: maxBytes, MinOneMessage: minOneMessage, ReplicaID: req.ReplicaID,
			CurrentLeaderEpoch: p.CurrentLeaderEpoch, ReadCommitted: req.Version >= 4 && req.IsolationLevel == 1,
		})
		if err == nil && req.Version <= 3 && len(res.Records) > 0 {
			res.Records, err = h.downConvert(res.Records, req.Version)
		}
		if err != nil {
			anyErr = true
			rp.ErrorCode = errCode(err)
		} else {
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = res.HighWatermark, res.LastStableOffset, res.LogStartOffset
			rp.RecordBatches = res.Records
			if len(res.Records) > 0 {
				minOneMessage = false
			}
			limit -= int64(len(res.Records))
			total += len(res.Records)
		}
		if rp.RecordBatches == nil {
			// Kafka always sends a records field (MemoryRecords.EMPTY), never null: librdkafka rejects a
			// -1 length as "invalid MessageSetSize".
			rp.RecordBatches = []byte{}
		}
		st.results[i] = fetchsession.PartitionResult{
			RecordBytes: len(rp.RecordBatches), HighWatermark: rp.HighWatermark, LastStableOffset: rp.LastStableOffset,
			LogStartOffset: rp.LogStartOffset, ErrorCode: rp.ErrorCode, PreferredReadReplica: rp.PreferredReadReplica,
		}
	}
	return total, anyErr
}

// buildFetchResponse lays out the partitions the session context keeps, grouping consecutive partitions of one
// topic under one topic entry as FetchResponse.toMessage does.
func buildFetchResponse(req *kmsg.FetchRequest, parts []fetchsession.PartitionRequest, st *fetchState, out fetchsession.Response) *kmsg.FetchResponse {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	resp.Version = req.Version
	resp.ErrorCode = out.ErrorCode
	resp.SessionID = out.SessionID
	if out.ErrorCode != 0 {
		return resp
	}
	for i := range parts {
		if out.Include != nil && !out.Include[i] {
			continue
		}
		if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != parts[i].Topic {
			resp.Topics = append(resp.Topics, kmsg.FetchResponseTopic{Topic: parts[i].Topic})
		}
		t := &resp.Topics[len(resp.Topics)-1]
		t.Partitions = append(t.Partitions, st.parts[i])
	}
	return resp
}

// downConvert rewrites v2 batches for Fetch v0-v3 (magic 0 for v0-v1, magic 1 for v2-v3), unless the broker forbids
// it (log.message.downconversion.enable=false gives UNSUPPORTED_VERSION, as in Kafka).
func (h *Handlers) downConvert(records []byte, version int16) ([]byte, error) {
	magic := int8(1)
	if version <= 1 {
		magic = 0
	}
	if !h.props.LogMessageDownConversionEnable {
		return nil, kerr.UnsupportedVersion
	}
	out, err := klog.DownConvert(records, magic)
	if err != nil {
		return nil, fmt.Errorf("down-convert to magic %d: %w", magic, err)
	}
	return out, nil
}

// FetchSessions is the broker's fetch session cache.
func (h *Handlers) FetchSessions() *fetchsession.Cache { return h.fetchSessions }

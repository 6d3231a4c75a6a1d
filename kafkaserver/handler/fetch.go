package handler

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kwire"
)

// fetch is KafkaApis.handleFetchRequest with a long poll (DelayedFetch): it answers at once when min_bytes are
// there, a partition has an error or max_wait is zero, else when data arrives or max_wait passes. Fetch sessions
// (KIP-227) are not kept: every fetch is a full fetch answered with session id 0, which clients accept.
func (h *Handlers) fetch(ctx context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.FetchRequest)
	if !ok {
		return nil, fmt.Errorf("fetch: unexpected %T", r)
	}
	if req.Version >= 7 && req.SessionID != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.Version = req.Version
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp, nil
	}
	deadline := time.Now().Add(time.Duration(max(req.MaxWaitMillis, 0)) * time.Millisecond)
	for {
		changed := h.rm.Changed()
		resp, n, anyErr := h.readFetch(req)
		if n >= int(req.MinBytes) || anyErr || req.MaxWaitMillis <= 0 || len(req.Topics) == 0 {
			return resp, nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return resp, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-changed:
			t.Stop()
		case <-t.C:
			// One more read: data may have come in since.
			resp, _, _ = h.readFetch(req)
			return resp, nil
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// readFetch reads every requested partition once (ReplicaManager.readFromLocalLog).
func (h *Handlers) readFetch(req *kmsg.FetchRequest) (*kmsg.FetchResponse, int, bool) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	resp.Version = req.Version
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
	for _, t := range req.Topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = p.Partition
			rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset, rp.PreferredReadReplica = -1, -1, -1, -1
			maxBytes := int32(min(int64(p.PartitionMaxBytes), max(limit, 0)))
			epoch := int32(-1)
			if req.Version >= 9 {
				epoch = p.CurrentLeaderEpoch
			}
			res, err := h.rm.Read(t.Topic, p.Partition, replica.ReadParams{
				Offset: p.FetchOffset, MaxBytes: maxBytes, MinOneMessage: minOneMessage, ReplicaID: req.ReplicaID,
				CurrentLeaderEpoch: epoch, ReadCommitted: req.Version >= 4 && req.IsolationLevel == 1,
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
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, total, anyErr
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

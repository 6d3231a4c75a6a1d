package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kwire"
)

// listOffsets is KafkaApis.handleListOffsetRequest: v0 answers with Kafka's list of segment offsets, v1+ with one
// offset and timestamp (and the leader epoch from v4).
func (h *Handlers) listOffsets(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.ListOffsetsRequest)
	if !ok {
		return nil, fmt.Errorf("listOffsets: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	resp.Version = req.Version
	// DESCRIBE on each topic; the topics refused come after the others, every partition TOPIC_AUTHORIZATION_FAILED.
	names := make([]string, len(req.Topics))
	for i, t := range req.Topics {
		names[i] = t.Topic
	}
	allowed := h.authorizedNames(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, names, true)
	topics, refused := splitAuthorized(req.Topics, allowed, func(t kmsg.ListOffsetsRequestTopic) string { return t.Topic })
	dups := duplicatePartitions(req.Topics)
	for _, t := range topics {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition, rp.Timestamp, rp.Offset, rp.LeaderEpoch = p.Partition, -1, -1, -1
			if dups[partitionKey{t.Topic, p.Partition}] && req.Version >= 1 {
				rp.ErrorCode = kerr.InvalidRequest.Code
				rt.Partitions = append(rt.Partitions, rp)
				continue
			}
			if req.Version == 0 {
				offs, err := h.rm.LegacyListOffsets(t.Topic, p.Partition, p.Timestamp, p.MaxNumOffsets, req.ReplicaID)
				if err != nil {
					rp.ErrorCode = errCode(err)
				} else {
					rp.OldStyleOffsets = offs
				}
				rt.Partitions = append(rt.Partitions, rp)
				continue
			}
			epoch := int32(-1)
			if req.Version >= 4 {
				epoch = p.CurrentLeaderEpoch
			}
			readCommitted := req.Version >= 2 && req.IsolationLevel == 1
			off, ts, le, found, err := h.rm.ListOffset(t.Topic, p.Partition, p.Timestamp, req.ReplicaID, readCommitted, epoch)
			switch {
			case err != nil:
				rp.ErrorCode = errCode(err)
			case found:
				rp.Offset, rp.Timestamp = off, ts
				if req.Version >= 4 {
					rp.LeaderEpoch = le
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	for _, t := range refused {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition, rp.Timestamp, rp.Offset, rp.LeaderEpoch = p.Partition, -1, -1, -1
			rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

type partitionKey struct {
	topic     string
	partition int32
}

// duplicatePartitions is ListOffsetsRequest's duplicatePartitions: the partitions the request names more than once,
// every mention of which v1+ answers INVALID_REQUEST.
func duplicatePartitions(topics []kmsg.ListOffsetsRequestTopic) map[partitionKey]bool {
	seen, dups := map[partitionKey]bool{}, map[partitionKey]bool{}
	for _, t := range topics {
		for _, p := range t.Partitions {
			k := partitionKey{t.Topic, p.Partition}
			dups[k] = dups[k] || seen[k]
			seen[k] = true
		}
	}
	return dups
}

package handler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/acl"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kwire"
)

// registerLogAPIs adds the log-level admin APIs: DeleteRecords, OffsetForLeaderEpoch, DescribeLogDirs,
// AlterReplicaLogDirs and DescribeProducers.
func (h *Handlers) registerLogAPIs(mux *kwire.Mux) {
	mux.Handle(kmsg.DeleteRecords.Int16(), 0, 2, h.deleteRecords)
	mux.Handle(kmsg.OffsetForLeaderEpoch.Int16(), 0, 4, h.offsetForLeaderEpoch)
	mux.Handle(kmsg.DescribeLogDirs.Int16(), 0, 2, h.describeLogDirs)
	mux.Handle(kmsg.AlterReplicaLogDirs.Int16(), 0, 1, h.alterReplicaLogDirs)
	mux.Handle(kmsg.DescribeProducers.Int16(), 0, 0, h.describeProducers)
}

// deleteRecords is KafkaApis.handleDeleteRecordsRequest with ReplicaManager.deleteRecords: partitions of topics
// without DELETE get TOPIC_AUTHORIZATION_FAILED, partitions the cluster does not know UNKNOWN_TOPIC_OR_PARTITION, the
// others move their log start offset on this leader, then the
// answer waits (up to timeout_ms, DelayedDeleteRecords) until every live replica's log start reached it.
func (h *Handlers) deleteRecords(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DeleteRecordsRequest)
	if !ok {
		return nil, fmt.Errorf("deleteRecords: unexpected %T", r)
	}
	type status struct {
		offset   int64 // requested; the last of duplicates wins, as in Kafka's map
		required int64
		lw       int64
		err      error
		pending  bool
	}
	var order []klog.TopicPartition
	byTP := map[klog.TopicPartition]*status{}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := klog.TopicPartition{Topic: t.Topic, Partition: p.Partition}
			if st, dup := byTP[tp]; dup {
				st.offset = p.Offset
				continue
			}
			order = append(order, tp)
			byTP[tp] = &status{offset: p.Offset}
		}
	}
	names := make([]string, len(req.Topics))
	for i, t := range req.Topics {
		names[i] = t.Topic
	}
	deletable := h.authorizedNames(rc, kmsg.ACLOperationDelete, kmsg.ACLResourceTypeTopic, names, true)
	for _, tp := range order {
		st := byTP[tp]
		if !deletable[tp.Topic] {
			st.lw, st.err = -1, kerr.TopicAuthorizationFailed
			continue
		}
		if !h.cache.HasPartition(tp.Topic, tp.Partition) {
			st.lw, st.err = -1, kerr.UnknownTopicOrPartition
			continue
		}
		st.required, st.lw, st.err = h.rm.DeleteRecords(tp.Topic, tp.Partition, st.offset)
		st.pending = st.err == nil
	}
	wctx, cancel := context.WithTimeout(ctx, time.Duration(max(req.TimeoutMillis, 0))*time.Millisecond)
	defer cancel()
	for _, tp := range order {
		if st := byTP[tp]; st.pending {
			lw, err := h.rm.WaitLowWatermark(wctx, tp.Topic, tp.Partition, st.required)
			switch {
			case err == nil:
				st.lw = lw
			case errors.Is(err, kerr.RequestTimedOut):
				st.err = err // the low watermark stays the one seen when the records were deleted
			default:
				st.lw, st.err = -1, err
			}
		}
	}

	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	resp.Version = req.Version
	topicIdx := map[string]int{}
	for _, tp := range order {
		st := byTP[tp]
		i, ok := topicIdx[tp.Topic]
		if !ok {
			rt := kmsg.NewDeleteRecordsResponseTopic()
			rt.Topic = tp.Topic
			resp.Topics = append(resp.Topics, rt)
			i = len(resp.Topics) - 1
			topicIdx[tp.Topic] = i
		}
		rp := kmsg.NewDeleteRecordsResponseTopicPartition()
		rp.Partition, rp.LowWatermark, rp.ErrorCode = tp.Partition, st.lw, errCode(st.err)
		if st.err != nil && !errors.Is(st.err, kerr.RequestTimedOut) {
			rp.LowWatermark = -1
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
	}
	return resp, nil
}

// offsetForLeaderEpoch is KafkaApis.handleOffsetForLeaderEpochRequest: the end offset of each requested leader
// epoch on this leader. Kafka 2.8 answers from the leader whatever replica_id (v3+) says. CLUSTER_ACTION allows
// every topic (a follower), else each topic needs DESCRIBE (a consumer, KIP-320); the topics refused come last.
func (h *Handlers) offsetForLeaderEpoch(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.OffsetForLeaderEpochRequest)
	if !ok {
		return nil, fmt.Errorf("offsetForLeaderEpoch: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	resp.Version = req.Version
	topics, refused := req.Topics, []kmsg.OffsetForLeaderEpochRequestTopic(nil)
	if !h.authorizeQuietly(rc, kmsg.ACLOperationClusterAction, kmsg.ACLResourceTypeCluster, acl.ClusterName) {
		names := make([]string, len(req.Topics))
		for i, t := range req.Topics {
			names[i] = t.Topic
		}
		allowed := h.authorizedNames(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, names, true)
		topics, refused = splitAuthorized(req.Topics, allowed,
			func(t kmsg.OffsetForLeaderEpochRequestTopic) string { return t.Topic })
	}
	for _, t := range topics {
		rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			current := int32(-1)
			if req.Version >= 2 {
				current = p.CurrentLeaderEpoch
			}
			rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition = p.Partition
			epoch, end, err := h.rm.EndOffsetForEpoch(t.Topic, p.Partition, current, p.LeaderEpoch)
			rp.ErrorCode, rp.LeaderEpoch, rp.EndOffset = errCode(err), epoch, end
			if err != nil {
				rp.LeaderEpoch, rp.EndOffset = -1, -1
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	for _, t := range refused {
		resp.Topics = append(resp.Topics, epochTopicRefused(t))
	}
	return resp, nil
}

// epochTopicRefused answers a topic's partitions TOPIC_AUTHORIZATION_FAILED, without epoch or offset.
func epochTopicRefused(t kmsg.OffsetForLeaderEpochRequestTopic) kmsg.OffsetForLeaderEpochResponseTopic {
	rt := kmsg.NewOffsetForLeaderEpochResponseTopic()
	rt.Topic = t.Topic
	for _, p := range t.Partitions {
		rp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
		rp.Partition, rp.ErrorCode, rp.LeaderEpoch, rp.EndOffset = p.Partition, kerr.TopicAuthorizationFailed.Code, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	return rt
}

// describeLogDirs is KafkaApis.handleDescribeLogDirsRequest with ReplicaManager.describeLogDirs, for DESCRIBE on the
// cluster: every log dir with, per topic it holds, the requested partitions' sizes and lags (null topics: all). As
// in Kafka, a topic with logs in the dir is listed even when none of its partitions was asked for.
func (h *Handlers) describeLogDirs(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeLogDirsRequest)
	if !ok {
		return nil, fmt.Errorf("describeLogDirs: unexpected %T", r)
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationDescribe) {
		// Without DESCRIBE on the cluster Kafka answers no log dirs, and no error.
		resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
		resp.Version = req.Version
		return resp, nil
	}
	var wanted map[klog.TopicPartition]bool
	if req.Topics != nil {
		wanted = map[klog.TopicPartition]bool{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				wanted[klog.TopicPartition{Topic: t.Topic, Partition: p}] = true
			}
		}
	}
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	resp.Version = req.Version
	for _, d := range h.rm.DescribeLogDirs() {
		rd := kmsg.NewDescribeLogDirsResponseDir()
		rd.Dir, rd.ErrorCode = d.Path, errCode(d.Err)
		if d.Err == nil {
			topicIdx := map[string]int{}
			for _, l := range d.Logs {
				i, ok := topicIdx[l.TP.Topic]
				if !ok {
					rt := kmsg.NewDescribeLogDirsResponseDirTopic()
					rt.Topic = l.TP.Topic
					rt.Partitions = []kmsg.DescribeLogDirsResponseDirTopicPartition{}
					rd.Topics = append(rd.Topics, rt)
					i = len(rd.Topics) - 1
					topicIdx[l.TP.Topic] = i
				}
				if wanted != nil && !wanted[l.TP] {
					continue
				}
				rp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
				rp.Partition, rp.Size, rp.OffsetLag, rp.IsFuture = l.TP.Partition, l.Size, l.OffsetLag, l.IsFuture
				rd.Topics[i].Partitions = append(rd.Topics[i].Partitions, rp)
			}
		}
		resp.Dirs = append(resp.Dirs, rd)
	}
	return resp, nil
}

// describeProducers is KafkaApis.handleDescribeProducersRequest: each partition asked for gets the producers its
// local log tracks (Log.activeProducers: id, epoch, last sequence and timestamp, coordinator epoch, the open
// transaction's first offset or -1); a topic without READ gets TOPIC_AUTHORIZATION_FAILED and one the metadata
// cache does not know UNKNOWN_TOPIC_OR_PARTITION, for each of its partitions.
func (h *Handlers) describeProducers(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeProducersRequest)
	if !ok {
		return nil, fmt.Errorf("describeProducers: unexpected %T", r)
	}
	names := make([]string, len(req.Topics))
	for i, t := range req.Topics {
		names[i] = t.Topic
	}
	readable := h.authorizedNames(rc, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, names, true)
	resp := req.ResponseKind().(*kmsg.DescribeProducersResponse)
	resp.Version = req.Version
	for _, t := range req.Topics {
		rt := kmsg.NewDescribeProducersResponseTopic()
		rt.Topic = t.Topic
		var topicErr error
		if !readable[t.Topic] {
			topicErr = kerr.TopicAuthorizationFailed
		} else if _, ok := h.cache.Topic(t.Topic); !ok {
			topicErr = kerr.UnknownTopicOrPartition
		}
		for _, p := range t.Partitions {
			rp := kmsg.NewDescribeProducersResponseTopicPartition()
			rp.Partition = p
			producers, err := []klog.ProducerState(nil), topicErr
			if err == nil {
				producers, err = h.rm.ActiveProducers(t.Topic, p)
			}
			rp.ErrorCode = errCode(err)
			for _, ps := range producers {
				ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
				ap.ProducerID, ap.ProducerEpoch, ap.LastSequence = ps.ProducerID, int32(ps.ProducerEpoch), ps.LastSequence
				ap.LastTimestamp, ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = ps.LastTimestamp, ps.CoordinatorEpoch,
					ps.TxnStartOffset
				rp.ActiveProducers = append(rp.ActiveProducers, ap)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, nil
}

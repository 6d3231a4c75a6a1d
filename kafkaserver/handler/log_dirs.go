package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kwire"
)

// alterReplicaLogDirs is KafkaApis.handleAlterReplicaLogDirsRequest: with ALTER on the cluster each partition
// asked for moves to its dir (ReplicaManager.alterReplicaLogDirs, the last dir named for a partition wins, as in
// Kafka's map); without it every partition of the request gets CLUSTER_AUTHORIZATION_FAILED.
func (h *Handlers) alterReplicaLogDirs(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.AlterReplicaLogDirsRequest)
	if !ok {
		return nil, fmt.Errorf("alterReplicaLogDirs: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.AlterReplicaLogDirsResponse)
	resp.Version = req.Version
	if !h.authorizeCluster(rc, kmsg.ACLOperationAlter) {
		for _, d := range req.Dirs {
			for _, t := range d.Topics {
				rt := kmsg.NewAlterReplicaLogDirsResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewAlterReplicaLogDirsResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p, kerr.ClusterAuthorizationFailed.Code
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
		}
		return resp, nil
	}
	dirs := map[klog.TopicPartition]string{}
	var order []klog.TopicPartition
	for _, d := range req.Dirs {
		for _, t := range d.Topics {
			for _, p := range t.Partitions {
				tp := klog.TopicPartition{Topic: t.Topic, Partition: p}
				if _, seen := dirs[tp]; !seen {
					order = append(order, tp)
				}
				dirs[tp] = d.Dir
			}
		}
	}
	topicIdx := map[string]int{}
	for _, tp := range order {
		i, ok := topicIdx[tp.Topic]
		if !ok {
			rt := kmsg.NewAlterReplicaLogDirsResponseTopic()
			rt.Topic = tp.Topic
			resp.Topics = append(resp.Topics, rt)
			i = len(resp.Topics) - 1
			topicIdx[tp.Topic] = i
		}
		err := h.rm.AlterReplicaLogDir(tp.Topic, tp.Partition, dirs[tp])
		if err != nil {
			h.logger.Warn("unable to alter log dir", "partition", tp.String(), "dir", dirs[tp], "err", err)
		}
		rp := kmsg.NewAlterReplicaLogDirsResponseTopicPartition()
		rp.Partition, rp.ErrorCode = tp.Partition, errCode(err)
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
	}
	return resp, nil
}

package handler

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/group"
	"github.com/zkafka/zkafka/kwire"
)

func (h *Handlers) registerOffsetDelete(mux *kwire.Mux) {
	if h.cfg.Group == nil {
		return
	}
	mux.Handle(kmsg.OffsetDelete.Int16(), 0, 0, simple(h.offsetDelete))
}

// offsetDelete is KafkaApis.handleOffsetDeleteRequest: DELETE on the group, or the request fails; partitions of
// topics without READ get TOPIC_AUTHORIZATION_FAILED, partitions missing from the metadata cache
// UNKNOWN_TOPIC_OR_PARTITION, the rest go to the coordinator; a group-level error replaces every partition result.
func (h *Handlers) offsetDelete(rc *kwire.RequestContext, req *kmsg.OffsetDeleteRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if !h.authorize(rc, kmsg.ACLOperationDelete, kmsg.ACLResourceTypeGroup, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	names := make([]string, len(req.Topics))
	for i, t := range req.Topics {
		names[i] = t.Topic
	}
	allowed := h.authorizedNames(rc, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, names, true)
	codes := map[group.TopicPartition]int16{}
	var known []group.TopicPartition
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := group.TopicPartition{Topic: t.Topic, Partition: p.Partition}
			switch {
			case !allowed[t.Topic]:
				codes[tp] = kerr.TopicAuthorizationFailed.Code
			case h.cache.HasPartition(t.Topic, p.Partition):
				known = append(known, tp)
			default:
				codes[tp] = kerr.UnknownTopicOrPartition.Code
			}
		}
	}
	groupCode, partCodes := h.cfg.Group.DeleteOffsets(req.Group, known)
	if groupCode != 0 {
		resp.ErrorCode = groupCode
		return resp
	}
	for tp, c := range partCodes {
		codes[tp] = c
	}
	for _, t := range req.Topics {
		rt := kmsg.OffsetDeleteResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.OffsetDeleteResponseTopicPartition{Partition: p.Partition,
				ErrorCode: codes[group.TopicPartition{Topic: t.Topic, Partition: p.Partition}]})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

package handler

import (
	"context"
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/group"
	"github.com/zkafka/zkafka/kwire"
)

// The group APIs go to the group coordinator (kafkaserver/group); FindCoordinator is in coordinator.go.
func (h *Handlers) registerGroup(mux *kwire.Mux) {
	if h.cfg.Group == nil {
		return
	}
	g := h.cfg.Group
	mux.Handle(kmsg.JoinGroup.Int16(), 0, 7, h.joinGroup)
	mux.Handle(kmsg.SyncGroup.Int16(), 0, 5, h.syncGroup)
	mux.Handle(kmsg.Heartbeat.Int16(), 0, 4, simple(func(r *kmsg.HeartbeatRequest) kmsg.Response { return g.Heartbeat(r) }))
	mux.Handle(kmsg.LeaveGroup.Int16(), 0, 4, simple(func(r *kmsg.LeaveGroupRequest) kmsg.Response { return g.LeaveGroup(r) }))
	mux.Handle(kmsg.OffsetCommit.Int16(), 0, 8, simple(h.offsetCommit))
	mux.Handle(kmsg.OffsetFetch.Int16(), 0, 7, simple(h.offsetFetch))
	mux.Handle(kmsg.ListGroups.Int16(), 0, 4, simple(func(r *kmsg.ListGroupsRequest) kmsg.Response { return g.ListGroups(r) }))
	mux.Handle(kmsg.DescribeGroups.Int16(), 0, 5, simple(func(r *kmsg.DescribeGroupsRequest) kmsg.Response { return g.DescribeGroups(r) }))
	mux.Handle(kmsg.DeleteGroups.Int16(), 0, 2, simple(func(r *kmsg.DeleteGroupsRequest) kmsg.Response { return g.DeleteGroups(r) }))
}

// simple adapts a synchronous coordinator call to a kwire.Handler.
func simple[R kmsg.Request](f func(R) kmsg.Response) kwire.Handler {
	return func(_ context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
		req, ok := r.(R)
		if !ok {
			return nil, fmt.Errorf("unexpected %T", r)
		}
		return f(req), nil
	}
}

// clientHost is how Kafka records a member's host: "/" + the client's IP.
func clientHost(rc *kwire.RequestContext) string {
	if a, ok := rc.Conn.RemoteAddr().(*net.TCPAddr); ok {
		return "/" + a.IP.String()
	}
	return "/" + rc.Conn.RemoteAddr().String()
}

func (h *Handlers) joinGroup(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.JoinGroupRequest)
	if !ok {
		return nil, fmt.Errorf("joinGroup: unexpected %T", r)
	}
	done := make(chan *kmsg.JoinGroupResponse, 1)
	h.cfg.Group.JoinGroup(req, rc.ClientID(), clientHost(rc), func(resp *kmsg.JoinGroupResponse) { done <- resp })
	select {
	case resp := <-done:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *Handlers) syncGroup(ctx context.Context, _ *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.SyncGroupRequest)
	if !ok {
		return nil, fmt.Errorf("syncGroup: unexpected %T", r)
	}
	done := make(chan *kmsg.SyncGroupResponse, 1)
	h.cfg.Group.SyncGroup(req, func(resp *kmsg.SyncGroupResponse) { done <- resp })
	select {
	case resp := <-done:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// offsetCommit is KafkaApis.handleOffsetCommitRequest: partitions missing from the metadata cache (never created, or
// of a deleted topic, whose offsets the coordinator has just dropped) get UNKNOWN_TOPIC_OR_PARTITION and never reach
// the coordinator; the rest is committed.
func (h *Handlers) offsetCommit(req *kmsg.OffsetCommitRequest) kmsg.Response {
	known := *req
	known.Topics = nil
	unknown := map[group.TopicPartition]bool{}
	for _, t := range req.Topics {
		kt := t
		kt.Partitions = nil
		for _, p := range t.Partitions {
			if h.cache.HasPartition(t.Topic, p.Partition) {
				kt.Partitions = append(kt.Partitions, p)
			} else {
				unknown[group.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = true
			}
		}
		if len(kt.Partitions) > 0 {
			known.Topics = append(known.Topics, kt)
		}
	}
	if len(unknown) == 0 {
		return mergeCommitTopics(h.cfg.Group.OffsetCommit(req))
	}
	codes := map[group.TopicPartition]int16{}
	for tp := range unknown {
		codes[tp] = kerr.UnknownTopicOrPartition.Code
	}
	if len(known.Topics) > 0 {
		for _, t := range h.cfg.Group.OffsetCommit(&known).Topics {
			for _, p := range t.Partitions {
				codes[group.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = p.ErrorCode
			}
		}
	}
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	resp.Version = req.Version
	for _, t := range req.Topics {
		rt := kmsg.OffsetCommitResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, kmsg.OffsetCommitResponseTopicPartition{Partition: p.Partition,
				ErrorCode: codes[group.TopicPartition{Topic: t.Topic, Partition: p.Partition}]})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return mergeCommitTopics(resp)
}

// offsetFetch answers v0 as Kafka 2.8 does: a partition missing from the metadata cache, or one ZooKeeper holds
// no offset for, is UNKNOWN_TOPIC_OR_PARTITION (v1+ answer -1 without an error).
func (h *Handlers) offsetFetch(req *kmsg.OffsetFetchRequest) kmsg.Response {
	resp := h.cfg.Group.OffsetFetch(req)
	if req.Version == 0 {
		for ti := range resp.Topics {
			t := &resp.Topics[ti]
			for pi := range t.Partitions {
				p := &t.Partitions[pi]
				if !h.cache.HasPartition(t.Topic, p.Partition) {
					p.Offset, p.ErrorCode = -1, kerr.UnknownTopicOrPartition.Code
				}
			}
		}
	}
	return mergeFetchTopics(resp)
}

// mergeCommitTopics and mergeFetchTopics shape answers as Kafka, which builds them from a map of partitions: one
// entry per topic, one per partition (a partition asked twice is answered once), whatever the request repeated.
func mergeCommitTopics(resp *kmsg.OffsetCommitResponse) *kmsg.OffsetCommitResponse {
	resp.Topics = mergeTopics(resp.Topics,
		func(t *kmsg.OffsetCommitResponseTopic) string { return t.Topic },
		func(t *kmsg.OffsetCommitResponseTopic) *[]kmsg.OffsetCommitResponseTopicPartition {
			return &t.Partitions
		},
		func(p *kmsg.OffsetCommitResponseTopicPartition) int32 { return p.Partition })
	return resp
}

func mergeFetchTopics(resp *kmsg.OffsetFetchResponse) *kmsg.OffsetFetchResponse {
	resp.Topics = mergeTopics(resp.Topics,
		func(t *kmsg.OffsetFetchResponseTopic) string { return t.Topic },
		func(t *kmsg.OffsetFetchResponseTopic) *[]kmsg.OffsetFetchResponseTopicPartition { return &t.Partitions },
		func(p *kmsg.OffsetFetchResponseTopicPartition) int32 { return p.Partition })
	return resp
}

package handler

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/javanet"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/group"
	"github.com/zkafka/zkafka/kwire"
)

// The group APIs go to the group coordinator (kafkaserver/group) once KafkaApis' checks passed; FindCoordinator is
// in coordinator.go.
func (h *Handlers) registerGroup(mux *kwire.Mux) {
	if h.cfg.Group == nil {
		return
	}
	mux.Handle(kmsg.JoinGroup.Int16(), 0, 7, h.joinGroup)
	mux.Handle(kmsg.SyncGroup.Int16(), 0, 5, h.syncGroup)
	mux.Handle(kmsg.Heartbeat.Int16(), 0, 4, simple(h.heartbeat))
	mux.Handle(kmsg.LeaveGroup.Int16(), 0, 4, simple(h.leaveGroup))
	mux.Handle(kmsg.OffsetCommit.Int16(), 0, 8, simple(h.offsetCommit))
	mux.Handle(kmsg.OffsetFetch.Int16(), 0, 7, simple(h.offsetFetch))
	mux.Handle(kmsg.ListGroups.Int16(), 0, 4, simple(h.listGroups))
	mux.Handle(kmsg.DescribeGroups.Int16(), 0, 5, simple(h.describeGroups))
	mux.Handle(kmsg.DeleteGroups.Int16(), 0, 2, simple(h.deleteGroups))
}

// simple adapts a synchronous handler to a kwire.Handler.
func simple[R kmsg.Request](f func(*kwire.RequestContext, R) kmsg.Response) kwire.Handler {
	return func(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
		req, ok := r.(R)
		if !ok {
			return nil, fmt.Errorf("unexpected %T", r)
		}
		return f(rc, req), nil
	}
}

// groupReadDenied is the check of JoinGroup, SyncGroup, Heartbeat and LeaveGroup: READ on the group.
func (h *Handlers) groupReadDenied(rc *kwire.RequestContext, group string) bool {
	return !h.authorize(rc, kmsg.ACLOperationRead, kmsg.ACLResourceTypeGroup, group)
}

// ibp23 is the first inter.broker.protocol.version with static membership (KIP-345).
var ibp23, _ = serverprops.ParseAPIVersion("2.3-IV0")

// staticUnsupported is KafkaApis' check ahead of JoinGroup, SyncGroup, Heartbeat and OffsetCommit (before their
// authorization, but OffsetCommit's): a group.instance.id below inter.broker.protocol.version 2.3 is refused with
// UNSUPPORTED_VERSION, as a coordinator of an older version would drop it from the stored group.
func (h *Handlers) staticUnsupported(instanceID *string) bool {
	return instanceID != nil && h.props.InterBrokerProtocolVersion.ID < ibp23.ID
}

// groupRefusal is KafkaApis' checks ahead of JoinGroup, SyncGroup and Heartbeat, in its order: static membership
// below inter.broker.protocol.version 2.3, SyncGroup v5+ without its protocol type and name (mandatory from v5:
// missing is given), then READ on the group. 0 lets the request through.
func (h *Handlers) groupRefusal(rc *kwire.RequestContext, group string, instanceID *string, missingProtocol bool) int16 {
	switch {
	case h.staticUnsupported(instanceID):
		return kerr.UnsupportedVersion.Code
	case missingProtocol:
		return kerr.InconsistentGroupProtocol.Code
	case h.groupReadDenied(rc, group):
		return kerr.GroupAuthorizationFailed.Code
	}
	return 0
}

// clientHost is how Kafka records a member's host: the client's InetAddress, which without a name prints as "/"
// and its address ("/" alone for a connection made in a test).
func clientHost(rc *kwire.RequestContext) string {
	return "/" + javanet.RemoteAddressText(rc.Conn.RemoteAddr())
}

func (h *Handlers) joinGroup(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.JoinGroupRequest)
	if !ok {
		return nil, fmt.Errorf("joinGroup: unexpected %T", r)
	}
	if code := h.groupRefusal(rc, req.Group, req.InstanceID, false); code != 0 {
		// JoinGroupResult(UNKNOWN_MEMBER_ID, error): no member id, generation, leader or protocol (null from v7,
		// before "", as kmsg writes a nil one).
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode, resp.Generation = code, -1
		return resp, nil
	}
	done := make(chan *kmsg.JoinGroupResponse, 1)
	h.cfg.Group.JoinGroup(req, rc.ClientID(), clientHost(rc), func(resp *kmsg.JoinGroupResponse) { done <- resp })
	rc.LocalComplete()
	select {
	case resp := <-done:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *Handlers) syncGroup(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.SyncGroupRequest)
	if !ok {
		return nil, fmt.Errorf("syncGroup: unexpected %T", r)
	}
	missing := req.Version >= 5 && (req.ProtocolType == nil || req.Protocol == nil)
	if code := h.groupRefusal(rc, req.Group, req.InstanceID, missing); code != 0 {
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode, resp.MemberAssignment = code, []byte{}
		return resp, nil
	}
	done := make(chan *kmsg.SyncGroupResponse, 1)
	h.cfg.Group.SyncGroup(req, func(resp *kmsg.SyncGroupResponse) { done <- resp })
	rc.LocalComplete()
	select {
	case resp := <-done:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *Handlers) heartbeat(rc *kwire.RequestContext, req *kmsg.HeartbeatRequest) kmsg.Response {
	if code := h.groupRefusal(rc, req.Group, req.InstanceID, false); code != 0 {
		resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = code
		return resp
	}
	return h.cfg.Group.Heartbeat(req)
}

func (h *Handlers) leaveGroup(rc *kwire.RequestContext, req *kmsg.LeaveGroupRequest) kmsg.Response {
	if h.groupReadDenied(rc, req.Group) {
		// The top-level error only, no member answered.
		resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	return h.cfg.Group.LeaveGroup(req)
}

// listGroups is handleListGroupsRequest: every group with DESCRIBE on the cluster, else the groups the principal
// may describe.
func (h *Handlers) listGroups(rc *kwire.RequestContext, req *kmsg.ListGroupsRequest) kmsg.Response {
	resp := h.cfg.Group.ListGroups(req)
	if h.authorizeCluster(rc, kmsg.ACLOperationDescribe) {
		return resp
	}
	ids := make([]string, len(resp.Groups))
	for i, g := range resp.Groups {
		ids[i] = g.Group
	}
	allowed := h.authorizedNames(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeGroup, ids, true)
	resp.Groups, _ = splitAuthorized(resp.Groups, allowed, func(g kmsg.ListGroupsResponseGroup) string { return g.Group })
	return resp
}

// describeGroups is handleDescribeGroupRequest: a group the principal may not describe is answered
// GROUP_AUTHORIZATION_FAILED in its place; v3+ give the others' authorized operations when asked.
func (h *Handlers) describeGroups(rc *kwire.RequestContext, req *kmsg.DescribeGroupsRequest) kmsg.Response {
	denied := make([]bool, len(req.Groups))
	asked := *req
	asked.Groups = nil
	for i, id := range req.Groups {
		denied[i] = !h.authorize(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeGroup, id)
		if !denied[i] {
			asked.Groups = append(asked.Groups, id)
		}
	}
	described := h.cfg.Group.DescribeGroups(&asked).Groups
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	resp.Version = req.Version
	for i, id := range req.Groups {
		if denied[i] {
			// DescribeGroupsResponse.forError: no state, protocol or members.
			g := kmsg.NewDescribeGroupsResponseGroup()
			g.Group, g.ErrorCode = id, kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, g)
			continue
		}
		g := described[0]
		described = described[1:]
		if req.Version >= 3 && req.IncludeAuthorizedOperations && g.ErrorCode == 0 {
			g.AuthorizedOperations = h.authorizedOperations(rc, kmsg.ACLResourceTypeGroup, id)
		}
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}

// deleteGroups is handleDeleteGroupsRequest: groups without DELETE get GROUP_AUTHORIZATION_FAILED, the others go to
// the coordinator.
func (h *Handlers) deleteGroups(rc *kwire.RequestContext, req *kmsg.DeleteGroupsRequest) kmsg.Response {
	allowed := h.authorizedNames(rc, kmsg.ACLOperationDelete, kmsg.ACLResourceTypeGroup, req.Groups, true)
	asked := *req
	asked.Groups, _ = splitAuthorized(req.Groups, allowed, func(id string) string { return id })
	deleted := h.cfg.Group.DeleteGroups(&asked).Groups
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	resp.Version = req.Version
	for _, id := range req.Groups {
		if !allowed[id] {
			resp.Groups = append(resp.Groups, kmsg.DeleteGroupsResponseGroup{Group: id,
				ErrorCode: kerr.GroupAuthorizationFailed.Code})
			continue
		}
		resp.Groups = append(resp.Groups, deleted[0])
		deleted = deleted[1:]
	}
	return resp
}

// offsetCommit is KafkaApis.handleOffsetCommitRequest: without READ on the group every partition fails; partitions
// of topics without READ get TOPIC_AUTHORIZATION_FAILED, and partitions missing from the metadata cache (never
// created, or of a deleted topic, whose offsets the coordinator has just dropped) UNKNOWN_TOPIC_OR_PARTITION; neither
// reaches the coordinator. The rest is committed.
func (h *Handlers) offsetCommit(rc *kwire.RequestContext, req *kmsg.OffsetCommitRequest) kmsg.Response {
	if h.groupReadDenied(rc, req.Group) {
		return offsetCommitRefused(req, kerr.GroupAuthorizationFailed.Code)
	}
	if h.staticUnsupported(req.InstanceID) {
		return offsetCommitRefused(req, kerr.UnsupportedVersion.Code)
	}
	name := func(t *kmsg.OffsetCommitRequestTopic) string { return t.Topic }
	parts := func(t *kmsg.OffsetCommitRequestTopic) *[]kmsg.OffsetCommitRequestTopicPartition { return &t.Partitions }
	id := func(p *kmsg.OffsetCommitRequestTopicPartition) int32 { return p.Partition }
	// Kafka reads the partitions into a map: a partition given twice is committed once, with its last entry.
	req.Topics = mergeTopics(req.Topics, name, parts, id)
	kept, codes := splitCommit(h, rc, req.Topics, name, parts, id)
	known := *req
	known.Topics = kept
	if len(codes) == 0 {
		return h.cfg.Group.OffsetCommit(req)
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
	return resp
}

// splitCommit is what OffsetCommit and TxnOffsetCommit check per partition before the coordinator: partitions of
// topics without READ get TOPIC_AUTHORIZATION_FAILED, partitions missing from the metadata cache
// UNKNOWN_TOPIC_OR_PARTITION. It returns the topics with the partitions left to commit, and the refused codes.
func splitCommit[T, P any](h *Handlers, rc *kwire.RequestContext, topics []T, name func(*T) string,
	parts func(*T) *[]P, id func(*P) int32) (kept []T, refused map[group.TopicPartition]int16) {
	names := make([]string, len(topics))
	for i := range topics {
		names[i] = name(&topics[i])
	}
	readable := h.authorizedNames(rc, kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, names, true)
	refused = map[group.TopicPartition]int16{}
	for i := range topics {
		kt := topics[i]
		keep := parts(&kt) // kt's own slice field: the partitions kept are appended to it afresh
		all := *keep
		*keep = nil
		for j := range all {
			tp := group.TopicPartition{Topic: name(&kt), Partition: id(&all[j])}
			switch {
			case !readable[tp.Topic]:
				refused[tp] = kerr.TopicAuthorizationFailed.Code
			case !h.cache.HasPartition(tp.Topic, tp.Partition):
				refused[tp] = kerr.UnknownTopicOrPartition.Code
			default:
				*keep = append(*keep, all[j])
			}
		}
		if len(*keep) > 0 {
			kept = append(kept, kt)
		}
	}
	return kept, refused
}

// offsetCommitRefused is OffsetCommitRequest.getErrorResponse: every partition as requested, with code.
func offsetCommitRefused(req *kmsg.OffsetCommitRequest, code int16) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	resp.Version = req.Version
	for _, t := range req.Topics {
		rt := kmsg.OffsetCommitResponseTopic{Topic: t.Topic}
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions,
				kmsg.OffsetCommitResponseTopicPartition{Partition: p.Partition, ErrorCode: code})
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// offsetFetch is handleOffsetFetchRequest: without DESCRIBE on the group the request fails; partitions of topics
// without DESCRIBE are answered TOPIC_AUTHORIZATION_FAILED without reaching the coordinator, and a fetch of all
// partitions leaves those topics out. v0 is answered as Kafka 2.8 does: a partition missing from the metadata
// cache, or one ZooKeeper holds no offset for, is UNKNOWN_TOPIC_OR_PARTITION (v1+ answer -1 without an error).
func (h *Handlers) offsetFetch(rc *kwire.RequestContext, req *kmsg.OffsetFetchRequest) kmsg.Response {
	if !h.authorize(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeGroup, req.Group) {
		return offsetFetchRefused(req, kerr.GroupAuthorizationFailed.Code)
	}
	if req.Topics == nil {
		return mergeFetchTopics(h.describableOffsets(rc, h.cfg.Group.OffsetFetch(req)))
	}
	names := make([]string, len(req.Topics))
	for i, t := range req.Topics {
		names[i] = t.Topic
	}
	allowed := h.authorizedNames(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, names, true)
	asked := *req
	// Not nil even when empty: nil would ask for every partition. The coordinator still checks the group.
	asked.Topics, _ = splitAuthorized(req.Topics, allowed, func(t kmsg.OffsetFetchRequestTopic) string { return t.Topic })
	if asked.Topics == nil {
		asked.Topics = []kmsg.OffsetFetchRequestTopic{}
	}
	resp := h.cfg.Group.OffsetFetch(&asked)
	if resp.ErrorCode != 0 && len(asked.Topics) < len(req.Topics) {
		return offsetFetchRefused(req, resp.ErrorCode)
	}
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
	if len(asked.Topics) < len(req.Topics) {
		for _, t := range req.Topics {
			if !allowed[t.Topic] {
				resp.Topics = append(resp.Topics, offsetFetchTopicFailed(t, kerr.TopicAuthorizationFailed.Code))
			}
		}
	}
	return mergeFetchTopics(resp)
}

// describableOffsets drops from an all-partitions answer the topics the principal may not describe.
func (h *Handlers) describableOffsets(rc *kwire.RequestContext, resp *kmsg.OffsetFetchResponse) *kmsg.OffsetFetchResponse {
	if h.cfg.Authorizer == nil || resp.ErrorCode != 0 {
		return resp
	}
	names := make([]string, len(resp.Topics))
	for i, t := range resp.Topics {
		names[i] = t.Topic
	}
	allowed := h.authorizedNames(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, names, true)
	resp.Topics, _ = splitAuthorized(resp.Topics, allowed, func(t kmsg.OffsetFetchResponseTopic) string { return t.Topic })
	return resp
}

// offsetFetchRefused is OffsetFetchRequest.getErrorResponse: the top-level error, and before v2 (which has none)
// every requested partition with it.
func offsetFetchRefused(req *kmsg.OffsetFetchRequest, code int16) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	resp.Version = req.Version
	resp.ErrorCode = code
	if req.Version < 2 {
		for _, t := range req.Topics {
			resp.Topics = append(resp.Topics, offsetFetchTopicFailed(t, code))
		}
	}
	return mergeFetchTopics(resp)
}

// offsetFetchTopicFailed answers a topic's partitions with code and no offset (OffsetFetchResponse's
// UNAUTHORIZED_PARTITION for TOPIC_AUTHORIZATION_FAILED).
func offsetFetchTopicFailed(t kmsg.OffsetFetchRequestTopic, code int16) kmsg.OffsetFetchResponseTopic {
	rt := kmsg.OffsetFetchResponseTopic{Topic: t.Topic}
	for _, p := range t.Partitions {
		rt.Partitions = append(rt.Partitions, kmsg.OffsetFetchResponseTopicPartition{Partition: p, Offset: -1,
			LeaderEpoch: -1, Metadata: kmsg.StringPtr(""), ErrorCode: code})
	}
	return rt
}

// mergeFetchTopics shapes an answer as Kafka, which builds it from a map of partitions: one entry per topic, one
// per partition (a partition asked twice is answered once), whatever the request repeated. (OffsetCommit merges
// its request instead, which its answer follows.)
func mergeFetchTopics(resp *kmsg.OffsetFetchResponse) *kmsg.OffsetFetchResponse {
	resp.Topics = mergeTopics(resp.Topics,
		func(t *kmsg.OffsetFetchResponseTopic) string { return t.Topic },
		func(t *kmsg.OffsetFetchResponseTopic) *[]kmsg.OffsetFetchResponseTopicPartition { return &t.Partitions },
		func(p *kmsg.OffsetFetchResponseTopicPartition) int32 { return p.Partition })
	return resp
}

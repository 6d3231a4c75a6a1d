package handler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kafkaserver/replica"
)

// Codes the tests expect, short.
var (
	topicDenied   = kerr.TopicAuthorizationFailed.Code
	groupDenied   = kerr.GroupAuthorizationFailed.Code
	clusterDenied = kerr.ClusterAuthorizationFailed.Code
	txnDenied     = kerr.TransactionalIDAuthorizationFailed.Code
)

func wantCode(t *testing.T, what string, got, want int16) {
	t.Helper()
	if got != want {
		t.Errorf("%s: error %s (%d), want %s (%d)", what, kerr.ErrorForCode(got), got, kerr.ErrorForCode(want), want)
	}
}

func wantNotCode(t *testing.T, what string, got, notWant int16) {
	t.Helper()
	if got == notWant {
		t.Errorf("%s: error %s, want another", what, kerr.ErrorForCode(got))
	}
}

func wantMessage(t *testing.T, what string, got *string, want string) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s: message %v, want %q", what, strOrNil(got), want)
	}
}

func strOrNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

const (
	topicType   = kmsg.ACLResourceTypeTopic
	groupType   = kmsg.ACLResourceTypeGroup
	txnIDType   = kmsg.ACLResourceTypeTransactionalId
	opRead      = kmsg.ACLOperationRead
	opWrite     = kmsg.ACLOperationWrite
	opCreate    = kmsg.ACLOperationCreate
	opDelete    = kmsg.ACLOperationDelete
	opAlter     = kmsg.ACLOperationAlter
	opDescribe  = kmsg.ACLOperationDescribe
	opClusterAc = kmsg.ACLOperationClusterAction
)

func produceReq(acks int16, txnID *string, records []byte, topics ...string) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis, req.TransactionID = 8, acks, 5000, txnID
	for _, name := range topics {
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = name
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = records
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

// produceCodes maps each topic of a produce response to its (single) partition's error.
func produceCodes(resp *kmsg.ProduceResponse) map[string]kmsg.ProduceResponseTopicPartition {
	out := map[string]kmsg.ProduceResponseTopicPartition{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[t.Topic] = p
		}
	}
	return out
}

func TestAuthorizeProduce(t *testing.T) {
	e := newAuthEnv(t)
	h := e.handlers(t, allow(topicType, "t", opWrite), allow(txnIDType, "tx-ok", opWrite))
	plain := recordBatch(-1, false)

	resp := call[*kmsg.ProduceResponse](t, h.produce, alice, produceReq(1, nil, plain, "t", "secret"))
	got := produceCodes(resp)
	wantCode(t, "t", got["t"].ErrorCode, 0)
	wantCode(t, "secret", got["secret"].ErrorCode, topicDenied)
	if p := got["secret"]; p.BaseOffset != -1 || p.LogAppendTime != -1 || p.LogStartOffset != -1 || p.ErrorMessage != nil {
		t.Errorf("refused partition: %+v", p)
	}

	// Transactional records need WRITE on the transactional id, or the whole request fails.
	pid := int64(1000)
	for _, id := range []*string{nil, kmsg.StringPtr("tx-other")} {
		resp = call[*kmsg.ProduceResponse](t, h.produce, alice, produceReq(1, id, recordBatch(pid, true), "t", "secret"))
		for topic, p := range produceCodes(resp) {
			wantCode(t, "transactional "+topic, p.ErrorCode, txnDenied)
			if p.BaseOffset != -1 || p.ErrorMessage != nil {
				t.Errorf("transactional %s: %+v", topic, p)
			}
		}
	}
	req := produceReq(1, kmsg.StringPtr("tx-ok"), recordBatch(pid, true), "t")
	resp = call[*kmsg.ProduceResponse](t, h.produce, alice, req)
	wantNotCode(t, "transactional allowed", produceCodes(resp)["t"].ErrorCode, txnDenied)

	// An idempotent producer needs nothing more than WRITE on the topic (Kafka 2.8).
	resp = call[*kmsg.ProduceResponse](t, h.produce, alice, produceReq(1, nil, recordBatch(pid+1, false), "t"))
	wantCode(t, "idempotent", produceCodes(resp)["t"].ErrorCode, 0)

	// acks=0: no response; a refused partition closes the connection.
	acks0 := func(topic string) error {
		req := produceReq(0, nil, plain, topic)
		_, err := h.produce(context.Background(), rcAs(alice, req), req)
		return err
	}
	if err := acks0("secret"); err == nil {
		t.Error("acks=0 refused: no error to close the connection")
	}
	if err := acks0("t"); err != nil {
		t.Errorf("acks=0 allowed: %v", err)
	}

	// Without an authorizer every topic is writable.
	resp = call[*kmsg.ProduceResponse](t, e.unauthorized().produce, alice, produceReq(1, nil, plain, "secret"))
	wantCode(t, "no authorizer", produceCodes(resp)["secret"].ErrorCode, 0)
}

func fetchReq(version int16, replicaID int32, topics ...string) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.ReplicaID, req.MaxBytes, req.SessionEpoch = version, replicaID, 1<<20, -1
	for _, name := range topics {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = name
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.PartitionMaxBytes = 1 << 20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func fetchParts(resp *kmsg.FetchResponse) map[string]kmsg.FetchResponseTopicPartition {
	out := map[string]kmsg.FetchResponseTopicPartition{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[t.Topic] = p
		}
	}
	return out
}

func TestAuthorizeFetch(t *testing.T) {
	e := newAuthEnv(t)
	for _, topic := range []string{"t", "secret"} {
		call[*kmsg.ProduceResponse](t, e.unauthorized().produce, admin, produceReq(1, nil, recordBatch(-1, false), topic))
	}
	h := e.handlers(t, allow(topicType, "t", opRead))

	got := fetchParts(call[*kmsg.FetchResponse](t, h.fetch, alice, fetchReq(4, -1, "t", "secret")))
	wantCode(t, "t", got["t"].ErrorCode, 0)
	if len(got["t"].RecordBatches) == 0 {
		t.Error("t: no records")
	}
	wantCode(t, "secret", got["secret"].ErrorCode, topicDenied)
	if p := got["secret"]; p.HighWatermark != -1 || p.LastStableOffset != -1 || p.LogStartOffset != -1 ||
		len(p.RecordBatches) != 0 {
		t.Errorf("refused partition: %+v", p)
	}

	// Only refused partitions: answered at once, not after max_wait.
	req := fetchReq(4, -1, "secret")
	req.MaxWaitMillis, req.MinBytes = 2000, 1
	start := time.Now()
	got = fetchParts(call[*kmsg.FetchResponse](t, h.fetch, alice, req))
	wantCode(t, "secret alone", got["secret"].ErrorCode, topicDenied)
	if d := time.Since(start); d > time.Second {
		t.Errorf("refused fetch waited %v", d)
	}

	// A follower needs CLUSTER_ACTION, for every partition.
	got = fetchParts(call[*kmsg.FetchResponse](t, h.fetch, alice, fetchReq(4, 2, "t", "secret")))
	wantCode(t, "follower t", got["t"].ErrorCode, topicDenied)
	wantCode(t, "follower secret", got["secret"].ErrorCode, topicDenied)
	hf := e.handlers(t, allowCluster(opClusterAc))
	got = fetchParts(call[*kmsg.FetchResponse](t, hf.fetch, alice, fetchReq(4, 2, "t", "secret")))
	wantNotCode(t, "follower allowed t", got["t"].ErrorCode, topicDenied)
	wantNotCode(t, "follower allowed secret", got["secret"].ErrorCode, topicDenied)

	// A fetch session keeps the refused partition and reports it again in incremental fetches (errors are always
	// sent), while the unchanged allowed one is left out.
	req = fetchReq(7, -1, "t", "secret")
	req.SessionID, req.SessionEpoch = 0, 0
	full := call[*kmsg.FetchResponse](t, h.fetch, alice, req)
	if full.SessionID == 0 {
		t.Fatalf("no session: %+v", full)
	}
	got = fetchParts(full)
	wantCode(t, "session secret", got["secret"].ErrorCode, topicDenied)
	inc := fetchReq(7, -1, "t")
	inc.Topics[0].Partitions[0].FetchOffset = 1 // past the record: nothing new
	inc.SessionID, inc.SessionEpoch = full.SessionID, 1
	got = fetchParts(call[*kmsg.FetchResponse](t, h.fetch, alice, inc))
	if _, ok := got["t"]; ok {
		t.Errorf("incremental: unchanged allowed partition sent: %+v", got)
	}
	wantCode(t, "incremental secret", got["secret"].ErrorCode, topicDenied)
}

func metadataReq(version int16, topics ...string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = version
	if topics != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
	}
	for _, name := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func metadataTopics(resp *kmsg.MetadataResponse) (names []string, byName map[string]kmsg.MetadataResponseTopic) {
	byName = map[string]kmsg.MetadataResponseTopic{}
	for _, t := range resp.Topics {
		names = append(names, *t.Topic)
		byName[*t.Topic] = t
	}
	return names, byName
}

func bits(ops ...acl.Operation) int32 { return acl.OperationBits(ops) }

func TestAuthorizeMetadata(t *testing.T) {
	e := newAuthEnv(t)
	h := e.handlers(t, allow(topicType, "t", opRead), allow(topicType, "new1", opDescribe),
		allow(topicType, "new2", opDescribe), allow(topicType, "new2", opCreate))

	// Explicit topics: the ones refused DESCRIBE come last, TOPIC_AUTHORIZATION_FAILED without partitions, whether
	// they exist or not.
	req := metadataReq(9, "secret", "t", "nosuch")
	req.AllowAutoTopicCreation = false
	names, got := metadataTopics(call[*kmsg.MetadataResponse](t, h.metadata, alice, req))
	if len(names) != 3 || names[0] != "t" {
		t.Fatalf("topics %v", names)
	}
	wantCode(t, "t", got["t"].ErrorCode, 0)
	if len(got["t"].Partitions) != 1 {
		t.Errorf("t: partitions %+v", got["t"].Partitions)
	}
	for _, n := range []string{"secret", "nosuch"} {
		wantCode(t, n, got[n].ErrorCode, topicDenied)
		if len(got[n].Partitions) != 0 || got[n].IsInternal || got[n].AuthorizedOperations != noOperations {
			t.Errorf("%s: %+v", n, got[n])
		}
	}

	// All topics: those not describable are left out silently.
	names, _ = metadataTopics(call[*kmsg.MetadataResponse](t, h.metadata, alice, metadataReq(9)))
	if len(names) != 1 || names[0] != "t" {
		t.Errorf("all topics: %v", names)
	}

	// Auto-creation needs CREATE on the cluster or on the topic: new1 (DESCRIBE only) is refused, new2 created.
	req = metadataReq(9, "new1", "new2")
	req.AllowAutoTopicCreation = true
	e.cfg.Props.AutoCreateTopicsEnable = true
	names, got = metadataTopics(call[*kmsg.MetadataResponse](t, h.metadata, alice, req))
	if len(names) != 2 || names[0] != "new2" {
		t.Fatalf("auto-create topics %v", names)
	}
	wantCode(t, "new1", got["new1"].ErrorCode, topicDenied)
	wantCode(t, "new2", got["new2"].ErrorCode, kerr.LeaderNotAvailable.Code)
	if ok, _, err := e.cfg.ZK.GetTopicAssignment("new1"); err != nil || ok.Partitions != nil {
		t.Errorf("new1 created: %+v %v", ok, err)
	}
	hc := e.handlers(t, allow(topicType, "new3", opDescribe), allowCluster(opCreate))
	req = metadataReq(9, "new3")
	req.AllowAutoTopicCreation = true
	_, got = metadataTopics(call[*kmsg.MetadataResponse](t, hc.metadata, alice, req))
	wantCode(t, "new3 with cluster CREATE", got["new3"].ErrorCode, kerr.LeaderNotAvailable.Code)

	// Authorized operations: per topic, and for the cluster (0 without DESCRIBE on it).
	req = metadataReq(8, "t")
	req.IncludeTopicAuthorizedOperations, req.IncludeClusterAuthorizedOperations = true, true
	resp := call[*kmsg.MetadataResponse](t, h.metadata, alice, req)
	_, got = metadataTopics(resp)
	if ops := got["t"].AuthorizedOperations; ops != bits(opRead, opDescribe) {
		t.Errorf("t operations %b", ops)
	}
	if resp.AuthorizedOperations != 0 {
		t.Errorf("cluster operations without DESCRIBE: %b", resp.AuthorizedOperations)
	}
	hd := e.handlers(t, allow(topicType, "t", opRead), allowCluster(opDescribe), allowCluster(kmsg.ACLOperationIdempotentWrite))
	resp = call[*kmsg.MetadataResponse](t, hd.metadata, alice, req)
	if want := bits(opDescribe, kmsg.ACLOperationIdempotentWrite); resp.AuthorizedOperations != want {
		t.Errorf("cluster operations %b, want %b", resp.AuthorizedOperations, want)
	}

	// Without an authorizer: every supported operation (ALTER_CONFIGS is 11, not IDEMPOTENT_WRITE's 12).
	resp = call[*kmsg.MetadataResponse](t, e.unauthorized().metadata, alice, req)
	_, got = metadataTopics(resp)
	want := bits(opRead, opWrite, opCreate, opDelete, opAlter, opDescribe, kmsg.ACLOperationDescribeConfigs,
		kmsg.ACLOperationAlterConfigs)
	if ops := got["t"].AuthorizedOperations; ops != want || ops&(1<<12) != 0 {
		t.Errorf("no authorizer: topic operations %b, want %b", ops, want)
	}
	if want := bits(opCreate, opClusterAc, kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs,
		kmsg.ACLOperationIdempotentWrite, opAlter, opDescribe); resp.AuthorizedOperations != want {
		t.Errorf("no authorizer: cluster operations %b, want %b", resp.AuthorizedOperations, want)
	}
}

func TestAuthorizeListOffsetsAndEpochs(t *testing.T) {
	e := newAuthEnv(t)
	h := e.handlers(t, allow(topicType, "t", opDescribe))
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version, req.ReplicaID = 1, -1
	for _, name := range []string{"secret", "t"} {
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = name
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	resp := call[*kmsg.ListOffsetsResponse](t, h.listOffsets, alice, req)
	if len(resp.Topics) != 2 || resp.Topics[0].Topic != "t" || resp.Topics[1].Topic != "secret" {
		t.Fatalf("topics %+v", resp.Topics)
	}
	wantCode(t, "t", resp.Topics[0].Partitions[0].ErrorCode, 0)
	p := resp.Topics[1].Partitions[0]
	wantCode(t, "secret", p.ErrorCode, topicDenied)
	if p.Offset != -1 || p.Timestamp != -1 {
		t.Errorf("refused partition: %+v", p)
	}

	// OffsetForLeaderEpoch: DESCRIBE per topic, or CLUSTER_ACTION for all.
	ereq := kmsg.NewPtrOffsetForLeaderEpochRequest()
	ereq.Version, ereq.ReplicaID = 3, -1
	for _, name := range []string{"secret", "t"} {
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = name
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.CurrentLeaderEpoch, rp.LeaderEpoch = -1, 0
		rt.Partitions = append(rt.Partitions, rp)
		ereq.Topics = append(ereq.Topics, rt)
	}
	eresp := call[*kmsg.OffsetForLeaderEpochResponse](t, h.offsetForLeaderEpoch, alice, ereq)
	if len(eresp.Topics) != 2 || eresp.Topics[0].Topic != "t" {
		t.Fatalf("epoch topics %+v", eresp.Topics)
	}
	wantCode(t, "epoch t", eresp.Topics[0].Partitions[0].ErrorCode, 0)
	ep := eresp.Topics[1].Partitions[0]
	wantCode(t, "epoch secret", ep.ErrorCode, topicDenied)
	if ep.LeaderEpoch != -1 || ep.EndOffset != -1 {
		t.Errorf("refused epoch partition: %+v", ep)
	}
	hc := e.handlers(t, allowCluster(opClusterAc))
	for _, rt := range call[*kmsg.OffsetForLeaderEpochResponse](t, hc.offsetForLeaderEpoch, alice, ereq).Topics {
		wantCode(t, "epoch with CLUSTER_ACTION "+rt.Topic, rt.Partitions[0].ErrorCode, 0)
	}
}

func commitReq(group string, topics ...string) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.Generation, req.RetentionTimeMillis = 2, group, -1, -1
	for _, name := range topics {
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = name
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Offset = 7
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func offsetFetchReq(version int16, group string, topics ...string) *kmsg.OffsetFetchRequest {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group = version, group
	for _, name := range topics {
		req.Topics = append(req.Topics, kmsg.OffsetFetchRequestTopic{Topic: name, Partitions: []int32{0}})
	}
	return req
}

func fetchedOffsets(resp *kmsg.OffsetFetchResponse) map[string]kmsg.OffsetFetchResponseTopicPartition {
	out := map[string]kmsg.OffsetFetchResponseTopicPartition{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[t.Topic] = p
		}
	}
	return out
}

func TestAuthorizeGroupOffsets(t *testing.T) {
	e := newAuthEnv(t)
	h := e.handlers(t, allow(groupType, "g", opRead), allow(topicType, "t", opRead))
	commit, fetch := simple(h.offsetCommit), simple(h.offsetFetch)
	// admin commits offsets for both topics, so that the fetches below have something to hide.
	call[*kmsg.OffsetCommitResponse](t, simple(e.handlers(t).offsetCommit), admin, commitReq("g", "t", "secret"))

	cresp := call[*kmsg.OffsetCommitResponse](t, commit, alice, commitReq("g", "t", "secret"))
	codes := map[string]int16{}
	for _, rt := range cresp.Topics {
		codes[rt.Topic] = rt.Partitions[0].ErrorCode
	}
	wantCode(t, "commit t", codes["t"], 0)
	wantCode(t, "commit secret", codes["secret"], topicDenied)
	for _, rt := range call[*kmsg.OffsetCommitResponse](t, commit, alice, commitReq("other", "t", "secret")).Topics {
		wantCode(t, "commit other group "+rt.Topic, rt.Partitions[0].ErrorCode, groupDenied)
	}

	got := fetchedOffsets(call[*kmsg.OffsetFetchResponse](t, fetch, alice, offsetFetchReq(1, "g", "t", "secret")))
	wantCode(t, "fetch t", got["t"].ErrorCode, 0)
	if got["t"].Offset != 7 {
		t.Errorf("fetch t: %+v", got["t"])
	}
	wantCode(t, "fetch secret", got["secret"].ErrorCode, topicDenied)
	if got["secret"].Offset != -1 {
		t.Errorf("fetch secret: %+v", got["secret"])
	}
	// All partitions: the topics not describable are left out.
	all := offsetFetchReq(3, "g")
	all.Topics = nil
	got = fetchedOffsets(call[*kmsg.OffsetFetchResponse](t, fetch, alice, all))
	if _, ok := got["secret"]; ok || got["t"].Offset != 7 {
		t.Errorf("all partitions: %+v", got)
	}
	// A group without DESCRIBE: the top-level error from v2, every partition before.
	resp := call[*kmsg.OffsetFetchResponse](t, fetch, alice, offsetFetchReq(5, "other", "t"))
	wantCode(t, "fetch other v5", resp.ErrorCode, groupDenied)
	if len(resp.Topics) != 0 {
		t.Errorf("fetch other v5: %+v", resp.Topics)
	}
	got = fetchedOffsets(call[*kmsg.OffsetFetchResponse](t, fetch, alice, offsetFetchReq(1, "other", "t")))
	wantCode(t, "fetch other v1", got["t"].ErrorCode, groupDenied)

	// OffsetDelete: DELETE on the group, READ on the topics.
	dreq := kmsg.NewPtrOffsetDeleteRequest()
	dreq.Group = "g"
	for _, name := range []string{"t", "secret"} {
		dreq.Topics = append(dreq.Topics, kmsg.OffsetDeleteRequestTopic{Topic: name,
			Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}})
	}
	dresp := call[*kmsg.OffsetDeleteResponse](t, simple(h.offsetDelete), alice, dreq)
	wantCode(t, "offset delete without group DELETE", dresp.ErrorCode, groupDenied)
	hd := e.handlers(t, allow(groupType, "g", opDelete), allow(topicType, "t", opRead))
	dresp = call[*kmsg.OffsetDeleteResponse](t, simple(hd.offsetDelete), alice, dreq)
	wantCode(t, "offset delete", dresp.ErrorCode, 0)
	for _, rt := range dresp.Topics {
		want := int16(0)
		if rt.Topic == "secret" {
			want = topicDenied
		}
		wantCode(t, "offset delete "+rt.Topic, rt.Partitions[0].ErrorCode, want)
	}
}

func TestAuthorizeGroups(t *testing.T) {
	e := newAuthEnv(t)
	h := e.handlers(t, allow(groupType, "g", opRead), allow(groupType, "g2", opDelete))
	for _, g := range []string{"g", "other"} {
		call[*kmsg.OffsetCommitResponse](t, simple(e.handlers(t).offsetCommit), admin, commitReq(g, "t"))
	}

	// FindCoordinator: DESCRIBE on the group or the transactional id.
	freq := kmsg.NewPtrFindCoordinatorRequest()
	freq.Version, freq.CoordinatorKey = 1, "g"
	fresp := call[*kmsg.FindCoordinatorResponse](t, h.findCoordinator, alice, freq)
	if fresp.ErrorCode != 0 || fresp.NodeID != testBroker {
		t.Errorf("find g: %+v", fresp)
	}
	freq.CoordinatorKey = "other"
	fresp = call[*kmsg.FindCoordinatorResponse](t, h.findCoordinator, alice, freq)
	wantCode(t, "find other", fresp.ErrorCode, groupDenied)
	wantMessage(t, "find other", fresp.ErrorMessage, "Group authorization failed.")
	if fresp.NodeID != -1 || fresp.Port != -1 || fresp.Host != "" {
		t.Errorf("find other: node %d %s:%d", fresp.NodeID, fresp.Host, fresp.Port)
	}
	freq.CoordinatorType, freq.CoordinatorKey = 1, "tx"
	fresp = call[*kmsg.FindCoordinatorResponse](t, h.findCoordinator, alice, freq)
	wantCode(t, "find tx", fresp.ErrorCode, txnDenied)
	wantMessage(t, "find tx", fresp.ErrorMessage, "Transactional Id authorization failed.")

	// JoinGroup, SyncGroup, Heartbeat, LeaveGroup: READ on the group.
	jreq := kmsg.NewPtrJoinGroupRequest()
	jreq.Version, jreq.Group, jreq.SessionTimeoutMillis, jreq.RebalanceTimeoutMillis = 5, "other", 10000, 10000
	jreq.ProtocolType, jreq.Protocols = "consumer", []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{}}}
	jresp := call[*kmsg.JoinGroupResponse](t, h.joinGroup, alice, jreq)
	wantCode(t, "join other", jresp.ErrorCode, groupDenied)
	if jresp.Generation != -1 || jresp.MemberID != "" || jresp.LeaderID != "" {
		t.Errorf("join other: %+v", jresp)
	}
	jreq.Group = "g"
	jresp = call[*kmsg.JoinGroupResponse](t, h.joinGroup, alice, jreq)
	wantCode(t, "join g", jresp.ErrorCode, kerr.MemberIDRequired.Code)
	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.Group = "other"
	wantCode(t, "sync other", call[*kmsg.SyncGroupResponse](t, h.syncGroup, alice, sreq).ErrorCode, groupDenied)
	hreq := kmsg.NewPtrHeartbeatRequest()
	hreq.Group = "other"
	wantCode(t, "heartbeat other", call[*kmsg.HeartbeatResponse](t, simple(h.heartbeat), alice, hreq).ErrorCode, groupDenied)
	lreq := kmsg.NewPtrLeaveGroupRequest()
	lreq.Version, lreq.Group = 3, "other"
	lreq.Members = []kmsg.LeaveGroupRequestMember{{MemberID: "m"}}
	lresp := call[*kmsg.LeaveGroupResponse](t, simple(h.leaveGroup), alice, lreq)
	wantCode(t, "leave other", lresp.ErrorCode, groupDenied)
	if len(lresp.Members) != 0 {
		t.Errorf("leave other: members %+v", lresp.Members)
	}

	// DescribeGroups: per group, with the authorized operations asked for.
	dreq := kmsg.NewPtrDescribeGroupsRequest()
	dreq.Version, dreq.Groups, dreq.IncludeAuthorizedOperations = 3, []string{"other", "g"}, true
	dresp := call[*kmsg.DescribeGroupsResponse](t, simple(h.describeGroups), alice, dreq)
	if len(dresp.Groups) != 2 || dresp.Groups[0].Group != "other" || dresp.Groups[1].Group != "g" {
		t.Fatalf("describe: %+v", dresp.Groups)
	}
	other, g := dresp.Groups[0], dresp.Groups[1]
	wantCode(t, "describe other", other.ErrorCode, groupDenied)
	if other.State != "" || other.AuthorizedOperations != noOperations {
		t.Errorf("describe other: %+v", other)
	}
	wantCode(t, "describe g", g.ErrorCode, 0)
	if g.State != "Empty" || g.AuthorizedOperations != bits(opRead, opDescribe) {
		t.Errorf("describe g: state %q operations %b", g.State, g.AuthorizedOperations)
	}
	dresp = call[*kmsg.DescribeGroupsResponse](t, simple(e.unauthorized().describeGroups), alice, dreq)
	if ops := dresp.Groups[1].AuthorizedOperations; ops != bits(opRead, opDescribe, opDelete) {
		t.Errorf("describe without authorizer: operations %b", ops)
	}

	// ListGroups: the groups the principal may describe, or all with DESCRIBE on the cluster.
	listed := func(h *Handlers) []string {
		var ids []string
		for _, g := range call[*kmsg.ListGroupsResponse](t, simple(h.listGroups), alice, kmsg.NewPtrListGroupsRequest()).Groups {
			ids = append(ids, g.Group)
		}
		return ids
	}
	if ids := listed(h); len(ids) != 1 || ids[0] != "g" {
		t.Errorf("list: %v", ids)
	}
	if ids := listed(e.handlers(t, allowCluster(opDescribe))); len(ids) != 2 {
		t.Errorf("list with cluster DESCRIBE: %v", ids)
	}

	// DeleteGroups: DELETE per group, in the request's order.
	xreq := kmsg.NewPtrDeleteGroupsRequest()
	xreq.Groups = []string{"other", "g2"}
	xresp := call[*kmsg.DeleteGroupsResponse](t, simple(h.deleteGroups), alice, xreq)
	if len(xresp.Groups) != 2 {
		t.Fatalf("delete: %+v", xresp.Groups)
	}
	wantCode(t, "delete other", xresp.Groups[0].ErrorCode, groupDenied)
	wantCode(t, "delete g2", xresp.Groups[1].ErrorCode, kerr.GroupIDNotFound.Code)
}

func TestAuthorizeTopicAdmin(t *testing.T) {
	e := newAuthEnv(t)

	// CreateTopics: CREATE on the topic or the cluster; configs only with DESCRIBE_CONFIGS.
	creq := kmsg.NewPtrCreateTopicsRequest()
	// Validated only: there is no controller here to elect leaders, so a creation times out (below).
	creq.Version, creq.TimeoutMillis, creq.ValidateOnly = 5, 0, true
	for _, name := range []string{"c1", "c2"} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
		creq.Topics = append(creq.Topics, rt)
	}
	h := e.handlers(t, allow(topicType, "c1", opCreate))
	cresp := call[*kmsg.CreateTopicsResponse](t, h.createTopics, alice, creq)
	c1, c2 := cresp.Topics[0], cresp.Topics[1]
	wantCode(t, "c1", c1.ErrorCode, 0)
	wantCode(t, "c1 configs", c1.ConfigErrorCode, topicDenied)
	if c1.NumPartitions != -1 || c1.ReplicationFactor != -1 || len(c1.Configs) != 0 || c1.TopicID != ([16]byte{}) {
		t.Errorf("c1 without DESCRIBE_CONFIGS: %+v", c1)
	}
	wantCode(t, "c2", c2.ErrorCode, topicDenied)
	wantMessage(t, "c2", c2.ErrorMessage, "Authorization failed.")
	wantCode(t, "c2 configs", c2.ConfigErrorCode, topicDenied)
	creq.Topics = creq.Topics[1:]
	hc := e.handlers(t, allowCluster(opCreate), allow(topicType, "c2", kmsg.ACLOperationDescribeConfigs))
	c2 = call[*kmsg.CreateTopicsResponse](t, hc.createTopics, alice, creq).Topics[0]
	wantCode(t, "c2 with cluster CREATE", c2.ErrorCode, 0)
	wantCode(t, "c2 configs", c2.ConfigErrorCode, 0)
	if c2.NumPartitions != 1 || len(c2.Configs) == 0 {
		t.Errorf("c2 with DESCRIBE_CONFIGS: %+v", c2)
	}
	// Created with no timeout: REQUEST_TIMED_OUT at once, what the answer says of the topic reset
	// (handleCreateTopicsResults), the topic there all the same.
	creq.ValidateOnly = false
	c2 = call[*kmsg.CreateTopicsResponse](t, hc.createTopics, alice, creq).Topics[0]
	wantCode(t, "c2 created", c2.ErrorCode, kerr.RequestTimedOut.Code)
	wantCode(t, "c2 created configs", c2.ConfigErrorCode, 0)
	if c2.ErrorMessage != nil || c2.NumPartitions != -1 || c2.ReplicationFactor != -1 || len(c2.Configs) != 0 {
		t.Errorf("c2 created, timed out: %+v", c2)
	}
	// A failed creation shows no config error.
	c2 = call[*kmsg.CreateTopicsResponse](t, e.handlers(t, allowCluster(opCreate)).createTopics, alice, creq).Topics[0]
	wantCode(t, "c2 again", c2.ErrorCode, kerr.TopicAlreadyExists.Code)
	wantCode(t, "c2 again configs", c2.ConfigErrorCode, 0)

	// CreatePartitions: ALTER per topic.
	preq := kmsg.NewPtrCreatePartitionsRequest()
	preq.Version, preq.ValidateOnly = 1, true
	for _, name := range []string{"secret", "t"} {
		preq.Topics = append(preq.Topics, kmsg.CreatePartitionsRequestTopic{Topic: name, Count: 2})
	}
	presp := call[*kmsg.CreatePartitionsResponse](t, e.handlers(t, allow(topicType, "t", opAlter)).createPartitions, alice, preq)
	wantCode(t, "partitions secret", presp.Topics[0].ErrorCode, topicDenied)
	wantMessage(t, "partitions secret", presp.Topics[0].ErrorMessage, "The topic authorization is failed.")
	wantCode(t, "partitions t", presp.Topics[1].ErrorCode, 0)
	preq.ValidateOnly, preq.TimeoutMillis, preq.Topics = false, 0, preq.Topics[1:]
	presp = call[*kmsg.CreatePartitionsResponse](t, e.handlers(t, allow(topicType, "t", opAlter)).createPartitions, alice, preq)
	wantCode(t, "partitions t grown with no timeout", presp.Topics[0].ErrorCode, kerr.RequestTimedOut.Code)

	// DeleteTopics: DELETE per topic; by id, the name is hidden without DESCRIBE.
	hd := e.handlers(t, allow(topicType, "victim", opDelete), allow(topicType, "nosuch", opDelete))
	dreq := kmsg.NewPtrDeleteTopicsRequest()
	dreq.Version, dreq.TopicNames, dreq.TimeoutMillis = 5, []string{"secret", "victim", "nosuch"}, 0
	dresp := call[*kmsg.DeleteTopicsResponse](t, hd.deleteTopics, alice, dreq)
	wantCode(t, "delete secret", dresp.Topics[0].ErrorCode, topicDenied)
	wantCode(t, "delete victim", dresp.Topics[1].ErrorCode, kerr.RequestTimedOut.Code) // no timeout
	wantCode(t, "delete nosuch", dresp.Topics[2].ErrorCode, kerr.UnknownTopicOrPartition.Code)
	dreq = kmsg.NewPtrDeleteTopicsRequest()
	dreq.Version, dreq.TimeoutMillis = 6, 0
	for _, name := range []string{"secret", "victim"} {
		dreq.Topics = append(dreq.Topics, kmsg.DeleteTopicsRequestTopic{TopicID: e.ids[name]})
	}
	dreq.Topics = append(dreq.Topics, kmsg.DeleteTopicsRequestTopic{TopicID: [16]byte{99}})
	dresp = call[*kmsg.DeleteTopicsResponse](t, hd.deleteTopics, alice, dreq)
	if r := dresp.Topics[0]; r.ErrorCode != topicDenied || r.Topic != nil || r.TopicID != e.ids["secret"] {
		t.Errorf("delete secret by id: %+v (name %v)", r, strOrNil(r.Topic))
	}
	if r := dresp.Topics[1]; r.ErrorCode != kerr.RequestTimedOut.Code || r.Topic == nil || *r.Topic != "victim" {
		t.Errorf("delete victim by id: %+v (name %v)", r, strOrNil(r.Topic))
	}
	wantCode(t, "delete unknown id", dresp.Topics[2].ErrorCode, kerr.UnknownTopicID.Code)

	// DeleteRecords: DELETE per topic.
	rreq := kmsg.NewPtrDeleteRecordsRequest()
	for _, name := range []string{"secret", "t"} {
		rreq.Topics = append(rreq.Topics, kmsg.DeleteRecordsRequestTopic{Topic: name,
			Partitions: []kmsg.DeleteRecordsRequestTopicPartition{{Partition: 0, Offset: 0}}})
	}
	rresp := call[*kmsg.DeleteRecordsResponse](t, e.handlers(t, allow(topicType, "t", opDelete)).deleteRecords, alice, rreq)
	for _, rt := range rresp.Topics {
		p := rt.Partitions[0]
		switch rt.Topic {
		case "secret":
			wantCode(t, "delete records secret", p.ErrorCode, topicDenied)
			if p.LowWatermark != -1 {
				t.Errorf("delete records secret: low watermark %d", p.LowWatermark)
			}
		default:
			wantCode(t, "delete records t", p.ErrorCode, 0)
		}
	}
}

func TestAuthorizeConfigs(t *testing.T) {
	e := newAuthEnv(t)
	h := e.handlers(t, allow(topicType, "t", kmsg.ACLOperationDescribeConfigs),
		allow(topicType, "t", kmsg.ACLOperationAlterConfigs))
	topic, broker, logger := kmsg.ConfigResourceTypeTopic, kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger

	// DescribeConfigs: the refused resources come last, with the error's message and no configs.
	dreq := kmsg.NewPtrDescribeConfigsRequest()
	dreq.Resources = []kmsg.DescribeConfigsRequestResource{{ResourceType: topic, ResourceName: "secret"},
		{ResourceType: broker, ResourceName: "1"}, {ResourceType: topic, ResourceName: "t"}}
	dresp := call[*kmsg.DescribeConfigsResponse](t, h.describeConfigs, alice, dreq)
	if len(dresp.Resources) != 3 || dresp.Resources[0].ResourceName != "t" || dresp.Resources[1].ResourceName != "secret" {
		t.Fatalf("describe: %+v", dresp.Resources)
	}
	wantCode(t, "describe t", dresp.Resources[0].ErrorCode, 0)
	if len(dresp.Resources[0].Configs) == 0 {
		t.Error("describe t: no configs")
	}
	wantCode(t, "describe secret", dresp.Resources[1].ErrorCode, topicDenied)
	wantMessage(t, "describe secret", dresp.Resources[1].ErrorMessage, "Topic authorization failed.")
	wantCode(t, "describe broker", dresp.Resources[2].ErrorCode, clusterDenied)
	wantMessage(t, "describe broker", dresp.Resources[2].ErrorMessage, "Cluster authorization failed.")
	if len(dresp.Resources[2].Configs) != 0 {
		t.Errorf("describe broker: configs %d", len(dresp.Resources[2].Configs))
	}

	// AlterConfigs: the refused ones last, without a message.
	areq := kmsg.NewPtrAlterConfigsRequest()
	areq.ValidateOnly = true
	areq.Resources = []kmsg.AlterConfigsRequestResource{{ResourceType: topic, ResourceName: "secret"},
		{ResourceType: topic, ResourceName: "t"}}
	aresp := call[*kmsg.AlterConfigsResponse](t, h.alterConfigs, alice, areq)
	if aresp.Resources[0].ResourceName != "t" {
		t.Fatalf("alter: %+v", aresp.Resources)
	}
	wantCode(t, "alter t", aresp.Resources[0].ErrorCode, 0)
	wantCode(t, "alter secret", aresp.Resources[1].ErrorCode, topicDenied)
	if aresp.Resources[1].ErrorMessage != nil {
		t.Errorf("alter secret: message %q", *aresp.Resources[1].ErrorMessage)
	}

	// IncrementalAlterConfigs: a broker logger is a cluster resource.
	ireq := kmsg.NewPtrIncrementalAlterConfigsRequest()
	ireq.ValidateOnly = true
	ireq.Resources = []kmsg.IncrementalAlterConfigsRequestResource{{ResourceType: logger, ResourceName: "1"},
		{ResourceType: topic, ResourceName: "t"}}
	iresp := call[*kmsg.IncrementalAlterConfigsResponse](t, h.incrementalAlterConfigs, alice, ireq)
	wantCode(t, "incremental t", iresp.Resources[0].ErrorCode, 0)
	wantCode(t, "incremental logger", iresp.Resources[1].ErrorCode, clusterDenied)

	// Client quotas and SCRAM credentials: the cluster.
	qresp := call[*kmsg.DescribeClientQuotasResponse](t, h.describeClientQuotas, alice, kmsg.NewPtrDescribeClientQuotasRequest())
	wantCode(t, "describe quotas", qresp.ErrorCode, clusterDenied)
	if qresp.ErrorMessage != nil || qresp.Entries != nil {
		t.Errorf("describe quotas: %+v", qresp)
	}
	aq := kmsg.NewPtrAlterClientQuotasRequest()
	aq.Entries = []kmsg.AlterClientQuotasRequestEntry{{Entity: []kmsg.AlterClientQuotasRequestEntryEntity{
		{Type: "user", Name: kmsg.StringPtr("bob")}}}}
	aqresp := call[*kmsg.AlterClientQuotasResponse](t, h.alterClientQuotas, alice, aq)
	wantCode(t, "alter quotas", aqresp.Entries[0].ErrorCode, clusterDenied)
	wantMessage(t, "alter quotas", aqresp.Entries[0].ErrorMessage, "Cluster authorization failed.")
	hq := e.handlers(t, allowCluster(kmsg.ACLOperationAlterConfigs))
	aqresp = call[*kmsg.AlterClientQuotasResponse](t, hq.alterClientQuotas, alice, aq)
	wantCode(t, "alter quotas allowed", aqresp.Entries[0].ErrorCode, 0)

	sresp := call[*kmsg.DescribeUserSCRAMCredentialsResponse](t, h.describeUserScramCredentials, alice,
		kmsg.NewPtrDescribeUserSCRAMCredentialsRequest())
	wantCode(t, "describe scram", sresp.ErrorCode, clusterDenied)
	sa := kmsg.NewPtrAlterUserSCRAMCredentialsRequest()
	sa.Deletions = []kmsg.AlterUserSCRAMCredentialsRequestDeletion{{Name: "zed", Mechanism: 1}, {Name: "bob", Mechanism: 1}}
	saresp := call[*kmsg.AlterUserSCRAMCredentialsResponse](t, h.alterUserScramCredentials, alice, sa)
	if len(saresp.Results) != 2 || saresp.Results[0].User != "bob" {
		t.Fatalf("alter scram: %+v", saresp.Results)
	}
	wantCode(t, "alter scram", saresp.Results[0].ErrorCode, clusterDenied)
}

func TestAuthorizeProducerIDAndTxn(t *testing.T) {
	e := newAuthEnv(t)
	init := func(h *Handlers, txnID *string, pid int64, epoch int16) *kmsg.InitProducerIDResponse {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.Version, req.TransactionalID, req.TransactionTimeoutMillis = 3, txnID, 60000
		req.ProducerID, req.ProducerEpoch = pid, epoch
		return call[*kmsg.InitProducerIDResponse](t, h.initProducerID, alice, req)
	}
	// Idempotent: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic; refused before the request is checked.
	none := e.handlers(t)
	resp := init(none, nil, -1, -1)
	wantCode(t, "idempotent", resp.ErrorCode, clusterDenied)
	if resp.ProducerID != -1 || resp.ProducerEpoch != -1 {
		t.Errorf("idempotent refused: %+v", resp)
	}
	wantCode(t, "idempotent, bad epoch", init(none, nil, -1, 3).ErrorCode, clusterDenied)
	for name, h := range map[string]*Handlers{
		"IDEMPOTENT_WRITE": e.handlers(t, allowCluster(kmsg.ACLOperationIdempotentWrite)),
		"WRITE on a topic": e.handlers(t, allow(topicType, "t", opWrite)),
	} {
		if resp := init(h, nil, -1, -1); resp.ErrorCode != 0 || resp.ProducerID < 0 {
			t.Errorf("idempotent with %s: %+v", name, resp)
		}
	}
	// Transactional: WRITE on the transactional id.
	wantCode(t, "transactional", init(none, kmsg.StringPtr("tx"), -1, -1).ErrorCode, txnDenied)
	htx := e.handlers(t, allow(txnIDType, "tx", opWrite), allow(topicType, "t", opWrite), allow(groupType, "g", opRead),
		allow(topicType, "t", opRead))
	wantCode(t, "transactional allowed", init(htx, kmsg.StringPtr("tx"), -1, -1).ErrorCode, kerr.NotCoordinator.Code)

	// AddPartitionsToTxn: WRITE on the id, then WRITE on each topic (internal topics never).
	ap := kmsg.NewPtrAddPartitionsToTxnRequest()
	ap.TransactionalID = "tx"
	for _, name := range []string{"t", "secret", replica.GroupMetadataTopic} {
		ap.Topics = append(ap.Topics, kmsg.AddPartitionsToTxnRequestTopic{Topic: name, Partitions: []int32{0}})
	}
	for _, rt := range call[*kmsg.AddPartitionsToTxnResponse](t, none.addPartitionsToTxn, alice, ap).Topics {
		wantCode(t, "add partitions "+rt.Topic, rt.Partitions[0].ErrorCode, txnDenied)
	}
	want := map[string]int16{"t": kerr.OperationNotAttempted.Code, "secret": topicDenied, replica.GroupMetadataTopic: topicDenied}
	for _, rt := range call[*kmsg.AddPartitionsToTxnResponse](t, htx.addPartitionsToTxn, alice, ap).Topics {
		wantCode(t, "add partitions allowed "+rt.Topic, rt.Partitions[0].ErrorCode, want[rt.Topic])
	}

	// AddOffsetsToTxn: WRITE on the id, then READ on the group.
	ao := kmsg.NewPtrAddOffsetsToTxnRequest()
	ao.TransactionalID, ao.Group = "tx", "g"
	wantCode(t, "add offsets", call[*kmsg.AddOffsetsToTxnResponse](t, none.addOffsetsToTxn, alice, ao).ErrorCode, txnDenied)
	hnog := e.handlers(t, allow(txnIDType, "tx", opWrite))
	wantCode(t, "add offsets no group", call[*kmsg.AddOffsetsToTxnResponse](t, hnog.addOffsetsToTxn, alice, ao).ErrorCode,
		groupDenied)
	wantCode(t, "add offsets allowed", call[*kmsg.AddOffsetsToTxnResponse](t, htx.addOffsetsToTxn, alice, ao).ErrorCode,
		kerr.NotCoordinator.Code)

	// EndTxn: WRITE on the id.
	et := kmsg.NewPtrEndTxnRequest()
	et.TransactionalID = "tx"
	wantCode(t, "end txn", call[*kmsg.EndTxnResponse](t, none.endTxn, alice, et).ErrorCode, txnDenied)
	wantCode(t, "end txn allowed", call[*kmsg.EndTxnResponse](t, htx.endTxn, alice, et).ErrorCode, kerr.NotCoordinator.Code)

	// TxnOffsetCommit: WRITE on the id, READ on the group, READ on each topic.
	tc := kmsg.NewPtrTxnOffsetCommitRequest()
	tc.TransactionalID, tc.Group = "tx", "g"
	for _, name := range []string{"t", "secret"} {
		tc.Topics = append(tc.Topics, kmsg.TxnOffsetCommitRequestTopic{Topic: name,
			Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1}}})
	}
	for h, code := range map[*Handlers]int16{none: txnDenied, hnog: groupDenied} {
		for _, rt := range call[*kmsg.TxnOffsetCommitResponse](t, h.txnOffsetCommit, alice, tc).Topics {
			wantCode(t, "txn offset commit "+rt.Topic, rt.Partitions[0].ErrorCode, code)
		}
	}
	for _, rt := range call[*kmsg.TxnOffsetCommitResponse](t, htx.txnOffsetCommit, alice, tc).Topics {
		if rt.Topic == "secret" {
			wantCode(t, "txn offset commit secret", rt.Partitions[0].ErrorCode, topicDenied)
		} else {
			wantNotCode(t, "txn offset commit t", rt.Partitions[0].ErrorCode, topicDenied)
		}
	}

	// WriteTxnMarkers from a connection: CLUSTER_ACTION.
	wm := kmsg.NewPtrWriteTxnMarkersRequest()
	wm.Markers = []kmsg.WriteTxnMarkersRequestMarker{{ProducerID: 5, Topics: []kmsg.WriteTxnMarkersRequestMarkerTopic{
		{Topic: "t", Partitions: []int32{0}}}}}
	wmresp := call[*kmsg.WriteTxnMarkersResponse](t, htx.writeTxnMarkers, alice, wm)
	if len(wmresp.Markers) != 1 || wmresp.Markers[0].ProducerID != 5 {
		t.Fatalf("markers: %+v", wmresp.Markers)
	}
	wantCode(t, "write markers", wmresp.Markers[0].Topics[0].Partitions[0].ErrorCode, clusterDenied)
}

func TestAuthorizeClusterAPIs(t *testing.T) {
	e := newAuthEnv(t)
	h := e.handlers(t)

	// Inter-broker requests: CLUSTER_ACTION, answered with each request's error response.
	lair := e.leaderAndIsr()
	lresp := call[*kmsg.LeaderAndISRResponse](t, h.leaderAndIsr, alice, lair)
	wantCode(t, "LeaderAndIsr", lresp.ErrorCode, clusterDenied)
	if len(lresp.Topics) != len(envTopics) || lresp.Topics[0].TopicID != e.ids[envTopics[0]] {
		t.Fatalf("LeaderAndIsr v5: %+v", lresp.Topics)
	}
	wantCode(t, "LeaderAndIsr partition", lresp.Topics[0].Partitions[0].ErrorCode, clusterDenied)
	lair.Version = 4
	lresp = call[*kmsg.LeaderAndISRResponse](t, h.leaderAndIsr, alice, lair)
	if len(lresp.Partitions) != len(envTopics) || lresp.Partitions[0].Topic != envTopics[0] {
		t.Errorf("LeaderAndIsr v4: %+v", lresp.Partitions)
	}
	updateMetadata := func(h *Handlers, principal string) int16 {
		return call[*kmsg.UpdateMetadataResponse](t, h.updateMetadata, principal, e.updateMetadata()).ErrorCode
	}
	wantCode(t, "UpdateMetadata", updateMetadata(h, alice), clusterDenied)
	wantCode(t, "UpdateMetadata as admin", updateMetadata(h, admin), 0)
	wantCode(t, "UpdateMetadata with CLUSTER_ACTION", updateMetadata(e.handlers(t, allowCluster(opClusterAc)), alice), 0)
	sr := kmsg.NewPtrStopReplicaRequest()
	sr.Version = 3
	sr.Topics = []kmsg.StopReplicaRequestTopic{{Topic: "t",
		PartitionStates: []kmsg.StopReplicaRequestTopicPartitionState{{Partition: 0}}}}
	srresp := call[*kmsg.StopReplicaResponse](t, h.stopReplica, alice, sr)
	wantCode(t, "StopReplica", srresp.ErrorCode, clusterDenied)
	if len(srresp.Partitions) != 1 || srresp.Partitions[0].ErrorCode != clusterDenied {
		t.Errorf("StopReplica: %+v", srresp.Partitions)
	}
	cs := kmsg.NewPtrControlledShutdownRequest()
	csresp := call[*kmsg.ControlledShutdownResponse](t, h.controlledShutdown, alice, cs)
	wantCode(t, "ControlledShutdown", csresp.ErrorCode, clusterDenied)
	isr := call[*kmsg.AlterPartitionResponse](t, h.alterIsr, alice, kmsg.NewPtrAlterPartitionRequest())
	wantCode(t, "AlterIsr", isr.ErrorCode, clusterDenied)

	// DescribeLogDirs: no dirs without DESCRIBE on the cluster.
	ld := kmsg.NewPtrDescribeLogDirsRequest()
	if dirs := call[*kmsg.DescribeLogDirsResponse](t, h.describeLogDirs, alice, ld).Dirs; len(dirs) != 0 {
		t.Errorf("log dirs refused: %+v", dirs)
	}
	hd := e.handlers(t, allowCluster(opDescribe))
	if dirs := call[*kmsg.DescribeLogDirsResponse](t, hd.describeLogDirs, alice, ld).Dirs; len(dirs) != 1 {
		t.Errorf("log dirs: %+v", dirs)
	}

	// DescribeProducers: READ on the topic.
	dp := kmsg.NewPtrDescribeProducersRequest()
	dpt := kmsg.NewDescribeProducersRequestTopic()
	dpt.Topic, dpt.Partitions = "t", []int32{0, 1}
	dp.Topics = append(dp.Topics, dpt)
	for _, rp := range call[*kmsg.DescribeProducersResponse](t, h.describeProducers, alice, dp).Topics[0].Partitions {
		wantCode(t, "DescribeProducers", rp.ErrorCode, kerr.TopicAuthorizationFailed.Code)
	}

	// DescribeCluster: its authorized operations are 0 without DESCRIBE.
	dc := kmsg.NewPtrDescribeClusterRequest()
	dc.IncludeClusterAuthorizedOperations = true
	if ops := call[*kmsg.DescribeClusterResponse](t, h.describeCluster, alice, dc).ClusterAuthorizedOperations; ops != 0 {
		t.Errorf("describe cluster operations refused: %b", ops)
	}
	dcresp := call[*kmsg.DescribeClusterResponse](t, hd.describeCluster, alice, dc)
	if ops := dcresp.ClusterAuthorizedOperations; ops != bits(opDescribe) {
		t.Errorf("describe cluster operations: %b", ops)
	}

	// The controller's admin APIs: ALTER (elections, reassignments) or DESCRIBE (listing) on the cluster.
	el := kmsg.NewPtrElectLeadersRequest()
	el.Version = 1
	el.Topics = []kmsg.ElectLeadersRequestTopic{{Topic: "t", Partitions: []int32{0, 0}},
		{Topic: "secret", Partitions: []int32{0}}}
	elresp := call[*kmsg.ElectLeadersResponse](t, h.electLeaders, alice, el)
	wantCode(t, "ElectLeaders", elresp.ErrorCode, clusterDenied)
	if len(elresp.Topics) != 2 || len(elresp.Topics[0].Partitions) != 1 ||
		elresp.Topics[0].Partitions[0].ErrorCode != clusterDenied || elresp.Topics[0].Partitions[0].ErrorMessage != nil {
		t.Errorf("ElectLeaders: %+v", elresp.Topics)
	}
	el.Topics = nil
	elresp = call[*kmsg.ElectLeadersResponse](t, h.electLeaders, alice, el)
	if len(elresp.Topics) != 0 || elresp.ErrorCode != clusterDenied {
		t.Errorf("ElectLeaders, all partitions: %+v", elresp)
	}
	uf := kmsg.NewPtrUpdateFeaturesRequest()
	uf.FeatureUpdates = []kmsg.UpdateFeaturesRequestFeatureUpdate{{Feature: "x", MaxVersionLevel: 1}}
	ufresp := call[*kmsg.UpdateFeaturesResponse](t, h.updateFeatures, alice, uf)
	wantCode(t, "UpdateFeatures", ufresp.ErrorCode, clusterDenied)
	wantMessage(t, "UpdateFeatures", ufresp.ErrorMessage, "Cluster authorization failed.")
	if len(ufresp.Results) != 0 {
		t.Errorf("UpdateFeatures: %+v", ufresp.Results)
	}
	ar := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	ar.Topics = []kmsg.AlterPartitionAssignmentsRequestTopic{{Topic: "t",
		Partitions: []kmsg.AlterPartitionAssignmentsRequestTopicPartition{{Partition: 0, Replicas: []int32{1}}}}}
	arresp := call[*kmsg.AlterPartitionAssignmentsResponse](t, h.alterPartitionReassignments, alice, ar)
	wantCode(t, "AlterPartitionReassignments", arresp.ErrorCode, clusterDenied)
	if len(arresp.Topics) != 1 || arresp.Topics[0].Partitions[0].ErrorCode != clusterDenied {
		t.Errorf("AlterPartitionReassignments: %+v", arresp.Topics)
	}
	lr := kmsg.NewPtrListPartitionReassignmentsRequest()
	wantCode(t, "ListPartitionReassignments",
		call[*kmsg.ListPartitionReassignmentsResponse](t, h.listPartitionReassignments, alice, lr).ErrorCode, clusterDenied)
}

// KafkaApis' checks ahead of the group APIs' authorization: a group.instance.id below inter.broker.protocol.version
// 2.3 gets UNSUPPORTED_VERSION (OffsetCommit's after its authorization), and SyncGroup v5+ without its protocol type
// or name INCONSISTENT_GROUP_PROTOCOL, both before READ on the group is checked.
func TestGroupChecksBeforeAuthorization(t *testing.T) {
	e := newAuthEnv(t)
	h := e.handlers(t, allow(groupType, "g", opRead))
	instance := "i"
	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.Version, sreq.Group, sreq.Generation, sreq.MemberID = 5, "other", 1, "m"
	wantCode(t, "sync v5 without protocol", call[*kmsg.SyncGroupResponse](t, h.syncGroup, alice, sreq).ErrorCode,
		kerr.InconsistentGroupProtocol.Code)
	sreq.Version = 4
	wantCode(t, "sync v4 without protocol", call[*kmsg.SyncGroupResponse](t, h.syncGroup, alice, sreq).ErrorCode, groupDenied)

	old := *e.cfg.Props
	ibp, err := serverprops.ParseAPIVersion("2.2-IV1")
	if err != nil {
		t.Fatal(err)
	}
	old.InterBrokerProtocolVersion = ibp
	e.cfg.Props = &old
	h = e.handlers(t, allow(groupType, "g", opRead))
	jreq := kmsg.NewPtrJoinGroupRequest()
	jreq.Version, jreq.Group, jreq.InstanceID, jreq.SessionTimeoutMillis = 5, "other", &instance, 10000
	jresp := call[*kmsg.JoinGroupResponse](t, h.joinGroup, alice, jreq)
	wantCode(t, "static join, 2.2", jresp.ErrorCode, kerr.UnsupportedVersion.Code)
	if jresp.Generation != -1 || jresp.MemberID != "" {
		t.Errorf("static join, 2.2: %+v", jresp)
	}
	sreq.Version, sreq.InstanceID = 5, &instance
	wantCode(t, "static sync, 2.2", call[*kmsg.SyncGroupResponse](t, h.syncGroup, alice, sreq).ErrorCode,
		kerr.UnsupportedVersion.Code)
	hreq := kmsg.NewPtrHeartbeatRequest()
	hreq.Version, hreq.Group, hreq.InstanceID = 3, "other", &instance
	wantCode(t, "static heartbeat, 2.2", call[*kmsg.HeartbeatResponse](t, simple(h.heartbeat), alice, hreq).ErrorCode,
		kerr.UnsupportedVersion.Code)
	creq := commitReq("other", "t")
	creq.Version, creq.InstanceID = 7, &instance
	cresp := call[*kmsg.OffsetCommitResponse](t, simple(h.offsetCommit), alice, creq)
	wantCode(t, "static commit to a denied group, 2.2", cresp.Topics[0].Partitions[0].ErrorCode, groupDenied)
	creq.Group = "g"
	cresp = call[*kmsg.OffsetCommitResponse](t, simple(h.offsetCommit), alice, creq)
	wantCode(t, "static commit, 2.2", cresp.Topics[0].Partitions[0].ErrorCode, kerr.UnsupportedVersion.Code)
	jreq.InstanceID, jreq.Group = nil, "g"
	jreq.ProtocolType, jreq.Protocols = "consumer", []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{}}}
	wantCode(t, "dynamic join, 2.2", call[*kmsg.JoinGroupResponse](t, h.joinGroup, alice, jreq).ErrorCode,
		kerr.MemberIDRequired.Code)
}

// A partition named twice in a ListOffsets v1+ request is INVALID_REQUEST at every mention (Kafka's
// duplicatePartitions), the others answered; v0 answers each mention.
func TestListOffsetsDuplicatePartitions(t *testing.T) {
	e := newAuthEnv(t)
	h := e.unauthorized()
	for _, version := range []int16{1, 5, 0} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version, req.ReplicaID = version, -1
		for _, name := range []string{"t", "t2", "t"} {
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = name
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Timestamp, rp.MaxNumOffsets = -1, 1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
		}
		resp := call[*kmsg.ListOffsetsResponse](t, h.listOffsets, alice, req)
		if len(resp.Topics) != 3 {
			t.Fatalf("v%d: topics %+v", version, resp.Topics)
		}
		want := kerr.InvalidRequest.Code
		if version == 0 {
			want = 0
		}
		for i, rt := range resp.Topics {
			w := want
			if rt.Topic == "t2" {
				w = kerr.UnknownTopicOrPartition.Code
			}
			wantCode(t, fmt.Sprintf("v%d %s (%d)", version, rt.Topic, i), rt.Partitions[0].ErrorCode, w)
		}
	}
}

package handler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kafkaserver/assign"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
)

// ibp28 is the first inter.broker.protocol.version whose brokers give new topics an id (KIP-516).
var ibp28, _ = serverprops.ParseAPIVersion("2.8-IV0")

// createTopic is ZkAdminManager.createTopics for one topic: resolve defaults, assign replicas over the live
// brokers the controller told us about, validate, and (unless validateOnly) record its partitions against the
// controller mutation quota mq, then write the config and topic znodes.
func (h *Handlers) createTopic(name string, numPartitions int32, rf int16, manual map[int32][]int32,
	configs map[string]string, validateOnly bool, mq *quota.MutationQuota) (map[int32][]int32, error) {
	if _, ok := h.cache.Topic(name); ok {
		return nil, fmt.Errorf("%w: Topic '%s' already exists.", zkmeta.ErrTopicExists, name)
	}
	if (numPartitions != -1 || rf != -1) && len(manual) > 0 {
		return nil, &messageError{kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments " +
			"were set. Both cannot be used at the same time."}
	}
	if numPartitions == -1 {
		numPartitions = h.props.NumPartitions
	}
	if rf == -1 {
		rf = int16(h.props.DefaultReplicationFactor)
	}
	assignment := manual
	if len(assignment) == 0 {
		var brokers []assign.BrokerMetadata
		for _, b := range h.cache.AliveBrokers() {
			brokers = append(brokers, assign.BrokerMetadata{ID: b.ID, Rack: b.Rack})
		}
		h.rndMu.Lock()
		a, err := assign.ReplicasToBrokers(brokers, numPartitions, rf, -1, -1, h.rnd)
		h.rndMu.Unlock()
		if err != nil {
			return nil, err
		}
		assignment = a
	}
	if err := h.zk.ValidateTopicCreate(name, assignment); err != nil {
		return nil, err
	}
	if err := serverprops.ValidateTopicConfig(configs); err != nil {
		return nil, err
	}
	if validateOnly {
		return assignment, nil
	}
	if err := recordMutations(mq, len(assignment)); err != nil {
		return nil, err
	}
	var id zkmeta.Uuid
	if h.props.InterBrokerProtocolVersion.ID >= ibp28.ID {
		var err error
		if id, err = zkmeta.NewUuid(); err != nil {
			return nil, fmt.Errorf("topic id: %w", err)
		}
	}
	if err := h.zk.CreateTopic(name, assignment, configs, id); err != nil {
		return nil, err
	}
	h.logger.Info("created topic", "topic", name, "partitions", len(assignment))
	return assignment, nil
}

// autoCreateError is the error code Metadata gives a topic missing from the cache, creating it when allowed
// (AutoTopicCreationManager, its partitions counted against the client's controller mutation quota without
// throttling it): LEADER_NOT_AVAILABLE once created or already being created.
func (h *Handlers) autoCreateError(rc *kwire.RequestContext, name string, autoCreate bool) int16 {
	if err := zkmeta.ValidateTopicName(name); err != nil {
		return kerr.InvalidTopicException.Code
	}
	if !autoCreate {
		return kerr.UnknownTopicOrPartition.Code
	}
	if code, ok := h.ensureInternalTopic(rc, name); ok {
		return code
	}
	_, err := h.createTopic(name, -1, -1, nil, map[string]string{}, false, h.autoCreateQuota(rc))
	if err != nil && !errors.Is(err, zkmeta.ErrTopicExists) {
		h.logger.Warn("auto-creating topic failed", "topic", name, "err", err)
		return errCode(err)
	}
	return kerr.LeaderNotAvailable.Code
}

// ensureInternalTopic creates __consumer_offsets or __transaction_state with their own settings, for rc's request
// (whose client's controller mutation quota counts the partitions); ok is false for other topics.
func (h *Handlers) ensureInternalTopic(rc *kwire.RequestContext, name string) (int16, bool) {
	var parts int32
	var rf int16
	var configs map[string]string
	switch name {
	case replica.GroupMetadataTopic:
		parts, rf = h.props.OffsetsTopicPartitions, h.props.OffsetsTopicReplicationFactor
		configs = map[string]string{"cleanup.policy": "compact", "compression.type": "producer",
			"segment.bytes": strconv.Itoa(int(h.props.OffsetsTopicSegmentBytes))}
	case replica.TransactionStateTopic:
		parts, rf = h.props.TransactionStateLogPartitions, h.props.TransactionStateLogReplicationFactor
		configs = map[string]string{"cleanup.policy": "compact", "compression.type": "uncompressed",
			"unclean.leader.election.enable": "false",
			"min.insync.replicas":            strconv.Itoa(int(h.props.TransactionStateLogMinISR)),
			"segment.bytes":                  strconv.Itoa(int(h.props.TransactionStateLogSegmentBytes))}
	default:
		return 0, false
	}
	if len(h.cache.AliveBrokers()) < int(rf) {
		return kerr.CoordinatorNotAvailable.Code, true
	}
	if _, err := h.createTopic(name, parts, rf, nil, configs, false, h.autoCreateQuota(rc)); err != nil &&
		!errors.Is(err, zkmeta.ErrTopicExists) {
		h.logger.Warn("creating internal topic failed", "topic", name, "err", err)
		return errCode(err), true
	}
	return kerr.LeaderNotAvailable.Code, true
}

// waitCache waits until done() holds, re-checking at every metadata cache update, or until timeout.
func (h *Handlers) waitCache(ctx context.Context, timeout time.Duration, done func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		ch := h.cache.Changed()
		if done() {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return done()
		case <-ctx.Done():
			return false
		}
	}
}

// topicReady reports whether the cache has every partition of a topic with a leader (DelayedCreatePartitions).
func (h *Handlers) topicReady(name string, n int) bool {
	tm, ok := h.cache.Topic(name)
	if !ok || len(tm.Partitions) < n {
		return false
	}
	for _, p := range tm.Partitions {
		if p.Leader < 0 {
			return false
		}
	}
	return true
}

// createTopics is KafkaApis.handleCreateTopicsRequest in ZooKeeper mode: write the znodes, then answer once the
// controller has elected leaders for every partition, or REQUEST_TIMED_OUT after timeout_ms. Creating takes CREATE
// on the cluster or on the topic; the created topic's configs, partition count and id are only shown with
// DESCRIBE_CONFIGS on it (else its config error is TOPIC_AUTHORIZATION_FAILED). Each topic's partitions count
// against the client's controller mutation quota, strictly from v6.
func (h *Handlers) createTopics(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.CreateTopicsRequest)
	if !ok {
		return nil, fmt.Errorf("createTopics: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	resp.Version = req.Version
	mq := h.mutationQuota(rc, req.Version >= 6)
	count := map[string]int{}
	names := make([]string, len(req.Topics))
	for i, t := range req.Topics {
		count[t.Topic]++
		names[i] = t.Topic
	}
	if !h.activeController() {
		// Only the controller creates topics; clients send CreateTopics to the broker Metadata names.
		for _, t := range req.Topics {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic, rt.ErrorCode = t.Topic, kerr.NotController.Code
			resp.Topics = append(resp.Topics, rt)
		}
		resp.ThrottleMillis = h.mutationThrottle(rc, mq)
		return resp, nil
	}
	creatable := h.creatableTopics(rc, names)
	describable := h.authorizedNames(rc, kmsg.ACLOperationDescribeConfigs, kmsg.ACLResourceTypeTopic, names, false)
	created := map[int]int{} // response index -> partitions to wait for
	for _, t := range req.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = t.Topic, -1, -1
		if !describable[t.Topic] {
			rt.ConfigErrorCode = kerr.TopicAuthorizationFailed.Code
		}
		var refused *messageError
		switch {
		case count[t.Topic] > 1:
			refused = &messageError{kerr.InvalidRequest, "Duplicate topic name."}
		case !creatable[t.Topic]:
			refused = &messageError{kerr.TopicAuthorizationFailed, "Authorization failed."}
		}
		if refused != nil {
			rt.ErrorCode, rt.ErrorMessage = apiError(refused)
			if req.Version < 1 {
				rt.ErrorMessage = nil
			}
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		manual := map[int32][]int32{}
		for _, a := range t.ReplicaAssignment {
			manual[a.Partition] = a.Replicas
		}
		configs := map[string]string{}
		for _, c := range t.Configs {
			if c.Value != nil {
				configs[c.Name] = *c.Value
			}
		}
		assignment, err := h.createTopic(t.Topic, t.NumPartitions, t.ReplicationFactor, manual, configs, req.ValidateOnly, mq)
		switch {
		case err != nil:
			// A failed creation shows no config error (handleCreateTopicsResults resets it).
			rt.ErrorCode, rt.ErrorMessage = apiError(err)
			rt.ConfigErrorCode = 0
		case describable[t.Topic]:
			rt.NumPartitions = int32(len(assignment))
			rt.ReplicationFactor = int16(len(assignment[0]))
			if req.Version >= 5 {
				rt.Configs = describedConfigs(h.props.DescribeTopic(configs))
			}
		}
		if err == nil && !req.ValidateOnly {
			created[len(resp.Topics)] = len(assignment)
		}
		if req.Version < 1 {
			rt.ErrorMessage = nil
		}
		resp.Topics = append(resp.Topics, rt)
	}
	// handleCreateTopicsResults resets what the answer says of a topic that timed out.
	for _, i := range h.awaitResults(ctx, rc, req.TimeoutMillis, created,
		func(i, n int) bool { return h.topicReady(resp.Topics[i].Topic, n) }) {
		rt := &resp.Topics[i]
		rt.ErrorCode, rt.ErrorMessage, rt.ConfigErrorCode = kerr.RequestTimedOut.Code, nil, 0
		rt.NumPartitions, rt.ReplicationFactor, rt.Configs = -1, -1, nil
	}
	for i := range resp.Topics {
		if tm, ok := h.cache.Topic(resp.Topics[i].Topic); ok && describable[resp.Topics[i].Topic] {
			resp.Topics[i].TopicID = tm.ID
		}
	}
	resp.ThrottleMillis = h.mutationThrottle(rc, mq)
	return resp, nil
}

// awaitResults is ZkAdminManager's wait for what an admin request did to show in the metadata: up to the
// request's timeout (remote time: the request waits) until done holds for every result it names (response index ->
// what to wait for). It returns the results that timed out, in index order: every one with no timeout, as Kafka
// answers those REQUEST_TIMED_OUT at once.
func (h *Handlers) awaitResults(ctx context.Context, rc *kwire.RequestContext, timeoutMs int32, results map[int]int,
	done func(i, n int) bool) []int {
	if len(results) > 0 && timeoutMs > 0 {
		rc.LocalComplete()
		h.waitCache(ctx, time.Duration(timeoutMs)*time.Millisecond, func() bool {
			for i, n := range results {
				if !done(i, n) {
					return false
				}
			}
			return true
		})
	}
	var late []int
	for _, i := range slices.Sorted(maps.Keys(results)) {
		if timeoutMs <= 0 || !done(i, results[i]) {
			late = append(late, i)
		}
	}
	return late
}

// creatableTopics is handleCreateTopicsRequest's CREATE check: every name with CREATE on the cluster (its denial
// not logged), else the names with CREATE on the topic.
func (h *Handlers) creatableTopics(rc *kwire.RequestContext, names []string) map[string]bool {
	if h.authorizeQuietly(rc, kmsg.ACLOperationCreate, kmsg.ACLResourceTypeCluster, acl.ClusterName) {
		all := make(map[string]bool, len(names))
		for _, n := range names {
			all[n] = true
		}
		return all
	}
	return h.authorizedNames(rc, kmsg.ACLOperationCreate, kmsg.ACLResourceTypeTopic, names, true)
}

func describedConfigs(entries []serverprops.ConfigEntry) []kmsg.CreateTopicsResponseTopicConfig {
	out := make([]kmsg.CreateTopicsResponseTopicConfig, 0, len(entries))
	for _, e := range entries {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = e.Name, e.Value, e.ReadOnly, int8(e.Source), e.IsSensitive
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// deleteTopics is KafkaApis.handleDeleteTopicsRequest in ZooKeeper mode: mark each topic under
// /admin/delete_topics and answer once the controller has removed it from the metadata cache (or REQUEST_TIMED_OUT).
// A topic needs DELETE; one named by id also DESCRIBE, without which its name is not returned. Each topic's
// partitions count against the client's controller mutation quota (strictly from v5) before it is marked, even
// when it already was.
func (h *Handlers) deleteTopics(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DeleteTopicsRequest)
	if !ok {
		return nil, fmt.Errorf("deleteTopics: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	resp.Version = req.Version
	mq := h.mutationQuota(rc, req.Version >= 5)
	type target struct {
		name *string // as requested; nil when named by id
		id   [16]byte
		// resolved is the name, looked up for an id (nil: no topic has it).
		resolved *string
	}
	var targets []target
	for _, n := range req.TopicNames {
		targets = append(targets, target{name: &n, resolved: &n})
	}
	for _, t := range req.Topics {
		tg := target{name: t.Topic, id: t.TopicID, resolved: t.Topic}
		if t.Topic == nil {
			tg.resolved = h.topicNameByID(t.TopicID)
		}
		targets = append(targets, tg)
	}
	count := map[string]int{}
	var names []string
	for _, t := range targets {
		if t.name != nil {
			count[*t.name]++
		}
		if t.resolved != nil {
			names = append(names, *t.resolved)
		}
	}
	// Only the controller deletes topics (and authorizes nothing when it is not it).
	active := h.activeController()
	var describable, deletable map[string]bool
	if active && h.props.DeleteTopicEnable {
		describable = h.authorizedNames(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, names, true)
		deletable = h.authorizedNames(rc, kmsg.ACLOperationDelete, kmsg.ACLResourceTypeTopic, names, true)
	}
	pending := map[int]int{} // response index -> 0
	for _, t := range targets {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic, rt.TopicID = t.name, t.id
		var err error
		switch {
		case !active:
			err = kerr.NotController
		case !h.props.DeleteTopicEnable:
			err = kerr.TopicDeletionDisabled
			if req.Version < 3 {
				err = kerr.InvalidRequest
			}
		case t.name == nil && t.resolved == nil:
			err = kerr.UnknownTopicID
		case t.name == nil && !describable[*t.resolved]:
			// The id is not secret, its topic's name is.
			err = kerr.TopicAuthorizationFailed
		case t.name == nil:
			rt.Topic = t.resolved
		case count[*t.name] > 1:
			err = kerr.InvalidRequest
		}
		if err == nil && !deletable[*rt.Topic] {
			err = kerr.TopicAuthorizationFailed
		}
		if err == nil {
			if tm, ok := h.cache.Topic(*rt.Topic); !ok {
				err = kerr.UnknownTopicOrPartition
			} else {
				rt.TopicID = tm.ID
				err = recordMutations(mq, len(tm.Partitions))
				if err == nil {
					if cerr := h.zk.CreateDeleteTopicPath(*rt.Topic); cerr != nil && !errors.Is(cerr, zk.ErrNodeExists) {
						err = fmt.Errorf("mark %s for deletion: %w", *rt.Topic, cerr)
					}
				}
			}
		}
		if err != nil {
			rt.ErrorCode = errCode(err)
		} else {
			pending[len(resp.Topics)] = 0
		}
		resp.Topics = append(resp.Topics, rt)
	}
	for _, i := range h.awaitResults(ctx, rc, req.TimeoutMillis, pending, func(i, _ int) bool {
		_, ok := h.cache.Topic(*resp.Topics[i].Topic)
		return !ok
	}) {
		resp.Topics[i].ErrorCode = kerr.RequestTimedOut.Code
	}
	resp.ThrottleMillis = h.mutationThrottle(rc, mq)
	return resp, nil
}

// topicNameByID is the name of the topic with id in the metadata cache; nil for none (or the zero id).
func (h *Handlers) topicNameByID(id [16]byte) *string {
	if id == ([16]byte{}) {
		return nil
	}
	for _, n := range h.cache.Topics() {
		if tm, ok := h.cache.Topic(n); ok && tm.ID == id {
			return &n
		}
	}
	return nil
}

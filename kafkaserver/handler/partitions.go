package handler

import (
	"context"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/assign"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
)

// createPartitions is KafkaApis.handleCreatePartitionsRequest in ZooKeeper mode (ZkAdminManager.createPartitions),
// for topics the principal may ALTER: extend each topic's znode with the new partitions' replicas, then answer once
// the controller has elected their leaders, or REQUEST_TIMED_OUT after timeout_ms. The partitions added count
// against the client's controller mutation quota, strictly from v3.
func (h *Handlers) createPartitions(ctx context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.CreatePartitionsRequest)
	if !ok {
		return nil, fmt.Errorf("createPartitions: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	resp.Version = req.Version
	mq := h.mutationQuota(rc, req.Version >= 3)
	count := map[string]int{}
	for _, t := range req.Topics {
		count[t.Topic]++
	}
	isController := h.activeController()
	// ALTER on each topic, asked for the topics named once, on the controller only (as KafkaApis).
	var single []string
	for _, t := range req.Topics {
		if count[t.Topic] == 1 && isController {
			single = append(single, t.Topic)
		}
	}
	alterable := h.authorizedNames(rc, kmsg.ACLOperationAlter, kmsg.ACLResourceTypeTopic, single, true)
	grown := map[int]int{} // response index -> partitions to wait for
	answered := map[string]bool{}
	for _, t := range req.Topics {
		// Kafka's results are a map by topic name: a name asked for twice is answered once.
		if answered[t.Topic] {
			continue
		}
		answered[t.Topic] = true
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic = t.Topic
		var err error
		switch {
		case !isController:
			err = kerr.NotController
		case count[t.Topic] > 1:
			err = &messageError{kerr.InvalidRequest, "Duplicate topic in request."}
		case !alterable[t.Topic]:
			err = &messageError{kerr.TopicAuthorizationFailed, "The topic authorization is failed."}
		default:
			err = h.createTopicPartitions(t, req.ValidateOnly, mq)
		}
		if err != nil {
			rt.ErrorCode, rt.ErrorMessage = apiError(err)
		} else if !req.ValidateOnly {
			grown[len(resp.Topics)] = int(t.Count)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	for _, i := range h.awaitResults(ctx, rc, req.TimeoutMillis, grown,
		func(i, n int) bool { return h.topicReady(resp.Topics[i].Topic, n) }) {
		resp.Topics[i].ErrorCode, resp.Topics[i].ErrorMessage = kerr.RequestTimedOut.Code, nil
	}
	resp.ThrottleMillis = h.mutationThrottle(rc, mq)
	return resp, nil
}

// createTopicPartitions validates and writes one topic's new partitions (AdminZkClient.createNewPartitionsAssignment
// and createPartitionsWithAssignment), once they are recorded against mq. The topic id and existing partitions are
// kept as they are.
func (h *Handlers) createTopicPartitions(t kmsg.CreatePartitionsRequestTopic, validateOnly bool, mq *quota.MutationQuota) error {
	deleting, err := h.zk.IsTopicMarkedForDeletion(t.Topic)
	if err != nil {
		return fmt.Errorf("create partitions of %s: %w", t.Topic, err)
	}
	if deleting {
		return &messageError{kerr.InvalidTopicException, "The topic is queued for deletion."}
	}
	ta, ok, err := h.zk.GetTopicAssignment(t.Topic)
	if err != nil {
		return fmt.Errorf("create partitions of %s: %w", t.Topic, err)
	}
	if !ok || len(ta.Partitions) == 0 {
		return &messageError{kerr.UnknownTopicOrPartition, fmt.Sprintf("The topic '%s' does not exist.", t.Topic)}
	}
	old := int32(len(ta.Partitions))
	switch {
	case t.Count < old:
		return &messageError{kerr.InvalidPartitions,
			fmt.Sprintf("Topic currently has %d partitions, which is higher than the requested %d.", old, t.Count)}
	case t.Count == old:
		return &messageError{kerr.InvalidPartitions, fmt.Sprintf("Topic already has %d partitions.", old)}
	}
	add := t.Count - old
	p0 := ta.Partitions[0].Replicas
	rf := len(p0)

	var brokers []assign.BrokerMetadata
	for _, b := range h.cache.AliveBrokers() {
		brokers = append(brokers, assign.BrokerMetadata{ID: b.ID, Rack: b.Rack})
	}
	slices.SortFunc(brokers, func(a, b assign.BrokerMetadata) int { return int(a.ID) - int(b.ID) })

	var added map[int32][]int32
	if t.Assignment != nil {
		if int32(len(t.Assignment)) != add {
			return &messageError{kerr.InvalidReplicaAssignment,
				fmt.Sprintf("Increasing the number of partitions by %d but %d assignments provided.", add, len(t.Assignment))}
		}
		added = map[int32][]int32{}
		for i, a := range t.Assignment {
			for _, id := range a.Replicas {
				if !slices.ContainsFunc(brokers, func(b assign.BrokerMetadata) bool { return b.ID == id }) {
					return &messageError{kerr.InvalidReplicaAssignment,
						fmt.Sprintf("Unknown broker(s) in replica assignment: %d.", id)}
				}
			}
			if len(a.Replicas) != rf {
				return &messageError{kerr.InvalidReplicaAssignment,
					fmt.Sprintf("Inconsistent replication factor between partitions, partition 0 has %d while partition %d has %d.",
						rf, old+int32(i), len(a.Replicas))}
			}
			added[old+int32(i)] = a.Replicas
		}
	} else {
		// The new partitions continue the round robin where partition 0's first replica sits.
		start := slices.IndexFunc(brokers, func(b assign.BrokerMetadata) bool { return b.ID >= p0[0] })
		start = max(start, 0)
		h.rndMu.Lock()
		added, err = assign.ReplicasToBrokers(brokers, add, int16(rf), int32(start), old, h.rnd)
		h.rndMu.Unlock()
		if err != nil {
			return err
		}
	}
	if validateOnly {
		return nil
	}
	if err := recordMutations(mq, int(add)); err != nil {
		return err
	}
	for p, replicas := range added {
		ta.Partitions[p] = zkmeta.ReplicaAssignment{Replicas: replicas}
	}
	if err := h.zk.SetTopicAssignment(t.Topic, ta, zkmeta.MatchAnyVersion); err != nil {
		return fmt.Errorf("create partitions of %s: %w", t.Topic, err)
	}
	h.logger.Info("added partitions", "topic", t.Topic, "from", old, "to", t.Count)
	return nil
}

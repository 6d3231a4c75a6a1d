package controller

import (
	"reflect"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/metrics"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

func (w *world) createTopic(name string, parts map[int32][]int32) {
	ta := zkmeta.TopicAssignment{Version: 3, Partitions: map[int32]zkmeta.ReplicaAssignment{}, TopicID: zkmeta.Uuid{1}}
	for p, r := range parts {
		ta.Partitions[p] = zkmeta.ReplicaAssignment{Replicas: r}
	}
	w.topics[name] = ta
	w.apply(w.core.Handle(TopicsChanged{Topics: w.topicNames(), Assignments: map[string]zkmeta.TopicAssignment{name: ta}}))
}

func (w *world) kill(id int32) Output {
	delete(w.brokers, id)
	out := w.core.Handle(BrokersChanged{Brokers: w.brokerList()})
	w.apply(out)
	return out
}

func (w *world) state(topic string, p int32) zkmeta.PartitionState {
	s, ok := w.states[TopicPartition{Topic: topic, Partition: p}]
	if !ok {
		w.t.Fatalf("no state for %s-%d", topic, p)
	}
	return s
}

func wantState(t *testing.T, got zkmeta.PartitionState, leader, epoch int32, isr ...int32) {
	t.Helper()
	if got.Leader != leader || got.LeaderEpoch != epoch || !reflect.DeepEqual(got.ISR, isr) {
		t.Fatalf("state %+v, want leader %d epoch %d isr %v", got, leader, epoch, isr)
	}
}

func requestsOf[T kmsg.Request](out Output) map[int32][]T {
	m := map[int32][]T{}
	for _, r := range out.Requests {
		if x, ok := r.Msg.(T); ok {
			m[r.Broker] = append(m[r.Broker], x)
		}
	}
	return m
}

func TestNewTopicAndBrokerFailure(t *testing.T) {
	w := newWorld(t, 0, 3)
	w.kill(0)
	out := w.core.Handle(TopicsChanged{Topics: []string{"a"}, Assignments: map[string]zkmeta.TopicAssignment{"a": {
		Partitions: map[int32]zkmeta.ReplicaAssignment{0: {Replicas: []int32{0, 1, 2}}, 1: {Replicas: []int32{2}}}}}})
	w.topics["a"] = zkmeta.TopicAssignment{Partitions: map[int32]zkmeta.ReplicaAssignment{0: {Replicas: []int32{0, 1, 2}}, 1: {Replicas: []int32{2}}}}
	w.apply(out)
	// First live replica leads; the ISR is the live replicas.
	wantState(t, w.state("a", 0), 1, 0, 1, 2)
	wantState(t, w.state("a", 1), 2, 0, 2)
	lai := requestsOf[*kmsg.LeaderAndISRRequest](out)
	if len(lai) != 2 || !lai[1][0].TopicStates[0].PartitionStates[0].IsNew {
		t.Fatalf("LeaderAndIsr %+v", lai)
	}
	if um := requestsOf[*kmsg.UpdateMetadataRequest](out); len(um) != 2 {
		t.Fatalf("UpdateMetadata to %d brokers", len(um))
	}
	// a-0 is led by 1, not its preferred 0.
	wantMetrics(t, w.core, metrics.Controller{ActiveControllerCount: 1, GlobalTopicCount: 1, GlobalPartitionCount: 2,
		PreferredReplicaImbalanceCount: 1})
	// Leader 2 dies: a-1 keeps its one-member ISR with no leader; a-0 keeps leader 1 and shrinks.
	w.kill(2)
	wantState(t, w.state("a", 1), -1, 1, 2)
	wantState(t, w.state("a", 0), 1, 1, 1)
	wantMetrics(t, w.core, metrics.Controller{ActiveControllerCount: 1, OfflinePartitionsCount: 1, GlobalTopicCount: 1,
		GlobalPartitionCount: 2, PreferredReplicaImbalanceCount: 2})
	// Broker 0 returns: nothing to elect for a-1 (clean), a-0 unchanged until its leader expands the ISR.
	w.register(0)
	w.apply(w.core.Handle(BrokersChanged{Brokers: w.brokerList()}))
	wantState(t, w.state("a", 1), -1, 1, 2)
	// Broker 2 returns: a-1 is led again.
	w.register(2)
	w.apply(w.core.Handle(BrokersChanged{Brokers: w.brokerList()}))
	wantState(t, w.state("a", 1), 2, 2, 2)
	wantMetrics(t, w.core, metrics.Controller{ActiveControllerCount: 1, GlobalTopicCount: 1, GlobalPartitionCount: 2,
		PreferredReplicaImbalanceCount: 1})
	// A core that is not the controller reports nothing, as Kafka's gauges read zero on other brokers.
	if m := NewCore(Config{}).Metrics(); m != (metrics.Controller{}) {
		t.Fatalf("inactive core: %+v", m)
	}
}

func wantMetrics(t *testing.T, c *Core, want metrics.Controller) {
	t.Helper()
	if got := c.Metrics(); got != want {
		t.Fatalf("metrics %+v, want %+v", got, want)
	}
}

func TestUncleanElection(t *testing.T) {
	w := newWorld(t, 0, 3)
	w.core.cfg.UncleanTopics = map[string]bool{"u": true}
	w.createTopic("u", map[int32][]int32{0: {0, 1}})
	// Make the ISR just [0], then lose 0: 1 is elected uncleanly.
	s := w.state("u", 0)
	s.ISR = []int32{0}
	s.ZkVersion++
	w.states[TopicPartition{Topic: "u"}] = s
	w.apply(w.core.Handle(PartitionStatesRead{States: map[TopicPartition]zkmeta.PartitionState{{Topic: "u"}: s}, Notify: true}))
	w.kill(0)
	wantState(t, w.state("u", 0), 1, 1, 1)
}

func TestControlledShutdownAndPreferredElection(t *testing.T) {
	w := newWorld(t, 0, 3)
	w.createTopic("c", map[int32][]int32{0: {0, 1}, 1: {1, 0}, 2: {0}})
	out := w.core.Handle(ControlledShutdown{BrokerID: 0, BrokerEpoch: w.brokers[0].Epoch})
	w.apply(out)
	if out.Shutdown == nil || out.Shutdown.ErrorCode != 0 || len(out.Shutdown.Remaining) != 0 {
		t.Fatalf("shutdown %+v", out.Shutdown)
	}
	wantState(t, w.state("c", 0), 1, 1, 1)
	wantState(t, w.state("c", 1), 1, 1, 1)
	wantState(t, w.state("c", 2), 0, 0, 0) // RF 1: untouched
	stop := requestsOf[*kmsg.StopReplicaRequest](out)[0]
	if len(stop) != 1 || stop[0].Topics[0].PartitionStates[0].Partition != 1 || stop[0].Topics[0].PartitionStates[0].Delete {
		t.Fatalf("StopReplica %+v", stop)
	}
	stale := w.core.Handle(ControlledShutdown{BrokerID: 1, BrokerEpoch: w.brokers[1].Epoch - 1})
	if stale.Shutdown.ErrorCode != errStaleBrokerEpoch {
		t.Fatalf("stale epoch: %+v", stale.Shutdown)
	}
	// 0 restarts and catches up; a preferred election moves c-0 back to it.
	w.register(0)
	w.apply(w.core.Handle(BrokersChanged{Brokers: w.brokerList()}))
	s := w.state("c", 0)
	s.ISR = []int32{1, 0}
	s.ZkVersion++
	w.states[TopicPartition{Topic: "c"}] = s
	w.apply(w.core.Handle(PartitionStatesRead{States: map[TopicPartition]zkmeta.PartitionState{{Topic: "c"}: s}, Notify: true}))
	out = w.core.Handle(PreferredElectionRequested{Partitions: []TopicPartition{{Topic: "c"}, {Topic: "c", Partition: 1}}})
	w.apply(out)
	wantState(t, w.state("c", 0), 0, 2, 1, 0)
	wantState(t, w.state("c", 1), 1, 1, 1)
	if last := out.Writes[len(out.Writes)-1]; last.Kind != DeletePreferredElection {
		t.Fatalf("last write %+v", last)
	}
}

func TestTopicDeletion(t *testing.T) {
	w := newWorld(t, 0, 3)
	w.createTopic("d", map[int32][]int32{0: {0, 1}})
	w.kill(1)
	w.markers["d"] = true
	out := w.core.Handle(DeleteTopicsRequested{Topics: []string{"d"}})
	w.apply(out)
	um := requestsOf[*kmsg.UpdateMetadataRequest](out)[0]
	if len(um) == 0 || um[0].TopicStates[0].PartitionStates[0].Leader != LeaderDuringDelete {
		t.Fatalf("UpdateMetadata %+v", um)
	}
	stops := requestsOf[*kmsg.StopReplicaRequest](out)[0]
	if len(stops) != 2 || stops[0].Topics[0].PartitionStates[0].Delete || !stops[1].Topics[0].PartitionStates[0].Delete {
		t.Fatalf("StopReplica %+v", stops)
	}
	w.apply(w.core.Handle(w.pendingDeletes[0]))
	w.pendingDeletes = nil
	if _, ok := w.topics["d"]; !ok {
		t.Fatal("deleted while replica 1 is down")
	}
	// Queued for deletion: counted as such, and not among offline or imbalanced partitions.
	wantMetrics(t, w.core, metrics.Controller{ActiveControllerCount: 1, GlobalTopicCount: 1, GlobalPartitionCount: 1, TopicsToDeleteCount: 1})
	w.register(1)
	w.apply(w.core.Handle(BrokersChanged{Brokers: w.brokerList()}))
	if len(w.pendingDeletes) != 1 || w.pendingDeletes[0].Broker != 1 {
		t.Fatalf("deletion not resumed on 1: %+v", w.pendingDeletes)
	}
	w.apply(w.core.Handle(w.pendingDeletes[0]))
	if _, ok := w.topics["d"]; ok || w.markers["d"] || len(w.states) != 0 {
		t.Fatalf("topic d not deleted: %v %v %v", w.topics, w.markers, w.states)
	}
	wantMetrics(t, w.core, metrics.Controller{ActiveControllerCount: 1})
}

func TestReassignment(t *testing.T) {
	w := newWorld(t, 0, 4)
	w.createTopic("r", map[int32][]int32{0: {0, 1}})
	w.reas = []zkmeta.PartitionReassignment{{Topic: "r", Partition: 0, Replicas: []int32{2, 3}}}
	out := w.core.Handle(ReassignmentRequested{Reassignments: w.reas})
	w.apply(out)
	ra := w.topics["r"].Partitions[0]
	if !reflect.DeepEqual(ra.Replicas, []int32{2, 3, 0, 1}) || !reflect.DeepEqual(ra.Adding, []int32{2, 3}) || !reflect.DeepEqual(ra.Removing, []int32{0, 1}) {
		t.Fatalf("phase A assignment %+v", ra)
	}
	wantState(t, w.state("r", 0), 0, 1, 0, 1)
	// The new replicas catch up.
	s := w.state("r", 0)
	s.ISR = []int32{0, 1, 2, 3}
	s.ZkVersion++
	w.states[TopicPartition{Topic: "r"}] = s
	w.apply(w.core.Handle(PartitionStatesRead{States: map[TopicPartition]zkmeta.PartitionState{{Topic: "r"}: s}, Notify: true}))
	ra = w.topics["r"].Partitions[0]
	if !reflect.DeepEqual(ra.Replicas, []int32{2, 3}) || len(ra.Adding)+len(ra.Removing) != 0 {
		t.Fatalf("phase B assignment %+v", ra)
	}
	st := w.state("r", 0)
	if st.Leader != 2 || !reflect.DeepEqual(st.ISR, []int32{2, 3}) {
		t.Fatalf("after reassignment %+v", st)
	}
	if len(w.reas) != 0 {
		t.Fatalf("reassignment znode %+v", w.reas)
	}
}

// A broker rewriting its registration with a listener added (a dynamic listeners update) gets every live broker
// an UpdateMetadata carrying the new endpoint and no partitions; a rewrite with the same endpoints sends nothing.
func TestBrokerModification(t *testing.T) {
	w := newWorld(t, 0, 2)
	w.createTopic("a", map[int32][]int32{0: {0, 1}})
	b := w.brokers[1]
	b.Timestamp++
	if out := w.core.Handle(BrokersChanged{Brokers: w.brokerList()}); len(out.Requests) != 0 {
		t.Fatalf("same endpoints: %d requests", len(out.Requests))
	}
	b.Endpoints = append(slices.Clone(b.Endpoints), zkmeta.EndPoint{Listener: "EXTRA", Host: "127.0.0.1", Port: 9300, SecurityProtocol: "SSL"})
	w.brokers[1] = b
	out := w.core.Handle(BrokersChanged{Brokers: w.brokerList()})
	w.apply(out)
	um := requestsOf[*kmsg.UpdateMetadataRequest](out)
	if len(um) != 2 || len(out.Requests) != 2 {
		t.Fatalf("UpdateMetadata to %d brokers in %d requests", len(um), len(out.Requests))
	}
	for id, reqs := range um {
		r := reqs[0]
		if len(r.TopicStates) != 0 || len(r.PartitionStates) != 0 {
			t.Fatalf("broker %d: UpdateMetadata carries partitions", id)
		}
		var got []string
		for _, lb := range r.LiveBrokers {
			if lb.ID == 1 {
				for _, e := range lb.Endpoints {
					got = append(got, e.ListenerName)
				}
			}
		}
		if !slices.Equal(got, []string{"PLAINTEXT", "EXTRA"}) {
			t.Fatalf("broker %d learns broker 1's listeners %v", id, got)
		}
	}
	// The partition keeps its leader: the registration kept its epoch.
	wantState(t, w.state("a", 0), 0, 0, 0, 1)
}

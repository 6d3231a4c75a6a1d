package controller

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

func (w *world) alter(targets ...ReassignmentTarget) []PartitionError {
	out := w.core.Handle(AlterReassignments{Targets: targets})
	w.apply(out)
	if out.Admin == nil {
		w.t.Fatal("no admin result")
	}
	return out.Admin.Reassign
}

func (w *world) list(tps []TopicPartition) []OngoingReassignment {
	out := w.core.Handle(ListReassignments{Partitions: tps})
	w.apply(out)
	return out.Admin.Ongoing
}

func (w *world) elect(unclean bool, tps ...TopicPartition) []ElectionResult {
	out := w.core.Handle(ElectLeaders{Partitions: tps, Unclean: unclean})
	w.apply(out)
	return out.Admin.Elections
}

func (w *world) setISR(tp TopicPartition, isr ...int32) {
	s := w.states[tp]
	s.ISR = isr
	s.ZkVersion++
	w.states[tp] = s
	w.apply(w.core.Handle(PartitionStatesRead{States: map[TopicPartition]zkmeta.PartitionState{tp: s}, Notify: true}))
}

func codes[T any](rs []T, code func(T) int16) []int16 {
	var out []int16
	for _, r := range rs {
		out = append(out, code(r))
	}
	return out
}

func peCode(p PartitionError) int16             { return p.ErrorCode }
func erCode(e ElectionResult) int16             { return e.ErrorCode }
func tpOf(topic string, p int32) TopicPartition { return TopicPartition{Topic: topic, Partition: p} }

func TestReassignToAndOrigin(t *testing.T) {
	ra := reassignTo(zkmeta.ReplicaAssignment{Replicas: []int32{1, 2, 3}}, []int32{3, 4, 2})
	want := zkmeta.ReplicaAssignment{Replicas: []int32{3, 4, 2, 1}, Adding: []int32{4}, Removing: []int32{1}}
	if !reflect.DeepEqual(ra, want) {
		t.Fatalf("reassignTo %+v", ra)
	}
	// A new target while one is in progress starts from the origin replicas, not from RS.
	ra2 := reassignTo(ra, []int32{5})
	want2 := zkmeta.ReplicaAssignment{Replicas: []int32{5, 3, 2, 1}, Adding: []int32{5}, Removing: []int32{3, 2, 1}}
	if !reflect.DeepEqual(ra2, want2) {
		t.Fatalf("reassignTo again %+v", ra2)
	}
	if got := originReplicas(ra2); !reflect.DeepEqual(got, []int32{3, 2, 1}) {
		t.Fatalf("origin %v", got)
	}
}

func TestApiReassignmentSingleBroker(t *testing.T) {
	w := newWorld(t, 0, 1)
	w.createTopic("a", map[int32][]int32{0: {0}})
	// Target = current: completes at once (leader epoch bumped, nothing listed).
	res := w.alter(ReassignmentTarget{TP: tpOf("a", 0), Replicas: []int32{0}})
	if !reflect.DeepEqual(codes(res, peCode), []int16{0}) {
		t.Fatalf("no-op reassignment %+v", res)
	}
	wantState(t, w.state("a", 0), 0, 1, 0)
	if got := w.list(nil); len(got) != 0 {
		t.Fatalf("listed %+v", got)
	}
	// Errors: dead broker, empty, duplicate, negative, unknown partition, cancel without reassignment.
	res = w.alter(
		ReassignmentTarget{TP: tpOf("a", 0), Replicas: []int32{0, 1}},
		ReassignmentTarget{TP: tpOf("a", 1), Replicas: []int32{0}},
		ReassignmentTarget{TP: tpOf("b", 0), Replicas: nil},
		ReassignmentTarget{TP: tpOf("b", 1), Replicas: []int32{}},
		ReassignmentTarget{TP: tpOf("b", 2), Replicas: []int32{0, 0}},
		ReassignmentTarget{TP: tpOf("b", 3), Replicas: []int32{-1}},
	)
	want := []int16{kerr.InvalidReplicaAssignment.Code, kerr.UnknownTopicOrPartition.Code, kerr.NoReassignmentInProgress.Code,
		kerr.InvalidReplicaAssignment.Code, kerr.InvalidReplicaAssignment.Code, kerr.InvalidReplicaAssignment.Code}
	if !reflect.DeepEqual(codes(res, peCode), want) {
		t.Fatalf("errors %+v", codes(res, peCode))
	}
	if ra := w.topics["a"].Partitions[0]; !reflect.DeepEqual(ra, zkmeta.ReplicaAssignment{Replicas: []int32{0}}) {
		t.Fatalf("assignment changed: %+v", ra)
	}
}

func TestApiReassignmentAndCancel(t *testing.T) {
	w := newWorld(t, 0, 3)
	w.createTopic("a", map[int32][]int32{0: {0}, 1: {0, 1}})
	res := w.alter(ReassignmentTarget{TP: tpOf("a", 0), Replicas: []int32{1, 2}})
	if res[0].ErrorCode != 0 {
		t.Fatalf("reassign %+v", res)
	}
	ra := w.topics["a"].Partitions[0]
	if !reflect.DeepEqual(ra, zkmeta.ReplicaAssignment{Replicas: []int32{1, 2, 0}, Adding: []int32{1, 2}, Removing: []int32{0}}) {
		t.Fatalf("phase A %+v", ra)
	}
	if len(w.reas) != 0 {
		t.Fatalf("API reassignment written to /admin/reassign_partitions: %+v", w.reas)
	}
	got := w.list(nil)
	if len(got) != 1 || got[0].TP != tpOf("a", 0) || !reflect.DeepEqual(got[0].Adding, []int32{1, 2}) {
		t.Fatalf("list %+v", got)
	}
	if got := w.list([]TopicPartition{tpOf("a", 1), tpOf("x", 0)}); len(got) != 0 {
		t.Fatalf("list of others %+v", got)
	}
	// Cancel: back to [0], the adding replicas are stopped and deleted.
	out := w.core.Handle(AlterReassignments{Targets: []ReassignmentTarget{{TP: tpOf("a", 0)}}})
	w.apply(out)
	if out.Admin.Reassign[0].ErrorCode != 0 {
		t.Fatalf("cancel %+v", out.Admin.Reassign)
	}
	if ra := w.topics["a"].Partitions[0]; !reflect.DeepEqual(ra, zkmeta.ReplicaAssignment{Replicas: []int32{0}}) {
		t.Fatalf("after cancel %+v", ra)
	}
	stops := requestsOf[*kmsg.StopReplicaRequest](out)
	if len(stops[1]) != 2 || len(stops[2]) != 2 || !stops[2][1].Topics[0].PartitionStates[0].Delete {
		t.Fatalf("StopReplica on cancel %+v", stops)
	}
	if got := w.list(nil); len(got) != 0 {
		t.Fatalf("listed after cancel %+v", got)
	}
	if res := w.alter(ReassignmentTarget{TP: tpOf("a", 0)}); res[0].ErrorCode != kerr.NoReassignmentInProgress.Code {
		t.Fatalf("second cancel %+v", res)
	}
	// Removing a replica completes at once: the target is already in the ISR.
	if res := w.alter(ReassignmentTarget{TP: tpOf("a", 1), Replicas: []int32{1}}); res[0].ErrorCode != 0 {
		t.Fatalf("shrink %+v", res)
	}
	if ra := w.topics["a"].Partitions[1]; !reflect.DeepEqual(ra, zkmeta.ReplicaAssignment{Replicas: []int32{1}}) {
		t.Fatalf("after shrink %+v", ra)
	}
	st := w.state("a", 1)
	if st.Leader != 1 || !reflect.DeepEqual(st.ISR, []int32{1}) {
		t.Fatalf("after shrink state %+v", st)
	}
}

func TestZkReassignmentWaitsForDeadBroker(t *testing.T) {
	w := newWorld(t, 0, 2)
	w.kill(1)
	w.createTopic("z", map[int32][]int32{0: {0}, 1: {0}})
	w.reas = []zkmeta.PartitionReassignment{{Topic: "z", Partition: 0, Replicas: []int32{1}}, {Topic: "z", Partition: 1, Replicas: []int32{0}},
		{Topic: "nope", Partition: 0, Replicas: []int32{0}}}
	w.apply(w.core.Handle(ReassignmentRequested{Reassignments: w.reas}))
	// z-1 is a no-op and completes, "nope" fails; both leave the znode. z-0 waits for broker 1.
	if !reflect.DeepEqual(w.reas, []zkmeta.PartitionReassignment{{Topic: "z", Partition: 0, Replicas: []int32{1}}}) {
		t.Fatalf("znode %+v", w.reas)
	}
	if ra := w.topics["z"].Partitions[0]; !reflect.DeepEqual(ra, zkmeta.ReplicaAssignment{Replicas: []int32{1, 0}, Adding: []int32{1}, Removing: []int32{0}}) {
		t.Fatalf("z-0 %+v", ra)
	}
	// A failover resumes it from the topic znode and the reassignment znode.
	w.failover()
	if w.core.reassigning[tpOf("z", 0)] == nil {
		t.Fatal("not resumed after failover")
	}
	// Broker 1 comes back and gets the partition as a new replica, joins the ISR: the reassignment completes.
	w.register(1)
	out := w.core.Handle(BrokersChanged{Brokers: w.brokerList()})
	w.apply(out)
	found := false
	for _, lai := range requestsOf[*kmsg.LeaderAndISRRequest](out)[1] {
		for _, ts := range lai.TopicStates {
			for _, ps := range ts.PartitionStates {
				found = found || ts.Topic == "z" && ps.Partition == 0 && ps.IsNew
			}
		}
	}
	if !found {
		t.Fatal("broker 1 not started as a new replica of z-0")
	}
	w.setISR(tpOf("z", 0), 0, 1)
	if ra := w.topics["z"].Partitions[0]; !reflect.DeepEqual(ra, zkmeta.ReplicaAssignment{Replicas: []int32{1}}) {
		t.Fatalf("z-0 after completion %+v", ra)
	}
	if st := w.state("z", 0); st.Leader != 1 || !reflect.DeepEqual(st.ISR, []int32{1}) {
		t.Fatalf("z-0 state %+v", st)
	}
	if len(w.reas) != 0 {
		t.Fatalf("znode not deleted: %+v", w.reas)
	}
}

func TestApiReassignmentSupersedesZk(t *testing.T) {
	w := newWorld(t, 0, 3)
	w.kill(2)
	w.createTopic("s", map[int32][]int32{0: {0}, 1: {0}})
	w.reas = []zkmeta.PartitionReassignment{{Topic: "s", Partition: 0, Replicas: []int32{2}}, {Topic: "s", Partition: 1, Replicas: []int32{2}}}
	w.apply(w.core.Handle(ReassignmentRequested{Reassignments: w.reas}))
	if res := w.alter(ReassignmentTarget{TP: tpOf("s", 0), Replicas: []int32{1}}); res[0].ErrorCode != 0 {
		t.Fatalf("alter %+v", res)
	}
	if !reflect.DeepEqual(w.reas, []zkmeta.PartitionReassignment{{Topic: "s", Partition: 1, Replicas: []int32{2}}}) {
		t.Fatalf("znode %+v", w.reas)
	}
	// The superseded adding replica 2 is dropped: RS = [1, 0].
	if ra := w.topics["s"].Partitions[0]; !reflect.DeepEqual(ra, zkmeta.ReplicaAssignment{Replicas: []int32{1, 0}, Adding: []int32{1}, Removing: []int32{0}}) {
		t.Fatalf("s-0 %+v", ra)
	}
}

func TestElectLeaders(t *testing.T) {
	w := newWorld(t, 0, 3)
	w.createTopic("e", map[int32][]int32{0: {0, 1}, 1: {1, 0}})
	w.kill(0)
	w.register(0)
	w.apply(w.core.Handle(BrokersChanged{Brokers: w.brokerList()}))
	// e-0 is led by 1 with ISR [1]: the preferred replica is not in the ISR.
	res := w.elect(false, tpOf("e", 0), tpOf("e", 1), tpOf("e", 7), tpOf("x", 0))
	want := []int16{kerr.PreferredLeaderNotAvailable.Code, kerr.ElectionNotNeeded.Code, kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicOrPartition.Code}
	if !reflect.DeepEqual(codes(res, erCode), want) {
		t.Fatalf("codes %v", codes(res, erCode))
	}
	w.setISR(tpOf("e", 0), 1, 0)
	res = w.elect(false, tpOf("e", 0))
	if res[0].ErrorCode != 0 || res[0].Leader != 0 {
		t.Fatalf("preferred %+v", res)
	}
	wantState(t, w.state("e", 0), 0, 2, 1, 0)
	// Unclean: e-1's only ISR member dies; an admin's unclean election picks the live replica 0.
	w.setISR(tpOf("e", 1), 1)
	if res := w.elect(true, tpOf("e", 1)); res[0].ErrorCode != kerr.ElectionNotNeeded.Code {
		t.Fatalf("unclean with a live leader %+v", res)
	}
	w.kill(1)
	if st := w.state("e", 1); st.Leader != NoLeader {
		t.Fatalf("e-1 %+v", st)
	}
	res = w.elect(true, tpOf("e", 1))
	if res[0].ErrorCode != 0 || res[0].Leader != 0 {
		t.Fatalf("unclean %+v", res)
	}
	if st := w.state("e", 1); st.Leader != 0 || !reflect.DeepEqual(st.ISR, []int32{0}) {
		t.Fatalf("e-1 after unclean %+v", st)
	}
	// Nothing electable: ELIGIBLE_LEADERS_NOT_AVAILABLE; topics being deleted: INVALID_TOPIC_EXCEPTION.
	w.createTopic("f", map[int32][]int32{0: {2}})
	w.kill(2)
	if res := w.elect(true, tpOf("f", 0)); res[0].ErrorCode != kerr.EligibleLeadersNotAvailable.Code {
		t.Fatalf("unclean without replicas %+v", res)
	}
	w.markers["e"] = true
	w.apply(w.core.Handle(DeleteTopicsRequested{Topics: w.markerList()}))
	if res := w.elect(false, tpOf("e", 0)); res[0].ErrorCode != kerr.InvalidTopicException.Code {
		t.Fatalf("deleting %+v", res)
	}
}

func TestAdminInactive(t *testing.T) {
	c := NewCore(Config{BrokerID: 1})
	for _, ev := range []Event{ElectLeaders{}, AlterReassignments{}, ListReassignments{}} {
		if out := c.Handle(ev); out.Admin != nil {
			t.Fatalf("inactive core answered %T", ev)
		}
	}
}

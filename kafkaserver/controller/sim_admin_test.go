package controller

import (
	"github.com/twmb/franz-go/pkg/kerr"
)

// adminStep drives the controller's admin APIs with random input and checks each answer against the fake
// ZooKeeper.
func (w *world) adminStep(nBrokers int32) {
	t := w.t
	var tps []TopicPartition
	for _, name := range w.topicNames() {
		for p := range w.topics[name].Partitions {
			tps = append(tps, TopicPartition{Topic: name, Partition: p})
		}
	}
	sortTPs(tps)
	tps = append(tps, TopicPartition{Topic: "missing", Partition: 0})
	pick := func() TopicPartition { return tps[w.rnd.Intn(len(tps))] }
	switch w.rnd.Intn(3) {
	case 0:
		var targets []ReassignmentTarget
		for i := 0; i < 1+w.rnd.Intn(2); i++ {
			tg := ReassignmentTarget{TP: pick()}
			if w.rnd.Intn(4) > 0 {
				tg.Replicas = w.randomReplicas(1+w.rnd.Intn(3), nBrokers)
			}
			targets = append(targets, tg)
		}
		out := w.core.Handle(AlterReassignments{Targets: targets})
		w.apply(out)
		w.stats["api reassignments"]++
		for _, r := range out.Admin.Reassign {
			switch r.ErrorCode {
			case 0:
				ra, ok := w.topics[r.TP.Topic].Partitions[r.TP.Partition]
				if !ok {
					t.Fatalf("step %d: reassignment of %v accepted without a topic", w.steps, r.TP)
				}
				_ = ra
			case kerr.InvalidReplicaAssignment.Code, kerr.UnknownTopicOrPartition.Code, kerr.NoReassignmentInProgress.Code:
				w.stats["api reassignment errors"]++
			default:
				t.Fatalf("step %d: AlterReassignments %v: error %d", w.steps, r.TP, r.ErrorCode)
			}
		}
	case 1:
		out := w.core.Handle(ListReassignments{})
		w.apply(out)
		listed := map[TopicPartition]bool{}
		for _, o := range out.Admin.Ongoing {
			listed[o.TP] = true
			ra := w.topics[o.TP.Topic].Partitions[o.TP.Partition]
			if !equalInt32s(ra.Replicas, o.Replicas) || !equalInt32s(ra.Adding, o.Adding) || !equalInt32s(ra.Removing, o.Removing) {
				t.Fatalf("step %d: listed %+v, ZK has %+v", w.steps, o, ra)
			}
		}
		for _, tp := range tps {
			if ra := w.topics[tp.Topic].Partitions[tp.Partition]; isBeingReassigned(ra) && !listed[tp] {
				t.Fatalf("step %d: %v is being reassigned (%+v) but not listed", w.steps, tp, ra)
			}
		}
	default:
		var sel []TopicPartition
		for i := 0; i < 1+w.rnd.Intn(3); i++ {
			sel = append(sel, pick())
		}
		unclean := w.rnd.Intn(3) == 0
		out := w.core.Handle(ElectLeaders{Partitions: sel, Unclean: unclean})
		w.apply(out)
		w.stats["elections"]++
		for _, r := range out.Admin.Elections {
			st, hasState := w.states[r.TP]
			reps := w.topics[r.TP.Topic].Partitions[r.TP.Partition].Replicas
			switch r.ErrorCode {
			case 0:
				w.stats["elections won"]++
				if !hasState || st.Leader != r.Leader || !unclean && r.Leader != reps[0] {
					t.Fatalf("step %d: election of %v said leader %d, ZK %+v, replicas %v", w.steps, r.TP, r.Leader, st, reps)
				}
			case kerr.ElectionNotNeeded.Code:
				if !unclean && st.Leader != reps[0] {
					t.Fatalf("step %d: preferred election of %v not needed, but ZK %+v, replicas %v", w.steps, r.TP, st, reps)
				}
			case kerr.PreferredLeaderNotAvailable.Code, kerr.EligibleLeadersNotAvailable.Code, kerr.UnknownTopicOrPartition.Code,
				kerr.InvalidTopicException.Code:
			default:
				t.Fatalf("step %d: ElectLeaders %v: error %d", w.steps, r.TP, r.ErrorCode)
			}
		}
	}
}

// checkReassignments: the topic znodes, the core and /admin/reassign_partitions agree on what is being
// reassigned, and nothing stays reassigning once its targets are in the ISR.
func (w *world) checkReassignments() {
	t := w.t
	for _, name := range w.topicNames() {
		for p, ra := range w.topics[name].Partitions {
			tp := TopicPartition{Topic: name, Partition: p}
			seen := map[int32]bool{}
			for _, r := range ra.Replicas {
				if seen[r] {
					t.Fatalf("step %d: %v replicas %v repeat %d", w.steps, tp, ra.Replicas, r)
				}
				seen[r] = true
			}
			if !subset(ra.Adding, ra.Replicas) || !subset(ra.Removing, ra.Replicas) || len(without(ra.Adding, ra.Removing)) != len(ra.Adding) {
				t.Fatalf("step %d: %v bad assignment %+v", w.steps, tp, ra)
			}
			target, reassigning := w.core.reassigning[tp]
			if reassigning != isBeingReassigned(ra) || reassigning && !equalInt32s(target, targetReplicas(ra)) {
				t.Fatalf("step %d: %v core reassigning %v (%v), ZK %+v", w.steps, tp, reassigning, target, ra)
			}
			if cra := w.core.fullAssignment(tp); !equalAssignment(cra, ra) {
				t.Fatalf("step %d: %v core assignment %+v, ZK %+v", w.steps, tp, cra, ra)
			}
			if st, ok := w.states[tp]; reassigning && ok && !w.pendingIsr[tp] && subset(target, st.ISR) {
				t.Fatalf("step %d: %v targets %v all in ISR %v but still reassigning", w.steps, tp, target, st.ISR)
			}
		}
	}
	for _, r := range w.reas {
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if target, ok := w.core.reassigning[tp]; !ok || !equalInt32s(target, r.Replicas) {
			t.Fatalf("step %d: /admin/reassign_partitions lists %+v, core reassigns %v to %v", w.steps, r, tp, target)
		}
	}
}

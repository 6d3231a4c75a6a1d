package controller

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// world is a fake ZooKeeper plus fake brokers around one Core.
type world struct {
	t      *testing.T
	rnd    *rand.Rand
	core   *Core
	cfg    Config
	epoch  int32
	nextEp int64

	brokers map[int32]zkmeta.BrokerInfo // registered (live)
	topics  map[string]zkmeta.TopicAssignment
	states  map[TopicPartition]zkmeta.PartitionState // ZkVersion = znode version
	markers map[string]bool
	reas    []zkmeta.PartitionReassignment

	pendingDeletes []ReplicaDeletionResult
	pendingIsr     map[TopicPartition]bool
	lastEpoch      map[TopicPartition]int32 // highest leader epoch seen in ZK per partition
	sentEpoch      map[int32]map[TopicPartition]int32
	topicSeq       int
	steps          int
	log            []string
	shutting       map[int32]bool
	stats          map[string]int
}

func newWorld(t *testing.T, seed int64, nBrokers int) *world {
	w := &world{t: t, rnd: rand.New(rand.NewSource(seed)), brokers: map[int32]zkmeta.BrokerInfo{},
		topics: map[string]zkmeta.TopicAssignment{}, states: map[TopicPartition]zkmeta.PartitionState{},
		markers: map[string]bool{}, pendingIsr: map[TopicPartition]bool{}, lastEpoch: map[TopicPartition]int32{},
		sentEpoch: map[int32]map[TopicPartition]int32{}, shutting: map[int32]bool{}, stats: map[string]int{}}
	w.cfg = Config{BrokerID: 0, DeleteTopicEnable: true}
	for i := int32(0); i < int32(nBrokers); i++ {
		w.register(i)
	}
	w.failover()
	return w
}

func (w *world) register(id int32) {
	delete(w.shutting, id)
	w.nextEp++
	w.brokers[id] = zkmeta.BrokerInfo{ID: id, Version: 5, Epoch: w.nextEp,
		Endpoints: []zkmeta.EndPoint{{Listener: "PLAINTEXT", Host: "127.0.0.1", Port: 9092 + id, SecurityProtocol: "PLAINTEXT"}}}
}

func (w *world) brokerList() []zkmeta.BrokerInfo {
	var bs []zkmeta.BrokerInfo
	for _, id := range sortedKeys(w.brokers) {
		bs = append(bs, w.brokers[id])
	}
	return bs
}

func (w *world) topicNames() []string {
	var ts []string
	for t := range w.topics {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

func (w *world) markerList() []string {
	var ts []string
	for t := range w.markers {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

func (w *world) failover() {
	w.epoch++
	w.core = NewCore(w.cfg)
	w.shutting = map[int32]bool{}
	w.pendingDeletes = nil // requests of the old controller are lost
	states := map[TopicPartition]zkmeta.PartitionState{}
	for tp, s := range w.states {
		states[tp] = s
	}
	topics := map[string]zkmeta.TopicAssignment{}
	for t, ta := range w.topics {
		topics[t] = ta
	}
	w.pendingIsr = map[TopicPartition]bool{}
	w.apply(w.core.Handle(ControllerElected{Epoch: w.epoch, EpochZkVersion: w.epoch, Brokers: w.brokerList(),
		Topics: topics, States: states, TopicsToDelete: w.markerList(), Reassignments: w.reas}))
}

// apply performs the writes like the runtime does, checks the requests, and feeds back watch events.
func (w *world) apply(out Output) {
	t := w.t
	for _, wr := range out.Writes {
		w.log = append(w.log, fmt.Sprintf("  write %d %v %+v %s", wr.Kind, wr.TP, wr.State, wr.Topic))
	}
	conflicts := map[TopicPartition]bool{}
	topicsChanged, markersChanged := false, false
	for _, wr := range out.Writes {
		switch wr.Kind {
		case CreatePartitionState:
			if _, ok := w.states[wr.TP]; ok {
				conflicts[wr.TP] = true
				continue
			}
			if _, ok := w.topics[wr.TP.Topic]; !ok {
				t.Fatalf("step %d: state created for missing topic %v", w.steps, wr.TP)
			}
			s := wr.State
			s.ZkVersion = 0
			w.states[wr.TP] = s
		case SetPartitionState:
			cur, ok := w.states[wr.TP]
			if !ok || cur.ZkVersion != wr.State.ZkVersion {
				conflicts[wr.TP] = true
				continue
			}
			s := wr.State
			s.ZkVersion = cur.ZkVersion + 1
			w.states[wr.TP] = s
		case SetTopicAssignment:
			if _, ok := w.topics[wr.Topic]; ok {
				w.topics[wr.Topic] = wr.Assignment
			}
		case DeleteTopic:
			w.stats["topics deleted"]++
			delete(w.topics, wr.Topic)
			for tp := range w.states {
				if tp.Topic == wr.Topic {
					delete(w.states, tp)
					delete(w.lastEpoch, tp)
				}
			}
			topicsChanged = true
		case DeleteTopicConfig:
		case DeleteTopicMarker:
			if w.markers[wr.Topic] {
				delete(w.markers, wr.Topic)
				markersChanged = true
			}
		case DeletePreferredElection:
		case SetReassignments:
			if len(wr.Reassignments) < len(w.reas) {
				w.stats["reassignments completed"]++
			}
			w.reas = wr.Reassignments
		}
	}
	for _, r := range DropPartitions(out.Requests, conflicts) {
		w.checkRequest(r)
	}
	if len(conflicts) > 0 {
		w.stats["write conflicts"]++
		states := map[TopicPartition]zkmeta.PartitionState{}
		for tp := range conflicts {
			if s, ok := w.states[tp]; ok {
				states[tp] = s
			}
			delete(w.pendingIsr, tp)
		}
		w.apply(w.core.Handle(PartitionStatesRead{States: states}))
	}
	if topicsChanged {
		w.apply(w.core.Handle(TopicsChanged{Topics: w.topicNames()}))
	}
	if markersChanged && len(w.markers) > 0 {
		w.apply(w.core.Handle(DeleteTopicsRequested{Topics: w.markerList()}))
	}
}

func (w *world) checkRequest(r Request) {
	t := w.t
	b, ok := w.brokers[r.Broker]
	if !ok {
		t.Fatalf("step %d: request to dead broker %d", w.steps, r.Broker)
	}
	switch m := r.Msg.(type) {
	case *kmsg.LeaderAndISRRequest:
		if m.Version != 5 || m.ControllerEpoch != w.epoch || m.BrokerEpoch != b.Epoch || m.ControllerID != 0 {
			t.Fatalf("step %d: LeaderAndIsr header %+v", w.steps, m)
		}
		if w.sentEpoch[r.Broker] == nil {
			w.sentEpoch[r.Broker] = map[TopicPartition]int32{}
		}
		for _, ts := range m.TopicStates {
			for _, ps := range ts.PartitionStates {
				tp := TopicPartition{Topic: ts.Topic, Partition: ps.Partition}
				if prev, ok := w.sentEpoch[r.Broker][tp]; ok && ps.LeaderEpoch < prev {
					t.Fatalf("step %d: LeaderAndIsr to %d for %v went back from epoch %d to %d", w.steps, r.Broker, tp, prev, ps.LeaderEpoch)
				}
				w.sentEpoch[r.Broker][tp] = ps.LeaderEpoch
				if !contains(ps.Replicas, r.Broker) {
					t.Fatalf("step %d: LeaderAndIsr for %v to non-replica %d", w.steps, tp, r.Broker)
				}
			}
		}
	case *kmsg.UpdateMetadataRequest:
		if m.Version != 7 || m.ControllerEpoch != w.epoch || m.BrokerEpoch != b.Epoch {
			t.Fatalf("step %d: UpdateMetadata header %+v", w.steps, m)
		}
		// A bounced broker is briefly left out (failure, then startup), so only check the listed ones.
		for _, lb := range m.LiveBrokers {
			if _, ok := w.brokers[lb.ID]; !ok {
				t.Fatalf("step %d: UpdateMetadata lists dead broker %d", w.steps, lb.ID)
			}
		}
	case *kmsg.StopReplicaRequest:
		if m.Version != 3 || m.ControllerEpoch != w.epoch || m.BrokerEpoch != b.Epoch {
			t.Fatalf("step %d: StopReplica header %+v", w.steps, m)
		}
		var del []TopicPartition
		for _, ts := range m.Topics {
			for _, ps := range ts.PartitionStates {
				if ps.Delete {
					del = append(del, TopicPartition{Topic: ts.Topic, Partition: ps.Partition})
				}
			}
		}
		if len(del) > 0 {
			w.pendingDeletes = append(w.pendingDeletes, ReplicaDeletionResult{Broker: r.Broker, Partitions: del})
		}
	}
}

func (w *world) checkInvariants() {
	t := w.t
	defer func() {
		if t.Failed() {
			n := max(0, len(w.log)-40)
			for _, l := range w.log[n:] {
				t.Log(l)
			}
		}
	}()
	for tp, s := range w.states {
		ta, ok := w.topics[tp.Topic]
		if !ok {
			t.Fatalf("step %d: state of deleted topic %v", w.steps, tp)
		}
		if prev, ok := w.lastEpoch[tp]; ok && s.LeaderEpoch < prev {
			t.Fatalf("step %d: leader epoch of %v went back %d -> %d", w.steps, tp, prev, s.LeaderEpoch)
		}
		w.lastEpoch[tp] = s.LeaderEpoch
		reps := ta.Partitions[tp.Partition].Replicas
		if len(s.ISR) == 0 {
			t.Fatalf("step %d: empty ISR for %v", w.steps, tp)
		}
		for _, r := range s.ISR {
			// Removing a replica keeps an ISR of one (removeReplicasFromIsr), leaving a leaderless partition whose
			// ISR names a replica a reassignment dropped.
			if !contains(reps, r) && !(len(s.ISR) == 1 && s.Leader == NoLeader) {
				t.Fatalf("step %d: ISR %v of %v not within replicas %v", w.steps, s.ISR, tp, reps)
			}
		}
		if w.markers[tp.Topic] {
			continue
		}
		if s.Leader >= 0 {
			if _, live := w.brokers[s.Leader]; !live {
				t.Errorf("step %d: leader %d of %v is dead", w.steps, s.Leader, tp)
			}
			if !contains(s.ISR, s.Leader) {
				t.Fatalf("step %d: leader %d of %v not in ISR %v", w.steps, s.Leader, tp, s.ISR)
			}
		} else {
			// Offline only if no ISR member is live (clean election).
			for _, r := range s.ISR {
				if _, live := w.brokers[r]; live && !w.pendingIsr[tp] && !w.shutting[r] && contains(reps, r) {
					t.Fatalf("step %d: %v has no leader but ISR member %d is live (%+v)", w.steps, tp, r, s)
				}
			}
		}
		if cs, ok := w.core.State(tp); ok && !w.pendingIsr[tp] && (cs.ZkVersion != s.ZkVersion || cs.LeaderEpoch != s.LeaderEpoch) {
			t.Fatalf("step %d: core cache %+v differs from ZK %+v for %v", w.steps, cs, s, tp)
		}
	}
	w.checkReassignments()
	for topic, ta := range w.topics {
		if w.markers[topic] {
			continue
		}
		for p, ra := range ta.Partitions {
			tp := TopicPartition{Topic: topic, Partition: p}
			if _, ok := w.states[tp]; ok {
				continue
			}
			// Kafka elects no leader when a reassignment adds a live replica to a partition that never had one;
			// the next broker change does.
			if isBeingReassigned(ra) {
				continue
			}
			for _, r := range ra.Replicas {
				if _, live := w.brokers[r]; live && !w.shutting[r] {
					t.Fatalf("step %d: %v has a live replica %d but no state", w.steps, tp, r)
				}
			}
		}
	}
}

func (w *world) liveIDs() []int32 { return sortedKeys(w.brokers) }

func (w *world) randomReplicas(n int, all int32) []int32 {
	perm := w.rnd.Perm(int(all))
	var reps []int32
	for _, p := range perm[:n] {
		reps = append(reps, int32(p))
	}
	return reps
}

func (w *world) step(nBrokers int32) {
	w.steps++
	r := w.rnd.Intn(100)
	w.log = append(w.log, fmt.Sprintf("step %d action %d live %v", w.steps, r, w.liveIDs()))
	switch {
	case r < 10: // broker dies
		ids := w.liveIDs()
		if len(ids) == 0 {
			return
		}
		id := ids[w.rnd.Intn(len(ids))]
		delete(w.brokers, id)
		delete(w.shutting, id)
		w.apply(w.core.Handle(BrokersChanged{Brokers: w.brokerList()}))
	case r < 22: // broker starts or bounces
		id := int32(w.rnd.Intn(int(nBrokers)))
		w.register(id)
		w.apply(w.core.Handle(BrokersChanged{Brokers: w.brokerList()}))
	case r < 34: // topic created
		w.topicSeq++
		name := fmt.Sprintf("t%d", w.topicSeq)
		ta := zkmeta.TopicAssignment{Version: 3, Partitions: map[int32]zkmeta.ReplicaAssignment{}}
		rf := 1 + w.rnd.Intn(3)
		for p := int32(0); p < int32(1+w.rnd.Intn(4)); p++ {
			ta.Partitions[p] = zkmeta.ReplicaAssignment{Replicas: w.randomReplicas(rf, nBrokers)}
		}
		ta.TopicID[0] = byte(w.topicSeq)
		w.topics[name] = ta
		w.apply(w.core.Handle(TopicsChanged{Topics: w.topicNames(), Assignments: map[string]zkmeta.TopicAssignment{name: ta}}))
	case r < 40: // partitions added
		ts := w.topicNames()
		if len(ts) == 0 {
			return
		}
		name := ts[w.rnd.Intn(len(ts))]
		old := w.topics[name]
		ta := zkmeta.TopicAssignment{Version: 3, Partitions: map[int32]zkmeta.ReplicaAssignment{}, TopicID: old.TopicID}
		rf := 1
		for p, ra := range old.Partitions {
			ta.Partitions[p] = ra
			rf = len(ra.Replicas)
		}
		n := int32(len(old.Partitions))
		for p := n; p < n+int32(1+w.rnd.Intn(2)); p++ {
			ta.Partitions[p] = zkmeta.ReplicaAssignment{Replicas: w.randomReplicas(rf, nBrokers)}
		}
		w.topics[name] = ta
		w.apply(w.core.Handle(PartitionsModified{Topic: name, Assignment: ta}))
	case r < 48: // deletion requested
		ts := w.topicNames()
		if len(ts) == 0 {
			return
		}
		w.markers[ts[w.rnd.Intn(len(ts))]] = true
		if w.rnd.Intn(10) == 0 {
			w.markers["nonexistent"] = true
		}
		w.apply(w.core.Handle(DeleteTopicsRequested{Topics: w.markerList()}))
	case r < 60: // StopReplica responses
		if len(w.pendingDeletes) == 0 {
			return
		}
		i := w.rnd.Intn(len(w.pendingDeletes))
		res := w.pendingDeletes[i]
		w.pendingDeletes = slices.Delete(w.pendingDeletes, i, i+1)
		if _, live := w.brokers[res.Broker]; !live {
			res.Failed = true
		}
		w.apply(w.core.Handle(res))
	case r < 72: // a leader expands its ISR (ZkIsrManager path), notification maybe delayed
		var cands []TopicPartition
		for tp, s := range w.states {
			if s.Leader >= 0 && !w.markers[tp.Topic] {
				if _, live := w.brokers[s.Leader]; live {
					cands = append(cands, tp)
				}
			}
		}
		if len(cands) == 0 {
			return
		}
		sortTPs(cands)
		tp := cands[w.rnd.Intn(len(cands))]
		s := w.states[tp]
		isr := append([]int32{}, s.ISR...)
		for _, rep := range w.topics[tp.Topic].Partitions[tp.Partition].Replicas {
			if _, live := w.brokers[rep]; live && !contains(isr, rep) {
				isr = append(isr, rep)
			}
		}
		s.ISR = isr
		s.ZkVersion++
		w.states[tp] = s
		w.pendingIsr[tp] = true
		if w.rnd.Intn(2) == 0 {
			w.notifyIsr()
		}
	case r < 76:
		if w.rnd.Intn(2) == 0 {
			w.notifyIsr()
			return
		}
		// AlterIsr from a leader: shrink to itself or expand to all live replicas.
		var cands []TopicPartition
		for tp, s := range w.states {
			if _, live := w.brokers[s.Leader]; live && !w.markers[tp.Topic] && !w.pendingIsr[tp] {
				cands = append(cands, tp)
			}
		}
		if len(cands) == 0 {
			return
		}
		sortTPs(cands)
		tp := cands[w.rnd.Intn(len(cands))]
		s := w.states[tp]
		isr := []int32{s.Leader}
		if w.rnd.Intn(2) == 0 {
			for _, rep := range w.topics[tp.Topic].Partitions[tp.Partition].Replicas {
				if _, live := w.brokers[rep]; live && rep != s.Leader {
					isr = append(isr, rep)
				}
			}
		}
		req := kmsg.NewPtrAlterPartitionRequest()
		req.BrokerID, req.BrokerEpoch = s.Leader, w.brokers[s.Leader].Epoch
		rt := kmsg.NewAlterPartitionRequestTopic()
		rt.Topic = tp.Topic
		rp := kmsg.NewAlterPartitionRequestTopicPartition()
		rp.Partition, rp.LeaderEpoch, rp.NewISR, rp.PartitionEpoch = tp.Partition, s.LeaderEpoch, isr, s.ZkVersion
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		out := w.core.Handle(AlterIsr{Req: req})
		if out.AlterIsr == nil || out.AlterIsr.ErrorCode != 0 {
			w.t.Fatalf("step %d: AlterIsr response %+v", w.steps, out.AlterIsr)
		}
		w.apply(out)
		got := out.AlterIsr.Topics[0].Partitions[0]
		// A completed reassignment may have moved on from the written state within the same event.
		if got.ErrorCode != 0 || w.states[tp].LeaderEpoch == s.LeaderEpoch && (!equalInt32s(w.states[tp].ISR, isr) || got.PartitionEpoch != w.states[tp].ZkVersion) {
			w.t.Fatalf("step %d: AlterIsr %v -> %+v, ZK %+v", w.steps, isr, got, w.states[tp])
		}
		w.stats["alter isr"]++
	case r < 82: // preferred election
		var tps []TopicPartition
		for tp := range w.states {
			if w.rnd.Intn(2) == 0 {
				tps = append(tps, tp)
			}
		}
		sortTPs(tps)
		w.apply(w.core.Handle(PreferredElectionRequested{Partitions: tps}))
	case r < 84: // controlled shutdown, then the broker goes away
		ids := w.liveIDs()
		if len(ids) == 0 {
			return
		}
		id := ids[w.rnd.Intn(len(ids))]
		out := w.core.Handle(ControlledShutdown{BrokerID: id, BrokerEpoch: w.brokers[id].Epoch})
		if out.Shutdown == nil || out.Shutdown.ErrorCode != 0 {
			w.t.Fatalf("step %d: controlled shutdown result %+v", w.steps, out.Shutdown)
		}
		w.apply(out)
		w.shutting[id] = true
		if w.rnd.Intn(2) == 0 {
			delete(w.brokers, id)
			delete(w.shutting, id)
			w.apply(w.core.Handle(BrokersChanged{Brokers: w.brokerList()}))
		}
	case r < 89: // admin APIs: AlterPartitionReassignments, ListPartitionReassignments, ElectLeaders
		w.adminStep(nBrokers)
	case r < 94: // reassignment through /admin/reassign_partitions
		var tps []TopicPartition
		for tp := range w.states {
			tps = append(tps, tp)
		}
		if len(tps) == 0 || len(w.reas) > 0 {
			return
		}
		sortTPs(tps)
		tp := tps[w.rnd.Intn(len(tps))]
		rf := len(w.topics[tp.Topic].Partitions[tp.Partition].Replicas)
		w.reas = []zkmeta.PartitionReassignment{{Topic: tp.Topic, Partition: tp.Partition, Replicas: w.randomReplicas(rf, nBrokers)}}
		w.apply(w.core.Handle(ReassignmentRequested{Reassignments: w.reas}))
	default: // controller failover
		w.failover()
	}
}

func (w *world) notifyIsr() {
	if len(w.pendingIsr) == 0 {
		return
	}
	states := map[TopicPartition]zkmeta.PartitionState{}
	for tp := range w.pendingIsr {
		if s, ok := w.states[tp]; ok {
			states[tp] = s
		}
	}
	w.pendingIsr = map[TopicPartition]bool{}
	w.apply(w.core.Handle(PartitionStatesRead{States: states, Notify: true}))
}

func TestSimulation(t *testing.T) {
	total := map[string]int{}
	defer func() { t.Logf("%v", total) }()
	for seed := int64(1); seed <= 100; seed++ {
		w := newWorld(t, seed, 5)
		defer func() {
			for k, v := range w.stats {
				total[k] += v
			}
		}()
		for i := 0; i < 300; i++ {
			w.step(5)
			w.checkInvariants()
			if t.Failed() {
				return
			}
		}
	}
}

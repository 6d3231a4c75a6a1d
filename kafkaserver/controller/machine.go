package controller

import (
	"maps"
	"slices"
	"sort"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// ---- failover ----

func (c *Core) onControllerFailover(e ControllerElected) {
	c.reset()
	c.active = true
	c.epoch, c.epochZkVersion = e.Epoch, e.EpochZkVersion
	for _, b := range e.Brokers {
		c.live[b.ID] = b
	}
	for t, ta := range e.Topics {
		c.addTopic(t, ta)
	}
	c.initReassignments()
	for tp, st := range e.States {
		if c.topics[tp.Topic] == nil {
			continue
		}
		if _, ok := c.topics[tp.Topic].parts[tp.Partition]; !ok {
			continue
		}
		c.states[tp] = st
	}
	// Partition state machine startup: a partition with a live leader is online, with a state but a dead leader
	// offline, without a state new.
	for _, tp := range c.allPartitions() {
		st, ok := c.states[tp]
		switch {
		case !ok:
			c.phase[tp] = NewPartition
		case st.Leader >= 0 && c.isLive(st.Leader):
			c.phase[tp] = OnlinePartition
		default:
			c.phase[tp] = OfflinePartition
		}
	}
	for _, t := range e.TopicsToDelete {
		if c.topics[t] != nil && c.cfg.DeleteTopicEnable {
			c.deleting[t] = &deletion{done: map[TopicPartition]map[int32]bool{}, started: map[TopicPartition]map[int32]bool{}}
		} else {
			c.write(Write{Kind: DeleteTopicMarker, Topic: t})
		}
	}
	// Brokers must know the live brokers before any LeaderAndIsr.
	c.addUpdateMetadata(c.liveBrokerIDs(), nil)
	c.flush()
	// Replica state machine startup: every online replica gets the current state.
	for _, tp := range c.allPartitions() {
		if _, ok := c.states[tp]; !ok || c.deleting[tp.Topic] != nil {
			continue
		}
		c.addLeaderAndIsr(c.replicas(tp), tp, false)
	}
	c.flush()
	c.triggerOnlinePartitionStateChange()
	c.flush()
	c.initializePartitionReassignments(e.Reassignments)
	c.flush()
	c.resumeDeletions()
	if len(e.PreferredElection) > 0 {
		c.onPreferredElection(e.PreferredElection)
		c.write(Write{Kind: DeletePreferredElection})
	}
}

func (c *Core) addTopic(t string, ta zkmeta.TopicAssignment) {
	ti := &topicInfo{id: ta.TopicID, parts: map[int32]zkmeta.ReplicaAssignment{}}
	for p, ra := range ta.Partitions {
		ti.parts[p] = ra
	}
	c.topics[t] = ti
}

// ---- topics ----

func (c *Core) onTopicsChanged(e TopicsChanged) {
	now := map[string]bool{}
	for _, t := range e.Topics {
		now[t] = true
	}
	for _, t := range c.Topics() {
		if !now[t] {
			// Removed behind our back (or by our own deletion): forget it.
			c.forgetTopic(t)
		}
	}
	var newTPs []TopicPartition
	names := make([]string, 0, len(e.Assignments))
	for t := range e.Assignments {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		if !now[t] || c.topics[t] != nil {
			continue
		}
		c.addTopic(t, e.Assignments[t])
		newTPs = append(newTPs, c.topicPartitions(t)...)
	}
	c.onNewPartitionCreation(newTPs)
}

func (c *Core) forgetTopic(t string) {
	for _, tp := range c.topicPartitions(t) {
		delete(c.states, tp)
		delete(c.phase, tp)
		delete(c.reassigning, tp)
	}
	delete(c.topics, t)
	delete(c.deleting, t)
}

func (c *Core) onPartitionsModified(e PartitionsModified) {
	ti := c.topics[e.Topic]
	if ti == nil {
		c.onTopicsChanged(TopicsChanged{Topics: append(c.Topics(), e.Topic), Assignments: map[string]zkmeta.TopicAssignment{e.Topic: e.Assignment}})
		return
	}
	if c.deleting[e.Topic] != nil {
		// Kafka restores the old assignment while a topic is being deleted.
		c.write(Write{Kind: SetTopicAssignment, Topic: e.Topic, Assignment: c.assignmentOf(e.Topic)})
		return
	}
	if ti.id.IsZero() && !e.Assignment.TopicID.IsZero() {
		ti.id = e.Assignment.TopicID
	}
	var added []TopicPartition
	for p, ra := range e.Assignment.Partitions {
		if _, ok := ti.parts[p]; !ok {
			ti.parts[p] = ra
			added = append(added, TopicPartition{Topic: e.Topic, Partition: p})
		}
	}
	sortTPs(added)
	c.onNewPartitionCreation(added)
}

func (c *Core) assignmentOf(t string) zkmeta.TopicAssignment {
	ti := c.topics[t]
	ta := zkmeta.TopicAssignment{Version: 3, Partitions: map[int32]zkmeta.ReplicaAssignment{}, TopicID: ti.id}
	for p, ra := range ti.parts {
		ta.Partitions[p] = ra
	}
	return ta
}

// onNewPartitionCreation: NonExistent -> New -> Online (initializeLeaderAndIsrForPartitions).
func (c *Core) onNewPartitionCreation(tps []TopicPartition) {
	for _, tp := range tps {
		c.phase[tp] = NewPartition
	}
	c.electLeaders(tps, electOffline)
	c.flush()
}

// triggerOnlinePartitionStateChange elects leaders for every New and Offline partition of topics not being deleted.
func (c *Core) triggerOnlinePartitionStateChange() {
	var tps []TopicPartition
	for _, tp := range c.allPartitions() {
		if ph := c.phase[tp]; (ph == NewPartition || ph == OfflinePartition) && c.deleting[tp.Topic] == nil {
			tps = append(tps, tp)
		}
	}
	c.electLeaders(tps, electOffline)
}

type electionKind int

const (
	electOffline electionKind = iota
	electPreferred
	electControlledShutdown
	electReassign
	electUnclean // admin-requested unclean election: a live replica outside the ISR may lead
)

// electLeaders moves partitions to OnlinePartition with a leader chosen by kind; partitions without an electable
// leader keep their phase (offline partitions stay offline).
func (c *Core) electLeaders(tps []TopicPartition, kind electionKind) []TopicPartition {
	var elected []TopicPartition
	for _, tp := range tps {
		reps := c.replicas(tp)
		st, ok := c.states[tp]
		if !ok {
			// NewPartition: first live replica leads, all live replicas form the ISR.
			var live []int32
			for _, r := range reps {
				if c.isOnline(r) {
					live = append(live, r)
				}
			}
			if len(live) == 0 {
				continue // "No assigned replica is alive"
			}
			ns := zkmeta.PartitionState{Leader: live[0], LeaderEpoch: 0, ISR: live, ControllerEpoch: c.epoch}
			c.write(Write{Kind: CreatePartitionState, TP: tp, State: ns})
			c.states[tp] = ns
			c.phase[tp] = OnlinePartition
			c.addLeaderAndIsr(live, tp, true)
			elected = append(elected, tp)
			continue
		}
		leader, isr := NoLeader, []int32(nil)
		switch kind {
		case electOffline, electUnclean:
			for _, r := range reps {
				if c.isOnline(r) && contains(st.ISR, r) {
					leader = r
					break
				}
			}
			if leader != NoLeader {
				for _, r := range st.ISR {
					if c.isOnline(r) {
						isr = append(isr, r)
					}
				}
			} else if kind == electUnclean || c.unclean(tp.Topic) {
				for _, r := range reps {
					if c.isOnline(r) {
						leader, isr = r, []int32{r}
						break
					}
				}
			}
		case electPreferred:
			if len(reps) > 0 && c.isOnline(reps[0]) && contains(st.ISR, reps[0]) {
				leader, isr = reps[0], st.ISR
			}
		case electControlledShutdown:
			for _, r := range reps {
				if c.isOnline(r) && contains(st.ISR, r) {
					leader = r
					break
				}
			}
			for _, r := range st.ISR {
				if !c.shuttingDown[r] {
					isr = append(isr, r)
				}
			}
		case electReassign:
			// The assignment is already the target one (phase B).
			for _, r := range reps {
				if c.isOnline(r) && contains(st.ISR, r) {
					leader = r
					break
				}
			}
			isr = st.ISR
		}
		if leader == NoLeader {
			continue
		}
		c.setState(tp, zkmeta.PartitionState{Leader: leader, LeaderEpoch: st.LeaderEpoch + 1, ISR: isr, ControllerEpoch: c.epoch})
		c.phase[tp] = OnlinePartition
		c.addLeaderAndIsr(reps, tp, false)
		elected = append(elected, tp)
	}
	return elected
}

// setState writes a partition state conditional on the cached zkVersion and caches the result.
func (c *Core) setState(tp TopicPartition, ns zkmeta.PartitionState) {
	old := c.states[tp]
	ns.ZkVersion = old.ZkVersion
	if ns.ISR == nil {
		ns.ISR = []int32{}
	}
	c.write(Write{Kind: SetPartitionState, TP: tp, State: ns})
	ns.ZkVersion++
	c.states[tp] = ns
}

// removeReplicaFromIsr is the OfflineReplica transition's ZooKeeper part: drop the replica from the ISR (an ISR of
// one is kept), clear the leadership if it led, bump the leader epoch, and tell the other replicas.
func (c *Core) removeReplicaFromIsr(tp TopicPartition, replica int32) {
	st, ok := c.states[tp]
	if !ok || !contains(st.ISR, replica) {
		return
	}
	leader := st.Leader
	if leader == replica {
		leader = NoLeader
	}
	isr := st.ISR
	if len(isr) > 1 {
		isr = nil
		for _, r := range st.ISR {
			if r != replica {
				isr = append(isr, r)
			}
		}
	}
	c.setState(tp, zkmeta.PartitionState{Leader: leader, LeaderEpoch: st.LeaderEpoch + 1, ISR: isr, ControllerEpoch: c.epoch})
	if leader == NoLeader {
		c.phase[tp] = OfflinePartition
	}
	if c.deleting[tp.Topic] == nil {
		var others []int32
		for _, r := range c.replicas(tp) {
			if r != replica {
				others = append(others, r)
			}
		}
		c.addLeaderAndIsr(others, tp, false)
	}
}

// ---- brokers ----

func (c *Core) onBrokersChanged(e BrokersChanged) {
	cur := map[int32]zkmeta.BrokerInfo{}
	for _, b := range e.Brokers {
		cur[b.ID] = b
	}
	var dead, bounced, born []int32
	for _, id := range sortedKeys(c.live) {
		nb, ok := cur[id]
		switch {
		case !ok:
			dead = append(dead, id)
		case nb.Epoch > c.live[id].Epoch:
			bounced = append(bounced, id)
		}
	}
	for _, id := range sortedKeys(cur) {
		if _, ok := c.live[id]; !ok {
			born = append(born, id)
		}
	}
	if len(dead)+len(bounced) > 0 {
		for _, id := range append(append([]int32{}, dead...), bounced...) {
			delete(c.live, id)
			delete(c.shuttingDown, id)
		}
		c.onBrokerFailure(append(append([]int32{}, dead...), bounced...))
	}
	startup := append(append([]int32{}, born...), bounced...)
	if len(startup) > 0 {
		for _, id := range startup {
			c.live[id] = cur[id]
		}
		sort.Slice(startup, func(i, j int) bool { return startup[i] < startup[j] })
		c.onBrokerStartup(startup)
	}
	// A live broker's registration rewritten in place with other endpoints or features (a dynamic listeners
	// update: KafkaController.processBrokerModification) reaches every live broker in an UpdateMetadata of the
	// brokers alone (onBrokerUpdate).
	modified := false
	for id, nb := range cur {
		if ob, ok := c.live[id]; ok && ob.Epoch == nb.Epoch {
			modified = modified || !slices.Equal(ob.Endpoints, nb.Endpoints) || !maps.Equal(ob.Features, nb.Features)
			c.live[id] = nb
		}
	}
	if modified {
		c.addUpdateMetadata(c.liveBrokerIDs(), nil)
	}
}

func (c *Core) onBrokerFailure(dead []int32) {
	isDead := map[int32]bool{}
	for _, d := range dead {
		isDead[d] = true
	}
	var touched []TopicPartition
	for _, tp := range c.allPartitions() {
		if c.deleting[tp.Topic] != nil {
			continue
		}
		if st, ok := c.states[tp]; ok && isDead[st.Leader] {
			c.phase[tp] = OfflinePartition
		}
		for _, r := range c.replicas(tp) {
			if isDead[r] {
				touched = append(touched, tp)
				break
			}
		}
	}
	c.triggerOnlinePartitionStateChange()
	c.flush()
	for _, tp := range touched {
		for _, r := range c.replicas(tp) {
			if isDead[r] {
				c.removeReplicaFromIsr(tp, r)
			}
		}
	}
	// Deletions touching dead brokers stall (ReplicaDeletionIneligible) until they return.
	for t, d := range c.deleting {
		for _, tp := range c.topicPartitions(t) {
			for r := range d.started[tp] {
				if isDead[r] && !d.done[tp][r] {
					delete(d.started[tp], r)
				}
			}
		}
	}
	c.addUpdateMetadata(c.liveBrokerIDs(), touched)
	c.flush()
}

func (c *Core) onBrokerStartup(born []int32) {
	isNew := map[int32]bool{}
	for _, b := range born {
		isNew[b] = true
	}
	var existing []int32
	for _, id := range c.liveBrokerIDs() {
		if !isNew[id] {
			existing = append(existing, id)
		}
	}
	c.addUpdateMetadata(existing, nil)
	c.flush()
	var withLeaders []TopicPartition
	for _, tp := range c.allPartitions() {
		if _, ok := c.states[tp]; ok {
			withLeaders = append(withLeaders, tp)
		}
	}
	c.addUpdateMetadata(born, withLeaders)
	c.flush()
	// Replicas on the new brokers go online: they learn the current leader and ISR.
	for _, tp := range c.allPartitions() {
		if c.deleting[tp.Topic] != nil {
			continue
		}
		if _, ok := c.states[tp]; !ok {
			continue
		}
		var on []int32
		for _, r := range c.replicas(tp) {
			if isNew[r] {
				on = append(on, r)
			}
		}
		if len(on) > 0 {
			c.addLeaderAndIsr(on, tp, false)
		}
	}
	c.flush()
	c.triggerOnlinePartitionStateChange()
	c.flush()
	c.restartReassignments(born)
	c.resumeDeletions()
}

// ---- ISR changes ----

func (c *Core) onStatesRead(e PartitionStatesRead) {
	var tps []TopicPartition
	for tp, st := range e.States {
		if c.topics[tp.Topic] == nil {
			continue
		}
		if _, ok := c.topics[tp.Topic].parts[tp.Partition]; !ok {
			continue
		}
		c.states[tp] = st
		tps = append(tps, tp)
		if st.Leader >= 0 && c.isLive(st.Leader) {
			c.phase[tp] = OnlinePartition
		} else {
			c.phase[tp] = OfflinePartition
		}
	}
	sortTPs(tps)
	if e.Notify {
		c.addUpdateMetadata(c.liveBrokerIDs(), tps)
		c.flush()
	} else {
		// A write of ours lost a race: redo what is still needed with the fresh state (elect leaders, drop dead
		// replicas from the ISR).
		c.triggerOnlinePartitionStateChange()
		c.flush()
		for _, tp := range tps {
			if c.deleting[tp.Topic] != nil {
				continue
			}
			before := c.states[tp].ZkVersion
			for _, r := range append([]int32{}, c.states[tp].ISR...) {
				if !c.isLive(r) {
					c.removeReplicaFromIsr(tp, r)
				}
			}
			if c.states[tp].ZkVersion == before {
				// Nothing to redo, but the lost write's requests were withheld: send the state ZooKeeper holds.
				c.addLeaderAndIsr(c.replicas(tp), tp, false)
			}
		}
		c.flush()
	}
	c.checkReassignments()
}

// ---- controlled shutdown ----

func (c *Core) onControlledShutdown(e ControlledShutdown) {
	b, ok := c.live[e.BrokerID]
	if !ok {
		c.out.Shutdown = &ShutdownResult{ErrorCode: errBrokerNotAvailable}
		return
	}
	if e.BrokerEpoch >= 0 && e.BrokerEpoch < b.Epoch {
		c.out.Shutdown = &ShutdownResult{ErrorCode: errStaleBrokerEpoch}
		return
	}
	c.shuttingDown[e.BrokerID] = true
	var led, followed []TopicPartition
	for _, tp := range c.allPartitions() {
		reps := c.replicas(tp)
		st, ok := c.states[tp]
		if !ok || len(reps) <= 1 || !contains(reps, e.BrokerID) || c.deleting[tp.Topic] != nil {
			continue
		}
		if st.Leader == e.BrokerID {
			led = append(led, tp)
		} else {
			followed = append(followed, tp)
		}
	}
	c.electLeaders(led, electControlledShutdown)
	c.flush()
	for _, tp := range followed {
		c.addStopReplica(e.BrokerID, tp, false)
		c.removeReplicaFromIsr(tp, e.BrokerID)
	}
	c.flush()
	res := &ShutdownResult{Remaining: []TopicPartition{}}
	for _, tp := range c.allPartitions() {
		if st, ok := c.states[tp]; ok && st.Leader == e.BrokerID && len(c.replicas(tp)) > 1 {
			res.Remaining = append(res.Remaining, tp)
		}
	}
	c.out.Shutdown = res
}

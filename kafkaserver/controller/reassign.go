package controller

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// ---- reassignment (KIP-455: KafkaController.onPartitionReassignment and friends) ----
//
// A partition is being reassigned while its assignment has adding or removing replicas; the topic znode is the
// persistent record (RS = TRS + ORS, AR = RS - ORS, RR = RS - TRS), so a new controller resumes from it.
// /admin/reassign_partitions only lists the reassignments a ZooKeeper tool asked for; the core mirrors its content
// in zkReas so it can remove completed entries without reading it.

// isBeingReassigned is ReplicaAssignment.isBeingReassigned.
func isBeingReassigned(ra zkmeta.ReplicaAssignment) bool {
	return len(ra.Adding) > 0 || len(ra.Removing) > 0
}

// targetReplicas is RS - RR.
func targetReplicas(ra zkmeta.ReplicaAssignment) []int32 { return without(ra.Replicas, ra.Removing) }

// originReplicas is RS - AR.
func originReplicas(ra zkmeta.ReplicaAssignment) []int32 { return without(ra.Replicas, ra.Adding) }

// reassignTo is ReplicaAssignment.reassignTo: the target first, then the origin replicas not in it.
func reassignTo(cur zkmeta.ReplicaAssignment, target []int32) zkmeta.ReplicaAssignment {
	origin := originReplicas(cur)
	var full []int32
	for _, r := range append(append([]int32{}, target...), origin...) {
		if !contains(full, r) {
			full = append(full, r)
		}
	}
	return zkmeta.ReplicaAssignment{Replicas: full, Adding: without(full, origin), Removing: without(full, target)}
}

// without returns xs minus the members of ys, keeping order (Scala's Seq.diff on distinct lists).
func without(xs, ys []int32) []int32 {
	var out []int32
	for _, x := range xs {
		if !contains(ys, x) {
			out = append(out, x)
		}
	}
	return out
}

func equalAssignment(a, b zkmeta.ReplicaAssignment) bool {
	return equalInt32s(a.Replicas, b.Replicas) && equalInt32s(a.Adding, b.Adding) && equalInt32s(a.Removing, b.Removing)
}

// fullAssignment is partitionFullReplicaAssignment (empty for unknown partitions).
func (c *Core) fullAssignment(tp TopicPartition) zkmeta.ReplicaAssignment {
	if ti, ok := c.topics[tp.Topic]; ok {
		return ti.parts[tp.Partition]
	}
	return zkmeta.ReplicaAssignment{}
}

// initReassignments fills partitionsBeingReassigned from the topic znodes (initializeControllerContext).
func (c *Core) initReassignments() {
	for _, tp := range c.allPartitions() {
		if ra := c.fullAssignment(tp); isBeingReassigned(ra) {
			c.reassigning[tp] = targetReplicas(ra)
		}
	}
}

// initializePartitionReassignments: the znode's reassignments supplant API ones, then the API ones resume.
func (c *Core) initializePartitionReassignments(zk []zkmeta.PartitionReassignment) {
	resumed := map[TopicPartition]bool{}
	if zk != nil {
		resumed = c.processZkReassignment(zk)
	}
	for _, tp := range c.reassigningPartitions() {
		if !resumed[tp] && c.reassigning[tp] != nil {
			c.onPartitionReassignment(tp, c.fullAssignment(tp))
		}
	}
}

func (c *Core) reassigningPartitions() []TopicPartition {
	tps := make([]TopicPartition, 0, len(c.reassigning))
	for tp := range c.reassigning {
		tps = append(tps, tp)
	}
	sortTPs(tps)
	return tps
}

// onReassignmentRequested handles a created /admin/reassign_partitions.
func (c *Core) onReassignmentRequested(e ReassignmentRequested) {
	c.processZkReassignment(e.Reassignments)
}

// processZkReassignment is processZkPartitionReassignment: start every listed reassignment and drop the failed ones
// from the znode. It returns the partitions started.
func (c *Core) processZkReassignment(rs []zkmeta.PartitionReassignment) map[TopicPartition]bool {
	c.zkReas = append([]zkmeta.PartitionReassignment{}, rs...)
	started := map[TopicPartition]bool{}
	failed := map[TopicPartition]bool{}
	for _, r := range rs {
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		if started[tp] || failed[tp] {
			continue
		}
		// Kafka does not check ZooKeeper-submitted lists; an empty or duplicated one would corrupt the assignment.
		if code, _ := validReplicaList(r.Replicas); code != 0 {
			failed[tp] = true
			continue
		}
		if code, _ := c.maybeTriggerReassignment(tp, reassignTo(c.fullAssignment(tp), r.Replicas)); code != 0 {
			failed[tp] = true
			continue
		}
		started[tp] = true
	}
	if len(failed) > 0 || len(rs) == 0 {
		c.maybeRemoveFromZkReassignment(func(tp TopicPartition, _ []int32) bool { return failed[tp] })
	}
	return started
}

// maybeTriggerReassignment is maybeTriggerPartitionReassignment for one partition.
func (c *Core) maybeTriggerReassignment(tp TopicPartition, ra zkmeta.ReplicaAssignment) (int16, *string) {
	if c.deleting[tp.Topic] != nil || len(c.replicas(tp)) == 0 {
		return kerr.UnknownTopicOrPartition.Code, msg("The partition does not exist.")
	}
	c.onPartitionReassignment(tp, ra)
	return 0, nil
}

// onPartitionReassignment runs phase A (start the adding replicas) until the targets are all in the ISR, then
// phase B (move the leader into the targets, stop the removed replicas, record the final assignment).
func (c *Core) onPartitionReassignment(tp TopicPartition, ra zkmeta.ReplicaAssignment) {
	c.updateCurrentReassignment(tp, ra)
	if !c.isReassignmentComplete(tp, ra) {
		// A1: every replica of RS learns the new assignment under a new leader epoch.
		c.updateLeaderEpochAndSend(tp, ra.Replicas)
		// A2: the adding replicas start as new replicas.
		if st, ok := c.states[tp]; ok {
			c.addLeaderAndIsr(without(ra.Adding, []int32{st.Leader}), tp, true)
		}
		c.flush()
		return
	}
	done := zkmeta.ReplicaAssignment{Replicas: targetReplicas(ra)}
	c.topics[tp.Topic].parts[tp.Partition] = done
	c.moveReassignedLeaderIfRequired(tp, done.Replicas)
	c.flush()
	c.stopRemovedReplicas(tp, ra.Removing)
	c.write(Write{Kind: SetTopicAssignment, Topic: tp.Topic, Assignment: c.assignmentOf(tp.Topic)})
	delete(c.reassigning, tp)
	c.maybeRemoveFromZkReassignment(func(x TopicPartition, reps []int32) bool {
		return x == tp && equalInt32s(reps, done.Replicas)
	})
	c.addUpdateMetadata(c.liveBrokerIDs(), []TopicPartition{tp})
	c.flush()
	c.resumeDeletions()
}

// updateCurrentReassignment records a new assignment (znode, then memory); replicas a superseded reassignment was
// adding are stopped at once.
func (c *Core) updateCurrentReassignment(tp TopicPartition, ra zkmeta.ReplicaAssignment) {
	cur := c.fullAssignment(tp)
	if !equalAssignment(cur, ra) {
		c.topics[tp.Topic].parts[tp.Partition] = ra
		c.write(Write{Kind: SetTopicAssignment, Topic: tp.Topic, Assignment: c.assignmentOf(tp.Topic)})
		if unneeded := without(cur.Replicas, ra.Replicas); len(unneeded) > 0 {
			c.stopRemovedReplicas(tp, unneeded)
		}
	}
	c.reassigning[tp] = targetReplicas(ra)
}

// isReassignmentComplete: nothing is being added or removed, or every target replica is in the ISR.
func (c *Core) isReassignmentComplete(tp TopicPartition, ra zkmeta.ReplicaAssignment) bool {
	if !isBeingReassigned(ra) {
		return true
	}
	st, ok := c.states[tp]
	return ok && subset(targetReplicas(ra), st.ISR)
}

// updateLeaderEpochAndSend bumps the leader epoch (same leader and ISR) and sends the state to the replicas.
func (c *Core) updateLeaderEpochAndSend(tp TopicPartition, to []int32) {
	st, ok := c.states[tp]
	if !ok {
		return // Kafka logs the failure; the reassignment stays pending
	}
	c.setState(tp, zkmeta.PartitionState{Leader: st.Leader, LeaderEpoch: st.LeaderEpoch + 1, ISR: st.ISR, ControllerEpoch: c.epoch})
	c.addLeaderAndIsr(to, tp, false)
	c.flush()
}

func (c *Core) moveReassignedLeaderIfRequired(tp TopicPartition, reps []int32) {
	st, ok := c.states[tp]
	if !ok {
		return
	}
	if contains(reps, st.Leader) && c.isOnline(st.Leader) {
		c.updateLeaderEpochAndSend(tp, reps)
		return
	}
	c.electLeaders([]TopicPartition{tp}, electReassign)
}

// stopRemovedReplicas moves replicas to OfflineReplica (StopReplica, out of the ISR) and then to NonExistentReplica
// (StopReplica with delete).
func (c *Core) stopRemovedReplicas(tp TopicPartition, reps []int32) {
	if len(reps) == 0 {
		return
	}
	for _, r := range reps {
		c.addStopReplica(r, tp, false)
		c.removeReplicaFromIsr(tp, r)
	}
	c.flush()
	for _, r := range reps {
		c.addStopReplica(r, tp, true)
	}
	c.flush()
}

// maybeRemoveFromZkReassignment rewrites /admin/reassign_partitions without the matching entries, deleting it when
// none remain.
func (c *Core) maybeRemoveFromZkReassignment(remove func(TopicPartition, []int32) bool) {
	if c.zkReas == nil {
		return
	}
	var keep []zkmeta.PartitionReassignment
	for _, r := range c.zkReas {
		if !remove(TopicPartition{Topic: r.Topic, Partition: r.Partition}, r.Replicas) {
			keep = append(keep, r)
		}
	}
	if len(keep) == len(c.zkReas) && len(keep) > 0 {
		return
	}
	c.zkReas = keep
	c.write(Write{Kind: SetReassignments, Reassignments: append([]zkmeta.PartitionReassignment{}, keep...)})
}

// checkReassignments is maybeCompleteReassignment for every reassigning partition, after ISR changes.
func (c *Core) checkReassignments() {
	for _, tp := range c.reassigningPartitions() {
		ra := c.fullAssignment(tp)
		if c.reassigning[tp] != nil && c.isReassignmentComplete(tp, ra) {
			c.onPartitionReassignment(tp, ra)
		}
	}
}

// restartReassignments re-runs reassignments with replicas on newly started brokers (onBrokerStartup).
func (c *Core) restartReassignments(born []int32) {
	for _, tp := range c.reassigningPartitions() {
		ra := c.fullAssignment(tp)
		for _, b := range born {
			if contains(ra.Replicas, b) {
				c.onPartitionReassignment(tp, ra)
				break
			}
		}
	}
}

// ---- AlterPartitionReassignments / ListPartitionReassignments ----

// ReassignmentTarget is one partition of an AlterPartitionReassignments request; nil Replicas cancels.
type ReassignmentTarget struct {
	TP       TopicPartition
	Replicas []int32
}

// AlterReassignments is an AlterPartitionReassignments request.
type AlterReassignments struct{ Targets []ReassignmentTarget }

// ListReassignments is a ListPartitionReassignments request; nil Partitions lists all.
type ListReassignments struct{ Partitions []TopicPartition }

// PartitionError is one partition's outcome.
type PartitionError struct {
	TP        TopicPartition
	ErrorCode int16
	Message   *string
}

// OngoingReassignment is one partition being reassigned.
type OngoingReassignment struct {
	TP                         TopicPartition
	Replicas, Adding, Removing []int32
}

func (AlterReassignments) isEvent() {}
func (ListReassignments) isEvent()  {}

func msg(s string) *string { return &s }

// validReplicaList is the list part of validateReplicas.
func validReplicaList(reps []int32) (int16, *string) {
	if len(reps) == 0 {
		return kerr.InvalidReplicaAssignment.Code, msg("Empty replica list in the partition reassignment.")
	}
	seen := map[int32]bool{}
	for _, r := range reps {
		if seen[r] {
			return kerr.InvalidReplicaAssignment.Code, msg("Duplicate broker ids in the partition reassignment.")
		}
		if r < 0 {
			return kerr.InvalidReplicaAssignment.Code, msg("Negative broker id in the partition reassignment.")
		}
		seen[r] = true
	}
	return 0, nil
}

// onAlterReassignments is processApiPartitionReassignment; results come in request order (a partition named twice
// counts once, the last wins).
func (c *Core) onAlterReassignments(e AlterReassignments) []PartitionError {
	last := map[TopicPartition]int{}
	for i, t := range e.Targets {
		last[t.TP] = i
	}
	results := map[TopicPartition]PartitionError{}
	var order []TopicPartition
	toReassign := map[TopicPartition]zkmeta.ReplicaAssignment{}
	for i, t := range e.Targets {
		if last[t.TP] != i {
			continue
		}
		order = append(order, t.TP)
		if t.Replicas != nil {
			code, m := validReplicaList(t.Replicas)
			if code == 0 {
				for _, r := range reassignTo(c.fullAssignment(t.TP), t.Replicas).Adding {
					if !c.isOnline(r) {
						code, m = kerr.InvalidReplicaAssignment.Code, msg("Replica assignment names brokers that are not alive.")
						break
					}
				}
			}
			if code != 0 {
				results[t.TP] = PartitionError{TP: t.TP, ErrorCode: code, Message: m}
				continue
			}
		}
		cur := c.fullAssignment(t.TP)
		switch {
		case isBeingReassigned(cur) && t.Replicas == nil:
			toReassign[t.TP] = reassignTo(cur, originReplicas(cur))
		case t.Replicas != nil:
			toReassign[t.TP] = reassignTo(cur, t.Replicas)
		default:
			results[t.TP] = PartitionError{TP: t.TP, ErrorCode: kerr.NoReassignmentInProgress.Code, Message: msg(kerr.NoReassignmentInProgress.Description)}
		}
	}
	// The latest reassignment wins over one submitted through ZooKeeper.
	c.maybeRemoveFromZkReassignment(func(tp TopicPartition, _ []int32) bool { _, ok := toReassign[tp]; return ok })
	for _, tp := range order {
		if ra, ok := toReassign[tp]; ok {
			code, m := c.maybeTriggerReassignment(tp, ra)
			results[tp] = PartitionError{TP: tp, ErrorCode: code, Message: m}
		}
	}
	out := make([]PartitionError, 0, len(order))
	for _, tp := range order {
		out = append(out, results[tp])
	}
	return out
}

// onListReassignments is processListPartitionReassignments.
func (c *Core) onListReassignments(e ListReassignments) []OngoingReassignment {
	tps := e.Partitions
	if tps == nil {
		tps = c.reassigningPartitions()
	}
	out := []OngoingReassignment{}
	seen := map[TopicPartition]bool{}
	for _, tp := range tps {
		ra := c.fullAssignment(tp)
		if seen[tp] || !isBeingReassigned(ra) {
			continue
		}
		seen[tp] = true
		out = append(out, OngoingReassignment{TP: tp, Replicas: append([]int32{}, ra.Replicas...),
			Adding: append([]int32{}, ra.Adding...), Removing: append([]int32{}, ra.Removing...)})
	}
	return out
}

// ---- ElectLeaders and /admin/preferred_replica_election ----

// ElectLeaders is an ElectLeaders request (admin-triggered): preferred, or unclean when Unclean.
type ElectLeaders struct {
	Partitions []TopicPartition
	Unclean    bool
}

func (ElectLeaders) isEvent() {}

// ElectionResult is one partition's election outcome; Leader is meaningful when ErrorCode is 0.
type ElectionResult struct {
	TP        TopicPartition
	ErrorCode int16
	Message   *string
	Leader    int32
}

// AdminResult answers AlterReassignments, ListReassignments and ElectLeaders events.
type AdminResult struct {
	Reassign  []PartitionError
	Ongoing   []OngoingReassignment
	Elections []ElectionResult
}

// onReplicaElection is processReplicaLeaderElection: unknown partitions, partitions of topics being deleted and
// partitions whose leader is already right get their errors; the rest are elected. Unclean elections may pick a
// replica outside the ISR only when an admin asked (admin).
func (c *Core) onReplicaElection(tps []TopicPartition, unclean, admin bool) []ElectionResult {
	tps = append([]TopicPartition{}, tps...)
	sortTPs(tps)
	var results []ElectionResult
	var electable []TopicPartition
	for i, tp := range tps {
		if i > 0 && tps[i-1] == tp {
			continue
		}
		reps := c.replicas(tp)
		st, hasState := c.states[tp]
		switch {
		case len(reps) == 0:
			results = append(results, ElectionResult{TP: tp, ErrorCode: kerr.UnknownTopicOrPartition.Code, Message: msg("The partition does not exist.")})
		case c.deleting[tp.Topic] != nil:
			results = append(results, ElectionResult{TP: tp, ErrorCode: kerr.InvalidTopicException.Code, Message: msg("The topic is being deleted")})
		case !unclean && hasState && st.Leader == reps[0],
			unclean && hasState && st.Leader != NoLeader && c.isOnline(st.Leader):
			results = append(results, ElectionResult{TP: tp, ErrorCode: kerr.ElectionNotNeeded.Code, Message: msg(kerr.ElectionNotNeeded.Description)})
		default:
			electable = append(electable, tp)
		}
	}
	kind := electPreferred
	if unclean {
		kind = electOffline
		if admin {
			kind = electUnclean
		}
	}
	elected := map[TopicPartition]bool{}
	for _, tp := range c.electLeaders(electable, kind) {
		elected[tp] = true
	}
	c.flush()
	for _, tp := range electable {
		switch {
		case elected[tp]:
			results = append(results, ElectionResult{TP: tp, Leader: c.states[tp].Leader})
		case unclean:
			results = append(results, ElectionResult{TP: tp, ErrorCode: kerr.EligibleLeadersNotAvailable.Code,
				Message: msg("No live replica of " + tp.Topic + " can be elected leader.")})
		default:
			results = append(results, ElectionResult{TP: tp, ErrorCode: kerr.PreferredLeaderNotAvailable.Code,
				Message: msg("The preferred replica of " + tp.Topic + " is not alive or not in the ISR.")})
		}
	}
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i].TP, results[j].TP
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	return results
}

// onPreferredElection handles /admin/preferred_replica_election (ZooKeeper-triggered preferred election).
func (c *Core) onPreferredElection(tps []TopicPartition) {
	c.onReplicaElection(tps, false, false)
}

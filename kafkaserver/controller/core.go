// Package controller is the ZooKeeper-mode Kafka controller: a deterministic core (Core) that turns events into
// znode writes and inter-broker requests, and a runtime (Controller) that elects, watches ZooKeeper, performs the
// writes with controller-epoch fencing and delivers the requests. It follows Kafka 2.8's KafkaController,
// PartitionStateMachine, ReplicaStateMachine and TopicDeletionManager.
package controller

import (
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/metrics"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// Leader values with special meaning (LeaderAndIsr.NoLeader, LeaderDuringDelete, EpochDuringDelete).
const (
	NoLeader           int32 = -1
	LeaderDuringDelete int32 = -2
	EpochDuringDelete  int32 = -2
)

// Kafka error codes the controller returns.
const (
	errNone               int16 = 0
	errBrokerNotAvailable int16 = 8
	errStaleBrokerEpoch   int16 = 77
)

// Request versions the Kafka 2.8 controller sends at IBP 2.8-IV1.
const (
	LeaderAndIsrVersion   int16 = 5
	UpdateMetadataVersion int16 = 7
	StopReplicaVersion    int16 = 3
)

// Config holds the controller settings taken from server.properties.
type Config struct {
	BrokerID int32
	// DeleteTopicEnable is delete.topic.enable (Kafka default true).
	DeleteTopicEnable bool
	// UncleanLeaderElection is unclean.leader.election.enable (default false); UncleanTopics overrides per topic.
	UncleanLeaderElection bool
	UncleanTopics         map[string]bool
	// InterBrokerListener names the listener LiveLeaders point at (inter.broker.listener.name); "" picks the
	// first PLAINTEXT endpoint, else the first.
	InterBrokerListener string
}

// PartitionPhase is the partition state machine's state.
type PartitionPhase int8

// Partition states (PartitionStateMachine).
const (
	NonExistentPartition PartitionPhase = iota
	NewPartition
	OnlinePartition
	OfflinePartition
)

func (p PartitionPhase) String() string {
	return [...]string{"NonExistentPartition", "NewPartition", "OnlinePartition", "OfflinePartition"}[p]
}

// TopicPartition is zkmeta's partition key.
type TopicPartition = zkmeta.TopicPartition

// Event is an input to Core.Handle.
type Event interface{ isEvent() }

// ControllerElected: this broker won /controller. It carries everything onControllerFailover reads.
type ControllerElected struct {
	Epoch, EpochZkVersion int32
	Brokers               []zkmeta.BrokerInfo
	Topics                map[string]zkmeta.TopicAssignment
	States                map[TopicPartition]zkmeta.PartitionState
	TopicsToDelete        []string
	PreferredElection     []TopicPartition
	Reassignments         []zkmeta.PartitionReassignment
}

// Resigned: this broker lost the controllership; the core forgets everything.
type Resigned struct{}

// BrokersChanged is the full current set of /brokers/ids registrations (with epochs).
type BrokersChanged struct{ Brokers []zkmeta.BrokerInfo }

// TopicsChanged is the full set of /brokers/topics children plus the assignments read for topics the core did not
// know yet.
type TopicsChanged struct {
	Topics      []string
	Assignments map[string]zkmeta.TopicAssignment
}

// PartitionsModified is a data change of /brokers/topics/<t> (partitions added).
type PartitionsModified struct {
	Topic      string
	Assignment zkmeta.TopicAssignment
}

// DeleteTopicsRequested is the full set of /admin/delete_topics children.
type DeleteTopicsRequested struct{ Topics []string }

// ReplicaDeletionResult reports a StopReplica(delete=true) response.
type ReplicaDeletionResult struct {
	Broker     int32
	Partitions []TopicPartition
	Failed     bool
}

// PartitionStatesRead carries state znodes read from ZooKeeper: after an ISR change notification, or after a
// conditional write of the core failed and the runtime re-read the truth. Absent partitions are left out.
type PartitionStatesRead struct {
	States map[TopicPartition]zkmeta.PartitionState
	// Notify sends UpdateMetadata for them (IsrChangeNotification); false for write-conflict refreshes.
	Notify bool
}

// PreferredElectionRequested is the content of /admin/preferred_replica_election.
type PreferredElectionRequested struct{ Partitions []TopicPartition }

// ReassignmentRequested is the content of /admin/reassign_partitions.
type ReassignmentRequested struct {
	Reassignments []zkmeta.PartitionReassignment
}

// ControlledShutdown is a ControlledShutdown request from a broker.
type ControlledShutdown struct {
	BrokerID    int32
	BrokerEpoch int64 // -1: unknown (old request versions)
}

func (ControllerElected) isEvent()          {}
func (Resigned) isEvent()                   {}
func (BrokersChanged) isEvent()             {}
func (TopicsChanged) isEvent()              {}
func (PartitionsModified) isEvent()         {}
func (DeleteTopicsRequested) isEvent()      {}
func (ReplicaDeletionResult) isEvent()      {}
func (PartitionStatesRead) isEvent()        {}
func (PreferredElectionRequested) isEvent() {}
func (ReassignmentRequested) isEvent()      {}
func (ControlledShutdown) isEvent()         {}

// WriteKind says which znode write to perform.
type WriteKind int8

// Znode writes (all fenced by the controller epoch zkVersion).
const (
	// CreatePartitionState: create .../partitions/<p>/state with State (parents as needed).
	CreatePartitionState WriteKind = iota
	// SetPartitionState: set the state znode to State, conditional on State.ZkVersion (the expected version).
	SetPartitionState
	// SetTopicAssignment: rewrite /brokers/topics/<Topic> with Assignment.
	SetTopicAssignment
	// DeleteTopic: delete /brokers/topics/<Topic> recursively.
	DeleteTopic
	// DeleteTopicConfig: delete /config/topics/<Topic>.
	DeleteTopicConfig
	// DeleteTopicMarker: delete /admin/delete_topics/<Topic>.
	DeleteTopicMarker
	// DeletePreferredElection: delete /admin/preferred_replica_election.
	DeletePreferredElection
	// SetReassignments: rewrite /admin/reassign_partitions with Reassignments, or delete it when empty.
	SetReassignments
)

// Write is one znode write.
type Write struct {
	Kind          WriteKind
	TP            TopicPartition
	State         zkmeta.PartitionState
	Topic         string
	Assignment    zkmeta.TopicAssignment
	Reassignments []zkmeta.PartitionReassignment
}

// Request is one inter-broker request: *kmsg.LeaderAndISRRequest, *kmsg.UpdateMetadataRequest or
// *kmsg.StopReplicaRequest.
type Request struct {
	Broker int32
	Msg    kmsg.Request
}

// ShutdownResult answers a ControlledShutdown event.
type ShutdownResult struct {
	ErrorCode int16
	Remaining []TopicPartition
}

// Output is what the runtime must do after an event: the writes in order, then the requests (per broker in
// order). Writes come first because brokers must not learn a state ZooKeeper does not hold.
type Output struct {
	Writes   []Write
	Requests []Request
	Shutdown *ShutdownResult
	// AlterIsr answers an AlterIsr event.
	AlterIsr *kmsg.AlterPartitionResponse
	// Admin answers ElectLeaders, AlterReassignments and ListReassignments events (nil: not the controller).
	Admin *AdminResult
}

type topicInfo struct {
	id    zkmeta.Uuid
	parts map[int32]zkmeta.ReplicaAssignment
}

type deletion struct {
	// replica deletion progress per partition and broker: true = successful.
	done    map[TopicPartition]map[int32]bool
	started map[TopicPartition]map[int32]bool
}

// Core is the controller's deterministic state machine. It is not safe for concurrent use.
type Core struct {
	cfg            Config
	active         bool
	epoch          int32
	epochZkVersion int32

	live         map[int32]zkmeta.BrokerInfo
	shuttingDown map[int32]bool
	topics       map[string]*topicInfo
	states       map[TopicPartition]zkmeta.PartitionState
	phase        map[TopicPartition]PartitionPhase
	deleting     map[string]*deletion
	reassigning  map[TopicPartition][]int32 // partitionsBeingReassigned: target replicas
	// zkReas mirrors /admin/reassign_partitions while it exists (nil: absent).
	zkReas []zkmeta.PartitionReassignment

	out   Output
	batch *batch
}

// NewCore returns an inactive core.
func NewCore(cfg Config) *Core {
	c := &Core{cfg: cfg}
	c.reset()
	return c
}

func (c *Core) reset() {
	c.active = false
	c.live = map[int32]zkmeta.BrokerInfo{}
	c.shuttingDown = map[int32]bool{}
	c.topics = map[string]*topicInfo{}
	c.states = map[TopicPartition]zkmeta.PartitionState{}
	c.phase = map[TopicPartition]PartitionPhase{}
	c.deleting = map[string]*deletion{}
	c.reassigning = map[TopicPartition][]int32{}
	c.zkReas = nil
}

// Active reports whether the core acts as controller.
func (c *Core) Active() bool { return c.active }

// Epoch returns the controller epoch and its znode's zkVersion (the fence for writes).
func (c *Core) Epoch() (epoch, zkVersion int32) { return c.epoch, c.epochZkVersion }

// State returns the cached leader and ISR of a partition.
func (c *Core) State(tp TopicPartition) (zkmeta.PartitionState, bool) {
	s, ok := c.states[tp]
	return s, ok
}

// Phase returns a partition's state machine state.
func (c *Core) Phase(tp TopicPartition) PartitionPhase { return c.phase[tp] }

// Topics returns the known topics, sorted.
func (c *Core) Topics() []string {
	ts := make([]string, 0, len(c.topics))
	for t := range c.topics {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// Assignment returns a topic's replica assignment.
func (c *Core) Assignment(topic string) (map[int32]zkmeta.ReplicaAssignment, bool) {
	ti, ok := c.topics[topic]
	if !ok {
		return nil, false
	}
	return ti.parts, true
}

// Deleting reports whether a topic is queued for deletion.
func (c *Core) Deleting(topic string) bool { return c.deleting[topic] != nil }

// LiveBrokers returns the live broker ids, sorted.
func (c *Core) LiveBrokers() []int32 { return sortedKeys(c.live) }

// Metrics returns KafkaController's gauges for the state the core holds (ControllerContext's counts): offline
// partitions are those in OfflinePartition outside topics queued for deletion, and imbalanced ones those led by
// another replica than the first of their assignment. An inactive core reports zeros.
func (c *Core) Metrics() metrics.Controller {
	if !c.active {
		return metrics.Controller{}
	}
	m := metrics.Controller{ActiveControllerCount: 1, GlobalTopicCount: len(c.topics), TopicsToDeleteCount: len(c.deleting)}
	for topic, ti := range c.topics {
		m.GlobalPartitionCount += len(ti.parts)
		if c.deleting[topic] != nil {
			continue
		}
		// A partition whose preferred replica is still being added counts as led by it (hasPreferredLeader).
		for p, ra := range ti.parts {
			st, ok := c.states[TopicPartition{Topic: topic, Partition: p}]
			if ok && len(ra.Replicas) > 0 && st.Leader != ra.Replicas[0] && !slices.Contains(ra.Adding, ra.Replicas[0]) {
				m.PreferredReplicaImbalanceCount++
			}
		}
	}
	for tp, ph := range c.phase {
		if ph == OfflinePartition && c.deleting[tp.Topic] == nil {
			m.OfflinePartitionsCount++
		}
	}
	return m
}

// Handle processes one event and returns what to do.
func (c *Core) Handle(ev Event) Output {
	c.out = Output{}
	c.batch = newBatch()
	switch e := ev.(type) {
	case ControllerElected:
		c.onControllerFailover(e)
	case Resigned:
		c.reset()
	default:
		if !c.active {
			return Output{}
		}
		switch e := ev.(type) {
		case BrokersChanged:
			c.onBrokersChanged(e)
		case TopicsChanged:
			c.onTopicsChanged(e)
		case PartitionsModified:
			c.onPartitionsModified(e)
		case DeleteTopicsRequested:
			c.onDeleteTopicsRequested(e)
		case ReplicaDeletionResult:
			c.onReplicaDeletionResult(e)
		case PartitionStatesRead:
			c.onStatesRead(e)
		case PreferredElectionRequested:
			c.onPreferredElection(e.Partitions)
			c.write(Write{Kind: DeletePreferredElection})
		case ReassignmentRequested:
			c.onReassignmentRequested(e)
		case ControlledShutdown:
			c.onControlledShutdown(e)
		case AlterIsr:
			c.onAlterIsr(e)
		case ElectLeaders:
			c.out.Admin = &AdminResult{Elections: c.onReplicaElection(e.Partitions, e.Unclean, true)}
		case AlterReassignments:
			c.out.Admin = &AdminResult{Reassign: c.onAlterReassignments(e)}
		case ListReassignments:
			c.out.Admin = &AdminResult{Ongoing: c.onListReassignments(e)}
		}
	}
	if c.active {
		// Any ISR the event changed (elections, shrinks on failure) may complete a reassignment; Kafka waits for
		// the next ISR change notification or AlterIsr, which may never come when the ISR is final.
		c.checkReassignments()
	}
	c.flush()
	out := c.out
	c.out, c.batch = Output{}, nil
	return out
}

func (c *Core) write(w Write) { c.out.Writes = append(c.out.Writes, w) }

// flush turns the current batch into requests (sendRequestsToBrokers) and starts a new one.
func (c *Core) flush() {
	if c.batch == nil {
		return
	}
	c.out.Requests = append(c.out.Requests, c.batch.build(c)...)
	c.batch = newBatch()
}

// ---- helpers over the context ----

func sortedKeys[V any](m map[int32]V) []int32 {
	ks := make([]int32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

func sortTPs(tps []TopicPartition) {
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
}

func contains(xs []int32, x int32) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// isOnline is isReplicaOnline: the broker is live and not shutting down.
func (c *Core) isOnline(b int32) bool {
	_, ok := c.live[b]
	return ok && !c.shuttingDown[b]
}

func (c *Core) isLive(b int32) bool { _, ok := c.live[b]; return ok }

func (c *Core) replicas(tp TopicPartition) []int32 {
	if ti, ok := c.topics[tp.Topic]; ok {
		return ti.parts[tp.Partition].Replicas
	}
	return nil
}

func (c *Core) allPartitions() []TopicPartition {
	var tps []TopicPartition
	for t, ti := range c.topics {
		for p := range ti.parts {
			tps = append(tps, TopicPartition{Topic: t, Partition: p})
		}
	}
	sortTPs(tps)
	return tps
}

func (c *Core) topicPartitions(topic string) []TopicPartition {
	var tps []TopicPartition
	if ti, ok := c.topics[topic]; ok {
		for p := range ti.parts {
			tps = append(tps, TopicPartition{Topic: topic, Partition: p})
		}
	}
	sortTPs(tps)
	return tps
}

func (c *Core) liveBrokerIDs() []int32 { return sortedKeys(c.live) }

func (c *Core) unclean(topic string) bool {
	if v, ok := c.cfg.UncleanTopics[topic]; ok {
		return v
	}
	return c.cfg.UncleanLeaderElection
}

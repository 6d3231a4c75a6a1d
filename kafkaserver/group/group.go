package group

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a group's state, named as Kafka's GroupState.toString.
type State int8

// Group states (GroupMetadata.scala).
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

func (s State) String() string {
	switch s {
	case Empty:
		return "Empty"
	case PreparingRebalance:
		return "PreparingRebalance"
	case CompletingRebalance:
		return "CompletingRebalance"
	case Stable:
		return "Stable"
	default:
		return "Dead"
	}
}

// Offset is a committed offset (OffsetAndMetadata). LeaderEpoch -1 and ExpireTimestamp -1 mean none.
type Offset struct {
	Offset          int64
	LeaderEpoch     int32
	Metadata        string
	CommitTimestamp int64
	ExpireTimestamp int64
	// appendOffset is where the commit's record is in __consumer_offsets: a transactional commit that completes
	// later replaces only an older one (CommitRecordMetadataAndOffset.olderThan).
	appendOffset int64
}

func (o Offset) olderThan(other Offset) bool { return o.appendOffset < other.appendOffset }

// TopicPartition names one committed offset of a group.
type TopicPartition struct {
	Topic     string
	Partition int32
}

type protocol struct {
	name     string
	metadata []byte
}

type member struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	rebalanceTimeout int32
	sessionTimeout   int32
	protocolType     string
	protocols        []protocol
	assignment       []byte
	isNew            bool

	joinCB      func(*kmsg.JoinGroupResponse)
	joinVersion int16
	syncCB      func(*kmsg.SyncGroupResponse)
	syncVersion int16

	// deadline is when the pending DelayedHeartbeat fires (0: none scheduled).
	deadline int64
}

func (m *member) awaitingJoin() bool { return m.joinCB != nil }
func (m *member) awaitingSync() bool { return m.syncCB != nil }

func (m *member) metadata(proto string) []byte {
	for _, p := range m.protocols {
		if p.name == proto {
			return p.metadata
		}
	}
	return nil
}

// matches reports whether a rejoin carries the same protocols in the same order.
func (m *member) matches(ps []protocol) bool {
	if len(ps) != len(m.protocols) {
		return false
	}
	for i := range ps {
		if ps[i].name != m.protocols[i].name || string(ps[i].metadata) != string(m.protocols[i].metadata) {
			return false
		}
	}
	return true
}

// delayedJoin is the join purgatory entry of a group in PreparingRebalance.
type delayedJoin struct {
	deadline  int64
	initial   bool  // InitialDelayedJoin: never completes early
	delay     int64 // initial only
	remaining int64 // initial only
}

type group struct {
	id           string
	partition    int32
	state        State
	stateTS      int64 // currentStateTimestamp, -1 if unknown
	generation   int32
	protocolType *string
	protocol     *string
	leader       string

	members    map[string]*member
	order      []string // insertion order: deterministic iteration and leader choice
	pending    map[string]int64
	static     map[string]string
	protoCount map[string]int
	awaiting   int
	newAdded   bool
	join       *delayedJoin
	subscribed map[string]bool // nil: unknown

	offsets map[TopicPartition]Offset
	// txnOffsets are TxnOffsetCommit's offsets by producer id, applied when the transaction commits.
	txnOffsets map[int64]map[TopicPartition]Offset
}

func newGroup(id string, partition int32, now int64) *group {
	return &group{id: id, partition: partition, state: Empty, stateTS: now, members: map[string]*member{},
		pending: map[string]int64{}, static: map[string]string{}, protoCount: map[string]int{},
		offsets: map[TopicPartition]Offset{}, txnOffsets: map[int64]map[TopicPartition]Offset{}}
}

func (g *group) transition(s State, now int64) {
	g.state = s
	g.stateTS = now
}

func (g *group) canRebalance() bool {
	return g.state == Stable || g.state == CompletingRebalance || g.state == Empty
}

func (g *group) allMembers() []*member {
	out := make([]*member, 0, len(g.order))
	for _, id := range g.order {
		out = append(out, g.members[id])
	}
	return out
}

func (g *group) add(m *member, cb func(*kmsg.JoinGroupResponse), ver int16) {
	if len(g.members) == 0 {
		pt := m.protocolType
		g.protocolType = &pt
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	for _, p := range m.protocols {
		g.protoCount[p.name]++
	}
	m.joinCB, m.joinVersion = cb, ver
	if cb != nil {
		g.awaiting++
	}
	delete(g.pending, m.id)
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
}

func (g *group) remove(id string) {
	m, ok := g.members[id]
	if !ok {
		return
	}
	delete(g.members, id)
	for i, o := range g.order {
		if o == id {
			g.order = append(g.order[:i:i], g.order[i+1:]...)
			break
		}
	}
	for _, p := range m.protocols {
		g.protoCount[p.name]--
	}
	if m.awaitingJoin() {
		g.awaiting--
	}
	if g.leader == id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
}

func (g *group) updateMember(m *member, ps []protocol, cb func(*kmsg.JoinGroupResponse), ver int16) {
	for _, p := range m.protocols {
		g.protoCount[p.name]--
	}
	for _, p := range ps {
		g.protoCount[p.name]++
	}
	m.protocols = ps
	if m.joinCB == nil && cb != nil {
		g.awaiting++
	} else if m.joinCB != nil && cb == nil {
		g.awaiting--
	}
	m.joinCB, m.joinVersion = cb, ver
}

// replaceInstance moves a static member to a new member id (the old id is fenced from now on).
func (g *group) replaceInstance(oldID, newID string, instanceID string) *member {
	m := g.members[oldID]
	delete(g.members, oldID)
	for i, o := range g.order {
		if o == oldID {
			g.order[i] = newID
		}
	}
	m.id = newID
	g.members[newID] = m
	if g.leader == oldID {
		g.leader = newID
	}
	g.static[instanceID] = newID
	return m
}

// fenced reports a static member whose instance id now belongs to another member id.
func (g *group) fenced(memberID string, instanceID *string) bool {
	if instanceID == nil {
		return false
	}
	cur, ok := g.static[*instanceID]
	return ok && cur != memberID
}

func (g *group) hasAllJoined() bool { return len(g.members) == g.awaiting && len(g.pending) == 0 }

func (g *group) supportsProtocols(ptype string, ps []protocol) bool {
	if g.state == Empty {
		return ptype != "" && len(ps) > 0
	}
	if g.protocolType == nil || *g.protocolType != ptype {
		return false
	}
	for _, p := range ps {
		if g.protoCount[p.name] == len(g.members) {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol all members support with the most first-choice votes; ties go
// to the lexically smallest name so the choice is deterministic.
func (g *group) selectProtocol() string {
	votes := map[string]int{}
	for _, m := range g.allMembers() {
		for _, p := range m.protocols {
			if g.protoCount[p.name] == len(g.members) {
				votes[p.name]++
				break
			}
		}
	}
	names := make([]string, 0, len(votes))
	for n := range votes {
		names = append(names, n)
	}
	sort.Strings(names)
	best := ""
	for _, n := range names {
		if best == "" || votes[n] > votes[best] {
			best = n
		}
	}
	return best
}

func (g *group) maybeElectNewJoinedLeader() bool {
	if g.leader == "" {
		return false
	}
	if l := g.members[g.leader]; l != nil && l.awaitingJoin() {
		return true
	}
	for _, m := range g.allMembers() {
		if m.awaitingJoin() {
			g.leader = m.id
			return true
		}
	}
	return false
}

func (g *group) initNextGeneration(now int64) {
	g.generation++
	if len(g.members) > 0 {
		p := g.selectProtocol()
		g.protocol = &p
		g.subscribed = g.computeSubscribed()
		g.transition(CompletingRebalance, now)
	} else {
		g.protocol = nil
		g.subscribed = g.computeSubscribed()
		g.transition(Empty, now)
	}
}

// computeSubscribed reads the topics of every member's consumer-protocol subscription; nil when
// the group is not a consumer group or a subscription does not parse.
func (g *group) computeSubscribed() map[string]bool {
	if g.protocolType == nil || *g.protocolType != "consumer" {
		return nil
	}
	if len(g.members) == 0 {
		return map[string]bool{}
	}
	if g.protocol == nil {
		return nil
	}
	out := map[string]bool{}
	for _, m := range g.allMembers() {
		var s kmsg.ConsumerMemberMetadata
		if err := s.ReadFrom(m.metadata(*g.protocol)); err != nil {
			return nil
		}
		for _, t := range s.Topics {
			out[t] = true
		}
	}
	return out
}

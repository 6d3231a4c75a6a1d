package txn

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// State is a transaction's state as TransactionMetadata keeps it; the values are the bytes of __transaction_state.
type State int8

// Kafka 2.8's TransactionState bytes.
const (
	Empty State = iota
	Ongoing
	PrepareCommit
	PrepareAbort
	CompleteCommit
	CompleteAbort
	Dead
	PrepareEpochFence
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort",
	"Dead", "PrepareEpochFence"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int8(s))
}

// expirable states let an idle transactional id go after transactional.id.expiration.ms.
func (s State) expirable() bool { return s == Empty || s == CompleteCommit || s == CompleteAbort }

// validPrevious lists, per target state, the states a transition may start from (TransactionMetadata).
var validPrevious = map[State][]State{
	Empty:             {Empty, CompleteCommit, CompleteAbort},
	Ongoing:           {Ongoing, Empty, CompleteCommit, CompleteAbort},
	PrepareCommit:     {Ongoing},
	PrepareAbort:      {Ongoing, PrepareEpochFence},
	CompleteCommit:    {PrepareCommit},
	CompleteAbort:     {PrepareAbort},
	Dead:              {Empty, CompleteAbort, CompleteCommit},
	PrepareEpochFence: {Ongoing},
}

const (
	noProducerID    = int64(-1)
	noProducerEpoch = int16(-1)
	maxEpoch        = int16(32767)
)

// epochExhausted: the producer id needs replacing before its epoch can grow (isEpochExhausted).
func epochExhausted(e int16) bool { return e >= maxEpoch-1 }

// TopicPartition names a partition in a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

type partitionSet map[TopicPartition]struct{}

func (s partitionSet) sorted() []TopicPartition {
	out := slices.Collect(maps.Keys(s))
	slices.SortFunc(out, func(a, b TopicPartition) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	return out
}

func (s partitionSet) containsAll(tps []TopicPartition) bool {
	for _, tp := range tps {
		if _, ok := s[tp]; !ok {
			return false
		}
	}
	return true
}

// metadata is one transactional id's TransactionMetadata.
type metadata struct {
	id             string
	producerID     int64
	lastProducerID int64
	epoch          int16
	lastEpoch      int16
	timeoutMs      int32
	state          State
	partitions     partitionSet
	startMs        int64
	lastUpdateMs   int64
	// pending is the state of a transition prepared and not yet written; hasPending says it is set.
	pending    State
	hasPending bool
	// failedEpochFence: a fence's bumped epoch was not written, so the next fence reuses it.
	failedEpochFence bool
}

// transit is TxnTransitMetadata: the state a transition leads to, written to the log before it applies.
type transit struct {
	producerID, lastProducerID int64
	epoch, lastEpoch           int16
	timeoutMs                  int32
	state                      State
	partitions                 []TopicPartition // sorted
	startMs, updateMs          int64
}

func (m *metadata) String() string {
	return fmt.Sprintf("transactionalId=%s producerId=%d epoch=%d state=%s pending=%v partitions=%v", m.id, m.producerID,
		m.epoch, m.state, m.pendingString(), m.partitions.sorted())
}

func (m *metadata) pendingString() string {
	if !m.hasPending {
		return "None"
	}
	return m.pending.String()
}

func (m *metadata) hasPendingTxn() bool {
	return m.state == Ongoing || m.state == PrepareAbort || m.state == PrepareCommit
}

// prepare checks the transition and marks it pending (prepareTransitionTo). A transition Kafka would refuse here
// is a bug in the coordinator, reported as an error rather than a crash.
func (m *metadata) prepare(to State, pid int64, epoch, lastEpoch int16, timeoutMs int32, parts []TopicPartition, startMs, updateMs int64) (transit, error) {
	switch {
	case m.hasPending:
		return transit{}, fmt.Errorf("transition of %s to %s while %s is pending", m.id, to, m.pending)
	case pid < 0 || epoch < 0:
		return transit{}, fmt.Errorf("transition of %s to %s with producer id %d epoch %d", m.id, to, pid, epoch)
	case !slices.Contains(validPrevious[to], m.state):
		return transit{}, fmt.Errorf("transition of %s from %s to %s is not allowed", m.id, m.state, to)
	}
	m.pending, m.hasPending = to, true
	return transit{producerID: pid, lastProducerID: m.producerID, epoch: epoch, lastEpoch: lastEpoch, timeoutMs: timeoutMs,
		state: to, partitions: parts, startMs: startMs, updateMs: updateMs}, nil
}

func (m *metadata) prepareFence() (transit, error) {
	if m.epoch == maxEpoch {
		return transit{}, fmt.Errorf("cannot fence %s: epoch %d would overflow", m.id, m.epoch)
	}
	next := m.epoch + 1
	if m.failedEpochFence {
		next = m.epoch
	}
	return m.prepare(PrepareEpochFence, m.producerID, next, noProducerEpoch, m.timeoutMs, m.partitions.sorted(), m.startMs, m.lastUpdateMs)
}

// prepareIncrementEpoch is InitProducerId's epoch bump; expected is the epoch the producer sent (KIP-360), or nil.
// errFenced is returned when the producer is not the current one.
func (m *metadata) prepareIncrementEpoch(timeoutMs int32, expected *int16, now int64) (transit, error) {
	if epochExhausted(m.epoch) {
		return transit{}, fmt.Errorf("no producer epochs left for producer id %d", m.producerID)
	}
	next, last := m.epoch+1, noProducerEpoch
	if expected != nil {
		switch {
		case m.epoch == noProducerEpoch || *expected == m.epoch:
			last = m.epoch
		case *expected == m.lastEpoch:
			// A retry of a bump whose answer was lost: the same epoch again.
			next, last = m.epoch, m.lastEpoch
		default:
			return transit{}, errFenced
		}
	}
	return m.prepare(Empty, m.producerID, next, last, timeoutMs, nil, -1, now)
}

func (m *metadata) prepareRotation(newPID int64, timeoutMs int32, now int64, recordLast bool) (transit, error) {
	if m.hasPendingTxn() {
		return transit{}, fmt.Errorf("cannot rotate the producer id of %s with a transaction in %s", m.id, m.state)
	}
	last := noProducerEpoch
	if recordLast {
		last = m.epoch
	}
	return m.prepare(Empty, newPID, 0, last, timeoutMs, nil, -1, now)
}

func (m *metadata) prepareAddPartitions(add []TopicPartition, now int64) (transit, error) {
	start := m.startMs
	if m.state == Empty || m.state == CompleteAbort || m.state == CompleteCommit {
		start = now
	}
	all := maps.Clone(m.partitions)
	for _, tp := range add {
		all[tp] = struct{}{}
	}
	return m.prepare(Ongoing, m.producerID, m.epoch, m.lastEpoch, m.timeoutMs, all.sorted(), start, now)
}

func (m *metadata) prepareEnd(to State, now int64) (transit, error) {
	return m.prepare(to, m.producerID, m.epoch, m.lastEpoch, m.timeoutMs, m.partitions.sorted(), m.startMs, now)
}

func (m *metadata) prepareComplete(now int64) (transit, error) {
	to := CompleteAbort
	if m.state == PrepareCommit {
		to = CompleteCommit
	}
	m.failedEpochFence = false
	return m.prepare(to, m.producerID, m.epoch, m.lastEpoch, m.timeoutMs, nil, m.startMs, now)
}

func (m *metadata) prepareDead() (transit, error) {
	return m.prepare(Dead, m.producerID, m.epoch, m.lastEpoch, m.timeoutMs, nil, m.startMs, m.lastUpdateMs)
}

// complete applies a written transition (completeTransitionTo), checking it matches what was prepared.
func (m *metadata) complete(t transit) error {
	if !m.hasPending || m.pending != t.state {
		return fmt.Errorf("completing %s's transition to %s while %s is pending", m.id, t.state, m.pendingString())
	}
	sameProducer := t.epoch == m.epoch && t.producerID == m.producerID
	bad := false
	switch t.state {
	case Empty:
		bump := t.epoch == m.epoch+1 || (t.epoch == 0 && t.producerID != m.producerID)
		bad = (m.epoch != t.epoch && !bump) || len(t.partitions) > 0 || t.startMs != -1
		if !bad {
			m.timeoutMs, m.epoch, m.lastEpoch, m.producerID, m.lastProducerID = t.timeoutMs, t.epoch, t.lastEpoch, t.producerID, t.lastProducerID
		}
	case Ongoing:
		bad = !sameProducer || !m.partitions.subsetOf(t.partitions) || m.timeoutMs != t.timeoutMs
		if !bad {
			m.startMs = t.startMs
			for _, tp := range t.partitions {
				m.partitions[tp] = struct{}{}
			}
		}
	case PrepareAbort, PrepareCommit:
		bad = !sameProducer || len(m.partitions) != len(t.partitions) || !m.partitions.containsAll(t.partitions) ||
			m.timeoutMs != t.timeoutMs || m.startMs != t.startMs
	case CompleteAbort, CompleteCommit:
		bad = !sameProducer || m.timeoutMs != t.timeoutMs || t.startMs == -1
		if !bad {
			m.startMs = t.startMs
			clear(m.partitions)
		}
	default:
		bad = true
	}
	if bad {
		return fmt.Errorf("transition of %s to %s does not match its metadata (%s)", m.id, t.state, m)
	}
	m.lastUpdateMs = t.updateMs
	m.hasPending = false
	m.state = t.state
	return nil
}

func (s partitionSet) subsetOf(tps []TopicPartition) bool {
	for tp := range s {
		if !slices.Contains(tps, tp) {
			return false
		}
	}
	return true
}

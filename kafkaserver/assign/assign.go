// Package assign is Kafka's replica placement (AdminUtils.assignReplicasToBrokers, 2.8) and the
// kafka-topics --replica-assignment syntax. The same inputs (brokers, start index, shift) give the same
// assignment as Kafka, so tools and the broker agree with a real cluster.
package assign

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// Error kinds; an *Error wraps one of them and carries Kafka's exception message verbatim.
var (
	// ErrInvalidPartitions is InvalidPartitionsException.
	ErrInvalidPartitions = errors.New("invalid partitions")
	// ErrInvalidReplicationFactor is InvalidReplicationFactorException.
	ErrInvalidReplicationFactor = errors.New("invalid replication factor")
	// ErrAdminOperation is AdminOperationException.
	ErrAdminOperation = errors.New("admin operation failed")
	// ErrAdminCommandFailed is AdminCommandFailedException.
	ErrAdminCommandFailed = errors.New("admin command failed")
	// ErrNumberFormat is java.lang.NumberFormatException.
	ErrNumberFormat = errors.New("number format")
)

// Error is a Kafka exception: Error() is exactly its getMessage, Unwrap its kind.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func newErr(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// BrokerMetadata is a broker id and its rack (nil: none).
type BrokerMetadata struct {
	ID   int32
	Rack *string
}

// ReplicasToBrokers is AdminUtils.assignReplicasToBrokers. Brokers are used in the given order (AdminZkClient
// sorts them by id first). fixedStartIndex < 0 draws the start index and the replica shift from rnd, in that
// order, as Kafka does; startPartitionID < 0 means 0. With some but not all brokers racked it fails as Kafka does.
func ReplicasToBrokers(brokers []BrokerMetadata, nPartitions int32, replicationFactor int16, fixedStartIndex, startPartitionID int32, rnd *rand.Rand) (map[int32][]int32, error) {
	if nPartitions <= 0 {
		return nil, newErr(ErrInvalidPartitions, "Number of partitions must be larger than 0.")
	}
	if replicationFactor <= 0 {
		return nil, newErr(ErrInvalidReplicationFactor, "Replication factor must be larger than 0.")
	}
	if int(replicationFactor) > len(brokers) {
		return nil, newErr(ErrInvalidReplicationFactor, "Replication factor: %d larger than available brokers: %d.", replicationFactor, len(brokers))
	}
	// Not Kafka's: a count whose assignment no topic znode could hold is refused before it is built (the topic's
	// partitions are 0..startPartitionID+nPartitions-1).
	if err := zkmeta.CheckAssignmentSize(int64(max(startPartitionID, 0))+int64(nPartitions), int(replicationFactor)); err != nil {
		return nil, err
	}
	racked := 0
	for _, b := range brokers {
		if b.Rack != nil {
			racked++
		}
	}
	if fixedStartIndex < 0 && rnd == nil {
		// Kafka uses a process-wide Random; a local one seeded from the clock is equivalent for callers that
		// do not care.
		now := uint64(time.Now().UnixNano())
		rnd = rand.New(rand.NewPCG(now, now>>1|1))
	}
	if racked == 0 {
		ids := make([]int32, len(brokers))
		for i, b := range brokers {
			ids[i] = b.ID
		}
		return rackUnaware(ids, nPartitions, int(replicationFactor), fixedStartIndex, startPartitionID, rnd), nil
	}
	if racked < len(brokers) {
		return nil, newErr(ErrAdminOperation, "Not all brokers have rack information for replica rack aware assignment.")
	}
	return rackAware(brokers, nPartitions, int(replicationFactor), fixedStartIndex, startPartitionID, rnd), nil
}

// starts returns the start index and the initial replica shift: both fixedStartIndex, or two draws.
func starts(n int, fixedStartIndex int32, rnd *rand.Rand) (startIndex, shift int) {
	if fixedStartIndex >= 0 {
		return int(fixedStartIndex), int(fixedStartIndex)
	}
	startIndex = rnd.IntN(n)
	shift = rnd.IntN(n)
	return startIndex, shift
}

// replicaIndex is AdminUtils.replicaIndex: the j-th follower sits 1+(shift+j)%(n-1) places after the leader,
// so it never lands on the leader.
func replicaIndex(first, secondReplicaShift, j, n int) int {
	shift := 1 + (secondReplicaShift+j)%(n-1)
	return (first + shift) % n
}

func rackUnaware(ids []int32, nPartitions int32, rf int, fixedStartIndex, startPartitionID int32, rnd *rand.Rand) map[int32][]int32 {
	n := len(ids)
	ret := make(map[int32][]int32, nPartitions)
	startIndex, shift := starts(n, fixedStartIndex, rnd)
	cur := int(max(0, startPartitionID))
	for range nPartitions {
		if cur > 0 && cur%n == 0 {
			shift++
		}
		first := (cur + startIndex) % n
		reps := []int32{ids[first]}
		for j := 0; j < rf-1; j++ {
			reps = append(reps, ids[replicaIndex(first, shift, j, n)])
		}
		ret[int32(cur)] = reps
		cur++
	}
	return ret
}

// RackAlternatedBrokers is AdminUtils.getRackAlternatedBrokerList: racks sorted by name, brokers sorted by id
// within a rack, then round robin over the racks. A broker id given twice keeps its last rack (a Scala Map).
func RackAlternatedBrokers(rackOf map[int32]string) []int32 {
	byRack := map[string][]int32{}
	for id, r := range rackOf {
		byRack[r] = append(byRack[r], id)
	}
	racks := make([]string, 0, len(byRack))
	for r, ids := range byRack {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		racks = append(racks, r)
	}
	sort.Strings(racks) // Java String order = UTF-16 code units; same as bytes for the BMP-free names Kafka sees
	out := make([]int32, 0, len(rackOf))
	next := make(map[string]int, len(racks))
	for ri := 0; len(out) < len(rackOf); ri = (ri + 1) % len(racks) {
		r := racks[ri]
		if next[r] < len(byRack[r]) {
			out = append(out, byRack[r][next[r]])
			next[r]++
		}
	}
	return out
}

func rackAware(brokers []BrokerMetadata, nPartitions int32, rf int, fixedStartIndex, startPartitionID int32, rnd *rand.Rand) map[int32][]int32 {
	rackOf := make(map[int32]string, len(brokers))
	rackSet := map[string]bool{}
	for _, b := range brokers {
		rackOf[b.ID] = *b.Rack
	}
	for _, r := range rackOf {
		rackSet[r] = true
	}
	numRacks := len(rackSet)
	arranged := RackAlternatedBrokers(rackOf)
	n := len(arranged)
	ret := make(map[int32][]int32, nPartitions)
	startIndex, shift := starts(n, fixedStartIndex, rnd)
	cur := int(max(0, startPartitionID))
	for range nPartitions {
		if cur > 0 && cur%n == 0 {
			shift++
		}
		first := (cur + startIndex) % n
		leader := arranged[first]
		reps := []int32{leader}
		racksWith := map[string]bool{rackOf[leader]: true}
		brokersWith := map[int32]bool{leader: true}
		k := 0
		for range rf - 1 {
			for {
				b := arranged[replicaIndex(first, shift*numRacks, k, n)]
				r := rackOf[b]
				k++
				// Skip a broker whose rack already has a replica while some rack has none, or which already
				// has a replica while some broker has none.
				if (!racksWith[r] || len(racksWith) == numRacks) && (!brokersWith[b] || len(brokersWith) == n) {
					reps = append(reps, b)
					racksWith[r] = true
					brokersWith[b] = true
					break
				}
			}
		}
		ret[int32(cur)] = reps
		cur++
	}
	return ret
}

// javaSplit is String.split with a literal one-character separator: trailing empty strings are dropped.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseJavaInt is Integer.parseInt.
func parseJavaInt(s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, newErr(ErrNumberFormat, "For input string: \"%s\"", s)
	}
	return int32(n), nil
}

// ParseReplicaAssignment is TopicCommand.parseReplicaAssignment: "b1:b2,b3:b4" gives partition 0 replicas b1,b2
// and partition 1 replicas b3,b4. Each id is trimmed; duplicates within a partition and differing replica counts
// are rejected with Kafka's messages (Kafka prints the offending list as a JVM array reference; we print the ids).
func ParseReplicaAssignment(s string) (map[int32][]int32, error) {
	ret := map[int32][]int32{}
	for i, part := range javaSplit(s, ",") {
		if part == "" {
			// "".split(":") is [""], which Integer.parseInt rejects (":" instead splits to nothing: no replicas).
			return nil, newErr(ErrNumberFormat, "For input string: \"\"")
		}
		reps := []int32{}
		for _, f := range javaSplit(part, ":") {
			id, err := parseJavaInt(strings.TrimSpace(f))
			if err != nil {
				return nil, err
			}
			reps = append(reps, id)
		}
		if d := duplicates(reps); len(d) > 0 {
			return nil, newErr(ErrAdminCommandFailed, "Partition replica lists may not contain duplicate entries: %s", joinInts(d, ","))
		}
		ret[int32(i)] = reps
		if len(reps) != len(ret[0]) {
			return nil, newErr(ErrAdminOperation, "Partition %d has different replication factor: %s", i, joinInts(reps, ","))
		}
	}
	return ret, nil
}

func duplicates(ids []int32) []int32 {
	count := map[int32]int{}
	var out []int32
	for _, id := range ids {
		count[id]++
		if count[id] == 2 {
			out = append(out, id)
		}
	}
	return out
}

func joinInts(ids []int32, sep string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(int64(id), 10)
	}
	return strings.Join(s, sep)
}

// JoinIDs formats ids as Scala's mkString(sep).
func JoinIDs(ids []int32, sep string) string { return joinInts(ids, sep) }

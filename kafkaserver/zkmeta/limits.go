package zkmeta

import (
	"errors"
	"fmt"
)

// MaxZnodeData bounds one znode's data at ZooKeeper's default jute.maxbuffer (0xfffff bytes): a server closes the
// connection of a request packet longer than that, so a topic whose assignment JSON is longer (the packet holds the
// path and ACL besides) can never be created, on Apache ZooKeeper or on zkserver.
const MaxZnodeData = 0xfffff

// ErrAssignmentTooLarge: a topic's assignment would not fit its znode (Kafka has no check of its own: its ZooKeeper
// client would retry the refused write for ever, or the assignment would exhaust the heap first).
var ErrAssignmentTooLarge = errors.New("assignment too large")

// CheckAssignmentSize refuses partition counts whose /brokers/topics/<t> JSON could not fit a znode at replication
// factor rf: every partition p takes at least `"p":[r,...]` and a comma. assign.ReplicasToBrokers asks before it
// builds anything: a count from a request (up to 2^31) must not make the broker allocate an assignment that could
// never be stored.
func CheckAssignmentSize(nPartitions int64, rf int) error {
	if nPartitions <= 0 || rf <= 0 {
		return nil // the assignment's own checks name these
	}
	if least := minAssignmentBytes(nPartitions, int64(rf)); least > MaxZnodeData {
		return &tooLargeError{fmt.Sprintf("%d partitions with %d replicas each need at least %d bytes in the topic's znode, "+
			"more than ZooKeeper's %d.", nPartitions, rf, least, MaxZnodeData)}
	}
	return nil
}

// minAssignmentBytes is a lower bound of the "partitions" object's length for partitions 0..n-1 with rf
// single-digit replicas each: the digits of every partition id, then per entry two quotes, a colon, two brackets,
// rf digits, rf-1 commas inside and one between entries.
func minAssignmentBytes(n, rf int64) int64 {
	digits := int64(0)
	for lo, hi, w := int64(0), int64(10), int64(1); lo < n; lo, hi, w = hi, hi*10, w+1 {
		digits += (min(hi, n) - lo) * w
	}
	return digits + n*(5+2*rf) - 1
}

// checkZnodeData refuses an encoded assignment longer than a znode holds.
func checkZnodeData(topic string, data []byte) error {
	if len(data) > MaxZnodeData {
		return &tooLargeError{fmt.Sprintf("The assignment of topic %s is %d bytes of JSON, more than ZooKeeper's %d for a znode.",
			topic, len(data), MaxZnodeData)}
	}
	return nil
}

// tooLargeError is ErrAssignmentTooLarge with a message that stands alone (a client or kafka-topics shows it as is).
type tooLargeError struct{ msg string }

func (e *tooLargeError) Error() string { return e.msg }
func (e *tooLargeError) Unwrap() error { return ErrAssignmentTooLarge }

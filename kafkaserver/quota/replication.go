// Package quota holds Kafka's quotas, each measured as Kafka's metrics library measures a Rate (a sum over sampled
// windows): the client quotas (ClientQuotaManager: producer_byte_rate and consumer_byte_rate per user and client id)
// and the replication throttles (ReplicationQuotaManager: a byte-rate bound and the partitions it applies to, set by
// the topic configs leader.replication.throttled.replicas and follower.replication.throttled.replicas).
//
// Time comes in as milliseconds on every call, so tests drive the windows exactly.
package quota

import (
	"math"
	"strconv"
	"strings"
	"sync"
)

// Unbounded is DynamicConfig.Broker's default throttle rate (Long.MaxValue bytes per second): no throttle.
const Unbounded = math.MaxInt64

// Replication is one ReplicationQuotaManager (the leader's or the follower's).
type Replication struct {
	mu        sync.Mutex
	bound     int64 // bytes per second
	rate      Rate
	throttled map[string]map[int32]bool // topic -> partitions; nil map: every partition ("*")
}

// NewReplication returns an unbounded quota measured over windows windows of windowMs each.
func NewReplication(windows int, windowMs int64) *Replication {
	return &Replication{bound: Unbounded, rate: NewRate(windows, windowMs), throttled: map[string]map[int32]bool{}}
}

// SetBound is ReplicationQuotaManager.updateQuota: the rate in bytes per second above which throttled partitions
// wait.
func (q *Replication) SetBound(bytesPerSec int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.bound = bytesPerSec
}

// Bound is the rate in bytes per second above which throttled partitions wait (Unbounded: none).
func (q *Replication) Bound() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bound
}

// Exceeded is isQuotaExceeded: the measured rate is above the bound.
func (q *Replication) Exceeded(nowMs int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.bound >= Unbounded {
		return false
	}
	return q.rate.Measure(nowMs) > float64(q.bound)
}

// Record counts bytes replicated for throttled partitions (ReplicationQuotaManager.record).
func (q *Replication) Record(bytes int64, nowMs int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rate.Record(float64(bytes), nowMs)
}

// Rate is the measured rate in bytes per second.
func (q *Replication) Rate(nowMs int64) float64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.rate.Measure(nowMs)
}

// SetThrottled is markThrottled / removeThrottle from a topic's throttled-replicas config value as
// TopicConfigHandler.parseThrottledPartitions reads it for broker: "*" throttles every partition, a list of
// partition:broker pairs the partitions paired with this broker, an empty value none.
func (q *Replication) SetThrottled(topic, value string, broker int32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	value = strings.TrimSpace(value)
	switch value {
	case "":
		delete(q.throttled, topic)
		return
	case "*":
		q.throttled[topic] = nil
		return
	}
	parts := map[int32]bool{}
	for _, e := range strings.Split(value, ",") {
		p, b, ok := strings.Cut(strings.TrimSpace(e), ":")
		pn, perr := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		bn, berr := strconv.ParseInt(strings.TrimSpace(b), 10, 32)
		if ok && perr == nil && berr == nil && int32(bn) == broker {
			parts[int32(pn)] = true
		}
	}
	// Kafka marks the topic even when no pair names this broker: nothing of it is throttled then.
	q.throttled[topic] = parts
}

// Throttled is isThrottled: whether the partition is one the bound applies to.
func (q *Replication) Throttled(topic string, partition int32) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	parts, ok := q.throttled[topic]
	return ok && (parts == nil || parts[partition])
}

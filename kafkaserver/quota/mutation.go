package quota

import (
	"fmt"
	"math"
)

// bucketLocked is the refill rate and burst of the token bucket of a ControllerMutation sensor with tags t: its
// quota (Long.MaxValue, as Kafka, when none applies) and that quota's worth of the windows together.
func (c *Clients) bucketLocked(t Tags) (rate, burst float64) {
	rate = c.limitLocked(t)
	if math.IsInf(rate, 1) {
		rate = math.MaxInt64
	}
	return rate, float64(c.cfg.Windows) * (float64(c.cfg.WindowMs) / 1000) * rate
}

// ExceededError is ThrottlingQuotaExceededException: a strict MutationQuota refused a mutation because the bucket
// was already empty. ThrottleMs is the time it needs to refill to zero.
type ExceededError struct{ ThrottleMs int }

func (e *ExceededError) Error() string {
	return fmt.Sprintf("controller mutation quota exceeded, throttled %d ms", e.ThrottleMs)
}

// MutationQuota is the controller mutation quota of one request (Kafka's ControllerMutationQuota), recording into
// its client's ControllerMutation sensor. A strict one (StrictControllerMutationQuota) refuses any mutation once the
// bucket is below zero and lets through whatever comes while it is not, however far below zero that takes it; a
// permissive one (PermissiveControllerMutationQuota) records every mutation and only reports the throttle. The
// nil *MutationQuota is UnboundedControllerMutationQuota: nothing recorded, refused or throttled. A MutationQuota
// belongs to one request's goroutine.
type MutationQuota struct {
	c      *Clients
	s      *clientSensor
	tags   Tags
	strict bool
	// throttleMs is the throttle time of the last violation, computed at recordedMs.
	throttleMs, recordedMs int64
}

// MutationQuota is ControllerMutationQuotaManager.newStrictQuotaFor or newPermissiveQuotaFor for principal name
// user with clientID: nil (unbounded) while no controller mutation quota has ever been set. c must be the
// ControllerMutation manager. The sensor is made now, as Kafka makes it with the quota.
func (c *Clients) MutationQuota(user, clientID string, strict bool, nowMs int64) *MutationQuota {
	if !c.Enabled() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tagsLocked(Sanitize(user), clientID)
	return &MutationQuota{c: c, s: c.sensorLocked(t, nowMs), tags: t, strict: strict}
}

// Record counts permits mutations (partitions created or deleted) at nowMs. A strict quota first checks the
// bucket: below zero, nothing is recorded and the error is an *ExceededError. A permissive one records and then
// notes the throttle time if that left the bucket below zero.
func (q *MutationQuota) Record(permits float64, nowMs int64) error {
	if q == nil {
		return nil
	}
	c := q.c
	c.mu.Lock()
	defer c.mu.Unlock()
	rate, burst := c.bucketLocked(q.tags)
	if q.strict {
		if tokens := q.s.tokens.Measure(rate, burst, nowMs); tokens < 0 {
			q.violated(tokens, rate, nowMs)
			return &ExceededError{ThrottleMs: int(q.throttleMs)}
		}
	}
	q.s.lastRecord = nowMs
	q.s.rate.Record(permits, nowMs)
	q.s.tokens.Record(permits, rate, burst, nowMs)
	if !q.strict {
		if tokens := q.s.tokens.Measure(rate, burst, nowMs); tokens < 0 {
			q.violated(tokens, rate, nowMs)
		}
	}
	return nil
}

// violated notes the throttle time of a bucket found at tokens (< 0): the time to refill it to zero at rate
// (ControllerMutationQuotaManager.throttleTimeMs), capped to what the protocol's int32 holds.
func (q *MutationQuota) violated(tokens, rate float64, nowMs int64) {
	ms := math.MaxInt32
	if rate > 0 {
		ms = int(min(math.Round(-tokens/rate*1000), math.MaxInt32))
	}
	q.throttleMs, q.recordedMs = int64(ms), nowMs
}

// ThrottleTime is the throttle time for the request's response: the last violation's, less the time since it was
// computed; 0 without one.
func (q *MutationQuota) ThrottleTime(nowMs int64) int {
	if q == nil {
		return 0
	}
	return int(max(0, q.throttleMs-(nowMs-q.recordedMs)))
}

package handler

import (
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/fetchsession"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kwire"
)

// throttle mutes rc's connection for ms when a quota was violated and counts the throttle against q, as
// ClientQuotaManager.throttle does; it returns ms.
func throttle(rc *kwire.RequestContext, q *quota.Clients, ms int, nowMs int64) int {
	if ms <= 0 {
		return 0
	}
	q.Throttled(rc.Conn.Principal().Name, rc.ClientID(), ms, nowMs)
	rc.Conn.Throttle(time.Duration(ms) * time.Millisecond)
	return ms
}

// produceThrottle records a produce request's size against its client's produce quota and returns the throttle
// time for the response (KafkaApis.handleProduceRequest's sendResponseCallback).
func (h *Handlers) produceThrottle(rc *kwire.RequestContext) int {
	q := h.cfg.Quotas
	if q == nil || !q.Produce.Enabled() {
		return 0
	}
	now := time.Now().UnixMilli()
	ms := q.Produce.RecordAndThrottle(rc.Conn.Principal().Name, rc.ClientID(), float64(rc.RequestSize), now)
	return throttle(rc, q.Produce, ms, now)
}

// fetchQuotaLimit is the most a consumer's fetch may carry, its fetch quota's worth of a full quota window
// (getMaxValueInQuotaWindow): a larger response would be throttled whatever came before it.
func (h *Handlers) fetchQuotaLimit(rc *kwire.RequestContext, req *kmsg.FetchRequest) int64 {
	q := h.cfg.Quotas
	if q == nil || req.ReplicaID >= 0 {
		return math.MaxInt32
	}
	return int64(min(q.Fetch.MaxValueInWindow(rc.Conn.Principal().Name, rc.ClientID()), math.MaxInt32))
}

// respondFetch is the end of KafkaApis.handleFetchRequest for a consumer: the response's size is recorded against
// its client's fetch quota; over it, the response goes out empty (its data read but dropped, nothing recorded in
// the session) with the throttle time, and the connection is muted for that time.
func (h *Handlers) respondFetch(rc *kwire.RequestContext, req *kmsg.FetchRequest, fctx *fetchsession.Context,
	parts []fetchsession.PartitionRequest, st *fetchState) (fetchsession.Response, int) {
	q := h.cfg.Quotas
	if q == nil || req.ReplicaID >= 0 || !q.Fetch.Enabled() {
		return fctx.Respond(time.Now().UnixMilli(), st.results), 0
	}
	user, client := rc.Conn.Principal().Name, rc.ClientID()
	size := float64(fetchResponseSize(req, parts, st, fctx.WouldInclude(st.results)))
	now := time.Now().UnixMilli()
	ms := q.Fetch.RecordAndThrottle(user, client, size, now)
	if ms <= 0 {
		return fctx.Respond(now, st.results), 0
	}
	q.Fetch.Record(user, client, -size, now)
	if st.regions {
		st.rc.ReleaseRegions()
		st.regions = false
	}
	return fctx.Throttled(), throttle(rc, q.Fetch, ms, now)
}

// fetchResponseSize is FetchResponse.sizeOf for the partitions include keeps: the encoded response, with each
// partition's records counted at their size (a file region's placeholder is not its length).
func fetchResponseSize(req *kmsg.FetchRequest, parts []fetchsession.PartitionRequest, st *fetchState, include []bool) int {
	resp := buildFetchResponse(req, parts, st, fetchsession.Response{Include: include})
	records := 0
	for ti := range resp.Topics {
		t := &resp.Topics[ti]
		ps := make([]kmsg.FetchResponseTopicPartition, len(t.Partitions))
		copy(ps, t.Partitions)
		for pi := range ps {
			ps[pi].RecordBatches = nil
		}
		t.Partitions = ps
	}
	for i := range parts {
		if include == nil || include[i] {
			records += st.sizes[i]
		}
	}
	return 4 + len(resp.AppendTo(nil)) + records
}

// mutationQuota is ControllerMutationQuotaManager.newQuotaFor: the controller mutation quota of a request, strict
// (the request's mutations over the quota are refused) from the version that says so, permissive before it; nil
// (unbounded) without quotas.
func (h *Handlers) mutationQuota(rc *kwire.RequestContext, strict bool) *quota.MutationQuota {
	q := h.cfg.Quotas
	if q == nil || q.ControllerMutation == nil {
		return nil
	}
	return q.ControllerMutation.MutationQuota(rc.Conn.Principal().Name, rc.ClientID(), strict, time.Now().UnixMilli())
}

// autoCreateQuota is the permissive quota automatic topic creation records into (Metadata, FindCoordinator): it
// counts against the client's controller mutations but never throttles the response.
func (h *Handlers) autoCreateQuota(rc *kwire.RequestContext) *quota.MutationQuota {
	return h.mutationQuota(rc, false)
}

// mutationThrottle is sendResponseMaybeThrottleWithControllerQuota: the throttle time mq has left, given to the
// response and muting the connection for that long.
func (h *Handlers) mutationThrottle(rc *kwire.RequestContext, mq *quota.MutationQuota) int32 {
	now := time.Now().UnixMilli()
	ms := mq.ThrottleTime(now)
	if ms <= 0 {
		return 0
	}
	return int32(throttle(rc, h.cfg.Quotas.ControllerMutation, ms, now))
}

// recordMutations records n partition mutations against mq; a strict quota's refusal is THROTTLING_QUOTA_EXCEEDED
// without a message (ApiError leaves out the exception's, Errors' own).
func recordMutations(mq *quota.MutationQuota, n int) error {
	if err := mq.Record(float64(n), time.Now().UnixMilli()); err != nil {
		return kerr.ThrottlingQuotaExceeded
	}
	return nil
}

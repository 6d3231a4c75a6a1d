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

// produceThrottle records a produce request's size against its client's produce quota and its time against the
// request quota (exempt with acks=0), and returns the throttle time for the response, the larger of the two, the
// connection muted for it (KafkaApis.handleProduceRequest's sendResponseCallback).
func (h *Handlers) produceThrottle(rc *kwire.RequestContext, acks int16) int {
	q := h.cfg.Quotas
	if q == nil {
		return 0
	}
	now := time.Now().UnixMilli()
	bandwidth := 0
	if q.Produce.Enabled() {
		bandwidth = q.Produce.RecordAndThrottle(rc.Conn.Principal().Name, rc.ClientID(), float64(rc.RequestSize), now)
	}
	if acks == 0 {
		h.recordExempt(rc, now)
		return throttle(rc, q.Produce, bandwidth, now)
	}
	return maxThrottle(rc, now, quotaThrottle{q.Produce, bandwidth}, quotaThrottle{q.Request, h.recordRequest(rc, now)})
}

// quotaThrottle is one quota's throttle time for a request.
type quotaThrottle struct {
	q  *quota.Clients
	ms int
}

// maxThrottle throttles with the larger of two quotas' throttle times (the first on a tie), as Kafka does where a
// request counts against two: only that quota's throttle is recorded.
func maxThrottle(rc *kwire.RequestContext, nowMs int64, a, b quotaThrottle) int {
	if b.ms > a.ms {
		a = b
	}
	return throttle(rc, a.q, a.ms, nowMs)
}

// requestPercent is nanosToPercentage: a thread's time as percent-seconds.
func requestPercent(d time.Duration) float64 { return float64(d.Nanoseconds()) * 100 / 1e9 }

// recordRequest is ClientRequestQuotaManager.maybeRecordAndGetThrottleTimeMs: the request's handler time is
// recorded against its client's request quota and the time over it returned (the caller throttles); the time its
// response takes to write is recorded when it is sent, without a throttle. 0 while no request quota was ever set.
func (h *Handlers) recordRequest(rc *kwire.RequestContext, nowMs int64) int {
	q := h.cfg.Quotas
	if q == nil || !q.Request.Enabled() {
		return 0
	}
	user, client := rc.Conn.Principal().Name, rc.ClientID()
	rc.OnSent(func(d time.Duration) { q.Request.Record(user, client, requestPercent(d), time.Now().UnixMilli()) })
	return q.Request.RecordAndThrottle(user, client, requestPercent(rc.ThreadTime()), nowMs)
}

// recordExempt is maybeRecordExempt: a request no quota applies to is measured in exempt-request-time.
func (h *Handlers) recordExempt(rc *kwire.RequestContext, nowMs int64) {
	q := h.cfg.Quotas
	if q == nil || !q.Request.Enabled() {
		return
	}
	rc.OnSent(func(d time.Duration) { q.Request.RecordExempt(requestPercent(d), time.Now().UnixMilli()) })
	q.Request.RecordExempt(requestPercent(rc.ThreadTime()), nowMs)
}

// clusterActions are the requests between brokers, exempt from the request quota (sendResponseExemptThrottle).
var clusterActions = map[int16]bool{
	kmsg.LeaderAndISR.Int16(): true, kmsg.StopReplica.Int16(): true, kmsg.UpdateMetadata.Int16(): true,
	kmsg.ControlledShutdown.Int16(): true, kmsg.WriteTxnMarkers.Int16(): true, kmsg.AlterPartition.Int16(): true, // AlterIsr in Kafka 2.8
}

// ownRequestQuota are the requests whose handlers weigh the request quota against another (produce, fetch,
// controller mutations) and throttle by the larger themselves.
var ownRequestQuota = map[int16]bool{
	kmsg.Produce.Int16(): true, kmsg.Fetch.Int16(): true, kmsg.CreateTopics.Int16(): true,
	kmsg.DeleteTopics.Int16(): true, kmsg.CreatePartitions.Int16(): true,
}

// Handled is kwire's Handled hook, RequestHandlerHelper.sendResponseMaybeThrottle for every other request: its time
// recorded against the request quota and, over it, the connection muted and the response's throttle time set.
// Cluster actions are recorded as exempt.
func (h *Handlers) Handled(rc *kwire.RequestContext, req kmsg.Request, resp kmsg.Response) {
	q := h.cfg.Quotas
	if q == nil || !q.Request.Enabled() || ownRequestQuota[req.Key()] {
		return
	}
	now := time.Now().UnixMilli()
	if clusterActions[req.Key()] {
		h.recordExempt(rc, now)
		return
	}
	ms := throttle(rc, q.Request, h.recordRequest(rc, now), now)
	if ms <= 0 {
		return
	}
	if tr, ok := resp.(kmsg.SetThrottleResponse); ok {
		tr.SetThrottle(int32(min(ms, math.MaxInt32)))
	}
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

// respondFetch is the end of KafkaApis.handleFetchRequest for a consumer: the request's time is recorded against
// its client's request quota and the response's size against its fetch quota; over either, the response goes out
// empty (its data read but dropped, nothing recorded in the session, its size taken back from the fetch quota) with
// the larger throttle time, and the connection is muted for that time. A follower's fetch is exempt.
func (h *Handlers) respondFetch(rc *kwire.RequestContext, req *kmsg.FetchRequest, fctx *fetchsession.Context,
	parts []fetchsession.PartitionRequest, st *fetchState) (fetchsession.Response, int) {
	q := h.cfg.Quotas
	now := time.Now().UnixMilli()
	if q == nil || req.ReplicaID >= 0 {
		h.recordExempt(rc, now)
		return fctx.Respond(now, st.results), 0
	}
	user, client := rc.Conn.Principal().Name, rc.ClientID()
	requestMs := h.recordRequest(rc, now)
	bandwidth, size := 0, 0.0
	if q.Fetch.Enabled() {
		size = float64(fetchResponseSize(req, parts, st, fctx.WouldInclude(st.results)))
		bandwidth = q.Fetch.RecordAndThrottle(user, client, size, now)
	}
	if requestMs <= 0 && bandwidth <= 0 {
		return fctx.Respond(now, st.results), 0
	}
	if q.Fetch.Enabled() {
		q.Fetch.Record(user, client, -size, now)
	}
	if st.regions {
		st.rc.ReleaseRegions()
		st.regions = false
	}
	return fctx.Throttled(), maxThrottle(rc, now, quotaThrottle{q.Fetch, bandwidth}, quotaThrottle{q.Request, requestMs})
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

// mutationThrottle is sendResponseMaybeThrottleWithControllerQuota: the larger of the throttle time mq has left and
// the request quota's, given to the response and muting the connection for that long.
func (h *Handlers) mutationThrottle(rc *kwire.RequestContext, mq *quota.MutationQuota) int32 {
	q := h.cfg.Quotas
	if q == nil {
		return 0
	}
	now := time.Now().UnixMilli()
	return int32(maxThrottle(rc, now, quotaThrottle{q.ControllerMutation, mq.ThrottleTime(now)},
		quotaThrottle{q.Request, h.recordRequest(rc, now)}))
}

// recordMutations records n partition mutations against mq; a strict quota's refusal is THROTTLING_QUOTA_EXCEEDED
// without a message (ApiError leaves out the exception's, Errors' own).
func recordMutations(mq *quota.MutationQuota, n int) error {
	if err := mq.Record(float64(n), time.Now().UnixMilli()); err != nil {
		return kerr.ThrottlingQuotaExceeded
	}
	return nil
}

package kwire

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kwire/hist"
)

// RequestMetrics are Kafka's RequestMetrics (kafka.network:type=RequestMetrics,name=<X>,request=<API>): for each
// request answered after authentication, where its time went, in ms rounded as Kafka rounds them, and its size.
// They are broker-wide: every listener's server records into the same RequestMetrics. Kafka's histograms are
// biased towards the last five minutes; these keep the last five minutes' values (hist.Decaying). Names are what the Prometheus JMX
// exporter's usual Kafka rules make of the beans (kafka_network_requestmetrics_totaltimems{request="Produce",
// quantile="0.99"}, with _count and _sum).
type RequestMetrics struct {
	descs  [numRequestHists]*prometheus.Desc
	errors *prometheus.Desc                                  // ErrorsPerSec, by request and error
	byName [kmsg.MaxKey + 1 + 2]atomic.Pointer[requestHists] // by key; then FetchConsumer, FetchFollower
}

// The histograms of one request name, in RequestMetrics' order.
const (
	histRequestQueue = iota
	histLocal
	histRemote
	histThrottle
	histResponseQueue
	histResponseSend
	histTotal
	histRequestBytes
	// Produce and Fetch only (not FetchConsumer/FetchFollower), as Kafka.
	histConversionTime
	histTempMemory
	numRequestHists
)

var requestHistNames = [numRequestHists]struct{ name, help string }{
	{"requestqueuetimems", "Time a request waited before its handler ran, in ms."},
	{"localtimems", "Time a request's handler spent on it before any wait, in ms."},
	{"remotetimems", "Time a request waited after its local work (long polls, acks=all, rebalances), in ms."},
	{"throttletimems", "Throttle time given in a request's response, in ms."},
	{"responsequeuetimems", "Time a response waited to be written, in ms."},
	{"responsesendtimems", "Time a response took to encode and write, in ms."},
	{"totaltimems", "Time from a request's arrival to its response written, in ms."},
	{"requestbytes", "Size of a request's body in bytes."},
	{"messageconversionstimems", "Time a produce or fetch spent converting records to another format, in ms."},
	{"temporarymemorybytes", "Memory a produce or fetch used to decompress or convert records, in bytes."},
}

type requestHists struct {
	name        string
	conversions bool // Produce or Fetch: the conversion histograms are kept
	hists       [numRequestHists]hist.Decaying
	// errs counts the error codes of the responses (ErrorCounts) by code+1; Kafka's meters exist from their
	// first mark, so only codes seen are exported.
	errs [len(kafkaErrorNames)]atomic.Int64
}

// NewRequestMetrics returns empty request metrics; register them with a Prometheus registry to export them.
func NewRequestMetrics() *RequestMetrics {
	m := &RequestMetrics{}
	for i, h := range requestHistNames {
		m.descs[i] = prometheus.NewDesc("kafka_network_requestmetrics_"+h.name, h.help, []string{"request"}, nil)
	}
	m.errors = prometheus.NewDesc("kafka_network_requestmetrics_errors_total",
		"Error codes in responses, NONE included, counted as Kafka's AbstractResponse.errorCounts.", []string{"request", "error"}, nil)
	return m
}

// Describe implements prometheus.Collector.
func (m *RequestMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs {
		ch <- d
	}
	ch <- m.errors
}

// Collect implements prometheus.Collector.
func (m *RequestMetrics) Collect(ch chan<- prometheus.Metric) {
	minute := time.Now().Unix() / 60
	for i := range m.byName {
		rh := m.byName[i].Load()
		if rh == nil {
			continue
		}
		for k := range rh.hists {
			if k >= histConversionTime && !rh.conversions {
				continue
			}
			count, sum, qs := rh.hists[k].Snapshot(minute)
			ch <- prometheus.MustNewConstSummary(m.descs[k], count, sum, qs, rh.name)
		}
		for k := range rh.errs {
			if n := rh.errs[k].Load(); n > 0 {
				ch <- prometheus.MustNewConstMetric(m.errors, prometheus.CounterValue, float64(n), rh.name, ErrorName(int16(k-1)))
			}
		}
	}
}

// hists returns the histograms of slot (a key, or a Fetch split) named name, made on first use.
func (m *RequestMetrics) hists(slot int, name string) *requestHists {
	if h := m.byName[slot].Load(); h != nil {
		return h
	}
	m.byName[slot].CompareAndSwap(nil, &requestHists{name: name,
		conversions: slot == int(kmsg.Produce) || slot == int(kmsg.Fetch)})
	return m.byName[slot].Load()
}

// requestTimes are the moments of one request's life, as RequestChannel.Request keeps them.
type requestTimes struct {
	dequeued, completed time.Time // the handler started and returned
}

// observe records rc's request, answered with resp (nil for none) whose writing began at picked and ended at end.
func (m *RequestMetrics) observe(rc *RequestContext, resp kmsg.Response, picked, end time.Time) {
	if rc.started.IsZero() || rc.times.dequeued.IsZero() {
		return // answered during authentication, as Kafka's authenticator does: not a request of RequestChannel
	}
	t := &rc.times
	local := t.completed
	if d := rc.localDone.Load(); d > 0 {
		local = rc.started.Add(time.Duration(d - 1))
	}
	var throttle int32
	if tr, ok := resp.(kmsg.ThrottleResponse); ok {
		throttle, _ = tr.Throttle()
	}
	values := [numRequestHists]uint64{
		histRequestQueue:  roundMs(t.dequeued.Sub(rc.started)),
		histLocal:         roundMs(local.Sub(t.dequeued)),
		histRemote:        roundMs(t.completed.Sub(local)),
		histThrottle:      uint64(max(throttle, 0)),
		histResponseQueue: roundMs(picked.Sub(t.completed)),
		histResponseSend:  roundMs(end.Sub(picked)),
		histTotal:         roundMs(end.Sub(rc.started)),
		histRequestBytes:  uint64(rc.bodySize),
		// Kafka's request records these only for Produce and Fetch, as 0 when nothing was converted.
		histConversionTime: roundMs(time.Duration(rc.conversionNanos.Load())),
		histTempMemory:     uint64(max(rc.tempMemory.Load(), 0)),
	}
	key := int(rc.Header.APIKey)
	if key < 0 || key > kmsg.MaxKey {
		return
	}
	minute := end.Unix() / 60
	record := func(h *requestHists) {
		for i, v := range values {
			if i >= histConversionTime && !h.conversions {
				break
			}
			h.hists[i].Observe(v, minute)
		}
	}
	if rc.Header.APIKey == kmsg.Fetch.Int16() {
		// A fetch counts under FetchConsumer or FetchFollower too.
		if rc.follower {
			record(m.hists(kmsg.MaxKey+2, "FetchFollower"))
		} else {
			record(m.hists(kmsg.MaxKey+1, "FetchConsumer"))
		}
	}
	h := m.hists(key, APIName(rc.Header.APIKey))
	record(h)
	// RequestChannel.updateErrorMetrics: under the API's own name only (not FetchConsumer/FetchFollower); a
	// request answered with nothing (acks=0) marks nothing.
	if resp != nil {
		var t errorTally
		if t.count(resp) {
			for i, n := range t.n {
				if n > 0 {
					h.errs[i].Add(int64(n))
				}
			}
		}
	}
}

// roundMs is Kafka's nanosToMs (micros precision) rounded with Math.round, as its histograms are updated.
func roundMs(d time.Duration) uint64 {
	return uint64((max(d, 0).Microseconds() + 500) / 1000)
}

// apiNames are Kafka 2.8's names (ApiKeys.name, from its message definitions) where kmsg spells them otherwise.
var apiNames = map[int16]string{
	kmsg.LeaderAndISR.Int16(): "LeaderAndIsr", kmsg.SASLHandshake.Int16(): "SaslHandshake",
	kmsg.InitProducerID.Int16(): "InitProducerId", kmsg.DescribeACLs.Int16(): "DescribeAcls",
	kmsg.CreateACLs.Int16(): "CreateAcls", kmsg.DeleteACLs.Int16(): "DeleteAcls",
	kmsg.SASLAuthenticate.Int16(): "SaslAuthenticate", kmsg.AlterPartitionAssignments.Int16(): "AlterPartitionReassignments",
	kmsg.DescribeUserSCRAMCredentials.Int16(): "DescribeUserScramCredentials",
	kmsg.AlterUserSCRAMCredentials.Int16():    "AlterUserScramCredentials", kmsg.AlterPartition.Int16(): "AlterIsr",
}

// APIName is the request's name as Kafka 2.8 spells it in metrics and logs (ApiKeys.name): "LeaderAndIsr" where
// kmsg says "LeaderAndISR".
func APIName(key int16) string {
	if n, ok := apiNames[key]; ok {
		return n
	}
	return kmsg.NameForKey(key)
}

package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// ClientQuota is one client quota sensor's measures (ClientQuotaManager's byte-rate and throttle-time, per user
// and client id at the level its quota is set; ClientRequestQuotaManager's request-time; ControllerMutationQuotaManager's
// mutation-rate and tokens).
type ClientQuota struct {
	Type         string // Produce, Fetch, Request or ControllerMutation
	User         string // sanitized; empty when the quota is not per user
	ClientID     string // empty when the quota is not per client id
	Rate         float64
	Tokens       float64 // ControllerMutation: credits left in the token bucket
	ThrottleTime float64 // mean ms over the last minute; NaN when none was given
}

// clientQuotaDescs are the metrics of one quota type, as the JMX exporter names kafka.server:type=<Type>,user=,
// client-id= byte-rate (mutation-rate and tokens for ControllerMutation) and throttle-time.
type clientQuotaDescs struct{ rate, tokens, throttle *prometheus.Desc }

func newClientQuotaDescs(typ string) clientQuotaDescs {
	prefix := "kafka_server_" + strings.ToLower(typ) + "_"
	labels := []string{"user", "client_id"}
	d := clientQuotaDescs{
		rate:     prometheus.NewDesc(prefix+"byte_rate", typ+" bytes per second of a quota's user and client id.", labels, nil),
		throttle: prometheus.NewDesc(prefix+"throttle_time", "Mean throttle time in ms given to a quota's user and client id.", labels, nil),
	}
	if typ == "Request" {
		d.rate = prometheus.NewDesc(prefix+"request_time", "Time spent on requests of a quota's user and client id, in percent of a thread.", labels, nil)
	}
	if typ == "ControllerMutation" {
		d.rate = prometheus.NewDesc(prefix+"mutation_rate", "Partitions created or deleted per second by a quota's user and client id.", labels, nil)
		d.tokens = prometheus.NewDesc(prefix+"tokens", "Mutations left in the token bucket of a quota's user and client id.", labels, nil)
	}
	return d
}

var clientQuotaTypes = map[string]clientQuotaDescs{"Produce": newClientQuotaDescs("Produce"), "Fetch": newClientQuotaDescs("Fetch"),
	"Request": newClientQuotaDescs("Request"), "ControllerMutation": newClientQuotaDescs("ControllerMutation")}

func describeClientQuotas(ch chan<- *prometheus.Desc) {
	for _, d := range clientQuotaTypes {
		ch <- d.rate
		ch <- d.throttle
		if d.tokens != nil {
			ch <- d.tokens
		}
	}
}

func collectClientQuotas(ch chan<- prometheus.Metric, read func() []ClientQuota) {
	if read == nil {
		return
	}
	for _, q := range read() {
		d, ok := clientQuotaTypes[q.Type]
		if !ok {
			continue
		}
		ch <- prometheus.MustNewConstMetric(d.rate, prometheus.GaugeValue, q.Rate, q.User, q.ClientID)
		ch <- prometheus.MustNewConstMetric(d.throttle, prometheus.GaugeValue, q.ThrottleTime, q.User, q.ClientID)
		if d.tokens != nil {
			ch <- prometheus.MustNewConstMetric(d.tokens, prometheus.GaugeValue, q.Tokens, q.User, q.ClientID)
		}
	}
}

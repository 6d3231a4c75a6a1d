package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// ClientQuota is one client quota sensor's measures (ClientQuotaManager's byte-rate and throttle-time, per user
// and client id at the level its quota is set).
type ClientQuota struct {
	Type         string // Produce or Fetch
	User         string // sanitized; empty when the quota is not per user
	ClientID     string // empty when the quota is not per client id
	ByteRate     float64
	ThrottleTime float64 // mean ms over the last minute; NaN when none was given
}

// clientQuotaDescs are the two metrics of one quota type, as the JMX exporter names
// kafka.server:type=<Type>,user=,client-id= byte-rate and throttle-time.
type clientQuotaDescs struct{ rate, throttle *prometheus.Desc }

func newClientQuotaDescs(typ string) clientQuotaDescs {
	prefix := "kafka_server_" + strings.ToLower(typ) + "_"
	labels := []string{"user", "client_id"}
	return clientQuotaDescs{
		rate:     prometheus.NewDesc(prefix+"byte_rate", typ+" bytes per second of a quota's user and client id.", labels, nil),
		throttle: prometheus.NewDesc(prefix+"throttle_time", "Mean throttle time in ms given to a quota's user and client id.", labels, nil),
	}
}

var clientQuotaTypes = map[string]clientQuotaDescs{"Produce": newClientQuotaDescs("Produce"), "Fetch": newClientQuotaDescs("Fetch")}

func describeClientQuotas(ch chan<- *prometheus.Desc) {
	for _, d := range clientQuotaTypes {
		ch <- d.rate
		ch <- d.throttle
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
		ch <- prometheus.MustNewConstMetric(d.rate, prometheus.GaugeValue, q.ByteRate, q.User, q.ClientID)
		ch <- prometheus.MustNewConstMetric(d.throttle, prometheus.GaugeValue, q.ThrottleTime, q.User, q.ClientID)
	}
}

package kwire

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metrics are a server's counters. Read them directly or register the value as a Prometheus
// collector; names follow what Kafka's JMX beans become under the Prometheus JMX exporter.
type Metrics struct {
	listener string
	requests [kmsg.MaxKey + 1]atomic.Int64

	BytesIn             atomic.Int64 // frame bytes read, size prefixes included
	BytesOut            atomic.Int64 // frame bytes written, size prefixes included
	ConnectionsAccepted atomic.Int64
	ConnectionsActive   atomic.Int64
	ConnectionsFailed   atomic.Int64 // closed for a protocol or handler error
	// FailedAuthentications counts failed SASL authentications and TLS handshakes, as Kafka's
	// failed-authentication-total does.
	FailedAuthentications atomic.Int64
}

// Requests returns how many requests of key were decoded and dispatched (ApiVersions included).
func (m *Metrics) Requests(key int16) int64 {
	if key < 0 || int(key) >= len(m.requests) {
		return 0
	}
	return m.requests[key].Load()
}

func (m *Metrics) countRequest(key int16) {
	if key >= 0 && int(key) < len(m.requests) {
		m.requests[key].Add(1)
	}
}

var (
	descRequests = prometheus.NewDesc("kafka_network_requestmetrics_requests_total",
		"Requests received, by API.", []string{"listener", "request", "api_key"}, nil)
	descBytesIn = prometheus.NewDesc("kafka_server_socket_server_metrics_incoming_byte_total",
		"Bytes read from client connections.", []string{"listener"}, nil)
	descBytesOut = prometheus.NewDesc("kafka_server_socket_server_metrics_outgoing_byte_total",
		"Bytes written to client connections.", []string{"listener"}, nil)
	descConnCreated = prometheus.NewDesc("kafka_server_socket_server_metrics_connection_creation_total",
		"Connections accepted.", []string{"listener"}, nil)
	descConnCount = prometheus.NewDesc("kafka_server_socket_server_metrics_connection_count",
		"Open connections.", []string{"listener"}, nil)
	descAuthFailed = prometheus.NewDesc("kafka_server_socket_server_metrics_failed_authentication_total",
		"Failed SASL authentications and TLS handshakes.", []string{"listener"}, nil)
	descConnFailed = prometheus.NewDesc("zkafka_kwire_connection_errors_total",
		"Connections closed because of a protocol or handler error.", []string{"listener"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descBytesIn, descBytesOut, descConnCreated, descConnCount, descConnFailed, descAuthFailed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for k := range m.requests {
		if n := m.requests[k].Load(); n > 0 {
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(n),
				m.listener, APIName(int16(k)), strconv.Itoa(k))
		}
	}
	ch <- prometheus.MustNewConstMetric(descBytesIn, prometheus.CounterValue, float64(m.BytesIn.Load()), m.listener)
	ch <- prometheus.MustNewConstMetric(descBytesOut, prometheus.CounterValue, float64(m.BytesOut.Load()), m.listener)
	ch <- prometheus.MustNewConstMetric(descConnCreated, prometheus.CounterValue, float64(m.ConnectionsAccepted.Load()), m.listener)
	ch <- prometheus.MustNewConstMetric(descConnCount, prometheus.GaugeValue, float64(m.ConnectionsActive.Load()), m.listener)
	ch <- prometheus.MustNewConstMetric(descConnFailed, prometheus.CounterValue, float64(m.ConnectionsFailed.Load()), m.listener)
	ch <- prometheus.MustNewConstMetric(descAuthFailed, prometheus.CounterValue, float64(m.FailedAuthentications.Load()), m.listener)
}

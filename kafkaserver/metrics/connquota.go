package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zkafka/zkafka/kafkaserver/connquota"
)

// ConnectionQuotas' sensors (kafka.server:type=socket-server-metrics). Kafka's connection-accept-rate has a
// listener tag for a listener's sensor and an ip tag for an IP's; here both are labels of one series name, the
// other one empty, which Prometheus reads as absent.
var (
	descBrokerAcceptRate = prometheus.NewDesc("kafka_server_socket_server_metrics_broker_connection_accept_rate",
		"Connections accepted per second by the broker, over the quota windows.", nil, nil)
	descAcceptRate = prometheus.NewDesc("kafka_server_socket_server_metrics_connection_accept_rate",
		"Connections accepted per second by a listener, or from an IP with a connection rate quota.", []string{"listener", "ip"}, nil)
	descAcceptThrottle = prometheus.NewDesc("kafka_server_socket_server_metrics_connection_accept_throttle_time",
		"Mean delay in ms of a listener's accepts held to the broker's or listener's connection rate.", []string{"listener"}, nil)
	descIPAcceptThrottle = prometheus.NewDesc("kafka_server_socket_server_metrics_ip_connection_accept_throttle_time",
		"Mean throttle time in ms of a listener's connections over their IP's connection rate quota.", []string{"listener"}, nil)
	// The acceptor's AcceptorBlockedPercent meter (kafka.network:type=Acceptor): its count is in ns, so its rate
	// over 1e9 is the share of time the acceptor waits.
	descAcceptorBlocked = prometheus.NewDesc("kafka_network_acceptor_acceptorblockedpercent_total",
		"Nanoseconds a listener's acceptor waited for a connection slot or a connection rate delay.", []string{"listener"}, nil)
)

func describeConnQuotas(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBrokerAcceptRate, descAcceptRate, descAcceptThrottle, descIPAcceptThrottle, descAcceptorBlocked} {
		ch <- d
	}
}

func collectConnQuotas(ch chan<- prometheus.Metric, read func() connquota.Stats) {
	if read == nil {
		return
	}
	st := read()
	ch <- prometheus.MustNewConstMetric(descBrokerAcceptRate, prometheus.GaugeValue, st.BrokerAcceptRate)
	for _, l := range st.Listeners {
		ch <- prometheus.MustNewConstMetric(descAcceptRate, prometheus.GaugeValue, l.AcceptRate, l.Name, "")
		ch <- prometheus.MustNewConstMetric(descAcceptThrottle, prometheus.GaugeValue, l.ThrottleTimeMs, l.Name)
		ch <- prometheus.MustNewConstMetric(descIPAcceptThrottle, prometheus.GaugeValue, l.IPThrottleTimeMs, l.Name)
		ch <- prometheus.MustNewConstMetric(descAcceptorBlocked, prometheus.CounterValue, float64(l.BlockedNs), l.Name)
	}
	for _, ip := range st.IPs {
		ch <- prometheus.MustNewConstMetric(descAcceptRate, prometheus.GaugeValue, ip.AcceptRate, "", ip.Addr.String())
	}
}

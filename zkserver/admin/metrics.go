package admin

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// collector exports the monitor list the way Apache's
// PrometheusMetricsProvider (simpleclient 0.9) does: every metric under its
// Apache name with the name as help text; gauges as gauges, counters as
// counters without a _total suffix, summaries as summaries with quantile 0.5
// (and 0.9, 0.99 for the advanced ones) plus _count and _sum, summary sets
// with a "key" label. version and server_state are mntr-only, as in Apache.
type collector struct{ src Source }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	// Unchecked collector: the set of summary-set keys changes at run time.
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range Monitor(c.src) {
		switch m.Kind {
		case KindGauge, KindCounter:
			t := prometheus.GaugeValue
			if m.Kind == KindCounter {
				t = prometheus.CounterValue
			}
			desc := prometheus.NewDesc(m.Name, m.Name, nil, nil)
			ch <- prometheus.MustNewConstMetric(desc, t, toFloat(m.Value))
		case KindSummary, KindSummaryAdvanced:
			desc := prometheus.NewDesc(m.Name, m.Name, nil, nil)
			ch <- constSummary(desc, m.Value.(Summary), m.Kind == KindSummaryAdvanced)
		case KindGaugeSet, KindCounterSet:
			t := prometheus.GaugeValue
			if m.Kind == KindCounterSet {
				t = prometheus.CounterValue
			}
			desc := prometheus.NewDesc(m.Name, m.Name, []string{"key"}, nil)
			set := m.Value.(map[string]int64)
			for _, k := range sortedKeys(set) {
				ch <- prometheus.MustNewConstMetric(desc, t, float64(set[k]), k)
			}
		case KindSummarySet, KindSummarySetAdvanced:
			desc := prometheus.NewDesc(m.Name, m.Name, []string{"key"}, nil)
			set := m.Value.(map[string]Summary)
			for _, k := range sortedKeys(set) {
				ch <- constSummary(desc, set[k], m.Kind == KindSummarySetAdvanced, k)
			}
		}
	}
}

func constSummary(desc *prometheus.Desc, s Summary, advanced bool, labels ...string) prometheus.Metric {
	q := func(v int64) float64 {
		if s.Count == 0 {
			return math.NaN() // simpleclient's quantiles before any observation
		}
		return float64(v)
	}
	quantiles := map[float64]float64{0.5: q(s.P50)}
	if advanced {
		quantiles[0.9] = q(s.P90)
		quantiles[0.99] = q(s.P99)
	}
	return prometheus.MustNewConstSummary(desc, uint64(max(s.Count, 0)), float64(s.Sum), quantiles, labels...)
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case int:
		return float64(x)
	}
	return 0
}

// MetricsServer serves /metrics on metricsProvider.httpHost:httpPort.
type MetricsServer struct {
	httpServer
	registry *prometheus.Registry
}

// NewMetricsServer builds the Prometheus endpoint for src at addr; call Start
// to listen. Like Apache's provider (exportJvmInfo=true) it also exports the
// runtime's own metrics, here Go's and the process's.
func NewMetricsServer(src Source, addr string, logger *slog.Logger) (*MetricsServer, error) {
	if src == nil {
		return nil, errors.New("metrics server: nil source")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collector{src},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(errors.New("metrics server: register collector"), err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogAdapter{logger}}))
	m := &MetricsServer{registry: reg}
	m.httpServer = httpServer{addr: addr, handler: mux, logger: logger, name: "PrometheusMetricsProvider"}
	return m, nil
}

// Gatherer exposes the registry, for tests and for embedding elsewhere.
func (m *MetricsServer) Gatherer() prometheus.Gatherer { return m.registry }

// slogAdapter lets promhttp report errors through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Println(v ...any) {
	a.l.Error("prometheus handler", "err", slices.Clone(v))
}

package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/metrics"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kwire"
)

// metricsRegistry gathers the broker's metrics: its listeners' socket and request counts, the topic meters, the
// replica manager's, controller's and replication quotas' gauges, the logs' and the log cleaner's, and Go's and
// the process's own (where Kafka's JMX exporter reports the JVM's).
func (b *Broker) metricsRegistry() (*prometheus.Registry, error) {
	ls := listenerMetrics(func() []*kwire.Metrics {
		var out []*kwire.Metrics
		for _, s := range b.runningServers() {
			out = append(out, s.Metrics())
		}
		return out
	})
	src := metrics.Sources{
		Replicas:   b.rm.Metrics,
		Controller: b.ctrl.Metrics,
		Quotas: func() metrics.Quotas {
			now := time.Now().UnixMilli()
			return metrics.Quotas{LeaderReplicationByteRate: b.rm.LeaderQuota().Rate(now),
				FollowerReplicationByteRate: b.rm.FollowerQuota().Rate(now), RequestExemptTime: b.quotas.Request.ExemptRate(now)}
		},
		ClientQuotas: b.clientQuotaMetrics,
		Logs:         b.logMetrics,
		LogDirs:      b.logDirMetrics,
		LogFlushes: func() metrics.Timer {
			n, sum, qs := b.logs.FlushStats().Snapshot(time.Now())
			return metrics.Timer{Count: n, SumMs: sum, QuantilesMs: qs}
		},
		ConnectionQuotas: b.connQuotas.Stats,
	}
	// Kafka registers the cleaner's gauges when LogManager makes the cleaner, that is with log.cleaner.enable.
	if c := b.logs.Cleaner(); c != nil {
		src.Cleaner = func() metrics.Cleaner { return cleanerMetrics(c.Stats()) }
	}
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		ls, b.reqMetrics, b.stats, src, metrics.FutureLogs(b.futureLogMetrics),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return reg, nil
}

// serveMetrics listens on addr (zkafka.metrics.address) and serves the registry at /metrics until Close.
func (b *Broker) serveMetrics(addr string) error {
	reg, err := b.metricsRegistry()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: promLog{b.logger}}))
	b.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	b.metricsAddr = ln.Addr()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := b.metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.logger.Error("metrics server stopped", "err", err)
		}
	}()
	b.logger.Info("serving metrics", "addr", ln.Addr().String())
	return nil
}

// closeMetrics stops the metrics server, if one runs.
func (b *Broker) closeMetrics() {
	if b.metricsSrv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.metricsSrv.Shutdown(ctx)
}

// MetricsAddr is where the broker serves its metrics, or nil.
func (b *Broker) MetricsAddr() net.Addr { return b.metricsAddr }

// listenerMetrics are the running listeners' counters as one collector: each listener's share the same
// descriptions, which a registry takes only once. Listeners come and go with dynamic updates.
type listenerMetrics func() []*kwire.Metrics

func (l listenerMetrics) Describe(ch chan<- *prometheus.Desc) { (*kwire.Metrics)(nil).Describe(ch) }

func (l listenerMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, m := range l() {
		m.Collect(ch)
	}
}

// promLog lets promhttp report errors through slog.
type promLog struct{ l *slog.Logger }

func (p promLog) Println(v ...any) { p.l.Error("metrics handler", "err", fmt.Sprint(v...)) }

// clientQuotaMetrics lists the produce, fetch, request and controller mutation quota sensors.
func (b *Broker) clientQuotaMetrics() []metrics.ClientQuota {
	now := time.Now().UnixMilli()
	var out []metrics.ClientQuota
	for _, q := range []*quota.Clients{b.quotas.Produce, b.quotas.Fetch, b.quotas.Request, b.quotas.ControllerMutation} {
		for _, s := range q.Stats(now) {
			out = append(out, metrics.ClientQuota{Type: q.Type(), User: s.User, ClientID: s.ClientID,
				Rate: s.Rate, Tokens: s.Tokens, ThrottleTime: s.ThrottleTime})
		}
	}
	return out
}

// logMetrics reads each partition log's gauges.
func (b *Broker) logMetrics() []metrics.Log { return logGauges(b.logs.All()) }

// futureLogMetrics reads the gauges of the future logs of moves between log dirs.
func (b *Broker) futureLogMetrics() []metrics.Log { return logGauges(b.logs.Futures()) }

func logGauges(logs map[klog.TopicPartition]*klog.Log) []metrics.Log {
	var out []metrics.Log
	for tp, l := range logs {
		g, ok := l.Gauges()
		if !ok {
			continue // deleted, or a future log swapped in or cancelled, meanwhile
		}
		out = append(out, metrics.Log{Topic: tp.Topic, Partition: tp.Partition, Size: g.Size, NumLogSegments: g.NumSegments,
			LogStartOffset: g.LogStartOffset, LogEndOffset: g.LogEndOffset})
	}
	return out
}

// logDirMetrics lists log.dirs for LogManager's gauges. None is offline: the log manager has no offline dirs
// (Kafka's LogDirFailureChannel), a dir that fails to open stops the broker's start.
func (b *Broker) logDirMetrics() []metrics.LogDir {
	dirs := b.logs.Dirs()
	out := make([]metrics.LogDir, len(dirs))
	for i, d := range dirs {
		out[i] = metrics.LogDir{Path: absPath(d)}
	}
	return out
}

// cleanerMetrics turns the cleaner's stats into its gauges' inputs.
func cleanerMetrics(st klog.CleanerStats) metrics.Cleaner {
	c := metrics.Cleaner{DeadThreadCount: st.DeadThreads, MaxDirtyRatio: st.MaxDirtyRatio, TimeSinceLastRunMs: st.SinceLastRunMs,
		IoBytes: st.IoBytes}
	for _, t := range st.Threads {
		c.Threads = append(c.Threads, metrics.CleanerThread{BytesRead: t.Last.BytesRead, BytesWritten: t.Last.BytesWritten,
			BufferUtilization: t.Last.BufferUtilization, CleanTimeMs: t.Last.ElapsedMs, MaxCompactionDelayMs: t.MaxCompactionDelayMs})
	}
	for _, d := range st.Uncleanable {
		c.Dirs = append(c.Dirs, metrics.CleanerDir{Path: absPath(d.Dir), UncleanablePartitions: d.Partitions, UncleanableBytes: d.Bytes})
	}
	return c
}

// absPath is a log dir as Kafka's logDirectory tags name it (File.getAbsolutePath).
func absPath(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

package admin

import (
	"os"
	"slices"
	"strconv"
	"syscall"

	"github.com/zkafka/zkafka/compat/javafmt"
)

// MetricKind says how a metric is exported.
type MetricKind int

// Metric kinds, after Apache's MetricsContext.
const (
	KindInfo            MetricKind = iota // string, mntr/monitor only (version, server_state)
	KindGauge                             // int64 or float64
	KindCounter                           // int64
	KindSummary                           // Summary: avg/min/max/cnt/sum
	KindSummaryAdvanced                   // Summary plus p50/p95/p99/p999
	KindSummarySet                        // map[string]Summary, one summary per key
	KindSummarySetAdvanced
	KindGaugeSet   // map[string]int64, one gauge per key
	KindCounterSet // map[string]int64, one counter per key
)

// Metric is one entry of the monitor list that mntr, the monitor admin command
// and /metrics all read.
type Metric struct {
	Name  string // Apache's name without "zk_", e.g. "znode_count", "fsynctime"
	Kind  MetricKind
	Value any // string, int64, float64, Summary or map[string]Summary
}

// The lists below are in the order Apache 3.8.0's default metrics provider
// dumps them (its ConcurrentHashMap order, captured from a real server), so
// mntr lines come out in the same order as Apache's.

// gaugeNames are ZooKeeperServer.registerMetrics's gauges.
var gaugeNames = []string{
	"ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests", "znode_count",
	"global_sessions", "non_mtls_remote_conn_count", "last_client_response_size", "packets_sent",
	"packets_received", "max_client_response_size", "connection_drop_probability", "watch_count",
	"auth_failed_count", "min_latency", "max_file_descriptor_count", "approximate_data_size",
	"open_file_descriptor_count", "local_sessions", "uptime", "max_latency", "outstanding_tls_handshake",
	"min_client_response_size", "non_mtls_local_conn_count",
}

// leaderGaugeNames are a leader's gauges, in the order Apache 3.8's leader prints them (its gauges with
// LeaderZooKeeperServer's and QuorumPeer's quorum_size among them).
var leaderGaugeNames = []string{
	"ephemerals_count", "num_alive_connections", "avg_latency", "min_proposal_size", "outstanding_requests",
	"znode_count", "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size", "packets_sent",
	"packets_received", "max_proposal_size", "max_client_response_size", "synced_followers",
	"connection_drop_probability", "watch_count", "synced_non_voting_followers", "synced_observers",
	"auth_failed_count", "min_latency", "max_file_descriptor_count", "approximate_data_size",
	"open_file_descriptor_count", "last_proposal_size", "pending_syncs", "leader_uptime", "local_sessions", "uptime",
	"max_latency", "outstanding_tls_handshake", "learners", "min_client_response_size", "non_mtls_local_conn_count",
	"quorum_size",
}

// counterNames are ServerMetrics's counters.
var counterNames = []string{
	"proposal_count", "watch_bytes", "outstanding_changes_removed", "throttled_ops", "stale_requests_dropped",
	"large_requests_rejected", "insecure_admin_count", "connection_rejected",
	"cnxn_closed_without_zk_server_running", "sessionless_connections_expired", "looking_count",
	"dead_watchers_queued", "stale_requests", "connection_drop_count", "learner_proposal_received_count",
	"digest_mismatches_count", "dead_watchers_cleared", "response_packet_cache_hits", "bytes_received_count",
	"add_dead_watcher_stall_time", "request_throttle_wait_count", "requests_not_forwarded_to_commit_processor",
	"response_packet_cache_misses", "ensemble_auth_success", "prep_processor_request_queued",
	"learner_commit_received_count", "stale_replies", "connection_request_count", "response_bytes",
	"ensemble_auth_fail", "diff_count", "response_packet_get_children_cache_misses",
	"connection_revalidate_count", "quit_leading_due_to_disloyal_voter", "snap_count",
	"unrecoverable_error_count", "unsuccessful_handshake", "commit_count", "stale_sessions_expired",
	"response_packet_get_children_cache_hits", "sync_processor_request_queued", "outstanding_changes_queued",
	"request_commit_queued", "ensemble_auth_skip", "skip_learner_request_to_next_processor_count",
	"tls_handshake_exceeded", "revalidate_count",
}

// summaryNames are ServerMetrics's BASIC summaries (avg/min/max/cnt/sum).
var summaryNames = []string{
	"socket_closing_time", "proposal_process_time", "leader_unavailable_time", "node_created_watch_count",
	"session_queues_drained", "write_commit_proc_req_queued", "connection_token_deficit",
	"read_commit_proc_req_queued", "node_deleted_watch_count", "startup_txns_load_time",
	"sync_processor_queue_size", "follower_sync_time", "prep_processor_queue_size", "fsynctime",
	"inflight_snap_count", "reads_issued_from_session_queue", "learner_request_processor_queue_size",
	"snapshottime", "unavailable_time", "startup_txns_loaded", "reads_after_write_in_session_queue",
	"requests_in_session_queue", "write_commit_proc_issued", "prep_process_time", "pending_session_queue_size",
	"time_waiting_empty_pool_in_commit_processor_read_ms", "commit_process_time", "dbinittime",
	"inflight_diff_count", "netty_queued_buffer_capacity", "election_time", "commit_commit_proc_req_queued",
	"sync_processor_batch_size", "node_children_watch_count", "write_batch_time_in_commit_processor",
	"read_commit_proc_issued", "concurrent_request_processing_in_commit_processor", "observer_sync_time",
	"node_changed_watch_count", "sync_process_time", "startup_snap_load_time",
}

// advancedSummaryNames are ServerMetrics's ADVANCED summaries (plus percentiles).
var advancedSummaryNames = []string{
	"prep_processor_queue_time_ms", "jvm_pause_time_ms", "close_session_prep_time", "read_commitproc_time_ms",
	"updatelatency", "local_write_committed_time_ms", "request_throttle_queue_time_ms", "readlatency",
	"quorum_ack_latency", "om_commit_process_time_ms", "read_final_proc_time_ms", "commit_propagation_latency",
	"dead_watchers_cleaner_latency", "write_final_proc_time_ms", "proposal_ack_creation_latency",
	"proposal_latency", "om_proposal_process_time_ms", "sync_processor_queue_and_flush_time_ms",
	"propagation_latency", "server_write_committed_time_ms", "sync_processor_queue_time_ms",
	"sync_processor_queue_flush_time_ms", "write_commitproc_time_ms",
}

// summarySetNames are ServerMetrics's summary sets, keyed by a label (the
// top-level znode for the per-namespace ones); they show only once used.
var summarySetNames = []string{"read_per_namespace", "write_per_namespace", "learner_handler_qp_size"}
var advancedSummarySetNames = []string{"learner_handler_qp_time_ms", "ack_latency"}

// gaugeSetNames are ZooKeeperServer's gauge sets (the quota limits and usages by top-level znode), in the order
// Apache 3.8's mntr prints them; counterSetNames are ServerMetrics's counter sets. Each shows its keys only.
var gaugeSetNames = []string{"quota_bytes_limit_per_namespace", "quota_count_usage_per_namespace",
	"quota_count_limit_per_namespace", "quota_bytes_usage_per_namespace"}
var counterSetNames = []string{"quota_exceeded_error_per_namespace"}

// floatGauges are the gauges Apache computes as doubles.
var floatGauges = map[string]bool{"avg_latency": true, "connection_drop_probability": true}

// Monitor returns the monitor list: version and server_state, then every
// gauge, counter and summary of Apache's default metrics provider, in its
// order. mntr, the monitor admin command and /metrics all print this list.
func Monitor(src Source) []Metric {
	var extra map[string]any
	if m, ok := src.(ServerMetricser); ok {
		extra = m.ServerMetrics()
	}
	minLat, avgLat, maxLat := src.Latency()
	_, _, dataWatches := src.WatchSummary()
	gauges := map[string]any{
		"ephemerals_count":            int64(src.EphemeralCount()),
		"num_alive_connections":       int64(len(src.Connections())),
		"avg_latency":                 avgLat,
		"outstanding_requests":        src.Outstanding(),
		"znode_count":                 int64(src.NodeCount()),
		"global_sessions":             int64(src.SessionCount()),
		"last_client_response_size":   int64(-1),
		"packets_sent":                src.PacketsSent(),
		"packets_received":            src.PacketsReceived(),
		"max_client_response_size":    int64(-1),
		"connection_drop_probability": 0.0,
		// Apache counts data and child watches here; the Source's summary
		// covers data watches, so ServerMetrics may give the full count.
		"watch_count":                int64(dataWatches),
		"min_latency":                minLat,
		"max_file_descriptor_count":  maxFDs(),
		"approximate_data_size":      src.ApproximateDataSize(),
		"open_file_descriptor_count": openFDs(),
		"uptime":                     src.Uptime().Milliseconds(),
		"max_latency":                maxLat,
		"min_client_response_size":   int64(-1),
	}
	out := make([]Metric, 0, 3+len(leaderGaugeNames)+len(counterNames)+len(summaryNames)+len(advancedSummaryNames))
	out = append(out,
		Metric{Name: "version", Kind: KindInfo, Value: src.Version()},
		Metric{Name: "server_state", Kind: KindInfo, Value: src.ServerState()})
	names := gaugeNames
	// A read-only server is a plain ZooKeeperServer: no peer state, no quorum size.
	if q, ok := src.(QuorumSource); ok && q.QuorumSize() > 0 && !src.ReadOnly() {
		out = append(out, Metric{Name: "peer_state", Kind: KindInfo, Value: q.PeerState()})
		if src.ServerState() == "observer" {
			out = append(out, Metric{Name: "observer_master_id", Kind: KindInfo, Value: q.LearnerMaster()})
		}
		gauges["quorum_size"] = int64(q.QuorumSize())
		names = append(slices.Clip(gaugeNames), "quorum_size")
		switch _, om := extra["synced_observers"]; {
		case src.ServerState() == "leader":
			names = leaderGaugeNames
		case om:
			// A follower serving observers (observerMasterPort) has FollowerZooKeeperServer's gauge too, which
			// Apache prints after watch_count as its leader does.
			i := slices.Index(names, "watch_count") + 1
			names = slices.Insert(slices.Clip(names), i, "synced_observers")
		}
		for _, n := range []string{"min_proposal_size", "max_proposal_size", "last_proposal_size"} {
			gauges[n] = int64(-1)
		}
	}
	if h, ok := src.(GaugeHistory); ok && h.GaugesReregistered() {
		names = reregisteredOrder(names)
	}
	for _, n := range names {
		var v any = int64(0)
		if floatGauges[n] {
			v = 0.0
		}
		if g, ok := gauges[n]; ok {
			v = g
		}
		if e, ok := extra[n]; ok {
			v = numberLike(e, v)
		}
		out = append(out, Metric{Name: n, Kind: KindGauge, Value: v})
	}
	addIntSets := func(names []string, kind MetricKind) {
		for _, n := range names {
			if s, ok := extra[n].(map[string]int64); ok && len(s) > 0 {
				out = append(out, Metric{Name: n, Kind: kind, Value: s})
			}
		}
	}
	addIntSets(gaugeSetNames, KindGaugeSet)
	for _, n := range counterNames {
		var v any = int64(0)
		if e, ok := extra[n]; ok {
			v = numberLike(e, v)
		}
		out = append(out, Metric{Name: n, Kind: KindCounter, Value: v})
	}
	addSummaries := func(names []string, kind MetricKind) {
		for _, n := range names {
			s, _ := extra[n].(Summary)
			out = append(out, Metric{Name: n, Kind: kind, Value: s})
		}
	}
	addIntSets(counterSetNames, KindCounterSet)
	addSummaries(summaryNames, KindSummary)
	addSummaries(advancedSummaryNames, KindSummaryAdvanced)
	addSets := func(names []string, kind MetricKind) {
		for _, n := range names {
			if s, ok := extra[n].(map[string]Summary); ok && len(s) > 0 {
				out = append(out, Metric{Name: n, Kind: kind, Value: s})
			}
		}
	}
	addSets(summarySetNames, KindSummarySet)
	addSets(advancedSummarySetNames, KindSummarySetAdvanced)
	return out
}

// reregisteredOrder is a server's gauge order when an earlier server of the same process registered the gauges
// before (and unregistered them when it stopped): the metrics map (a ConcurrentHashMap) keeps the 64-bin table the
// first registration grew, and avg_latency and num_alive_connections, which share a bin there, now sit in the order
// they are registered in, where the first registration's resize (from 32 bins, their bin shared with
// max_file_descriptor_count) had turned them round; no other bin's order changes. Seen on Apache 3.8's followers,
// leaders and read-only servers.
func reregisteredOrder(names []string) []string {
	out := slices.Clone(names)
	i, j := slices.Index(out, "num_alive_connections"), slices.Index(out, "avg_latency")
	if i >= 0 && j >= 0 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// numberLike converts an extra value to the type of the default, so a gauge
// keeps printing as Apache types it (integer or double).
func numberLike(v, def any) any {
	var f float64
	switch x := v.(type) {
	case int64:
		f = float64(x)
		if _, isInt := def.(int64); isInt {
			return x
		}
	case int:
		return numberLike(int64(x), def)
	case int32:
		return numberLike(int64(x), def)
	case float64:
		f = x
	default:
		return def
	}
	if _, isInt := def.(int64); isInt {
		return int64(f)
	}
	return f
}

// MonitorValue is one flattened key/value of the monitor list, the way
// Apache's default provider dumps it: a summary becomes avg_, min_, max_,
// cnt_, sum_ (and p50_, p95_, p99_, p999_) keys.
type MonitorValue struct {
	Key   string
	Value any // string, int64 or float64
}

// MonitorValues flattens Monitor(src) into mntr's keys (without "zk_").
func MonitorValues(src Source) []MonitorValue {
	var out []MonitorValue
	for _, m := range Monitor(src) {
		switch m.Kind {
		case KindInfo, KindGauge, KindCounter:
			out = append(out, MonitorValue{m.Name, m.Value})
		case KindSummary, KindSummaryAdvanced:
			out = appendSummary(out, m.Name, m.Value.(Summary), m.Kind == KindSummaryAdvanced)
		case KindGaugeSet, KindCounterSet:
			set := m.Value.(map[string]int64)
			for _, k := range sortedKeys(set) {
				out = append(out, MonitorValue{k + "_" + m.Name, set[k]})
			}
		case KindSummarySet, KindSummarySetAdvanced:
			set := m.Value.(map[string]Summary)
			for _, k := range sortedKeys(set) {
				out = appendSummary(out, k+"_"+m.Name, set[k], m.Kind == KindSummarySetAdvanced)
			}
		}
	}
	return out
}

func appendSummary(out []MonitorValue, name string, s Summary, advanced bool) []MonitorValue {
	avg := 0.0
	if s.Count > 0 {
		avg = javafmt.RoundHalfUp(float64(s.Sum)/float64(s.Count), 4) // as AvgMinMaxCounter.getAvg
	}
	out = append(out,
		MonitorValue{"avg_" + name, avg},
		MonitorValue{"min_" + name, s.Min},
		MonitorValue{"max_" + name, s.Max},
		MonitorValue{"cnt_" + name, s.Count},
		MonitorValue{"sum_" + name, s.Sum})
	if advanced {
		out = append(out,
			MonitorValue{"p50_" + name, s.P50},
			MonitorValue{"p95_" + name, s.P95},
			MonitorValue{"p99_" + name, s.P99},
			MonitorValue{"p999_" + name, s.P999})
	}
	return out
}

// formatValue prints a monitor value as MonitorCommand does: integers as
// integers, other numbers as Java doubles, the rest as text.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case int64:
		return itoa(x)
	case int:
		return itoa(int64(x))
	case float64:
		return javafmt.Double(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}

// openFDs counts this process's open descriptors, as OSMXBean does on Linux.
func openFDs() int64 {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return int64(len(entries))
}

// maxFDs is the soft limit on open descriptors.
func maxFDs() int64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return int64(r.Cur)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

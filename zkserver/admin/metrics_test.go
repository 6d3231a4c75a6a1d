package admin

import (
	"strings"
	"testing"
)

func TestMetricsServer(t *testing.T) {
	f := newFake()
	f.extra = map[string]any{
		"bytes_received_count":               int64(32),
		"readlatency":                        Summary{Count: 4, Sum: 10, Min: 1, Max: 5, P50: 2, P90: 4, P95: 5, P99: 5, P999: 5},
		"write_per_namespace":                map[string]Summary{"b": {Count: 1, Sum: 7, Min: 7, Max: 7, P50: 7}},
		"quota_count_limit_per_namespace":    map[string]int64{"q": 3},
		"quota_exceeded_error_per_namespace": map[string]int64{"q": 2},
	}
	m, err := NewMetricsServer(f, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	code, _, body := get(t, "http://"+m.Addr().String()+"/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		"# HELP znode_count znode_count\n# TYPE znode_count gauge\nznode_count 9\n",
		"# TYPE watch_count gauge\nwatch_count 3\n",
		"# TYPE num_alive_connections gauge\nnum_alive_connections 2\n",
		"# TYPE avg_latency gauge\navg_latency 5.375\n",
		"# TYPE packets_received gauge\npackets_received 33\n",
		"# TYPE uptime gauge\nuptime 21142\n",
		"# HELP bytes_received_count bytes_received_count\n# TYPE bytes_received_count counter\nbytes_received_count 32\n",
		"# TYPE fsynctime summary\nfsynctime{quantile=\"0.5\"} NaN\nfsynctime_sum 0\nfsynctime_count 0\n",
		"# TYPE readlatency summary\nreadlatency{quantile=\"0.5\"} 2\nreadlatency{quantile=\"0.9\"} 4\n" +
			"readlatency{quantile=\"0.99\"} 5\nreadlatency_sum 10\nreadlatency_count 4\n",
		"write_per_namespace{key=\"b\",quantile=\"0.5\"} 7\nwrite_per_namespace_sum{key=\"b\"} 7\n",
		"# TYPE quota_count_limit_per_namespace gauge\nquota_count_limit_per_namespace{key=\"q\"} 3\n",
		"# TYPE quota_exceeded_error_per_namespace counter\nquota_exceeded_error_per_namespace{key=\"q\"} 2\n",
		"go_goroutines ",
		"process_open_fds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// mntr-only entries stay out of Prometheus, as in Apache.
	if strings.Contains(body, "server_state") || strings.Contains(body, "\nversion") {
		t.Error("version/server_state must not be exported")
	}
	if code, _, _ := get(t, "http://"+m.Addr().String()+"/other"); code != 404 {
		t.Errorf("/other: %d", code)
	}
}

package diff

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
)

// TestStartupMetricsAsApache compares the database-load metrics of a standalone Apache server and ours on a fresh
// data directory, then restarted on it after a session with five creates: dbinittime, startup_snap_load_time,
// startup_txns_load_time and startup_txns_loaded (only a load that replayed txns adds those two) and snapshottime
// (each start writes a snapshot: snapshot.0, then one of what the log replayed).
func TestStartupMetricsAsApache(t *testing.T) {
	harness.SameAsApache(t, startupMetrics)
}

func startupMetrics(t *testing.T, kind harness.Kind) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	start := func() *harness.Server {
		s, err := harness.Start(ctx, kind, harness.Config{Dir: dir})
		harness.NeedOrSkip(t, err)
		t.Cleanup(func() { _ = s.Stop() })
		return s
	}
	var lines []string
	report := func(when string, s *harness.Server) {
		kv := mntrValues(t, ctx, s)
		for _, k := range []string{"cnt_dbinittime", "cnt_startup_snap_load_time", "cnt_startup_txns_load_time",
			"cnt_startup_txns_loaded", "sum_startup_txns_loaded", "cnt_snapshottime"} {
			if _, err := strconv.ParseInt(kv["zk_"+k], 10, 64); err != nil {
				t.Fatalf("%s: zk_%s %q", when, k, kv["zk_"+k])
			}
			lines = append(lines, fmt.Sprintf("%s: %s %s", when, k, kv["zk_"+k]))
		}
	}
	s := start()
	report("fresh", s)
	c, _, err := zk.Connect([]string{s.Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := c.Create(fmt.Sprintf("/n%d", i), nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
	}
	c.Close() // createSession, five creates, closeSession
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	report("restarted", start())
	return lines
}

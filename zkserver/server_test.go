package zkserver

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/admin"
	"github.com/zkafka/zkafka/zkserver/metrics"
)

func startTestServer(t testing.TB, dir string) *Server {
	t.Helper()
	s, err := Start(Config{
		ClientAddr: "127.0.0.1:0", TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 4000,
		DataDir: dir, DataLogDir: dir, SnapCount: 100000, PreAllocSize: 1 << 20, ForceSync: true,
		DigestEnabled: true, JuteMaxBuffer: 0xfffff, ACL: acl.DefaultConfig(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func dial(t *testing.T, s *Server) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect([]string{s.Addr().String()}, 2*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestSmokeCreateGetRestart(t *testing.T) {
	dir := t.TempDir()
	s := startTestServer(t, dir)
	c := dial(t, s)
	if _, err := c.Create("/a", []byte("hello"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	p, err := c.Create("/a/s-", nil, zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil || p != "/a/s-0000000000" {
		t.Fatalf("sequential create: %q %v", p, err)
	}
	data, st, err := c.Get("/a")
	if err != nil || string(data) != "hello" || st.NumChildren != 1 {
		t.Fatalf("get: %q %+v %v", data, st, err)
	}
	if _, err := c.Create("/a", nil, 0, zk.WorldACL(zk.PermAll)); err != zk.ErrNodeExists {
		t.Fatalf("want NodeExists, got %v", err)
	}
	ch, _, evc, err := c.ChildrenW("/a")
	if err != nil || len(ch) != 1 {
		t.Fatal(ch, err)
	}
	if err := c.Delete("/a/s-0000000000", -1); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-evc:
		if ev.Type != zk.EventNodeChildrenChanged || ev.Path != "/a" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no child event")
	}
	if _, err := c.Set("/a", []byte("v2"), 0); err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Close()
	logged := s.proc.LastZxid() // standalone: epoch 0, so the number of txns
	if st := &s.proc.Stats; st.TxnsLoaded.Snapshot().Count != 0 || st.DBInitTime.Snapshot().Count != 1 ||
		st.SnapshotTime.Snapshot().Count != 1 {
		t.Fatalf("first start: txns loaded %+v, db loads %d, snapshots %d (snapshot.0)", st.TxnsLoaded.Snapshot(),
			st.DBInitTime.Snapshot().Count, st.SnapshotTime.Snapshot().Count)
	}

	s2 := startTestServer(t, dir)
	defer s2.Close()
	c2 := dial(t, s2)
	data, st, err = c2.Get("/a")
	if err != nil || string(data) != "v2" || st.Version != 1 || st.Cversion != 2 {
		t.Fatalf("after restart: %q %+v %v", data, st, err)
	}
	// The restart replayed the log: startup_txns_loaded, then a snapshot of what it loaded.
	m := s2.Source().(admin.ServerMetricser).ServerMetrics()
	if l := m["startup_txns_loaded"].(metrics.Summary); l.Count != 1 || l.Sum != logged {
		t.Fatalf("startup_txns_loaded %+v, want one load of %d txns", l, logged)
	}
	for _, k := range []string{"dbinittime", "startup_snap_load_time", "startup_txns_load_time", "snapshottime"} {
		if n := m[k].(metrics.Summary).Count; n != 1 {
			t.Fatalf("%s counted %d times", k, n)
		}
	}
	// srst zeroes every ServerMetrics table: the Stats', the response caches' (the Get above missed), the rest.
	if n := m["response_packet_cache_misses"].(int64); n != 1 {
		t.Fatalf("response_packet_cache_misses %d after one getData", n)
	}
	s2.Source().ResetStats()
	m = s2.Source().(admin.ServerMetricser).ServerMetrics()
	if m["startup_txns_loaded"].(metrics.Summary).Count != 0 || m["response_packet_cache_misses"].(int64) != 0 ||
		m["bytes_received_count"].(int64) != 0 {
		t.Fatalf("after srst: startup_txns_loaded %+v, cache misses %v, bytes received %v", m["startup_txns_loaded"],
			m["response_packet_cache_misses"], m["bytes_received_count"])
	}
}

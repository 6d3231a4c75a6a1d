package log

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckpointFormat(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cp")
	if err := WriteOffsetCheckpoint(p, map[TopicPartition]int64{{"foo", 1}: 98, {"foo", 0}: 1234}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	if string(data) != "0\n2\nfoo 0 1234\nfoo 1 98\n" {
		t.Fatalf("%q", data)
	}
	m, err := ReadOffsetCheckpoint(p)
	if err != nil || m[TopicPartition{"foo", 0}] != 1234 || len(m) != 2 {
		t.Fatalf("%v %v", m, err)
	}
	os.WriteFile(p, []byte("0\n3\nfoo 0 1\n"), 0o644)
	if _, err := ReadOffsetCheckpoint(p); err == nil {
		t.Fatal("count mismatch must fail")
	}
	if m, err := ReadOffsetCheckpoint(p + "-missing"); err != nil || len(m) != 0 {
		t.Fatal("missing file is empty")
	}
}

func TestManager(t *testing.T) {
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "d1"), filepath.Join(root, "d2")}
	m, err := OpenManager(dirs, 3, "clusterA", DefaultConfig(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenManager(dirs, 3, "clusterA", DefaultConfig(), quietLogger()); err == nil {
		t.Fatal("second manager on locked dirs must fail")
	}
	id := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	cfg := testConfig()
	for p := int32(0); p < 4; p++ {
		l, err := m.GetOrCreate("t.x_y-z", p, id, cfg)
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", "v"}, kv{"k", "w"}), 0)
		l.SetHighWatermark(2)
	}
	l0, _ := m.Get("t.x_y-z", 0)
	l0.SetHighWatermark(2)
	if err := l0.DeleteRecordsBefore(1); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Get("t.x_y-z", 9); ok {
		t.Fatal("unexpected log")
	}
	if err := m.Delete("t.x_y-z", 3); err != nil {
		t.Fatal(err)
	}
	// partition.metadata as Kafka writes it.
	pm, _ := os.ReadFile(filepath.Join(l0.Dir(), PartitionMetadataFileName))
	if string(pm) != "version: 0\ntopic_id: AQIDBAUGBwgJCgsMDQ4PEA\n" {
		t.Fatalf("%q", pm)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		mp, ok, err := ReadMetaProperties(filepath.Join(d, MetaPropertiesFile))
		if err != nil || !ok || mp != (MetaProperties{0, 3, "clusterA"}) {
			t.Fatalf("meta %+v %v", mp, err)
		}
		if _, err := os.Stat(filepath.Join(d, CleanShutdownFile)); err != nil {
			t.Fatal("clean shutdown marker missing")
		}
	}
	rp, _ := ReadOffsetCheckpoint(filepath.Join(l0.Dir(), "..", RecoveryPointCheckpointFile))
	hw, _ := ReadOffsetCheckpoint(filepath.Join(l0.Dir(), "..", ReplicationCheckpointFile))
	ls, _ := ReadOffsetCheckpoint(filepath.Join(l0.Dir(), "..", LogStartOffsetCheckpointFile))
	tp := TopicPartition{"t.x_y-z", 0}
	if rp[tp] != 2 || hw[tp] != 2 || ls[tp] != 1 {
		t.Fatalf("checkpoints rp %v hw %v ls %v", rp, hw, ls)
	}
	// A pending delete left by a crash is finished on open; a broker id mismatch is refused.
	os.MkdirAll(filepath.Join(dirs[0], "gone-0.0123456789abcdef0123456789abcdef-delete"), 0o755)
	if _, err := OpenManager(dirs, 4, "clusterA", DefaultConfig(), quietLogger()); err == nil || !strings.Contains(err.Error(), "broker.id") {
		t.Fatalf("broker id mismatch: %v", err)
	}
	if _, err := OpenManager(dirs, 3, "clusterB", DefaultConfig(), quietLogger()); err == nil {
		t.Fatal("cluster id mismatch must fail")
	}
	m, err = OpenManager(dirs, -1, "", DefaultConfig(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.BrokerID() != 3 || m.ClusterID() != "clusterA" || len(m.All()) != 3 {
		t.Fatalf("reopen: %d %s %d", m.BrokerID(), m.ClusterID(), len(m.All()))
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "gone-0.0123456789abcdef0123456789abcdef-delete")); !os.IsNotExist(err) {
		t.Fatal("-delete dir should be removed")
	}
	l0, _ = m.Get("t.x_y-z", 0)
	if l0.LogStartOffset() != 1 || l0.HighWatermark() != 2 || l0.LogEndOffset() != 2 {
		t.Fatalf("reloaded start %d hw %d leo %d", l0.LogStartOffset(), l0.HighWatermark(), l0.LogEndOffset())
	}
	if got, ok := l0.TopicID(); !ok || got != id {
		t.Fatal("topic id not reloaded")
	}
}

// Every segment flush of a manager's logs is timed, as Kafka's LogSegment.flush: with flush.messages=1 each append
// flushes the active segment once; Close flushes the segments from the recovery point, here none.
func TestFlushStats(t *testing.T) {
	m, err := OpenManager([]string{t.TempDir()}, 1, "c", DefaultConfig(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.FlushMessages = 1
	flushed, err := m.GetOrCreate("flushed", 0, [16]byte{1}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	unflushed, err := m.GetOrCreate("unflushed", 0, [16]byte{2}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustAppend(t, flushed, kbatch(t, 1, CodecNone, kv{"k", "v"}), 0)
		mustAppend(t, unflushed, kbatch(t, 1, CodecNone, kv{"k", "v"}), 0)
	}
	if n, _, qs := m.FlushStats().Snapshot(time.Now()); n != 3 || math.IsNaN(qs[0.5]) {
		t.Fatalf("after 3 flushed appends: %d flushes, quantiles %v", n, qs)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing flushed the other log's one segment; the flushed log had nothing past its recovery point.
	if n, _, _ := m.FlushStats().Snapshot(time.Now()); n != 4 {
		t.Fatalf("after close: %d flushes, want 4", n)
	}
}

package log

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// DeleteRecords moves the log start inside a segment; the checkpoint written at once brings it back after an
// unclean stop (no Close, so no final checkpoint) and reads below it fail.
func TestLogStartCheckpointSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SegmentBytes = 400
	m, err := OpenManager([]string{dir}, 1, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	l, err := m.GetOrCreate("foo", 0, [16]byte{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		mustAppend(t, l, kbatch(t, 100+int64(i), CodecNone, kv{"k", strings.Repeat("v", 60)}), int32(i/5))
	}
	l.SetHighWatermark(20)
	if err := l.DeleteRecordsBefore(7); err != nil {
		t.Fatal(err)
	}
	if l.FirstSegmentBase() == 7 {
		t.Fatal("test wants the start inside a segment")
	}
	if err := m.CheckpointLogStartOffsets(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, LogStartOffsetCheckpointFile))
	if err != nil || string(data) != "0\n1\nfoo 0 7\n" {
		t.Fatalf("checkpoint %q %v", data, err)
	}
	if got := m.LogsInDir(dir); len(got) != 1 || got[0] != l {
		t.Fatalf("LogsInDir: %v", got)
	}

	// Crash: drop the locks and file handles without checkpoints or the clean-shutdown marker.
	for _, lg := range m.logs {
		_ = lg.closeSegments()
	}
	for _, lf := range m.locks {
		lf.Close()
	}
	m2, err := OpenManager([]string{dir}, 1, "c", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	l2, _ := m2.Get("foo", 0)
	if l2.LogStartOffset() != 7 {
		t.Fatalf("log start after restart %d", l2.LogStartOffset())
	}
	if off, _, _ := l2.OffsetForTimestamp(EarliestTimestamp); off != 7 {
		t.Fatalf("earliest %d", off)
	}
	if _, err := l2.Read(6, 1<<20, -1, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	if recs := readAll(t, l2, 7); len(recs) != 13 || recs[0].Offset != 7 {
		t.Fatalf("%d records", len(recs))
	}
	if e := l2.EpochEntries(); e[0] != (EpochEntry{1, 7}) {
		t.Fatalf("epochs %+v", e)
	}
}

func TestDeleteEnabled(t *testing.T) {
	for policy, want := range map[string]bool{"": true, "delete": true, "compact": false, "compact,delete": true} {
		if got := (Config{CleanupPolicy: policy}).DeleteEnabled(); got != want {
			t.Errorf("%q: %v", policy, got)
		}
	}
}

// Kafka's LeaderEpochFileCache.endOffsetFor: only -1 is UNDEFINED; other epochs below the first entry answer
// with the first entry's start offset.
func TestEndOffsetForEpochEdges(t *testing.T) {
	c, err := loadEpochCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if e, off := c.endOffsetFor(3, 50); e != -1 || off != -1 {
		t.Fatalf("empty cache: %d %d", e, off)
	}
	c.assign(2, 10)
	c.assign(4, 30)
	for _, cs := range []struct {
		req int32
		e   int32
		off int64
	}{{-1, -1, -1}, {-2, -2, 10}, {0, 0, 10}, {2, 2, 30}, {3, 2, 30}, {4, 4, 50}, {5, -1, -1}} {
		if e, off := c.endOffsetFor(cs.req, 50); e != cs.e || off != cs.off {
			t.Errorf("epoch %d: %d %d, want %d %d", cs.req, e, off, cs.e, cs.off)
		}
	}
}

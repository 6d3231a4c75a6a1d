package log

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// rawAll reads every stored byte of l from off to its end.
func rawAll(t *testing.T, l *Log, off int64) []byte {
	t.Helper()
	var out []byte
	for off < l.LogEndOffset() {
		res, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) == 0 {
			t.Fatalf("empty read at %d", off)
		}
		out = append(out, res.Records...)
		bs := parseKmsg(t, res.Records)
		off = bs[len(bs)-1].FirstOffset + int64(bs[len(bs)-1].LastOffsetDelta) + 1
	}
	return out
}

// copyAll appends the current log's batches from the future log's end on, as the mover does.
func copyAll(t *testing.T, cur, fut *Log) {
	t.Helper()
	for fut.LogEndOffset() < cur.LogEndOffset() {
		res, err := cur.Read(fut.LogEndOffset(), 100, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fut.AppendAsFollower(res.Records); err != nil {
			t.Fatal(err)
		}
	}
}

func dirNames(t *testing.T, d string) []string {
	t.Helper()
	es, err := os.ReadDir(d)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func twoDirManager(t *testing.T) (*Manager, []string) {
	t.Helper()
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "d1"), filepath.Join(root, "d2")}
	m, err := OpenManager(dirs, 1, "c", testConfig(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	return m, dirs
}

var futureName = regexp.MustCompile(`^t-0\.[0-9a-f]{32}-future$`)

func TestFutureLogCreation(t *testing.T) {
	m, dirs := twoDirManager(t)
	defer m.Close()
	tp := TopicPartition{"t", 0}
	id := [16]byte{9}
	cur, err := m.GetOrCreate("t", 0, id, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := m.DirOf(tp); d != dirs[0] {
		t.Fatalf("current in %s", d)
	}
	if _, _, err := m.CreateFuture(tp, testConfig()); err == nil {
		t.Fatal("a future log needs a preferred dir")
	}
	m.SetPreferredDir(tp, dirs[0]) // where it is: not recorded
	if _, _, err := m.CreateFuture(tp, testConfig()); err == nil {
		t.Fatal("no future log in the current dir")
	}
	if _, err := m.ResolveDir(filepath.Join(dirs[1], "..", "nope")); !errors.Is(err, ErrLogDirNotFound) {
		t.Fatalf("unknown dir: %v", err)
	}
	d2, err := m.ResolveDir(filepath.Join(dirs[1], "..", "d2"))
	if err != nil || d2 != dirs[1] {
		t.Fatalf("resolve: %q %v", d2, err)
	}
	m.SetPreferredDir(tp, d2)
	fut, created, err := m.CreateFuture(tp, testConfig())
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if again, created, _ := m.CreateFuture(tp, testConfig()); again != fut || created {
		t.Fatal("second CreateFuture must return the same log")
	}
	if filepath.Dir(fut.Dir()) != dirs[1] || !futureName.MatchString(filepath.Base(fut.Dir())) {
		t.Fatalf("future dir %s", fut.Dir())
	}
	if fut.TopicPartition() != tp {
		t.Fatalf("future log's partition %v", fut.TopicPartition())
	}
	if got, ok := fut.TopicID(); !ok || got != id {
		t.Fatal("future log lacks the topic id")
	}
	if ls := m.FutureLogsInDir(dirs[1]); len(ls) != 1 || ls[0] != fut {
		t.Fatal("FutureLogsInDir")
	}
	if l, ok := m.Get("t", 0); !ok || l != cur {
		t.Fatal("current log replaced")
	}
	// 214 characters of topic: "<topic>-0.<32 hex digits>-future" would be 256 long.
	if n := FutureDirNameLen(TopicPartition{strings.Repeat("x", 214), 0}); n != 256 {
		t.Fatalf("future name length %d", n)
	}
	for name, want := range map[string]TopicPartition{"a-b-3.0123456789abcdef0123456789abcdef-future": {"a-b", 3},
		"a.b-0.0123456789abcdef0123456789abcdef-delete": {"a.b", 0}, "x-1": {"x", 1}} {
		if got, err := parseLogDirName(name); err != nil || got != want {
			t.Fatalf("%s: %v %v", name, got, err)
		}
	}
	// A preferred dir set before the partition's log exists is where the log is created.
	m.SetPreferredDir(TopicPartition{"u", 0}, dirs[1])
	if _, err := m.GetOrCreate("u", 0, id, testConfig()); err != nil {
		t.Fatal(err)
	}
	if d, _ := m.DirOf(TopicPartition{"u", 0}); d != dirs[1] {
		t.Fatalf("preferred dir ignored: %s", d)
	}
}

func TestReplaceCurrentWithFuture(t *testing.T) {
	m, dirs := twoDirManager(t)
	tp := TopicPartition{"t", 0}
	cur, err := m.GetOrCreate("t", 0, [16]byte{1}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		mustAppend(t, cur, kbatch(t, 1000, CodecNone, kv{"k", "v1"}, kv{"k", "v2"}), int32(i/5))
		if i%7 == 6 {
			if err := cur.Roll(); err != nil {
				t.Fatal(err)
			}
		}
	}
	cur.SetHighWatermark(30)
	if err := cur.DeleteRecordsBefore(4); err != nil {
		t.Fatal(err)
	}
	if err := cur.AssignEpochStartOffset(7, cur.LogEndOffset()); err != nil { // a leader epoch with no records yet
		t.Fatal(err)
	}
	want := rawAll(t, cur, 4)
	m.SetPreferredDir(tp, dirs[1])
	fut, _, err := m.CreateFuture(tp, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := fut.TruncateFullyAndStartAt(4); err != nil {
		t.Fatal(err)
	}
	res, _ := cur.Read(4, 1, -1, true)
	if _, err := fut.AppendAsFollower(res.Records); err != nil {
		t.Fatal(err)
	}
	if ok, err := m.ReplaceCurrentWithFuture(tp); ok || err != nil {
		t.Fatalf("a future log behind must not replace: %v %v", ok, err)
	}
	copyAll(t, cur, fut)
	if got := rawAll(t, fut, 4); !bytes.Equal(got, want) {
		t.Fatal("future log's batches differ from the current log's")
	}
	fut.SetHighWatermark(30)
	if err := m.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{RecoveryPointCheckpointFile, ReplicationCheckpointFile, LogStartOffsetCheckpointFile} {
		if old, _ := ReadOffsetCheckpoint(filepath.Join(dirs[0], f)); old[tp] == 0 {
			t.Fatalf("%s lacks %s before the swap", f, tp)
		}
	}
	if ok, err := m.ReplaceCurrentWithFuture(tp); !ok || err != nil {
		t.Fatalf("replace: %v %v", ok, err)
	}
	if l, ok := m.Get("t", 0); !ok || l != cur {
		t.Fatal("the partition's log object must stay")
	}
	if _, _, ok := m.Future(tp); ok {
		t.Fatal("future log still listed")
	}
	if cur.Dir() != filepath.Join(dirs[1], "t-0") {
		t.Fatalf("log now in %s", cur.Dir())
	}
	if n := dirNames(t, dirs[0]); len(n) != 0 {
		t.Fatalf("left in the old dir: %v", n)
	}
	if n := dirNames(t, dirs[1]); len(n) != 1 || n[0] != "t-0" {
		t.Fatalf("new dir holds %v", n)
	}
	if got := rawAll(t, cur, 4); !bytes.Equal(got, want) {
		t.Fatal("batches changed by the swap")
	}
	if cur.LogStartOffset() != 4 || cur.HighWatermark() != 30 || cur.LatestEpoch() != 7 {
		t.Fatalf("start %d hw %d epoch %d", cur.LogStartOffset(), cur.HighWatermark(), cur.LatestEpoch())
	}
	// Checkpoints follow the log (the log start offset is only written while it is above the first segment's
	// base, which the future log started at).
	for _, f := range []string{RecoveryPointCheckpointFile, ReplicationCheckpointFile, LogStartOffsetCheckpointFile} {
		old, _ := ReadOffsetCheckpoint(filepath.Join(dirs[0], f))
		now, _ := ReadOffsetCheckpoint(filepath.Join(dirs[1], f))
		if _, ok := old[tp]; ok {
			t.Fatalf("%s still lists %s in the old dir", f, tp)
		}
		if _, ok := now[tp]; !ok && f != LogStartOffsetCheckpointFile {
			t.Fatalf("%s lacks %s in the new dir", f, tp)
		}
	}
	// The swapped log takes appends in its new dir, and a restart finds it there.
	mustAppend(t, cur, kbatch(t, 2000, CodecNone, kv{"k", "after"}), 7)
	cur.SetHighWatermark(cur.LogEndOffset())
	want = rawAll(t, cur, 4)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, err = OpenManager(dirs, 1, "c", testConfig(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	l, ok := m.Get("t", 0)
	if !ok || filepath.Dir(l.Dir()) != dirs[1] {
		t.Fatal("log not reloaded from the new dir")
	}
	if got := rawAll(t, l, 4); !bytes.Equal(got, want) || l.LogStartOffset() != 4 || l.HighWatermark() != 41 {
		t.Fatalf("reloaded log differs: start %d hw %d", l.LogStartOffset(), l.HighWatermark())
	}
}

func TestFutureLogRestartAndCancel(t *testing.T) {
	m, dirs := twoDirManager(t)
	tp := TopicPartition{"t", 0}
	cur, _ := m.GetOrCreate("t", 0, [16]byte{1}, testConfig())
	for i := 0; i < 5; i++ {
		mustAppend(t, cur, kbatch(t, 1000, CodecNone, kv{"k", "v"}), 0)
	}
	m.SetPreferredDir(tp, dirs[1])
	fut, _, _ := m.CreateFuture(tp, testConfig())
	res, _ := cur.Read(0, 1, -1, true)
	if _, err := fut.AppendAsFollower(res.Records); err != nil {
		t.Fatal(err)
	}
	futDir := fut.Dir()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// A restart mid-move loads the future log as the partition's future log.
	m, err := OpenManager(dirs, 1, "c", testConfig(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	fut, fdir, ok := m.Future(tp)
	if !ok || fdir != dirs[1] || fut.Dir() != futDir || fut.LogEndOffset() != 1 {
		t.Fatalf("future log after restart: %v %s", ok, fdir)
	}
	if l, ok := m.Get("t", 0); !ok || filepath.Dir(l.Dir()) != dirs[0] || l.LogEndOffset() != 5 {
		t.Fatal("current log after restart")
	}
	// Cancelling drops the future log's dir.
	if err := m.DeleteFuture(tp); err != nil {
		t.Fatal(err)
	}
	if n := dirNames(t, dirs[1]); len(n) != 0 {
		t.Fatalf("future dir left: %v", n)
	}
	// Deleting a partition mid-move removes both logs.
	m.SetPreferredDir(tp, dirs[1])
	if _, _, err := m.CreateFuture(tp, testConfig()); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete("t", 0); err != nil {
		t.Fatal(err)
	}
	if n := append(dirNames(t, dirs[0]), dirNames(t, dirs[1])...); len(n) != 0 {
		t.Fatalf("dirs left after delete: %v", n)
	}
	if _, _, ok := m.Future(tp); ok {
		t.Fatal("future log still listed")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOrphanFutureLogPromoted(t *testing.T) {
	m, dirs := twoDirManager(t)
	tp := TopicPartition{"t", 0}
	cur, _ := m.GetOrCreate("t", 0, [16]byte{1}, testConfig())
	for i := 0; i < 5; i++ {
		mustAppend(t, cur, kbatch(t, 1000, CodecNone, kv{"k", "v"}), 0)
	}
	want := rawAll(t, cur, 0)
	m.SetPreferredDir(tp, dirs[1])
	fut, _, _ := m.CreateFuture(tp, testConfig())
	copyAll(t, cur, fut)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// A stop after the swap's first rename: the current log is a -delete dir.
	if err := os.Rename(filepath.Join(dirs[0], "t-0"), filepath.Join(dirs[0], deleteDirName(tp))); err != nil {
		t.Fatal(err)
	}
	m, err := OpenManager(dirs, 1, "c", testConfig(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	l, ok := m.Get("t", 0)
	if _, _, moving := m.Future(tp); !ok || moving || l.Dir() != filepath.Join(dirs[1], "t-0") {
		t.Fatalf("after the restart: current %v, future %v", ok, moving)
	}
	if !bytes.Equal(rawAll(t, l, 0), want) {
		t.Fatal("promoted log differs")
	}
	if n := append(dirNames(t, dirs[0]), dirNames(t, dirs[1])...); len(n) != 1 {
		t.Fatalf("dirs %v", n)
	}
}

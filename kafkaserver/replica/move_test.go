package replica

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/quota"
)

// rawFrom reads every stored byte of l from off to its end.
func rawFrom(t *testing.T, l *klog.Log, off int64) []byte {
	t.Helper()
	var out []byte
	for off < l.LogEndOffset() {
		res, err := l.Read(off, 1<<20, -1, true)
		if err != nil || len(res.Records) == 0 {
			t.Fatalf("read at %d: %v", off, err)
		}
		out = append(out, res.Records...)
		var b kmsg.RecordBatch
		for p := res.Records; len(p) > 0; p = p[12+b.Length:] {
			if err := b.ReadFrom(p); err != nil {
				t.Fatal(err)
			}
			off = b.FirstOffset + int64(b.LastOffsetDelta) + 1
		}
	}
	return out
}

func stepUntilCaughtUp(t *testing.T, cur, fut *klog.Log) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		_, done, err := moveStep(cur, fut, 100)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return
		}
	}
	t.Fatal("future log never caught up")
}

func TestMoveStep(t *testing.T) {
	root := t.TempDir()
	cur, err := klog.Open(filepath.Join(root, "a", "t-0"), klog.DefaultConfig(), nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	fut, err := klog.Open(filepath.Join(root, "b", "t-0.0123456789abcdef0123456789abcdef-future"), klog.DefaultConfig(), nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer fut.Close()
	for i := 0; i < 10; i++ {
		if _, err := cur.AppendAsLeader(batch(3), int32(i/4)); err != nil {
			t.Fatal(err)
		}
	}
	cur.SetHighWatermark(21)
	stepUntilCaughtUp(t, cur, fut)
	if !bytes.Equal(rawFrom(t, cur, 0), rawFrom(t, fut, 0)) || fut.LogEndOffset() != 30 || fut.HighWatermark() != 21 {
		t.Fatalf("copy differs: end %d hw %d", fut.LogEndOffset(), fut.HighWatermark())
	}
	// The current log is truncated and takes other records in a new epoch: the future log is cut back as a
	// follower's would be and copies them.
	if err := cur.TruncateTo(24); err != nil {
		t.Fatal(err)
	}
	if _, err := cur.AppendAsLeader(batch(5), 5); err != nil {
		t.Fatal(err)
	}
	stepUntilCaughtUp(t, cur, fut)
	if !bytes.Equal(rawFrom(t, cur, 0), rawFrom(t, fut, 0)) || fut.LogEndOffset() != 29 || fut.LatestEpoch() != 5 {
		t.Fatalf("after truncation: end %d epoch %d", fut.LogEndOffset(), fut.LatestEpoch())
	}
	// A truncation back into an epoch the future log shares, to the same end with new records.
	if err := cur.TruncateTo(27); err != nil {
		t.Fatal(err)
	}
	if _, err := cur.AppendAsLeader(batch(2), 6); err != nil {
		t.Fatal(err)
	}
	stepUntilCaughtUp(t, cur, fut)
	if !bytes.Equal(rawFrom(t, cur, 0), rawFrom(t, fut, 0)) {
		t.Fatal("diverged future log not repaired")
	}
	// DeleteRecords past the future log's end: it restarts at the new log start.
	if err := fut.TruncateTo(3); err != nil {
		t.Fatal(err)
	}
	cur.SetHighWatermark(cur.LogEndOffset())
	if err := cur.DeleteRecordsBefore(10); err != nil {
		t.Fatal(err)
	}
	stepUntilCaughtUp(t, cur, fut)
	if fut.LogStartOffset() != 10 || !bytes.Equal(rawFrom(t, cur, 10), rawFrom(t, fut, 10)) {
		t.Fatalf("after DeleteRecords: start %d", fut.LogStartOffset())
	}
}

// newMoveManager is a replica manager over the given log dirs, leading t-0 (and t-1 when both).
func newMoveManager(t *testing.T, dirs []string, parts ...int32) (*Manager, *klog.Manager) {
	t.Helper()
	logs, err := klog.OpenManager(dirs, 1, "cluster", klog.DefaultConfig(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(Config{BrokerID: 1, Logs: logs,
		TopicConfig:       func(string) (klog.Config, error) { return klog.DefaultConfig(), nil },
		MinInsyncReplicas: func(string) int32 { return 1 }})
	for _, p := range parts {
		req := leaderAndIsr(1, 1, 1, []int32{1}, []int32{1})
		req.TopicStates[0].PartitionStates[0].Partition = p
		if ec := m.BecomeLeaderOrFollower(req).Topics[0].Partitions[0].ErrorCode; ec != 0 {
			t.Fatalf("LeaderAndIsr: %d", ec)
		}
	}
	return m, logs
}

// startMoves starts the manager's fetchers (and so its moves); cancel before Close, which waits for runIsr.
func startMoves(m *Manager) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	m.StartFetchers(ctx, FetcherConfig{PartitionMaxBytes: 200})
	return cancel
}

func waitMoved(t *testing.T, logs *klog.Manager, tp klog.TopicPartition, dir string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, _, moving := logs.Future(tp)
		if d, _ := logs.DirOf(tp); d == dir && !moving {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s not moved to %s", tp, dir)
}

func subdirs(t *testing.T, d string) []string {
	es, _ := os.ReadDir(d)
	var out []string
	for _, e := range es {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestAlterReplicaLogDir(t *testing.T) {
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "d1"), filepath.Join(root, "d2"), filepath.Join(root, "d3")}
	m, logs := newMoveManager(t, dirs, 0)
	tp := klog.TopicPartition{Topic: "t", Partition: 0}
	for i := 0; i < 20; i++ {
		if _, err := m.Append("t", 0, batch(2), 1); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := logs.Get("t", 0)
	want := rawFrom(t, cur, 0)
	if d, _ := logs.DirOf(tp); d != dirs[0] {
		t.Fatalf("log in %s", d)
	}
	// w-0 is known to the cluster but hosted elsewhere.
	um := kmsg.NewPtrUpdateMetadataRequest()
	um.Version = 5
	ps := kmsg.NewUpdateMetadataRequestTopicPartition()
	ps.Topic, ps.Leader, ps.ISR, ps.Replicas = "w", 2, []int32{2}, []int32{2}
	um.PartitionStates = append(um.PartitionStates, ps)
	m.Cache().Update(um)
	// Errors, in Kafka's order.
	long := strings.Repeat("x", 214)
	for _, c := range []struct {
		topic string
		part  int32
		dir   string
		want  error
	}{
		{long, 0, filepath.Join(root, "nope"), kerr.InvalidTopicException},
		{"t", 0, filepath.Join(root, "nope"), kerr.LogDirNotFound},
		{"u", 0, dirs[1], kerr.UnknownTopicOrPartition},
		{"w", 0, dirs[1], kerr.ReplicaNotAvailable},
		{"t", 0, dirs[0] + "/../d1", nil}, // where it is: nothing to do
	} {
		if err := m.AlterReplicaLogDir(c.topic, c.part, c.dir); !errors.Is(err, c.want) && err != c.want {
			t.Fatalf("%s-%d to %s: %v, want %v", c.topic, c.part, c.dir, err, c.want)
		}
	}
	if _, _, moving := logs.Future(tp); moving {
		t.Fatal("a move to the current dir created a future log")
	}

	// Throttled to one byte a second the copy stalls after its first round.
	m.MoveQuota().SetBound(1)
	if err := m.AlterReplicaLogDir("t", 0, dirs[1]); err != nil {
		t.Fatal(err)
	}
	cancel := startMoves(m)
	time.Sleep(500 * time.Millisecond)
	fut, fdir, ok := logs.Future(tp)
	if !ok || fdir != dirs[1] || fut.LogEndOffset() == 0 || fut.LogEndOffset() >= cur.LogEndOffset() {
		t.Fatalf("throttled copy: future %v in %s", ok, fdir)
	}
	if info := m.DescribeLogDirs(); len(info[1].Logs) != 1 || !info[1].Logs[0].IsFuture ||
		info[1].Logs[0].OffsetLag != cur.LogEndOffset()-fut.LogEndOffset() {
		t.Fatalf("DescribeLogDirs during the move: %+v", info)
	}
	// A new destination cancels the move under way.
	if err := m.AlterReplicaLogDir("t", 0, dirs[2]); err != nil {
		t.Fatal(err)
	}
	if n := subdirs(t, dirs[1]); len(n) != 0 {
		t.Fatalf("cancelled future log left: %v", n)
	}
	if _, fdir, _ := logs.Future(tp); fdir != dirs[2] {
		t.Fatalf("future log in %s", fdir)
	}
	m.MoveQuota().SetBound(quota.Unbounded)
	waitMoved(t, logs, tp, dirs[2])
	if l, _ := logs.Get("t", 0); l != cur || !bytes.Equal(rawFrom(t, cur, 0), want) {
		t.Fatal("records changed by the move")
	}
	for i := 0; len(subdirs(t, dirs[0])) != 0; i++ { // the -delete dir goes right after the swap
		if i == 500 {
			t.Fatalf("old dir keeps %v", subdirs(t, dirs[0]))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Appends go on in the new dir.
	if _, err := m.Append("t", 0, batch(1), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	m.Close()
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAlterReplicaLogDirResumesAfterRestart(t *testing.T) {
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "d1"), filepath.Join(root, "d2")}
	m, logs := newMoveManager(t, dirs, 0)
	tp := klog.TopicPartition{Topic: "t", Partition: 0}
	for i := 0; i < 20; i++ {
		if _, err := m.Append("t", 0, batch(2), 1); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := logs.Get("t", 0)
	want := rawFrom(t, cur, 0)
	// The copy never starts (no StartFetchers): the broker stops with the future log in place.
	if err := m.AlterReplicaLogDir("t", 0, dirs[1]); err != nil {
		t.Fatal(err)
	}
	// A partition not hosted yet: its log is created in the dir asked for.
	if err := m.AlterReplicaLogDir("t", 1, dirs[1]); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unhosted: %v", err)
	}
	m.Close()
	if err := logs.Close(); err != nil {
		t.Fatal(err)
	}
	m, logs = newMoveManager(t, dirs, 0, 1)
	defer logs.Close()
	defer m.Close()
	cancel := startMoves(m)
	defer cancel()
	if _, _, ok := logs.Future(tp); !ok {
		t.Fatal("future log not loaded")
	}
	if d, _ := logs.DirOf(klog.TopicPartition{Topic: "t", Partition: 1}); d != dirs[1] {
		t.Fatalf("t-1 created in %s", d)
	}
	waitMoved(t, logs, tp, dirs[1])
	l, _ := logs.Get("t", 0)
	if !bytes.Equal(rawFrom(t, l, 0), want) {
		t.Fatal("records changed by the resumed move")
	}
}

// startMovesWith starts the fetchers with threads log dir movers.
func startMovesWith(m *Manager, threads int32) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	m.StartFetchers(ctx, FetcherConfig{PartitionMaxBytes: 200, AlterLogDirsThreads: threads})
	return cancel
}

// otherDir is the one of two log dirs tp's log is not in.
func otherDir(t *testing.T, logs *klog.Manager, tp klog.TopicPartition, dirs []string) string {
	t.Helper()
	if d, _ := logs.DirOf(tp); d == dirs[0] {
		return dirs[1]
	}
	return dirs[0]
}

// moveThreadParts lists the partitions each log dir mover holds, by thread id.
func moveThreadParts(m *Manager) map[int32][]klog.TopicPartition {
	m.moveMu.Lock()
	defer m.moveMu.Unlock()
	out := map[int32][]klog.TopicPartition{}
	for id, t := range m.moveThreads {
		t.mu.Lock()
		for tp := range t.parts {
			out[id] = append(out[id], tp)
		}
		t.mu.Unlock()
		slices.SortFunc(out[id], func(a, b klog.TopicPartition) int { return cmp.Compare(a.Partition, b.Partition) })
	}
	return out
}

func TestNextMove(t *testing.T) {
	now := time.Now()
	tp := func(topic string, p int32) klog.TopicPartition {
		return klog.TopicPartition{Topic: topic, Partition: p}
	}
	parts := map[klog.TopicPartition]*move{
		tp("b", 0): {}, tp("a", 2): {}, tp("a", 10): {}, tp("c", 0): {retryAt: now.Add(time.Second)},
	}
	for _, c := range []struct {
		inProgress *klog.TopicPartition
		want       klog.TopicPartition
	}{
		{nil, tp("a", 2)}, // the lowest topic, then partition (not "a-10" < "a-2")
		{&klog.TopicPartition{Topic: "b"}, tp("b", 0)}, // the one under way stays
		{&klog.TopicPartition{Topic: "c"}, tp("a", 2)}, // unless delayed by an error
		{&klog.TopicPartition{Topic: "d"}, tp("a", 2)}, // or gone
	} {
		if got, ok := nextMove(parts, c.inProgress, now); !ok || got != c.want {
			t.Errorf("in progress %v: %v %v, want %v", c.inProgress, got, ok, c.want)
		}
	}
	if _, ok := nextMove(map[klog.TopicPartition]*move{tp("c", 0): parts[tp("c", 0)]}, nil, now); ok {
		t.Error("a delayed partition was picked")
	}
}

// TestMoveThreads checks that the moving partitions are spread over num.replica.alter.log.dirs.threads movers as
// getFetcherId spreads them, and that movers left without partitions end.
func TestMoveThreads(t *testing.T) {
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "d1"), filepath.Join(root, "d2")}
	m, logs := newMoveManager(t, dirs, 0, 1, 2, 3)
	defer logs.Close()
	defer m.Close()
	tp := func(p int32) klog.TopicPartition { return klog.TopicPartition{Topic: "t", Partition: p} }
	dst := map[int32]string{}
	for p := int32(0); p < 4; p++ {
		for i := 0; i < 10; i++ {
			if _, err := m.Append("t", p, batch(2), 1); err != nil {
				t.Fatal(err)
			}
		}
		dst[p] = otherDir(t, logs, tp(p), dirs)
		if err := m.AlterReplicaLogDir("t", p, dst[p]); err != nil {
			t.Fatal(err)
		}
	}
	m.MoveQuota().SetBound(1) // the copies stall after a round: the movers keep their partitions
	cancel := startMovesWith(m, 2)
	defer cancel()
	// "t".hashCode is 116: 31*116 + p is 3596 + p, so even partitions go to mover 0 and odd ones to mover 1.
	want := map[int32][]klog.TopicPartition{0: {tp(0), tp(2)}, 1: {tp(1), tp(3)}}
	for i := 0; !reflect.DeepEqual(moveThreadParts(m), want); i++ { // StartFetchers hands them over in the background
		if i == 500 {
			t.Fatalf("movers hold %v, want %v", moveThreadParts(m), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.MoveQuota().SetBound(quota.Unbounded)
	for p := int32(0); p < 4; p++ {
		waitMoved(t, logs, tp(p), dst[p])
	}
	for i := 0; len(moveThreadParts(m)) != 0; i++ {
		if i == 500 {
			t.Fatalf("movers left: %v", moveThreadParts(m))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMovesOneAtATime moves two partitions with one mover: it copies the lower one to its end and swaps it before
// it copies anything of the other (ReplicaAlterLogDirsThread's one partition at a time), throttled so that each
// copy takes many rounds.
func TestMovesOneAtATime(t *testing.T) {
	root := t.TempDir()
	dirs := []string{filepath.Join(root, "d1"), filepath.Join(root, "d2")}
	m, logs := newMoveManager(t, dirs, 0, 1)
	defer logs.Close()
	defer m.Close()
	m.moveQuota = quota.NewReplication(2, 100) // a short window, so the bound below paces every round
	m.MoveQuota().SetBound(2000)
	tp0, tp1 := klog.TopicPartition{Topic: "t", Partition: 0}, klog.TopicPartition{Topic: "t", Partition: 1}
	dst := map[klog.TopicPartition]string{}
	for _, tp := range []klog.TopicPartition{tp1, tp0} {
		for i := 0; i < 40; i++ {
			if _, err := m.Append("t", tp.Partition, batch(2), 1); err != nil {
				t.Fatal(err)
			}
		}
		dst[tp] = otherDir(t, logs, tp, dirs)
		if err := m.AlterReplicaLogDir("t", tp.Partition, dst[tp]); err != nil {
			t.Fatal(err)
		}
	}
	cancel := startMovesWith(m, 1)
	defer cancel()
	sawPartial := false
	for i := 0; ; i++ {
		if i == 6000 {
			t.Fatal("moves not done")
		}
		f0, _, moving0 := logs.Future(tp0)
		f1, _, moving1 := logs.Future(tp1)
		if !moving0 && !moving1 {
			break
		}
		var end0, end1 int64
		if moving0 {
			end0 = f0.LogEndOffset()
		}
		if moving1 {
			end1 = f1.LogEndOffset()
		}
		if moving0 && end1 > 0 {
			t.Fatalf("t-1 copied to %d while t-0 still moves (at %d)", end1, end0)
		}
		if moving0 && end0 > 0 && end0 < 80 {
			sawPartial = true
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !sawPartial {
		t.Fatal("t-0's copy was never seen under way")
	}
	for _, tp := range []klog.TopicPartition{tp0, tp1} {
		if d, _ := logs.DirOf(tp); d != dst[tp] {
			t.Fatalf("%s in %s, want %s", tp, d, dst[tp])
		}
	}
}

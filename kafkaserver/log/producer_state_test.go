package log

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// pbatch builds an idempotent producer's batch of n records, as a client sends it (base offset 0).
func pbatch(t testing.TB, pid int64, epoch int16, seq int32, n int, ts int64) []byte {
	t.Helper()
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Offset: int64(i), Timestamp: ts, Value: []byte("v")}
	}
	b, err := encodeV2(v2Header{LeaderEpoch: -1, LogAppendTime: -1, ProducerID: pid, ProducerEpoch: epoch,
		BaseSequence: seq, LastOffsetDelta: -1}, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func appendErr(t testing.TB, l *Log, b []byte, want error) {
	t.Helper()
	_, err := l.AppendAsLeader(b, 0)
	if !errors.Is(err, want) {
		t.Fatalf("append: got %v, want %v", err, want)
	}
}

func TestProducerSequenceRules(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	l := openTest(t, filepath.Join(t.TempDir(), "t-0"), testConfig(), c)
	defer l.Close()

	if info := mustAppend(t, l, pbatch(t, 7, 0, 0, 3, ts), 0); info.FirstOffset != 0 || info.LastOffset != 2 {
		t.Fatalf("first append %+v", info)
	}
	mustAppend(t, l, pbatch(t, 7, 0, 3, 2, ts), 0) // offsets 3-4
	// A gap, and a sequence behind the last that is no retained batch.
	appendErr(t, l, pbatch(t, 7, 0, 9, 1, ts), ErrOutOfOrderSequence)
	appendErr(t, l, pbatch(t, 7, 0, 1, 2, ts), ErrOutOfOrderSequence)

	// A retried batch gets the offsets of the first copy and nothing is written.
	end := l.LogEndOffset()
	info := mustAppend(t, l, pbatch(t, 7, 0, 0, 3, ts), 0)
	if info.FirstOffset != 0 || info.LastOffset != 2 || info.LogAppendTime != ts || l.LogEndOffset() != end {
		t.Fatalf("duplicate: %+v, log end %d (was %d)", info, l.LogEndOffset(), end)
	}
	// Only the last five batches are remembered.
	seq := int32(5)
	for range 5 {
		mustAppend(t, l, pbatch(t, 7, 0, seq, 1, ts), 0)
		seq++
	}
	appendErr(t, l, pbatch(t, 7, 0, 0, 3, ts), ErrOutOfOrderSequence)
	if info := mustAppend(t, l, pbatch(t, 7, 0, 6, 1, ts), 0); info.FirstOffset != 6 {
		t.Fatalf("duplicate of a retained batch at %d, want 6", info.FirstOffset)
	}

	// A new epoch starts at sequence 0; older epochs are fenced.
	appendErr(t, l, pbatch(t, 7, 1, 4, 1, ts), ErrOutOfOrderSequence)
	mustAppend(t, l, pbatch(t, 7, 1, 0, 1, ts), 0)
	appendErr(t, l, pbatch(t, 7, 0, 10, 1, ts), ErrInvalidProducerEpoch)
	// The duplicate check is per epoch: seq 0 of epoch 0 is not a duplicate of seq 0 of epoch 1.
	appendErr(t, l, pbatch(t, 7, 0, 0, 1, ts), ErrInvalidProducerEpoch)

	// A producer the partition does not know may start anywhere (its state may have been removed).
	mustAppend(t, l, pbatch(t, 8, 3, 42, 2, ts), 0)
	mustAppend(t, l, pbatch(t, 8, 3, 44, 1, ts), 0)
	// Non-idempotent batches are not checked.
	mustAppend(t, l, kbatch(t, ts, CodecNone, kv{"", "a"}), 0)

	got := l.ActiveProducers()
	want := []ProducerState{
		{ProducerID: 7, ProducerEpoch: 1, LastSequence: 0, LastTimestamp: ts, CoordinatorEpoch: -1, TxnStartOffset: -1},
		{ProducerID: 8, ProducerEpoch: 3, LastSequence: 44, LastTimestamp: ts, CoordinatorEpoch: -1, TxnStartOffset: -1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("producers %+v, want %+v", got, want)
	}
}

func TestProducerSequenceWraps(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	l := openTest(t, filepath.Join(t.TempDir(), "t-0"), testConfig(), c)
	defer l.Close()
	mustAppend(t, l, pbatch(t, 1, 0, 2147483646, 2, ts), 0) // sequences MaxInt32-1 and MaxInt32
	mustAppend(t, l, pbatch(t, 1, 0, 0, 1, ts), 0)
	if info := mustAppend(t, l, pbatch(t, 1, 0, 2147483646, 2, ts), 0); info.FirstOffset != 0 {
		t.Fatalf("duplicate across the wrap at %d", info.FirstOffset)
	}
}

func TestProducerStateSurvivesCleanRestart(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	dir := filepath.Join(t.TempDir(), "t-0")
	l := openTest(t, dir, testConfig(), c)
	mustAppend(t, l, pbatch(t, 5, 2, 0, 2, ts), 0)
	mustAppend(t, l, pbatch(t, 5, 2, 2, 3, ts), 0) // offsets 2-4
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "00000000000000000005.snapshot")
	data, err := os.ReadFile(snap)
	if err != nil {
		t.Fatalf("no snapshot at the log end after close: %v", err)
	}
	// Kafka's layout: version, CRC32C of the rest, then the entries.
	want := []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1}
	want = binary.BigEndian.AppendUint64(want, 5)
	want = binary.BigEndian.AppendUint16(want, 2)
	want = binary.BigEndian.AppendUint32(want, 4) // last sequence
	want = binary.BigEndian.AppendUint64(want, 4) // last offset
	want = binary.BigEndian.AppendUint32(want, 2) // offset delta
	want = binary.BigEndian.AppendUint64(want, uint64(ts))
	want = binary.BigEndian.AppendUint32(want, 0xffffffff) // coordinator epoch -1
	want = binary.BigEndian.AppendUint64(want, ^uint64(0)) // no transaction
	binary.BigEndian.PutUint32(want[2:], crc32.Checksum(want[6:], crc32.MakeTable(crc32.Castagnoli)))
	if !slices.Equal(data, want) {
		t.Fatalf("snapshot\n got % x\nwant % x", data, want)
	}

	l, err = OpenWithState(dir, testConfig(), c.now, quietLogger(), LoadState{CleanShutdown: true, RecoveryPoint: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The last batch is still recognised as a duplicate, and the sequence goes on.
	if info := mustAppend(t, l, pbatch(t, 5, 2, 2, 3, ts), 0); info.FirstOffset != 2 || l.LogEndOffset() != 5 {
		t.Fatalf("duplicate after restart at %d, log end %d", info.FirstOffset, l.LogEndOffset())
	}
	appendErr(t, l, pbatch(t, 5, 2, 9, 1, ts), ErrOutOfOrderSequence)
	appendErr(t, l, pbatch(t, 5, 1, 5, 1, ts), ErrInvalidProducerEpoch)
	mustAppend(t, l, pbatch(t, 5, 2, 5, 1, ts), 0)
}

// TestProducerStateRebuiltFromLog checks recovery from an older snapshot plus the log after it, and from the log
// alone.
func TestProducerStateRebuiltFromLog(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	dir := filepath.Join(t.TempDir(), "t-0")
	l := openTest(t, dir, testConfig(), c)
	mustAppend(t, l, pbatch(t, 1, 0, 0, 2, ts), 0) // 0-1
	mustAppend(t, l, pbatch(t, 2, 0, 0, 1, ts), 0) // 2
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, pbatch(t, 1, 0, 2, 2, ts), 0) // 3-4
	mustAppend(t, l, pbatch(t, 3, 4, 7, 1, ts), 0) // 5
	if got := l.ProducerSnapshotOffsets(); !slices.Equal(got, []int64{3}) {
		t.Fatalf("snapshots after roll %v, want [3]", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, l *Log) {
		t.Helper()
		want := []ProducerState{
			{ProducerID: 1, ProducerEpoch: 0, LastSequence: 3, LastTimestamp: ts, CoordinatorEpoch: -1, TxnStartOffset: -1},
			{ProducerID: 2, ProducerEpoch: 0, LastSequence: 0, LastTimestamp: ts, CoordinatorEpoch: -1, TxnStartOffset: -1},
			{ProducerID: 3, ProducerEpoch: 4, LastSequence: 7, LastTimestamp: ts, CoordinatorEpoch: -1, TxnStartOffset: -1},
		}
		if got := l.ActiveProducers(); !slices.Equal(got, want) {
			t.Fatalf("producers %+v, want %+v", got, want)
		}
		if info := mustAppend(t, l, pbatch(t, 1, 0, 2, 2, ts), 0); info.FirstOffset != 3 {
			t.Fatalf("duplicate at %d, want 3", info.FirstOffset)
		}
		appendErr(t, l, pbatch(t, 1, 0, 5, 1, ts), ErrOutOfOrderSequence)
	}
	reopen := func(t *testing.T, remove ...string) {
		t.Helper()
		for _, r := range remove {
			if err := os.Remove(filepath.Join(dir, r)); err != nil {
				t.Fatal(err)
			}
		}
		// A crash: no clean-shutdown marker, recovery from the start.
		l, err := OpenWithState(dir, testConfig(), c.now, quietLogger(), LoadState{})
		if err != nil {
			t.Fatal(err)
		}
		check(t, l)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("older snapshot and the tail", func(t *testing.T) { reopen(t, "00000000000000000006.snapshot") })
	t.Run("log only", func(t *testing.T) {
		reopen(t, "00000000000000000003.snapshot", "00000000000000000006.snapshot")
	})
	t.Run("corrupt snapshot", func(t *testing.T) {
		p := filepath.Join(dir, "00000000000000000006.snapshot")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)-1] ^= 1
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		reopen(t)
	})
	t.Run("clean shutdown without snapshots", func(t *testing.T) {
		// Kafka's upgrade shortcut: no scan, empty state, so any sequence is accepted.
		for _, off := range []string{"00000000000000000003.snapshot", "00000000000000000006.snapshot"} {
			_ = os.Remove(filepath.Join(dir, off))
		}
		l, err := OpenWithState(dir, testConfig(), c.now, quietLogger(), LoadState{CleanShutdown: true, RecoveryPoint: 6})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if n := len(l.ActiveProducers()); n != 0 {
			t.Fatalf("%d producers loaded", n)
		}
		if got := l.ProducerSnapshotOffsets(); !slices.Equal(got, []int64{3, 6}) {
			t.Fatalf("snapshots %v, want [3 6]", got)
		}
		mustAppend(t, l, pbatch(t, 1, 0, 100, 1, ts), 0)
	})
}

func TestProducerStateTruncation(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	dir := filepath.Join(t.TempDir(), "t-0")
	l := openTest(t, dir, testConfig(), c)
	defer l.Close()
	mustAppend(t, l, pbatch(t, 1, 0, 0, 2, ts), 0) // 0-1
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, pbatch(t, 1, 0, 2, 2, ts), 0) // 2-3
	if err := l.TakeProducerSnapshot(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, pbatch(t, 1, 0, 4, 2, ts), 0) // 4-5
	if err := l.TruncateTo(4); err != nil {
		t.Fatal(err)
	}
	if got := l.ProducerSnapshotOffsets(); !slices.Equal(got, []int64{2, 4}) {
		t.Fatalf("snapshots %v", got)
	}
	// Sequence 4 is new again after the truncation.
	if info := mustAppend(t, l, pbatch(t, 1, 0, 4, 2, ts), 0); info.FirstOffset != 4 || l.LogEndOffset() != 6 {
		t.Fatalf("append after truncation at %d", info.FirstOffset)
	}
	if err := l.TruncateTo(1); err != nil {
		t.Fatal(err)
	}
	// Offset 1 cuts the first batch: the producer is unknown and any sequence goes.
	if n := len(l.ActiveProducers()); n != 0 {
		t.Fatalf("%d producers after truncating below their batches", n)
	}
	if err := l.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	// As Kafka: every snapshot goes and none is written at the new start (the state there is empty).
	if got := l.ProducerSnapshotOffsets(); len(got) != 0 {
		t.Fatalf("snapshots after full truncation %v", got)
	}
}

func TestProducerStateFollowerAndExpiry(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	l := openTest(t, filepath.Join(t.TempDir(), "t-0"), testConfig(), c)
	defer l.Close()
	// Replicated batches are not sequence-checked but do build the state a new leader needs.
	b := pbatch(t, 9, 1, 10, 2, ts)
	batch(b).setBaseOffset(0)
	if _, err := l.AppendAsFollower(b); err != nil {
		t.Fatal(err)
	}
	if info := mustAppend(t, l, pbatch(t, 9, 1, 10, 2, ts), 0); info.FirstOffset != 0 {
		t.Fatalf("duplicate of a replicated batch at %d", info.FirstOffset)
	}
	appendErr(t, l, pbatch(t, 9, 1, 13, 1, ts), ErrOutOfOrderSequence)

	l.RemoveExpiredProducers(c.now().Add(time.Hour), DefaultProducerIDExpirationMs)
	if n := len(l.ActiveProducers()); n != 1 {
		t.Fatalf("%d producers before expiry", n)
	}
	l.RemoveExpiredProducers(c.now().Add(7*24*time.Hour), DefaultProducerIDExpirationMs)
	if n := len(l.ActiveProducers()); n != 0 {
		t.Fatalf("%d producers after expiry", n)
	}
	mustAppend(t, l, pbatch(t, 9, 1, 13, 1, ts), 0)
}

func TestProducerStateRetention(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	cfg := testConfig()
	cfg.RetentionMs = 1000
	l := openTest(t, filepath.Join(t.TempDir(), "t-0"), cfg, c)
	defer l.Close()
	mustAppend(t, l, pbatch(t, 1, 0, 0, 1, ts), 0)
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, pbatch(t, 1, 0, 1, 1, ts+5000), 0)
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	l.SetHighWatermark(l.LogEndOffset())
	n, err := l.EnforceRetention(c.now().Add(3 * time.Second))
	if err != nil || n != 1 {
		t.Fatalf("retention deleted %d (%v)", n, err)
	}
	// A deleted segment takes the snapshot at its base (none here: 0 had none); the producer itself stays
	// (Kafka 2.8 keeps the state when the log start moves).
	if got := l.ProducerSnapshotOffsets(); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("snapshots %v", got)
	}
	mustAppend(t, l, pbatch(t, 1, 0, 2, 1, ts+5000), 0)
	appendErr(t, l, pbatch(t, 1, 0, 9, 1, ts+5000), ErrOutOfOrderSequence)
}

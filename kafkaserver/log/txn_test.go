package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// tbatch builds a transactional producer's batch of n records, as a client sends it.
func tbatch(t testing.TB, pid int64, epoch int16, seq int32, n int, ts int64) []byte {
	t.Helper()
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Offset: int64(i), Timestamp: ts, Key: []byte("k"), Value: []byte("v")}
	}
	b, err := encodeV2(v2Header{LeaderEpoch: -1, LogAppendTime: -1, Transactional: true, ProducerID: pid,
		ProducerEpoch: epoch, BaseSequence: seq, LastOffsetDelta: -1}, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMarker(t testing.TB, l *Log, pid int64, epoch int16, coordEpoch int32, commit bool) AppendInfo {
	t.Helper()
	info, err := l.AppendTxnMarker(pid, epoch, coordEpoch, commit, 0)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func txnIndexBytes(t testing.TB, dir string, base int64) []byte {
	t.Helper()
	data, err := os.ReadFile(segmentFile(dir, base, txnIndexSuffix))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func abortedEntry(pid, first, last, lso int64) []byte {
	return abortedTxn{producerID: pid, firstOffset: first, lastOffset: last, lastStableOffset: lso}.appendTo(nil)
}

// TestLastStableOffset: a transaction holds the last stable offset at its first offset until its marker is below
// the high watermark; the high watermark bounds it too.
func TestLastStableOffset(t *testing.T) {
	for _, commit := range []bool{true, false} {
		name := map[bool]string{true: "commit", false: "abort"}[commit]
		t.Run(name, func(t *testing.T) {
			c := newClock()
			ts := c.now().UnixMilli()
			dir := filepath.Join(t.TempDir(), "t-0")
			l := openTest(t, dir, testConfig(), c)
			defer l.Close()
			mustAppend(t, l, kbatch(t, ts, CodecNone, kv{"", "a"}, kv{"", "b"}), 0) // 0-1
			mustAppend(t, l, tbatch(t, 7, 0, 0, 3, ts), 0)                          // 2-4
			mustAppend(t, l, kbatch(t, ts, CodecNone, kv{"", "c"}), 0)              // 5
			steps := []struct {
				hw, lso int64
			}{{1, 1}, {2, 2}, {5, 2}, {6, 2}}
			for _, s := range steps {
				l.SetHighWatermark(s.hw)
				if got := l.LastStableOffset(); got != s.lso {
					t.Fatalf("before the marker, hw %d: lso %d, want %d", s.hw, got, s.lso)
				}
			}
			if got := l.ActiveProducers()[0].TxnStartOffset; got != 2 {
				t.Fatalf("txn start %d", got)
			}
			info := mustMarker(t, l, 7, 0, 3, commit) // 6
			if info.FirstOffset != 6 || info.LastOffset != 6 {
				t.Fatalf("marker %+v", info)
			}
			// The marker is not yet below the high watermark: the transaction still holds the LSO back.
			if got := l.LastStableOffset(); got != 2 {
				t.Fatalf("marker above the hw: lso %d", got)
			}
			if got := l.Offsets().LastStableOffset; got != 2 {
				t.Fatalf("Offsets().LastStableOffset %d", got)
			}
			l.SetHighWatermark(7)
			if got := l.LastStableOffset(); got != 7 {
				t.Fatalf("marker below the hw: lso %d, want 7", got)
			}
			// A lower high watermark later does not bring the completed transaction back.
			l.SetHighWatermark(4)
			if got := l.LastStableOffset(); got != 4 {
				t.Fatalf("hw 4: lso %d", got)
			}
			got := txnIndexBytes(t, dir, 0)
			var want []byte
			if !commit {
				want = abortedEntry(7, 2, 6, 7)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("txn index %x, want %x", got, want)
			}
			p := l.ActiveProducers()[0]
			if p.TxnStartOffset != -1 || p.CoordinatorEpoch != 3 {
				t.Fatalf("producer after marker %+v", p)
			}
		})
	}
}

// TestTxnIndexLayout checks the 34-byte entry byte by byte, and the last stable offset it records when another
// producer's transaction is open.
func TestTxnIndexLayout(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	dir := filepath.Join(t.TempDir(), "t-0")
	l := openTest(t, dir, testConfig(), c)
	defer l.Close()
	mustAppend(t, l, tbatch(t, 0x0102030405060708, 1, 0, 2, ts), 0) // 0-1
	mustAppend(t, l, tbatch(t, 9, 0, 0, 1, ts), 0)                  // 2
	mustMarker(t, l, 0x0102030405060708, 1, 0, false)               // 3
	want := []byte{
		0, 0, // version
		1, 2, 3, 4, 5, 6, 7, 8, // producer id
		0, 0, 0, 0, 0, 0, 0, 0, // first offset
		0, 0, 0, 0, 0, 0, 0, 3, // last offset (the marker)
		0, 0, 0, 0, 0, 0, 0, 2, // last stable offset: producer 9's open transaction
	}
	if got := txnIndexBytes(t, dir, 0); !slices.Equal(got, want) {
		t.Fatalf("txn index %x, want %x", got, want)
	}
	l.SetHighWatermark(4)
	if got := l.LastStableOffset(); got != 2 {
		t.Fatalf("lso %d, want producer 9's first offset", got)
	}
	// The marker batch as a client reads it.
	res, err := l.Read(3, 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	bs := parseKmsg(t, res.Records)
	if len(bs) != 1 {
		t.Fatalf("%d batches", len(bs))
	}
	b := bs[0]
	if b.Attributes != 0x30 || b.ProducerID != 0x0102030405060708 || b.ProducerEpoch != 1 || b.FirstSequence != -1 ||
		b.NumRecords != 1 || b.FirstOffset != 3 || b.LastOffsetDelta != 0 || b.PartitionLeaderEpoch != 0 ||
		b.FirstTimestamp != ts || b.MaxTimestamp != ts {
		t.Fatalf("marker batch %+v", b)
	}
	recs, err := batch(res.Records).records()
	if err != nil {
		t.Fatal(err)
	}
	if k, v := recs[0].Key, recs[0].Value; !slices.Equal(k, []byte{0, 0, 0, 0}) || !slices.Equal(v, []byte{0, 0, 0, 0, 0, 0}) {
		t.Fatalf("marker key %x value %x", k, v)
	}
}

// TestTxnMarkerErrors: fencing by producer and coordinator epoch, markers refused from clients and on old formats,
// and a replicated marker taken whatever its epochs.
func TestTxnMarkerErrors(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	l := openTest(t, filepath.Join(t.TempDir(), "t-0"), testConfig(), c)
	defer l.Close()
	mustAppend(t, l, tbatch(t, 7, 2, 0, 1, ts), 0)
	mustMarker(t, l, 7, 2, 5, true)
	end := l.LogEndOffset()
	tests := []struct {
		name       string
		epoch      int16
		coordEpoch int32
		want       error
	}{
		{"older producer epoch", 1, 5, ErrInvalidProducerEpoch},
		{"older coordinator epoch", 2, 4, ErrTransactionCoordinatorFenced},
	}
	for _, tt := range tests {
		if _, err := l.AppendTxnMarker(7, tt.epoch, tt.coordEpoch, false, 0); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if l.LogEndOffset() != end {
		t.Fatalf("a refused marker was written: end %d, want %d", l.LogEndOffset(), end)
	}
	// A newer producer epoch (a bumped producer aborting) and an equal coordinator epoch are fine.
	mustMarker(t, l, 7, 3, 5, false)

	// Clients may not write control batches (LogValidator: INVALID_RECORD).
	rec := txnMarkerRecord(0, ts, true, 1)
	ctl, err := encodeV2(v2Header{LogAppendTime: -1, Transactional: true, Control: true, ProducerID: 8, BaseSequence: 0,
		LastOffsetDelta: -1}, []Record{rec})
	if err != nil {
		t.Fatal(err)
	}
	appendErr(t, l, ctl, ErrInvalidRecord)

	// A follower takes the leader's markers without the coordinator checks.
	f := openTest(t, filepath.Join(t.TempDir(), "t-0"), testConfig(), c)
	defer f.Close()
	res, err := l.Read(0, 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.AppendAsFollower(res.Records); err != nil {
		t.Fatal(err)
	}
	if got, want := f.ActiveProducers(), l.ActiveProducers(); !slices.Equal(got, want) {
		t.Fatalf("follower producers %+v, want %+v", got, want)
	}

	old := testConfig()
	old.MessageFormat = FormatV1
	o := openTest(t, filepath.Join(t.TempDir(), "t-0"), old, c)
	defer o.Close()
	if _, err := o.AppendTxnMarker(7, 0, 0, true, 0); !errors.Is(err, ErrUnsupportedForMessageFormat) {
		t.Fatalf("marker on magic 1: %v", err)
	}
}

// abortedLog writes: producer 1's transaction at 0-1, producer 2's at 2-3, abort 1 at 4, commit 2 at 5, producer
// 3's transaction at 6-7, abort 3 at 8, a plain batch at 9; every append gets an offset index entry but the first.
func abortedLog(t *testing.T, dir string, c *clock, roll bool) *Log {
	t.Helper()
	ts := c.now().UnixMilli()
	l := openTest(t, dir, testConfig(), c)
	mustAppend(t, l, tbatch(t, 1, 0, 0, 2, ts), 0)
	mustAppend(t, l, tbatch(t, 2, 0, 0, 2, ts), 0)
	mustMarker(t, l, 1, 0, 0, false)
	mustMarker(t, l, 2, 0, 0, true)
	if roll {
		if err := l.Roll(); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend(t, l, tbatch(t, 3, 0, 0, 2, ts), 0)
	mustMarker(t, l, 3, 0, 0, false)
	mustAppend(t, l, kbatch(t, ts, CodecNone, kv{"", "x"}), 0)
	l.SetHighWatermark(l.LogEndOffset())
	return l
}

func TestCollectAbortedTxns(t *testing.T) {
	for _, roll := range []bool{false, true} {
		c := newClock()
		l := abortedLog(t, filepath.Join(t.TempDir(), "t-0"), c, roll)
		defer l.Close()
		one, err := l.Read(0, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		first, err := nextBatch(one.Records)
		if err != nil {
			t.Fatal(err)
		}
		// A read stays in one segment: with the roll at 6 the bound of a read from below it is 6.
		tests := []struct {
			name             string
			offset           int64
			maxBytes         int32
			want, wantRolled []AbortedTxn
		}{
			{"everything", 0, 1 << 20, []AbortedTxn{{1, 0}, {3, 6}}, []AbortedTxn{{1, 0}}},
			// The first batch only: the bound is the next index entry (producer 2's batch, last offset 3).
			{"first batch", 0, int32(len(first)), []AbortedTxn{{1, 0}}, []AbortedTxn{{1, 0}}},
			{"from producer 2", 2, 1 << 20, []AbortedTxn{{1, 0}, {3, 6}}, []AbortedTxn{{1, 0}}},
			{"after the first abort", 5, 1 << 20, []AbortedTxn{{3, 6}}, []AbortedTxn{}},
			{"second segment", 6, 1 << 20, []AbortedTxn{{3, 6}}, []AbortedTxn{{3, 6}}},
			{"past every abort", 9, 1 << 20, []AbortedTxn{}, []AbortedTxn{}},
			{"at the end", 10, 1 << 20, []AbortedTxn{}, []AbortedTxn{}},
		}
		for _, tt := range tests {
			if roll {
				tt.want = tt.wantRolled
			}
			res, err := l.ReadCommitted(tt.offset, tt.maxBytes, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.AbortedTxns == nil || !slices.Equal(res.AbortedTxns, tt.want) {
				t.Errorf("roll %v, %s: aborted %v, want %v", roll, tt.name, res.AbortedTxns, tt.want)
			}
			reg, r, err := l.ReadRegionCommitted(tt.offset, tt.maxBytes, true, 2, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r != nil {
				r.File.Close()
			}
			if !slices.Equal(reg.AbortedTxns, tt.want) {
				t.Errorf("roll %v, %s: region read aborted %v, want %v", roll, tt.name, reg.AbortedTxns, tt.want)
			}
		}
		// Other reads carry none.
		if res, err := l.Read(0, 1<<20, -1, true); err != nil || res.AbortedTxns != nil {
			t.Errorf("uncommitted read: %v %v", res.AbortedTxns, err)
		}
	}
}

// TestReadCommittedStopsAtLSO: a read_committed read ends below an open transaction; the long poll's wake-up is the
// high watermark's.
func TestReadCommittedStopsAtLSO(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	l := openTest(t, filepath.Join(t.TempDir(), "t-0"), testConfig(), c)
	defer l.Close()
	mustAppend(t, l, kbatch(t, ts, CodecNone, kv{"", "a"}), 0) // 0
	mustAppend(t, l, tbatch(t, 4, 0, 0, 2, ts), 0)             // 1-2
	mustAppend(t, l, kbatch(t, ts, CodecNone, kv{"", "b"}), 0) // 3
	l.SetHighWatermark(4)
	res, err := l.ReadCommitted(0, 1<<20, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	bs := parseKmsg(t, res.Records)
	if len(bs) != 1 || bs[0].FirstOffset != 0 || res.LastStableOffset != 1 || res.HighWatermark != 4 {
		t.Fatalf("read %d batches, lso %d hw %d", len(bs), res.LastStableOffset, res.HighWatermark)
	}
	if res, err := l.ReadCommitted(1, 1<<20, true, nil); err != nil || len(res.Records) != 0 || res.AbortedTxns == nil {
		t.Fatalf("at the lso: %d bytes, aborted %v, %v", len(res.Records), res.AbortedTxns, err)
	}
	mustMarker(t, l, 4, 0, 0, true) // 4
	l.SetHighWatermark(5)
	res, err = l.ReadCommitted(1, 1<<20, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bs := parseKmsg(t, res.Records); len(bs) != 3 || res.LastStableOffset != 5 {
		t.Fatalf("after commit: %d batches, lso %d", len(bs), res.LastStableOffset)
	}
}

// TestTxnStateReload: the ongoing transaction and the transaction index survive a clean restart, and a recovery
// without snapshots or index rebuilds both from the log.
func TestTxnStateReload(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	dir := filepath.Join(t.TempDir(), "t-0")
	l := openTest(t, dir, testConfig(), c)
	mustAppend(t, l, tbatch(t, 1, 0, 0, 2, ts), 0) // 0-1
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, tbatch(t, 2, 0, 0, 1, ts), 0) // 2
	mustMarker(t, l, 1, 0, 7, false)               // 3: aborts 0-3 with producer 2 open
	mustAppend(t, l, tbatch(t, 5, 0, 0, 1, ts), 0) // 4
	mustMarker(t, l, 5, 0, 7, false)               // 5
	mustMarker(t, l, 2, 0, 7, true)                // 6
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, tbatch(t, 3, 0, 0, 2, ts), 0) // 7-8: stays open
	end := l.LogEndOffset()
	l.SetHighWatermark(end)
	wantIdx := append(abortedEntry(1, 0, 3, 2), abortedEntry(5, 4, 5, 2)...)
	if got := txnIndexBytes(t, dir, 2); !slices.Equal(got, wantIdx) {
		t.Fatalf("txn index %x, want %x", got, wantIdx)
	}
	wantProducers := l.ActiveProducers()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	check := func(name string, l *Log) {
		t.Helper()
		if got := l.LastStableOffset(); got != 7 {
			t.Errorf("%s: lso %d, want 7", name, got)
		}
		if got := l.ActiveProducers(); !slices.Equal(got, wantProducers) {
			t.Errorf("%s: producers %+v, want %+v", name, got, wantProducers)
		}
		if got := txnIndexBytes(t, dir, 2); !slices.Equal(got, wantIdx) {
			t.Errorf("%s: txn index %x, want %x", name, got, wantIdx)
		}
		if got := txnIndexBytes(t, dir, 0); got != nil {
			t.Errorf("%s: txn index of segment 0: %x", name, got)
		}
		// A read stays in one segment: from 0 the bound is segment 2's base.
		for _, r := range []struct {
			offset int64
			want   []AbortedTxn
		}{{0, []AbortedTxn{{1, 0}}}, {2, []AbortedTxn{{1, 0}, {5, 4}}}, {7, []AbortedTxn{}}} {
			res, err := l.ReadCommitted(r.offset, 1<<20, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.AbortedTxns, r.want) {
				t.Errorf("%s: aborted from %d %v, want %v", name, r.offset, res.AbortedTxns, r.want)
			}
		}
	}
	l, err := OpenWithState(dir, testConfig(), c.now, quietLogger(), LoadState{HighWatermark: end, CleanShutdown: true, RecoveryPoint: end})
	if err != nil {
		t.Fatal(err)
	}
	check("clean", l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash that lost the snapshots and the transaction index: everything comes back from the segments.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if filepath.Ext(e.Name()) == snapshotSuffix || filepath.Ext(e.Name()) == txnIndexSuffix {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	l, err = OpenWithState(dir, testConfig(), c.now, quietLogger(), LoadState{HighWatermark: end})
	if err != nil {
		t.Fatal(err)
	}
	check("recovered", l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// A corrupt index (a marker outside its segment) is rebuilt too.
	if err := os.WriteFile(segmentFile(dir, 2, txnIndexSuffix), abortedEntry(1, 0, 1, 2), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = OpenWithState(dir, testConfig(), c.now, quietLogger(), LoadState{HighWatermark: end, CleanShutdown: true, RecoveryPoint: end})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	check("corrupt index", l)
}

// TestTxnTruncation: truncating below a marker reopens its transaction and drops its index entry.
func TestTxnTruncation(t *testing.T) {
	for _, commit := range []bool{true, false} {
		c := newClock()
		ts := c.now().UnixMilli()
		dir := filepath.Join(t.TempDir(), "t-0")
		l := openTest(t, dir, testConfig(), c)
		mustAppend(t, l, kbatch(t, ts, CodecNone, kv{"", "a"}), 0) // 0
		mustAppend(t, l, tbatch(t, 1, 0, 0, 2, ts), 0)             // 1-2
		mustMarker(t, l, 1, 0, 0, commit)                          // 3
		mustAppend(t, l, kbatch(t, ts, CodecNone, kv{"", "b"}), 0) // 4
		l.SetHighWatermark(5)
		if got := l.LastStableOffset(); got != 5 {
			t.Fatalf("lso %d", got)
		}
		if err := l.TruncateTo(3); err != nil {
			t.Fatal(err)
		}
		if got, hw := l.LastStableOffset(), l.HighWatermark(); got != 1 || hw != 3 {
			t.Fatalf("commit %v: after truncation lso %d hw %d, want 1 and 3", commit, got, hw)
		}
		if p := l.ActiveProducers(); len(p) != 1 || p[0].TxnStartOffset != 1 {
			t.Fatalf("producers %+v", p)
		}
		if got := txnIndexBytes(t, dir, 0); len(got) != 0 {
			t.Fatalf("txn index after truncation %x", got)
		}
		// The marker again, now as a follower gets it.
		mustMarker(t, l, 1, 0, 0, commit)
		l.SetHighWatermark(4)
		if got := l.LastStableOffset(); got != 4 {
			t.Fatalf("lso after the marker again %d", got)
		}
		l.Close()
	}
}

// TestTxnFollowerAppend: a follower's append of a transaction and its abort in one go indexes the abort.
func TestTxnFollowerAppend(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	leader := openTest(t, filepath.Join(t.TempDir(), "t-0"), testConfig(), c)
	defer leader.Close()
	mustAppend(t, leader, tbatch(t, 1, 0, 0, 2, ts), 0)
	mustAppend(t, leader, tbatch(t, 2, 0, 0, 1, ts), 0)
	mustMarker(t, leader, 1, 0, 0, false)
	res, err := leader.Read(0, 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "t-0")
	f := openTest(t, dir, testConfig(), c)
	defer f.Close()
	if _, err := f.AppendAsFollower(res.Records); err != nil {
		t.Fatal(err)
	}
	if got, want := txnIndexBytes(t, dir, 0), abortedEntry(1, 0, 3, 2); !slices.Equal(got, want) {
		t.Fatalf("follower txn index %x, want %x", got, want)
	}
	f.SetHighWatermark(4)
	if got := f.LastStableOffset(); got != 2 {
		t.Fatalf("follower lso %d", got)
	}
}

// TestCleanerRemovesAbortedTxns: compaction removes the batches of an aborted transaction (they never supersede
// committed records either) and keeps the abort marker and its transaction index entry in the cleaned segment
// while that cleaning removed data of it; a later cleaning past the tombstone horizon, meeting no data of the
// transaction, removes the marker and the entry. It does not clean past an open transaction.
func TestCleanerRemovesAbortedTxns(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 100 // one batch per segment, and no two segments merge
	cfg.DeleteRetentionMs = 1000
	e := newCleanerEnv(t, cfg, DefaultCleanerConfig())
	ts := e.clk.now().UnixMilli()
	// Every transaction index entry of the log, in offset order.
	txnIndex := func() []byte {
		files, err := filepath.Glob(filepath.Join(e.l.Dir(), "*"+txnIndexSuffix))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(files)
		var out []byte
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, data...)
		}
		return out
	}
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"a", val("committed")})) // 0
	txn := func(pid int64, seq int32, k, v string) []byte {
		b, err := encodeV2(v2Header{LeaderEpoch: -1, LogAppendTime: -1, Transactional: true, ProducerID: pid,
			BaseSequence: seq, LastOffsetDelta: -1}, []Record{{Timestamp: ts, Key: []byte(k), Value: []byte(v)}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	e.append(txn(5, 0, "a", "aborted"))                             // 1
	mustMarker(t, e.l, 5, 0, 0, false)                              // 2
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"b", val("x")})) // 3
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"b", val("y")})) // 4
	// Producer 5 goes on: the aborted batch is not its last, which cleaning would keep as an empty header.
	e.append(txn(5, 1, "c", "later")) // 5
	mustMarker(t, e.l, 5, 0, 0, true) // 6
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	e.l.SetHighWatermark(e.l.LogEndOffset())
	idx := txnIndex()
	if !slices.Equal(idx, abortedEntry(5, 1, 2, 3)) {
		t.Fatalf("txn index before cleaning %x", idx)
	}
	contents := func() (data, markers []string) {
		var all []byte
		for next := int64(0); next < e.l.LogEndOffset(); {
			r, err := e.l.Read(next, 1<<20, -1, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Records) == 0 {
				break
			}
			all = append(all, r.Records...)
			for p := r.Records; len(p) > 0; {
				b, err := nextBatch(p)
				if err != nil {
					t.Fatal(err)
				}
				p = p[len(b):]
				next = b.lastOffset() + 1
			}
		}
		for p := all; len(p) > 0; {
			b, err := nextBatch(p)
			if err != nil {
				t.Fatal(err)
			}
			p = p[len(b):]
			recs, err := b.records()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if b.isControl() {
					markers = append(markers, fmt.Sprint(r.Offset))
				} else {
					data = append(data, fmt.Sprintf("%s=%s@%d", r.Key, r.Value, r.Offset))
				}
			}
		}
		return data, markers
	}
	if !e.clean() {
		t.Fatal("nothing cleaned")
	}
	// The aborted record goes; the committed a stays (the aborted one never counted); b's old value goes.
	data, markers := contents()
	if want := []string{"a=committed@0", "b=y@4", "c=later@5"}; !slices.Equal(data, want) {
		t.Fatalf("after cleaning %v, want %v", data, want)
	}
	if want := []string{"2", "6"}; !slices.Equal(markers, want) {
		t.Fatalf("markers after cleaning %v, want %v", markers, want)
	}
	if got := txnIndex(); !slices.Equal(got, idx) {
		t.Fatalf("txn index after cleaning %x, want %x", got, idx)
	}
	res, err := e.l.ReadCommitted(2, 1<<20, true, nil)
	if err != nil || !slices.Equal(res.AbortedTxns, []AbortedTxn{{5, 1}}) {
		t.Fatalf("aborted after cleaning %v, %v", res.AbortedTxns, err)
	}

	// Dirty again, with the cleaned segments up to the abort marker's older than delete.retention.ms before the
	// last clean one: the abort marker, with no data of its transaction left, goes with its index entry. The
	// commit marker stays: the cleaning met its transaction's batch.
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"b", val("z")})) // 7
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	e.l.SetHighWatermark(e.l.LogEndOffset())
	old := time.Now().Add(-10 * time.Second)
	for base := int64(0); base <= 2; base++ {
		err := os.Chtimes(segmentFile(e.l.Dir(), base, logSuffix), old, old)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if !e.clean() {
		t.Fatal("nothing cleaned the second time")
	}
	data, markers = contents()
	if want := []string{"a=committed@0", "c=later@5", "b=z@7"}; !slices.Equal(data, want) {
		t.Fatalf("after the second cleaning %v, want %v", data, want)
	}
	if want := []string{"6"}; !slices.Equal(markers, want) {
		t.Fatalf("markers after the second cleaning %v, want %v", markers, want)
	}
	if got := txnIndex(); len(got) != 0 {
		t.Fatalf("txn index after the second cleaning %x, want none", got)
	}
	if res, err := e.l.ReadCommitted(2, 1<<20, true, nil); err != nil || len(res.AbortedTxns) != 0 {
		t.Fatalf("aborted after the second cleaning %v, %v", res.AbortedTxns, err)
	}

	// An open transaction stops the cleaner at its first offset.
	open := e.l.LogEndOffset()
	e.append(txn(6, 0, "b", "open"))
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"b", val("w")}))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	e.l.SetHighWatermark(e.l.LogEndOffset())
	e.clean()
	if o, _ := e.c.FirstDirtyOffset(TopicPartition{"t", 0}); o > open {
		t.Fatalf("cleaned up to %d, past the open transaction at %d", o, open)
	}
}

func TestTxnMarkerRecordParse(t *testing.T) {
	be := binary.BigEndian
	for _, tt := range []struct {
		key, value []byte
		ok, commit bool
	}{
		{[]byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0, 9}, true, true},
		{[]byte{0, 0, 0, 0}, []byte{0, 0, 0, 0, 0, 9}, true, false},
		{[]byte{0, 1, 0, 1}, []byte{0, 3, 0, 0, 0, 9}, true, true}, // newer versions read as 0
		{[]byte{0, 0, 0, 2}, []byte{0, 0, 0, 0, 0, 9}, false, false},
		{[]byte{0, 0, 0}, []byte{0, 0, 0, 0, 0, 9}, false, false},
		{[]byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 9}, false, false},
		{[]byte{0xff, 0xff, 0, 1}, []byte{0, 0, 0, 0, 0, 9}, false, false},
	} {
		m, err := parseTxnMarker(Record{Key: tt.key, Value: tt.value})
		if (err == nil) != tt.ok || (tt.ok && (m.commit != tt.commit || m.coordinatorEpoch != int32(be.Uint32(tt.value[2:])))) {
			t.Errorf("parse %x %x: %+v %v", tt.key, tt.value, m, err)
		}
	}
}

// TestAppendAsCoordinator: the coordinators' transactional batches all carry sequence 0; they are neither
// duplicates nor out of sequence, but an older producer epoch is still refused.
func TestAppendAsCoordinator(t *testing.T) {
	c := newClock()
	ts := c.now().UnixMilli()
	l := openTest(t, filepath.Join(t.TempDir(), "t-0"), testConfig(), c)
	defer l.Close()
	for want := int64(0); want < 2; want++ {
		info, err := l.AppendAsCoordinator(tbatch(t, 4, 1, 0, 1, ts), 0)
		if err != nil || info.FirstOffset != want {
			t.Fatalf("coordinator append %d: %+v %v", want, info, err)
		}
	}
	if _, err := l.AppendAsCoordinator(tbatch(t, 4, 0, 0, 1, ts), 0); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("older epoch: %v", err)
	}
	// The same batch from a client is a duplicate of the first.
	if info := mustAppend(t, l, tbatch(t, 4, 1, 0, 1, ts), 0); info.FirstOffset != 0 || l.LogEndOffset() != 2 {
		t.Fatalf("client duplicate %+v", info)
	}
	mustMarker(t, l, 4, 1, 0, true)
	l.SetHighWatermark(3)
	if got := l.LastStableOffset(); got != 3 {
		t.Fatalf("lso %d", got)
	}
}

package log

import (
	"fmt"
	"path/filepath"
	"testing"
)

// readSeq reads the log from offset to its end in fetches of maxBytes, as a consumer does, and returns the values.
func readSeq(t *testing.T, l *Log, offset int64, maxBytes int32) []string {
	t.Helper()
	var out []string
	for offset < l.LogEndOffset() {
		res, err := l.Read(offset, maxBytes, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := DecodeRecords(res.Records)
		if err != nil || len(recs) == 0 {
			t.Fatalf("read at %d: %d records, %v", offset, len(recs), err)
		}
		for _, r := range recs {
			if r.Offset >= offset {
				out = append(out, string(r.Value))
			}
		}
		offset = recs[len(recs)-1].Offset + 1
	}
	return out
}

// TestReadHint checks that reads which continue where the last one stopped (served from the read hint) return what
// a fresh lookup returns, across rolls, truncation and rewrites of the truncated offsets.
func TestReadHint(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 600
	l := openTest(t, filepath.Join(t.TempDir(), "hint-0"), cfg, newClock())
	defer l.Close()
	var want []string
	for i := range 30 {
		v := fmt.Sprintf("a%02d", i)
		mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", v}, kv{"k", v + "'"}), 0)
		want = append(want, v, v+"'")
	}
	if l.NumSegments() < 3 {
		t.Fatalf("%d segments; the test wants rolls", l.NumSegments())
	}
	for _, mb := range []int32{1, 150, 1 << 20} {
		if got := readSeq(t, l, 0, mb); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("max %d: %v", mb, got)
		}
	}
	// A consumer stopped at 40 (in one big segment); the log is cut at 30 and rewritten with larger batches:
	// the bytes where offset 40 was now hold the middle of another batch.
	l = openTest(t, filepath.Join(t.TempDir(), "hint-1"), testConfig(), newClock())
	defer l.Close()
	want = want[:0]
	for i := range 30 {
		v := fmt.Sprintf("a%02d", i)
		mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", v}, kv{"k", v + "'"}), 0)
		want = append(want, v, v+"'")
	}
	if _, err := l.Read(38, 1, -1, true); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateTo(30); err != nil {
		t.Fatal(err)
	}
	want = want[:30]
	for i := range 10 {
		v := fmt.Sprintf("b%02d", i)
		mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", v}, kv{"k", v + "'"}, kv{"k", v + "''"}), 0)
		want = append(want, v, v+"'", v+"''")
	}
	if got := readSeq(t, l, 40, 1); fmt.Sprint(got) != fmt.Sprint(want[40:]) {
		t.Fatalf("after truncation, from 40: %v", got)
	}
	if got := readSeq(t, l, 0, 150); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after truncation: %v", got)
	}
	// Reading at the log end and appending after: the hint at the end of the active segment stays good.
	res, err := l.Read(l.LogEndOffset(), 1<<20, -1, true)
	if err != nil || len(res.Records) != 0 {
		t.Fatalf("%d bytes, %v", len(res.Records), err)
	}
	end := l.LogEndOffset()
	mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", "c"}), 0)
	if got := readSeq(t, l, end, 1<<20); fmt.Sprint(got) != "[c]" {
		t.Fatalf("after the end: %v", got)
	}
}

// TestRollFlushesInBackground checks that a roll leaves the fsync of the rolled segment to a background flush, which
// then moves the recovery point to the new segment's base, and that Close waits for it.
func TestRollFlushesInBackground(t *testing.T) {
	l := openTest(t, filepath.Join(t.TempDir(), "roll-0"), testConfig(), newClock())
	for range 5 {
		mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", "v"}), 0)
	}
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	l.bgFlush.Wait()
	if rp := l.RecoveryPoint(); rp != 5 {
		t.Fatalf("recovery point %d after the roll's flush, want 5", rp)
	}
	mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", "v"}), 0)
	if err := l.Roll(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", "v"}), 0)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if rp := l.RecoveryPoint(); rp != 7 {
		t.Fatalf("recovery point %d after close, want 7", rp)
	}
	// A truncation while a flush runs keeps the recovery point from moving past it.
	l = openTest(t, filepath.Join(t.TempDir(), "roll-1"), testConfig(), newClock())
	defer l.Close()
	for range 5 {
		mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", "v"}), 0)
	}
	l.mu.Lock()
	if err := l.rollLocked(l.next); err != nil {
		t.Fatal(err)
	}
	l.truncations++ // as TruncateTo would, before the flush takes the lock
	l.mu.Unlock()
	l.bgFlush.Wait()
	if rp := l.RecoveryPoint(); rp != 0 {
		t.Fatalf("recovery point %d after a flush that saw a truncation, want 0", rp)
	}
}

package log

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAppendReadRoundTrip(t *testing.T) {
	c := newClock()
	l := openTest(t, filepath.Join(t.TempDir(), "foo-0"), testConfig(), c)
	defer l.Close()
	var sent [][]byte
	for i, codec := range []int8{CodecNone, CodecGzip, CodecSnappy, CodecLZ4, CodecZstd} {
		b := kbatch(t, 1000+int64(i), codec, kv{"k", fmt.Sprint("a", i)}, kv{"", "b"}, kv{"k2", "c"})
		info := mustAppend(t, l, b, 5)
		if info.FirstOffset != int64(3*i) || info.LastOffset != int64(3*i+2) || info.NumMessages != 3 {
			t.Fatalf("append %d: %+v", i, info)
		}
		sent = append(sent, b)
	}
	if l.LogEndOffset() != 15 {
		t.Fatalf("LEO %d", l.LogEndOffset())
	}
	res, err := l.Read(0, 1<<20, -1, false)
	if err != nil {
		t.Fatal(err)
	}
	bs := parseKmsg(t, res.Records)
	if len(bs) != 5 {
		t.Fatalf("got %d batches", len(bs))
	}
	// Stored bytes equal the sent bytes except base offset and leader epoch (outside the CRC).
	for i, b := range bs {
		if b.FirstOffset != int64(3*i) || b.PartitionLeaderEpoch != 5 {
			t.Fatalf("batch %d: offset %d epoch %d", i, b.FirstOffset, b.PartitionLeaderEpoch)
		}
		stored, _ := nextBatch(res.Records)
		res.Records = res.Records[len(stored):]
		if !bytes.Equal(stored[16:], sent[i][16:]) {
			t.Fatalf("batch %d was re-encoded", i)
		}
	}
	recs := readAll(t, l, 0)
	if len(recs) != 15 || string(recs[14].Value) != "c" || recs[1].Key != nil || recs[3].Timestamp != 1001 {
		t.Fatalf("records: %+v", recs)
	}
	// Offsets inside a batch and at the end.
	if r, _ := l.Read(4, 1<<20, -1, false); len(parseKmsg(t, r.Records)) == 0 || parseKmsg(t, r.Records)[0].FirstOffset != 3 {
		t.Fatal("read at 4 should start with the batch at 3")
	}
	if r, err := l.Read(15, 100, -1, false); err != nil || len(r.Records) != 0 {
		t.Fatalf("read at LEO: %v %d", err, len(r.Records))
	}
	if _, err := l.Read(16, 100, -1, false); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past LEO: %v", err)
	}
	// maxOffset (high watermark) hides batches that end at or past it.
	if r, _ := l.Read(0, 1<<20, 6, false); len(parseKmsg(t, r.Records)) != 2 {
		t.Fatal("high watermark not respected")
	}
	// maxBytes: whole batches only; minOneMessage returns one oversize batch.
	// Without minOneMessage, an oversize first batch is cut at maxBytes (Kafka's firstEntryIncomplete slice).
	whole, _ := l.Read(0, 1<<20, -1, false)
	if r, _ := l.Read(0, 10, -1, false); !bytes.Equal(r.Records, whole.Records[:10]) || !r.FirstBatchTooLarge {
		t.Fatalf("a tiny maxBytes should give the first 10 bytes of the first batch: %x", r.Records)
	}
	if r, _ := l.Read(0, 0, -1, false); len(r.Records) != 0 {
		t.Fatal("maxBytes 0 should give nothing")
	}
	if r, _ := l.Read(0, 10, 2, false); len(r.Records) != 0 || r.FirstBatchTooLarge {
		t.Fatal("a first batch above the high watermark is not sliced")
	}
	if r, _ := l.Read(0, 10, -1, true); len(parseKmsg(t, r.Records)) != 1 {
		t.Fatal("minOneMessage should return one batch")
	}
}

func TestAppendValidation(t *testing.T) {
	c := newClock()
	cfg := testConfig()
	cfg.CleanupPolicy = "compact"
	cfg.MaxMessageBytes = 500
	l := openTest(t, filepath.Join(t.TempDir(), "foo-0"), cfg, c)
	defer l.Close()
	good := kbatch(t, 1, CodecNone, kv{"k", "v"})
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1
	if _, err := l.AppendAsLeader(bad, 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad crc: %v", err)
	}
	// A partial batch at the end is dropped, as Kafka's Log.append trims what its batch iterator did not read
	// (Produce v3+ refuses a request without a whole batch before the log: CheckProduceRecords).
	if info, err := l.AppendAsLeader(good[:len(good)-3], 0); err != nil || info.FirstOffset != -1 || l.LogEndOffset() != 0 {
		t.Fatalf("short: %+v, %v, log end %d", info, err, l.LogEndOffset())
	}
	if _, err := l.AppendAsLeader(append(bytes.Clone(good), good...), 0); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("two v2 batches: %v", err)
	}
	if _, err := l.AppendAsLeader(kbatch(t, 1, CodecNone, kv{"", "v"}), 0); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("keyless on compacted: %v", err)
	}
	if _, err := l.AppendAsLeader(kbatch(t, 1, CodecNone, kv{"k", strings.Repeat("x", 600)}), 0); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if l.LogEndOffset() != 0 {
		t.Fatal("nothing should have been appended")
	}
}

func TestLogAppendTime(t *testing.T) {
	c := newClock()
	cfg := testConfig()
	cfg.MessageTimestampType = "LogAppendTime"
	l := openTest(t, filepath.Join(t.TempDir(), "foo-0"), cfg, c)
	defer l.Close()
	info := mustAppend(t, l, kbatch(t, 5, CodecGzip, kv{"a", "b"}), 0)
	if info.LogAppendTime != c.now().UnixMilli() {
		t.Fatalf("%+v", info)
	}
	res, _ := l.Read(0, 1<<20, -1, false)
	b := parseKmsg(t, res.Records)[0]
	if b.Attributes&0x08 == 0 || b.MaxTimestamp != c.now().UnixMilli() {
		t.Fatalf("batch %+v", b)
	}
}

func TestRollBySizeAndTimeAndIndexes(t *testing.T) {
	c := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = 1024
	cfg.IndexIntervalBytes = 200
	dir := filepath.Join(t.TempDir(), "foo-3")
	l := openTest(t, dir, cfg, c)
	for i := 0; i < 100; i++ {
		mustAppend(t, l, kbatch(t, c.now().UnixMilli()+int64(i), CodecNone, kv{"k", strings.Repeat("v", 50)}), 0)
	}
	if l.NumSegments() < 5 {
		t.Fatalf("only %d segments", l.NumSegments())
	}
	for off := int64(0); off < 100; off++ {
		r, err := l.Read(off, 1, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		if b := parseKmsg(t, r.Records); len(b) != 1 || b[0].FirstOffset != off {
			t.Fatalf("read at %d", off)
		}
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, n := range names {
		if len(filepath.Base(n)) != 24 {
			t.Fatalf("bad segment name %s", n)
		}
		if st, _ := os.Stat(strings.TrimSuffix(n, ".log") + ".index"); st == nil {
			t.Fatalf("missing index for %s", n)
		}
	}
	idx, _ := os.ReadFile(segmentFile(dir, 0, indexSuffix))
	if len(idx) == 0 || len(idx)%8 != 0 {
		t.Fatalf("offset index of %d bytes", len(idx))
	}
	// Time roll: a batch whose timestamp is segment.ms past the first batch of the segment rolls.
	n := l.NumSegments()
	cfg2 := l.Config()
	cfg2.SegmentBytes = 1 << 30
	cfg2.SegmentMs = 1000
	l.SetConfig(cfg2)
	mustAppend(t, l, kbatch(t, c.now().UnixMilli()+100_000, CodecNone, kv{"k", "v"}), 0)
	mustAppend(t, l, kbatch(t, c.now().UnixMilli()+100_500, CodecNone, kv{"k", "v"}), 0)
	if l.NumSegments() != n+1 {
		t.Fatalf("segments %d, want %d", l.NumSegments(), n+1)
	}
	mustAppend(t, l, kbatch(t, c.now().UnixMilli()+102_000, CodecNone, kv{"k", "v"}), 0)
	if l.NumSegments() != n+2 {
		t.Fatalf("segments %d, want %d", l.NumSegments(), n+2)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen (full recovery) gives the same log.
	l = openTest(t, dir, cfg, c)
	defer l.Close()
	if l.LogEndOffset() != 103 || len(readAll(t, l, 0)) != 103 {
		t.Fatalf("after reopen LEO %d", l.LogEndOffset())
	}
}

func TestRecoveryCutsOnlyTheBadTail(t *testing.T) {
	for _, mode := range []string{"truncated", "badcrc", "garbage", "zeros", "backwards"} {
		t.Run(mode, func(t *testing.T) {
			c := newClock()
			cfg := testConfig()
			cfg.SegmentBytes = 2048
			dir := filepath.Join(t.TempDir(), "foo-0")
			l := openTest(t, dir, cfg, c)
			for i := 0; i < 40; i++ {
				mustAppend(t, l, kbatch(t, 1000+int64(i), CodecNone, kv{"k", strings.Repeat("v", 40)}), int32(i/10))
			}
			last := l.active().base
			size := l.active().size
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			path := segmentFile(dir, last, logSuffix)
			data, _ := os.ReadFile(path)
			lastBatch := int64(len(kbatch(t, 0, CodecNone, kv{"k", strings.Repeat("v", 40)})))
			wantLEO := int64(40)
			switch mode {
			case "truncated":
				data = data[:len(data)-5]
				wantLEO = 39
			case "badcrc":
				data[len(data)-1] ^= 0xff
				wantLEO = 39
			case "garbage":
				data = append(data, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
			case "zeros":
				data = append(data, make([]byte, 4096)...)
			case "backwards":
				// A whole, valid batch whose offsets go back (the segment's first, again): reads could not reach
				// past it, so recovery stops there.
				first, err := nextBatch(data)
				if err != nil {
					t.Fatal(err)
				}
				data = append(data, first...)
			}
			_ = size
			_ = lastBatch
			os.WriteFile(path, data, 0o644)
			os.Remove(segmentFile(dir, last, indexSuffix))
			os.WriteFile(segmentFile(dir, 0, timeIndexSuffix), []byte("corrupt index!"), 0o644)
			l = openTest(t, dir, cfg, c)
			defer l.Close()
			if l.LogEndOffset() != wantLEO {
				t.Fatalf("LEO %d, want %d", l.LogEndOffset(), wantLEO)
			}
			recs := readAll(t, l, 0)
			if int64(len(recs)) != wantLEO {
				t.Fatalf("%d records", len(recs))
			}
			if off, ts, ok := l.OffsetForTimestamp(1005); !ok || off != 5 || ts != 1005 {
				t.Fatalf("time index rebuilt wrong: %d %d %v", off, ts, ok)
			}
			if e, end := l.EndOffsetForEpoch(2); e != 2 || end != 30 {
				t.Fatalf("epoch cache: %d %d", e, end)
			}
			// Appends continue right after the kept data.
			if info := mustAppend(t, l, kbatch(t, 5000, CodecNone, kv{"k", "v"}), 9); info.FirstOffset != wantLEO {
				t.Fatalf("%+v", info)
			}
		})
	}
}

func TestRetention(t *testing.T) {
	c := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = 500
	cfg.RetentionMs = 60_000
	l := openTest(t, filepath.Join(t.TempDir(), "foo-0"), cfg, c)
	defer l.Close()
	base := c.now().UnixMilli()
	for i := 0; i < 30; i++ {
		mustAppend(t, l, kbatch(t, base+int64(i)*10_000, CodecNone, kv{"k", strings.Repeat("v", 60)}), 0)
	}
	segs := l.NumSegments()
	// Nothing goes while the high watermark is at 0.
	if n, _ := l.EnforceRetention(c.now().Add(time.Hour)); n != 0 {
		t.Fatalf("deleted %d segments above the high watermark", n)
	}
	l.SetHighWatermark(l.LogEndOffset())
	// Now at base+300s: records older than base+240s are expired.
	n, err := l.EnforceRetention(time.UnixMilli(base + 300_000))
	if err != nil || n == 0 {
		t.Fatalf("time retention: %d %v", n, err)
	}
	start := l.LogStartOffset()
	if start == 0 || start > 25 {
		t.Fatalf("log start %d", start)
	}
	if _, err := l.Read(0, 100, -1, false); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatal("read below log start should fail")
	}
	if off, _, _ := l.OffsetForTimestamp(EarliestTimestamp); off != start {
		t.Fatal("earliest")
	}
	// Size retention.
	cfg.RetentionMs = -1
	cfg.RetentionBytes = 600
	l.SetConfig(cfg)
	if _, err := l.EnforceRetention(c.now()); err != nil {
		t.Fatal(err)
	}
	if l.Size() > 600+500 || l.NumSegments() >= segs {
		t.Fatalf("size %d segments %d", l.Size(), l.NumSegments())
	}
	// Everything expired: a new empty active segment is rolled and the log is empty at its end.
	cfg.RetentionBytes = -1
	cfg.RetentionMs = 1
	l.SetConfig(cfg)
	if _, err := l.EnforceRetention(c.now().Add(24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 30 || l.LogEndOffset() != 30 || l.NumSegments() != 1 {
		t.Fatalf("start %d end %d segs %d", l.LogStartOffset(), l.LogEndOffset(), l.NumSegments())
	}
	if info := mustAppend(t, l, kbatch(t, base, CodecNone, kv{"k", "v"}), 0); info.FirstOffset != 30 {
		t.Fatal(info)
	}
}

func TestDeleteRecordsAndTruncate(t *testing.T) {
	c := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = 400
	dir := filepath.Join(t.TempDir(), "foo-0")
	l := openTest(t, dir, cfg, c)
	defer l.Close()
	for i := 0; i < 20; i++ {
		mustAppend(t, l, kbatch(t, 100+int64(i), CodecNone, kv{"k", strings.Repeat("v", 60)}), int32(i/5))
	}
	if err := l.DeleteRecordsBefore(10); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past hw: %v", err)
	}
	l.SetHighWatermark(15)
	if err := l.DeleteRecordsBefore(7); err != nil {
		t.Fatal(err)
	}
	if l.LogStartOffset() != 7 || l.FirstSegmentBase() > 7 {
		t.Fatalf("start %d first seg %d", l.LogStartOffset(), l.FirstSegmentBase())
	}
	if recs := readAll(t, l, 7); len(recs) != 13 || recs[0].Offset != 7 {
		t.Fatalf("%d records from %d", len(recs), recs[0].Offset)
	}
	if e := l.EpochEntries(); e[0].Epoch != 1 || e[0].StartOffset != 7 {
		t.Fatalf("epochs %+v", e)
	}
	if err := l.TruncateTo(12); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != 12 || l.HighWatermark() != 12 || len(readAll(t, l, 7)) != 5 {
		t.Fatalf("after truncate LEO %d HW %d", l.LogEndOffset(), l.HighWatermark())
	}
	if e := l.EpochEntries(); e[len(e)-1].Epoch != 2 || e[len(e)-1].StartOffset != 10 {
		t.Fatalf("epochs %+v", e)
	}
	// An epoch started at the log end without records (a leader that appended nothing) goes on a truncation to the
	// end, as in Kafka; the log itself is unchanged.
	if err := l.AssignEpochStartOffset(5, 12); err != nil {
		t.Fatal(err)
	}
	if err := l.TruncateTo(12); err != nil {
		t.Fatal(err)
	}
	if e := l.EpochEntries(); l.LogEndOffset() != 12 || e[len(e)-1].Epoch != 2 {
		t.Fatalf("truncation to the end: LEO %d, epochs %+v", l.LogEndOffset(), e)
	}
	if info := mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"k", "v"}), 7); info.FirstOffset != 12 {
		t.Fatal(info)
	}
	if err := l.TruncateTo(3); err != nil { // below the first segment: restart empty at 3
		t.Fatal(err)
	}
	if l.LogStartOffset() != 3 || l.LogEndOffset() != 3 || l.NumSegments() != 1 {
		t.Fatalf("start %d end %d", l.LogStartOffset(), l.LogEndOffset())
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	c := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = 300
	l := openTest(t, filepath.Join(t.TempDir(), "foo-0"), cfg, c)
	defer l.Close()
	for i := 0; i < 10; i++ {
		// Batches of 3 with timestamps 1000*i, 1000*i+1, 1000*i+2.
		mustAppend(t, l, kbatch(t, int64(1000*i), CodecGzip, kv{"a", "1"}, kv{"b", "2"}, kv{"c", "3"}), 0)
	}
	cases := []struct{ ts, off, rts int64 }{{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 3, 1000}, {4001, 13, 4001}, {9002, 29, 9002}}
	for _, cs := range cases {
		off, rts, ok := l.OffsetForTimestamp(cs.ts)
		if !ok || off != cs.off || rts != cs.rts {
			t.Fatalf("ts %d: got %d %d %v, want %d %d", cs.ts, off, rts, ok, cs.off, cs.rts)
		}
	}
	if _, _, ok := l.OffsetForTimestamp(9003); ok {
		t.Fatal("no record at 9003")
	}
	if off, _, _ := l.OffsetForTimestamp(LatestTimestamp); off != 30 {
		t.Fatal("latest")
	}
}

func TestFollowerAppend(t *testing.T) {
	c := newClock()
	leader := openTest(t, filepath.Join(t.TempDir(), "foo-0"), testConfig(), c)
	defer leader.Close()
	follower := openTest(t, filepath.Join(t.TempDir(), "foo-0"), testConfig(), c)
	defer follower.Close()
	for i := 0; i < 5; i++ {
		mustAppend(t, leader, kbatch(t, 1, CodecSnappy, kv{"k", "v"}, kv{"k", "w"}), 3)
	}
	res, _ := leader.Read(0, 1<<20, -1, false)
	info, err := follower.AppendAsFollower(res.Records)
	if err != nil || info.FirstOffset != 0 || info.LastOffset != 9 {
		t.Fatalf("%+v %v", info, err)
	}
	got, _ := follower.Read(0, 1<<20, -1, false)
	if !bytes.Equal(got.Records, res.Records) {
		t.Fatal("follower bytes differ from leader bytes")
	}
	if _, err := follower.AppendAsFollower(res.Records); !errors.Is(err, ErrUnexpectedAppendOffset) {
		t.Fatalf("re-append: %v", err)
	}
	if e, end := follower.EndOffsetForEpoch(3); e != 3 || end != 10 {
		t.Fatalf("epoch %d %d", e, end)
	}
}

func TestEpochCache(t *testing.T) {
	dir := t.TempDir()
	c, err := loadEpochCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []EpochEntry{{0, 0}, {1, 10}, {1, 15}, {3, 20}, {5, 40}} {
		if _, err := c.assign(e.Epoch, e.StartOffset); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, LeaderEpochCheckpointFile))
	if string(data) != "0\n4\n0 0\n1 10\n3 20\n5 40\n" {
		t.Fatalf("checkpoint %q", data)
	}
	for _, cs := range []struct {
		req int32
		e   int32
		off int64
	}{{5, 5, 100}, {3, 3, 40}, {2, 1, 20}, {1, 1, 20}, {0, 0, 10}, {6, -1, -1}, {-1, -1, -1}} {
		if e, off := c.endOffsetFor(cs.req, 100); e != cs.e || off != cs.off {
			t.Fatalf("epoch %d: %d %d", cs.req, e, off)
		}
	}
	// A lower epoch at a lower offset (new leader after truncation) drops what it contradicts.
	c.assign(2, 18)
	if len(c.entries) != 3 || c.entries[2] != (EpochEntry{2, 18}) {
		t.Fatalf("%+v", c.entries)
	}
	c.truncateFromEnd(11)
	c.truncateFromStart(5)
	if len(c.entries) != 2 || c.entries[0] != (EpochEntry{0, 5}) {
		t.Fatalf("%+v", c.entries)
	}
	c2, _ := loadEpochCache(dir)
	if len(c2.entries) != 2 || c2.entries[1] != (EpochEntry{1, 10}) {
		t.Fatalf("reloaded %+v", c2.entries)
	}
}

// TestLegacyOffsetsBefore checks ListOffsets v0's list against Kafka's Log.legacyFetchOffsetsBefore: segment base
// offsets stamped with their files' mtimes, then the log end stamped now, picked from the newest stamped at or
// before the time asked and listed newest first.
func TestLegacyOffsetsBefore(t *testing.T) {
	c := newClock()
	cfg := testConfig()
	cfg.SegmentBytes = 1024
	dir := filepath.Join(t.TempDir(), "legacy-0")
	l := openTest(t, dir, cfg, c)
	for i := range 40 {
		mustAppend(t, l, kbatch(t, c.now().UnixMilli()+int64(i), CodecNone, kv{"k", strings.Repeat("v", 50)}), 0)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(names) < 4 {
		t.Fatalf("only %d segments", len(names))
	}
	sort.Strings(names)
	var bases []int64
	base := c.now().Add(-time.Hour)
	for i, n := range names {
		b, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(n), ".log"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		bases = append(bases, b)
		// Segment i was last written i minutes after base.
		mt := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(n, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	leo := l.LogEndOffset()
	desc := func(offs ...int64) []int64 { return offs }
	rev := slices.Clone(bases)
	slices.Reverse(rev)
	ms := func(d time.Duration) int64 { return base.Add(d).UnixMilli() }
	for _, tc := range []struct {
		ts   int64
		max  int32
		want []int64
	}{
		{LatestTimestamp, 1, desc(leo)},
		{LatestTimestamp, 100, append(desc(leo), rev...)},
		{EarliestTimestamp, 1, desc(bases[0])},
		{EarliestTimestamp, 5, desc(bases[0])},
		{ms(time.Minute + time.Second), 10, desc(bases[1], bases[0])},
		{ms(time.Minute), 1, desc(bases[1])},
		{ms(-time.Second), 10, desc()},
		{c.now().UnixMilli(), 2, desc(leo, bases[len(bases)-1])},
		{LatestTimestamp, 0, desc()},
	} {
		got, err := l.LegacyOffsetsBefore(tc.ts, tc.max)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("LegacyOffsetsBefore(%d, %d) = %v, want %v", tc.ts, tc.max, got, tc.want)
		}
	}
	if _, err := l.LegacyOffsetsBefore(LatestTimestamp, -1); err == nil {
		t.Error("a negative count is an error (Kafka: UNKNOWN_SERVER_ERROR)")
	}
}

// TestCheckProduceRecords follows Kafka 2.8's ProduceRequest.validateRecords version by version.
func TestCheckProduceRecords(t *testing.T) {
	v2 := kbatch(t, 1, CodecNone, kv{"k", "v"})
	zstd := kbatch(t, 1, CodecZstd, kv{"k", "v"})
	m0 := legacyMsg(0, 0, 0, -1, nil, []byte("v"))
	for _, tc := range []struct {
		name    string
		version int16
		records []byte
		want    error
	}{
		{"v2-any-magic", 2, m0, nil},
		{"v2-empty", 2, nil, nil},
		{"v3-batch", 3, v2, nil},
		{"v3-batch-and-partial", 3, append(bytes.Clone(v2), v2[:20]...), nil},
		{"v3-empty", 3, nil, ErrInvalidRecord},
		{"v3-partial", 3, v2[:len(v2)-1], ErrInvalidRecord},
		{"v3-magic0", 3, m0, ErrInvalidRecord},
		{"v3-two-batches", 3, append(bytes.Clone(v2), v2...), ErrInvalidRecord},
		{"v6-zstd", 6, zstd, ErrUnsupportedCompression},
		{"v7-zstd", 7, zstd, nil},
	} {
		if err := CheckProduceRecords(tc.version, tc.records); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// An old producer's message set cut mid-message keeps its whole messages.
	l := openTest(t, filepath.Join(t.TempDir(), "cut-0"), testConfig(), newClock())
	defer l.Close()
	set := append(bytes.Clone(m0), m0...)
	info, err := l.AppendAsLeader(append(set, m0[:15]...), 0)
	if err != nil || info.FirstOffset != 0 || info.LastOffset != 1 || l.LogEndOffset() != 2 {
		t.Fatalf("cut set: %+v, %v, log end %d", info, err, l.LogEndOffset())
	}
}

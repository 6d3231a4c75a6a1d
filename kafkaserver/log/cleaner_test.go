package log

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// crec is one record for the cleaner tests; a nil value is a tombstone.
type crec struct {
	k string
	v *string
}

func val(s string) *string { return &s }

// cbatch builds a client-style v2 batch (base offset 0) with optional producer fields.
func cbatch(t testing.TB, ts int64, codec int8, pid int64, seq int32, recs ...crec) []byte {
	t.Helper()
	rs := make([]Record, len(recs))
	for i, r := range recs {
		rs[i] = Record{Offset: int64(i), Timestamp: ts + int64(i), Key: []byte(r.k)}
		if r.v != nil {
			rs[i].Value = []byte(*r.v)
		}
	}
	epoch := int16(-1)
	if pid >= 0 {
		epoch = 0
	}
	out, err := encodeV2(v2Header{Codec: codec, LogAppendTime: -1, ProducerID: pid, ProducerEpoch: epoch,
		BaseSequence: seq, LastOffsetDelta: -1}, rs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type cleanerEnv struct {
	t   *testing.T
	dir string
	clk *clock
	m   *Manager
	l   *Log
	c   *Cleaner
}

func compactConfig() Config {
	c := testConfig()
	c.CleanupPolicy = "compact"
	c.SegmentBytes = 4096
	c.MinCleanableDirtyRatio = 0.01
	return c
}

func newCleanerEnv(t *testing.T, cfg Config, ccfg CleanerConfig) *cleanerEnv {
	t.Helper()
	e := &cleanerEnv{t: t, dir: t.TempDir(), clk: newClock()}
	m, err := OpenManager([]string{e.dir}, 1, "cluster", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	m.now = e.clk.now
	t.Cleanup(func() { _ = m.Close() })
	e.m = m
	if e.l, err = m.GetOrCreate("t", 0, [16]byte{}, cfg); err != nil {
		t.Fatal(err)
	}
	if e.c, err = NewCleaner(m, ccfg, quietLogger()); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *cleanerEnv) append(b []byte) AppendInfo {
	e.t.Helper()
	return mustAppend(e.t, e.l, b, 0)
}

func (e *cleanerEnv) clean() bool {
	e.t.Helper()
	ok, err := e.c.CleanOnce()
	if err != nil {
		e.t.Fatal(err)
	}
	return ok
}

// latest maps each key to its last value ("<nil>" for a tombstone) and offset.
func latest(recs []Record) map[string]string {
	out := map[string]string{}
	for _, r := range recs {
		v := "<nil>"
		if r.Value != nil {
			v = string(r.Value)
		}
		out[string(r.Key)] = fmt.Sprintf("%s@%d", v, r.Offset)
	}
	return out
}

func TestCleanerKeepsLastRecordPerKey(t *testing.T) {
	e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
	const keys, rounds = 25, 30
	for r := 0; r < rounds; r++ {
		var recs []crec
		for k := 0; k < keys; k++ {
			recs = append(recs, crec{fmt.Sprintf("key-%02d", k), val(fmt.Sprintf("v%d-%d", r, k))})
		}
		e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, recs...))
	}
	before := readAll(t, e.l, 0)
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	if !e.clean() {
		t.Fatal("nothing cleaned")
	}
	after := readAll(t, e.l, 0)
	if len(after) != keys {
		t.Fatalf("%d records after cleaning, want %d", len(after), keys)
	}
	want := latest(before)
	if got := latest(after); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after cleaning %v\nwant %v", got, want)
	}
	for i, r := range after {
		if r.Offset != int64((rounds-1)*keys+i) {
			t.Fatalf("record %d has offset %d", i, r.Offset)
		}
	}
	if o, ok := e.c.FirstDirtyOffset(TopicPartition{"t", 0}); !ok || o != e.l.LogEndOffset() {
		t.Errorf("first dirty offset %d %v, want %d", o, ok, e.l.LogEndOffset())
	}
	data, err := os.ReadFile(filepath.Join(e.dir, CleanerCheckpointFile))
	if err != nil || string(data) != fmt.Sprintf("0\n1\nt 0 %d\n", e.l.LogEndOffset()) {
		t.Errorf("checkpoint %q %v", data, err)
	}
	if e.clean() {
		t.Error("cleaned again without dirty data")
	}
	// The next round merges the now small cleaned segments into one (groupSegmentsBySize).
	e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, crec{"key-00", val("last")}))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	if !e.clean() {
		t.Fatal("second round cleaned nothing")
	}
	if n := e.l.NumSegments(); n != 2 {
		t.Errorf("%d segments after the second round, want 2", n)
	}
	want["key-00"] = fmt.Sprintf("last@%d", e.l.LogEndOffset()-1)
	// Fetch from a compacted gap starts at the next retained record, and the log survives a reopen.
	res, err := e.l.Read(3, 1<<20, -1, true)
	if err != nil || len(res.Records) == 0 {
		t.Fatalf("read in a gap: %v", err)
	}
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openTest(t, filepath.Join(e.dir, "t-0"), compactConfig(), e.clk)
	defer l2.Close()
	if got := latest(readAll(t, l2, 0)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after reopen %v", got)
	}
}

func TestCleanerTombstones(t *testing.T) {
	cfg := compactConfig()
	cfg.SegmentBytes = 100 // one batch per segment, and no two segments merge
	cfg.DeleteRetentionMs = 1000
	e := newCleanerEnv(t, cfg, DefaultCleanerConfig())
	ts := e.clk.now().UnixMilli()
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"a", val("1")}, crec{"b", val("1")}))
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"b", nil}))
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"c", val("1")}, crec{"x", nil}))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	if !e.clean() {
		t.Fatal("nothing cleaned")
	}
	// First cleaning: there is no clean segment yet, so the horizon is 0 and every tombstone stays.
	if got, want := fmt.Sprint(latest(readAll(t, e.l, 0))), "map[a:1@0 b:<nil>@2 c:1@3 x:<nil>@4]"; got != want {
		t.Fatalf("after first cleaning %s, want %s", got, want)
	}
	if n := len(readAll(t, e.l, 0)); n != 4 {
		t.Fatalf("%d records, want 4", n)
	}
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"d", val("1")}))
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"e", val("1")}))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	// The segment holding b's tombstone is older than delete.retention.ms before the last clean segment; the
	// one holding x's tombstone is the last clean segment itself.
	now := time.Now()
	for base, age := range map[int64]time.Duration{0: 10 * time.Second, 2: 10 * time.Second, 3: 0} {
		mt := now.Add(-age)
		if err := os.Chtimes(segmentFile(e.l.Dir(), base, logSuffix), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	if !e.clean() {
		t.Fatal("nothing cleaned")
	}
	recs := readAll(t, e.l, 0)
	if got, want := fmt.Sprint(latest(recs)), "map[a:1@0 c:1@3 d:1@5 e:1@6 x:<nil>@4]"; got != want {
		t.Fatalf("after second cleaning %s, want %s", got, want)
	}
}

func TestCleanerCompressedBatches(t *testing.T) {
	for _, codec := range []int8{CodecGzip, CodecSnappy, CodecLZ4, CodecZstd} {
		t.Run(fmt.Sprint(codec), func(t *testing.T) {
			e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
			ts := e.clk.now().UnixMilli()
			e.append(cbatch(t, ts, codec, -1, -1, crec{"a", val("1")}, crec{"b", val("1")}, crec{"c", val("1")}))
			e.append(cbatch(t, ts, codec, -1, -1, crec{"a", val("2")}, crec{"b", val("2")}))
			e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"z", val("1")}))
			if err := e.l.Roll(); err != nil {
				t.Fatal(err)
			}
			if !e.clean() {
				t.Fatal("nothing cleaned")
			}
			res, err := e.l.Read(0, 1<<20, -1, true)
			if err != nil {
				t.Fatal(err)
			}
			bs := parseKmsg(t, res.Records)
			if len(bs) != 3 {
				t.Fatalf("%d batches, want 3", len(bs))
			}
			// The first batch kept only c: same base offset, last offset delta and codec as before.
			if b := bs[0]; b.FirstOffset != 0 || b.LastOffsetDelta != 2 || b.NumRecords != 1 || int8(b.Attributes&7) != codec {
				t.Errorf("rebuilt batch %+v", b)
			}
			if b := bs[1]; b.FirstOffset != 3 || b.NumRecords != 2 || int8(b.Attributes&7) != codec {
				t.Errorf("untouched batch %+v", b)
			}
			if got, want := fmt.Sprint(latest(readAll(t, e.l, 0))), "map[a:2@3 b:2@4 c:1@2 z:1@5]"; got != want {
				t.Fatalf("%s, want %s", got, want)
			}
		})
	}
}

func TestCleanerKeepsLastBatchOfProducer(t *testing.T) {
	e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
	ts := e.clk.now().UnixMilli()
	e.append(cbatch(t, ts, CodecNone, 7, 0, crec{"a", val("1")}, crec{"b", val("1")}))
	e.append(cbatch(t, ts, CodecNone, -1, -1, crec{"a", val("2")}, crec{"b", val("2")}))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	if !e.clean() {
		t.Fatal("nothing cleaned")
	}
	res, err := e.l.Read(0, 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	bs := parseKmsg(t, res.Records)
	if len(bs) != 2 {
		t.Fatalf("%d batches, want the empty producer batch and the data", len(bs))
	}
	b := bs[0]
	if b.NumRecords != 0 || b.ProducerID != 7 || b.ProducerEpoch != 0 || b.FirstSequence != 0 || b.LastOffsetDelta != 1 || b.FirstOffset != 0 {
		t.Errorf("empty batch %+v", b)
	}
}

func TestCleanerCrashDuringSwap(t *testing.T) {
	for _, phase := range []string{"cleaned", "swap", "delete-first", "deleted"} {
		t.Run(phase, func(t *testing.T) {
			cfg := compactConfig()
			e := newCleanerEnv(t, cfg, DefaultCleanerConfig())
			for r := 0; r < 10; r++ {
				var recs []crec
				for k := 0; k < 10; k++ {
					recs = append(recs, crec{fmt.Sprint("k", k), val(fmt.Sprint(r))})
				}
				e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, recs...))
				if r%3 == 2 {
					// Small segments that the cleaner merges into one group.
					if err := e.l.Roll(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := e.l.Roll(); err != nil {
				t.Fatal(err)
			}
			full := readAll(t, e.l, 0)
			want := fmt.Sprint(latest(full))
			crash := errors.New("crash")
			e.c.fail = func(p string) error {
				if p == phase {
					return crash
				}
				return nil
			}
			if _, err := e.c.CleanOnce(); !errors.Is(err, crash) {
				t.Fatalf("clean: %v", err)
			}
			names := func() string {
				ents, _ := os.ReadDir(e.l.Dir())
				var s []string
				for _, en := range ents {
					s = append(s, en.Name())
				}
				return strings.Join(s, " ")
			}
			t.Logf("after crash: %s", names())
			l2 := openTest(t, e.l.Dir(), cfg, e.clk)
			defer l2.Close()
			if n := names(); strings.Contains(n, cleanedSuffix) || strings.Contains(n, swapSuffix) {
				t.Fatalf("leftovers after load: %s", n)
			}
			recs := readAll(t, l2, 0)
			if got := fmt.Sprint(latest(recs)); got != want {
				t.Fatalf("after recovery %s, want %s", got, want)
			}
			wantN := 10
			if phase == "cleaned" {
				wantN = len(full) // the swap never started: the old segments stand
			}
			if len(recs) != wantN {
				t.Fatalf("%d records after recovery, want %d", len(recs), wantN)
			}
			if l2.LogEndOffset() != e.l.LogEndOffset() {
				t.Fatalf("log end %d, want %d", l2.LogEndOffset(), e.l.LogEndOffset())
			}
		})
	}
}

func TestCleanerOffsetMapFull(t *testing.T) {
	// Room for 10 keys: 25 keys take several rounds, each moving the checkpoint forward.
	e := newCleanerEnv(t, compactConfig(), CleanerConfig{DedupeBufferSize: 12 * offsetMapEntryBytes, IoBufferLoadFactor: 0.9})
	for r := 0; r < 3; r++ {
		for k := 0; k < 25; k++ {
			e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, crec{fmt.Sprint("k", k), val(fmt.Sprint(r))}))
		}
	}
	want := fmt.Sprint(latest(readAll(t, e.l, 0)))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	tp := TopicPartition{"t", 0}
	prev := int64(0)
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("no convergence")
		}
		if !e.clean() {
			break
		}
		o, _ := e.c.FirstDirtyOffset(tp)
		if o <= prev {
			t.Fatalf("checkpoint %d did not advance from %d", o, prev)
		}
		prev = o
	}
	if prev != e.l.LogEndOffset() {
		t.Fatalf("checkpoint %d, want %d", prev, e.l.LogEndOffset())
	}
	recs := readAll(t, e.l, 0)
	if got := fmt.Sprint(latest(recs)); got != want || len(recs) != 25 {
		t.Fatalf("%d records %s, want %s", len(recs), got, want)
	}
}

func TestCleanerCompactionLags(t *testing.T) {
	cfg := compactConfig()
	cfg.MinCompactionLagMs = 60_000
	e := newCleanerEnv(t, cfg, DefaultCleanerConfig())
	e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, crec{"a", val("1")}, crec{"a", val("2")}))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	if e.clean() {
		t.Fatal("cleaned records younger than min.compaction.lag.ms")
	}
	e.clk.advance(61 * time.Second)
	if !e.clean() {
		t.Fatal("not cleaned after min.compaction.lag.ms")
	}

}

func TestCleanerMaxCompactionLag(t *testing.T) {
	// max.compaction.lag.ms forces a cleaning below min.cleanable.dirty.ratio.
	cfg := compactConfig()
	cfg.MinCleanableDirtyRatio = 0.99
	cfg.MaxCompactionLagMs = 60_000
	e := newCleanerEnv(t, cfg, DefaultCleanerConfig())
	for i := 0; i < 50; i++ {
		e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, crec{fmt.Sprint("k", i), val("v")}))
	}
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	if !e.clean() {
		t.Fatal("first cleaning")
	}
	e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, crec{"k1", val("w")}))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	if e.clean() {
		t.Fatal("cleaned below the dirty ratio before max.compaction.lag.ms")
	}
	e.clk.advance(61 * time.Second)
	if !e.clean() {
		t.Fatal("not cleaned after max.compaction.lag.ms")
	}
}

func TestCleanerTruncationMovesCheckpointBack(t *testing.T) {
	e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
	for i := 0; i < 4; i++ {
		e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, crec{"a", val(fmt.Sprint(i))}))
	}
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	e.clean()
	if err := e.l.TruncateTo(3); err != nil {
		t.Fatal(err)
	}
	e.clean()
	if o, _ := e.c.FirstDirtyOffset(TopicPartition{"t", 0}); o > 3 {
		t.Fatalf("checkpoint %d past the truncation to 3", o)
	}
}

func TestCleanerDeleteAndClose(t *testing.T) {
	e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
	e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, crec{"a", val("1")}, crec{"a", val("2")}))
	if err := e.l.Roll(); err != nil {
		t.Fatal(err)
	}
	e.clean()
	if err := e.m.Delete("t", 0); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(e.dir, CleanerCheckpointFile))
	if err != nil || string(data) != "0\n0\n" {
		t.Fatalf("checkpoint after delete %q %v", data, err)
	}
	e.c.Start()
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeRounds appends rounds of rewrites of the same keys and rolls, so the whole log but the empty active segment
// is dirty.
func (e *cleanerEnv) writeRounds(keys, rounds int) {
	e.t.Helper()
	for r := 0; r < rounds; r++ {
		var recs []crec
		for k := 0; k < keys; k++ {
			recs = append(recs, crec{fmt.Sprintf("key-%02d", k), val(fmt.Sprintf("v%d-%d", r, k))})
		}
		e.append(cbatch(e.t, e.clk.now().UnixMilli(), CodecNone, -1, -1, recs...))
	}
	if err := e.l.Roll(); err != nil {
		e.t.Fatal(err)
	}
}

// TestCleanerReportsIoToThrottler: the first cleaning of a log reads every batch twice (offset map, copy) and
// writes the cleaned segments, and tells the shared throttler all of it; unthrottled, it never sleeps.
func TestCleanerReportsIoToThrottler(t *testing.T) {
	e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
	if r := e.c.throttler.Rate(); r != math.MaxFloat64 {
		t.Fatalf("default rate %v", r)
	}
	ft := newFakeTime()
	ft.tick = 100 * time.Millisecond
	e.c.throttler = NewThrottler(math.MaxFloat64, CleanerIoCheckInterval, ft.now, ft.sleep)
	e.writeRounds(25, 30)
	if !e.clean() {
		t.Fatal("nothing cleaned")
	}
	run := e.c.Stats().Threads[0].Last
	if run.BytesRead == 0 || run.BytesWritten == 0 {
		t.Fatalf("cleaning stats %+v", run)
	}
	if got, want := e.c.throttler.Observed(), 2*run.BytesRead+run.BytesWritten; got != want {
		t.Errorf("throttler told of %d bytes, want %d (read %d twice, written %d)", got, want, run.BytesRead,
			run.BytesWritten)
	}
	if s := ft.slept(); len(s) != 0 {
		t.Errorf("unthrottled cleaning slept %v", s)
	}
	if got := e.c.Stats().IoBytes; got != e.c.throttler.Observed() {
		t.Errorf("stats report %d io bytes, the throttler %d", got, e.c.throttler.Observed())
	}
}

// TestCleanerThrottled: at a low rate the cleaning asks for sleeps that bring it down to the rate, and still
// cleans the log.
func TestCleanerThrottled(t *testing.T) {
	ccfg := DefaultCleanerConfig()
	ccfg.IoMaxBytesPerSecond = 1000
	e := newCleanerEnv(t, compactConfig(), ccfg)
	if r := e.c.throttler.Rate(); r != 1000 {
		t.Fatalf("rate %v", r)
	}
	ft := newFakeTime()
	ft.tick = 100 * time.Millisecond // each look at the clock is 100 ms of cleaning
	start := ft.now()
	e.c.throttler = NewThrottler(1000, CleanerIoCheckInterval, ft.now, ft.sleep)
	e.writeRounds(25, 30)
	if !e.clean() {
		t.Fatal("nothing cleaned")
	}
	if n := len(readAll(t, e.l, 0)); n != 25 {
		t.Errorf("%d records after a throttled cleaning, want 25", n)
	}
	slept := ft.slept()
	if len(slept) == 0 {
		t.Fatal("no sleep requested at 1000 bytes/s")
	}
	// Every check that found the rate too high slept the period down to 1000/s (to the rounded ms), so the fake
	// time that passed holds all the bytes but those of the last period, not checked yet, at that rate.
	th := e.c.throttler
	checked := float64(th.Observed()) - th.observed
	if ms := float64(ft.now().Sub(start).Milliseconds()); ms < checked-float64(len(slept)) {
		t.Errorf("%v bytes checked in %v ms of fake time, slept %v", checked, ms, slept)
	}
}

// TestCleanerCloseCutsThrottleSleep: Close does not wait out a throttle sleep; the cleaning stops, aborted.
func TestCleanerCloseCutsThrottleSleep(t *testing.T) {
	e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
	ft := newFakeTime()
	ft.tick = time.Second
	sleeping := make(chan struct{})
	var once sync.Once
	e.c.throttler = NewThrottler(1, CleanerIoCheckInterval, ft.now, func(d time.Duration) {
		once.Do(func() { close(sleeping) })
		e.c.sleepIo(d) // hours at 1 byte/s
	})
	e.writeRounds(5, 5)
	e.c.Start()
	<-sleeping
	e.c.Close()
	if o, ok := e.c.FirstDirtyOffset(TopicPartition{"t", 0}); ok {
		t.Errorf("aborted cleaning checkpointed %d", o)
	}
}

// TestCleanerReconfigure: a dynamic change restarts the threads with the new settings (LogCleaner.reconfigure),
// keeping the throttler; the thread count moves within half and double; an offset map too small leaves no thread,
// and Close still works.
func TestCleanerReconfigure(t *testing.T) {
	ccfg := DefaultCleanerConfig()
	ccfg.BackoffMs, ccfg.IoMaxBytesPerSecond = 10, 5e6
	e := newCleanerEnv(t, compactConfig(), ccfg)
	e.c.Start()
	for threads, ok := range map[int]bool{0: false, 1: true, 2: true, 3: false} {
		if err := e.c.ValidateReconfiguration(threads); (err == nil) != ok {
			t.Errorf("%d threads from 1: %v", threads, err)
		}
	}

	next := ccfg
	next.Threads, next.DedupeBufferSize, next.IoMaxBytesPerSecond = 2, 1<<20, 1000
	if err := e.c.Reconfigure(next); err != nil {
		t.Fatal(err)
	}
	if n := len(e.c.Stats().Threads); n != 2 {
		t.Fatalf("%d thread stats after the change to 2 threads", n)
	}
	slots := int64(1<<20) / 2 / offsetMapEntryBytes
	if want := int(float64(slots) * 0.9); e.c.maxKeys != want {
		t.Errorf("offset map of %d keys, want %d", e.c.maxKeys, want)
	}
	if r := e.c.IoMaxBytesPerSecond(); r != 5e6 {
		t.Errorf("io rate %v after a reconfiguration, want the 5e6 it started with", r)
	}
	if err := e.c.ValidateReconfiguration(4); err != nil {
		t.Errorf("4 threads from 2: %v", err)
	}
	// The new threads clean.
	e.writeRounds(25, 30)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, ok := e.c.FirstDirtyOffset(TopicPartition{"t", 0}); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing cleaned by the reconfigured threads")
		}
		time.Sleep(10 * time.Millisecond)
	}

	tiny := next
	tiny.DedupeBufferSize = 16
	if err := e.c.Reconfigure(tiny); err == nil {
		t.Fatal("an offset map too small for one key taken")
	}
	e.c.Close()
	if err := e.c.Reconfigure(next); err != nil {
		t.Errorf("reconfigure after close: %v", err)
	}
}

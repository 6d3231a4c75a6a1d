package log

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// appendRounds appends rounds batches that each rewrite the same keys, then rolls so that all of it is dirty.
func (e *cleanerEnv) appendRounds(rounds, keys int) {
	e.t.Helper()
	for r := range rounds {
		var recs []crec
		for k := range keys {
			recs = append(recs, crec{fmt.Sprintf("key-%02d", k), val(fmt.Sprintf("v%d-%d", r, k))})
		}
		e.append(cbatch(e.t, e.clk.now().UnixMilli(), CodecNone, -1, -1, recs...))
	}
	if err := e.l.Roll(); err != nil {
		e.t.Fatal(err)
	}
}

// The values behind the cleaner's gauges: before any cleaning only the time since the cleaner was made; after
// one, what Kafka's CleanerStats keep of it (bytes read and written, the offset map's utilization, its duration),
// the compaction delay of the choice (PreCleanStats) and the dirtiest ratio seen; a look that finds nothing to
// clean resets the ratio and the time of the last run but not the last cleaning.
func TestCleanerStats(t *testing.T) {
	cfg := compactConfig()
	cfg.MaxCompactionLagMs = 1000
	e := newCleanerEnv(t, cfg, DefaultCleanerConfig())
	if st := e.c.Stats(); !reflect.DeepEqual(st, CleanerStats{Threads: []CleanerThreadStats{{}},
		Uncleanable: []UncleanableDir{{Dir: e.dir}}}) {
		t.Fatalf("new cleaner's stats %+v", st)
	}
	t0 := e.clk.now().UnixMilli()
	const keys = 25
	e.appendRounds(30, keys)
	dirty := e.l.Size() // the active segment is empty: every byte is below it
	e.clk.advance(5 * time.Second)
	if st := e.c.Stats(); st.SinceLastRunMs != 5000 {
		t.Fatalf("time since the cleaner was made %d ms, want 5000", st.SinceLastRunMs)
	}

	slow := true
	e.c.fail = func(string) error { // the cleaning takes 1.5 s
		if slow {
			e.clk.advance(1500 * time.Millisecond)
			slow = false
		}
		return nil
	}
	if !e.clean() {
		t.Fatal("nothing cleaned")
	}
	// The first batch's max timestamp is t0+keys-1; the cleaner looked at t0+5s with max.compaction.lag.ms 1 s.
	want := CleanerThreadStats{
		Last:                 CleanerRun{BytesRead: dirty, BytesWritten: e.l.Size(), BufferUtilization: keys / float64(e.c.slots), ElapsedMs: 1500},
		MaxCompactionDelayMs: t0 + 5000 - 1000 - (t0 + keys - 1),
	}
	st := e.c.Stats()
	if !reflect.DeepEqual(st.Threads, []CleanerThreadStats{want}) {
		t.Fatalf("thread stats %+v, want %+v", st.Threads, want)
	}
	if r := st.Threads[0].Last; r.BytesWritten <= 0 || r.BytesWritten >= r.BytesRead {
		t.Fatalf("cleaning read %d bytes and wrote %d", r.BytesRead, r.BytesWritten)
	}
	if st.MaxDirtyRatio != 1 || st.SinceLastRunMs != 1500 {
		t.Fatalf("dirtiest ratio %v, time since last run %d ms; want 1 (nothing was clean) and 1500", st.MaxDirtyRatio, st.SinceLastRunMs)
	}

	if e.clean() {
		t.Fatal("cleaned twice")
	}
	if st := e.c.Stats(); st.MaxDirtyRatio != 0 || st.SinceLastRunMs != 0 || !reflect.DeepEqual(st.Threads, []CleanerThreadStats{want}) {
		t.Fatalf("after a look with nothing to clean: %+v", st)
	}
}

// A partition whose cleaning fails is uncleanable: its log dir counts it with the bytes it has to clean, the
// failed cleaning is not the thread's last one, and deleting the log forgets the partition.
func TestCleanerStatsUncleanable(t *testing.T) {
	e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
	e.appendRounds(10, 10)
	dirty := e.l.Size()
	broken := errors.New("disk trouble")
	e.c.fail = func(string) error { return broken }
	if _, err := e.c.CleanOnce(); !errors.Is(err, broken) {
		t.Fatalf("clean: %v", err)
	}
	st := e.c.Stats()
	if want := []UncleanableDir{{Dir: e.dir, Partitions: 1, Bytes: dirty}}; !reflect.DeepEqual(st.Uncleanable, want) {
		t.Fatalf("uncleanable %+v, want %+v", st.Uncleanable, want)
	}
	if st.Threads[0].Last != (CleanerRun{}) {
		t.Fatalf("a failed cleaning recorded: %+v", st.Threads[0].Last)
	}
	e.c.fail = nil
	if e.clean() {
		t.Fatal("an uncleanable partition was cleaned")
	}
	if err := e.m.Delete("t", 0); err != nil {
		t.Fatal(err)
	}
	if st := e.c.Stats(); !reflect.DeepEqual(st.Uncleanable, []UncleanableDir{{Dir: e.dir}}) {
		t.Fatalf("uncleanable after delete %+v", st.Uncleanable)
	}
}

// A log's gauges agree with its segments, and a closed log has none.
func TestLogGauges(t *testing.T) {
	e := newCleanerEnv(t, compactConfig(), DefaultCleanerConfig())
	e.appendRounds(3, 5)
	e.append(cbatch(t, e.clk.now().UnixMilli(), CodecNone, -1, -1, crec{"k", val("v")}))
	g, ok := e.l.Gauges()
	want := Gauges{Size: e.l.Size(), NumSegments: 2, LogStartOffset: 0, LogEndOffset: 16}
	if !ok || g != want {
		t.Fatalf("gauges %+v %v, want %+v", g, ok, want)
	}
	if err := e.l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.l.Gauges(); ok {
		t.Fatal("a closed log has gauges")
	}
}

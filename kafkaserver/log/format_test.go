package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Tests of message.format.version: logs that store magic 0 or magic 1 messages, as Kafka 2.8 does for
// message.format.version 0.9.0 / 0.10.x.

func formatConfig(magic int8) Config {
	c := testConfig()
	c.MessageFormat = FormatForMagic(magic)
	return c
}

// v2Plain builds a client v2 batch without headers (records of an old-format log cannot carry them).
func v2Plain(t testing.TB, ts int64, codec int8, vals ...string) []byte {
	t.Helper()
	rs := make([]Record, len(vals))
	for i, v := range vals {
		rs[i] = Record{Offset: int64(i), Timestamp: ts + int64(i), Key: []byte("k" + v), Value: []byte(v)}
	}
	out, err := encodeV2(v2Header{LeaderEpoch: -1, Codec: codec, LogAppendTime: -1, ProducerID: -1, ProducerEpoch: -1,
		BaseSequence: -1, LastOffsetDelta: -1}, rs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// legacySet builds what an old producer sends: plain magic 0/1 messages (offsets 0..n-1), or one compressed
// wrapper whose inner offsets are innerBase+i (magic 1 producers send relative 0..n-1; some got it wrong).
func legacySet(magic, codec int8, ts int64, innerBase int64, vals ...string) []byte {
	var set []byte
	for i, v := range vals {
		set = append(set, legacyMsg(magic, innerBase+int64(i), 0, ts+int64(i), []byte("k"+v), []byte(v))...)
	}
	if codec == CodecNone {
		return set
	}
	z, err := compress(codec, set)
	if err != nil {
		panic(err)
	}
	return legacyMsg(magic, int64(len(vals)-1), codec, ts+int64(len(vals)-1), nil, z)
}

// checkStored checks every stored entry with franz-go's decoders (sizes, CRC-32 of magic 0/1, CRC-32C of v2) and
// returns the entries' magic values and codecs.
func checkStored(t *testing.T, p []byte) (magics, codecs []int8) {
	t.Helper()
	for len(p) > 0 {
		b, err := nextBatch(p)
		if err != nil {
			t.Fatal(err)
		}
		switch b.magic() {
		case 0:
			var m kmsg.MessageV0
			if err := m.ReadFrom(b); err != nil {
				t.Fatal(err)
			}
			if uint32(m.CRC) != crc32.ChecksumIEEE(b[16:]) {
				t.Fatalf("magic 0 crc at %d", m.Offset)
			}
		case 1:
			var m kmsg.MessageV1
			if err := m.ReadFrom(b); err != nil {
				t.Fatal(err)
			}
			if uint32(m.CRC) != crc32.ChecksumIEEE(b[16:]) {
				t.Fatalf("magic 1 crc at %d", m.Offset)
			}
		default:
			parseKmsg(t, b)
		}
		magics, codecs = append(magics, b.magic()), append(codecs, b.codec())
		p = p[len(b):]
	}
	return magics, codecs
}

func TestAppendStoresConfiguredFormat(t *testing.T) {
	const ts = 1_700_000_000_000 - 500
	inputs := []struct {
		name     string
		set      []byte
		inMagic  int8
		codec    int8
		noTs     bool // magic 0 input: no timestamps
		relInner bool // a correct magic 1 wrapper (may stay in place)
	}{
		{"v2", v2Plain(t, ts, CodecNone, "a", "b", "c"), 2, CodecNone, false, false},
		{"v2-gzip", v2Plain(t, ts, CodecGzip, "a", "b", "c"), 2, CodecGzip, false, false},
		{"v2-lz4", v2Plain(t, ts, CodecLZ4, "a", "b", "c"), 2, CodecLZ4, false, false},
		{"m0", legacySet(0, CodecNone, ts, 0, "a", "b", "c"), 0, CodecNone, true, false},
		{"m1", legacySet(1, CodecNone, ts, 0, "a", "b", "c"), 1, CodecNone, false, false},
		{"m0-gzip", legacySet(0, CodecGzip, ts, 0, "a", "b", "c"), 0, CodecGzip, true, false},
		{"m0-snappy", legacySet(0, CodecSnappy, ts, 0, "a", "b", "c"), 0, CodecSnappy, true, false},
		{"m1-gzip", legacySet(1, CodecGzip, ts, 0, "a", "b", "c"), 1, CodecGzip, false, true},
		{"m1-snappy-abs", legacySet(1, CodecSnappy, ts, 40, "a", "b", "c"), 1, CodecSnappy, false, false},
	}
	for _, target := range []int8{0, 1, 2} {
		for _, tsType := range []string{"CreateTime", "LogAppendTime"} {
			for _, in := range inputs {
				t.Run(fmt.Sprintf("to%d/%s/%s", target, tsType, in.name), func(t *testing.T) {
					clk := newClock()
					now := clk.now().UnixMilli()
					cfg := formatConfig(target)
					cfg.MessageTimestampType = tsType
					l := openTest(t, filepath.Join(t.TempDir(), "f-0"), cfg, clk)
					defer l.Close()
					mustAppend(t, l, v2Plain(t, ts, CodecNone, "x", "y"), 3) // offsets 0, 1 first
					info := mustAppend(t, l, in.set, 3)
					if info.FirstOffset != 2 || info.LastOffset != 4 || info.NumMessages != 3 || l.LogEndOffset() != 5 {
						t.Fatalf("info %+v, LEO %d", info, l.LogEndOffset())
					}
					res, err := l.Read(2, 1<<20, -1, true)
					if err != nil {
						t.Fatal(err)
					}
					magics, codecs := checkStored(t, res.Records)
					for i := range magics {
						if magics[i] != target || codecs[i] != in.codec {
							t.Fatalf("stored magic %v codecs %v, want magic %d codec %d", magics, codecs, target, in.codec)
						}
					}
					if in.codec != CodecNone && target < 2 {
						// One wrapper at the last offset, inner offsets absolute (magic 0) or relative (magic 1).
						b, _ := nextBatch(res.Records)
						w, _ := parseLegacy(b)
						inner, err := legacyInner(w)
						if err != nil || len(magics) != 1 || w.offset != 4 || len(inner) != 3 {
							t.Fatalf("wrapper %d with %d inner, %d entries: %v", w.offset, len(inner), len(magics), err)
						}
						for i, m := range inner {
							want := int64(i)
							if target == 0 {
								want += 2
							}
							if m.offset != want || m.magic != target {
								t.Fatalf("inner %d: offset %d magic %d", i, m.offset, m.magic)
							}
						}
					}
					if in.codec == CodecNone && target < 2 && len(magics) != 3 {
						t.Fatalf("%d entries for 3 plain messages", len(magics))
					}
					recs := readAll(t, l, 0)
					if len(recs) != 5 {
						t.Fatalf("%d records", len(recs))
					}
					for i, r := range recs[2:] {
						v := string([]byte{'a' + byte(i)})
						wantTs := ts + int64(i)
						switch {
						case target == 0:
							wantTs = -1
						case tsType == "LogAppendTime":
							wantTs = now
						case in.noTs:
							wantTs = -1
						}
						if r.Offset != int64(i+2) || string(r.Value) != v || string(r.Key) != "k"+v || r.Timestamp != wantTs {
							t.Fatalf("record %d: %+v (want ts %d)", i, r, wantTs)
						}
					}
					wantConverted := in.inMagic != target || (in.codec != CodecNone && target < 2 && !(in.relInner && target == 1))
					if info.Converted != wantConverted {
						t.Fatalf("converted %v", info.Converted)
					}
					switch {
					case tsType == "LogAppendTime":
						if info.LogAppendTime != now || info.MaxTimestamp != now {
							t.Fatalf("log append time %+v", info)
						}
					case target == 0 || in.noTs:
						if info.MaxTimestamp != -1 {
							t.Fatalf("max timestamp %d", info.MaxTimestamp)
						}
					default:
						if info.MaxTimestamp != ts+2 {
							t.Fatalf("max timestamp %d", info.MaxTimestamp)
						}
					}
				})
			}
		}
	}
}

// TestLegacyInPlace checks that messages already in the log's format keep their bytes: only offsets change
// (and nothing else for magic 0 or CreateTime magic 1, so the CRC stays).
func TestLegacyInPlace(t *testing.T) {
	zeroOffsets := func(p []byte) []byte {
		p = bytes.Clone(p)
		for q := p; len(q) > 0; {
			b, err := nextBatch(q)
			if err != nil {
				t.Fatal(err)
			}
			binary.BigEndian.PutUint64(b, 0)
			q = q[len(b):]
		}
		return p
	}
	for _, c := range []struct {
		magic int8
		set   []byte
	}{
		{0, legacySet(0, CodecNone, 0, 0, "a", "b", "c")},
		{1, legacySet(1, CodecNone, 1_700_000_000_000, 0, "a", "b", "c")},
		{1, legacySet(1, CodecGzip, 1_700_000_000_000, 0, "a", "b", "c")},
	} {
		clk := newClock()
		l := openTest(t, filepath.Join(t.TempDir(), "p-0"), formatConfig(c.magic), clk)
		mustAppend(t, l, legacySet(c.magic, CodecNone, 0, 0, "x"), 0)
		info := mustAppend(t, l, c.set, 0)
		if info.Converted || info.FirstOffset != 1 || info.LastOffset != 3 {
			t.Fatalf("magic %d: %+v", c.magic, info)
		}
		res, _ := l.Read(1, 1<<20, -1, true)
		if !bytes.Equal(zeroOffsets(res.Records), zeroOffsets(c.set)) {
			t.Fatalf("magic %d: stored bytes differ beyond the offsets", c.magic)
		}
		// Fetch v0-v3 of data in the fetch's format: nothing to convert, the bytes go out as stored.
		for toMagic := c.magic; toMagic <= 1; toMagic++ {
			if NeedsDownConversion(res.Records, toMagic) {
				t.Fatalf("magic %d data needs conversion to %d", c.magic, toMagic)
			}
			if out, err := DownConvert(res.Records, toMagic); err != nil || !bytes.Equal(out, res.Records) {
				t.Fatalf("down-convert to %d changed magic %d data: %v", toMagic, c.magic, err)
			}
		}
		if c.magic == 1 && !NeedsDownConversion(res.Records, 0) {
			t.Fatal("magic 1 data for a magic 0 fetch")
		}
		l.Close()
	}
	if !NeedsDownConversion(v2Plain(t, 0, CodecNone, "a"), 1) || NeedsDownConversion(v2Plain(t, 0, CodecNone, "a"), 2) {
		t.Fatal("NeedsDownConversion of v2")
	}
	// Magic 1 with LogAppendTime: timestamp and attribute set, CRC recomputed.
	cfg := formatConfig(1)
	cfg.MessageTimestampType = "LogAppendTime"
	clk := newClock()
	l := openTest(t, filepath.Join(t.TempDir(), "q-0"), cfg, clk)
	defer l.Close()
	mustAppend(t, l, legacySet(1, CodecNone, 5, 0, "a", "b"), 0)
	res, _ := l.Read(0, 1<<20, -1, true)
	checkStored(t, res.Records)
	for p := res.Records; len(p) > 0; {
		b, _ := nextBatch(p)
		if b.timestampType() != timestampLogAppend || b.maxTimestamp() != clk.now().UnixMilli() {
			t.Fatalf("entry at %d: type %d ts %d", b.offsetField(), b.timestampType(), b.maxTimestamp())
		}
		p = p[len(b):]
	}
}

func TestLegacyFormatRefusals(t *testing.T) {
	for _, magic := range []int8{0, 1} {
		l := openTest(t, filepath.Join(t.TempDir(), "r-0"), formatConfig(magic), newClock())
		appendErr(t, l, pbatch(t, 7, 0, 0, 2, 1), ErrUnsupportedForMessageFormat)
		txn := pbatch(t, 7, 0, 0, 2, 1)
		binary.BigEndian.PutUint16(txn[21:], attrTransactional)
		batch(txn).setV2CRC()
		appendErr(t, l, txn, ErrUnsupportedForMessageFormat)
		// Headers have no old form: Kafka's builder throws (UNKNOWN_SERVER_ERROR), nothing is written.
		_, err := l.AppendAsLeader(kbatch(t, 1, CodecNone, kv{"k", "v"}), 0)
		if err == nil || errors.Is(err, ErrInvalidRecord) || errors.Is(err, ErrUnsupportedForMessageFormat) {
			t.Fatalf("headers to magic %d: %v", magic, err)
		}
		appendErr(t, l, v2Plain(t, 1, CodecZstd, "a"), ErrUnsupportedCompression)
		// Mixed magic values in one set are invalid, as in Kafka.
		appendErr(t, l, append(legacySet(0, CodecNone, 0, 0, "a"), legacySet(1, CodecNone, 0, 0, "b")...), ErrInvalidRecord)
		if l.LogEndOffset() != 0 {
			t.Fatalf("LEO %d after refusals", l.LogEndOffset())
		}
		l.Close()
	}
	// A v2 log still takes idempotent batches.
	l := openTest(t, filepath.Join(t.TempDir(), "r-0"), formatConfig(2), newClock())
	defer l.Close()
	mustAppend(t, l, pbatch(t, 7, 0, 0, 2, 1), 0)
}

// TestLegacyIndexesEpochsRecovery covers the rest of the append path for a magic 0 / magic 1 log: offset index
// lookups, the time index (empty without timestamps), no leader epoch cache, and recovery after an unclean stop.
func TestLegacyIndexesEpochsRecovery(t *testing.T) {
	for _, magic := range []int8{0, 1} {
		t.Run(fmt.Sprint(magic), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "i-0")
			clk := newClock()
			cfg := formatConfig(magic)
			cfg.SegmentBytes = 1000
			l := openTest(t, dir, cfg, clk)
			ts := clk.now().UnixMilli() - 1000
			n := int64(0)
			for i := range 60 {
				var set []byte
				switch i % 3 {
				case 0:
					set = v2Plain(t, ts+n, CodecNone, "a", "b")
				case 1:
					set = legacySet(magic, CodecGzip, ts+n, 0, "c", "d", "e")
				default:
					set = legacySet(1, CodecNone, ts+n, 0, "f")
				}
				info := mustAppend(t, l, set, 5)
				n = info.LastOffset + 1
			}
			if l.NumSegments() < 3 {
				t.Fatalf("%d segments", l.NumSegments())
			}
			if _, err := os.Stat(filepath.Join(dir, LeaderEpochCheckpointFile)); !os.IsNotExist(err) {
				t.Fatalf("leader epoch checkpoint for a magic %d log: %v", magic, err)
			}
			if err := l.AssignEpochStartOffset(6, n); err != nil || l.LatestEpoch() != -1 {
				t.Fatalf("epoch cache of a magic %d log: %v %d", magic, err, l.LatestEpoch())
			}
			if e, off := l.EndOffsetForEpoch(5); e != -1 || off != -1 {
				t.Fatalf("end offset for epoch: %d %d", e, off)
			}
			check := func(l *Log) {
				t.Helper()
				if l.LogEndOffset() != n {
					t.Fatalf("LEO %d, want %d", l.LogEndOffset(), n)
				}
				for off := int64(0); off < n; off++ {
					res, err := l.Read(off, 1, -1, true)
					if err != nil || len(res.Records) == 0 {
						t.Fatalf("read %d: %v", off, err)
					}
					b, _ := nextBatch(res.Records)
					first, _ := b.baseOffset()
					if b.magic() != magic || first > off || b.lastOffset() < off {
						t.Fatalf("read %d: magic %d %d..%d", off, b.magic(), first, b.lastOffset())
					}
				}
				recs := readAll(t, l, 0)
				for i, r := range recs {
					if r.Offset != int64(i) {
						t.Fatalf("record %d has offset %d", i, r.Offset)
					}
				}
				off, rts, ok := l.OffsetForTimestamp(ts + 10)
				if magic == 0 && ok {
					t.Fatalf("magic 0 log found offset %d for a timestamp", off)
				}
				if magic == 1 && (!ok || rts < ts+10 || off <= 0) {
					t.Fatalf("offset for timestamp: %d %d %v", off, rts, ok)
				}
			}
			check(l)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if magic == 0 {
				// No time index entries without timestamps.
				matches, _ := filepath.Glob(filepath.Join(dir, "*.timeindex"))
				for _, m := range matches {
					if st, err := os.Stat(m); err != nil || st.Size() != 0 {
						t.Fatalf("%s: %v size %d", m, err, st.Size())
					}
				}
			}
			// Unclean restart: indexes gone and a torn message at the tail.
			segs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
			last := segs[len(segs)-1]
			for _, s := range segs {
				_ = os.Remove(s[:len(s)-4] + ".index")
				_ = os.Remove(s[:len(s)-4] + ".timeindex")
			}
			f, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			torn := legacyMsg(magic, n, 0, ts, []byte("k"), []byte("torn"))
			_, _ = f.Write(torn[:len(torn)-2])
			f.Close()
			l2, err := OpenWithState(dir, cfg, clk.now, quietLogger(), LoadState{})
			if err != nil {
				t.Fatal(err)
			}
			defer l2.Close()
			check(l2)
			// Appends continue in the same format.
			if info := mustAppend(t, l2, v2Plain(t, ts, CodecNone, "z"), 9); info.FirstOffset != n {
				t.Fatalf("append after recovery: %+v", info)
			}
		})
	}
}

// TestMessageFormatChange checks that a topic config change applies to later appends, and that the leader epoch
// cache goes away below v2 and starts afresh back at v2 (Log.updateConfig).
func TestMessageFormatChange(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c-0")
	clk := newClock()
	l := openTest(t, dir, formatConfig(2), clk)
	defer l.Close()
	mustAppend(t, l, v2Plain(t, 1, CodecNone, "a"), 1)
	if l.LatestEpoch() != 1 {
		t.Fatalf("epoch %d", l.LatestEpoch())
	}
	l.SetConfig(formatConfig(0))
	if _, err := os.Stat(filepath.Join(dir, LeaderEpochCheckpointFile)); !os.IsNotExist(err) {
		t.Fatalf("checkpoint kept: %v", err)
	}
	mustAppend(t, l, v2Plain(t, 1, CodecNone, "b"), 2)
	l.SetConfig(formatConfig(1))
	mustAppend(t, l, v2Plain(t, 1, CodecNone, "c"), 2)
	l.SetConfig(formatConfig(2))
	mustAppend(t, l, v2Plain(t, 1, CodecNone, "d"), 3)
	if es := l.EpochEntries(); len(es) != 1 || es[0] != (EpochEntry{3, 3}) {
		t.Fatalf("epochs %v", es)
	}
	res, _ := l.Read(0, 1<<20, -1, true)
	magics, _ := checkStored(t, res.Records)
	if fmt.Sprint(magics) != "[2 0 1 2]" {
		t.Fatalf("stored magics %v", magics)
	}
	// A v0-v1 fetch still converts the newer batches (the format was lowered after they were written).
	if !NeedsDownConversion(res.Records, 0) {
		t.Fatal("mixed log needs no conversion?")
	}
	out, err := DownConvert(res.Records, 0)
	if err != nil {
		t.Fatal(err)
	}
	magics, _ = checkStored(t, out)
	if fmt.Sprint(magics) != "[0 0 0 0]" {
		t.Fatalf("down-converted magics %v", magics)
	}
	if recs, _ := DecodeRecords(out); len(recs) != 4 || string(recs[3].Value) != "d" || recs[3].Offset != 3 {
		t.Fatalf("down-converted %+v", recs)
	}
}

// openKafka09Log opens a copy of the log dir a real Kafka 0.9.0.1 broker wrote (testdata) with cfg and returns its
// partition interop-0; the manager closes with the test.
func openKafka09Log(t *testing.T, cfg Config) *Log {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kafka-logs")
	copyTree(t, filepath.Join("testdata", "kafka-0.9.0.1", "clean"), dir)
	m, err := OpenManager([]string{dir}, 7, "clusterX", cfg, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	l, ok := m.Get("interop", 0)
	if !ok {
		t.Fatal("partition interop-0 not loaded")
	}
	return l
}

// TestKafka09LogKeepsFormat opens the log a real Kafka 0.9.0.1 broker wrote with message.format.version 0.9.0:
// new appends stay magic 0, including a gzip wrapper Kafka 0.9 stored, re-sent as a produce.
func TestKafka09LogKeepsFormat(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MessageFormat = FormatV0
	l := openKafka09Log(t, cfg)
	l.SetConfig(cfg)
	leo := l.LogEndOffset()
	res, _ := l.Read(0, 1<<20, -1, false)
	var wrapper []byte
	for p := res.Records; len(p) > 0; {
		b, _ := nextBatch(p)
		if b.codec() == CodecGzip {
			wrapper = bytes.Clone(b)
			break
		}
		p = p[len(b):]
	}
	if wrapper == nil {
		t.Skip("no gzip wrapper in partition 0")
	}
	want, _ := batch(wrapper).records()
	info := mustAppend(t, l, wrapper, 1)
	mustAppend(t, l, v2Plain(t, 1, CodecNone, "new"), 1)
	if info.FirstOffset != leo || info.LastOffset != leo+int64(len(want))-1 {
		t.Fatalf("info %+v", info)
	}
	res, _ = l.Read(leo, 1<<20, -1, true)
	magics, codecs := checkStored(t, res.Records)
	if fmt.Sprint(magics) != "[0 0]" || codecs[0] != CodecGzip {
		t.Fatalf("magics %v codecs %v", magics, codecs)
	}
	recs := readAll(t, l, 0)
	if int64(len(recs)) != l.LogEndOffset() || string(recs[len(recs)-1].Value) != "new" {
		t.Fatalf("%d records, LEO %d", len(recs), l.LogEndOffset())
	}
	for i, r := range recs[leo : leo+int64(len(want))] {
		if !bytes.Equal(r.Value, want[i].Value) || !bytes.Equal(r.Key, want[i].Key) || r.Timestamp != -1 {
			t.Fatalf("record %+v", r)
		}
	}
}

// TestCleanerLegacyFormat compacts a magic 0 log (plain and gzip messages) and a magic 1 one: the latest value of
// every key survives, in the log's format, with valid CRCs and offsets kept.
func TestCleanerLegacyFormat(t *testing.T) {
	for _, magic := range []int8{0, 1} {
		t.Run(fmt.Sprint(magic), func(t *testing.T) {
			cfg := compactConfig()
			cfg.MessageFormat = FormatForMagic(magic)
			e := newCleanerEnv(t, cfg, DefaultCleanerConfig())
			e.l.SetConfig(cfg)
			want := map[string]string{}
			for r := range 30 {
				var set []byte
				if r%2 == 0 {
					set = cbatch(t, 1, CodecNone, -1, -1, crec{fmt.Sprint("k", r%5), val(fmt.Sprint("v", r))}, crec{"z", val(fmt.Sprint("z", r))})
				} else {
					set = cbatch(t, 1, CodecGzip, -1, -1, crec{fmt.Sprint("k", r%5), val(fmt.Sprint("v", r))}, crec{"y", val(fmt.Sprint("y", r))})
				}
				info := e.append(set)
				_ = info
			}
			for _, r := range readAll(t, e.l, 0) {
				want[string(r.Key)] = fmt.Sprintf("%s@%d", r.Value, r.Offset)
			}
			if err := e.l.Roll(); err != nil {
				t.Fatal(err)
			}
			if !e.clean() {
				t.Fatal("nothing cleaned")
			}
			recs := readAll(t, e.l, 0)
			if got := latest(recs); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after cleaning %v, want %v", got, want)
			}
			if len(recs) != len(want) {
				t.Fatalf("%d records kept for %d keys", len(recs), len(want))
			}
			res, _ := e.l.Read(0, 1<<20, -1, true)
			magics, _ := checkStored(t, res.Records)
			for _, m := range magics {
				if m != magic {
					t.Fatalf("magics %v", magics)
				}
			}
		})
	}
}

// TestLegacyLZ4HeaderChecksum checks the magic 0 LZ4 frames: written with Kafka 0.8/0.9's header checksum (over
// the frame magic too), read back whichever checksum they carry; magic 1 frames keep the standard one.
func TestLegacyLZ4HeaderChecksum(t *testing.T) {
	inner := legacySet(0, CodecNone, 0, 0, "a", "b")
	std, err := compress(CodecLZ4, inner)
	if err != nil {
		t.Fatal(err)
	}
	pos, c, broken, ok := lz4HeaderChecksum(std)
	if !ok || std[pos] != c || c == broken {
		t.Fatalf("header checksum: ok %v stored %x computed %x broken %x", ok, std[pos], c, broken)
	}
	old, err := legacyCompress(0, CodecLZ4, inner)
	if err != nil || old[pos] != broken || !bytes.Equal(old[:pos], std[:pos]) {
		t.Fatalf("magic 0 frame: %v", err)
	}
	if m1, _ := legacyCompress(1, CodecLZ4, inner); m1[pos] != c {
		t.Fatal("magic 1 frame changed")
	}
	for _, z := range [][]byte{std, old} {
		w := legacyMsg(0, 1, CodecLZ4, 0, nil, z)
		recs, err := batch(w).records()
		if err != nil || len(recs) != 2 || string(recs[1].Value) != "b" {
			t.Fatalf("read %+v: %v", recs, err)
		}
	}
	// Through the log: an LZ4 set from an old producer, stored and read back as magic 0 with the old checksum.
	l := openTest(t, filepath.Join(t.TempDir(), "z-0"), formatConfig(0), newClock())
	defer l.Close()
	mustAppend(t, l, legacyMsg(0, 1, CodecLZ4, 0, nil, old), 0)
	mustAppend(t, l, v2Plain(t, 1, CodecLZ4, "c", "d"), 0)
	res, _ := l.Read(0, 1<<20, -1, true)
	for p := res.Records; len(p) > 0; {
		b, _ := nextBatch(p)
		w, _ := parseLegacy(b)
		if pos, _, br, ok := lz4HeaderChecksum(w.value); !ok || w.value[pos] != br {
			t.Fatalf("stored magic 0 LZ4 wrapper at %d lacks the old header checksum", w.offset)
		}
		p = p[len(b):]
	}
	if recs := readAll(t, l, 0); len(recs) != 4 || string(recs[3].Value) != "d" {
		t.Fatalf("%+v", recs)
	}
}

// TestReaderVarint checks the reader's inline one- and two-byte decoding against binary.Varint: canonical encodings
// of values around every length boundary, non-canonical ones, and truncated ones (which fail).
func TestReaderVarint(t *testing.T) {
	var inputs [][]byte
	for _, v := range []int64{0, 1, -1, 63, -64, 64, -65, 100, 1024, 8191, -8192, 8192, -8193, 1 << 20, math.MaxInt64, math.MinInt64} {
		for d := int64(-2); d <= 2; d++ {
			inputs = append(inputs, binary.AppendVarint(nil, v+d))
		}
	}
	inputs = append(inputs, []byte{}, []byte{0x80}, []byte{0x80, 0x80}, []byte{0xff, 0xff}, []byte{0x80, 0x00}, []byte{0x81, 0x00, 0x05})
	for _, in := range inputs {
		for _, tail := range [][]byte{nil, {0x07}} {
			p := append(append([]byte{}, in...), tail...)
			r := reader{p: p}
			got := r.varint()
			want, n := binary.Varint(p)
			if n <= 0 {
				if r.err == nil {
					t.Fatalf("% x: decoded %d, want an error", p, got)
				}
				continue
			}
			if r.err != nil || got != want || len(r.p) != len(p)-n {
				t.Fatalf("% x: %d (err %v, %d left), want %d (%d left)", p, got, r.err, len(r.p), want, len(p)-n)
			}
		}
	}
}

// TestCompressionType checks compression.type on append (LogValidator's target codec): "producer" keeps the
// producer's codec, any other stores with its codec, rebuilding the batch (or wrapper) when the producer's differs,
// for v2 logs and logs in the 0.9/0.10 formats alike, with the same records read back; an idempotent producer's
// fields survive the rebuild; zstd cannot be stored in the old formats.
func TestCompressionType(t *testing.T) {
	codecs := map[string]int8{"uncompressed": CodecNone, "gzip": CodecGzip, "snappy": CodecSnappy, "lz4": CodecLZ4, "zstd": CodecZstd}
	type input struct {
		name  string
		set   []byte
		codec int8
	}
	v2In := []input{
		{"v2 plain", kbatch(t, 1_700_000_000_000, CodecNone, kv{"a", "1"}, kv{"", "2"}, kv{"c", "3"}), CodecNone},
		{"v2 gzip", kbatch(t, 1_700_000_000_000, CodecGzip, kv{"a", "1"}, kv{"", "2"}, kv{"c", "3"}), CodecGzip},
	}
	legacyIn := []input{
		{"magic 1 plain", legacySet(1, CodecNone, 1_700_000_000_000, 0, "x", "y", "z"), CodecNone},
		{"magic 1 snappy", legacySet(1, CodecSnappy, 1_700_000_000_000, 0, "x", "y", "z"), CodecSnappy},
		{"magic 0 gzip", legacySet(0, CodecGzip, 1_700_000_000_000, 0, "x", "y", "z"), CodecGzip},
	}
	for _, format := range []MessageFormat{FormatDefault, FormatV1, FormatV0} {
		magic := int8(2)
		inputs := append(append([]input{}, legacyIn...), v2In...)
		if format != FormatDefault {
			magic = int8(format) - 1
			inputs = legacyIn // the test's v2 records carry headers, which the old formats refuse
		}
		for _, in := range inputs {
			var want []Record
			for _, ct := range []string{"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"} {
				cfg := testConfig()
				cfg.MessageFormat = format
				cfg.CompressionType = ct
				c := newClock()
				l := openTest(t, filepath.Join(t.TempDir(), "ct-0"), cfg, c)
				_, err := l.AppendAsLeader(in.set, 0)
				wantCodec, ok := codecs[ct]
				if !ok {
					wantCodec = in.codec
				}
				if magic < 2 && wantCodec == CodecZstd {
					if !errors.Is(err, ErrUnsupportedCompression) {
						t.Fatalf("format %d, %s, zstd: %v", format, in.name, err)
					}
					l.Close()
					continue
				}
				if err != nil {
					t.Fatalf("format %d, %s, compression.type %s: %v", format, in.name, ct, err)
				}
				res, err := l.Read(0, 1<<20, -1, true)
				if err != nil {
					t.Fatal(err)
				}
				magics, stored := checkStored(t, res.Records)
				bad := len(magics) == 0 || (wantCodec != CodecNone && len(magics) != 1)
				for i := range magics {
					bad = bad || magics[i] != magic || stored[i] != wantCodec
				}
				if bad {
					t.Fatalf("format %d, %s, compression.type %s: stored magics %v codecs %v, want magic %d codec %d",
						format, in.name, ct, magics, stored, magic, wantCodec)
				}
				got := readAll(t, l, 0)
				if want == nil {
					want = got
				} else if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("format %d, %s, compression.type %s: records %v, want %v", format, in.name, ct, got, want)
				}
				l.Close()
			}
		}
	}

	// An idempotent producer's batch rebuilt with another codec keeps its producer id, epoch and sequence.
	cfg := testConfig()
	cfg.CompressionType = "lz4"
	l := openTest(t, filepath.Join(t.TempDir(), "ct-0"), cfg, newClock())
	defer l.Close()
	b := kbatch(t, 1_700_000_000_000, CodecNone, kv{"a", "1"}, kv{"b", "2"})
	binary.BigEndian.PutUint64(b[43:], 77)
	binary.BigEndian.PutUint16(b[51:], 3)
	binary.BigEndian.PutUint32(b[53:], 0)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	mustAppend(t, l, b, 0)
	res, err := l.Read(0, 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	kb := parseKmsg(t, res.Records)
	if len(kb) != 1 || kb[0].ProducerID != 77 || kb[0].ProducerEpoch != 3 || kb[0].FirstSequence != 0 || kb[0].Attributes&7 != int16(CodecLZ4) {
		t.Fatalf("rebuilt batch: %+v", kb)
	}
}

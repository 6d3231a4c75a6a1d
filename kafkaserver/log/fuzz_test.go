package log

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// FuzzAppendAsLeader feeds produce records to leader validation under every stored format and several
// compression.type values: whatever the bytes, validation never panics, and what it accepts is well-formed batches
// (checksums right) holding the records it counts, so a bad producer cannot put a broken entry in a log. Each input
// also goes in with its entries' checksums repaired, so that mutations reach past the checksum checks.
func FuzzAppendAsLeader(f *testing.F) {
	f.Add(kbatch(f, 1_700_000_000_000, CodecNone, kv{"a", "1"}, kv{"", "2"}))
	f.Add(kbatch(f, 1_700_000_000_000, CodecGzip, kv{"a", "1"}, kv{"b", "2"}))
	f.Add(kbatch(f, 1_700_000_000_000, CodecLZ4, kv{"", ""}))
	f.Add(legacySet(0, CodecNone, 1_700_000_000_000, 0, "x", "y"))
	f.Add(legacySet(1, CodecNone, 1_700_000_000_000, 0, "x", "y", "z"))
	f.Add(legacySet(1, CodecSnappy, 1_700_000_000_000, 0, "x", "y"))
	f.Add(legacySet(0, CodecGzip, 1_700_000_000_000, 0, "x"))
	configs := []Config{}
	for _, format := range []MessageFormat{FormatDefault, FormatV0, FormatV1} {
		for _, ct := range []string{"producer", "gzip", "uncompressed"} {
			c := DefaultConfig()
			c.MessageFormat, c.CompressionType = format, ct
			configs = append(configs, c)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for i := range 2 * len(configs) {
			records := raw
			if i >= len(configs) {
				records = withRepairedCRCs(raw)
			}
			i %= len(configs)
			cfg := &configs[i]
			v, err := validateLeader(records, 100, 3, cfg, 1_700_000_000_500, nil)
			if err != nil {
				continue
			}
			batches, err := splitBatches(v.records)
			if err != nil || len(batches) == 0 {
				t.Fatalf("config %d: accepted records store as %d unreadable batches: %v", i, len(batches), err)
			}
			n := 0
			for _, b := range batches {
				if err := b.validate(); err != nil {
					t.Fatalf("config %d: stored batch fails its checks: %v", i, err)
				}
				if b.magic() != cfg.RecordVersion() {
					t.Fatalf("config %d: stored magic %d, log format %d", i, b.magic(), cfg.RecordVersion())
				}
				recs, err := b.records()
				if err != nil {
					t.Fatalf("config %d: stored batch does not decode: %v", i, err)
				}
				n += len(recs)
			}
			if n != v.numMessages {
				t.Fatalf("config %d: %d records stored, %d counted", i, n, v.numMessages)
			}
		}
	})
}

// withRepairedCRCs returns a copy of p whose outer entries (v2 batches, magic 0/1 messages) carry correct checksums.
func withRepairedCRCs(p []byte) []byte {
	out := append([]byte(nil), p...)
	for e := out; len(e) >= logOverhead+5; {
		size := int(int32(binary.BigEndian.Uint32(e[8:])))
		if size < 5 || logOverhead+size > len(e) {
			break
		}
		entry := e[:logOverhead+size]
		switch magic := entry[16]; {
		case magic == 2 && len(entry) >= v2HeaderSize:
			batch(entry).setV2CRC()
		case magic < 2 && len(entry) >= 16:
			binary.BigEndian.PutUint32(entry[12:], crc32.ChecksumIEEE(entry[16:]))
		}
		e = e[len(entry):]
	}
	return out
}

// FuzzDownConvert converts arbitrary bytes, as a fetch of a damaged log could hand them over, for Fetch v0-v3:
// never a panic, and any output is whole magic 0/1 entries with correct checksums at or below the target magic.
// (Entries already at the target pass unchanged, as in Kafka: the input's checksums are repaired first, so that
// every checksum out is one the conversion vouches for.)
func FuzzDownConvert(f *testing.F) {
	f.Add(kbatch(f, 1_700_000_000_000, CodecNone, kv{"a", "1"}, kv{"", "2"}), int64(1))
	f.Add(kbatch(f, 1_700_000_000_000, CodecSnappy, kv{"a", "1"}, kv{"b", "2"}), int64(0))
	f.Add(append(kbatch(f, 1, CodecGzip, kv{"k", "v"}), legacySet(1, CodecNone, 5, 0, "x")...), int64(-1))
	f.Fuzz(func(t *testing.T, records []byte, from int64) {
		records = withRepairedCRCs(records)
		for _, magic := range []int8{0, 1} {
			out, err := AppendDownConvertedFrom(nil, records, magic, from)
			if err != nil {
				continue
			}
			for p := out; len(p) > 0; {
				e, err := nextBatch(p)
				if err != nil {
					t.Fatalf("magic %d: converted output has a broken entry: %v", magic, err)
				}
				if e.magic() > magic {
					t.Fatalf("magic %d: converted entry of magic %d", magic, e.magic())
				}
				if want := binary.BigEndian.Uint32(e[12:]); crc32.ChecksumIEEE(e[16:]) != want {
					t.Fatalf("magic %d: converted entry at %d has a wrong checksum", magic, e.offsetField())
				}
				p = p[len(e):]
			}
		}
	})
}

// FuzzRecoverSegment opens a log whose only segment holds arbitrary bytes (its checksums repaired half the time, so
// that mutations reach past them), with no clean-shutdown marker and no indexes: start-up never panics or fails,
// and what it keeps reads back as whole, valid batches up to its log end.
func FuzzRecoverSegment(f *testing.F) {
	var two []byte
	two = append(two, kbatch(f, 1000, CodecNone, kv{"k", "v"}, kv{"", "w"})...)
	two = append(two, kbatch(f, 1002, CodecGzip, kv{"a", "b"})...)
	f.Add(two, false)
	f.Add(legacySet(1, CodecNone, 1000, 0, "x", "y"), true)
	f.Add(append(two, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 40), true)
	f.Fuzz(func(t *testing.T, data []byte, repair bool) {
		if repair {
			data = withRepairedCRCs(data)
		}
		dir := filepath.Join(t.TempDir(), "f-0")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(segmentFile(dir, 0, logSuffix), data, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, testConfig(), newClock().now, quietLogger())
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer l.Close()
		for off := l.LogStartOffset(); off < l.LogEndOffset(); {
			res, err := l.Read(off, 1<<20, -1, true)
			if err != nil || len(res.Records) == 0 {
				t.Fatalf("read at %d of [%d, %d): %d bytes, %v", off, l.LogStartOffset(), l.LogEndOffset(), len(res.Records), err)
			}
			bs, err := splitBatches(res.Records)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				if err := b.validate(); err != nil {
					t.Fatalf("kept batch at %d: %v", b.offsetField(), err)
				}
				off = b.lastOffset() + 1
			}
		}
	})
}

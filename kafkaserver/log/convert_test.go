package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"testing"
)

// legacyMsg builds a magic 0/1 log entry by hand from the LegacyRecord layout (CRC-32 over
// magic..end), independently of encodeLegacy.
func legacyMsg(magic int8, offset int64, attrs int8, ts int64, key, value []byte) []byte {
	var m []byte
	m = append(m, byte(magic), byte(attrs))
	if magic == 1 {
		m = binary.BigEndian.AppendUint64(m, uint64(ts))
	}
	for _, f := range [][]byte{key, value} {
		if f == nil {
			m = binary.BigEndian.AppendUint32(m, 0xffffffff)
		} else {
			m = binary.BigEndian.AppendUint32(m, uint32(len(f)))
			m = append(m, f...)
		}
	}
	out := binary.BigEndian.AppendUint64(nil, uint64(offset))
	out = binary.BigEndian.AppendUint32(out, uint32(4+len(m)))
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(m))
	return append(out, m...)
}

func TestUpConvertLegacy(t *testing.T) {
	type tc struct {
		name  string
		set   []byte
		codec int8
		ts    []int64
	}
	v0 := append(legacyMsg(0, 0, 0, 0, []byte("k1"), []byte("v1")), legacyMsg(0, 1, 0, 0, nil, []byte("v2"))...)
	v1 := append(legacyMsg(1, 0, 0, 500, []byte("k1"), []byte("v1")), legacyMsg(1, 1, 0, 600, nil, []byte("v2"))...)
	inner1 := append(legacyMsg(1, 0, 0, 700, []byte("k1"), []byte("v1")), legacyMsg(1, 1, 0, 800, nil, []byte("v2"))...)
	z1, _ := compress(CodecGzip, inner1)
	wrapped1 := legacyMsg(1, 1, CodecGzip, 800, nil, z1)
	inner0 := append(legacyMsg(0, 0, 0, 0, []byte("k1"), []byte("v1")), legacyMsg(0, 1, 0, 0, nil, []byte("v2"))...)
	z0, _ := compress(CodecSnappy, inner0)
	wrapped0 := legacyMsg(0, 1, CodecSnappy, 0, nil, z0)
	for _, c := range []tc{
		{"magic0", v0, CodecNone, []int64{-1, -1}},
		{"magic1", v1, CodecNone, []int64{500, 600}},
		{"magic1-gzip", wrapped1, CodecGzip, []int64{700, 800}},
		{"magic0-snappy", wrapped0, CodecSnappy, []int64{-1, -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := openTest(t, filepath.Join(t.TempDir(), "old-0"), testConfig(), newClock())
			defer l.Close()
			mustAppend(t, l, kbatch(t, 1, CodecNone, kv{"x", "y"}), 0)
			info := mustAppend(t, l, c.set, 4)
			if !info.Converted || info.FirstOffset != 1 || info.LastOffset != 2 || info.NumMessages != 2 {
				t.Fatalf("%+v", info)
			}
			res, _ := l.Read(1, 1<<20, -1, false)
			bs := parseKmsg(t, res.Records)
			if len(bs) != 1 || bs[0].Magic != 2 || bs[0].FirstOffset != 1 || bs[0].PartitionLeaderEpoch != 4 ||
				bs[0].Attributes&7 != int16(c.codec) || bs[0].ProducerID != -1 {
				t.Fatalf("%+v", bs)
			}
			recs, err := batch(res.Records).records()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 || string(recs[0].Key) != "k1" || recs[1].Key != nil || string(recs[1].Value) != "v2" ||
				recs[0].Timestamp != c.ts[0] || recs[1].Timestamp != c.ts[1] || recs[1].Offset != 2 {
				t.Fatalf("%+v", recs)
			}
		})
	}
}

func TestDownConvert(t *testing.T) {
	l := openTest(t, filepath.Join(t.TempDir(), "new-0"), testConfig(), newClock())
	defer l.Close()
	mustAppend(t, l, kbatch(t, 100, CodecNone, kv{"a", "1"}, kv{"", "2"}), 0)
	mustAppend(t, l, kbatch(t, 200, CodecGzip, kv{"c", "3"}, kv{"d", "4"}), 0)
	mustAppend(t, l, kbatch(t, 300, CodecLZ4, kv{"e", "5"}), 0)
	res, _ := l.Read(0, 1<<20, -1, false)
	for _, magic := range []int8{0, 1} {
		out, err := DownConvert(res.Records, magic)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := splitBatches(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != 4 { // two plain messages, one gzip wrapper, one lz4 wrapper
			t.Fatalf("magic %d: %d entries", magic, len(bs))
		}
		var recs []Record
		for _, b := range bs {
			if b.magic() != magic || b.validate() != nil {
				t.Fatalf("magic %d: entry magic %d", magic, b.magic())
			}
			r, err := b.records()
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r...)
		}
		want := []string{"1", "2", "3", "4", "5"}
		for i, r := range recs {
			if r.Offset != int64(i) || string(r.Value) != want[i] {
				t.Fatalf("magic %d record %d: %+v", magic, i, r)
			}
			if magic == 1 && r.Timestamp < 100 || magic == 0 && r.Timestamp != -1 {
				t.Fatalf("magic %d timestamp %d", magic, r.Timestamp)
			}
		}
		if bs[2].lastOffset() != 3 || bs[2].codec() != CodecGzip {
			t.Fatal("wrapper offset must be its last inner offset")
		}
		// Up-converting the down-converted set gives the same records back.
		l2 := openTest(t, filepath.Join(t.TempDir(), "rt-0"), testConfig(), newClock())
		for _, b := range bs {
			mustAppend(t, l2, b, 0)
		}
		if got := readAll(t, l2, 0); len(got) != 5 || !bytes.Equal(got[4].Value, []byte("5")) {
			t.Fatalf("round trip %+v", got)
		}
		l2.Close()
	}
	if all, err := DecodeRecords(res.Records[:len(res.Records)-3]); err != nil || len(all) != 4 {
		t.Fatalf("DecodeRecords with a partial tail: %d %v", len(all), err)
	}
	zs := kbatch(t, 1, CodecZstd, kv{"a", "b"})
	if _, err := DownConvert(zs, 1); !errors.Is(err, ErrUnsupportedCompression) {
		t.Fatalf("zstd: %v", err)
	}
}

// An append's Conversion is Kafka's RecordConversionStats: nothing for plain v2 batches stored as they are, the
// decompressed size for a compressed batch validated in place (no records converted), and the records with the
// bytes rebuilt for an up-conversion or a recompression.
func TestAppendConversionStats(t *testing.T) {
	v0 := append(legacyMsg(0, 0, 0, 0, []byte("k1"), []byte("v1")), legacyMsg(0, 1, 0, 0, nil, []byte("v2"))...)
	for _, c := range []struct {
		name        string
		set         []byte
		compression string
		records     int
		temp        bool
	}{
		{"v2 plain", kbatch(t, 1, CodecNone, kv{"a", "b"}, kv{"c", "d"}), "producer", 0, false},
		{"v2 gzip in place", kbatch(t, 1, CodecGzip, kv{"a", "b"}, kv{"c", "d"}), "producer", 0, true},
		{"v2 gzip recompressed", kbatch(t, 1, CodecGzip, kv{"a", "b"}, kv{"c", "d"}), "lz4", 2, true},
		{"magic 0 up-converted", v0, "producer", 2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.CompressionType = c.compression
			l := openTest(t, filepath.Join(t.TempDir(), "conv-0"), cfg, newClock())
			defer l.Close()
			info := mustAppend(t, l, c.set, 0)
			cv := info.Conversion
			if cv.Records != c.records || (cv.TempBytes > 0) != c.temp || (cv.Records == 0) != (cv.Time == 0) {
				t.Fatalf("conversion %+v, want %d records converted, temporary memory %v", cv, c.records, c.temp)
			}
		})
	}
}

// ConvertedRecordCount counts from batch headers what a down-conversion rewrites: v2 records but not control
// batches, and nothing already at the target magic.
func TestConvertedRecordCount(t *testing.T) {
	v2 := kbatch(t, 1, CodecNone, kv{"a", "b"}, kv{"c", "d"}, kv{"e", "f"})
	old := legacyMsg(1, 3, 0, 5, nil, []byte("x"))
	set := append(append([]byte{}, v2...), old...)
	if n := ConvertedRecordCount(set, 1); n != 3 {
		t.Fatalf("to magic 1: %d records, want the v2 batch's 3", n)
	}
	if n := ConvertedRecordCount(set, 0); n != 4 {
		t.Fatalf("to magic 0: %d records, want 3 + the magic 1 message", n)
	}
	if n := ConvertedRecordCount(set[:len(set)-3], 1); n != 3 {
		t.Fatalf("with a partial trailing entry: %d", n)
	}
}

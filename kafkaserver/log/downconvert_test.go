package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// oldDownConvert is the record-by-record conversion AppendDownConverted replaced (decode every record, encode each
// legacy entry on its own), kept as the reference the single-pass version must match byte for byte.
func oldDownConvert(records []byte, toMagic int8) ([]byte, error) {
	var out []byte
	for len(records) > 0 {
		b, err := nextBatch(records)
		if errors.Is(err, errShort) {
			break
		}
		if err != nil {
			return nil, err
		}
		records = records[len(b):]
		if b.magic() <= toMagic {
			out = append(out, b...)
			continue
		}
		if b.isControl() {
			continue
		}
		codec := b.codec()
		if codec == CodecZstd {
			return nil, ErrUnsupportedCompression
		}
		recs, err := b.records()
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			continue
		}
		var attrs int8
		if toMagic == 1 && b.timestampType() == timestampLogAppend {
			attrs = attrTimestampType
		}
		if codec == CodecNone {
			for _, r := range recs {
				out = append(out, encodeLegacy(toMagic, r.Offset, attrs, r.Timestamp, r.Key, r.Value)...)
			}
			continue
		}
		var inner []byte
		maxTs := noTimestamp
		for i, r := range recs {
			off := r.Offset
			if toMagic == 1 {
				off = int64(i)
			}
			inner = append(inner, encodeLegacy(toMagic, off, attrs, r.Timestamp, r.Key, r.Value)...)
			maxTs = max(maxTs, r.Timestamp)
		}
		if b.timestampType() == timestampLogAppend {
			maxTs = b.maxTimestamp()
		}
		z, err := legacyCompress(toMagic, codec, inner) // magic 0 LZ4: Kafka's pre-0.10 header checksum
		if err != nil {
			return nil, err
		}
		out = append(out, encodeLegacy(toMagic, recs[len(recs)-1].Offset, attrs|codec, maxTs, nil, z)...)
	}
	return out, nil
}

// withAttrs sets a v2 batch's base offset and ORs extra attribute bits in (the CRC is not checked here).
func withAttrs(b []byte, base int64, extra int16, maxTs int64) []byte {
	b = append([]byte(nil), b...)
	binary.BigEndian.PutUint64(b, uint64(base))
	binary.BigEndian.PutUint16(b[21:], binary.BigEndian.Uint16(b[21:])|uint16(extra))
	if maxTs >= 0 {
		binary.BigEndian.PutUint64(b[35:], uint64(maxTs))
	}
	return b
}

func TestAppendDownConvertedMatchesReference(t *testing.T) {
	var set []byte
	set = append(set, withAttrs(kbatch(t, 100, CodecNone, kv{"a", "1"}, kv{"", "2"}, kv{"k", ""}), 0, 0, -1)...)
	set = append(set, withAttrs(kbatch(t, 200, CodecGzip, kv{"c", "3"}, kv{"d", "4"}), 3, 0, -1)...)
	set = append(set, withAttrs(kbatch(t, 250, CodecSnappy, kv{"", "s"}), 5, 0, -1)...)
	set = append(set, withAttrs(kbatch(t, 300, CodecLZ4, kv{"e", "5"}, kv{"f", "6"}), 6, 0, -1)...)
	set = append(set, withAttrs(kbatch(t, 400, CodecNone, kv{"g", "7"}), 8, attrTimestampType, 999)...)
	set = append(set, withAttrs(kbatch(t, 400, CodecGzip, kv{"h", "8"}, kv{"i", "9"}), 9, attrTimestampType, 998)...)
	set = append(set, withAttrs(kbatch(t, 500, CodecNone, kv{"", "ctl"}), 11, attrControl, -1)...)
	set = append(set, legacyMsg(1, 12, 0, 600, []byte("m1"), []byte("v"))...)
	set = append(set, legacyMsg(0, 13, 0, 0, nil, []byte("m0"))...)
	inner := append(legacyMsg(1, 0, 0, 700, []byte("x"), []byte("y")), legacyMsg(1, 1, 0, 800, nil, []byte("z"))...)
	z, _ := compress(CodecGzip, inner)
	set = append(set, legacyMsg(1, 15, CodecGzip, 800, nil, z)...)
	big := make([]kv, 300)
	for i := range big {
		big[i] = kv{v: string(bytes.Repeat([]byte{byte(i)}, i))}
	}
	set = append(set, withAttrs(kbatch(t, 900, CodecNone, big...), 16, 0, -1)...)

	for _, magic := range []int8{0, 1} {
		for _, in := range [][]byte{set, set[:len(set)-7]} {
			want, err := oldDownConvert(in, magic)
			if err != nil {
				t.Fatal(err)
			}
			got, err := AppendDownConverted([]byte("prefix"), in, magic)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[6:], want) {
				t.Fatalf("magic %d: %d bytes, reference %d", magic, len(got)-6, len(want))
			}
			if d, err := DownConvert(in, magic); err != nil || !bytes.Equal(d, want) {
				t.Fatalf("DownConvert magic %d differs: %v", magic, err)
			}
			if b := downConvertedSizeBound(in, magic); b < len(want) {
				t.Fatalf("magic %d: bound %d below %d", magic, b, len(want))
			}
		}
	}
	// From a fetch offset: only the entries converted from uncompressed v2 batches below it are left out (legacy
	// messages and compressed wrappers pass whole, as in Kafka's RecordsUtil.downConvert).
	for _, magic := range []int8{0, 1} {
		whole, err := DownConvert(set, magic)
		if err != nil {
			t.Fatal(err)
		}
		for from := int64(0); from <= 20; from++ {
			var want []byte
			for rest := whole; len(rest) > 0; {
				e, err := nextBatch(rest)
				if err != nil {
					t.Fatal(err)
				}
				rest = rest[len(e):]
				// Uncompressed entries from v2 batches are the records at offsets 0-2, 8 and 16 on.
				off := e.offsetField()
				if e.codec() == CodecNone && (off <= 2 || off == 8 || off >= 16) && off < from {
					continue
				}
				want = append(want, e...)
			}
			got, err := AppendDownConvertedFrom(nil, set, magic, from)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("magic %d from %d: %d bytes, want %d (%v)", magic, from, len(got), len(want), err)
			}
		}
	}
	if _, err := AppendDownConverted(nil, kbatch(t, 1, CodecZstd, kv{"a", "b"}), 0); !errors.Is(err, ErrUnsupportedCompression) {
		t.Fatalf("zstd: %v", err)
	}
	if _, err := AppendDownConverted(nil, set, 2); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("magic 2: %v", err)
	}
}

// TestAppendDownConvertedAllocations pins the point of the single pass: an uncompressed fetch converts with one
// allocation, however many records.
func TestAppendDownConvertedAllocations(t *testing.T) {
	recs := make([]kv, 500)
	for i := range recs {
		recs[i] = kv{v: "0123456789"}
	}
	set := append(kbatch(t, 1, CodecNone, recs...), withAttrs(kbatch(t, 1, CodecNone, recs...), 500, 0, -1)...)
	for _, magic := range []int8{0, 1} {
		n := testing.AllocsPerRun(10, func() {
			if _, err := AppendDownConverted(nil, set, magic); err != nil {
				t.Fatal(err)
			}
		})
		if n > 1 {
			t.Fatalf("magic %d: %.0f allocations", magic, n)
		}
	}
}

// TestReadBatchesBoundaries checks Read's single-buffer walk against batch boundaries computed independently, over
// offsets, byte limits (smaller than, equal to and across batches), high watermarks and minOneMessage.
func TestReadBatchesBoundaries(t *testing.T) {
	l := openTest(t, t.TempDir()+"/rb-0", testConfig(), newClock())
	defer l.Close()
	type span struct {
		first, last int64
		size        int
	}
	var spans []span
	for i := range 12 {
		recs := make([]kv, 1+i%4)
		for j := range recs {
			recs[j] = kv{v: string(bytes.Repeat([]byte{'v'}, 10+37*i))}
		}
		b := kbatch(t, 1, CodecNone, recs...)
		info := mustAppend(t, l, b, 0)
		spans = append(spans, span{info.FirstOffset, info.LastOffset, len(b)})
	}
	end := l.LogEndOffset()
	for off := int64(0); off < end; off++ {
		for _, maxOff := range []int64{end, end - 1, off + 1, off + 3} {
			for _, maxBytes := range []int32{0, 1, 60, 61, 200, 500, 1000, 5000} {
				for _, minOne := range []bool{false, true} {
					res, err := l.Read(off, maxBytes, maxOff, minOne)
					if err != nil {
						t.Fatal(err)
					}
					want, tooLarge := 0, false
					for _, s := range spans {
						if s.last < off {
							continue
						}
						if s.last >= maxOff {
							break
						}
						if want+s.size > int(maxBytes) && !(want == 0 && minOne) {
							if tooLarge = want == 0; tooLarge {
								want = int(maxBytes) // the start of the oversize batch, as Kafka slices it
							}
							break
						}
						want += s.size
					}
					if len(res.Records) != want || res.FirstBatchTooLarge != tooLarge {
						t.Fatalf("Read(%d, %d, %d, %v): %d bytes tooLarge=%v, want %d %v", off, maxBytes, maxOff, minOne,
							len(res.Records), res.FirstBatchTooLarge, want, tooLarge)
					}
					if want > 0 && !tooLarge {
						if _, err := splitBatches(res.Records); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
}

// TestSplitForDownConversion checks the runs a large conversion is cut into: whole batches that add up to the
// input, at most n of them, each bounded by its own DownConvertedSizeBound with bounds that add up to the whole's;
// a compressed batch above the target magic keeps the input whole.
func TestSplitForDownConversion(t *testing.T) {
	var set []byte
	for i := range 50 {
		recs := make([]kv, 1+i%7)
		for j := range recs {
			recs[j] = kv{v: strings.Repeat("v", 10+i*j)}
		}
		set = append(set, withAttrs(kbatch(t, int64(100+i), CodecNone, recs...), int64(i*10), 0, -1)...)
		if i%9 == 0 {
			set = append(set, legacyMsg(0, int64(i*10+8), 0, 0, nil, []byte("m0"))...)
		}
	}
	for _, magic := range []int8{0, 1} {
		whole, err := DownConvert(set, magic)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 2, 3, 8} {
			for _, in := range [][]byte{set, set[:len(set)-5]} {
				runs := SplitForDownConversion(in, magic, n)
				if len(runs) > n || len(runs) == 0 {
					t.Fatalf("n %d: %d runs", n, len(runs))
				}
				var joined, converted []byte
				bounds := 0
				for _, r := range runs {
					joined = append(joined, r...)
					c, err := DownConvert(r, magic)
					if err != nil {
						t.Fatal(err)
					}
					if b := DownConvertedSizeBound(r, magic); len(c) > b {
						t.Fatalf("run converts to %d bytes, bound %d", len(c), b)
					}
					bounds += DownConvertedSizeBound(r, magic)
					converted = append(converted, c...)
				}
				if !bytes.Equal(joined, in) || bounds != DownConvertedSizeBound(in, magic) {
					t.Fatalf("n %d: runs join to %d bytes of %d, bounds %d of %d", n, len(joined), len(in), bounds, DownConvertedSizeBound(in, magic))
				}
				if len(in) == len(set) && !bytes.Equal(converted, whole) {
					t.Fatalf("n %d magic %d: runs convert differently from the whole", n, magic)
				}
				if n >= 2 && len(runs) < 2 {
					t.Fatalf("n %d: not split", n)
				}
			}
		}
	}
	gz := append(append([]byte(nil), set...), withAttrs(kbatch(t, 1, CodecGzip, kv{"a", "b"}), 600, 0, -1)...)
	if runs := SplitForDownConversion(gz, 0, 4); len(runs) != 1 || !bytes.Equal(runs[0], gz) {
		t.Fatalf("compressed batch: %d runs", len(runs))
	}
}

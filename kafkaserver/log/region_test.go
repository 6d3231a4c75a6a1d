package log

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// regionBytes reads a region's bytes from its own descriptor and closes it.
func regionBytes(t *testing.T, r *Region) []byte {
	t.Helper()
	defer r.File.Close()
	b := make([]byte, r.Len)
	if _, err := r.File.ReadAt(b, r.Pos); err != nil {
		t.Fatalf("read region %d+%d: %v", r.Pos, r.Len, err)
	}
	return b
}

// TestReadRegionMatchesRead checks that ReadRegion and ReadSlice choose exactly the bytes of Kafka's slice of the
// segment (kafkaSlice), as a region of the segment file or as bytes, and that they begin with the batches ReadWith
// returns, over small and large batches, several segments, v2 batches and magic 0/1 message sets (one entry per
// record, compressed wrappers), and index intervals that put an entry after every append, after a few, or nowhere
// (the cut then walks from the read's start).
func TestReadRegionMatchesRead(t *testing.T) {
	for _, format := range []struct {
		name  string
		f     MessageFormat
		magic int8
	}{{"v2", FormatV2, 2}, {"magic0", FormatV0, 0}, {"magic1", FormatV1, 1}} {
		for _, interval := range []int32{1, 4 << 10, 1 << 30} {
			t.Run(fmt.Sprintf("%s-interval%d", format.name, interval), func(t *testing.T) {
				cfg := testConfig()
				cfg.SegmentBytes = 300 << 10
				cfg.IndexIntervalBytes = interval
				cfg.MessageFormat = format.f
				checkReadRegion(t, cfg, format.magic)
			})
		}
	}
}

func checkReadRegion(t *testing.T, cfg Config, magic int8) {
	l := openTest(t, filepath.Join(t.TempDir(), "t-0"), cfg, newClock())
	defer l.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 120 {
		n := 10 + rng.IntN(300)
		if i%7 == 0 {
			n = 33<<10 + rng.IntN(80<<10)
		}
		v := make([]byte, n)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		recs := []kv{{v: string(v)}}
		if i%5 == 0 {
			recs = append(recs, kv{v: "x"}, kv{k: "k", v: "y"})
		}
		if i%3 == 0 {
			for j := range 1 + rng.IntN(40) {
				recs = append(recs, kv{v: strings.Repeat("r", 20+j)})
			}
		}
		codec := int8(0)
		if i%11 == 0 {
			codec = 1 // gzip: a v2 batch, or a legacy wrapper
		}
		if magic == 2 {
			mustAppend(t, l, kbatch(t, int64(i), codec, recs...), 0)
			continue
		}
		vals := make([]string, len(recs))
		for j, r := range recs {
			vals[j] = r.v
		}
		mustAppend(t, l, legacySet(magic, codec, 1_700_000_000_000+int64(i), 0, vals...), 0)
	}
	if len(l.segs) < 3 {
		t.Fatalf("%d segments", len(l.segs))
	}
	files := segFiles(t, l)
	end := l.LogEndOffset()
	for off := int64(0); off < end; off += 1 + off%7 {
		for _, maxBytes := range []int32{0, 100, 5 << 10, 40 << 10, 200 << 10, 1 << 20} {
			for _, minOne := range []bool{false, true} {
				for _, maxOffset := range []int64{-1, end - 3, off + 1 + off%13} {
					whole, err := l.ReadWith(off, maxBytes, maxOffset, minOne, nil)
					if err != nil {
						t.Fatal(err)
					}
					want, err := l.ReadSlice(off, maxBytes, maxOffset, false, minOne, nil)
					if err != nil {
						t.Fatal(err)
					}
					if ks := kafkaSlice(l, files, off, maxBytes, maxOffset, minOne); !bytes.Equal(want.Records, ks) ||
						!bytes.HasPrefix(want.Records, whole.Records) || want.FirstBatchTooLarge != whole.FirstBatchTooLarge {
						t.Fatalf("off %d max %d minOne %v maxOffset %d: slice %d bytes, Kafka's %d, whole batches %d",
							off, maxBytes, minOne, maxOffset, len(want.Records), len(ks), len(whole.Records))
					}
					res, r, err := l.ReadRegion(off, maxBytes, maxOffset, minOne, magic, 0, nil)
					if err != nil {
						t.Fatal(err)
					}
					var got []byte
					if r != nil {
						got = regionBytes(t, r)
						if res.Records != nil {
							t.Fatal("records and a region")
						}
					}
					if !bytes.Equal(got, want.Records) || res.FirstBatchTooLarge != want.FirstBatchTooLarge ||
						res.HighWatermark != want.HighWatermark || res.LogEndOffset != want.LogEndOffset {
						t.Fatalf("off %d max %d minOne %v maxOffset %d: region %d bytes (tooLarge %v), read %d (%v)",
							off, maxBytes, minOne, maxOffset, len(got), res.FirstBatchTooLarge, len(want.Records), want.FirstBatchTooLarge)
					}
					// Below minLen, or for a reader that takes only an older format: bytes.
					for _, args := range []struct {
						magic int8
						min   int
					}{{magic, 1 << 30}, {magic - 1, 0}} {
						res, r, err := l.ReadRegion(off, maxBytes, maxOffset, minOne, args.magic, args.min, nil)
						if err != nil || r != nil || !bytes.Equal(res.Records, want.Records) {
							t.Fatalf("off %d max %d: %+v: region %v, %d bytes, %v", off, maxBytes, args, r != nil, len(res.Records), err)
						}
					}
				}
			}
		}
	}
	if _, _, err := l.ReadRegion(end+1, 100, -1, true, magic, 0, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("out of range: %v", err)
	}
}

// segFile is a segment's bytes and its batches' positions and last offsets.
type segFile struct {
	data      []byte
	pos, last []int64
}

func segFiles(t *testing.T, l *Log) []segFile {
	t.Helper()
	files := make([]segFile, len(l.segs))
	for i, s := range l.segs {
		f := &files[i]
		f.data = make([]byte, s.size)
		if _, err := s.log.ReadAt(f.data, 0); err != nil {
			t.Fatal(err)
		}
		for p := int64(0); p < s.size; p += batchLen(batch(f.data[p:])) {
			f.pos, f.last = append(f.pos, p), append(f.last, batch(f.data[p:]).lastOffset())
		}
	}
	return files
}

// kafkaSlice is what Kafka's Log.read returns, from the segments' batches as listed by segFiles rather than from
// the index: from the first segment holding a batch that reaches offset, the bytes from that batch's position up
// to min(the position of the batch holding maxOffset (or the segment's end), start + maxBytes), or the whole first
// batch with minOne when it is larger (LogSegment.read).
func kafkaSlice(l *Log, files []segFile, offset int64, maxBytes int32, maxOffset int64, minOne bool) []byte {
	if maxOffset < 0 || maxOffset > l.next {
		maxOffset = l.next
	}
	if offset >= maxOffset {
		return nil
	}
	for _, f := range files {
		i, _ := slices.BinarySearch(f.last, offset)
		if i == len(f.last) {
			continue
		}
		start, maxPos := f.pos[i], int64(len(f.data))
		if j, _ := slices.BinarySearch(f.last, maxOffset); j < len(f.pos) {
			maxPos = f.pos[j]
		}
		size := int64(max(maxBytes, 0))
		if first := batchLen(batch(f.data[start:])); minOne && first > size {
			size = first
		}
		return f.data[start : start+max(min(maxPos-start, size), 0)]
	}
	return nil
}

// TestRegionOutlivesSegment checks that a region stays readable after its log is deleted (retention, topic
// deletion): it holds a descriptor of its own.
func TestRegionOutlivesSegment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	l := openTest(t, dir, testConfig(), newClock())
	for i := range 10 {
		mustAppend(t, l, kbatch(t, int64(i), 0, kv{v: strings.Repeat("v", 1000)}), 0)
	}
	want, err := l.Read(0, 1<<20, -1, true)
	if err != nil {
		t.Fatal(err)
	}
	_, r, err := l.ReadRegion(0, 1<<20, -1, true, 2, 0, nil)
	if err != nil || r == nil {
		t.Fatalf("region %v, %v", r, err)
	}
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("log directory still there: %v", err)
	}
	if got := regionBytes(t, r); !bytes.Equal(got, want.Records) {
		t.Fatal("region bytes differ after deletion")
	}
}

// TestReadRegionMagic0 reads a log that Kafka 0.9 wrote (magic 0 message sets), configured with
// message.format.version 0.9.0: a region for a reader that takes magic 0 unchanged, bytes for one that does not.
// With the default format (v2) a magic 0 reader gets bytes, as Kafka 2.8 checks such batches before sending them.
func TestReadRegionMagic0(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MessageFormat = FormatV0
	l := openKafka09Log(t, cfg)
	want, err := l.Read(0, 1<<20, -1, true)
	if err != nil || len(want.Records) == 0 {
		t.Fatalf("read: %d bytes, %v", len(want.Records), err)
	}
	_, r, err := l.ReadRegion(0, 1<<20, -1, true, 0, 0, nil)
	if err != nil || r == nil {
		t.Fatalf("region %v, %v", r, err)
	}
	if got := regionBytes(t, r); !bytes.Equal(got, want.Records) {
		t.Fatal("region differs")
	}
	res, r, err := l.ReadRegion(0, 1<<20, -1, true, -1, 0, nil)
	if err != nil || r != nil || !bytes.Equal(res.Records, want.Records) {
		t.Fatalf("magic -1: region %v, %v", r != nil, err)
	}
	def := DefaultConfig()
	l.SetConfig(def)
	res, r, err = l.ReadRegion(0, 1<<20, -1, true, 0, 0, nil)
	if err != nil || r != nil || !bytes.Equal(res.Records, want.Records) {
		t.Fatalf("default format: region %v, %v", r != nil, err)
	}
}

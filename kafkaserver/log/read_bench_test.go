package log

import (
	"fmt"
	"strings"
	"testing"
)

// fillBench appends batches of per records of size bytes until the log holds about total bytes.
func fillBench(b *testing.B, size, per, total int) *Log {
	b.Helper()
	l := openTest(b, b.TempDir()+"/bench-0", DefaultConfig(), newClock())
	b.Cleanup(func() { l.Close() })
	recs := make([]kv, per)
	for i := range recs {
		recs[i] = kv{v: strings.Repeat("x", size)}
	}
	batch := kbatch(b, 1_700_000_000_000, CodecNone, recs...)
	for n := 0; n < total; n += len(batch) {
		mustAppend(b, l, append([]byte(nil), batch...), 0)
	}
	l.SetHighWatermark(l.LogEndOffset())
	return l
}

// BenchmarkReadSequential is a consumer reading the log front to back with 1 MiB fetches: what one partition of
// a Fetch costs in the log (index lookup, batch walk, copy out of the segment).
func BenchmarkReadSequential(b *testing.B) {
	for _, c := range []struct{ size, per int }{{100, 100}, {1024, 16}} {
		b.Run(fmt.Sprintf("%dB", c.size), func(b *testing.B) {
			l := fillBench(b, c.size, c.per, 64<<20)
			hw := l.HighWatermark()
			off := int64(0)
			var bytes int64
			b.ResetTimer()
			for range b.N {
				res, err := l.Read(off, 1<<20, hw, true)
				if err != nil {
					b.Fatal(err)
				}
				bytes += int64(len(res.Records))
				bs, err := splitBatches(res.Records)
				if err != nil || len(bs) == 0 {
					b.Fatalf("%d batches, %v", len(bs), err)
				}
				off = bs[len(bs)-1].lastOffset() + 1
				if off >= hw {
					off = 0
				}
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
		})
	}
}

// BenchmarkDownConvert is the Fetch v0-v1 path (Kafka 0.9 consumers): 1 MiB of v2 batches to magic 0.
func BenchmarkDownConvert(b *testing.B) {
	for _, c := range []struct{ size, per int }{{100, 100}, {1024, 16}} {
		for _, magic := range []int8{0, 1} {
			b.Run(fmt.Sprintf("%dB/magic%d", c.size, magic), func(b *testing.B) {
				l := fillBench(b, c.size, c.per, 2<<20)
				res, err := l.Read(0, 1<<20, -1, true)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(res.Records)))
				// Into a reused buffer, as the broker converts into pooled ones.
				out := make([]byte, 0, DownConvertedSizeBound(res.Records, magic))
				b.ResetTimer()
				for range b.N {
					if out, err = AppendDownConverted(out[:0], res.Records, magic); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

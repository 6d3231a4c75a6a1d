package handler

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// v2Batches builds n uncompressed v2 batches of per records of size bytes, at consecutive offsets from base.
func v2Batches(n, per, size int, base int64) []byte {
	var out []byte
	for i := range n {
		var body []byte
		for j := range per {
			rec := kmsg.Record{OffsetDelta: int32(j), TimestampDelta64: int64(j), Value: bytes.Repeat([]byte{byte(i + j)}, size)}
			rec.Length = int32(len(rec.AppendTo(nil)) - 1)
			body = rec.AppendTo(body)
		}
		b := kmsg.RecordBatch{FirstOffset: base, PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(per - 1),
			FirstTimestamp: 1_700_000_000_000, MaxTimestamp: 1_700_000_000_000 + int64(per-1), ProducerID: -1,
			ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(per), Records: body, Length: int32(49 + len(body))}
		raw := b.AppendTo(nil)
		binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
		out = append(out, raw...)
		base += int64(per)
	}
	return out
}

// TestDownConvertAllSplits checks that conversions large enough to be cut into runs on several cores give the
// bytes of one DownConvert of the whole, with buffers from alloc of the bound's size or larger, and that a corrupt
// batch in a later run fails that partition only.
func TestDownConvertAllSplits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	big := v2Batches(100, 100, 100, 0)   // about 1 MiB: split
	small := v2Batches(3, 10, 50, 10000) // converted whole
	corrupt := append([]byte(nil), big...)
	corrupt[len(corrupt)-len(big)/100+61] = 0x7f // the last batch's first record length: past the batch
	for _, version := range []int16{1, 3} {
		magic := int8(0)
		if version == 3 {
			magic = 1
		}
		for _, slack := range []int{0, 4096} {
			convs := []conversion{{i: 0, records: big}, {i: 1, records: small}, {i: 2, records: big[:len(big)-100]}}
			alloc := func(n int) []byte { return make([]byte, 0, n+slack) }
			for k, c := range downConvertAll(convs, version, alloc) {
				want, err := klog.DownConvert(c.records, magic)
				if err != nil || c.err != nil {
					t.Fatalf("conversion %d: %v, %v", k, err, c.err)
				}
				if !bytes.Equal(c.out, want) {
					t.Fatalf("v%d slack %d conversion %d: %d bytes, want %d", version, slack, k, len(c.out), len(want))
				}
			}
		}
		_, wantErr := klog.DownConvert(corrupt, magic)
		convs := downConvertAll([]conversion{{i: 0, records: corrupt}, {i: 1, records: big}}, version,
			func(n int) []byte { return make([]byte, 0, n) })
		if wantErr == nil || convs[0].err == nil || convs[1].err != nil {
			t.Fatalf("corrupt: %v (whole: %v), other: %v", convs[0].err, wantErr, convs[1].err)
		}
	}
}

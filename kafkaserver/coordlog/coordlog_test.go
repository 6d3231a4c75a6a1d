package coordlog

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

func TestPartitionFor(t *testing.T) {
	for _, c := range []struct {
		g    string
		want int32
	}{
		{"hello", 22},             // hashCode 99162322
		{"polygenelubricants", 0}, // hashCode Integer.MIN_VALUE: Utils.abs gives 0
		{"my-group", 12},          // hashCode -1906497762
		{"console-consumer-12345", 6},
		{"\U0001F600g", 22}, // surrogate pair counts as two UTF-16 units
		{"", 0},
	} {
		if got := PartitionFor(c.g, 50); got != c.want {
			t.Errorf("PartitionFor(%q) = %d, want %d", c.g, got, c.want)
		}
	}
}

// TestBatchFormat checks the v2 batch header field by field and that franz-go parses it.
func TestBatchFormat(t *testing.T) {
	b := EncodeBatch(1234, Producer{}, []Record{{Key: []byte("k1"), Value: []byte("v1")}, {Key: []byte("k2")}})
	be := binary.BigEndian
	if int(be.Uint32(b[8:])) != len(b)-12 || b[16] != 2 || int32(be.Uint32(b[12:])) != -1 {
		t.Fatal("length/magic/epoch")
	}
	if be.Uint32(b[17:]) != crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)) {
		t.Fatal("crc")
	}
	if be.Uint16(b[21:]) != 0 || be.Uint32(b[23:]) != 1 || int64(be.Uint64(b[27:])) != 1234 || int64(be.Uint64(b[35:])) != 1234 ||
		int64(be.Uint64(b[43:])) != -1 || int16(be.Uint16(b[51:])) != -1 || int32(be.Uint32(b[53:])) != -1 || be.Uint32(b[57:]) != 2 {
		t.Fatal("header fields")
	}
	var kb kmsg.RecordBatch
	if err := kb.ReadFrom(b); err != nil || kb.NumRecords != 2 || kb.Magic != 2 || kb.ProducerID != -1 {
		t.Fatalf("kmsg: %v %+v", err, kb)
	}
	recs, err := klog.DecodeRecords(b)
	if err != nil || len(recs) != 2 || string(recs[0].Value) != "v1" || recs[1].Value != nil || recs[1].Offset != 1 || recs[0].Timestamp != 1234 {
		t.Fatalf("decode %v %+v", err, recs)
	}
}

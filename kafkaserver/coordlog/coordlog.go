// Package coordlog holds what the group and transaction coordinators share about their internal topics
// (__consumer_offsets, __transaction_state): which partition a key belongs to, and the record batches they
// write and replay.
package coordlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/zkafka/zkafka/compat/javahash"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// Log is an internal topic as a coordinator sees it: Append writes one record batch to a partition the broker
// leads and waits until it is replicated; ReadAll replays a partition from its start (fn may get one or more whole
// batches per call).
type Log interface {
	Append(partition int32, records []byte) (offset int64, err error)
	ReadAll(partition int32, fn func(batch []byte) error) error
}

// PartitionFor is the partition of an internal topic that coordinates key (a group or transactional id): Kafka's
// Utils.abs(key.hashCode) % numPartitions, where Utils.abs(Integer.MIN_VALUE) is 0.
func PartitionFor(key string, numPartitions int32) int32 {
	h := javahash.String(key)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % numPartitions
}

// Record is one key and value of a coordinator's batch; a nil value is a tombstone.
type Record struct {
	Key, Value []byte
}

// Producer marks a batch as written for a producer: TxnOffsetCommit's offsets go in a transactional batch with the
// producer's id and epoch (base sequence 0, as GroupMetadataManager builds it). The zero value is no producer.
type Producer struct {
	ID            int64
	Epoch         int16
	Transactional bool
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeBatch builds an uncompressed v2 RecordBatch with base offset 0 (the log assigns offsets) and CreateTime
// timestamp ts, as the coordinators append.
func EncodeBatch(ts int64, p Producer, recs []Record) []byte {
	b := make([]byte, 61, 61+len(recs)*64)
	for i, r := range recs {
		var body []byte
		body = append(body, 0) // attributes
		body = binary.AppendVarint(body, 0)
		body = binary.AppendVarint(body, int64(i))
		body = appendVarBytes(body, r.Key)
		body = appendVarBytes(body, r.Value)
		body = binary.AppendVarint(body, 0) // headers
		b = binary.AppendVarint(b, int64(len(body)))
		b = append(b, body...)
	}
	pid, epoch, seq, attrs := int64(-1), int16(-1), int32(-1), uint16(0)
	if p.Transactional {
		pid, epoch, seq, attrs = p.ID, p.Epoch, 0, 0x10
	}
	be := binary.BigEndian
	be.PutUint64(b[0:], 0)
	be.PutUint32(b[8:], uint32(len(b)-12))
	be.PutUint32(b[12:], 0xFFFFFFFF) // partitionLeaderEpoch: set by the leader on append
	b[16] = 2
	be.PutUint16(b[21:], attrs)
	be.PutUint32(b[23:], uint32(len(recs)-1))
	be.PutUint64(b[27:], uint64(ts))
	be.PutUint64(b[35:], uint64(ts))
	be.PutUint64(b[43:], uint64(pid))
	be.PutUint16(b[51:], uint16(epoch))
	be.PutUint32(b[53:], uint32(seq))
	be.PutUint32(b[57:], uint32(len(recs)))
	be.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
	return b
}

func appendVarBytes(p, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(p, -1)
	}
	p = binary.AppendVarint(p, int64(len(b)))
	return append(p, b...)
}

// BatchInfo is what a replay needs from a batch header.
type BatchInfo struct {
	BaseOffset    int64
	Transactional bool
	Control       bool
	ProducerID    int64
}

// SplitBatches walks the shallow entries (v2 batches or legacy messages) of p.
func SplitBatches(p []byte, fn func(info BatchInfo, entry []byte) error) error {
	for len(p) >= 17 {
		n := int(int32(binary.BigEndian.Uint32(p[8:])))
		if n < 0 || 12+n > len(p) {
			return fmt.Errorf("entry length %d exceeds %d bytes: %w", n, len(p), klog.ErrCorrupt)
		}
		e := p[:12+n]
		info := BatchInfo{BaseOffset: int64(binary.BigEndian.Uint64(e)), ProducerID: -1}
		if e[16] == 2 && len(e) >= 61 {
			attrs := binary.BigEndian.Uint16(e[21:])
			info.Transactional = attrs&0x10 != 0
			info.Control = attrs&0x20 != 0
			info.ProducerID = int64(binary.BigEndian.Uint64(e[43:]))
		}
		if err := fn(info, e); err != nil {
			return err
		}
		p = p[12+n:]
	}
	return nil
}

// Marker is a control batch's commit or abort marker (ControlRecordType: key version 0, type 0 abort, 1 commit).
type Marker struct {
	Commit bool
	OK     bool // the record is a marker this version knows
}

// ParseMarker reads a control record's key; as Kafka's ControlRecordType, a newer key version is read as version 0.
func ParseMarker(key []byte) Marker {
	if len(key) < 4 {
		return Marker{}
	}
	switch binary.BigEndian.Uint16(key[2:]) {
	case 0:
		return Marker{OK: true}
	case 1:
		return Marker{Commit: true, OK: true}
	}
	return Marker{}
}

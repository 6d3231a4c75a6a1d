package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// PartitionFor is the __consumer_offsets partition that coordinates groupID: Kafka's
// Utils.abs(groupId.hashCode) % numPartitions, where Utils.abs(Integer.MIN_VALUE) is 0.
func PartitionFor(groupID string, numPartitions int32) int32 {
	h := javaStringHash(groupID)
	if h == -1<<31 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % numPartitions
}

// javaStringHash is java.lang.String.hashCode over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// Key versions of __consumer_offsets records (2.8 writes offset key 1 and group key 2).
const (
	offsetKeyVersion = 1
	groupKeyVersion  = 2
)

// offsetKey encodes OffsetCommitKey v1.
func offsetKey(g, topic string, partition int32) []byte {
	k := kmsg.OffsetCommitKey{Version: offsetKeyVersion, Group: g, Topic: topic, Partition: partition}
	return k.AppendTo(nil)
}

// groupKey encodes GroupMetadataKey v2.
func groupKey(g string) []byte {
	k := kmsg.GroupMetadataKey{Version: groupKeyVersion, Group: g}
	return k.AppendTo(nil)
}

// offsetValue encodes an OffsetCommitValue as a 2.8 broker at IBP >= 2.1-IV1 does: v1 when an
// explicit expire timestamp was requested, else v3.
func offsetValue(o Offset) []byte {
	v := kmsg.OffsetCommitValue{Version: 3, Offset: o.Offset, LeaderEpoch: o.LeaderEpoch, Metadata: o.Metadata,
		CommitTimestamp: o.CommitTimestamp}
	if o.ExpireTimestamp >= 0 {
		v.Version = 1
		v.ExpireTimestamp = o.ExpireTimestamp
	}
	return v.AppendTo(nil)
}

// decodeOffsetValue reads OffsetCommitValue v0..v4; a v1 expire timestamp of -1 means none.
func decodeOffsetValue(b []byte) (Offset, error) {
	var v kmsg.OffsetCommitValue
	if err := v.ReadFrom(b); err != nil {
		return Offset{}, fmt.Errorf("offset commit value: %w", err)
	}
	if v.Version < 0 || v.Version > 4 {
		return Offset{}, fmt.Errorf("offset commit value: unknown version %d", v.Version)
	}
	o := Offset{Offset: v.Offset, LeaderEpoch: -1, Metadata: v.Metadata, CommitTimestamp: v.CommitTimestamp,
		ExpireTimestamp: -1}
	if v.Version >= 3 {
		o.LeaderEpoch = v.LeaderEpoch
	}
	if v.Version == 1 {
		o.ExpireTimestamp = v.ExpireTimestamp
	}
	return o, nil
}

// recordKey is a decoded __consumer_offsets key.
type recordKey struct {
	isGroup   bool
	group     string
	topic     string
	partition int32
}

func decodeKey(b []byte) (recordKey, bool, error) {
	if len(b) < 2 {
		return recordKey{}, false, errors.New("short key")
	}
	switch ver := int16(binary.BigEndian.Uint16(b)); ver {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(b); err != nil {
			return recordKey{}, false, fmt.Errorf("offset commit key: %w", err)
		}
		return recordKey{group: k.Group, topic: k.Topic, partition: k.Partition}, true, nil
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(b); err != nil {
			return recordKey{}, false, fmt.Errorf("group metadata key: %w", err)
		}
		return recordKey{isGroup: true, group: k.Group}, true, nil
	default:
		// Versions 3+ are KRaft-era coordinator records; a ZK-mode broker never wrote them.
		return recordKey{}, false, nil
	}
}

// rec is one record to put in a batch; a nil value is a tombstone.
type rec struct {
	key, value []byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeBatch builds an uncompressed, non-transactional v2 RecordBatch with base offset 0 (the log
// assigns offsets), CreateTime timestamps and no producer id, as GroupMetadataManager appends.
func encodeBatch(ts int64, recs []rec) []byte {
	b := make([]byte, 61, 61+len(recs)*64)
	for i, r := range recs {
		var body []byte
		body = append(body, 0) // attributes
		body = binary.AppendVarint(body, 0)
		body = binary.AppendVarint(body, int64(i))
		body = appendVarBytes(body, r.key)
		body = appendVarBytes(body, r.value)
		body = binary.AppendVarint(body, 0) // headers
		b = binary.AppendVarint(b, int64(len(body)))
		b = append(b, body...)
	}
	be := binary.BigEndian
	be.PutUint64(b[0:], 0)
	be.PutUint32(b[8:], uint32(len(b)-12))
	be.PutUint32(b[12:], 0xFFFFFFFF) // partitionLeaderEpoch: set by the leader on append
	b[16] = 2
	be.PutUint16(b[21:], 0)
	be.PutUint32(b[23:], uint32(len(recs)-1))
	be.PutUint64(b[27:], uint64(ts))
	be.PutUint64(b[35:], uint64(ts))
	be.PutUint64(b[43:], 0xFFFFFFFFFFFFFFFF)
	be.PutUint16(b[51:], 0xFFFF)
	be.PutUint32(b[53:], 0xFFFFFFFF)
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

// batchInfo is what replay needs from a batch header.
type batchInfo struct {
	baseOffset    int64
	transactional bool
	control       bool
	producerID    int64
}

// splitEntries walks the shallow entries (v2 batches or legacy messages) of p.
func splitEntries(p []byte, fn func(info batchInfo, entry []byte) error) error {
	for len(p) >= 17 {
		n := int(int32(binary.BigEndian.Uint32(p[8:])))
		if n < 0 || 12+n > len(p) {
			return fmt.Errorf("entry length %d exceeds %d bytes: %w", n, len(p), klog.ErrCorrupt)
		}
		e := p[:12+n]
		info := batchInfo{baseOffset: int64(binary.BigEndian.Uint64(e)), producerID: -1}
		if e[16] == 2 && len(e) >= 61 {
			attrs := binary.BigEndian.Uint16(e[21:])
			info.transactional = attrs&0x10 != 0
			info.control = attrs&0x20 != 0
			info.producerID = int64(binary.BigEndian.Uint64(e[43:]))
		}
		if err := fn(info, e); err != nil {
			return err
		}
		p = p[12+n:]
	}
	return nil
}

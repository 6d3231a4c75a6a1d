package group

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

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
// explicit expire timestamp was requested, else v3. Only -1 means none (Kafka's Option): a negative expire
// timestamp is kept, not dropped.
func offsetValue(o Offset) []byte {
	v := kmsg.OffsetCommitValue{Version: 3, Offset: o.Offset, LeaderEpoch: o.LeaderEpoch, Metadata: o.Metadata,
		CommitTimestamp: o.CommitTimestamp}
	if o.ExpireTimestamp != -1 {
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

package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// FuzzOffsetsRecord (make fuzz) replays one __consumer_offsets record of arbitrary key and value bytes as loading
// the coordinator does, then builds the loaded groups. Bad records must be an error, never a panic; an offset
// key or value that decodes must re-encode to one that decodes the same.
func FuzzOffsetsRecord(f *testing.F) {
	o := Offset{Offset: 42, LeaderEpoch: 3, Metadata: "m", CommitTimestamp: 1000, ExpireTimestamp: -1}
	f.Add(offsetKey("g", "t", 0), offsetValue(o), false)
	f.Add(offsetKey("g", "t", 1), offsetValue(Offset{Offset: 7, LeaderEpoch: -1, CommitTimestamp: 5,
		ExpireTimestamp: 9}), true)
	meta := kmsg.GroupMetadataValue{Version: 3, ProtocolType: "consumer", Generation: 2, Protocol: new(string),
		Leader: new(string), CurrentStateTimestamp: 1000, Members: []kmsg.GroupMetadataValueMember{{
			MemberID: "m-1", ClientID: "c", ClientHost: "/127.0.0.1", RebalanceTimeoutMillis: 300000,
			SessionTimeoutMillis: 10000, Subscription: []byte{0, 1}, Assignment: []byte{0, 1}}}}
	*meta.Protocol, *meta.Leader = "range", "m-1"
	f.Add(groupKey("g"), meta.AppendTo(nil), false)
	f.Add(groupKey("g"), []byte(nil), false)
	f.Add([]byte{0, 3, 0, 1, 'g'}, []byte{0, 0}, false)
	f.Fuzz(func(t *testing.T, key, value []byte, transactional bool) {
		r := newReplay()
		info := coordlog.BatchInfo{Transactional: transactional, ProducerID: 9}
		if err := r.record(info, klog.Record{Offset: 1, Key: key, Value: value}); err != nil {
			return
		}
		r.groups(0, 2000)
		if k, ok, err := decodeKey(key); err == nil && ok {
			checkKeyRoundTrip(t, k)
		}
		if v, err := decodeOffsetValue(value); err == nil {
			again, err := decodeOffsetValue(offsetValue(v))
			if err != nil || again != v {
				t.Fatalf("offset value %+v re-encoded reads %+v, %v", v, again, err)
			}
		}
	})
}

// checkKeyRoundTrip: a decoded key, re-encoded in the version we write, decodes to itself.
func checkKeyRoundTrip(t *testing.T, k recordKey) {
	t.Helper()
	b := offsetKey(k.group, k.topic, k.partition)
	if k.isGroup {
		b = groupKey(k.group)
	}
	again, ok, err := decodeKey(b)
	if err != nil || !ok || again != k {
		t.Fatalf("key %+v re-encoded reads %+v, %v", k, again, err)
	}
}

// Only -1 means "no expire timestamp": a v1 value with another negative one (a retention time below -now, as
// Kafka stores it) is kept when written back, not turned into a v3 value without it (found by FuzzOffsetsRecord).
func TestOffsetValueNegativeExpire(t *testing.T) {
	o := Offset{Offset: 1, LeaderEpoch: -1, CommitTimestamp: 10, ExpireTimestamp: -5}
	got, err := decodeOffsetValue(offsetValue(o))
	if err != nil || got != o {
		t.Fatalf("got %+v, %v; want %+v", got, err, o)
	}
}

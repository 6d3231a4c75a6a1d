package group

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Golden encodings written from the 2.8 schemas (OffsetCommitKey v1, OffsetCommitValue v1/v3,
// GroupMetadataKey v2): int16 version prefix, int16-length strings, big-endian integers.
func TestKeyValueGolden(t *testing.T) {
	if got, want := offsetKey("g1", "t", 3), unhex(t, "0001 0002 6731 0001 74 00000003"); !bytes.Equal(got, want) {
		t.Errorf("offset key %x want %x", got, want)
	}
	if got, want := groupKey("g1"), unhex(t, "0002 0002 6731"); !bytes.Equal(got, want) {
		t.Errorf("group key %x want %x", got, want)
	}
	v3 := offsetValue(Offset{Offset: 100, LeaderEpoch: 5, Metadata: "m", CommitTimestamp: 1000, ExpireTimestamp: -1})
	if want := unhex(t, "0003 0000000000000064 00000005 0001 6d 00000000000003e8"); !bytes.Equal(v3, want) {
		t.Errorf("offset value v3 %x want %x", v3, want)
	}
	v1 := offsetValue(Offset{Offset: 100, LeaderEpoch: 5, Metadata: "m", CommitTimestamp: 1000, ExpireTimestamp: 2000})
	if want := unhex(t, "0001 0000000000000064 0001 6d 00000000000003e8 00000000000007d0"); !bytes.Equal(v1, want) {
		t.Errorf("offset value v1 %x want %x", v1, want)
	}
	// v0 (0.8.2-era) and v2 values still decode.
	o, err := decodeOffsetValue(unhex(t, "0000 0000000000000064 0000 00000000000003e8"))
	if err != nil || o.Offset != 100 || o.LeaderEpoch != -1 || o.ExpireTimestamp != -1 || o.CommitTimestamp != 1000 {
		t.Errorf("v0 decode %+v %v", o, err)
	}
	o, err = decodeOffsetValue(v1)
	if err != nil || o.ExpireTimestamp != 2000 || o.LeaderEpoch != -1 {
		t.Errorf("v1 decode %+v %v", o, err)
	}
	k, ok, err := decodeKey(unhex(t, "0000 0002 6731 0001 74 00000003"))
	if err != nil || !ok || k.isGroup || k.group != "g1" || k.topic != "t" || k.partition != 3 {
		t.Errorf("key v0 decode %+v %v %v", k, ok, err)
	}
}

func TestGroupValueGolden(t *testing.T) {
	e := newEnv(t, nil)
	j := e.join(4, "g1", "", nil)
	j = e.join(4, "g1", j.r.MemberID, nil)
	e.advance(3000)
	r := mustJoined(t, j)
	e.sync("g1", r.MemberID, 1, nil, map[string]string{r.MemberID: "AS"})
	batches := e.log.parts[0]
	recs, err := klog.DecodeRecords(batches[len(batches)-1])
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %d", err, len(recs))
	}
	sub := (&kmsg.ConsumerMemberMetadata{Topics: []string{"t"}}).AppendTo(nil)
	var w []byte
	i16 := func(v int16) { w = binary.BigEndian.AppendUint16(w, uint16(v)) }
	i32 := func(v int32) { w = binary.BigEndian.AppendUint32(w, uint32(v)) }
	i64 := func(v int64) { w = binary.BigEndian.AppendUint64(w, uint64(v)) }
	s := func(v string) { i16(int16(len(v))); w = append(w, v...) }
	by := func(v []byte) { i32(int32(len(v))); w = append(w, v...) }
	i16(3)           // version
	s("consumer")    // protocol_type
	i32(1)           // generation
	s("range")       // protocol
	s("client-id1")  // leader
	i64(e.now)       // current_state_timestamp (CompletingRebalance entered at join completion)
	i32(1)           // members
	s("client-id1")  // member_id
	i16(-1)          // group_instance_id null
	s("client")      // client_id
	s("/127.0.0.1")  // client_host
	i32(60000)       // rebalance_timeout
	i32(10000)       // session_timeout
	by(sub)          // subscription
	by([]byte("AS")) // assignment
	if !bytes.Equal(recs[0].Value, w) {
		t.Fatalf("group value\n got %x\nwant %x", recs[0].Value, w)
	}
	if !bytes.Equal(recs[0].Key, unhex(t, "0002 0002 6731")) {
		t.Fatalf("key %x", recs[0].Key)
	}
}

// TestPersistenceRoundTrip replays a coordinator's records into a fresh one.
func TestPersistenceRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	a, b, gen := stableGroup(t, e)
	e.commit(7, "g", a, gen, map[string]int64{"t 0": 10, "t 1": 20})
	e.commit(7, "g", b, gen, map[string]int64{"t 0": 15})
	e.commit(7, "s", "", -1, map[string]int64{"x 0": 1})
	e.commit(7, "gone", "", -1, map[string]int64{"x 0": 1})
	dr := kmsg.NewPtrDeleteGroupsRequest()
	dr.Groups = []string{"gone"}
	e.c.DeleteGroups(dr)
	// Static group, persisted on its sync.
	j := e.join(5, "st", "", str("inst"))
	e.advance(3000)
	rs := mustJoined(t, j)
	e.sync("st", rs.MemberID, 1, str("inst"), map[string]string{rs.MemberID: "S"})

	e2 := newEnv(t, e.log)
	for _, g := range []string{"g", "s", "st"} {
		if !reflect.DeepEqual(e.fetchAll(g), e2.fetchAll(g)) {
			t.Errorf("offsets of %s: %v vs %v", g, e.fetchAll(g), e2.fetchAll(g))
		}
		if d1, d2 := e.describe(g), e2.describe(g); !reflect.DeepEqual(d1, d2) {
			t.Errorf("group %s:\n%+v\n%+v", g, d1, d2)
		}
	}
	if got := e2.fetchAll("g"); got["t 0"] != 15 || got["t 1"] != 20 {
		t.Fatalf("latest commit must win: %v", got)
	}
	if d := e2.describe("gone"); d.State != "Dead" {
		t.Fatalf("deleted group came back: %+v", d)
	}
	// The loaded generation is live: members heartbeat, the static member is fenced correctly.
	e2.now = e.now
	e2.c.Tick(e2.now)
	if code := e2.heartbeat("g", a, gen, nil); code != 0 {
		t.Fatalf("heartbeat after load %d", code)
	}
	if code := e2.heartbeat("st", "other", 1, str("inst")); code != kerr.FencedInstanceID.Code {
		t.Fatalf("fencing after load %d", code)
	}
	// Members that never heartbeat to the new coordinator expire.
	e2.advance(11000)
	if d := e2.describe("g"); d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("after expiry %+v", d)
	}
}

// TestReplayTransactional applies transactional offset commits only after their commit marker.
func TestReplayTransactional(t *testing.T) {
	l := newMemLog()
	txn := func(pid int64, recs []coordlog.Record, attrs uint16) []byte {
		b := coordlog.EncodeBatch(1, coordlog.Producer{}, recs)
		binary.BigEndian.PutUint16(b[21:], attrs)
		binary.BigEndian.PutUint64(b[43:], uint64(pid))
		binary.BigEndian.PutUint16(b[51:], 0)
		binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
		return b
	}
	val := func(o int64) []byte {
		return offsetValue(Offset{Offset: o, LeaderEpoch: -1, CommitTimestamp: 1, ExpireTimestamp: -1})
	}
	marker := func(typ byte) []coordlog.Record {
		return []coordlog.Record{{Key: []byte{0, 0, 0, typ}, Value: []byte{0, 0, 0, 0, 0, 0}}}
	}
	l.Append(0, coordlog.EncodeBatch(1, coordlog.Producer{}, []coordlog.Record{{Key: offsetKey("g", "t", 0), Value: val(1)}}))
	l.Append(0, txn(7, []coordlog.Record{{Key: offsetKey("g", "t", 0), Value: val(50)}}, 0x10))
	l.Append(0, txn(8, []coordlog.Record{{Key: offsetKey("g", "t", 1), Value: val(60)}}, 0x10))
	l.Append(0, txn(7, marker(1), 0x30)) // commit pid 7
	l.Append(0, txn(8, marker(0), 0x30)) // abort pid 8
	e := newEnv(t, l)
	if got := e.fetchAll("g"); len(got) != 1 || got["t 0"] != 50 {
		t.Fatalf("%v", got)
	}
}

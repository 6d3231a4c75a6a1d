package group

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
)

func (e *env) txnCommit(ver int16, group string, pid int64, gen int32, member string, topic string, p int32, off int64) int16 {
	e.t.Helper()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version = ver
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = "tx", group, pid, 3
	req.Generation, req.MemberID = gen, member
	req.Topics = []kmsg.TxnOffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.TxnOffsetCommitRequestTopicPartition{
		{Partition: p, Offset: off, LeaderEpoch: -1}}}}
	return e.c.TxnOffsetCommit(req).Topics[0].Partitions[0].ErrorCode
}

// fetchStable is OffsetFetch v7 of one partition with requireStable.
func (e *env) fetchStable(group, topic string, p int32) (int64, int16) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version, req.Group, req.RequireStable = 7, group, true
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: topic, Partitions: []int32{p}}}
	r := e.c.OffsetFetch(req).Topics[0].Partitions[0]
	return r.Offset, r.ErrorCode
}

// marker appends a control batch as WriteTxnMarkers does and tells the coordinator.
func (e *env) marker(pid int64, commit bool) {
	typ := byte(0)
	if commit {
		typ = 1
	}
	b := coordlog.EncodeBatch(e.now, coordlog.Producer{ID: pid, Epoch: 3, Transactional: true},
		[]coordlog.Record{{Key: []byte{0, 0, 0, typ}, Value: []byte{0, 0, 0, 0, 0, 0}}})
	b[22] |= 0x20 // control
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	e.log.Append(0, b)
	e.c.HandleTxnCompletion(pid, []int32{0}, commit)
}

func TestTxnOffsetCommit(t *testing.T) {
	e := newEnv(t, nil)
	if code := e.txnCommit(2, "g", 7, -1, "", "t", 0, 40); code != 0 {
		t.Fatalf("TxnOffsetCommit: %d", code)
	}
	if got := e.fetchAll("g"); len(got) != 0 {
		t.Fatalf("before the commit marker: %v", got)
	}
	if _, code := e.fetchStable("g", "t", 0); code != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("requireStable with a pending commit: %d", code)
	}
	if _, code := e.fetchStable("g", "t", 1); code != 0 {
		t.Fatalf("requireStable of another partition: %d", code)
	}
	e.marker(7, true)
	if off, code := e.fetchStable("g", "t", 0); off != 40 || code != 0 {
		t.Fatalf("after commit: %d %d", off, code)
	}

	if code := e.txnCommit(2, "g", 8, -1, "", "t", 0, 99); code != 0 {
		t.Fatal(code)
	}
	e.marker(8, false)
	if off, _ := e.fetchStable("g", "t", 0); off != 40 {
		t.Fatalf("after abort: %d", off)
	}

	// A plain commit written after a transactional one wins over it when the transaction commits later.
	if code := e.txnCommit(2, "g", 9, -1, "", "t", 0, 50); code != 0 {
		t.Fatal(code)
	}
	e.commit(2, "g", "", -1, map[string]int64{"t 0": 60})
	// A pending commit survives a reload of the partition and applies on its marker.
	if code := e.txnCommit(2, "g", 10, -1, "", "t", 1, 5); code != 0 {
		t.Fatal(code)
	}
	e2 := newEnv(t, e.log)
	if _, code := e2.fetchStable("g", "t", 1); code != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("reloaded pending commit: %d", code)
	}
	e2.marker(9, true)
	e2.marker(10, true)
	if got := e2.fetchAll("g"); got["t 0"] != 60 || got["t 1"] != 5 {
		t.Fatalf("after reload and markers: %v", got)
	}
	e3 := newEnv(t, e2.log)
	if got := e3.fetchAll("g"); got["t 0"] != 60 || got["t 1"] != 5 {
		t.Fatalf("replayed: %v", got)
	}
}

func TestTxnOffsetCommitChecks(t *testing.T) {
	e := newEnv(t, nil)
	member, _, gen := stableGroup(t, e)
	for _, c := range []struct {
		name   string
		ver    int16
		group  string
		gen    int32
		member string
		want   int16
	}{
		{"empty group id", 3, "", -1, "", kerr.InvalidGroupID.Code},
		{"unknown member", 3, "g", gen, "nobody", kerr.UnknownMemberID.Code},
		{"old generation", 3, "g", gen - 1, member, kerr.IllegalGeneration.Code},
		{"member of the generation", 3, "g", gen, member, 0},
		{"v2 has no member", 2, "g", 99, "nobody", 0},
	} {
		if got := e.txnCommit(c.ver, c.group, 1, c.gen, c.member, "t", 0, 1); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

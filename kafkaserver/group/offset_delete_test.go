package group

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func tps(pairs ...any) []TopicPartition {
	var out []TopicPartition
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, TopicPartition{pairs[i].(string), int32(pairs[i+1].(int))})
	}
	return out
}

// lastBatchRecords is the record count of the newest batch appended to partition 0.
func lastBatchRecords(e *env) int {
	b := e.log.parts[0][len(e.log.parts[0])-1]
	return int(binary.BigEndian.Uint32(b[57:61]))
}

func TestDeleteOffsets(t *testing.T) {
	e := newEnv(t, nil)

	// Group-level errors.
	if code, m := e.c.DeleteOffsets("", tps("t", 0)); code != kerr.InvalidGroupID.Code || len(m) != 0 {
		t.Fatalf("empty id: %d %v", code, m)
	}
	if code, _ := e.c.DeleteOffsets("missing", tps("t", 0)); code != kerr.GroupIDNotFound.Code {
		t.Fatalf("missing group: %d", code)
	}

	// A stable consumer group subscribed to "t": its offsets stay, those of other topics go.
	a, _, gen := stableGroup(t, e)
	e.commit(7, "g", a, gen, map[string]int64{"t 0": 1, "other 0": 2, "other 1": 3})
	code, m := e.c.DeleteOffsets("g", tps("t", 0, "other", 0))
	if code != 0 || m[TopicPartition{"t", 0}] != kerr.GroupSubscribedToTopic.Code || m[TopicPartition{"other", 0}] != 0 || len(m) != 2 {
		t.Fatalf("stable group: %d %v", code, m)
	}
	if got := e.fetchAll("g"); len(got) != 2 || got["t 0"] != 1 || got["other 1"] != 3 {
		t.Fatalf("offsets after delete %v", got)
	}
	if n := lastBatchRecords(e); n != 1 {
		t.Fatalf("tombstones written: %d", n)
	}

	// A simple consumer's group (generation 0, Empty): every given partition goes, one without an offset too; with
	// its last offset gone the group dies without a metadata tombstone.
	e.commit(7, "s", "", -1, map[string]int64{"t 0": 5, "t 1": 6})
	code, m = e.c.DeleteOffsets("s", tps("t", 0, "t", 9))
	if code != 0 || len(m) != 2 || m[TopicPartition{"t", 0}] != 0 || m[TopicPartition{"t", 9}] != 0 {
		t.Fatalf("empty group: %d %v", code, m)
	}
	if got := e.fetchAll("s"); len(got) != 1 || got["t 1"] != 6 {
		t.Fatalf("offsets after delete %v", got)
	}
	if code, _ = e.c.DeleteOffsets("s", tps("t", 1)); code != 0 {
		t.Fatalf("last offset: %d", code)
	}
	if n := lastBatchRecords(e); n != 1 {
		t.Fatalf("generation-0 group wrote %d records, want the offset tombstone only", n)
	}
	if code, _ = e.c.DeleteOffsets("s", tps("t", 1)); code != kerr.GroupIDNotFound.Code {
		t.Fatalf("dead group: %d", code)
	}
	lg := e.c.ListGroups(kmsg.NewPtrListGroupsRequest())
	if len(lg.Groups) != 1 || lg.Groups[0].Group != "g" {
		t.Fatalf("groups %+v", lg.Groups)
	}

	// The tombstones survive a reload of __consumer_offsets.
	e2 := newEnv(t, e.log)
	if got := e2.fetchAll("g"); len(got) != 2 || got["t 0"] != 1 || got["other 1"] != 3 {
		t.Fatalf("reloaded offsets of g %v", got)
	}
	if got := e2.fetchAll("s"); len(got) != 0 {
		t.Fatalf("reloaded offsets of s %v", got)
	}
}

// An Empty group that had a generation dies with its metadata tombstone once its last offset is deleted.
func TestDeleteOffsetsEmptiedGroupTombstone(t *testing.T) {
	e := newEnv(t, nil)
	a, b, gen := stableGroup(t, e)
	e.commit(7, "g", a, gen, map[string]int64{"t 0": 1})
	for _, m := range []string{a, b} {
		req := kmsg.NewPtrLeaveGroupRequest()
		req.Group, req.MemberID = "g", m
		e.c.LeaveGroup(req)
	}
	if st := e.describe("g").State; st != "Empty" {
		t.Fatalf("state %s", st)
	}
	if code, m := e.c.DeleteOffsets("g", tps("t", 0)); code != 0 || m[TopicPartition{"t", 0}] != 0 {
		t.Fatalf("%d %v", code, m)
	}
	if n := lastBatchRecords(e); n != 2 {
		t.Fatalf("records %d, want offset and group tombstones", n)
	}
	if st := e.describe("g").State; st != "Dead" {
		t.Fatalf("state %s", st)
	}
}

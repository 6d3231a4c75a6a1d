package group

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// deletedEnv has a Stable group g (offsets in t and u), a simple consumer s (offsets only in t, never a
// generation) and a group e emptied after its generation 1 (offsets only in t).
func deletedEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, nil)
	a, _, gen := stableGroup(t, e)
	if c := e.commit(7, "g", a, gen, map[string]int64{"t 0": 10, "t 1": 11, "u 0": 3}); len(c) != 3 {
		t.Fatalf("commit %v", c)
	}
	e.commit(7, "s", "", -1, map[string]int64{"t 0": 42})
	j := e.join(3, "e", "", nil)
	e.advance(3000)
	r := mustJoined(t, j)
	e.sync("e", r.MemberID, r.Generation, nil, map[string]string{r.MemberID: "E"})
	if c := e.commit(7, "e", r.MemberID, r.Generation, map[string]int64{"t 1": 5}); c["t 1"] != 0 {
		t.Fatalf("commit e %v", c)
	}
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Group, lr.MemberID = "e", r.MemberID
	if code := e.c.LeaveGroup(lr).ErrorCode; code != 0 {
		t.Fatalf("leave %d", code)
	}
	if st := e.describe("e").State; st != "Empty" {
		t.Fatalf("e is %s", st)
	}
	return e
}

func checkDeleted(t *testing.T, e *env) {
	t.Helper()
	if got := e.fetchAll("g"); len(got) != 1 || got["u 0"] != 3 {
		t.Errorf("g keeps only u-0: %v", got)
	}
	if st := e.describe("g").State; st != "Stable" {
		t.Errorf("g is %s", st)
	}
	for _, id := range []string{"s", "e"} {
		if got := e.fetchAll(id); len(got) != 0 {
			t.Errorf("%s offsets %v", id, got)
		}
		if st := e.describe(id).State; st != "Dead" {
			t.Errorf("%s is %s, want Dead", id, st)
		}
	}
	lg := e.c.ListGroups(kmsg.NewPtrListGroupsRequest())
	if len(lg.Groups) != 1 || lg.Groups[0].Group != "g" {
		t.Errorf("groups listed %+v", lg.Groups)
	}
}

func TestHandleDeletedPartitions(t *testing.T) {
	e := deletedEnv(t)
	if n := e.c.HandleDeletedPartitions([]TopicPartition{{"t", 0}, {"t", 1}, {"t", 2}}); n != 4 {
		t.Fatalf("removed %d offsets, want 4", n)
	}
	checkDeleted(t, e)
	// The tombstones (offsets of t, e's group record) make a reload agree.
	checkDeleted(t, newEnv(t, e.log))
	if n := e.c.HandleDeletedPartitions([]TopicPartition{{"t", 0}}); n != 0 {
		t.Fatalf("second deletion removed %d", n)
	}
}

// TestHandleDeletedPartitionsGroupTombstone: only a group that had a generation gets a group tombstone.
func TestHandleDeletedPartitionsGroupTombstone(t *testing.T) {
	e := deletedEnv(t)
	before := len(e.log.parts[0])
	e.c.HandleDeletedPartitions([]TopicPartition{{"t", 0}, {"t", 1}})
	var keys []string
	for _, b := range e.log.parts[0][before:] {
		if err := coordlog.SplitBatches(b, func(_ coordlog.BatchInfo, entry []byte) error {
			recs, err := klog.DecodeRecords(entry)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.Value != nil {
					t.Errorf("non-tombstone record %q", r.Key)
				}
				k, _, err := decodeKey(r.Key)
				if err != nil {
					return err
				}
				if k.isGroup {
					keys = append(keys, "group "+k.group)
				} else {
					keys = append(keys, k.group+" "+k.topic)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int{}
	for _, k := range keys {
		got[k]++
	}
	if got["group e"] != 1 || got["group s"] != 0 || got["group g"] != 0 || got["g t"] != 2 || got["s t"] != 1 || got["e t"] != 1 {
		t.Fatalf("tombstones %v", keys)
	}
}

// TestHandleDeletedPartitionsAppendFails: as in Kafka the cache forgets the offsets even when the tombstones
// cannot be written.
func TestHandleDeletedPartitionsAppendFails(t *testing.T) {
	e := deletedEnv(t)
	e.log.fail = errors.New("disk gone")
	if n := e.c.HandleDeletedPartitions([]TopicPartition{{"t", 0}, {"t", 1}}); n != 4 {
		t.Fatalf("removed %d", n)
	}
	e.log.fail = nil
	checkDeleted(t, e)
}

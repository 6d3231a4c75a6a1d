package tree

import (
	"testing"

	"github.com/zkafka/zkafka/jute"
)

func TestNamespaceStats(t *testing.T) {
	ns := NewNamespaceStats()
	h := newHarness(t, Options{NamespaceStats: ns})
	h.create(0, "/a", "12345", false)                                                       // 2 + 5
	h.create(0, "/a/é", "", false)                                                          // 4 UTF-16 units
	h.apply(0, jute.OpSetData, &jute.SetDataTxn{Path: "/a", Data: []byte("1"), Version: 1}) // 2 + 1
	h.del("/a/é")                                                                           // 4
	h.tr.NoteRead("/a", 5)                                                                  // 2 + 5 + 68
	h.tr.NoteRead("/", 0)                                                                   // no namespace
	read, write := ns.Snapshot()
	if w := write["a"]; w != (NSSummary{Count: 4, Sum: 18, Min: 3, Max: 7}) || len(write) != 1 {
		t.Errorf("writes %+v", write)
	}
	if r := read["a"]; r != (NSSummary{Count: 1, Sum: 75, Min: 75, Max: 75}) || len(read) != 1 {
		t.Errorf("reads %+v", read)
	}
	ns.Reset()
	read, write = ns.Snapshot()
	if read["a"] != (NSSummary{}) || write["a"] != (NSSummary{}) || len(write) != 1 {
		t.Errorf("after reset %+v %+v", read, write)
	}
	if got := ChildNamesLen([]string{"ab", "é"}); got != 3 {
		t.Errorf("ChildNamesLen %d", got)
	}
}

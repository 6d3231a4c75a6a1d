package zkserver

import (
	"slices"
	"testing"
)

// An observer tries the voters' observer masters (the leader among them, never an observer) in a shuffled order,
// each once before any again, says when a pass is over (the reconnect delay's turn), and makes the list again
// when the config changes.
func TestObserverMastersRoundRobin(t *testing.T) {
	view := quorumView{version: 1, voters: map[int64]bool{1: true, 2: true, 3: true, 4: false},
		members: map[int64]Member{1: {QuorumAddr: "127.0.0.1:2888"}, 2: {QuorumAddr: "127.0.0.2:2888"},
			3: {QuorumAddr: "[::1]:2888"}, 4: {QuorumAddr: "127.0.0.4:2888"}}}
	var m observerMasters
	addrs := map[int64]string{1: "127.0.0.1:7000", 2: "127.0.0.2:7000", 3: "[::1]:7000"}
	var first []int64
	for i := range 7 {
		sid, addr, wrapped, ok := m.next(view, 7000)
		if !ok || addr != addrs[sid] {
			t.Fatalf("try %d: %d %q %v", i, sid, addr, ok)
		}
		if wrapped != (i == 3 || i == 6) {
			t.Errorf("try %d: wrapped %v", i, wrapped)
		}
		if i < 3 {
			first = append(first, sid)
		} else if sid != first[i%3] {
			t.Errorf("try %d: %d, want the first pass's order %v", i, sid, first)
		}
	}
	if s := slices.Sorted(slices.Values(first)); !slices.Equal(s, []int64{1, 2, 3}) {
		t.Fatalf("a pass tried %v, want each voter once", first)
	}

	// A new config: server 3 became an observer; the list starts again, without a wait.
	view.version, view.voters[3] = 2, false
	for i := range 2 {
		sid, _, wrapped, ok := m.next(view, 7000)
		if !ok || sid == 3 || wrapped {
			t.Fatalf("after the reconfig, try %d: %d wrapped %v ok %v", i, sid, wrapped, ok)
		}
	}
	if _, _, _, ok := m.next(quorumView{version: 3}, 7000); ok {
		t.Error("no voters: want no master")
	}
}

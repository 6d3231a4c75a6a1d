package election

import "slices"

// Verifier says who votes and which sets of voters are a quorum (Apache's QuorumVerifier).
type Verifier interface {
	// Voters lists the voting members' sids in ascending order.
	Voters() []int64
	// IsVoter reports whether sid votes (Apache's validVoter; a weight above zero for hierarchical quorums).
	IsVoter(sid int64) bool
	// ContainsQuorum reports whether the given voters form a quorum.
	ContainsQuorum(set map[int64]bool) bool
}

// Majority is QuorumMaj: a quorum is more than half of the voters.
type Majority struct {
	voters []int64
}

// NewMajority builds a majority verifier over the given voting sids.
func NewMajority(voters []int64) *Majority {
	v := slices.Clone(voters)
	slices.Sort(v)
	return &Majority{voters: slices.Compact(v)}
}

func (m *Majority) Voters() []int64 { return m.voters }

func (m *Majority) IsVoter(sid int64) bool {
	_, ok := slices.BinarySearch(m.voters, sid)
	return ok
}

func (m *Majority) ContainsQuorum(set map[int64]bool) bool {
	n := 0
	for sid, in := range set {
		if in && m.IsVoter(sid) {
			n++
		}
	}
	return n > len(m.voters)/2
}

// Hierarchical is QuorumHierarchical: voters are grouped and weighted; a quorum has more than half the weight of
// more than half of the groups (groups of zero weight do not count).
type Hierarchical struct {
	groups  map[int64][]int64 // group id -> sids
	weights map[int64]int64   // sid -> weight (default 1)
	voters  []int64
}

// NewHierarchical builds a hierarchical verifier from zoo.cfg's group.N and weight.N entries.
func NewHierarchical(groups map[int64][]int64, weights map[int64]int64) *Hierarchical {
	h := &Hierarchical{groups: groups, weights: map[int64]int64{}}
	for _, sids := range groups {
		for _, sid := range sids {
			w, ok := weights[sid]
			if !ok {
				w = 1
			}
			h.weights[sid] = w
			if w > 0 {
				h.voters = append(h.voters, sid)
			}
		}
	}
	slices.Sort(h.voters)
	return h
}

func (h *Hierarchical) Voters() []int64 { return h.voters }

func (h *Hierarchical) IsVoter(sid int64) bool { return h.weights[sid] > 0 }

func (h *Hierarchical) ContainsQuorum(set map[int64]bool) bool {
	var counted, withQuorum int
	for _, sids := range h.groups {
		var total, got int64
		for _, sid := range sids {
			total += h.weights[sid]
			if set[sid] {
				got += h.weights[sid]
			}
		}
		if total == 0 {
			continue
		}
		counted++
		if got > total/2 {
			withQuorum++
		}
	}
	return withQuorum > counted/2
}

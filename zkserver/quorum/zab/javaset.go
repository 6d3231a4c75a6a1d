package zab

import "math/bits"

// javaLongSet follows the iteration order of Java's HashSet<Long> (its HashMap, JDK 8 to 17), which decides
// the leader a reconfig designates among servers that acknowledged it alike (Leader.getDesignatedLeader takes
// the first of such a set). Iteration goes bucket by bucket, each bucket in the order its entries came in; the
// bucket is the key's spread hash masked by the table size, and the table doubles past 3/4 full, or when a
// bucket of a table under 64 would get a ninth entry (treeifyBin), a split that keeps the relative order.
// Not modelled: a bucket of a table of 64 or more turned into a tree, where new entries go after their tree
// parent; it needs nine ids in one bucket of a table of 64 or more, so ids outside 0 to 511 (ZooKeeper asks for 1 to
// 255), and is recorded in treeified.
type javaLongSet struct {
	buckets [][]int64
	// threshold is the size past which the table doubles; before the table exists, its first capacity.
	threshold int
	size      int
	treeified bool
}

const (
	javaDefaultCapacity = 16
	javaTreeifyBin      = 8  // a bucket holding this many takes the next entry as a tree
	javaMinTreeifyCap   = 64 // below it, such a bucket makes the table double instead
)

// newJavaLongSet is new HashSet<Long>(initialCapacity).
func newJavaLongSet(initialCapacity int) *javaLongSet {
	return &javaLongSet{threshold: javaTableSizeFor(initialCapacity)}
}

// copyJavaLongSet is new HashSet<Long>(src): a table for the source's size at 3/4 load, at least 16, filled in
// the source's order.
func copyJavaLongSet(src *javaLongSet) *javaLongSet {
	s := newJavaLongSet(max(int(float32(src.size)/0.75)+1, javaDefaultCapacity))
	for _, v := range src.order() {
		s.add(v)
	}
	s.treeified = s.treeified || src.treeified
	return s
}

// javaTableSizeFor is HashMap.tableSizeFor: the power of two at or above c, at least 1.
func javaTableSizeFor(c int) int {
	if c <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(c-1))
}

// javaHash is Long.hashCode spread as HashMap.hash does (the high half folded into the low one).
func javaHash(v int64) uint32 {
	h := uint32(uint64(v) ^ uint64(v)>>32)
	return h ^ h>>16
}

func (s *javaLongSet) index(v int64) int { return int(javaHash(v) & uint32(len(s.buckets)-1)) }

func (s *javaLongSet) contains(v int64) bool {
	if s.buckets == nil {
		return false
	}
	for _, x := range s.buckets[s.index(v)] {
		if x == v {
			return true
		}
	}
	return false
}

// add is HashMap.putVal for a new key: appended to its bucket, then the table grows if it must.
func (s *javaLongSet) add(v int64) {
	if s.contains(v) {
		return
	}
	if s.buckets == nil {
		s.resize()
	}
	i := s.index(v)
	held := len(s.buckets[i])
	s.buckets[i] = append(s.buckets[i], v)
	if held >= javaTreeifyBin {
		if len(s.buckets) < javaMinTreeifyCap {
			s.resize()
		} else {
			s.treeified = true
		}
	}
	s.size++
	if s.size > s.threshold {
		s.resize()
	}
}

// resize is HashMap.resize: the first table at the initial capacity (or 16), later twice the size; each bucket
// splits in two keeping its order.
func (s *javaLongSet) resize() {
	oldCap, newCap, newThr := len(s.buckets), 0, 0
	switch {
	case oldCap > 0:
		newCap = oldCap << 1
		if oldCap >= javaDefaultCapacity {
			newThr = s.threshold << 1
		}
	case s.threshold > 0:
		newCap = s.threshold
	default:
		newCap, newThr = javaDefaultCapacity, javaDefaultCapacity*3/4
	}
	if newThr == 0 {
		newThr = int(float32(newCap) * 0.75)
	}
	old := s.buckets
	s.buckets, s.threshold = make([][]int64, newCap), newThr
	for _, b := range old {
		for _, v := range b {
			i := s.index(v)
			s.buckets[i] = append(s.buckets[i], v)
		}
	}
}

// remove takes v out; the table never shrinks.
func (s *javaLongSet) remove(v int64) {
	s.retain(func(x int64) bool { return x != v })
}

// retain is retainAll: the entries keep stays in their order.
func (s *javaLongSet) retain(keep func(int64) bool) {
	for i, b := range s.buckets {
		kept := b[:0]
		for _, v := range b {
			if keep(v) {
				kept = append(kept, v)
			} else {
				s.size--
			}
		}
		s.buckets[i] = kept
	}
}

// first is iterator().next(); ok is false for an empty set.
func (s *javaLongSet) first() (v int64, ok bool) {
	for _, b := range s.buckets {
		if len(b) > 0 {
			return b[0], true
		}
	}
	return 0, false
}

// order is the iteration order.
func (s *javaLongSet) order() []int64 {
	var out []int64
	for _, b := range s.buckets {
		out = append(out, b...)
	}
	return out
}

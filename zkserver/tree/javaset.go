package tree

import "github.com/zkafka/zkafka/compat/javahash"

// javaStringSet keeps strings in the iteration order of a java.util.HashSet
// that saw the same adds and removes. Apache walks a session's ephemerals in
// that order: it decides the order of paths2Delete in the closeSession txn,
// hence the order of the deletes and their watch events, and the order of
// getEphemerals' answer.
type javaStringSet struct {
	buckets [][]string // len is a power of two, as HashMap's table
	size    int
}

const javaDefaultCapacity = 16

func (j *javaStringSet) index(s string) int {
	return int(javahash.Spread(javahash.String(s)) & uint32(len(j.buckets)-1))
}

func (j *javaStringSet) add(s string) {
	if j.buckets == nil {
		j.buckets = make([][]string, javaDefaultCapacity)
	}
	i := j.index(s)
	for _, x := range j.buckets[i] {
		if x == s {
			return
		}
	}
	j.buckets[i] = append(j.buckets[i], s)
	j.size++
	if j.size > len(j.buckets)*3/4 {
		j.resize(len(j.buckets) * 2)
	}
}

// resize re-buckets in iteration order, which is what HashMap's lo/hi split
// produces.
func (j *javaStringSet) resize(capacity int) {
	old := j.buckets
	j.buckets = make([][]string, capacity)
	for _, b := range old {
		for _, s := range b {
			i := j.index(s)
			j.buckets[i] = append(j.buckets[i], s)
		}
	}
}

func (j *javaStringSet) remove(s string) bool {
	if j.buckets == nil {
		return false
	}
	i := j.index(s)
	b := j.buckets[i]
	for k, x := range b {
		if x == s {
			j.buckets[i] = append(b[:k:k], b[k+1:]...)
			j.size--
			return true
		}
	}
	return false
}

func (j *javaStringSet) contains(s string) bool {
	if j == nil || j.buckets == nil {
		return false
	}
	for _, x := range j.buckets[j.index(s)] {
		if x == s {
			return true
		}
	}
	return false
}

// order lists the set as iterating the HashSet does.
func (j *javaStringSet) order() []string {
	if j == nil {
		return nil
	}
	out := make([]string, 0, j.size)
	for _, b := range j.buckets {
		out = append(out, b...)
	}
	return out
}

// cloneOrder lists the set as iterating its clone() does: Apache's
// getEphemerals returns a clone, whose table is sized for the current size
// (tableSizeFor(size/0.75+1)) and filled in the original's order.
func (j *javaStringSet) cloneOrder() []string {
	src := j.order()
	if len(src) == 0 {
		return src
	}
	c := &javaStringSet{buckets: make([][]string, javaTableSizeFor(int(float32(len(src))/0.75+1)))}
	for _, s := range src {
		c.add(s)
	}
	return c.order()
}

// javaTableSizeFor is HashMap.tableSizeFor: the next power of two >= n.
func javaTableSizeFor(n int) int {
	c := 1
	for c < n {
		c <<= 1
	}
	return c
}

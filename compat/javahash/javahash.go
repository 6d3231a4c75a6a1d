// Package javahash is Java's String.hashCode and java.util.HashMap's bin order, which Apache's outputs and
// partitioning depend on (group and transaction coordinator partitions, JSON field order in Kafka's znodes,
// kafka-topics' config listing, ZooKeeper's ACL and watch set orders).
package javahash

import "sort"

// String is java.lang.String.hashCode: over UTF-16 code units, with int overflow (Scala's `##` on a String is the
// same).
func String(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// Spread is HashMap.hash: the high half folded into the low one before the bin is taken.
func Spread(h int32) uint32 {
	x := uint32(h)
	return x ^ x>>16
}

// HashMapOrder is the iteration order of a java.util.HashMap of default capacity filled with keys in the given
// order (a repeated key keeps its first place): bins by spread hash over the final table size, insertion order
// within a bin (resizes keep it).
func HashMapOrder(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	type entry struct {
		key string
		bin uint32
	}
	es := make([]entry, 0, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			es = append(es, entry{key: k})
		}
	}
	n := 16
	for len(es) > n*3/4 {
		n *= 2
	}
	for i := range es {
		es[i].bin = Spread(String(es[i].key)) & uint32(n-1)
	}
	sort.SliceStable(es, func(a, b int) bool { return es[a].bin < es[b].bin })
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.key
	}
	return out
}

package zkmeta

import (
	"sort"

	"github.com/zkafka/zkafka/compat/javahash"
)

// Kafka 2.8 writes znode JSON with Jackson from Java views of Scala (2.13.5, the default build) and Java maps, so
// the key order on the wire is the iteration order of those hash maps. The functions below reproduce those orders
// so our encoders are byte-identical to Kafka's. Decoders never depend on order.
func dedup(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// scalaTableSizeFor is mutable.HashMap.tableSizeFor in Scala 2.13.
func scalaTableSizeFor(capacity int) int {
	c := capacity - 1
	if c < 4 {
		c = 4
	}
	hb := 1
	for hb*2 <= c {
		hb *= 2
	}
	n := hb * 2
	if n > 1<<30 {
		n = 1 << 30
	}
	return n
}

// scalaMutableFromLen is the initial table length of `mutable.Map(k pairs...)` (HashMap.from with a known size).
func scalaMutableFromLen(k int) int {
	if k <= 0 {
		return scalaTableSizeFor(16)
	}
	return scalaTableSizeFor(int(float64(k+1) / 0.75))
}

// scalaMutableOrder is the iteration order of a Scala 2.13 mutable.HashMap whose table starts at initialLen and
// receives keys in the given order: buckets by (h ^ h>>>16) & (len-1), each bucket sorted by that improved hash.
// Table growth keeps that invariant, so only the final length matters.
func scalaMutableOrder(keys []string, initialLen int) []string {
	keys = dedup(keys)
	n := initialLen
	threshold := int(float64(n) * 0.75)
	for i := range keys {
		if i+1 >= threshold {
			n *= 2
			threshold = int(float64(n) * 0.75)
		}
	}
	type kh struct {
		k   string
		h   int32
		idx int
		pos int
	}
	ks := make([]kh, len(keys))
	for i, k := range keys {
		h := javahash.String(k)
		ih := h ^ int32(uint32(h)>>16)
		ks[i] = kh{k, ih, int(uint32(ih) & uint32(n-1)), i}
	}
	sort.SliceStable(ks, func(a, b int) bool {
		if ks[a].idx != ks[b].idx {
			return ks[a].idx < ks[b].idx
		}
		return ks[a].h < ks[b].h
	})
	out := make([]string, len(ks))
	for i, x := range ks {
		out[i] = x.k
	}
	return out
}

// scalaImprove is scala.collection.Hashing.improve (used by the 2.13 immutable CHAMP HashMap).
func scalaImprove(hcode int32) int32 {
	h := hcode + ^(hcode << 9)
	h ^= int32(uint32(h) >> 14)
	h += h << 4
	h ^= int32(uint32(h) >> 10)
	return h
}

type champNode struct {
	data map[int]champEntry
	sub  map[int]*champNode
	coll []string // full 32-bit hash collisions, insertion order
}

type champEntry struct {
	key  string
	hash int32
}

func (n *champNode) insert(e champEntry, shift int) {
	if shift >= 32 {
		for _, k := range n.coll {
			if k == e.key {
				return
			}
		}
		n.coll = append(n.coll, e.key)
		return
	}
	frag := int(uint32(e.hash)>>uint(shift)) & 31
	if s, ok := n.sub[frag]; ok {
		s.insert(e, shift+5)
		return
	}
	if old, ok := n.data[frag]; ok {
		if old.key == e.key {
			return
		}
		delete(n.data, frag)
		s := &champNode{data: map[int]champEntry{}, sub: map[int]*champNode{}}
		s.insert(old, shift+5)
		s.insert(e, shift+5)
		n.sub[frag] = s
		return
	}
	n.data[frag] = e
}

func (n *champNode) walk(out []string) []string {
	out = append(out, n.coll...)
	for f := 0; f < 32; f++ {
		if e, ok := n.data[f]; ok {
			out = append(out, e.key)
		}
	}
	for f := 0; f < 32; f++ {
		if s, ok := n.sub[f]; ok {
			out = s.walk(out)
		}
	}
	return out
}

// scalaImmutableOrder is the iteration order of a Scala 2.13 immutable.Map built from keys in order: Map1..Map4
// keep insertion order; from five keys on it is a CHAMP trie walked node payload first, then sub-nodes.
func scalaImmutableOrder(keys []string) []string {
	keys = dedup(keys)
	if len(keys) <= 4 {
		return keys
	}
	root := &champNode{data: map[int]champEntry{}, sub: map[int]*champNode{}}
	for _, k := range keys {
		root.insert(champEntry{k, scalaImprove(javahash.String(k))}, 0)
	}
	return root.walk(nil)
}

// javaPropertiesOrder is the iteration order of a java.util.Properties (Java 9+, backed by a ConcurrentHashMap
// created with capacity 8, i.e. a 16-bin table) filled in the given order, including the bin splitting that
// ConcurrentHashMap.transfer does on resize (it keeps the tail run and reverses the rest).
func javaPropertiesOrder(keys []string) []string {
	keys = dedup(keys)
	type node struct {
		k    string
		h    int32
		next *node
	}
	n := 16
	sizeCtl := 12
	tab := make([]*node, n)
	count := 0
	for _, k := range keys {
		h := javahash.String(k)
		sp := (h ^ int32(uint32(h)>>16)) & 0x7fffffff
		i := int(sp) & (n - 1)
		nd := &node{k: k, h: sp}
		if tab[i] == nil {
			tab[i] = nd
		} else {
			p := tab[i]
			for p.next != nil {
				p = p.next
			}
			p.next = nd
		}
		count++
		if count >= sizeCtl {
			next := make([]*node, 2*n)
			for i := 0; i < n; i++ {
				f := tab[i]
				if f == nil {
					continue
				}
				runBit := int(f.h) & n
				lastRun := f
				for p := f.next; p != nil; p = p.next {
					if b := int(p.h) & n; b != runBit {
						runBit = b
						lastRun = p
					}
				}
				var ln, hn *node
				if runBit == 0 {
					ln = lastRun
				} else {
					hn = lastRun
				}
				for p := f; p != lastRun; p = p.next {
					if int(p.h)&n == 0 {
						ln = &node{k: p.k, h: p.h, next: ln}
					} else {
						hn = &node{k: p.k, h: p.h, next: hn}
					}
				}
				next[i] = ln
				next[i+n] = hn
			}
			tab = next
			sizeCtl = (n << 1) - (n >> 1)
			n *= 2
		}
	}
	out := make([]string, 0, len(keys))
	for _, b := range tab {
		for p := b; p != nil; p = p.next {
			out = append(out, p.k)
		}
	}
	return out
}

// ScalaMutableMapOrder is the iteration order of an empty `mutable.Map[String, V]()` filled with keys in the given
// order (a repeated key keeps its first place).
func ScalaMutableMapOrder(keys []string) []string {
	return scalaMutableOrder(keys, scalaMutableFromLen(0))
}

package zoocfg

import "unicode/utf16"

// javaPropertiesOrder is the order in which a java.util.Properties of Java 9 and later (a ConcurrentHashMap of
// initial capacity 8) iterates the entries loaded from props: Apache rewrites zoo.cfg in that order
// (editStaticConfig). Later duplicates replace the value in place. Bins that would turn into trees (eight
// colliding keys) are not modelled.
func javaPropertiesOrder(props []Property) []Property {
	m := newJavaCHM()
	for _, p := range props {
		m.put(p.Key, p.Value)
	}
	var out []Property
	for _, bin := range m.table {
		for _, n := range bin {
			out = append(out, Property{Key: n.key, Value: n.val})
		}
	}
	return out
}

type chmNode struct {
	hash     int32
	key, val string
}

// javaCHM models ConcurrentHashMap's table on one thread: bins in insertion order, resized at three quarters.
type javaCHM struct {
	table   [][]chmNode
	count   int
	sizeCtl int
}

// newJavaCHM is new ConcurrentHashMap(8): a table of 16 bins.
func newJavaCHM() *javaCHM { return &javaCHM{table: make([][]chmNode, 16), sizeCtl: 12} }

// javaStringHash is String.hashCode over the UTF-16 units.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// spread is ConcurrentHashMap.spread.
func spread(h int32) int32 { return (h ^ int32(uint32(h)>>16)) & 0x7fffffff }

func (m *javaCHM) put(key, val string) {
	h := spread(javaStringHash(key))
	i := int(h) & (len(m.table) - 1)
	for j := range m.table[i] {
		if m.table[i][j].key == key {
			m.table[i][j].val = val
			return
		}
	}
	m.table[i] = append(m.table[i], chmNode{hash: h, key: key, val: val})
	m.count++
	for m.count >= m.sizeCtl {
		m.resize()
	}
}

// resize is ConcurrentHashMap.transfer: each bin splits into a low and a high one; the run of nodes ending the
// bin that share their split bit keeps its order, the nodes before it are prepended one by one (so reversed).
func (m *javaCHM) resize() {
	n := len(m.table)
	next := make([][]chmNode, 2*n)
	for i, bin := range m.table {
		if len(bin) == 0 {
			continue
		}
		runBit, lastRun := bin[0].hash&int32(n), 0
		for p := 1; p < len(bin); p++ {
			if b := bin[p].hash & int32(n); b != runBit {
				runBit, lastRun = b, p
			}
		}
		var ln, hn []chmNode
		if runBit == 0 {
			ln = append(ln, bin[lastRun:]...)
		} else {
			hn = append(hn, bin[lastRun:]...)
		}
		for p := 0; p < lastRun; p++ {
			if bin[p].hash&int32(n) == 0 {
				ln = append([]chmNode{bin[p]}, ln...)
			} else {
				hn = append([]chmNode{bin[p]}, hn...)
			}
		}
		next[i], next[i+n] = ln, hn
	}
	m.table = next
	m.sizeCtl = 2*n - n/2
}

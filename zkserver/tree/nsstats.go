package tree

// statOverheadBytes is DataTree.STAT_OVERHEAD_BYTES: what a read's stat adds to its size.
const statOverheadBytes = 6*8 + 5*4

// NSSummary is one key of an AvgMinMaxCounterSet: how many values, their sum, least and greatest.
type NSSummary struct {
	Count, Sum, Min, Max int64
}

func (s *NSSummary) add(v int64) {
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Count++
	s.Sum += v
}

// NamespaceStats are ServerMetrics' read_per_namespace and write_per_namespace: the sizes of the reads and
// writes of each top-level znode name, as DataTree records them (a write: the path's length plus its data; a read:
// the path's, the data's or the child names' length plus a stat's size). They outlive a tree (a follower's new
// snapshot keeps counting, as Apache's global metrics do); use them on the tree's goroutine.
type NamespaceStats struct {
	Read, Write map[string]*NSSummary
}

// NewNamespaceStats returns empty stats.
func NewNamespaceStats() *NamespaceStats {
	return &NamespaceStats{Read: map[string]*NSSummary{}, Write: map[string]*NSSummary{}}
}

// Reset zeroes every key's summary, keeping the keys, as ServerMetrics.resetAll (srst) does.
func (n *NamespaceStats) Reset() {
	for _, m := range []map[string]*NSSummary{n.Read, n.Write} {
		for _, s := range m {
			*s = NSSummary{}
		}
	}
}

// Snapshot copies the summaries.
func (n *NamespaceStats) Snapshot() (read, write map[string]NSSummary) {
	cp := func(m map[string]*NSSummary) map[string]NSSummary {
		out := make(map[string]NSSummary, len(m))
		for k, s := range m {
			out[k] = *s
		}
		return out
	}
	return cp(n.Read), cp(n.Write)
}

func (n *NamespaceStats) record(m map[string]*NSSummary, path string, v int64) {
	ns := TopNamespace(path)
	if ns == "" {
		return
	}
	s := m[ns]
	if s == nil {
		s = &NSSummary{}
		m[ns] = s
	}
	s.add(v)
}

// NamespaceStats are the stats the tree counts into (nil: none).
func (t *Tree) NamespaceStats() *NamespaceStats { return t.opts.NamespaceStats }

// noteWrite is DataTree.updateWriteStat.
func (t *Tree) noteWrite(path string, dataLen int) {
	if t.opts.NamespaceStats != nil {
		t.opts.NamespaceStats.record(t.opts.NamespaceStats.Write, path, int64(javaLen(path)+dataLen))
	}
}

// NoteRead is DataTree.updateReadStat for a read served from the tree: getData (bytes: the data's length),
// exists (0) or getChildren (the child names' lengths).
func (t *Tree) NoteRead(path string, bytes int64) {
	if t.opts.NamespaceStats != nil {
		t.opts.NamespaceStats.record(t.opts.NamespaceStats.Read, path, int64(javaLen(path))+bytes+statOverheadBytes)
	}
}

// ChildNamesLen is the sum of the child names' lengths, what a getChildren read counts.
func ChildNamesLen(names []string) int64 {
	var n int64
	for _, c := range names {
		n += int64(javaLen(c))
	}
	return n
}

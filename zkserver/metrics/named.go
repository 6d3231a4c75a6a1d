package metrics

import "sync/atomic"

// Named lists a part's ServerMetrics under Apache's names: the one table its export to mntr and its reset by
// srst (ServerMetrics.resetAll) both read, so a metric cannot be exported and left out of the reset.
type Named struct {
	Counters    map[string]*atomic.Int64
	Summaries   map[string]*SummaryCounter
	SummarySets map[string]*SummarySet
}

// Export adds the metrics' values to m.
func (n Named) Export(m map[string]any) {
	for name, c := range n.Counters {
		m[name] = c.Load()
	}
	for name, s := range n.Summaries {
		m[name] = s.Snapshot()
	}
	for name, s := range n.SummarySets {
		m[name] = s.Snapshot()
	}
}

// Reset zeroes them.
func (n Named) Reset() {
	for _, c := range n.Counters {
		c.Store(0)
	}
	for _, s := range n.Summaries {
		s.Reset()
	}
	for _, s := range n.SummarySets {
		s.Reset()
	}
}

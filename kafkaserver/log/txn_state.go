package log

import (
	"cmp"
	"slices"
)

// txnSpan is one transaction of a partition (Kafka's TxnMetadata): its producer, first offset and, once a marker
// completed it, the marker's offset.
type txnSpan struct {
	producerID  int64
	firstOffset int64
	lastOffset  int64 // -1 while ongoing
}

// completedTxn is a transaction a commit or abort marker ended (Kafka's CompletedTxn).
type completedTxn struct {
	producerID  int64
	firstOffset int64
	lastOffset  int64 // the marker's offset
	aborted     bool
}

// txnList is a set of transactions ordered by first offset (Kafka keeps them in TreeMaps by first offset); a
// partition has about one per transactional producer writing to it.
type txnList []txnSpan

func (tl txnList) find(first int64) (int, bool) {
	return slices.BinarySearchFunc(tl, first, func(t txnSpan, f int64) int { return cmp.Compare(t.firstOffset, f) })
}

func (tl *txnList) put(t txnSpan) {
	i, ok := tl.find(t.firstOffset)
	if ok {
		(*tl)[i] = t
		return
	}
	*tl = slices.Insert(*tl, i, t)
}

func (tl *txnList) remove(first int64) (txnSpan, bool) {
	i, ok := tl.find(first)
	if !ok {
		return txnSpan{}, false
	}
	t := (*tl)[i]
	*tl = slices.Delete(*tl, i, i+1)
	return t, true
}

// firstUnstableOffset is the first offset of the oldest transaction not known to be decided and replicated: an
// ongoing one, or a completed one whose marker is not yet below the high watermark (ProducerStateManager's).
func (m *producerStateManager) firstUnstableOffset() (int64, bool) {
	switch {
	case len(m.ongoing) == 0 && len(m.unreplicated) == 0:
		return 0, false
	case len(m.ongoing) == 0:
		return m.unreplicated[0].firstOffset, true
	case len(m.unreplicated) == 0:
		return m.ongoing[0].firstOffset, true
	}
	return min(m.ongoing[0].firstOffset, m.unreplicated[0].firstOffset), true
}

// onHighWatermarkUpdated forgets the completed transactions whose markers are now below the high watermark: they
// no longer hold the last stable offset back.
func (m *producerStateManager) onHighWatermarkUpdated(hw int64) { m.removeUnreplicated(hw) }

func (m *producerStateManager) removeUnreplicated(offset int64) {
	m.unreplicated = slices.DeleteFunc(m.unreplicated, func(t txnSpan) bool { return t.lastOffset < offset })
}

// lastStableOffsetFor is the last stable offset a transaction index entry records for c, computed before c is
// completed: the first offset of the oldest ongoing transaction of another producer, else just past the marker.
func (m *producerStateManager) lastStableOffsetFor(c completedTxn) int64 {
	for _, t := range m.ongoing {
		if t.producerID != c.producerID {
			return t.firstOffset
		}
	}
	return c.lastOffset + 1
}

// completeTxn moves c's transaction from the ongoing to the unreplicated ones, where it stays until the high
// watermark passes its marker.
func (m *producerStateManager) completeTxn(c completedTxn) {
	t, ok := m.ongoing.remove(c.firstOffset)
	if !ok {
		// Kafka fails the append here; the marker is written already, so the state goes on without it.
		m.logger.Warn("completed a transaction that was not started", "producer", c.producerID,
			"first_offset", c.firstOffset, "marker_offset", c.lastOffset)
		return
	}
	t.lastOffset = c.lastOffset
	m.unreplicated.put(t)
}

// clearTxns forgets every transaction (the state is reloaded or reset).
func (m *producerStateManager) clearTxns() {
	m.ongoing, m.unreplicated = m.ongoing[:0], m.unreplicated[:0]
}

// loadEntry adds a producer read from a snapshot, with its ongoing transaction (loadProducerEntry).
func (m *producerStateManager) loadEntry(e *producerEntry) {
	m.producers[e.producerID] = e
	if e.txnFirstOffset >= 0 {
		m.ongoing.put(txnSpan{producerID: e.producerID, firstOffset: e.txnFirstOffset, lastOffset: -1})
	}
}

package log

import (
	"fmt"
	"slices"
)

// abortedTxnsLocked is Log.addAbortedTransactions for a read_committed read that found its first batch at pos of
// segment i: the aborted transactions that end at or after the fetch offset and begin below the read's upper bound,
// from the transaction indexes of segment i on, until an entry's last stable offset shows that no later one can
// overlap. The list is empty, not nil, when there are none.
func (l *Log) abortedTxnsLocked(i int, pos, offset int64, maxBytes int32, maxOffset int64, minOne bool) ([]AbortedTxn, error) {
	out := []AbortedTxn{}
	// Most logs have no aborted transactions: then there is no bound to compute.
	if !slices.ContainsFunc(l.segs[i:], func(s *segment) bool { return s.txn.n > 0 }) {
		return out, nil
	}
	upper, err := l.fetchUpperBound(i, pos, maxBytes, maxOffset, minOne)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", l.tp, err)
	}
	for _, s := range l.segs[i:] {
		es, complete, err := s.txn.collect(offset, upper)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", l.tp, err)
		}
		for _, e := range es {
			out = append(out, AbortedTxn{ProducerID: e.producerID, FirstOffset: e.firstOffset})
		}
		if complete {
			break
		}
	}
	return out, nil
}

// fetchUpperBound is the exclusive upper offset of a read from pos of segment i, computed from the bytes Kafka's
// LogSegment.read would have sliced (up to maxBytes, or the whole first batch with minOne, and not past the batch
// holding maxOffset): the offset of the first offset index entry at or past the slice's end
// (LogSegment.fetchUpperBoundOffset), else the next segment's base, else the log end.
func (l *Log) fetchUpperBound(i int, pos int64, maxBytes int32, maxOffset int64, minOne bool) (int64, error) {
	s := l.segs[i]
	segNext := l.next
	if i+1 < len(l.segs) {
		segNext = l.segs[i+1].base
	}
	limit := s.size
	if maxOffset < segNext {
		hp, _, found, err := s.translate(maxOffset, pos)
		if err != nil {
			return 0, err
		}
		if found {
			limit = hp
		}
	}
	size := int64(max(maxBytes, 0))
	if minOne {
		h, err := s.header(pos)
		if err != nil {
			return 0, err
		}
		size = max(size, batchLen(h))
	}
	size = max(min(size, limit-pos), 0)
	off, ok, err := s.oi.firstAtOrAfter(pos + size)
	if err != nil || ok {
		return off, err
	}
	return segNext, nil
}

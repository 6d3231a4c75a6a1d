package log

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// ProducerState is what a partition knows of one idempotent producer (DescribeProducers' fields).
type ProducerState struct {
	ProducerID       int64
	ProducerEpoch    int16
	LastSequence     int32 // -1 when no data batch is retained
	LastTimestamp    int64
	CoordinatorEpoch int32
	TxnStartOffset   int64 // -1 when no transaction is open
}

// ActiveProducers lists the producers the partition tracks, by producer id.
func (l *Log) ActiveProducers() []ProducerState {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]ProducerState, 0, len(l.pstate.producers))
	for pid, e := range l.pstate.producers {
		out = append(out, ProducerState{ProducerID: pid, ProducerEpoch: e.epoch, LastSequence: e.lastSeq(),
			LastTimestamp: e.lastTimestamp, CoordinatorEpoch: e.coordinatorEpoch, TxnStartOffset: e.txnFirstOffset})
	}
	slices.SortFunc(out, func(a, b ProducerState) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out
}

// RemoveExpiredProducers forgets producers whose last batch is older than maxIdleMs
// (transactional.id.expiration.ms in Kafka 2.8); later loads of the log use the same limit.
func (l *Log) RemoveExpiredProducers(now time.Time, maxIdleMs int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.pstate.expiryMs = maxIdleMs
	l.pstate.removeExpired(now.UnixMilli())
}

// RemoveExpiredProducers runs the producer id expiration check over every log (Kafka schedules it per log every
// ProducerIDExpirationCheckIntervalMs).
func (m *Manager) RemoveExpiredProducers(now time.Time, maxIdleMs int64) {
	for _, l := range m.All() {
		l.RemoveExpiredProducers(now, maxIdleMs)
	}
}

// TakeProducerSnapshot writes a producer snapshot at the log end offset (tests and tools; roll and close do it).
func (l *Log) TakeProducerSnapshot() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	return l.pstate.takeSnapshot()
}

// ProducerSnapshotOffsets lists the offsets of the producer snapshot files.
func (l *Log) ProducerSnapshotOffsets() []int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.pstate.snapshots)
}

// analyzeProducers validates an append's producer batches; a client duplicate comes back as the original batch.
func (l *Log) analyzeProducers(batches []batch, origin appendOrigin) (producerUpdates, *producerBatch, error) {
	ups, dup, err := l.pstate.analyze(batches, origin)
	if err != nil {
		return producerUpdates{}, nil, fmt.Errorf("append to %s: %w", l.tp, err)
	}
	return ups, dup, nil
}

// applyProducers records a written append in the producer state. Each transaction a marker completed is recorded in
// the active segment's transaction index, if aborted, with the last stable offset computed before it completes, as
// Log.append does. A failed index write leaves that transaction and the later ones ongoing and the state's end
// where it was; the recovery of the segment after a restart rebuilds the index.
func (l *Log) applyProducers(ups producerUpdates, last int64) error {
	ps := l.pstate
	for _, u := range ups.appends {
		ps.update(u)
	}
	for _, c := range ups.completed {
		if c.aborted {
			e := abortedTxn{producerID: c.producerID, firstOffset: c.firstOffset, lastOffset: c.lastOffset,
				lastStableOffset: ps.lastStableOffsetFor(c)}
			if err := l.active().txn.append(e); err != nil {
				return fmt.Errorf("append to %s: %w", l.tp, err)
			}
		}
		ps.completeTxn(c)
	}
	ps.mapEnd = last + 1
	return nil
}

// rebuildProducerState is Log.rebuildProducerState: load the newest snapshot at or below lastOffset and replay
// the producer batches after it. After a clean shutdown without any snapshot (an upgrade from a broker that wrote
// none) the scan is skipped and empty snapshots are written instead, as Kafka does.
func (l *Log) rebuildProducerState(lastOffset int64, cleanShutdown bool) error {
	return l.rebuildProducerStateInto(l.pstate, lastOffset, cleanShutdown)
}

// rebuildProducerStateInto is rebuildProducerState into ps, which may be a scratch manager (segment recovery).
func (l *Log) rebuildProducerStateInto(ps *producerStateManager, lastOffset int64, cleanShutdown bool) error {
	toSnapshot := []int64{lastOffset}
	if n := len(l.segs); n > 0 {
		toSnapshot = append(toSnapshot, l.segs[n-1].base)
		if n > 1 {
			toSnapshot = append(toSnapshot, l.segs[n-2].base)
		}
	}
	// An old message format has no producer state to find (Kafka skips the scan then too).
	if _, ok := ps.latestSnapshot(); (!ok && cleanShutdown) || l.cfg.RecordVersion() < 2 {
		slices.Sort(toSnapshot)
		for _, off := range toSnapshot {
			ps.mapEnd = off
			if err := ps.takeSnapshot(); err != nil {
				return err
			}
		}
		return nil
	}
	emptyBefore := ps.isEmpty() && ps.mapEnd >= lastOffset
	ps.truncateAndReload(l.logStart, lastOffset, l.nowMs())
	if lastOffset > ps.mapEnd && !emptyBefore {
		// The segments holding [mapEnd, lastOffset), as Log.logSegments(from, to).
		var todo []*segment
		for i, s := range l.segs {
			if s.base < lastOffset && (i == len(l.segs)-1 || l.segs[i+1].base > ps.mapEnd) {
				todo = append(todo, s)
			}
		}
		for _, s := range todo {
			start := max(s.base, ps.mapEnd, l.logStart)
			ps.mapEnd = start
			if slices.Contains(toSnapshot, s.base) {
				if err := ps.takeSnapshot(); err != nil {
					return err
				}
			}
			if err := l.loadProducersFromSegment(ps, s, start, lastOffset); err != nil {
				return err
			}
		}
	}
	ps.mapEnd = lastOffset
	return ps.takeSnapshot()
}

// loadProducersFromSegment replays into ps the producer batches of s holding offsets in [from, to)
// (loadProducersFromRecords): the transactions their markers complete stay unreplicated until the high watermark
// passes them.
func (l *Log) loadProducersFromSegment(ps *producerStateManager, s *segment, from, to int64) error {
	pos, _, found, err := s.translate(from, 0)
	if err != nil || !found {
		return err
	}
	var batches []batch
	for pos < s.size {
		h, err := s.header(pos)
		if err != nil {
			return fmt.Errorf("load producer state of %s: %w", l.tp, err)
		}
		n := batchLen(h)
		if h.lastOffset() >= to {
			break
		}
		if h.producerID() >= 0 && h.isControl() {
			// Markers need their record (the coordinator epoch); data batches only their header.
			if h, err = s.readAt(pos, n); err != nil {
				return err
			}
		}
		batches = append(batches, h)
		pos += n
	}
	ups, _, err := ps.analyze(batches, originReplication)
	if err != nil {
		return fmt.Errorf("load producer state of %s: %w", l.tp, err)
	}
	for _, u := range ups.appends {
		ps.update(u)
	}
	for _, c := range ups.completed {
		ps.completeTxn(c)
	}
	return nil
}

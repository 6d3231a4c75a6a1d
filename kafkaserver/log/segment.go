package log

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// File suffixes of a segment, as Kafka names them.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	txnIndexSuffix  = ".txnindex"
	snapshotSuffix  = ".snapshot"
	deletedSuffix   = ".deleted"
	cleanedSuffix   = ".cleaned"
	swapSuffix      = ".swap"
)

func segmentFile(dir string, base int64, suffix string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, suffix))
}

// segment is one LogSegment: a .log file of batches plus its offset, time and transaction indexes.
type segment struct {
	dir             string
	base            int64
	log             *os.File
	size            int64 // bytes of valid data; the file may be longer when preallocated
	preallocated    bool
	oi              offsetIndex
	ti              timeIndex
	txn             *txnIndex
	indexInterval   int64
	bytesSinceIndex int64
	maxTs           int64 // maxTimestampSoFar
	offMaxTs        int64
	rollingTs       int64 // max timestamp of the first batch, for time-based rolling
	rollingKnown    bool
	createdMs       int64
	jitterMs        int64
	dirty           bool
}

func createSegment(dir string, base int64, cfg *Config, nowMs, jitter int64) (*segment, error) {
	for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		_ = os.Remove(segmentFile(dir, base, suf)) // stale files of an earlier life of this offset
	}
	f, err := os.OpenFile(segmentFile(dir, base, logSuffix), os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment %d: %w", base, err)
	}
	s := &segment{dir: dir, base: base, log: f, indexInterval: int64(cfg.IndexIntervalBytes),
		maxTs: noTimestamp, offMaxTs: base, createdMs: nowMs, jitterMs: jitter}
	if cfg.PreallocateFiles {
		if err := f.Truncate(cfg.SegmentBytes); err != nil {
			f.Close()
			return nil, fmt.Errorf("preallocate segment %d: %w", base, err)
		}
		s.preallocated = true
	}
	if err := s.openIndexes(cfg); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func openSegment(dir string, base int64, cfg *Config, nowMs, jitter int64) (*segment, error) {
	f, err := os.OpenFile(segmentFile(dir, base, logSuffix), os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open segment %d: %w", base, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat segment %d: %w", base, err)
	}
	s := &segment{dir: dir, base: base, log: f, size: st.Size(), indexInterval: int64(cfg.IndexIntervalBytes),
		createdMs: nowMs, jitterMs: jitter}
	if err := s.openIndexes(cfg); err != nil {
		f.Close()
		return nil, err
	}
	s.maxTs, s.offMaxTs = s.ti.lastEntry()
	return s, nil
}

func (s *segment) openIndexes(cfg *Config) error {
	return s.openIndexesAt(cfg, "")
}

// openIndexesAt opens the indexes whose file names end in suffix after the usual ones (".cleaned" for the
// cleaner's segment).
func (s *segment) openIndexesAt(cfg *Config, suffix string) error {
	oi, err := openIndex(segmentFile(s.dir, s.base, indexSuffix+suffix), s.base, 8, cfg.MaxIndexSize)
	if err != nil {
		return err
	}
	ti, err := openIndex(segmentFile(s.dir, s.base, timeIndexSuffix+suffix), s.base, 12, cfg.MaxIndexSize)
	if err != nil {
		oi.close()
		return err
	}
	txn, err := openTxnIndex(segmentFile(s.dir, s.base, txnIndexSuffix+suffix), s.base)
	if err != nil {
		oi.close()
		ti.close()
		return err
	}
	s.oi, s.ti, s.txn = offsetIndex{oi}, timeIndex{ti}, txn
	return nil
}

// header reads the start of the batch at pos (enough for every header field used here).
func (s *segment) header(pos int64) (batch, error) {
	n := min(int64(v2HeaderSize), s.size-pos)
	if n < logOverhead+5 {
		return nil, errShort
	}
	buf := make([]byte, n)
	if _, err := s.log.ReadAt(buf, pos); err != nil {
		return nil, fmt.Errorf("read segment %d at %d: %w", s.base, pos, err)
	}
	size := int64(int32(beUint32(buf[8:])))
	if size < legacyOverheadV0 || pos+logOverhead+size > s.size {
		return nil, fmt.Errorf("%w: batch at position %d of segment %d", ErrCorrupt, pos, s.base)
	}
	if m := int8(buf[16]); m < 0 || m > 2 || (m == 2 && size+logOverhead < v2HeaderSize) {
		return nil, fmt.Errorf("%w: batch at position %d of segment %d", ErrCorrupt, pos, s.base)
	}
	return batch(buf[:min(n, logOverhead+size)]), nil
}

func batchLen(h batch) int64 { return logOverhead + int64(int32(beUint32(h[8:]))) }

// translate finds the first batch at or after startPos whose last offset is >= offset.
func (s *segment) translate(offset, startPos int64) (pos, size int64, found bool, err error) {
	wb := walkBufs.Get().(*[]byte)
	defer walkBufs.Put(wb)
	return s.translateIn(&headerWindow{s: s, buf: (*wb)[:4<<10]}, offset, startPos)
}

// translateIn is translate reading the headers through w. The walk starts at the offset index's entry for offset:
// at most about one produce request's batches.
func (s *segment) translateIn(w *headerWindow, offset, startPos int64) (pos, size int64, found bool, err error) {
	_, ipos, err := s.oi.lookup(offset)
	if err != nil {
		return 0, 0, false, err
	}
	for pos = max(ipos, startPos); pos < s.size; pos += size {
		h, err := w.at(pos, s.size)
		if err != nil {
			return 0, 0, false, err
		}
		size = batchLen(h)
		if h.lastOffset() >= offset {
			return pos, size, true, nil
		}
	}
	return 0, 0, false, nil
}

func (s *segment) readAt(pos, n int64) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := s.log.ReadAt(buf, pos); err != nil {
		return nil, fmt.Errorf("read segment %d at %d: %w", s.base, pos, err)
	}
	return buf, nil
}

func (s *segment) canConvert(offset int64) bool {
	rel := offset - s.base
	return rel >= 0 && rel <= math.MaxInt32
}

// append writes already validated batches, adding index entries every index.interval.bytes.
func (s *segment) append(largestOffset, largestTs, offMaxTs int64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	pos := s.size
	if pos == 0 {
		s.rollingTs, s.rollingKnown = largestTs, true
	}
	if !s.canConvert(largestOffset) {
		return fmt.Errorf("offset %d does not fit segment %d", largestOffset, s.base)
	}
	if _, err := s.log.WriteAt(data, pos); err != nil {
		return fmt.Errorf("append to segment %d: %w", s.base, err)
	}
	s.size += int64(len(data))
	s.dirty = true
	if largestTs > s.maxTs {
		s.maxTs, s.offMaxTs = largestTs, offMaxTs
	}
	if s.bytesSinceIndex > s.indexInterval {
		if err := s.oi.append(largestOffset, pos); err != nil {
			return err
		}
		if err := s.ti.maybeAppend(s.maxTs, s.offMaxTs, false); err != nil {
			return err
		}
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += int64(len(data))
	return nil
}

// recover rebuilds the indexes from the data and cuts the file at the first invalid batch (bad CRC,
// bad size, truncated, offset beyond the segment). It returns the number of bytes cut. The v2 batches are replayed
// into ps, the producer state at the segment's base, which rebuilds the transaction index (LogSegment.recover).
func (s *segment) recover(epochs *epochCache, ps *producerStateManager) (int64, error) {
	if err := s.oi.reset(); err != nil {
		return 0, err
	}
	if err := s.ti.reset(); err != nil {
		return 0, err
	}
	if err := s.txn.reset(); err != nil {
		return 0, err
	}
	st, err := s.log.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat segment %d: %w", s.base, err)
	}
	fileSize := st.Size()
	s.maxTs, s.offMaxTs = noTimestamp, s.base
	var valid, lastIndexed int64
	prev := s.base - 1 // the last offset so far: a batch must come after it (reads and the index rely on that)
	r := bufio.NewReaderSize(io.NewSectionReader(s.log, 0, fileSize), 1<<20)
	hdr := make([]byte, logOverhead)
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			break
		}
		size := int64(int32(beUint32(hdr[8:])))
		if size < legacyOverheadV0 || valid+logOverhead+size > fileSize {
			break
		}
		if int64(cap(buf)) < logOverhead+size {
			buf = make([]byte, logOverhead+size)
		}
		buf = buf[:logOverhead+size]
		copy(buf, hdr)
		if _, err := io.ReadFull(r, buf[logOverhead:]); err != nil {
			break
		}
		b, err := nextBatch(buf)
		if err != nil || b.validate() != nil || !s.canConvert(b.lastOffset()) ||
			b.lastOffset() <= prev || (b.magic() == 2 && b.offsetField() <= prev) {
			break
		}
		if b.isControl() && !markerDecodes(b) {
			// The producer state reads a marker's record: one that does not decode ends the valid part here rather
			// than failing the whole log's load.
			break
		}
		prev = b.lastOffset()
		if ts := b.maxTimestamp(); ts > s.maxTs {
			s.maxTs, s.offMaxTs = ts, b.lastOffset()
		}
		if valid-lastIndexed > s.indexInterval {
			if err := s.oi.append(b.lastOffset(), valid); err != nil {
				break
			}
			if err := s.ti.maybeAppend(s.maxTs, s.offMaxTs, false); err != nil {
				return 0, err
			}
			lastIndexed = valid
		}
		if b.magic() == 2 && epochs != nil {
			if _, err := epochs.assign(b.leaderEpoch(), b.offsetField()); err != nil {
				return 0, err
			}
		}
		if b.magic() == 2 && ps != nil {
			if err := s.replayProducer(ps, b); err != nil {
				return 0, err
			}
		}
		valid += int64(len(b))
	}
	if err := s.ti.maybeAppend(s.maxTs, s.offMaxTs, true); err != nil {
		return 0, err
	}
	truncated := fileSize - valid
	if s.preallocated {
		truncated = max(0, s.size-valid)
	}
	if valid < fileSize {
		if err := s.log.Truncate(valid); err != nil {
			return 0, fmt.Errorf("truncate segment %d: %w", s.base, err)
		}
	}
	s.preallocated = false
	s.size = valid
	s.bytesSinceIndex = valid - lastIndexed
	s.rollingKnown = false
	return truncated, nil
}

// nextOffset is one past the last offset stored in the segment (the base when empty).
func (s *segment) nextOffset() (int64, error) {
	_, pos, err := s.oi.lookup(math.MaxInt64)
	if err != nil {
		return 0, err
	}
	next := s.base
	for pos < s.size {
		h, err := s.header(pos)
		if err != nil {
			return 0, err
		}
		next = h.lastOffset() + 1
		pos += batchLen(h)
	}
	return next, nil
}

// truncateTo removes every batch whose last offset is >= offset; returns bytes removed.
func (s *segment) truncateTo(offset int64) (int64, error) {
	pos, _, found, err := s.translate(offset, 0)
	if err != nil {
		return 0, err
	}
	if err := s.oi.truncateTo(offset); err != nil {
		return 0, err
	}
	if err := s.ti.truncateTo(offset); err != nil {
		return 0, err
	}
	if err := s.txn.truncateTo(offset); err != nil {
		return 0, err
	}
	if !found {
		return 0, nil
	}
	cut := s.size - pos
	if err := s.log.Truncate(pos); err != nil {
		return 0, fmt.Errorf("truncate segment %d: %w", s.base, err)
	}
	s.preallocated = false
	s.size = pos
	s.bytesSinceIndex = 0
	s.maxTs, s.offMaxTs = s.ti.lastEntry()
	s.dirty = true
	if s.size == 0 {
		s.rollingKnown = false
	}
	return cut, nil
}

func (s *segment) loadRollingTs() {
	if s.rollingKnown || s.size == 0 {
		return
	}
	h, err := s.header(0)
	s.rollingTs = noTimestamp
	if err == nil {
		s.rollingTs = h.maxTimestamp()
	}
	s.rollingKnown = true
}

func (s *segment) shouldRoll(cfg *Config, nowMs, maxTsInMessages, msgSize, maxOffsetInMessages int64) bool {
	s.loadRollingTs()
	waited := nowMs - s.createdMs
	if s.rollingKnown && s.rollingTs >= 0 {
		waited = maxTsInMessages - s.rollingTs
	}
	reachedRollMs := waited > cfg.SegmentMs-s.jitterMs
	return s.size > cfg.SegmentBytes-msgSize || (s.size > 0 && reachedRollMs) ||
		s.oi.isFull() || s.ti.isFull() || !s.canConvert(maxOffsetInMessages)
}

// largestTimestamp is the retention clock: the max record timestamp, or the file's mtime without one.
func (s *segment) largestTimestamp() int64 {
	if s.maxTs >= 0 {
		return s.maxTs
	}
	st, err := s.log.Stat()
	if err != nil {
		return 0
	}
	return st.ModTime().UnixMilli()
}

// findOffsetByTimestamp returns the first record at or after startOffset with timestamp >= ts.
func (s *segment) findOffsetByTimestamp(ts, startOffset int64) (int64, int64, bool, error) {
	_, off, err := s.ti.lookup(ts)
	if err != nil {
		return 0, 0, false, err
	}
	_, pos, err := s.oi.lookup(max(off, startOffset))
	if err != nil {
		return 0, 0, false, err
	}
	for pos < s.size {
		h, err := s.header(pos)
		if err != nil {
			return 0, 0, false, err
		}
		n := batchLen(h)
		if h.maxTimestamp() >= ts && h.lastOffset() >= startOffset {
			data, err := s.readAt(pos, n)
			if err != nil {
				return 0, 0, false, err
			}
			recs, err := batch(data).records()
			if err != nil {
				return 0, 0, false, err
			}
			for _, r := range recs {
				if r.Timestamp >= ts && r.Offset >= startOffset {
					return r.Offset, r.Timestamp, true, nil
				}
			}
		}
		pos += n
	}
	return 0, 0, false, nil
}

// onBecomeInactive seals the segment when a newer one takes over: last time index entry, files
// trimmed to their contents (Kafka trims preallocated indexes and logs the same way).
func (s *segment) onBecomeInactive() error {
	if err := s.ti.maybeAppend(s.maxTs, s.offMaxTs, true); err != nil {
		return err
	}
	if err := s.oi.trim(); err != nil {
		return err
	}
	if err := s.ti.trim(); err != nil {
		return err
	}
	if s.preallocated {
		if err := s.log.Truncate(s.size); err != nil {
			return fmt.Errorf("trim segment %d: %w", s.base, err)
		}
		s.preallocated = false
	}
	return nil
}

func (s *segment) flush() error {
	if !s.dirty {
		return nil
	}
	if err := s.syncFiles(); err != nil {
		return err
	}
	s.dirty = false
	return nil
}

// syncFiles fsyncs the segment's files; it touches no other state, so that it may run without the log's lock.
func (s *segment) syncFiles() error {
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("sync segment %d: %w", s.base, err)
	}
	if err := s.oi.sync(); err != nil {
		return err
	}
	if err := s.ti.sync(); err != nil {
		return err
	}
	return s.txn.sync()
}

func (s *segment) close() error {
	err := s.onBecomeInactive()
	err = errors.Join(err, s.oi.close(), s.ti.close(), s.txn.close(), s.log.Close())
	if err != nil {
		return fmt.Errorf("close segment %d: %w", s.base, err)
	}
	return nil
}

// remove closes and deletes the segment's files (Kafka renames to .deleted first and deletes later;
// a crash in between leaves .deleted files that Open removes).
func (s *segment) remove() error {
	_ = s.oi.close()
	_ = s.ti.close()
	_ = s.txn.close()
	_ = s.log.Close()
	var errs []error
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		if err := os.Remove(segmentFile(s.dir, s.base, suf)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete segment %d: %w", s.base, err)
	}
	return nil
}

// markerDecodes reports whether a control batch is empty (a cleaned marker) or holds a transaction marker.
func markerDecodes(b batch) bool {
	recs, err := b.records()
	if err != nil {
		return false
	}
	if len(recs) == 0 {
		return true
	}
	_, err = parseTxnMarker(recs[0])
	return err == nil
}

// replayProducer is LogSegment.updateProducerState: a recovered batch applied to ps, a transaction it aborts
// recorded in the transaction index.
func (s *segment) replayProducer(ps *producerStateManager, b batch) error {
	if pid := b.producerID(); pid >= 0 {
		a := ps.prepareUpdate(pid, originReplication)
		done, err := a.appendBatch(b)
		if err != nil {
			return fmt.Errorf("recover segment %d: %w", s.base, err)
		}
		ps.update(a)
		if done != nil {
			if done.aborted {
				e := abortedTxn{producerID: done.producerID, firstOffset: done.firstOffset, lastOffset: done.lastOffset,
					lastStableOffset: ps.lastStableOffsetFor(*done)}
				if err := s.txn.append(e); err != nil {
					return err
				}
			}
			ps.completeTxn(*done)
		}
	}
	ps.mapEnd = b.lastOffset() + 1
	return nil
}

package log

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// segSnap is what the cleaner needs of one segment, read under the log's lock so the cleaning itself can run
// without it (only inactive segments are rewritten; their bytes do not change under a reader).
type segSnap struct {
	s         *segment
	base      int64
	size      int64
	mtimeMs   int64 // Kafka's LogSegment.lastModified drives the tombstone horizon
	largestTs int64
	firstTs   int64 // max timestamp of the first batch (LogSegment.getFirstBatchTimestamp), -1 when unknown
	oiBytes   int64
	tiBytes   int64
	txn       txnView // the aborted transactions whose markers the segment holds
}

// logSnap is a consistent view of a log for one cleaning decision.
type logSnap struct {
	cfg       Config
	logStart  int64
	logEnd    int64
	segs      []segSnap // every segment; the last is the active one
	truncated bool      // TruncateTo ran since the last snapshot
	truncTo   int64
	producers map[int64]lastRecord // Log.lastRecordsOfActiveProducers
	// firstUnstable is the first offset of a transaction not yet decided and replicated (clamped to the log start),
	// -1 when none: the cleaner stops below it.
	firstUnstable int64
}

// lastRecord is Kafka's LastRecord: a producer's last data offset (-1 when it has none) and epoch.
type lastRecord struct {
	dataOffset int64
	epoch      int16
}

// cleanerSnapshot captures the segments and settings and, when take is set, takes the truncation marker (Kafka's
// LogCleanerManager.maybeTruncateCheckpoint is called by LogManager.truncateTo; here the cleaner polls). A gauge
// only peeks: the marker stays for the cleaner to act on.
func (l *Log) cleanerSnapshot(take bool) (logSnap, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return logSnap{}, errClosed
	}
	sn := logSnap{cfg: l.cfg, logStart: l.logStart, logEnd: l.next, truncated: l.cleanerTruncated, truncTo: l.cleanerTruncatedTo}
	if take {
		l.cleanerTruncated = false
	}
	sn.producers = map[int64]lastRecord{}
	sn.firstUnstable = -1
	if l.pstate != nil {
		for pid, e := range l.pstate.producers {
			sn.producers[pid] = lastRecord{dataOffset: e.lastDataOffset(), epoch: e.epoch}
		}
		if first, ok := l.pstate.firstUnstableOffset(); ok {
			sn.firstUnstable = max(first, l.logStart)
		}
	}
	for _, s := range l.segs {
		ss := segSnap{s: s, base: s.base, size: s.size, largestTs: s.largestTimestamp(), firstTs: noTimestamp,
			oiBytes: int64(s.oi.n) * 8, tiBytes: int64(s.ti.n) * 12, txn: s.txn.view()}
		if st, err := s.log.Stat(); err == nil {
			ss.mtimeMs = st.ModTime().UnixMilli()
		}
		if s.size > 0 {
			if h, err := s.header(0); err == nil {
				ss.firstTs = h.maxTimestamp()
			}
		}
		sn.segs = append(sn.segs, ss)
	}
	return sn, nil
}

// collectAbortedTxns is Log.collectAbortedTransactions over the snapshot: the aborted transactions that end at or
// after the log start and begin below upper, from the segment holding start on.
func (sn *logSnap) collectAbortedTxns(start, upper int64) ([]abortedTxn, error) {
	var out []abortedTxn
	i := 0
	for j, s := range sn.segs {
		if s.base <= start {
			i = j
		}
	}
	for _, s := range sn.segs[i:] {
		es, err := s.txn.entries()
		if err != nil {
			return nil, err
		}
		got, complete := collectAborted(es, sn.logStart, upper)
		out = append(out, got...)
		if complete {
			break
		}
	}
	return out, nil
}

// noteTruncation remembers the lowest offset the log was truncated to, for the cleaner's checkpoint.
func (l *Log) noteTruncation(offset int64) {
	if !l.cleanerTruncated || offset < l.cleanerTruncatedTo {
		l.cleanerTruncated, l.cleanerTruncatedTo = true, offset
	}
}

// errCleaningAborted means the log changed (truncation, retention, deletion, close) while a cleaning ran:
// the cleaned segment is dropped, as Kafka's LogCleaningAbortedException does.
var errCleaningAborted = errors.New("log cleaning aborted")

// replaceSegments swaps a cleaned segment in for the segments it was built from, the way Kafka's
// Log.replaceSegments does and in the same crash-safe order: the .cleaned files become .swap files, the old
// segments are deleted, then the .swap suffix is dropped. A crash at any point is repaired by load: .cleaned
// files are discarded, a .log.swap file replaces the segments it covers.
func (l *Log) replaceSegments(cleaned *segment, old []segSnap, fail func(phase string) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errCleaningAborted
	}
	i := slices.Index(l.segs, old[0].s)
	if i < 0 || i+len(old) >= len(l.segs) {
		return errCleaningAborted
	}
	for j, o := range old {
		if l.segs[i+j] != o.s || o.s.size != o.size {
			return errCleaningAborted
		}
	}
	base := cleaned.base
	rename := func(from, to string) error {
		for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
			if err := os.Rename(segmentFile(l.dir, base, suf+from), segmentFile(l.dir, base, suf+to)); err != nil {
				return fmt.Errorf("swap cleaned segment %d: %w", base, err)
			}
		}
		// The transaction index exists only when the cleaned segment has aborted transactions.
		if err := cleaned.txn.rename(segmentFile(l.dir, base, txnIndexSuffix+to)); err != nil {
			return fmt.Errorf("swap cleaned segment %d: %w", base, err)
		}
		return syncDir(l.dir)
	}
	if err := rename(cleanedSuffix, swapSuffix); err != nil {
		return err
	}
	if err := fail("swap"); err != nil {
		return err
	}
	for n, o := range old {
		if err := o.s.remove(); err != nil {
			return err
		}
		if o.base != base && l.pstate != nil {
			l.pstate.removeAndDeleteSnapshot(o.base)
		}
		if n == 0 {
			if err := fail("delete-first"); err != nil {
				return err
			}
		}
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	if err := fail("deleted"); err != nil {
		return err
	}
	if err := rename(swapSuffix, ""); err != nil {
		return err
	}
	cleaned.oi.path = segmentFile(l.dir, base, indexSuffix)
	cleaned.ti.path = segmentFile(l.dir, base, timeIndexSuffix)
	l.segs = slices.Replace(l.segs, i, i+len(old), cleaned)
	return nil
}

// createCleanedSegment opens <base>.log.cleaned and its indexes, replacing leftovers of an earlier attempt.
func createCleanedSegment(dir string, base int64, cfg *Config) (*segment, error) {
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		_ = os.Remove(segmentFile(dir, base, suf+cleanedSuffix))
	}
	f, err := os.OpenFile(segmentFile(dir, base, logSuffix+cleanedSuffix), os.O_CREATE|os.O_RDWR|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create cleaned segment %d: %w", base, err)
	}
	s := &segment{dir: dir, base: base, log: f, indexInterval: int64(cfg.IndexIntervalBytes), maxTs: noTimestamp, offMaxTs: base}
	if err := s.openIndexesAt(cfg, cleanedSuffix); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// discardCleaned closes and deletes a cleaned segment that will not be swapped in.
func discardCleaned(s *segment) {
	_ = s.oi.close()
	_ = s.ti.close()
	_ = s.txn.close()
	_ = s.log.Close()
	for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
		_ = os.Remove(segmentFile(s.dir, s.base, suf+cleanedSuffix))
	}
}

// scanBatches calls fn for each batch of the segment between byte positions from and to, reading through a
// buffer instead of the whole segment. With headersOnly, fn gets only the v2 header (or the legacy header),
// enough for offsets, producer ids and attributes.
func scanBatches(f *os.File, from, to int64, headersOnly bool, fn func(pos int64, b batch) error) error {
	r := bufio.NewReaderSize(io.NewSectionReader(f, from, to-from), 1<<16)
	pos := from
	hdr := make([]byte, logOverhead)
	var buf []byte
	for pos < to {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return fmt.Errorf("read batch at %d of %s: %w", pos, filepath.Base(f.Name()), err)
		}
		size := int64(int32(binary.BigEndian.Uint32(hdr[8:])))
		if size < legacyOverheadV0 || pos+logOverhead+size > to {
			return fmt.Errorf("%w: batch at %d of %s", ErrCorrupt, pos, filepath.Base(f.Name()))
		}
		n := logOverhead + size
		keep := n
		if headersOnly {
			keep = min(n, v2HeaderSize)
		}
		if int64(cap(buf)) < keep {
			buf = make([]byte, keep)
		}
		buf = buf[:keep]
		copy(buf, hdr)
		if _, err := io.ReadFull(r, buf[logOverhead:]); err != nil {
			return fmt.Errorf("read batch at %d of %s: %w", pos, filepath.Base(f.Name()), err)
		}
		if keep < n {
			if _, err := r.Discard(int(n - keep)); err != nil {
				return fmt.Errorf("read batch at %d of %s: %w", pos, filepath.Base(f.Name()), err)
			}
		}
		if m := int8(buf[16]); m < 0 || m > 2 || (m == 2 && n < v2HeaderSize) {
			return fmt.Errorf("%w: magic %d at %d of %s", ErrCorrupt, m, pos, filepath.Base(f.Name()))
		}
		if err := fn(pos, batch(buf)); err != nil {
			return err
		}
		pos += n
	}
	return nil
}

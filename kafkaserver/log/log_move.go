package log

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// adopt makes l the log f holds (the swap of a log dir move): if both end at the same offset (as Kafka checks),
// l's dir is renamed to delDir and closed, f's renamed to dir, and l takes over f's segments and state; f is
// closed. The caller removes delDir. Both locks are held throughout, so no append falls between the check and
// the swap.
func (l *Log) adopt(f *Log, dir, delDir string) (bool, error) {
	f.bgFlush.Wait() // only the mover appends to f, and it is the caller
	l.mu.Lock()
	defer l.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if l.closed || f.closed {
		return false, errClosed
	}
	if f.next != l.next {
		return false, nil
	}
	// The same records, but a leader may have started an epoch it has not written to yet: the current cache is
	// the one to keep.
	f.epochs.entries, f.epochs.off = slices.Clone(l.epochs.entries), l.epochs.off
	if err := f.epochs.flush(); err != nil {
		return false, fmt.Errorf("leader epochs of the future log: %w", err)
	}
	if err := os.Rename(l.dir, delDir); err != nil {
		return false, fmt.Errorf("rename %s for deletion: %w", l.dir, err)
	}
	if err := os.Rename(f.dir, dir); err != nil {
		if rerr := os.Rename(delDir, l.dir); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return false, fmt.Errorf("rename future log %s: %w", f.dir, err)
	}
	for _, d := range []string{filepath.Dir(dir), filepath.Dir(delDir)} {
		if err := syncDir(d); err != nil {
			l.logger.Warn("sync after log dir move", "dir", d, "err", err)
		}
	}
	if err := f.flushLocked(); err != nil {
		l.logger.Warn("flush of the future log at its swap", "err", err)
	}
	_ = l.closeSegments()
	f.setDirLocked(dir)
	l.dir = dir
	l.segs, l.next, l.logStart = f.segs, f.next, f.logStart
	l.recoveryPoint, l.epochs, l.pstate = f.recoveryPoint, f.epochs, f.pstate
	l.unflushed, l.lastFlushMs = f.unflushed, f.lastFlushMs
	l.cleanerTruncated, l.cleanerTruncatedTo = f.cleanerTruncated, f.cleanerTruncatedTo
	l.setHWLocked(l.hw) // the same records: the current high watermark holds (updateHighWatermark)
	l.truncations++     // background flushes of the old segments must not move the recovery point
	l.setHint(readHint{})
	f.segs, f.closed = nil, true
	return true, nil
}

// setDirLocked points every file name of the log into dir after its directory was renamed (Log.renameDir).
func (l *Log) setDirLocked(dir string) {
	l.dir = dir
	for _, s := range l.segs {
		s.dir = dir
		if s.oi.index != nil {
			s.oi.path = segmentFile(dir, s.base, indexSuffix)
		}
		if s.ti.index != nil {
			s.ti.path = segmentFile(dir, s.base, timeIndexSuffix)
		}
		if s.txn != nil {
			s.txn.path = segmentFile(dir, s.base, txnIndexSuffix)
		}
	}
	l.epochs.path = filepath.Join(dir, LeaderEpochCheckpointFile)
	l.pstate.dir = dir
}

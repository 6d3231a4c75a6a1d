package log

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// Region is a byte range of a segment file holding batches (Kafka's slice: the last may be partial), for sending
// to a socket from the file (Kafka's FileRecords slice) instead of reading it. File is a duplicate of the segment's
// descriptor and belongs to the caller, who closes it: the region stays readable whatever happens to the segment
// meanwhile (deleted by retention, DeleteRecords or topic deletion, replaced by the cleaner: the open description
// keeps the old inode), and its descriptor number cannot be reused under the caller. Only a truncation of the
// segment (a follower truncating its log) can take bytes away from it, which the sender must notice as a short
// file.
//
// A dup per region was chosen over reference-counting the segment's *os.File: it costs two syscalls (dup, close)
// per fetched partition, against the pread and buffer it replaces, and keeps the segment's close and remove code
// unaware of readers.
type Region struct {
	File *os.File
	Pos  int64
	Len  int
}

// walkWindow is how much of a segment a header walk reads at a time.
const walkWindow = 32 << 10

var walkBufs = sync.Pool{New: func() any { b := make([]byte, walkWindow); return &b }}

// ReadRegion is ReadSlice that answers with a region of the segment file instead of the records' bytes when they
// are at least minLen bytes and the topic's message format is at most maxMagic (so that the caller sends them
// unchanged); res.Records is nil then. Otherwise it returns the bytes, read into alloc, as ReadSlice does. The bytes
// chosen (Kafka's slice, perhaps ending with a partial batch) and the read hint are the same as ReadSlice's.
//
// As Kafka 2.8, the format is decided by the topic's configuration, not by every batch: a log whose format was
// lowered still holds newer batches, which Kafka sends unconverted too. The region is cut without reading it
// (Kafka's LogSegment.read): the high watermark's position comes from the offset index, and only the batches near
// the end are walked, so that the next fetch's position (after the last whole batch) is known.
func (l *Log) ReadRegion(offset int64, maxBytes int32, maxOffset int64, minOneMessage bool, maxMagic int8, minLen int, alloc Alloc) (ReadResult, *Region, error) {
	return l.readRegion(offset, maxBytes, maxOffset, false, minOneMessage, maxMagic, minLen, alloc)
}

// ReadRegionCommitted is ReadRegion for a read_committed consumer, as ReadSlice's committed read.
func (l *Log) ReadRegionCommitted(offset int64, maxBytes int32, minOneMessage bool, maxMagic int8, minLen int, alloc Alloc) (ReadResult, *Region, error) {
	return l.readRegion(offset, maxBytes, -1, true, minOneMessage, maxMagic, minLen, alloc)
}

func (l *Log) readRegion(offset int64, maxBytes int32, maxOffset int64, committed, minOneMessage bool, maxMagic int8, minLen int, alloc Alloc) (ReadResult, *Region, error) {
	l.mu.RLock()
	newer := l.cfg.RecordVersion() > maxMagic
	l.mu.RUnlock()
	if newer {
		// Written in a newer format than the reader takes: the bytes will be converted, so read them once.
		res, err := l.ReadSlice(offset, maxBytes, maxOffset, committed, minOneMessage, alloc)
		return res, nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	res, maxOffset, empty, err := l.readBounds(offset, maxOffset, committed)
	if empty || err != nil {
		return res, nil, err
	}
	for i := l.segIndex(offset); i < len(l.segs); i++ {
		s := l.segs[i]
		pos, found, err := l.position(s, offset)
		if err != nil {
			return res, nil, fmt.Errorf("read %s: %w", l.tp, err)
		}
		if !found {
			continue
		}
		segNext := l.next // one past the last offset this segment can hold
		if i+1 < len(l.segs) {
			segNext = l.segs[i+1].base
		}
		wb := walkBufs.Get().(*[]byte)
		defer walkBufs.Put(wb)
		w := &headerWindow{s: s, buf: *wb}
		c, err := s.cut(w, pos, maxBytes, maxOffset, segNext, minOneMessage)
		if err != nil {
			return res, nil, fmt.Errorf("read %s: %w", l.tp, err)
		}
		res.FirstBatchTooLarge = c.tooLarge
		if committed {
			if res.AbortedTxns, err = l.abortedTxnsLocked(i, pos, offset, maxBytes, maxOffset, minOneMessage); err != nil {
				return res, nil, err
			}
		}
		if c.end == 0 {
			return res, nil, nil
		}
		if !c.tooLarge { // a partial batch ends nowhere a read could resume
			l.setHint(readHint{seg: s, offset: c.next, pos: pos + c.whole})
		}
		if c.end >= int64(minLen) {
			f, err := s.dupFile()
			if err != nil {
				return res, nil, fmt.Errorf("read %s: %w", l.tp, err)
			}
			return res, &Region{File: f, Pos: pos, Len: int(c.end)}, nil
		}
		data := alloc.get(int(c.end))
		if !w.holds(pos, c.end) {
			if _, err := s.log.ReadAt(data, pos); err != nil {
				return res, nil, fmt.Errorf("read %s: read segment %d at %d: %w", l.tp, s.base, pos, err)
			}
		} else {
			copy(data, w.win[pos-w.pos:])
		}
		res.Records = data
		return res, nil, nil
	}
	return res, nil, nil
}

// cutResult is the outcome of cut.
type cutResult struct {
	end      int64 // bytes from pos to send: Kafka's slice, or the first batch's start when tooLarge
	whole    int64 // bytes of the whole batches from pos (where the next read starts)
	tooLarge bool  // the first batch alone exceeds maxBytes (without minOne): end is maxBytes of it
	next     int64 // one past the last offset of the last batch
}

// cut chooses the bytes that readBatches would return from pos with slice (the batches ending below maxOffset that
// fit in maxBytes, the first regardless of size with minOne, then the start of the next one up to the byte bound,
// as Kafka's slice of the segment) while reading only a few headers: the batch holding maxOffset
// is found from the offset index when maxOffset is inside the segment (segNext is one past the last offset the
// segment can hold), the byte bound is min(that, pos+maxBytes), and the batches are walked from the last index
// entry before the bound. An index entry is written at most every index.interval.bytes appended, so the walk covers
// about one produce request's batches, however large the read.
func (s *segment) cut(w *headerWindow, pos int64, maxBytes int32, maxOffset, segNext int64, minOne bool) (cutResult, error) {
	limit := s.size // where the batches ending below maxOffset end
	if maxOffset < segNext {
		hp, _, found, err := s.translateIn(w, maxOffset, pos)
		if err != nil {
			return cutResult{}, err
		}
		if found {
			limit = hp
		}
	}
	bound := min(limit, pos+max(int64(maxBytes), 0))
	from, err := s.indexedPosition(pos, bound)
	if err != nil {
		return cutResult{}, err
	}
	at, next, err := s.walkTo(w, from, bound)
	if err != nil {
		return cutResult{}, err
	}
	if at == from && from > pos {
		// The batch at from crosses the bound: the whole batches end at from, found by walking the stretch before it.
		prev, err := s.indexedPosition(pos, from-1)
		if err != nil {
			return cutResult{}, err
		}
		if at, next, err = s.walkTo(w, prev, from); err != nil {
			return cutResult{}, err
		}
	}
	if at > pos {
		// Kafka's slice: up to the bound, the start of a batch that crosses it included.
		return cutResult{end: bound - pos, next: next, whole: at - pos}, nil
	}
	if pos >= limit {
		return cutResult{}, nil // nothing below maxOffset from pos
	}
	// Not even the first batch fits.
	h, err := w.at(pos, pos+v2HeaderSize)
	if err != nil {
		return cutResult{}, err
	}
	if !minOne {
		// The batch ends below limit (it is under the high watermark) and past pos+maxBytes: Kafka slices maxBytes.
		return cutResult{end: bound - pos, tooLarge: true}, nil
	}
	n := batchLen(h)
	return cutResult{end: n, next: h.lastOffset() + 1, whole: n}, nil
}

// walkTo walks the batches from position from (a batch boundary) that end at or before bound and returns where the
// last one ends and one past its last offset (0 when there was none).
func (s *segment) walkTo(w *headerWindow, from, bound int64) (at, next int64, err error) {
	for at = from; at < bound; {
		h, err := w.at(at, bound)
		if err != nil {
			return 0, 0, err
		}
		n := batchLen(h)
		if at+n > bound {
			break
		}
		at += n
		next = h.lastOffset() + 1
	}
	return at, next, nil
}

// indexedPosition is the position of the last offset index entry at or before bound, if it is after from; else from.
func (s *segment) indexedPosition(from, bound int64) (int64, error) {
	_, e, err := s.oi.search(bound, posKey)
	if err != nil {
		return 0, err
	}
	if e == nil {
		return from, nil
	}
	return max(from, posKey(e)), nil
}

// headerWindow reads a segment's batch headers a window at a time: a walk over small batches costs one pread per
// window rather than one per batch.
type headerWindow struct {
	s    *segment
	buf  []byte
	win  []byte
	pos  int64 // the segment position of win[0]
	last int64 // the length of the last batch returned
}

// at returns the header of the batch at position p. A new window is not read past upto (where the walk stops) and,
// after a batch at least a window long, holds just a header: large batches are not read at all.
func (w *headerWindow) at(p, upto int64) (batch, error) {
	need := min(int64(v2HeaderSize), w.s.size-p)
	if p < w.pos || p+need > w.pos+int64(len(w.win)) {
		n := int64(len(w.buf))
		if w.last >= n {
			n = v2HeaderSize
		}
		n = max(min(n, w.s.size-p, upto-p+v2HeaderSize), need)
		w.win, w.pos = w.buf[:n], p
		if _, err := w.s.log.ReadAt(w.win, p); err != nil {
			w.win = nil
			return nil, fmt.Errorf("read segment %d at %d: %w", w.s.base, p, err)
		}
	}
	h, err := w.s.headerIn(w.win, w.pos, p-w.pos)
	if err != nil {
		return nil, err
	}
	w.last = batchLen(h)
	return h, nil
}

// holds reports whether the window holds the n bytes at p.
func (w *headerWindow) holds(p, n int64) bool {
	return p >= w.pos && p+n <= w.pos+int64(len(w.win))
}

// dupFile returns a new descriptor of the segment's file (close-on-exec). The file's Control keeps its descriptor
// from being closed while it is duplicated; a segment closed meanwhile gives an error.
func (s *segment) dupFile() (*os.File, error) {
	raw, err := s.log.SyscallConn()
	if err != nil {
		return nil, err
	}
	var (
		nfd   uintptr
		errno syscall.Errno
	)
	if err := raw.Control(func(fd uintptr) {
		nfd, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("dup segment %d: %w", s.base, err)
	}
	if errno != 0 {
		return nil, fmt.Errorf("dup segment %d: %w", s.base, os.NewSyscallError("fcntl", errno))
	}
	return os.NewFile(nfd, s.log.Name()), nil
}

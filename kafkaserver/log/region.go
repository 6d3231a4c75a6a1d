package log

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// Region is a byte range of a segment file holding whole batches, for sending to a socket with sendfile(2) (Kafka's
// FileRecords slice) instead of reading it. File is a duplicate of the segment's descriptor and belongs to the
// caller, who closes it: the region stays readable whatever happens to the segment meanwhile (deleted by retention,
// DeleteRecords or topic deletion, replaced by the cleaner: the open description keeps the old inode), and its
// descriptor number cannot be reused under the caller. Only a truncation of the segment (a follower truncating
// its log) can take bytes away from it, which the sender must notice as a short file.
//
// A dup per region was chosen over reference-counting the segment's *os.File: it costs two syscalls (dup, close)
// per fetched partition, against the pread and buffer it replaces, and keeps the segment's close and remove code
// unaware of readers.
type Region struct {
	File *os.File
	Pos  int64
	Len  int
}

// walkWindow is how much of a segment the header walk of ReadRegion reads at a time.
const walkWindow = 32 << 10

var walkBufs = sync.Pool{New: func() any { b := make([]byte, walkWindow); return &b }}

// ReadRegion is ReadWith that answers with a region of the segment file instead of the records' bytes when they
// are at least minLen bytes and every batch in them has a magic of at most maxMagic (so that the caller sends them
// unchanged); res.Records is nil then. Otherwise it returns the bytes, read into alloc, as ReadWith does. The batches
// chosen and the read hint are the same as ReadWith's.
func (l *Log) ReadRegion(offset int64, maxBytes int32, maxOffset int64, minOneMessage bool, maxMagic int8, minLen int, alloc Alloc) (ReadResult, *Region, error) {
	l.mu.RLock()
	newer := l.cfg.RecordVersion() > maxMagic
	l.mu.RUnlock()
	if newer {
		// Written in a newer format than the reader takes (Kafka 2.8 decides by the topic's format too): the bytes
		// will be converted, so read them once rather than walk the headers and then read.
		res, err := l.ReadWith(offset, maxBytes, maxOffset, minOneMessage, alloc)
		return res, nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	res, maxOffset, empty, err := l.readBounds(offset, maxOffset)
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
		wb := walkBufs.Get().(*[]byte)
		defer walkBufs.Put(wb)
		sc, err := s.scanBatches(pos, maxBytes, maxOffset, minOneMessage, *wb)
		if err != nil {
			return res, nil, fmt.Errorf("read %s: %w", l.tp, err)
		}
		res.FirstBatchTooLarge = sc.tooLarge
		if sc.end == 0 {
			return res, nil, nil
		}
		l.setHint(readHint{seg: s, offset: sc.next, pos: pos + sc.end})
		if sc.end >= int64(minLen) && sc.maxMagic <= maxMagic {
			f, err := s.dupFile()
			if err != nil {
				return res, nil, fmt.Errorf("read %s: %w", l.tp, err)
			}
			return res, &Region{File: f, Pos: pos, Len: int(sc.end)}, nil
		}
		data := alloc.get(int(sc.end))
		if sc.winPos == pos && int64(len(sc.win)) >= sc.end {
			copy(data, sc.win)
		} else if _, err := s.log.ReadAt(data, pos); err != nil {
			return res, nil, fmt.Errorf("read %s: read segment %d at %d: %w", l.tp, s.base, pos, err)
		}
		res.Records = data
		return res, nil, nil
	}
	return res, nil, nil
}

// scan is the outcome of scanBatches.
type scan struct {
	end      int64 // bytes of whole batches from pos
	tooLarge bool  // the first batch alone exceeds maxBytes (without minOne)
	next     int64 // one past the last offset of the last batch
	maxMagic int8  // the highest magic of those batches
	win      []byte
	winPos   int64 // the last window read: the segment's bytes from winPos
}

// scanBatches chooses the batches that readBatches would return, by their headers only: it reads the segment a
// window at a time, or only the next header after a batch at least as large as a window, so that large batches are
// not read at all.
func (s *segment) scanBatches(pos int64, maxBytes int32, maxOffset int64, minOne bool, buf []byte) (scan, error) {
	limit := max(int64(maxBytes), 0)
	sc := scan{winPos: pos}
	last := int64(0) // the previous batch's length
	for pos+sc.end < s.size {
		at := pos + sc.end
		need := min(int64(v2HeaderSize), s.size-at)
		if at+need > sc.winPos+int64(len(sc.win)) {
			n := int64(len(buf))
			if last >= n {
				n = v2HeaderSize
			}
			n = max(min(n, s.size-at, limit-sc.end+v2HeaderSize), need)
			sc.win, sc.winPos = buf[:n], at
			if _, err := s.log.ReadAt(sc.win, at); err != nil {
				return scan{}, fmt.Errorf("read segment %d at %d: %w", s.base, at, err)
			}
		}
		h, err := s.headerIn(sc.win, sc.winPos, at-sc.winPos)
		if err != nil {
			return scan{}, err
		}
		n := batchLen(h)
		if h.lastOffset() >= maxOffset {
			break
		}
		if sc.end+n > limit && !(sc.end == 0 && minOne) {
			sc.tooLarge = sc.end == 0
			break
		}
		sc.end += n
		sc.next = h.lastOffset() + 1
		sc.maxMagic = max(sc.maxMagic, h.magic())
		last = n
	}
	return sc, nil
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

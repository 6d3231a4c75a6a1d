package log

import "fmt"

// Alloc returns a buffer of length 0 and capacity at least n for a read to fill (a pooled one, say); nil means
// make.
type Alloc func(n int) []byte

func (a Alloc) get(n int) []byte {
	if a == nil {
		return make([]byte, n)
	}
	if b := a(n); cap(b) >= n {
		return b[:n]
	}
	return make([]byte, n)
}

// readBatches returns the whole batches from pos on that end below maxOffset and fit in maxBytes (the first one
// regardless of size with minOne), or when the first batch alone is too large (tooLarge) its first maxBytes bytes,
// as Kafka's LogSegment.read slices the segment. It reads once, up to
// maxBytes of the segment, and walks the batch headers in that buffer: a fetch costs one pread and one
// allocation instead of one of each per batch.
// next is one past the last offset of the last batch returned (where a consumer's next fetch begins), whole the
// length of the whole batches.
//
// With slice, the whole batches are followed by the start of the next one up to maxBytes when it lies below
// maxOffset, as Kafka's slice of the segment is: a Fetch answer may end with a partial batch, which clients drop.
func (s *segment) readBatches(pos int64, maxBytes int32, maxOffset int64, minOne, slice bool, alloc Alloc) (data []byte, tooLarge bool, next, whole int64, err error) {
	limit := max(int64(maxBytes), 0)
	buf := alloc.get(int(min(s.size-pos, max(limit, v2HeaderSize))))
	if _, err := s.log.ReadAt(buf, pos); err != nil {
		return nil, false, 0, 0, fmt.Errorf("read segment %d at %d: %w", s.base, pos, err)
	}
	end, sliced := int64(0), int64(0)
	for pos+end < s.size {
		h, err := s.headerIn(buf, pos, end)
		if err != nil {
			return nil, false, 0, 0, err
		}
		n := batchLen(h)
		if h.lastOffset() >= maxOffset {
			break
		}
		if end+n > limit && !(end == 0 && minOne) {
			tooLarge = end == 0
			if slice && end > 0 && end < limit {
				// The batch lies below maxOffset and in the segment, so buf holds limit bytes.
				sliced = limit
			}
			break
		}
		end += n
		next = h.lastOffset() + 1
	}
	if end > int64(len(buf)) {
		// A first batch larger than maxBytes (minOne): read the rest of it.
		first := alloc.get(int(end))
		copy(first, buf)
		if _, err := s.log.ReadAt(first[len(buf):], pos+int64(len(buf))); err != nil {
			return nil, false, 0, 0, fmt.Errorf("read segment %d at %d: %w", s.base, pos+int64(len(buf)), err)
		}
		return first, false, next, end, nil
	}
	if tooLarge {
		// The batch lies wholly in the segment and exceeds limit, so buf holds limit bytes of it.
		return buf[:limit], true, 0, 0, nil
	}
	return buf[:max(end, sliced)], false, next, end, nil
}

// headerIn is header(pos+off) taken from buf (the segment's bytes from pos) when buf holds it, with the same
// checks; past the buffer it reads from the file.
func (s *segment) headerIn(buf []byte, pos, off int64) (batch, error) {
	at := pos + off
	n := min(int64(v2HeaderSize), s.size-at)
	if off+n > int64(len(buf)) {
		return s.header(at)
	}
	if n < logOverhead+5 {
		return nil, errShort
	}
	h := buf[off : off+n]
	size := int64(int32(beUint32(h[8:])))
	if size < legacyOverheadV0 || at+logOverhead+size > s.size {
		return nil, fmt.Errorf("%w: batch at position %d of segment %d", ErrCorrupt, at, s.base)
	}
	if m := int8(h[16]); m < 0 || m > 2 || (m == 2 && size+logOverhead < v2HeaderSize) {
		return nil, fmt.Errorf("%w: batch at position %d of segment %d", ErrCorrupt, at, s.base)
	}
	return batch(h[:min(n, logOverhead+size)]), nil
}

// readHint is where the last read of a log stopped: the next batch of seg is at pos and holds offset. A consumer's
// next fetch asks for exactly that offset, so it starts there without the index search (a pread per probe) and the
// header walk after it. Appends leave it valid; truncations reset it; the cleaner replaces segments, which the
// pointer comparison notices.
type readHint struct {
	seg         *segment
	offset, pos int64
}

// position is translate(offset, 0) for s, answered from the hint when it matches.
func (l *Log) position(s *segment, offset int64) (int64, bool, error) {
	l.hintMu.Lock()
	h := l.hint
	l.hintMu.Unlock()
	if h.seg == s && h.offset == offset && h.pos <= s.size {
		return h.pos, h.pos < s.size, nil
	}
	pos, _, found, err := s.translate(offset, 0)
	return pos, found, err
}

func (l *Log) setHint(h readHint) {
	l.hintMu.Lock()
	l.hint = h
	l.hintMu.Unlock()
}

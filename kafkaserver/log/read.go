package log

import "fmt"

// readBatches returns the whole batches from pos on that end below maxOffset and fit in maxBytes (the first one
// regardless of size with minOne), and whether the first batch alone was too large. It reads once, up to
// maxBytes of the segment, and walks the batch headers in that buffer: a fetch costs one pread and one
// allocation instead of one of each per batch.
func (s *segment) readBatches(pos int64, maxBytes int32, maxOffset int64, minOne bool) ([]byte, bool, error) {
	limit := max(int64(maxBytes), 0)
	buf := make([]byte, min(s.size-pos, max(limit, v2HeaderSize)))
	if _, err := s.log.ReadAt(buf, pos); err != nil {
		return nil, false, fmt.Errorf("read segment %d at %d: %w", s.base, pos, err)
	}
	end, tooLarge := int64(0), false
	for pos+end < s.size {
		h, err := s.headerIn(buf, pos, end)
		if err != nil {
			return nil, false, err
		}
		n := batchLen(h)
		if h.lastOffset() >= maxOffset {
			break
		}
		if end+n > limit && !(end == 0 && minOne) {
			tooLarge = end == 0
			break
		}
		end += n
	}
	if end > int64(len(buf)) {
		// A first batch larger than maxBytes (minOne): read the rest of it.
		whole := make([]byte, end)
		copy(whole, buf)
		if _, err := s.log.ReadAt(whole[len(buf):], pos+int64(len(buf))); err != nil {
			return nil, false, fmt.Errorf("read segment %d at %d: %w", s.base, pos+int64(len(buf)), err)
		}
		return whole, false, nil
	}
	return buf[:end], tooLarge, nil
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

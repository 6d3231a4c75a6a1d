package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// index is Kafka's sparse .index / .timeindex file: fixed-size big-endian entries, searched by
// binary search. Entries live in the file (read with pread), not in memory, so many closed segments
// cost no heap; the page cache does what Kafka's mmap does.
type index struct {
	f          *os.File
	path       string
	base       int64
	entrySize  int
	n          int
	maxEntries int
	last       []byte // copy of the last entry
}

func openIndex(path string, base int64, entrySize int, maxIndexSize int32) (*index, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat index: %w", err)
	}
	ix := &index{f: f, path: path, base: base, entrySize: entrySize, maxEntries: int(maxIndexSize) / entrySize}
	ix.n = int(st.Size()) / entrySize
	if ix.n > 0 {
		if ix.last, err = ix.entry(ix.n - 1); err != nil {
			f.Close()
			return nil, err
		}
	}
	return ix, nil
}

func (ix *index) entry(i int) ([]byte, error) {
	b := make([]byte, ix.entrySize)
	if _, err := ix.f.ReadAt(b, int64(i*ix.entrySize)); err != nil {
		return nil, fmt.Errorf("read %s entry %d: %w", ix.path, i, err)
	}
	return b, nil
}

func (ix *index) isFull() bool { return ix.n >= ix.maxEntries }

func (ix *index) appendEntry(e []byte) error {
	if _, err := ix.f.WriteAt(e, int64(ix.n*ix.entrySize)); err != nil {
		return fmt.Errorf("append %s: %w", ix.path, err)
	}
	ix.n++
	ix.last = e
	return nil
}

// search returns the index of the last entry whose key (decoded by key) is <= target, or -1.
func (ix *index) search(target int64, key func([]byte) int64) (int, []byte, error) {
	lo, hi := 0, ix.n-1
	found, var_ := -1, []byte(nil)
	for lo <= hi {
		mid := (lo + hi) / 2
		e, err := ix.entry(mid)
		if err != nil {
			return -1, nil, err
		}
		if key(e) <= target {
			found, var_ = mid, e
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return found, var_, nil
}

// truncateEntries keeps the first n entries.
func (ix *index) truncateEntries(n int) error {
	if n >= ix.n {
		return nil
	}
	if err := ix.f.Truncate(int64(n * ix.entrySize)); err != nil {
		return fmt.Errorf("truncate %s: %w", ix.path, err)
	}
	ix.n = n
	ix.last = nil
	if n > 0 {
		e, err := ix.entry(n - 1)
		if err != nil {
			return err
		}
		ix.last = e
	}
	return nil
}

func (ix *index) reset() error { return ix.truncateEntries(0) }

// trim cuts the file to its entries (a preallocated file written by Kafka would be longer).
func (ix *index) trim() error {
	if err := ix.f.Truncate(int64(ix.n * ix.entrySize)); err != nil {
		return fmt.Errorf("trim %s: %w", ix.path, err)
	}
	return nil
}

func (ix *index) sync() error {
	if err := ix.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", ix.path, err)
	}
	return nil
}

func (ix *index) close() error { return ix.f.Close() }

// allEntries reads the whole file; used by sanity checks.
func (ix *index) allEntries() ([]byte, error) {
	b := make([]byte, ix.n*ix.entrySize)
	if _, err := ix.f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", ix.path, err)
	}
	return b, nil
}

// offsetIndex: 8-byte entries (relative offset int32, position int32).
type offsetIndex struct{ *index }

func offKey(base int64) func([]byte) int64 {
	return func(e []byte) int64 { return base + int64(int32(binary.BigEndian.Uint32(e))) }
}

// posKey is an offset index entry's position (positions grow with offsets, so entries are sorted by both).
func posKey(e []byte) int64 { return int64(binary.BigEndian.Uint32(e[4:])) }

func (oi offsetIndex) lastOffset() int64 {
	if oi.last == nil {
		return oi.base
	}
	return offKey(oi.base)(oi.last)
}

func (oi offsetIndex) append(offset int64, pos int64) error {
	if oi.n > 0 && offset <= oi.lastOffset() {
		return fmt.Errorf("offset index %s: offset %d is not larger than the last entry %d", oi.path, offset, oi.lastOffset())
	}
	e := make([]byte, 8)
	binary.BigEndian.PutUint32(e, uint32(offset-oi.base))
	binary.BigEndian.PutUint32(e[4:], uint32(pos))
	return oi.appendEntry(e)
}

// lookup returns the largest indexed offset <= target and its position, or (base, 0).
func (oi offsetIndex) lookup(target int64) (int64, int64, error) {
	_, e, err := oi.search(target, offKey(oi.base))
	if err != nil || e == nil {
		return oi.base, 0, err
	}
	return offKey(oi.base)(e), int64(binary.BigEndian.Uint32(e[4:])), nil
}

// truncateTo removes entries for offsets >= offset.
func (oi offsetIndex) truncateTo(offset int64) error {
	i, _, err := oi.search(offset-1, offKey(oi.base))
	if err != nil {
		return err
	}
	return oi.truncateEntries(i + 1)
}

// sane reports whether the entries are strictly increasing and point inside a log of logSize bytes.
func (oi offsetIndex) sane(logSize int64) bool {
	b, err := oi.allEntries()
	if err != nil {
		return false
	}
	prevOff, prevPos := int64(-1), int64(-1)
	for i := 0; i+8 <= len(b); i += 8 {
		rel := int64(int32(binary.BigEndian.Uint32(b[i:])))
		pos := int64(int32(binary.BigEndian.Uint32(b[i+4:])))
		if rel < 0 || rel <= prevOff || pos < prevPos || pos >= logSize {
			return false
		}
		prevOff, prevPos = rel, pos
	}
	return true
}

// timeIndex: 12-byte entries (timestamp int64, relative offset int32).
type timeIndex struct{ *index }

func tsKey(e []byte) int64 { return int64(binary.BigEndian.Uint64(e)) }

func (ti timeIndex) lastEntry() (ts int64, offset int64) {
	if ti.last == nil {
		return noTimestamp, ti.base
	}
	return tsKey(ti.last), ti.base + int64(int32(binary.BigEndian.Uint32(ti.last[8:])))
}

// maybeAppend adds (ts, offset) when ts is larger than the last entry's, as TimeIndex.maybeAppend.
func (ti timeIndex) maybeAppend(ts, offset int64, skipFullCheck bool) error {
	if !skipFullCheck && ti.isFull() {
		return nil
	}
	lastTs, lastOff := ti.lastEntry()
	if ti.n > 0 && offset < lastOff {
		return fmt.Errorf("time index %s: offset %d is smaller than the last entry %d", ti.path, offset, lastOff)
	}
	if ts <= lastTs {
		// An empty index's last entry is (NO_TIMESTAMP, base): magic 0 data, which has no timestamps, leaves the
		// time index empty, as in Kafka.
		return nil
	}
	e := make([]byte, 12)
	binary.BigEndian.PutUint64(e, uint64(ts))
	binary.BigEndian.PutUint32(e[8:], uint32(offset-ti.base))
	return ti.appendEntry(e)
}

// lookup returns the entry with the largest timestamp <= ts, or (-1, base).
func (ti timeIndex) lookup(ts int64) (int64, int64, error) {
	_, e, err := ti.search(ts, tsKey)
	if err != nil || e == nil {
		return noTimestamp, ti.base, err
	}
	return tsKey(e), ti.base + int64(int32(binary.BigEndian.Uint32(e[8:]))), nil
}

// truncateTo removes entries whose offset is >= offset (entries are ascending in offset too).
func (ti timeIndex) truncateTo(offset int64) error {
	keep := 0
	for keep < ti.n {
		e, err := ti.entry(keep)
		if err != nil {
			return err
		}
		if ti.base+int64(int32(binary.BigEndian.Uint32(e[8:]))) >= offset {
			break
		}
		keep++
	}
	return ti.truncateEntries(keep)
}

func (ti timeIndex) sane(nextOffset int64) bool {
	b, err := ti.allEntries()
	if err != nil {
		return false
	}
	prevTs, prevOff := int64(-1<<63), int64(-1)
	for i := 0; i+12 <= len(b); i += 12 {
		ts := int64(binary.BigEndian.Uint64(b[i:]))
		off := ti.base + int64(int32(binary.BigEndian.Uint32(b[i+8:])))
		if ts <= prevTs || off < prevOff || off < ti.base || off >= max(nextOffset, ti.base+1) {
			return false
		}
		prevTs, prevOff = ts, off
	}
	return true
}

// firstAtOrAfter returns the offset of the first entry whose position is at or after pos (the upper bound slot of
// Kafka's position search), ok=false when there is none.
func (oi offsetIndex) firstAtOrAfter(pos int64) (int64, bool, error) {
	i, _, err := oi.search(pos-1, posKey)
	if err != nil || i+1 >= oi.n {
		return 0, false, err
	}
	e, err := oi.entry(i + 1)
	if err != nil {
		return 0, false, err
	}
	return offKey(oi.base)(e), true, nil
}

package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// AbortedTxn is one aborted transaction as a read_committed Fetch reports it: the consumer drops the producer's
// transactional records from FirstOffset until it meets the abort marker.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// abortedTxn is one entry of a .txnindex file (Kafka's AbortedTxn): a transaction aborted by a marker in the
// segment, from its first offset to the marker's, and the last stable offset when the marker was written, which
// tells a reader that no later entry of any segment starts below it.
type abortedTxn struct {
	producerID       int64
	firstOffset      int64
	lastOffset       int64
	lastStableOffset int64
}

const (
	abortedTxnSize    = 34 // version int16, producer id, first, last and last stable offset int64
	abortedTxnVersion = 0
)

func (a abortedTxn) appendTo(p []byte) []byte {
	be := binary.BigEndian
	p = be.AppendUint16(p, abortedTxnVersion)
	p = be.AppendUint64(p, uint64(a.producerID))
	p = be.AppendUint64(p, uint64(a.firstOffset))
	p = be.AppendUint64(p, uint64(a.lastOffset))
	return be.AppendUint64(p, uint64(a.lastStableOffset))
}

func parseAbortedTxn(p []byte) (abortedTxn, error) {
	be := binary.BigEndian
	if v := int16(be.Uint16(p)); v > abortedTxnVersion {
		return abortedTxn{}, fmt.Errorf("unexpected aborted transaction version %d", v)
	}
	return abortedTxn{producerID: int64(be.Uint64(p[2:])), firstOffset: int64(be.Uint64(p[10:])),
		lastOffset: int64(be.Uint64(p[18:])), lastStableOffset: int64(be.Uint64(p[26:]))}, nil
}

// txnIndex is a segment's .txnindex (Kafka's TransactionIndex): the transactions aborted by markers in the segment,
// in marker order. As in Kafka the file exists only once an entry is written. Entries are read from the file when
// needed; only their count is kept in memory.
type txnIndex struct {
	path       string
	base       int64
	f          *os.File // nil while there is no file
	n          int      // whole entries in the file
	lastOffset int64    // of the last entry, -1 when none (appends must increase it)
}

// openTxnIndex opens the index at path if the file exists.
func openTxnIndex(path string, base int64) (*txnIndex, error) {
	ti := &txnIndex{path: path, base: base, lastOffset: -1}
	f, err := os.OpenFile(path, os.O_RDWR, 0o644)
	if errors.Is(err, os.ErrNotExist) {
		return ti, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open transaction index: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat transaction index: %w", err)
	}
	ti.f, ti.n = f, int(st.Size()/abortedTxnSize)
	if ti.n > 0 {
		es, err := ti.read(ti.n-1, ti.n)
		if err != nil {
			f.Close()
			return nil, err
		}
		ti.lastOffset = es[0].lastOffset
	}
	return ti, nil
}

// read parses entries [from, to).
func (ti *txnIndex) read(from, to int) ([]abortedTxn, error) {
	if from >= to || ti.f == nil {
		return nil, nil
	}
	buf := make([]byte, (to-from)*abortedTxnSize)
	if _, err := ti.f.ReadAt(buf, int64(from*abortedTxnSize)); err != nil {
		return nil, fmt.Errorf("read transaction index %s: %w", ti.path, err)
	}
	out := make([]abortedTxn, 0, to-from)
	for p := buf; len(p) > 0; p = p[abortedTxnSize:] {
		a, err := parseAbortedTxn(p)
		if err != nil {
			return nil, fmt.Errorf("transaction index %s: %w", ti.path, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func (ti *txnIndex) all() ([]abortedTxn, error) { return ti.read(0, ti.n) }

// append adds an entry, creating the file on the first one.
func (ti *txnIndex) append(a abortedTxn) error {
	if ti.lastOffset >= a.lastOffset {
		return fmt.Errorf("transaction index %s: last offset %d is not greater than the last entry's %d", ti.path,
			a.lastOffset, ti.lastOffset)
	}
	if ti.f == nil {
		f, err := os.OpenFile(ti.path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return fmt.Errorf("create transaction index: %w", err)
		}
		ti.f = f
	}
	if _, err := ti.f.WriteAt(a.appendTo(nil), int64(ti.n*abortedTxnSize)); err != nil {
		return fmt.Errorf("append to transaction index %s: %w", ti.path, err)
	}
	ti.n++
	ti.lastOffset = a.lastOffset
	return nil
}

// truncateTo drops the entries from the first whose marker is at or past offset (TransactionIndex.truncateTo).
func (ti *txnIndex) truncateTo(offset int64) error {
	es, err := ti.all()
	if err != nil {
		return err
	}
	for i, a := range es {
		if a.lastOffset >= offset {
			return ti.keep(i, es)
		}
	}
	return nil
}

// keep cuts the file to its first n entries (es holds at least those).
func (ti *txnIndex) keep(n int, es []abortedTxn) error {
	if ti.f == nil {
		return nil
	}
	if err := ti.f.Truncate(int64(n * abortedTxnSize)); err != nil {
		return fmt.Errorf("truncate transaction index %s: %w", ti.path, err)
	}
	ti.n, ti.lastOffset = n, -1
	if n > 0 {
		ti.lastOffset = es[n-1].lastOffset
	}
	return nil
}

// reset empties the index; an existing file stays, empty, as Kafka's does.
func (ti *txnIndex) reset() error { return ti.keep(0, nil) }

// sane is TransactionIndex.sanityCheck plus whole entries: every marker lies in the segment.
func (ti *txnIndex) sane() bool {
	if ti.f == nil {
		return true
	}
	st, err := ti.f.Stat()
	if err != nil || st.Size()%abortedTxnSize != 0 {
		return false
	}
	es, err := ti.all()
	if err != nil {
		return false
	}
	for _, a := range es {
		if a.lastOffset < ti.base {
			return false
		}
	}
	return true
}

// collect is TransactionIndex.collectAbortedTxns: the entries overlapping [fetchOffset, upper), and whether the
// search is complete (an entry's last stable offset reached upper, so no later segment holds one that overlaps).
func (ti *txnIndex) collect(fetchOffset, upper int64) ([]abortedTxn, bool, error) {
	es, err := ti.all()
	if err != nil {
		return nil, false, err
	}
	out, complete := collectAborted(es, fetchOffset, upper)
	return out, complete, nil
}

func collectAborted(es []abortedTxn, fetchOffset, upper int64) ([]abortedTxn, bool) {
	var out []abortedTxn
	for _, a := range es {
		if a.lastOffset >= fetchOffset && a.firstOffset < upper {
			out = append(out, a)
		}
		if a.lastStableOffset >= upper {
			return out, true
		}
	}
	return out, false
}

func (ti *txnIndex) sync() error {
	if ti.f == nil {
		return nil
	}
	if err := ti.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", ti.path, err)
	}
	return nil
}

func (ti *txnIndex) close() error {
	if ti.f == nil {
		return nil
	}
	err := ti.f.Close()
	ti.f = nil
	return err
}

// rename moves the file, when there is one, to path (TransactionIndex.renameTo).
func (ti *txnIndex) rename(path string) error {
	if ti.f != nil {
		if err := os.Rename(ti.path, path); err != nil {
			return fmt.Errorf("rename transaction index: %w", err)
		}
	}
	ti.path = path
	return nil
}

// txnView is a segment's transaction index as the cleaner sees it: the file and its entries when the cleaning
// began, read later without the log's lock.
type txnView struct {
	f *os.File
	n int
}

func (ti *txnIndex) view() txnView { return txnView{f: ti.f, n: ti.n} }

func (v txnView) entries() ([]abortedTxn, error) {
	if v.n == 0 {
		return nil, nil
	}
	ti := &txnIndex{path: v.f.Name(), f: v.f, n: v.n}
	es, err := ti.all()
	if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
		// Truncated or deleted meanwhile: the swap would notice the change and give up too.
		return nil, fmt.Errorf("%w: %w", errCleaningAborted, err)
	}
	return es, err
}

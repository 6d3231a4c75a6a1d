package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"os"
	"path/filepath"

	"github.com/zkafka/zkafka/jute"
)

// ErrCorruptLog reports a txn log entry whose checksum does not match, other
// than a torn last entry.
var ErrCorruptLog = errors.New("storage: txn log CRC check failed")

// scanResult says how a log file ended.
type scanResult struct {
	goodEnd  int64 // offset just past the last good entry (or the header)
	lastZxid int64 // zxid of the last good entry, -1 if none
	// torn is set when bytes after goodEnd belong to a partial entry (as
	// opposed to preallocated zeros or a clean end of file).
	torn bool
	// short is set when the file is too short to hold a header.
	short bool
}

// scanLog walks the entries of one log file, calling fn with each entry's
// bytes (freshly allocated). Like FileTxnIterator, a short read, a zero or -1
// length or a missing 0x42 ends the file; a checksum mismatch is an error
// unless last is set and nothing follows the bad entry (a torn tail).
func scanLog(path string, last bool, fn func(entry []byte) error) (scanResult, error) {
	res := scanResult{lastZxid: -1}
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("storage: open log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("storage: stat log: %w", err)
	}
	size := st.Size()
	r := bufio.NewReaderSize(f, 256<<10)
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		res.short = true
		return res, nil
	}
	if m := int32(binary.BigEndian.Uint32(hdr[:])); m != jute.TxnLogMagic {
		return res, fmt.Errorf("storage: txn log %s has invalid magic number %d != %d", path, m, jute.TxnLogMagic)
	}
	off := int64(headerLen)
	res.goodEnd = off
	var pre [12]byte
	for {
		n, err := io.ReadFull(r, pre[:])
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			res.torn = n > 0 && !allZero(pre[:n])
			return res, nil
		}
		crc := binary.BigEndian.Uint64(pre[:8])
		ln := int32(binary.BigEndian.Uint32(pre[8:]))
		if ln == 0 || ln == -1 {
			// Preallocated zeros (or a null buffer): Apache's EOF.
			res.torn = crc != 0 || ln != 0
			return res, nil
		}
		if ln < 0 || off+12+int64(ln)+1 > size {
			if ln < 0 && !last {
				return res, fmt.Errorf("storage: txn log %s: bad entry length %d at offset %d", path, ln, off)
			}
			res.torn = true
			return res, nil
		}
		entry := make([]byte, ln)
		if _, err := io.ReadFull(r, entry); err != nil {
			res.torn = true
			return res, nil
		}
		b, err := r.ReadByte()
		if err != nil || b != eor {
			// "Last transaction was partial."
			res.torn = true
			return res, nil
		}
		if uint64(adler32.Checksum(entry)) != crc {
			if last && atEnd(r) {
				res.torn = true
				return res, nil
			}
			return res, fmt.Errorf("storage: %s at offset %d: %w", path, off, ErrCorruptLog)
		}
		if fn != nil {
			if err := fn(entry); err != nil {
				return res, err
			}
		}
		off += 12 + int64(ln) + 1
		res.goodEnd = off
		res.lastZxid = entryZxid(entry)
	}
}

// atEnd reports whether no further entry follows: end of file, a partial
// prefix or a zero length.
func atEnd(r *bufio.Reader) bool {
	p, err := r.Peek(12)
	if err != nil {
		return true
	}
	return binary.BigEndian.Uint32(p[8:]) == 0
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ReadLog calls fn for every txn with zxid > fromZxid, in log order, reading
// the log files that can hold them (FileTxnLog.getLogFiles). It returns the
// highest zxid passed to fn, or fromZxid if there was none. A torn tail ends a
// file cleanly, as in Apache.
func ReadLog(dir string, fromZxid int64, fn func(*Entry) error) (int64, error) {
	files, err := listByZxid(dir, logPrefix, true)
	if err != nil {
		return fromZxid, fmt.Errorf("storage: list logs: %w", err)
	}
	files = logFilesFrom(files, fromZxid)
	last := fromZxid
	for i, nf := range files {
		res, err := scanLog(nf.path, i == len(files)-1, func(b []byte) error {
			z := entryZxid(b)
			if z <= fromZxid {
				return nil
			}
			ent, err := DecodeEntry(b)
			if err != nil {
				return fmt.Errorf("storage: %s: %w", filepath.Base(nf.path), err)
			}
			if err := fn(ent); err != nil {
				return err
			}
			if z > last {
				last = z
			}
			return nil
		})
		if err != nil {
			return last, err
		}
		if res.short && i != len(files)-1 {
			return last, fmt.Errorf("storage: txn log %s is shorter than its header", nf.path)
		}
	}
	return last, nil
}

// TruncateTornTail repairs the newest log file after a crash: a partial last
// entry is cut off (so the file reads cleanly even once newer files follow it)
// and a file too short for its header is removed. It returns the zxid of the
// last good txn on disk, 0 if there is none.
func TruncateTornTail(dir string) (int64, error) {
	files, err := listByZxid(dir, logPrefix, true)
	if err != nil {
		return 0, fmt.Errorf("storage: list logs: %w", err)
	}
	for i := len(files) - 1; i >= 0; i-- {
		nf := files[i]
		last := i == len(files)-1
		res, err := scanLog(nf.path, last, nil)
		if err != nil {
			return 0, err
		}
		if last && res.short {
			if err := os.Remove(nf.path); err != nil {
				return 0, fmt.Errorf("storage: remove empty log: %w", err)
			}
			if err := syncDir(dir); err != nil {
				return 0, fmt.Errorf("storage: sync log dir: %w", err)
			}
			files = files[:i]
			continue
		}
		if last && res.torn {
			if err := truncateFile(nf.path, res.goodEnd); err != nil {
				return 0, err
			}
		}
		if res.lastZxid >= 0 {
			return res.lastZxid, nil
		}
	}
	return 0, nil
}

func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("storage: open torn log: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("storage: truncate torn log: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage: sync truncated log: %w", err)
	}
	return nil
}

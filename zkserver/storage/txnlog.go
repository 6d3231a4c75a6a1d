package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/zkafka/zkafka/jute"
)

const (
	// DefaultPreAllocSize is zookeeper.preAllocSize's default (65536 KiB).
	DefaultPreAllocSize = 64 << 20
	// DefaultFsyncWarning is fsync.warningthresholdms's default.
	DefaultFsyncWarning = time.Second
	// padMargin is FilePadding's "within 4 KiB of the end" trigger.
	padMargin = 4096
	// eor is the end-of-record byte after every entry ('B').
	eor = 0x42
	// frameOverhead is checksum (long) + length (int) + EOR byte.
	frameOverhead = 8 + 4 + 1
)

// LogOptions configures a TxnLog.
type LogOptions struct {
	// PreAllocSize is the preallocation chunk in bytes; 0 means the default,
	// negative disables preallocation.
	PreAllocSize int64
	// ForceSync makes Commit fsync (zookeeper.forceSync, default yes). The
	// zero value is false, so callers must set it.
	ForceSync bool
	// SizeLimit rolls to a new file once a file exceeds this many bytes of
	// entries (zookeeper.txnLogSizeLimitInKb); 0 means no limit.
	SizeLimit int64
	// FsyncWarning logs fsyncs slower than this; 0 means the default.
	FsyncWarning time.Duration
	Logger       *slog.Logger
}

// TxnLog appends txns to log.<zxid> files in one directory (dataLogDir/version-2),
// the way FileTxnLog does. Append only buffers; Commit writes and fsyncs the
// whole batch, so a group of txns costs one write and one fsync.
//
// Like Apache, an opened log never appends to an existing file: the first
// Append after OpenTxnLog or Roll starts log.<its zxid>.
type TxnLog struct {
	dir  string
	opts LogOptions
	log  *slog.Logger

	mu       sync.Mutex
	err      error // sticky: after a failed write the file state is unknown
	closed   bool
	buf      []byte   // framed entries not yet written
	firstBuf int64    // zxid of the first entry in buf when no file is open
	f        *os.File // current file, nil until the first flush after open/roll
	pos      int64    // bytes written to f
	size     int64    // f's length including preallocation
	toSync   []*os.File
	newFile  bool // a file was created since the last dir sync
	lastZxid int64
	syncDur  time.Duration
}

// OpenTxnLog opens the log directory, creating it if needed. It repairs a torn
// tail of the newest file (TruncateTornTail) and learns the last logged zxid.
func OpenTxnLog(dir string, opts LogOptions) (*TxnLog, error) {
	if opts.PreAllocSize == 0 {
		opts.PreAllocSize = DefaultPreAllocSize
	}
	if opts.FsyncWarning <= 0 {
		opts.FsyncWarning = DefaultFsyncWarning
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: create log dir: %w", err)
	}
	last, err := TruncateTornTail(dir)
	if err != nil {
		return nil, err
	}
	return &TxnLog{dir: dir, opts: opts, log: lg, lastZxid: last, firstBuf: -1}, nil
}

// Append buffers one entry (TxnHeader + txn [+ TxnDigest], as EncodeEntry
// makes it). It does no I/O; Commit makes it durable.
func (l *TxnLog) Append(zxid int64, entry []byte) error {
	if len(entry) == 0 {
		return errors.New("storage: empty txn entry")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if zxid <= l.lastZxid {
		// Apache only warns here too; a leader's new epoch may reuse a lower file.
		l.log.Warn("txn zxid not above last logged zxid", "zxid", zxid, "last", l.lastZxid)
	} else {
		l.lastZxid = zxid
	}
	if l.f == nil && l.firstBuf < 0 {
		l.firstBuf = zxid
	}
	var pre [12]byte
	binary.BigEndian.PutUint64(pre[:8], uint64(adler32.Checksum(entry)))
	binary.BigEndian.PutUint32(pre[8:], uint32(len(entry)))
	l.buf = append(l.buf, pre[:]...)
	l.buf = append(l.buf, entry...)
	l.buf = append(l.buf, eor)
	return nil
}

// AppendTxn encodes and buffers one txn.
func (l *TxnLog) AppendTxn(hdr *jute.TxnHeader, txn jute.Record, digest *jute.TxnDigest) error {
	return l.Append(hdr.Zxid, EncodeEntry(hdr, txn, digest))
}

// Commit writes the buffered entries and, with ForceSync, fsyncs every file
// written since the last Commit.
func (l *TxnLog) Commit() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if err := l.flush(); err != nil {
		return l.fail(err)
	}
	if l.opts.ForceSync {
		start := time.Now()
		for _, f := range l.toSync {
			if err := datasync(f); err != nil {
				return l.fail(fmt.Errorf("storage: fsync %s: %w", f.Name(), err))
			}
		}
		if l.f != nil {
			if err := datasync(l.f); err != nil {
				return l.fail(fmt.Errorf("storage: fsync %s: %w", l.f.Name(), err))
			}
		}
		if l.newFile {
			if err := syncDir(l.dir); err != nil {
				return l.fail(fmt.Errorf("storage: fsync log dir: %w", err))
			}
			l.newFile = false
		}
		l.syncDur = time.Since(start)
		if l.syncDur > l.opts.FsyncWarning {
			l.log.Warn("fsync of the txn log was slow", "took", l.syncDur, "file_size", l.size)
		}
	}
	for _, f := range l.toSync {
		if err := f.Close(); err != nil {
			return l.fail(fmt.Errorf("storage: close %s: %w", f.Name(), err))
		}
	}
	l.toSync = l.toSync[:0]
	if l.opts.SizeLimit > 0 && l.f != nil && l.pos > l.opts.SizeLimit {
		l.log.Debug("txn log size limit reached", "size", l.pos)
		l.roll()
	}
	return nil
}

// Roll makes the next Append start a new log file (after a snapshot). Buffered
// entries go to the current file first; the next Commit syncs and closes it.
func (l *TxnLog) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if err := l.flush(); err != nil {
		return l.fail(err)
	}
	l.roll()
	return nil
}

func (l *TxnLog) roll() {
	if l.f != nil {
		l.toSync = append(l.toSync, l.f)
		l.f = nil
	}
	l.firstBuf = -1
}

// Close commits what is buffered and closes the files. Closing twice is a
// no-op.
func (l *TxnLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	err := l.Commit()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, f := range l.toSync {
		f.Close()
	}
	l.toSync = nil
	if l.f != nil {
		if cerr := l.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("storage: close %s: %w", l.f.Name(), cerr)
		}
		l.f = nil
	}
	if l.err == nil {
		l.err = errors.New("storage: txn log closed")
	}
	return err
}

// LastZxid is the zxid of the last appended txn (committed or not), or of the
// last txn found on disk at open; 0 if there is none.
func (l *TxnLog) LastZxid() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastZxid
}

// LastSyncDuration is how long the last Commit's fsyncs took.
func (l *TxnLog) LastSyncDuration() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.syncDur
}

// CurrentFile is the path of the file being written, "" before the first
// Commit after open or Roll.
func (l *TxnLog) CurrentFile() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ""
	}
	return l.f.Name()
}

func (l *TxnLog) fail(err error) error {
	l.err = err
	return err
}

// flush writes buf to the current file, creating and padding it as needed.
func (l *TxnLog) flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	if l.f == nil {
		if err := l.create(l.firstBuf); err != nil {
			return err
		}
	}
	// Pad at the current position as FilePadding does, then make sure the
	// whole batch fits so a big group commit doesn't grow the file twice.
	if err := l.pad(l.pos); err != nil {
		return err
	}
	if err := l.pad(l.pos + int64(len(l.buf))); err != nil {
		return err
	}
	if _, err := l.f.Write(l.buf); err != nil {
		return fmt.Errorf("storage: write %s: %w", l.f.Name(), err)
	}
	l.pos += int64(len(l.buf))
	if cap(l.buf) > 4<<20 {
		l.buf = nil // don't pin one huge batch's memory
	} else {
		l.buf = l.buf[:0]
	}
	return nil
}

func (l *TxnLog) create(zxid int64) error {
	path := filepath.Join(l.dir, logName(zxid))
	l.log.Info("creating new log file", "file", filepath.Base(path))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("storage: create log file: %w", err)
	}
	var h [headerLen]byte
	binary.BigEndian.PutUint32(h[0:], uint32(jute.TxnLogMagic))
	binary.BigEndian.PutUint32(h[4:], fileVersion)
	// dbid stays 0: FileTxnLog never sets it.
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return fmt.Errorf("storage: write log header: %w", err)
	}
	l.f, l.pos, l.size, l.newFile = f, headerLen, headerLen, true
	return nil
}

// pad extends the file as FilePadding does, so most appends don't change the
// file size and fdatasync has no metadata to write. end is where the pending
// write will finish.
func (l *TxnLog) pad(end int64) error {
	n := padSize(end, l.size, l.opts.PreAllocSize)
	if n == l.size {
		return nil
	}
	// One zero byte at the new end, as Apache writes it (a sparse extension).
	if _, err := l.f.WriteAt([]byte{0}, n-1); err != nil {
		return fmt.Errorf("storage: preallocate %s: %w", l.f.Name(), err)
	}
	l.size = n
	return nil
}

// padSize is FilePadding.calculateFileSizeWithPadding.
func padSize(position, fileSize, prealloc int64) int64 {
	if prealloc > 0 && position+padMargin >= fileSize {
		if position > fileSize {
			fileSize = position + prealloc
			fileSize -= fileSize % prealloc
		} else {
			fileSize += prealloc
		}
	}
	return fileSize
}

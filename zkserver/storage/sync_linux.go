//go:build linux

package storage

import (
	"os"
	"syscall"
)

// datasync is FileChannel.force(false): data plus the metadata needed to read
// it back (size), not timestamps.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// writeBehind starts writeback of [off, off+n) and waits for the range
// before it, so a large snapshot never leaves hundreds of MB dirty for one
// final fsync: on ext4 that burst would stall the txn log's fdatasyncs (and
// so every client write) until it drained.
func writeBehind(f *os.File, off, n int64) {
	fd := int(f.Fd())
	syscall.SyncFileRange(fd, off, n, 2 /* SYNC_FILE_RANGE_WRITE */)
	if off >= n {
		// WAIT_BEFORE|WRITE|WAIT_AFTER on the previous chunk.
		syscall.SyncFileRange(fd, off-n, n, 1|2|4)
	}
}

// startWriteback starts writeback of [off, off+n) without waiting for it.
func startWriteback(f *os.File, off, n int64) {
	syscall.SyncFileRange(int(f.Fd()), off, n, 2 /* SYNC_FILE_RANGE_WRITE */)
}

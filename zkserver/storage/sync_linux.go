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

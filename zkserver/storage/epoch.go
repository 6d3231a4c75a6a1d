package storage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Epoch file names in the snapshot dir (QuorumPeer).
const (
	AcceptedEpochFile = "acceptedEpoch"
	CurrentEpochFile  = "currentEpoch"
)

// ReadEpoch reads an epoch file (ASCII decimal). ok is false if it is missing.
func ReadEpoch(dir, name string) (v int64, ok bool, err error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		if os.IsNotExist(err) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("storage: read %s: %w", name, err)
	}
	defer f.Close()
	// Apache reads the first line only.
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return 0, false, fmt.Errorf("storage: read %s: empty file", name)
	}
	v, err = strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("storage: found %q in %s", strings.TrimSpace(line), name)
	}
	return v, true, nil
}

// WriteEpoch writes an epoch file atomically as AtomicFileWritingIdiom does:
// <name>.tmp, fsync, rename, then fsync the directory.
func WriteEpoch(dir, name string, v int64) error {
	final := filepath.Join(dir, name)
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("storage: write %s: %w", name, err)
	}
	_, err = f.WriteString(strconv.FormatInt(v, 10))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("storage: write %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("storage: sync dir for %s: %w", name, err)
	}
	return nil
}

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

// LoadEpochs reads acceptedEpoch and currentEpoch for a server whose last zxid is lastZxid, as QuorumPeer's
// loadDataBase: a missing file is written with lastZxid's epoch; a current epoch older than lastZxid's, or an
// accepted epoch below the current one, means the files and the log disagree, and the server must not start.
func LoadEpochs(dir string, lastZxid int64) (accepted, current int64, err error) {
	zxidEpoch := lastZxid >> 32
	if current, err = readOrInitEpoch(dir, CurrentEpochFile, zxidEpoch); err != nil {
		return 0, 0, err
	}
	if zxidEpoch > current {
		return 0, 0, fmt.Errorf("storage: the current epoch, %d, is older than the last zxid, 0x%x", current, lastZxid)
	}
	if accepted, err = readOrInitEpoch(dir, AcceptedEpochFile, zxidEpoch); err != nil {
		return 0, 0, err
	}
	if accepted < current {
		return 0, 0, fmt.Errorf("storage: the accepted epoch, %d is less than the current epoch, %d", accepted, current)
	}
	return accepted, current, nil
}

// readOrInitEpoch reads an epoch file, writing it with v first when it is missing.
func readOrInitEpoch(dir, name string, v int64) (int64, error) {
	got, ok, err := ReadEpoch(dir, name)
	if err != nil || ok {
		return got, err
	}
	return v, WriteEpoch(dir, name, v)
}

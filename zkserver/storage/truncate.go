package storage

import (
	"errors"
	"fmt"
	"os"
)

// errFound stops a log scan at the entry looked for.
var errFound = errors.New("found")

// TruncateLog takes the txn log back to zxid, as FileTxnLog.truncate does for a learner whose leader sends TRUNC:
// the log file holding zxid is cut right after zxid's entry and every later log file is deleted. Snapshots named
// after a later zxid hold txns the truncation takes back, so they are deleted too (loading one would bring them
// back).
func TruncateLog(logDir, snapDir string, zxid int64) error {
	files, err := listByZxid(logDir, logPrefix, true)
	if err != nil {
		return fmt.Errorf("storage: list logs: %w", err)
	}
	from := logFilesFrom(files, zxid)
	if len(from) == 0 || from[0].zxid > zxid {
		return fmt.Errorf("storage: no log file in %s holds zxid 0x%x to truncate after", logDir, zxid)
	}
	// Entries follow the header back to back; the cut goes before the first entry past zxid.
	cut := int64(headerLen)
	res, err := scanLog(from[0].path, len(from) == 1, func(entry []byte) error {
		if entryZxid(entry) > zxid {
			return errFound
		}
		cut += 12 + int64(len(entry)) + 1
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return err
	}
	if res.short {
		return fmt.Errorf("storage: txn log %s is shorter than its header", from[0].path)
	}
	if err := truncateFile(from[0].path, cut); err != nil {
		return err
	}
	for _, f := range from[1:] {
		if err := os.Remove(f.path); err != nil {
			return fmt.Errorf("storage: remove truncated log: %w", err)
		}
	}
	if err := syncDir(logDir); err != nil {
		return fmt.Errorf("storage: sync log dir: %w", err)
	}
	snaps, err := listByZxid(snapDir, snapPrefix, true)
	if err != nil {
		return fmt.Errorf("storage: list snapshots: %w", err)
	}
	removed := false
	for _, s := range snaps {
		if s.zxid > zxid {
			if err := os.Remove(s.path); err != nil {
				return fmt.Errorf("storage: remove snapshot past the truncation: %w", err)
			}
			removed = true
		}
	}
	if removed {
		if err := syncDir(snapDir); err != nil {
			return fmt.Errorf("storage: sync snapshot dir: %w", err)
		}
	}
	return nil
}

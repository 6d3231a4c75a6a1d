package storage

import (
	"fmt"
	"os"
	"path/filepath"
)

// MinSnapRetainCount is the fewest snapshots PurgeTxnLog agrees to keep.
const MinSnapRetainCount = 3

// Purge keeps the newest retain valid snapshots and the logs needed to replay
// from the oldest of them, deleting older snapshot.* and log.* files
// (PurgeTxnLog.purge). retain below 3 is refused, as Apache refuses it.
func Purge(snapDir, logDir string, retain int) error {
	if retain < MinSnapRetainCount {
		return fmt.Errorf("storage: purge must retain at least %d snapshots, not %d", MinSnapRetainCount, retain)
	}
	keep, _, err := validSnapshots(snapDir, retain)
	if err != nil {
		return err
	}
	if len(keep) == 0 {
		return nil
	}
	least := zxidFromName(filepath.Base(keep[len(keep)-1]), snapPrefix)

	logs, err := listByZxid(logDir, logPrefix, true)
	if err != nil {
		return fmt.Errorf("storage: list logs: %w", err)
	}
	// The log that starts at or before the oldest kept snapshot may hold txns
	// after it, so it stays (FileTxnSnapLog.getSnapshotLogs).
	retained := map[string]bool{}
	for _, f := range logFilesFrom(logs, least) {
		retained[f.path] = true
	}
	var doomed []string
	for _, f := range logs {
		if f.zxid < least && !retained[f.path] {
			doomed = append(doomed, f.path)
		}
	}
	snaps, err := listByZxid(snapDir, snapPrefix, true)
	if err != nil {
		return fmt.Errorf("storage: list snapshots: %w", err)
	}
	for _, f := range snaps {
		if f.zxid < least {
			doomed = append(doomed, f.path)
		}
	}
	for _, p := range doomed {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("storage: purge: %w", err)
		}
	}
	return nil
}

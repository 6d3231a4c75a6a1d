package log

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// EpochEntry is one (leader epoch, start offset) pair of the leader epoch cache.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache mirrors Kafka's LeaderEpochFileCache: entries ascending in both epoch and offset,
// persisted to leader-epoch-checkpoint on every change.
type epochCache struct {
	path    string
	entries []EpochEntry
	off     bool // message format below v2: Kafka keeps no cache (and no checkpoint file) at all
}

// setEnabled is Log.initializeLeaderEpochCache on a change of record version: below v2 the cache is dropped and
// its file deleted; going back to v2 starts an empty cache.
func (c *epochCache) setEnabled(on bool) error {
	if on != c.off {
		return nil
	}
	c.off = !on
	c.entries = nil
	if c.off {
		if err := os.Remove(c.path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("leader epoch checkpoint: %w", err)
		}
	}
	return nil
}

func loadEpochCache(dir string) (*epochCache, error) {
	c := &epochCache{path: filepath.Join(dir, LeaderEpochCheckpointFile)}
	rows, err := readCheckpoint(c.path, 2)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		e, err1 := strconv.ParseInt(r[0], 10, 32)
		o, err2 := strconv.ParseInt(r[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: malformed entry %v", c.path, r)
		}
		c.entries = append(c.entries, EpochEntry{int32(e), o})
	}
	return c, nil
}

func (c *epochCache) flush() error {
	if c.off {
		return nil
	}
	lines := make([]string, len(c.entries))
	for i, e := range c.entries {
		lines[i] = fmt.Sprintf("%d %d", e.Epoch, e.StartOffset)
	}
	if err := writeCheckpoint(c.path, lines); err != nil {
		return fmt.Errorf("leader epoch checkpoint: %w", err)
	}
	return nil
}

func (c *epochCache) latest() (EpochEntry, bool) {
	if len(c.entries) == 0 {
		return EpochEntry{}, false
	}
	return c.entries[len(c.entries)-1], true
}

// assign records that epoch starts at offset; entries it contradicts (a later or equal epoch, or a
// later or equal offset) are dropped, as Kafka does.
func (c *epochCache) assign(epoch int32, offset int64) (bool, error) {
	if c.off || epoch < 0 || offset < 0 {
		return false, nil
	}
	if l, ok := c.latest(); ok && l.Epoch == epoch && offset >= l.StartOffset {
		return false, nil
	}
	kept := c.entries[:0]
	for _, e := range c.entries {
		if e.Epoch < epoch && e.StartOffset < offset {
			kept = append(kept, e)
		}
	}
	c.entries = append(kept, EpochEntry{epoch, offset})
	return true, c.flush()
}

// endOffsetFor answers OffsetForLeaderEpoch: the largest epoch <= requested and the start offset of
// the next epoch (or the log end offset for the latest epoch); (-1, -1) when unknown.
func (c *epochCache) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	// Only UNDEFINED_EPOCH (-1) is special; another negative epoch falls through like any epoch below the first.
	if epoch == -1 {
		return -1, -1
	}
	l, ok := c.latest()
	if ok && l.Epoch == epoch {
		return epoch, logEnd
	}
	hi := -1
	for i, e := range c.entries {
		if e.Epoch > epoch {
			hi = i
			break
		}
	}
	if hi < 0 {
		return -1, -1
	}
	if hi == 0 {
		return epoch, c.entries[0].StartOffset
	}
	return c.entries[hi-1].Epoch, c.entries[hi].StartOffset
}

// truncateFromEnd drops entries starting at or after endOffset (log truncation).
func (c *epochCache) truncateFromEnd(endOffset int64) error {
	n := len(c.entries)
	for n > 0 && c.entries[n-1].StartOffset >= endOffset {
		n--
	}
	if n == len(c.entries) {
		return nil
	}
	c.entries = c.entries[:n]
	return c.flush()
}

// truncateFromStart drops entries wholly before startOffset; the last of them is kept, moved up to
// startOffset (log start moved by retention or DeleteRecords).
func (c *epochCache) truncateFromStart(startOffset int64) error {
	i := 0
	for i < len(c.entries) && c.entries[i].StartOffset <= startOffset {
		i++
	}
	if i == 0 {
		return nil
	}
	last := c.entries[i-1]
	last.StartOffset = startOffset
	c.entries = append([]EpochEntry{last}, c.entries[i:]...)
	return c.flush()
}

func (c *epochCache) clear() error {
	c.entries = nil
	return c.flush()
}

package log

import (
	"maps"
	"slices"
)

// CleanerRun is what Kafka's CleanerStats keeps of one completed cleaning.
type CleanerRun struct {
	BytesRead    int64 // of the segments rewritten
	BytesWritten int64 // of the cleaned segments that replaced them
	// BufferUtilization is the share of the offset map's slots its keys took (SkimpyOffsetMap.utilization).
	BufferUtilization float64
	ElapsedMs         int64 // from the start of the offset map to the last swap
}

// CleanerThreadStats is what a cleaner thread keeps for the gauges: its last completed cleaning (lastStats; zero
// before the first) and, from the last look that gave it a log, the largest compaction delay among the logs
// looked at (lastPreCleanStats).
type CleanerThreadStats struct {
	Last                 CleanerRun
	MaxCompactionDelayMs int64
}

// UncleanableDir is one log dir's partitions whose cleaning failed: how many, and the bytes they have to clean.
type UncleanableDir struct {
	Dir        string
	Partitions int
	Bytes      int64
}

// CleanerStats are the values behind LogCleaner's and LogCleanerManager's gauges.
type CleanerStats struct {
	Threads []CleanerThreadStats
	// DeadThreads counts threads that died. Always 0: a failed cleaning marks its partition uncleanable and the
	// thread goes on, and nothing but Close ends a thread.
	DeadThreads int
	// MaxDirtyRatio is the highest cleanable ratio among the compacted logs with bytes at the last look for a log
	// to clean, qualifying or not; 0 when there were none.
	MaxDirtyRatio  float64
	SinceLastRunMs int64            // since the last look for a log to clean, or since the cleaner was made
	Uncleanable    []UncleanableDir // one per log dir, in log.dirs order
	IoBytes        int64            // read and written by the threads, as the throttler's meter (cleaner-io) counts
}

// Stats reads the cleaner's gauges. Cheap but for uncleanable partitions, each of which costs a look at its
// segments (they are rare: a cleaning failed).
func (c *Cleaner) Stats() CleanerStats {
	now := c.m.now().UnixMilli()
	c.mu.Lock()
	st := CleanerStats{Threads: slices.Clone(c.threads), MaxDirtyRatio: c.maxDirty, SinceLastRunMs: now - c.lastRunMs,
		IoBytes: c.throttler.Observed()}
	bad := maps.Clone(c.uncleanable)
	c.mu.Unlock()
	st.Uncleanable = c.uncleanableDirs(bad, now)
	return st
}

// uncleanableDirs counts the uncleanable partitions of each log dir and sums their cleanable bytes
// (LogCleanerManager's uncleanable-partitions-count and uncleanable-bytes).
func (c *Cleaner) uncleanableDirs(bad map[TopicPartition]string, now int64) []UncleanableDir {
	dirs := c.m.Dirs()
	out := make([]UncleanableDir, len(dirs))
	for i, d := range dirs {
		out[i].Dir = d
	}
	if len(bad) == 0 {
		return out
	}
	all := c.m.All()
	for tp, dir := range bad {
		i := slices.Index(dirs, dir)
		if i < 0 {
			continue
		}
		out[i].Partitions++
		if l, ok := all[tp]; ok {
			out[i].Bytes += c.cleanableBytes(tp, l, dir, now)
		}
	}
	return out
}

// cleanableBytes is what a cleaning of tp would take on now, as the cleaner would find it but without taking the
// log's truncation marker or fixing its checkpoint.
func (c *Cleaner) cleanableBytes(tp TopicPartition, l *Log, dir string, now int64) int64 {
	sn, err := l.cleanerSnapshot(false)
	if err != nil {
		return 0 // closed meanwhile
	}
	cp, hasCp := c.checkpoint(dir, tp)
	if hasCp && sn.truncated {
		cp = min(cp, sn.truncTo)
	}
	t, _ := cleanableOffsets(tp, l, dir, sn, cp, hasCp, now)
	return t.cleanableBytes
}

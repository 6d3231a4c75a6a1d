package log

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
)

// ErrLogDirNotFound is a destination that is not one of log.dirs (Kafka's LogDirNotFoundException).
var ErrLogDirNotFound = errors.New("log dir not found")

// ErrFutureNameTooLong is a partition whose future dir name would not fit a file name (KAFKA-4893).
var ErrFutureNameTooLong = errors.New("the topic name is too long")

// ErrClosed is an operation on a closed log (deleted, or replaced by its future log).
var ErrClosed = errClosed

// DirOf is the log dir holding tp's current log.
func (m *Manager) DirOf(tp TopicPartition) (string, bool) { return m.dirOf(tp) }

// maxDirName is the longest file name the file systems Kafka supports allow.
const maxDirName = 255

// suffixedDirName is Kafka's <topic>-<partition>.<uuid><suffix>: a random 32-hex-digit id keeps several
// deleted or future copies of one partition apart.
func suffixedDirName(tp TopicPartition, suffix string) string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	return fmt.Sprintf("%s.%s%s", tp, hex.EncodeToString(u[:]), suffix)
}

// FutureDirNameLen is the length of a future dir name of tp (Log.logFutureDirName's), for the 255 check.
func FutureDirNameLen(tp TopicPartition) int { return len(tp.String()) + 1 + 32 + len(futureDirSuffix) }

// deleteDirName is Log.logDeleteDirName: as the future name, cut to 255 characters from its end.
func deleteDirName(tp TopicPartition) string {
	name := suffixedDirName(tp, deleteDirSuffix)
	if len(name) > maxDirName {
		name = name[len(name)-maxDirName:]
	}
	return name
}

// parseLogDirName is Log.parseTopicPartitionName: a live, future or deleted log's directory name.
func parseLogDirName(name string) (TopicPartition, error) {
	for _, suf := range []string{futureDirSuffix, deleteDirSuffix} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			i := strings.LastIndexByte(base, '.')
			if i <= 0 {
				return TopicPartition{}, fmt.Errorf("%q is not a topic-partition directory", name)
			}
			return ParseTopicPartitionDir(base[:i])
		}
	}
	return ParseTopicPartitionDir(name)
}

// ResolveDir maps a requested log dir to the configured one it names; Kafka compares absolute paths.
func (m *Manager) ResolveDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("log dir %s: %w", dir, ErrLogDirNotFound)
	}
	for _, d := range m.dirs {
		if a, err := filepath.Abs(d); err == nil && a == abs {
			return d, nil
		}
	}
	return "", fmt.Errorf("log dir %s is not one of log.dirs: %w", dir, ErrLogDirNotFound)
}

// SetPreferredDir is LogManager.maybeUpdatePreferredLogDir: the next creation of tp's log, current or future,
// goes to dir (a configured dir, see ResolveDir), unless one of its logs is already there.
func (m *Manager) SetPreferredDir(tp TopicPartition, dir string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.logs[tp]; ok && m.logDir[tp] == dir {
		return
	}
	if _, ok := m.futures[tp]; ok && m.futureDir[tp] == dir {
		return
	}
	m.preferred[tp] = dir
}

// moving reports whether tp has a future log.
func (m *Manager) moving(tp TopicPartition) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.futures[tp]
	return ok
}

// Future returns the future log of a partition moving between log dirs, and the dir it is in.
func (m *Manager) Future(tp TopicPartition) (*Log, string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.futures[tp]
	return l, m.futureDir[tp], ok
}

// Futures returns every future log.
func (m *Manager) Futures() map[TopicPartition]*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.futures)
}

// FutureLogsInDir returns the future logs held in log dir d.
func (m *Manager) FutureLogsInDir(d string) []*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	return logsInDir(m.futures, m.futureDir, d)
}

// CreateFuture is getOrCreateLog(isFuture = true): tp's future log in its preferred dir, which must differ from
// the current log's. created is false when the future log already exists. Cleaning of tp pauses until the
// move ends (abortAndPauseCleaning).
func (m *Manager) CreateFuture(tp TopicPartition, cfg Config) (l *Log, created bool, err error) {
	m.mu.Lock()
	if l, ok := m.futures[tp]; ok {
		m.mu.Unlock()
		return l, false, nil
	}
	cur, ok := m.logs[tp]
	dir, pref := m.preferred[tp]
	switch {
	case m.closed:
		err = errors.New("log manager is closed")
	case !ok:
		err = fmt.Errorf("future log of %s: no current log", tp)
	case !pref:
		err = fmt.Errorf("future log of %s: no preferred log dir", tp)
	case dir == m.logDir[tp]:
		err = fmt.Errorf("future log of %s: already in %s", tp, dir)
	}
	if err != nil {
		m.mu.Unlock()
		return nil, false, err
	}
	l, err = OpenWithState(filepath.Join(dir, suffixedDirName(tp, futureDirSuffix)), cfg, m.now, m.logger, LoadState{CleanShutdown: true})
	if err == nil {
		l.flushStats = m.flushes
		if id, ok := cur.TopicID(); ok {
			err = l.SetTopicID(id)
		}
	}
	if err != nil {
		if l != nil {
			_ = l.Delete()
		}
		m.mu.Unlock()
		return nil, false, fmt.Errorf("create future log of %s: %w", tp, err)
	}
	delete(m.preferred, tp)
	m.futures[tp] = l
	m.futureDir[tp] = dir
	cleaner := m.cleaner
	m.mu.Unlock()
	if cleaner != nil {
		cleaner.waitIdle(tp) // grabFilthiest skips it from now on
	}
	m.logger.Info("created future log", "partition", tp.String(), "dir", l.Dir())
	return l, true, nil
}

// DeleteFuture drops tp's future log (a move cancelled or its topic deleted): renamed to a -delete dir and removed.
func (m *Manager) DeleteFuture(tp TopicPartition) error {
	m.mu.Lock()
	l, ok := m.futures[tp]
	delete(m.futures, tp)
	delete(m.futureDir, tp)
	m.mu.Unlock()
	if !ok {
		return nil
	}
	return removeLogDir(l, tp)
}

// removeLogDir closes l, renames its dir to a -delete one (a crash finishes the delete on the next start) and
// removes it.
func removeLogDir(l *Log, tp TopicPartition) error {
	_ = l.Close()
	target := filepath.Join(filepath.Dir(l.Dir()), deleteDirName(tp))
	if err := os.Rename(l.Dir(), target); err != nil {
		return fmt.Errorf("delete %s: %w", tp, err)
	}
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("delete %s: %w", tp, err)
	}
	return nil
}

// ReplaceCurrentWithFuture is LogManager.replaceCurrentWithFutureLog for a future log that has caught up: under
// the current log's lock (no append in between) and only if both end at the same offset and epoch, the future
// dir becomes <topic>-<partition> in its log dir and the current one goes to a -delete dir and away. The *Log of
// the partition stays the same object, now over the future log's files. ok is false when the future log is behind.
func (m *Manager) ReplaceCurrentWithFuture(tp TopicPartition) (ok bool, err error) {
	m.mu.Lock()
	cur, hasCur := m.logs[tp]
	fut, hasFut := m.futures[tp]
	srcDir, dstDir := m.logDir[tp], m.futureDir[tp]
	if !hasCur || !hasFut || m.closed {
		m.mu.Unlock()
		return false, fmt.Errorf("replace current log of %s: current %v, future %v", tp, hasCur, hasFut)
	}
	delDir := filepath.Join(srcDir, tp.String(), "..", deleteDirName(tp))
	ok, err = cur.adopt(fut, filepath.Join(dstDir, tp.String()), filepath.Clean(delDir))
	if err != nil || !ok {
		m.mu.Unlock()
		return false, err
	}
	delete(m.futures, tp)
	delete(m.futureDir, tp)
	m.logDir[tp] = dstDir
	cleaner := m.cleaner
	err = m.checkpointLocked()
	m.mu.Unlock()
	if cleaner != nil {
		cleaner.moveCheckpoint(tp, srcDir, dstDir)
	}
	if rerr := os.RemoveAll(filepath.Clean(delDir)); rerr != nil {
		err = errors.Join(err, fmt.Errorf("remove replaced log of %s: %w", tp, rerr))
	}
	m.logger.Info("replaced current log with future log", "partition", tp.String(), "dir", cur.Dir())
	return true, err
}

// promoteOrphanFutures makes a future log without a current log the partition's log: a stop between the swap's
// two renames (the current log to -delete, removed at load, then the future log to <topic>-<partition>) leaves
// one, and it had caught up, or the swap would not have begun.
func (m *Manager) promoteOrphanFutures() error {
	for tp, f := range m.futures {
		if _, ok := m.logs[tp]; ok {
			continue
		}
		d := m.futureDir[tp]
		if err := f.Close(); err != nil {
			return fmt.Errorf("close future log of %s: %w", tp, err)
		}
		path := filepath.Join(d, tp.String())
		if err := os.Rename(f.Dir(), path); err != nil {
			return fmt.Errorf("promote future log of %s: %w", tp, err)
		}
		starts, err := ReadOffsetCheckpoint(filepath.Join(d, LogStartOffsetCheckpointFile))
		if err != nil {
			starts = map[TopicPartition]int64{}
		}
		hws, err := ReadOffsetCheckpoint(filepath.Join(d, ReplicationCheckpointFile))
		if err != nil {
			hws = map[TopicPartition]int64{}
		}
		// Recovered in full: its recovery point was the future log's.
		l, err := OpenWithState(path, m.defaultCfg, m.now, m.logger, LoadState{LogStartOffset: starts[tp], HighWatermark: hws[tp]})
		if err != nil {
			return err
		}
		l.flushStats = m.flushes
		m.logger.Warn("future log without a current log made the partition's log", "partition", tp.String(), "dir", path)
		delete(m.futures, tp)
		delete(m.futureDir, tp)
		m.logs[tp], m.logDir[tp] = l, d
	}
	return nil
}

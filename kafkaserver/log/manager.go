package log

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Suffixes of partition directories that are not live logs (Kafka's Log.DeleteDirSuffix etc.).
const (
	deleteDirSuffix = "-delete"
	futureDirSuffix = "-future"
)

// Manager owns every partition log under log.dirs, like Kafka's LogManager.
type Manager struct {
	mu         sync.Mutex
	dirs       []string
	locks      []*os.File
	brokerID   int32
	clusterID  string
	defaultCfg Config
	now        func() time.Time
	logger     *slog.Logger
	logs       map[TopicPartition]*Log
	logDir     map[TopicPartition]string
	// Log dir moves (future.go): the future logs, their dirs, and where the next log of a partition goes.
	futures   map[TopicPartition]*Log
	futureDir map[TopicPartition]string
	preferred map[TopicPartition]string
	closed    bool
	cleaner   *Cleaner // nil unless NewCleaner/StartCleaner ran
	flushes   *FlushStats
}

// FlushStats are the segment flushes of every log of the manager (LogFlushRateAndTimeMs).
func (m *Manager) FlushStats() *FlushStats { return m.flushes }

// MetaProperties is the content of meta.properties in ZooKeeper mode (version 0).
type MetaProperties struct {
	Version   int
	BrokerID  int32
	ClusterID string // empty when an old broker wrote the file
}

// ReadMetaProperties parses a Java properties file; ok=false when absent.
func ReadMetaProperties(path string) (MetaProperties, bool, error) {
	var m MetaProperties
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("read %s: %w", path, err)
	}
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue
		}
		props[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	v, err := strconv.Atoi(props["version"])
	if err != nil {
		return m, false, fmt.Errorf("%s: bad version %q", path, props["version"])
	}
	m.Version = v
	if v != 0 {
		return m, true, fmt.Errorf("%s: version %d is not a ZooKeeper-mode meta.properties", path, v)
	}
	id, err := strconv.ParseInt(props["broker.id"], 10, 32)
	if err != nil {
		return m, false, fmt.Errorf("%s: bad broker.id %q", path, props["broker.id"])
	}
	m.BrokerID = int32(id)
	m.ClusterID = props["cluster.id"]
	return m, true, nil
}

// WriteMetaProperties writes meta.properties the way Java's Properties.store does (comment, date).
func WriteMetaProperties(path string, m MetaProperties, now time.Time) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "#\n#%s\n", now.UTC().Format("Mon Jan 02 15:04:05 MST 2006"))
	if m.ClusterID != "" {
		fmt.Fprintf(&b, "cluster.id=%s\n", m.ClusterID)
	}
	fmt.Fprintf(&b, "version=%d\nbroker.id=%d\n", m.Version, m.BrokerID)
	return atomicWrite(path, b.Bytes())
}

// OpenManager locks each log dir, checks and writes meta.properties, removes pending deletions and
// loads every <topic>-<partition> log with the recovery points and log start offsets of the
// checkpoint files. A clean-shutdown marker skips recovery. brokerID < 0 adopts the stored id; an
// empty clusterID adopts the stored one.
func OpenManager(dirs []string, brokerID int32, clusterID string, defaultCfg Config, logger *slog.Logger) (*Manager, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if len(dirs) == 0 {
		return nil, errors.New("open log manager: no log dirs")
	}
	m := &Manager{dirs: dirs, brokerID: brokerID, clusterID: clusterID, defaultCfg: defaultCfg.normalized(),
		now: time.Now, logger: logger, logs: map[TopicPartition]*Log{}, logDir: map[TopicPartition]string{},
		futures: map[TopicPartition]*Log{}, futureDir: map[TopicPartition]string{}, preferred: map[TopicPartition]string{},
		flushes: &FlushStats{}}
	if err := m.open(); err != nil {
		_ = m.closeAll(false)
		return nil, err
	}
	return m, nil
}

func (m *Manager) open() error {
	var stored *MetaProperties
	for _, d := range m.dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create log dir %s: %w", d, err)
		}
		lf, err := os.OpenFile(filepath.Join(d, LockFile), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return fmt.Errorf("lock %s: %w", d, err)
		}
		if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lf.Close()
			return fmt.Errorf("log dir %s is in use by another process: %w", d, err)
		}
		m.locks = append(m.locks, lf)
		mp, ok, err := ReadMetaProperties(filepath.Join(d, MetaPropertiesFile))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if stored != nil && (stored.BrokerID != mp.BrokerID || (stored.ClusterID != mp.ClusterID && stored.ClusterID != "" && mp.ClusterID != "")) {
			return fmt.Errorf("inconsistent meta.properties across log dirs: %+v vs %+v in %s", *stored, mp, d)
		}
		if stored == nil || stored.ClusterID == "" {
			stored = &mp
		}
	}
	if stored != nil {
		if m.brokerID >= 0 && stored.BrokerID != m.brokerID {
			return fmt.Errorf("configured broker.id %d doesn't match stored broker.id %d in meta.properties", m.brokerID, stored.BrokerID)
		}
		if m.clusterID != "" && stored.ClusterID != "" && stored.ClusterID != m.clusterID {
			return fmt.Errorf("the cluster id %s doesn't match stored clusterId %s in meta.properties", m.clusterID, stored.ClusterID)
		}
		m.brokerID = stored.BrokerID
		if m.clusterID == "" {
			m.clusterID = stored.ClusterID
		}
	}
	if m.brokerID < 0 {
		return errors.New("no broker.id configured and none stored in meta.properties")
	}
	for _, d := range m.dirs {
		mp := MetaProperties{Version: 0, BrokerID: m.brokerID, ClusterID: m.clusterID}
		if err := WriteMetaProperties(filepath.Join(d, MetaPropertiesFile), mp, m.now()); err != nil {
			return err
		}
	}
	for _, d := range m.dirs {
		if err := m.loadDir(d); err != nil {
			return err
		}
	}
	return m.promoteOrphanFutures()
}

func (m *Manager) loadDir(d string) error {
	_, err := os.Stat(filepath.Join(d, CleanShutdownFile))
	clean := err == nil
	recovery, err := ReadOffsetCheckpoint(filepath.Join(d, RecoveryPointCheckpointFile))
	if err != nil {
		m.logger.Warn("ignoring unreadable recovery point checkpoint; recovering every segment", "dir", d, "err", err)
		recovery, clean = map[TopicPartition]int64{}, false
	}
	starts, err := ReadOffsetCheckpoint(filepath.Join(d, LogStartOffsetCheckpointFile))
	if err != nil {
		m.logger.Warn("ignoring unreadable log start offset checkpoint", "dir", d, "err", err)
		starts = map[TopicPartition]int64{}
	}
	hws, err := ReadOffsetCheckpoint(filepath.Join(d, ReplicationCheckpointFile))
	if err != nil {
		m.logger.Warn("ignoring unreadable replication checkpoint", "dir", d, "err", err)
		hws = map[TopicPartition]int64{}
	}
	if _, err := ReadOffsetCheckpoint(filepath.Join(d, CleanerCheckpointFile)); err != nil {
		m.logger.Warn("unreadable cleaner checkpoint", "dir", d, "err", err)
	}
	entries, err := os.ReadDir(d)
	if err != nil {
		return fmt.Errorf("list %s: %w", d, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		path := filepath.Join(d, name)
		switch {
		case strings.HasSuffix(name, deleteDirSuffix):
			m.logger.Info("removing log pending deletion", "dir", path)
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("remove %s: %w", path, err)
			}
			continue
		}
		future := strings.HasSuffix(name, futureDirSuffix)
		tp, err := parseLogDirName(name)
		if err != nil {
			continue // not a log (e.g. a stray directory); Kafka also skips non-log names
		}
		logs, dirs := m.logs, m.logDir
		if future { // a move cut short by a stop: the replica manager resumes it (loadLog's isFuture)
			logs, dirs = m.futures, m.futureDir
		}
		if _, dup := logs[tp]; dup {
			return fmt.Errorf("duplicate log directories for %s: %s and %s", tp, dirs[tp], d)
		}
		st := LoadState{RecoveryPoint: recovery[tp], LogStartOffset: starts[tp], HighWatermark: hws[tp], CleanShutdown: clean}
		l, err := OpenWithState(path, m.defaultCfg, m.now, m.logger, st)
		if err != nil {
			return err
		}
		l.flushStats = m.flushes
		logs[tp] = l
		dirs[tp] = d
	}
	if clean {
		if err := os.Remove(filepath.Join(d, CleanShutdownFile)); err != nil {
			return fmt.Errorf("remove clean shutdown marker: %w", err)
		}
	}
	return nil
}

// BrokerID is the broker id in meta.properties.
func (m *Manager) BrokerID() int32 { return m.brokerID }

// ClusterID is the cluster id in meta.properties.
func (m *Manager) ClusterID() string { return m.clusterID }

// Dirs lists the log dirs.
func (m *Manager) Dirs() []string { return m.dirs }

// Get returns the log of a partition.
func (m *Manager) Get(topic string, partition int32) (*Log, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.logs[TopicPartition{topic, partition}]
	return l, ok
}

// All returns every loaded log.
func (m *Manager) All() map[TopicPartition]*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.logs)
}

// GetOrCreate returns the partition's log, creating it in the log dir with the fewest partitions.
// A non-zero topicID is written to partition.metadata.
func (m *Manager) GetOrCreate(topic string, partition int32, topicID [16]byte, cfg Config) (*Log, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("log manager is closed")
	}
	tp := TopicPartition{topic, partition}
	if l, ok := m.logs[tp]; ok {
		return l, l.SetTopicID(topicID)
	}
	if topic == "" || partition < 0 || strings.ContainsAny(topic, "/\\") || topic == "." || topic == ".." {
		return nil, fmt.Errorf("invalid topic partition %s", tp)
	}
	count := map[string]int{}
	for _, d := range m.logDir {
		count[d]++
	}
	dir := m.dirs[0]
	for _, d := range m.dirs[1:] {
		if count[d] < count[dir] {
			dir = d
		}
	}
	if pref, ok := m.preferred[tp]; ok { // AlterReplicaLogDirs named a dir before the partition came here
		dir = pref
		delete(m.preferred, tp)
	}
	l, err := OpenWithState(filepath.Join(dir, tp.String()), cfg, m.now, m.logger, LoadState{CleanShutdown: true})
	if err != nil {
		return nil, err
	}
	l.flushStats = m.flushes
	if err := l.SetTopicID(topicID); err != nil {
		_ = l.Close()
		return nil, err
	}
	m.logs[tp] = l
	m.logDir[tp] = dir
	return l, nil
}

// Delete removes a partition's log: renamed to <topic>-<partition>.<uuid>-delete first (so a crash
// finishes the delete on the next start, as Kafka does), then removed.
func (m *Manager) Delete(topic string, partition int32) error {
	m.mu.Lock()
	tp := TopicPartition{topic, partition}
	l, ok := m.logs[tp]
	dir, cleaner := m.logDir[tp], m.cleaner
	if ok {
		delete(m.logs, tp)
		delete(m.logDir, tp)
	}
	fut, moving := m.futures[tp]
	delete(m.futures, tp)
	delete(m.futureDir, tp)
	delete(m.preferred, tp)
	m.mu.Unlock()
	if moving { // a topic deleted mid-move loses both logs
		if err := removeLogDir(fut, tp); err != nil {
			m.logger.Warn("deleting future log", "partition", tp.String(), "err", err)
		}
	}
	if !ok {
		return nil
	}
	if cleaner != nil {
		cleaner.abort(tp, dir)
	}
	if err := l.Close(); err != nil {
		m.logger.Warn("closing log before delete", "partition", tp.String(), "err", err)
	}
	var u [16]byte
	_, _ = rand.Read(u[:])
	name := fmt.Sprintf("%s.%s%s", tp, hex.EncodeToString(u[:]), deleteDirSuffix)
	if len(name) > 255 {
		name = name[len(name)-255:]
	}
	target := filepath.Join(filepath.Dir(l.dir), name)
	if err := os.Rename(l.dir, target); err != nil {
		return fmt.Errorf("delete %s: %w", tp, err)
	}
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("delete %s: %w", tp, err)
	}
	return nil
}

// Checkpoint writes recovery-point-offset-checkpoint, replication-offset-checkpoint and
// log-start-offset-checkpoint in every log dir.
func (m *Manager) Checkpoint() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checkpointLocked()
}

func (m *Manager) checkpointLocked() error {
	for _, d := range m.dirs {
		rec, hw, start := map[TopicPartition]int64{}, map[TopicPartition]int64{}, map[TopicPartition]int64{}
		for tp, l := range m.logsIn(d) {
			rec[tp] = l.RecoveryPoint()
			hw[tp] = l.HighWatermark()
			// Kafka only records a log start offset that differs from the first segment's base.
			if ls := l.LogStartOffset(); ls > l.FirstSegmentBase() {
				start[tp] = ls
			}
		}
		if err := WriteOffsetCheckpoint(filepath.Join(d, RecoveryPointCheckpointFile), rec); err != nil {
			return err
		}
		if err := WriteOffsetCheckpoint(filepath.Join(d, ReplicationCheckpointFile), hw); err != nil {
			return err
		}
		if err := WriteOffsetCheckpoint(filepath.Join(d, LogStartOffsetCheckpointFile), start); err != nil {
			return err
		}
	}
	return nil
}

// FlushDirty flushes logs whose flush.ms has passed.
func (m *Manager) FlushDirty(now time.Time) error {
	var errs []error
	for _, l := range m.All() {
		errs = append(errs, l.MaybeFlush(now))
	}
	for _, l := range m.Futures() {
		errs = append(errs, l.MaybeFlush(now))
	}
	return errors.Join(errs...)
}

// EnforceRetention runs retention on every log; returns the number of segments deleted.
func (m *Manager) EnforceRetention(now time.Time) (int, error) {
	total := 0
	var errs []error
	for _, l := range m.All() {
		n, err := l.EnforceRetention(now)
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

// Close flushes and closes every log, writes the checkpoints and the clean-shutdown marker and
// releases the dir locks.
func (m *Manager) Close() error {
	m.mu.Lock()
	cleaner := m.cleaner
	m.mu.Unlock()
	if cleaner != nil {
		cleaner.Close() // its threads take m.mu, so stop them first
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	return m.closeAll(true)
}

// logsIn returns the current and future logs in log dir d (the checkpoint files of a dir cover both, keyed by
// partition: a partition never has both in one dir).
func (m *Manager) logsIn(d string) map[TopicPartition]*Log {
	out := map[TopicPartition]*Log{}
	for tp, l := range m.logs {
		if m.logDir[tp] == d {
			out[tp] = l
		}
	}
	for tp, l := range m.futures {
		if m.futureDir[tp] == d {
			out[tp] = l
		}
	}
	return out
}

// dirOf is the log dir holding tp.
func (m *Manager) dirOf(tp TopicPartition) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.logDir[tp]
	return d, ok
}

func (m *Manager) closeAll(clean bool) error {
	m.closed = true
	var errs []error
	for _, l := range m.logs {
		errs = append(errs, l.Close())
	}
	for _, l := range m.futures {
		errs = append(errs, l.Close())
	}
	if clean {
		errs = append(errs, m.checkpointLocked())
	}
	if clean && errors.Join(errs...) == nil {
		for _, d := range m.dirs {
			if err := os.WriteFile(filepath.Join(d, CleanShutdownFile), nil, 0o644); err != nil {
				errs = append(errs, fmt.Errorf("write clean shutdown marker: %w", err))
			}
		}
	}
	for _, lf := range m.locks {
		_ = syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
		errs = append(errs, lf.Close())
	}
	m.locks = nil
	return errors.Join(errs...)
}

package log

import (
	"cmp"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// CleanerConfig holds the broker's log.cleaner.* settings (Kafka 2.8's CleanerConfig).
type CleanerConfig struct {
	Enable             bool    // log.cleaner.enable
	Threads            int     // log.cleaner.threads
	DedupeBufferSize   int64   // log.cleaner.dedupe.buffer.size, shared by the threads
	IoBufferLoadFactor float64 // log.cleaner.io.buffer.load.factor: how full the offset map may get
	BackoffMs          int64   // log.cleaner.backoff.ms: sleep when no log needs cleaning
	// IoMaxBytesPerSecond is log.cleaner.io.max.bytes.per.second: the threads' bytes read and written together,
	// on average; 0 is the default, Double.MaxValue (no throttle).
	IoMaxBytesPerSecond float64
	// Logger is the cleaner's (Kafka's kafka.log.LogCleaner); nil logs through the manager's.
	Logger *slog.Logger
}

// DefaultCleanerConfig returns Kafka 2.8's defaults.
func DefaultCleanerConfig() CleanerConfig {
	return CleanerConfig{Enable: true, Threads: 1, DedupeBufferSize: 128 << 20, IoBufferLoadFactor: 0.9, BackoffMs: 15000,
		IoMaxBytesPerSecond: math.MaxFloat64}
}

// offsetMapEntryBytes is what SkimpyOffsetMap spends per key: an MD5 hash and an offset. The map size limit is
// computed from it so a log is cut into cleaning rounds at the same place Kafka cuts it.
const offsetMapEntryBytes = md5.Size + 8

// Cleaner compacts the logs whose cleanup.policy includes compact, as Kafka's LogCleaner with its
// LogCleanerManager: it picks the filthiest log, keeps the last record per key below the active segment,
// drops tombstones once they are older than delete.retention.ms and records its progress in
// cleaner-offset-checkpoint.
type Cleaner struct {
	m       *Manager
	cfg     CleanerConfig
	logger  *slog.Logger
	maxKeys int   // keys one cleaning round may index
	slots   int64 // entries the offset map has room for; its utilization is measured against them
	// throttler paces the reads and writes of all the threads together (LogCleaner's one Throttler, cleaner-io).
	throttler *Throttler

	// restart is held by Reconfigure and Close, so that one does not stop threads the other is stopping.
	restart     sync.Mutex
	mu          sync.Mutex
	cond        *sync.Cond
	inProgress  map[TopicPartition]*atomic.Bool     // value: aborted
	uncleanable map[TopicPartition]string           // value: the log dir (LogCleanerManager keeps them per dir)
	checkpoints map[string]map[TopicPartition]int64 // log dir -> first dirty offsets
	closed      bool
	// What the gauges report: each thread's last cleaning, the dirtiest log's ratio at the last look for a log to
	// clean, and when that look was.
	threads   []CleanerThreadStats
	maxDirty  float64
	lastRunMs int64
	stop      chan struct{}
	wg        sync.WaitGroup

	// fail, when set by a test, is called between the steps of a segment swap; an error stops the swap right
	// there, leaving the files as a crash would.
	fail func(phase string) error
}

// NewCleaner builds the cleaner of m from its checkpoint files; Start runs its threads.
func NewCleaner(m *Manager, cfg CleanerConfig, logger *slog.Logger) (*Cleaner, error) {
	if logger == nil {
		logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	if cfg.Threads <= 0 {
		cfg.Threads = DefaultCleanerConfig().Threads
	}
	c := &Cleaner{m: m, logger: logger.With("component", "log-cleaner"),
		inProgress:  map[TopicPartition]*atomic.Bool{},
		uncleanable: map[TopicPartition]string{},
		checkpoints: map[string]map[TopicPartition]int64{},
		// LogCleanerManager starts its time since the last run when it is made.
		lastRunMs: m.now().UnixMilli()}
	if err := c.configure(cfg); err != nil {
		return nil, err
	}
	c.cond = sync.NewCond(&c.mu)
	c.throttler = NewThrottler(cfg.IoMaxBytesPerSecond, CleanerIoCheckInterval, m.now, c.sleepIo)
	for _, dir := range m.Dirs() {
		cp, err := ReadOffsetCheckpoint(filepath.Join(dir, CleanerCheckpointFile))
		if err != nil {
			c.logger.Warn("ignoring unreadable cleaner checkpoint", "dir", dir, "err", err)
			cp = map[TopicPartition]int64{}
		}
		c.checkpoints[dir] = cp
	}
	m.mu.Lock()
	m.cleaner = c
	m.mu.Unlock()
	return c, nil
}

// withDefaults fills in Kafka's defaults for the settings left zero, but the thread count.
func (cfg CleanerConfig) withDefaults() CleanerConfig {
	d := DefaultCleanerConfig()
	if cfg.DedupeBufferSize <= 0 {
		cfg.DedupeBufferSize = d.DedupeBufferSize
	}
	if cfg.IoBufferLoadFactor <= 0 {
		cfg.IoBufferLoadFactor = d.IoBufferLoadFactor
	}
	if cfg.BackoffMs <= 0 {
		cfg.BackoffMs = d.BackoffMs
	}
	if cfg.IoMaxBytesPerSecond == 0 {
		cfg.IoMaxBytesPerSecond = d.IoMaxBytesPerSecond
	}
	return cfg
}

// configure takes cfg (its zero values already defaulted) for the threads to come: the offset map each gets, a
// stop channel and fresh thread stats. No thread may be running.
func (c *Cleaner) configure(cfg CleanerConfig) error {
	memory := min(cfg.DedupeBufferSize/int64(cfg.Threads), math.MaxInt32)
	slots := memory / offsetMapEntryBytes
	if float64(slots)*cfg.IoBufferLoadFactor <= 1 {
		return errors.New("offset map is too small to fit in even a single message, so log cleaning will never make progress; increase log.cleaner.dedupe.buffer.size or decrease log.cleaner.threads")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cfg, c.slots, c.maxKeys = cfg, slots, int(float64(slots)*cfg.IoBufferLoadFactor)
	c.stop = make(chan struct{})
	c.threads = make([]CleanerThreadStats, cfg.Threads)
	return nil
}

// ValidateReconfiguration is LogCleaner.validateReconfiguration: the thread count may move within half and double
// the current one, and not below 1.
func (c *Cleaner) ValidateReconfiguration(threads int) error {
	c.mu.Lock()
	cur := c.cfg.Threads
	c.mu.Unlock()
	switch {
	case threads < 1:
		return errors.New("Log cleaner threads should be at least 1")
	case threads < cur/2:
		return fmt.Errorf("Log cleaner threads cannot be reduced to less than half the current value %d", cur)
	case threads > cur*2:
		return fmt.Errorf("Log cleaner threads cannot be increased to more than double the current value %d", cur)
	}
	return nil
}

// Reconfigure is LogCleaner.reconfigure for a dynamic change of log.cleaner.threads, dedupe.buffer.size,
// io.buffer.load.factor or backoff.ms: the threads stop (cleanings in progress aborted, to be taken up again),
// then as many as cfg says start with its settings. The checkpoints, uncleanable partitions and the throttler
// stay: Kafka 2.8 keeps its LogCleanerManager and its Throttler (whose rate so never changes until a restart).
// An offset map too small to hold a key leaves no thread running, as Kafka's reconfigure fails after the shutdown.
func (c *Cleaner) Reconfigure(cfg CleanerConfig) error {
	c.restart.Lock()
	defer c.restart.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	cfg = cfg.withDefaults()
	cfg.IoMaxBytesPerSecond, cfg.Logger = c.cfg.IoMaxBytesPerSecond, c.cfg.Logger
	if cfg.Threads < 1 {
		c.mu.Unlock()
		return errors.New("Log cleaner threads should be at least 1")
	}
	close(c.stop)
	for _, aborted := range c.inProgress {
		aborted.Store(true)
	}
	c.mu.Unlock()
	c.wg.Wait()
	if err := c.configure(cfg); err != nil {
		c.mu.Lock()
		c.stop = make(chan struct{}) // no threads, but Close still has a channel to close
		c.mu.Unlock()
		return fmt.Errorf("reconfigure log cleaner: %w", err)
	}
	c.logger.Info("log cleaner reconfigured", "threads", cfg.Threads, "dedupe_buffer_size", cfg.DedupeBufferSize,
		"io_buffer_load_factor", cfg.IoBufferLoadFactor, "backoff_ms", cfg.BackoffMs)
	c.Start()
	return nil
}

// StartCleaner creates the cleaner and starts its threads when log.cleaner.enable is set; Close stops it.
func (m *Manager) StartCleaner(cfg CleanerConfig) error {
	if !cfg.Enable {
		return nil
	}
	logger := cfg.Logger
	if logger == nil {
		logger = m.logger
	}
	c, err := NewCleaner(m, cfg, logger)
	if err != nil {
		return err
	}
	c.Start()
	return nil
}

// Start runs the configured number of cleaner threads; each cleans the filthiest log or sleeps for
// log.cleaner.backoff.ms when none qualifies.
func (c *Cleaner) Start() {
	c.mu.Lock()
	n, stop, backoff := c.cfg.Threads, c.stop, time.Duration(c.cfg.BackoffMs)*time.Millisecond
	c.mu.Unlock()
	for i := range n {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			t := time.NewTimer(0)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				cleaned, err := c.cleanOnce(i)
				if err != nil {
					c.logger.Warn("log cleaning failed", "err", err)
				}
				wait := backoff
				if cleaned {
					wait = 0
				}
				t.Reset(wait)
			}
		}()
	}
}

// Close stops the threads, aborting cleanings in progress, and waits for them.
func (c *Cleaner) Close() {
	c.restart.Lock()
	defer c.restart.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.stop)
	for _, aborted := range c.inProgress {
		aborted.Store(true)
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// sleepIo is the throttler's sleep, cut short by Close: Kafka's cleaner threads cannot be interrupted and a
// shutdown waits out the sleep, which at a low rate could keep the broker from stopping for hours. The
// cleaning then stops at its next batch, aborted.
func (c *Cleaner) sleepIo(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.stop:
	case <-t.C:
	}
}

// abort stops a cleaning of tp in progress, waits for it and forgets tp's checkpoint (the log is being
// deleted), as LogCleanerManager.abortCleaning does.
func (c *Cleaner) abort(tp TopicPartition, dir string) {
	c.mu.Lock()
	for {
		aborted, ok := c.inProgress[tp]
		if !ok {
			break
		}
		aborted.Store(true)
		c.cond.Wait()
	}
	delete(c.uncleanable, tp)
	_, had := c.checkpoints[dir][tp]
	delete(c.checkpoints[dir], tp)
	c.mu.Unlock()
	if had {
		if err := c.writeCheckpoint(dir); err != nil {
			c.logger.Warn("updating cleaner checkpoint", "dir", dir, "err", err)
		}
	}
}

// waitIdle waits for a cleaning of tp in progress to stop (it is asked to abort); its checkpoint stays.
func (c *Cleaner) waitIdle(tp TopicPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		aborted, ok := c.inProgress[tp]
		if !ok {
			return
		}
		aborted.Store(true)
		c.cond.Wait()
	}
}

// moveCheckpoint is LogCleanerManager.alterCheckpointDir: tp's cleaned offset follows its log to another dir.
func (c *Cleaner) moveCheckpoint(tp TopicPartition, from, to string) {
	c.mu.Lock()
	off, had := c.checkpoints[from][tp]
	delete(c.checkpoints[from], tp)
	if had {
		if c.checkpoints[to] == nil {
			c.checkpoints[to] = map[TopicPartition]int64{}
		}
		c.checkpoints[to][tp] = off
	}
	c.mu.Unlock()
	if !had {
		return
	}
	for _, d := range []string{from, to} {
		if err := c.writeCheckpoint(d); err != nil {
			c.logger.Warn("updating cleaner checkpoint", "dir", d, "err", err)
		}
	}
}

// FirstDirtyOffset is the checkpointed offset below which tp has been cleaned.
func (c *Cleaner) FirstDirtyOffset(tp TopicPartition) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cp := range c.checkpoints {
		if o, ok := cp[tp]; ok {
			return o, true
		}
	}
	return 0, false
}

// writeCheckpoint rewrites dir's cleaner-offset-checkpoint with the entries of logs that still exist.
func (c *Cleaner) writeCheckpoint(dir string) error {
	live := c.m.All()
	c.mu.Lock()
	out := map[TopicPartition]int64{}
	for tp, o := range c.checkpoints[dir] {
		if _, ok := live[tp]; ok {
			out[tp] = o
		}
	}
	c.mu.Unlock()
	return WriteOffsetCheckpoint(filepath.Join(dir, CleanerCheckpointFile), out)
}

func (c *Cleaner) setCheckpoint(dir string, tp TopicPartition, offset int64) error {
	c.mu.Lock()
	if c.checkpoints[dir] == nil {
		c.checkpoints[dir] = map[TopicPartition]int64{}
	}
	c.checkpoints[dir][tp] = offset
	c.mu.Unlock()
	return c.writeCheckpoint(dir)
}

// toClean is Kafka's LogToClean.
type toClean struct {
	tp               TopicPartition
	log              *Log
	dir              string
	snap             logSnap
	firstDirty       int64
	firstUncleanable int64 // base of the first segment that may not be cleaned
	cleanBytes       int64
	cleanableBytes   int64
	delayMs          int64 // how long past max.compaction.lag.ms its oldest dirty record is; > 0: clean it now
	aborted          *atomic.Bool
}

func (t *toClean) ratio() float64 {
	return float64(t.cleanableBytes) / float64(t.cleanBytes+t.cleanableBytes)
}

// segsIn is Log.logSegments(from, to): the segment holding from and the later ones whose base is below to.
func (sn *logSnap) segsIn(from, to int64) []segSnap {
	if from >= to {
		return nil
	}
	i := 0
	for j, s := range sn.segs {
		if s.base <= from {
			i = j
		}
	}
	var out []segSnap
	for _, s := range sn.segs[i:] {
		if s.base >= to {
			break
		}
		out = append(out, s)
	}
	return out
}

func (sn *logSnap) active() segSnap { return sn.segs[len(sn.segs)-1] }

// nonActiveFrom is Log.nonActiveLogSegmentsFrom.
func (sn *logSnap) nonActiveFrom(from int64) []segSnap { return sn.segsIn(from, sn.active().base) }

// CleanOnce cleans the filthiest log if one qualifies (one iteration of a cleaner thread, the first one's for
// the gauges); it reports whether a log was cleaned.
func (c *Cleaner) CleanOnce() (bool, error) { return c.cleanOnce(0) }

// cleanOnce is one iteration of cleaner thread th.
func (c *Cleaner) cleanOnce(th int) (bool, error) {
	t, delayMs, err := c.grabFilthiest()
	if err != nil || t == nil {
		return false, err
	}
	// Kafka's thread keeps the PreCleanStats of the choice that gave it a log, whatever becomes of the cleaning.
	c.mu.Lock()
	c.threads[th].MaxCompactionDelayMs = delayMs
	c.mu.Unlock()
	defer c.doneCleaning(t.tp)
	end, run, err := c.clean(t)
	switch {
	case errors.Is(err, errCleaningAborted), errors.Is(err, errClosed):
		c.logger.Info("cleaning aborted", "partition", t.tp.String())
		return false, nil
	case err != nil:
		// Kafka marks the partition uncleanable and moves on to the others.
		c.mu.Lock()
		c.uncleanable[t.tp] = t.dir
		c.mu.Unlock()
		return false, fmt.Errorf("clean %s: %w", t.tp, err)
	}
	c.mu.Lock()
	c.threads[th].Last = run // recordStats: only a completed cleaning replaces the last one's
	c.mu.Unlock()
	if err := c.setCheckpoint(t.dir, t.tp, end); err != nil {
		return true, err
	}
	return true, nil
}

func (c *Cleaner) doneCleaning(tp TopicPartition) {
	c.mu.Lock()
	delete(c.inProgress, tp)
	c.cond.Broadcast()
	c.mu.Unlock()
}

// grabFilthiest is LogCleanerManager.grabFilthiestCompactedLog: among the compacted logs not being cleaned, the
// one with the highest dirty ratio above min.cleanable.dirty.ratio (or any dirty bytes once
// max.compaction.lag.ms has passed). Ties go to the first partition by name so the choice is deterministic. It
// also returns the largest compaction delay among the logs it looked at (PreCleanStats) and, for the gauges,
// notes the time of the look and the highest dirty ratio it saw, qualifying or not.
func (c *Cleaner) grabFilthiest() (*toClean, int64, error) {
	now := c.m.now().UnixMilli()
	c.mu.Lock()
	c.lastRunMs = now
	c.mu.Unlock()
	all := c.m.All()
	tps := make([]TopicPartition, 0, len(all))
	for tp := range all {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var best *toClean
	var maxDelay int64
	maxDirty := 0.0
	for _, tp := range tps {
		l := all[tp]
		if cfg := l.Config(); !cfg.isCompacted() {
			continue
		}
		c.mu.Lock()
		_, bad := c.uncleanable[tp]
		skip := c.closed || c.inProgress[tp] != nil || bad
		c.mu.Unlock()
		if skip {
			continue
		}
		dir, ok := c.m.dirOf(tp)
		if !ok || c.m.moving(tp) {
			continue // paused while the partition moves between log dirs (abortAndPauseCleaning)
		}
		sn, err := l.cleanerSnapshot(true)
		if err != nil {
			continue // closed or deleted meanwhile
		}
		t, err := c.offsetsToClean(tp, l, dir, sn, now)
		if err != nil {
			return nil, 0, err
		}
		maxDelay = max(maxDelay, t.delayMs)
		if t.cleanBytes+t.cleanableBytes == 0 {
			continue
		}
		maxDirty = max(maxDirty, t.ratio())
		if !(t.delayMs > 0 && t.cleanableBytes > 0) && !(t.ratio() > sn.cfg.MinCleanableDirtyRatio) {
			continue
		}
		if best == nil || t.ratio() > best.ratio() {
			best = t
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.maxDirty = maxDirty
	if best == nil || c.closed || c.inProgress[best.tp] != nil {
		return nil, 0, nil
	}
	best.aborted = &atomic.Bool{}
	c.inProgress[best.tp] = best.aborted
	return best, maxDelay, nil
}

// offsetsToClean is cleanableOffsets with the checkpoint changes that go with it: moved back below a truncation
// (maybeTruncateCheckpoint), reset to the log start when outside the log.
func (c *Cleaner) offsetsToClean(tp TopicPartition, l *Log, dir string, sn logSnap, now int64) (*toClean, error) {
	cp, hasCp := c.checkpoint(dir, tp)
	if hasCp && sn.truncated && cp > sn.truncTo {
		// LogCleanerManager.maybeTruncateCheckpoint: the cleaned range may not reach past a truncation.
		cp = sn.truncTo
		if err := c.setCheckpoint(dir, tp, cp); err != nil {
			return nil, err
		}
	}
	t, reset := cleanableOffsets(tp, l, dir, sn, cp, hasCp, now)
	if reset {
		if !sn.cfg.isDelete() || cp > sn.logEnd {
			c.logger.Warn("resetting first dirty offset to the log start offset", "partition", tp.String(),
				"checkpoint", cp, "log_start", sn.logStart, "log_end", sn.logEnd)
		}
		if err := c.setCheckpoint(dir, tp, t.firstDirty); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// checkpoint is tp's first dirty offset in dir's cleaner checkpoint.
func (c *Cleaner) checkpoint(dir string, tp TopicPartition) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp, ok := c.checkpoints[dir][tp]
	return cp, ok
}

// cleanableOffsets is LogCleanerManager.cleanableOffsets with the sizes of LogToClean, computed from the snapshot
// and checkpoint cp (if hasCp) without writing anything; reset reports a checkpoint outside the log, which the
// caller is to move to the log start.
func cleanableOffsets(tp TopicPartition, l *Log, dir string, sn logSnap, cp int64, hasCp bool, now int64) (t *toClean, reset bool) {
	firstDirty := sn.logStart
	if hasCp {
		firstDirty = cp
	}
	if firstDirty < sn.logStart || firstDirty > sn.logEnd {
		firstDirty, reset = sn.logStart, true
	}
	uncleanable := sn.active().base
	if sn.firstUnstable >= 0 {
		// A transaction not yet decided may still abort: its records must not supersede older ones.
		uncleanable = min(uncleanable, sn.firstUnstable)
	}
	if lag := max(sn.cfg.MinCompactionLagMs, 0); lag > 0 {
		for _, s := range sn.nonActiveFrom(firstDirty) {
			if s.largestTs > now-lag {
				uncleanable = min(uncleanable, s.base)
				break
			}
		}
	}
	uncleanable = max(uncleanable, firstDirty)

	t = &toClean{tp: tp, log: l, dir: dir, snap: sn, firstDirty: firstDirty, delayMs: sn.compactionDelay(firstDirty, now)}
	// calculateCleanableBytes: the cleanable range ends at the start of the segment holding uncleanable.
	t.firstUncleanable = sn.active().base
	if segs := sn.nonActiveFrom(uncleanable); len(segs) > 0 {
		t.firstUncleanable = segs[0].base
	}
	for _, s := range sn.segsIn(-1, firstDirty) {
		if s.base < firstDirty {
			t.cleanBytes += s.size
		}
	}
	for _, s := range sn.segsIn(min(firstDirty, t.firstUncleanable), t.firstUncleanable) {
		t.cleanableBytes += s.size
	}
	return t, reset
}

// compactionDelay is LogCleanerManager.maxCompactionDelay: how long ago max.compaction.lag.ms passed for the
// earliest first batch of the dirty inactive segments, 0 when it has not (or the lag is unset, Long.MAX_VALUE).
func (sn *logSnap) compactionDelay(firstDirty, now int64) int64 {
	maxLag := sn.cfg.MaxCompactionLagMs
	if maxLag <= 0 {
		return 0
	}
	earliest := int64(math.MaxInt64)
	for _, s := range sn.nonActiveFrom(firstDirty) {
		if s.firstTs > 0 {
			earliest = min(earliest, s.firstTs)
		}
	}
	if until := now - maxLag; earliest < until {
		return until - earliest
	}
	return 0
}

// offsetMap is Kafka's SkimpyOffsetMap: key hash -> last offset, with the same capacity limit.
type offsetMap struct {
	m       map[[md5.Size]byte]int64
	maxKeys int
	latest  int64
}

func (om *offsetMap) get(key []byte) int64 {
	if o, ok := om.m[md5.Sum(key)]; ok {
		return o
	}
	return -1
}

// txnMeta is Kafka's CleanedTransactionMetadata: the cleaner walks the log in order and tells the batches of
// aborted transactions apart (their keys never enter the offset map; cleaning removes them), and which markers
// may go: an abort marker stays, with its transaction index entry, while the cleaning that meets it removed data
// of its transaction, and may go (past the tombstone horizon) once a cleaning finds none; a commit marker may go
// when a cleaning meets none of its transaction's batches.
type txnMeta struct {
	committed map[int64]bool          // producers with committed transactional batches seen since their last marker
	pending   []abortedTxn            // aborted transactions not yet reached, by first offset
	aborted   map[int64]*ongoingAbort // producers inside an aborted transaction
	seen      map[[2]int64]bool
}

// ongoingAbort is an aborted transaction the walk is inside (AbortedTransactionMetadata).
type ongoingAbort struct {
	txn      abortedTxn
	observed bool // a batch of it was met (lastObservedBatchOffset)
}

func newTxnMeta() *txnMeta {
	return &txnMeta{committed: map[int64]bool{}, aborted: map[int64]*ongoingAbort{}, seen: map[[2]int64]bool{}}
}

// addAborted adds aborted transactions from the transaction indexes (an entry may come twice).
func (tm *txnMeta) addAborted(es []abortedTxn) {
	for _, e := range es {
		if k := [2]int64{e.producerID, e.firstOffset}; !tm.seen[k] {
			tm.seen[k] = true
			tm.pending = append(tm.pending, e)
		}
	}
	slices.SortStableFunc(tm.pending, func(a, b abortedTxn) int { return cmp.Compare(a.firstOffset, b.firstOffset) })
}

// reach starts the aborted transactions that begin at or before offset (consumeAbortedTxnsUpTo).
func (tm *txnMeta) reach(offset int64) {
	for len(tm.pending) > 0 && tm.pending[0].firstOffset <= offset {
		if e := tm.pending[0]; tm.aborted[e.producerID] == nil {
			tm.aborted[e.producerID] = &ongoingAbort{txn: e}
		}
		tm.pending = tm.pending[1:]
	}
}

// onBatch notes a data batch and reports whether it belongs to an aborted transaction.
func (tm *txnMeta) onBatch(b batch) bool {
	tm.reach(b.lastOffset())
	if !b.isTransactional() {
		return false
	}
	if a := tm.aborted[b.producerID()]; a != nil {
		a.observed = true
		return true
	}
	tm.committed[b.producerID()] = true
	return false
}

// onControl reports whether the marker may go once the tombstone horizon has passed it, and for an abort marker
// that stays because data of its transaction was met, the transaction index entry the cleaned segment keeps.
func (tm *txnMeta) onControl(b batch) (bool, *abortedTxn, error) {
	tm.reach(b.lastOffset())
	if b.v2Count() == 0 {
		return true, nil, nil // a marker emptied by an earlier cleaning
	}
	recs, err := b.records()
	if err != nil {
		return false, nil, err
	}
	if len(recs) == 0 || len(recs[0].Key) < 4 {
		return false, nil, nil
	}
	switch int16(binary.BigEndian.Uint16(recs[0].Key[2:])) {
	case controlTypeCommit: // removable when none of its transaction's batches was traversed
		had := tm.committed[b.producerID()]
		delete(tm.committed, b.producerID())
		return !had, nil, nil
	case controlTypeAbort:
		a := tm.aborted[b.producerID()]
		delete(tm.aborted, b.producerID())
		if a != nil && a.observed {
			return false, &a.txn, nil
		}
		return true, nil, nil
	}
	return false, nil, nil
}

// clean is Cleaner.clean/doClean: build the offset map over the dirty range, then rewrite every segment below
// its end in size-bounded groups. It returns the new first dirty offset and the cleaning's CleanerStats.
func (c *Cleaner) clean(t *toClean) (int64, CleanerRun, error) {
	started := c.m.now()
	sn := &t.snap
	deleteHorizon := int64(0)
	if segs := sn.segsIn(0, t.firstDirty); len(segs) > 0 {
		deleteHorizon = segs[len(segs)-1].mtimeMs - sn.cfg.DeleteRetentionMs
	}
	om := &offsetMap{m: map[[md5.Size]byte]int64{}, maxKeys: c.maxKeys, latest: -1}
	if err := c.buildOffsetMap(t, om); err != nil {
		return 0, CleanerRun{}, err
	}
	end := om.latest + 1
	if end <= t.firstDirty {
		return 0, CleanerRun{}, fmt.Errorf("offset map filled up before offset %d", t.firstDirty)
	}
	tm := newTxnMeta()
	var run CleanerRun
	for _, g := range groupSegmentsBySize(sn.segsIn(0, end), sn.cfg.SegmentBytes, int64(sn.cfg.MaxIndexSize), t.firstUncleanable) {
		w, err := c.cleanSegments(t, g, om, deleteHorizon, tm)
		if err != nil {
			return 0, CleanerRun{}, err
		}
		for _, s := range g {
			run.BytesRead += s.size
		}
		run.BytesWritten += w
	}
	run.BufferUtilization = float64(len(om.m)) / float64(c.slots)
	run.ElapsedMs = c.m.now().Sub(started).Milliseconds()
	c.logger.Info("cleaned log", "partition", t.tp.String(), "first_dirty", t.firstDirty, "end", end,
		"keys", len(om.m), "bytes_read", run.BytesRead, "bytes_written", run.BytesWritten,
		"delete_horizon_ms", deleteHorizon, "elapsed_ms", run.ElapsedMs)
	return end, run, nil
}

func (c *Cleaner) checkDone(t *toClean) error {
	if t.aborted.Load() {
		return errCleaningAborted
	}
	return nil
}

var errMapFull = errors.New("offset map full")

// buildOffsetMap is Cleaner.buildOffsetMap: the last offset of every key in [firstDirty, firstUncleanable),
// stopping early when the map reaches its capacity.
func (c *Cleaner) buildOffsetMap(t *toClean, om *offsetMap) error {
	start := t.firstDirty
	tm := newTxnMeta()
	aborted, err := t.snap.collectAbortedTxns(start, t.firstUncleanable)
	if err != nil {
		return err
	}
	tm.addAborted(aborted)
	for _, s := range t.snap.segsIn(start, t.firstUncleanable) {
		err := scanBatches(s.s.log, 0, s.size, false, func(_ int64, b batch) error {
			if err := c.checkDone(t); err != nil {
				return err
			}
			if b.lastOffset() < start {
				// Not counted: Kafka starts reading at the offset index's entry for start, at most an index
				// interval before it.
				return nil
			}
			c.throttler.MaybeThrottle(float64(len(b)))
			if b.isControl() {
				if _, _, err := tm.onControl(b); err != nil {
					return err
				}
			} else if !tm.onBatch(b) { // an aborted batch's keys must not supersede committed records
				recs, err := b.records()
				if err != nil {
					return err
				}
				for _, r := range recs {
					if r.Key != nil && r.Offset >= start {
						if len(om.m) >= om.maxKeys {
							return errMapFull
						}
						om.m[md5.Sum(r.Key)] = r.Offset
					}
				}
			}
			om.latest = max(om.latest, b.lastOffset())
			return nil
		})
		if errors.Is(err, errMapFull) {
			c.logger.Debug("offset map is full", "partition", t.tp.String(), "latest", om.latest)
			return nil
		}
		if err != nil {
			return fmt.Errorf("build offset map from segment %d: %w", s.base, err)
		}
	}
	return nil
}

// groupSegmentsBySize is Cleaner.groupSegmentsBySize: consecutive segments merge while the log and both indexes
// stay within their limits and the offsets fit one segment's 32-bit relative offsets.
func groupSegmentsBySize(segs []segSnap, maxSize, maxIndexSize, firstUncleanable int64) [][]segSnap {
	var groups [][]segSnap
	for len(segs) > 0 {
		g := []segSnap{segs[0]}
		logSize, oiSize, tiSize := segs[0].size, segs[0].oiBytes, segs[0].tiBytes
		segs = segs[1:]
		for len(segs) > 0 {
			h := segs[0]
			lastOffset := firstUncleanable - 1
			if len(segs) > 1 {
				lastOffset = segs[1].base - 1
			}
			if logSize+h.size > maxSize || oiSize+h.oiBytes > maxIndexSize || tiSize+h.tiBytes > maxIndexSize ||
				(h.size != 0 && lastOffset-g[0].base > math.MaxInt32) {
				break
			}
			g = append(g, h)
			logSize += h.size
			oiSize += h.oiBytes
			tiSize += h.tiBytes
			segs = segs[1:]
		}
		groups = append(groups, g)
	}
	return groups
}

// cleanSegments is Cleaner.cleanSegments: copy what survives of a group into <base>.log.cleaned, then swap it in.
// It returns the bytes written.
func (c *Cleaner) cleanSegments(t *toClean, g []segSnap, om *offsetMap, deleteHorizon int64, tm *txnMeta) (int64, error) {
	l := t.log
	dest, err := createCleanedSegment(l.dir, g[0].base, &t.snap.cfg)
	if err != nil {
		return 0, err
	}
	swapped := false
	defer func() {
		if !swapped {
			discardCleaned(dest)
		}
	}()
	for i, s := range g {
		retainDeletes := s.mtimeMs > deleteHorizon
		upper := t.snap.logEnd
		if i+1 < len(g) {
			upper = g[i+1].base
		} else if segs := t.snap.segsIn(s.base, math.MaxInt64); len(segs) > 1 {
			upper = segs[1].base
		}
		aborted, err := t.snap.collectAbortedTxns(s.base, upper)
		if err != nil {
			return 0, fmt.Errorf("clean segment %d into %d: %w", s.base, g[0].base, err)
		}
		tm.addAborted(aborted)
		err = scanBatches(s.s.log, 0, s.size, false, func(_ int64, b batch) error {
			if err := c.checkDone(t); err != nil {
				return err
			}
			c.throttler.MaybeThrottle(float64(len(b)))
			out, err := filterBatch(b, om, retainDeletes, t.snap.producers, tm, dest.txn.append)
			if err != nil || out == nil {
				return err
			}
			if err := dest.append(out.lastOffset(), out.maxTimestamp(), out.lastOffset(), out); err != nil {
				return err
			}
			c.throttler.MaybeThrottle(float64(len(out)))
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("clean segment %d into %d: %w", s.base, g[0].base, err)
		}
	}
	if err := dest.onBecomeInactive(); err != nil {
		return 0, err
	}
	dest.dirty = true
	start := time.Now()
	if err := dest.flush(); err != nil {
		return 0, err
	}
	l.flushStats.observe(start) // Kafka's cleaner flushes the cleaned segment through LogSegment.flush, timed
	// The cleaned segment keeps the last source segment's modification time: the tombstone horizon uses it.
	mt := time.UnixMilli(g[len(g)-1].mtimeMs)
	if err := os.Chtimes(segmentFile(l.dir, g[0].base, logSuffix+cleanedSuffix), mt, mt); err != nil {
		return 0, fmt.Errorf("set time of cleaned segment: %w", err)
	}
	fail := c.fail
	if fail == nil {
		fail = func(string) error { return nil }
	}
	if err := fail("cleaned"); err != nil {
		swapped = true // a simulated crash leaves the files
		return 0, err
	}
	if err := l.replaceSegments(dest, g, fail); err != nil {
		swapped = !errors.Is(err, errCleaningAborted)
		return 0, err
	}
	swapped = true
	return dest.size, nil
}

// filterBatch is MemoryRecords.filterTo with the cleaner's RecordFilter for one batch: nil when the batch goes,
// the original bytes when every record stays, else a rebuilt batch (same offsets, producer fields, epoch and
// codec) or, for the last batch of an active producer, an empty header. A batch of an aborted transaction goes
// whole; an abort marker kept for the data just removed has its transaction index entry written with index
// (Kafka's cleaned.txnIndex), the others' entries go with the data they described.
func filterBatch(b batch, om *offsetMap, retainDeletes bool, producers map[int64]lastRecord, tm *txnMeta,
	index func(abortedTxn) error) (batch, error) {
	var discard bool
	if b.isControl() {
		can, entry, err := tm.onControl(b)
		if err != nil {
			return nil, err
		}
		if entry != nil {
			if err := index(*entry); err != nil {
				return nil, err
			}
		}
		discard = can && !retainDeletes
	} else {
		discard = tm.onBatch(b)
	}
	retainEmpty := false
	if pid := b.producerID(); pid >= 0 {
		if lr, ok := producers[pid]; ok {
			if lr.dataOffset >= 0 {
				retainEmpty = b.lastOffset() == lr.dataOffset
			} else {
				retainEmpty = b.isControl() && b.producerEpoch() == lr.epoch
			}
		}
	}
	if discard && !retainEmpty {
		return nil, nil
	}
	recs, err := b.records()
	if err != nil {
		return nil, err
	}
	kept := recs[:0:0]
	for _, r := range recs {
		if !discard && retainRecord(om, retainDeletes, r) {
			kept = append(kept, r)
		}
	}
	switch {
	case len(kept) == len(recs) && len(kept) > 0:
		return slices.Clone(b), nil
	case len(kept) > 0 && b.magic() == 2:
		return rebuildV2(b, kept)
	case len(kept) > 0:
		return rebuildLegacy(b, kept)
	case retainEmpty && b.magic() == 2:
		return emptyV2(b)
	}
	return nil, nil
}

// retainRecord is Cleaner.shouldRetainRecord.
func retainRecord(om *offsetMap, retainDeletes bool, r Record) bool {
	if r.Offset > om.latest {
		return true
	}
	if r.Key == nil {
		return false // keyless records cannot stay in a compacted log
	}
	return r.Offset >= om.get(r.Key) && (r.Value != nil || retainDeletes)
}

func v2HeaderOf(b batch) v2Header {
	h := v2Header{BaseOffset: b.offsetField(), LeaderEpoch: b.leaderEpoch(), Codec: b.codec(), LogAppendTime: -1,
		Transactional: b.isTransactional(), Control: b.isControl(), ProducerID: b.producerID(),
		ProducerEpoch: b.producerEpoch(), BaseSequence: b.baseSequence(), LastOffsetDelta: b.v2LastOffsetDelta()}
	if b.timestampType() == timestampLogAppend {
		h.LogAppendTime = b.maxTimestamp()
	}
	return h
}

// rebuildV2 is MemoryRecords.buildRetainedRecordsInto for magic 2: the last offset delta is kept so the
// producer's last sequence survives.
func rebuildV2(b batch, kept []Record) (batch, error) {
	out, err := encodeV2(v2HeaderOf(b), kept)
	if err != nil {
		return nil, fmt.Errorf("rebuild batch at %d: %w", b.offsetField(), err)
	}
	return batch(out), nil
}

// emptyV2 is DefaultRecordBatch.writeEmptyHeader: the header alone, kept for the producer state it carries.
func emptyV2(b batch) (batch, error) {
	h := v2HeaderOf(b)
	h.Codec = CodecNone
	out, err := encodeV2(h, nil)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint64(out[35:], uint64(b.maxTimestamp()))
	batch(out).setV2CRC()
	return batch(out), nil
}

// rebuildLegacy writes the kept records of a compressed magic 0/1 wrapper as a new wrapper with the same codec
// (an uncompressed legacy entry holds one record, so it is either kept whole or dropped).
func rebuildLegacy(b batch, kept []Record) (batch, error) {
	w, err := parseLegacy(b)
	if err != nil {
		return nil, err
	}
	codec := w.attrs & attrCodecMask
	tsAttr := w.attrs & attrTimestampType
	first := kept[0].Offset
	var inner []byte
	maxTs := noTimestamp
	for _, r := range kept {
		off := r.Offset
		if w.magic == 1 {
			off -= first // magic 1 inner offsets are relative to the first one
		}
		inner = append(inner, encodeLegacy(w.magic, off, tsAttr, r.Timestamp, r.Key, r.Value)...)
		maxTs = max(maxTs, r.Timestamp)
	}
	if tsAttr != 0 {
		maxTs = w.timestamp
	}
	z, err := legacyCompress(w.magic, codec, inner)
	if err != nil {
		return nil, fmt.Errorf("rebuild legacy wrapper at %d: %w", w.offset, err)
	}
	return batch(encodeLegacy(w.magic, kept[len(kept)-1].Offset, codec|tsAttr, maxTs, nil, z)), nil
}

// IoMaxBytesPerSecond is the rate the cleaner's throttler holds it to: the one it started with, as in Kafka 2.8,
// whose LogCleaner.reconfigure restarts the threads around the same Throttler (the rate of a dynamic
// log.cleaner.io.max.bytes.per.second is taken only at the next start; Kafka 3.3 updates it live).
func (c *Cleaner) IoMaxBytesPerSecond() float64 { return c.throttler.Rate() }

// Cleaner returns the log cleaner, nil when log.cleaner.enable is false.
func (m *Manager) Cleaner() *Cleaner {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cleaner
}

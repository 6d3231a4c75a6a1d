package log

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AppendInfo describes one append, as Kafka's LogAppendInfo.
type AppendInfo struct {
	FirstOffset          int64
	LastOffset           int64
	MaxTimestamp         int64
	OffsetOfMaxTimestamp int64
	LogAppendTime        int64 // -1 unless message.timestamp.type=LogAppendTime
	LogStartOffset       int64
	NumMessages          int
	ValidBytes           int
	Converted            bool // the records were rewritten into the log's message format (up- or down-converted)
	Conversion           Conversion
}

// ReadResult is what Fetch needs from one partition.
type ReadResult struct {
	Records          []byte // whole batches exactly as stored (but see FirstBatchTooLarge); ReadSlice's may end with a partial one
	HighWatermark    int64
	LogStartOffset   int64
	LastStableOffset int64
	LogEndOffset     int64
	// FirstBatchTooLarge is set when the first batch exceeds maxBytes and minOneMessage was false. Records then
	// hold the first maxBytes bytes of that batch, as Kafka's LogSegment.read slices them (firstEntryIncomplete):
	// Fetch v0-v2 send them so that an old consumer sees a message larger than its fetch size; later versions
	// drop them.
	FirstBatchTooLarge bool
	// DownConversionDisabled is the log's message.downconversion.enable=false.
	DownConversionDisabled bool
	// AbortedTxns are, for a read_committed read, the aborted transactions overlapping the records read (empty, not
	// nil, when there are none); nil for other reads, and where Kafka sends none (no segment held the offset).
	AbortedTxns []AbortedTxn
}

// LoadState is what the log manager knows about a partition from its checkpoint files.
type LoadState struct {
	RecoveryPoint  int64 // offsets below it are flushed: recovery starts at its segment
	LogStartOffset int64
	HighWatermark  int64
	CleanShutdown  bool // .kafka_cleanshutdown was present: skip recovery
}

// Log is one partition's log, in directory <log.dir>/<topic>-<partition>.
type Log struct {
	mu     sync.RWMutex
	dir    string
	tp     TopicPartition
	cfg    Config
	now    func() time.Time
	logger *slog.Logger

	segs          []*segment // ascending base offsets; the last is active
	next          int64      // log end offset
	logStart      int64
	hw            int64
	recoveryPoint int64
	epochs        *epochCache
	topicID       [16]byte
	pstate        *producerStateManager // idempotent producers' last batches and their snapshots
	unflushed     int64
	lastFlushMs   int64
	closed        bool
	// Lowest truncation since the cleaner last looked (it moves its checkpoint back, see cleaner_log.go).
	cleanerTruncated   bool
	cleanerTruncatedTo int64

	hintMu sync.Mutex // readers share l.mu's read lock
	hint   readHint

	bgFlush     sync.WaitGroup // fsyncs of rolled segments (Kafka schedules them after a roll)
	flushStats  *FlushStats    // the manager's; nil for a log opened alone
	truncations uint64         // counts truncations: a background flush that saw one does not move the recovery point
}

// ParseTopicPartitionDir splits "<topic>-<partition>" as Kafka's Log.parseTopicPartitionName does.
func ParseTopicPartitionDir(name string) (TopicPartition, error) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || i == len(name)-1 {
		return TopicPartition{}, fmt.Errorf("%q is not a topic-partition directory", name)
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 {
		return TopicPartition{}, fmt.Errorf("%q is not a topic-partition directory", name)
	}
	return TopicPartition{name[:i], int32(p)}, nil
}

// Open loads (or creates) the log in dir, recovering every segment: the data is scanned, the log is cut
// at the first invalid batch and indexes are rebuilt.
func Open(dir string, cfg Config, now func() time.Time, logger *slog.Logger) (*Log, error) {
	return OpenWithState(dir, cfg, now, logger, LoadState{})
}

// OpenWithState loads the log with the checkpointed state the log manager read.
func OpenWithState(dir string, cfg Config, now func() time.Time, logger *slog.Logger, st LoadState) (*Log, error) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	tp, err := parseLogDirName(filepath.Base(dir))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	l := &Log{dir: dir, tp: tp, cfg: cfg.normalized(), now: now, logger: logger.With("partition", tp.String()),
		logStart: max(st.LogStartOffset, 0), lastFlushMs: now().UnixMilli()}
	if err := l.load(st); err != nil {
		l.closeSegments()
		return nil, fmt.Errorf("load log %s: %w", dir, err)
	}
	return l, nil
}

func (l *Log) nowMs() int64 { return l.now().UnixMilli() }

func (l *Log) jitter() int64 {
	if l.cfg.SegmentJitterMs <= 0 {
		return 0
	}
	return rand.Int64N(min(l.cfg.SegmentJitterMs, l.cfg.SegmentMs))
}

func parseBase(name, suffix string) (int64, bool) {
	if !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	b, err := strconv.ParseInt(strings.TrimSuffix(name, suffix), 10, 64)
	return b, err == nil && b >= 0
}

func (l *Log) load(st LoadState) error {
	var err error
	if l.epochs, err = loadEpochCache(l.dir); err != nil {
		return err
	}
	if err := l.epochs.setEnabled(l.cfg.RecordVersion() >= 2); err != nil {
		return err
	}
	if l.pstate, err = newProducerStateManager(l.dir, l.tp, DefaultProducerIDExpirationMs, l.logger); err != nil {
		return err
	}
	if id, ok, err := readPartitionMetadata(l.dir); err != nil {
		l.logger.Warn("ignoring partition.metadata", "err", err)
	} else if ok {
		l.topicID = id
	}
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	// First pass: leftovers of interrupted deletes, cleanings and writes.
	var swaps []string
	minCleaned := int64(math.MaxInt64)
	for _, e := range entries {
		n := e.Name()
		switch {
		case strings.HasSuffix(n, deletedSuffix), strings.HasSuffix(n, cleanedSuffix), strings.HasSuffix(n, ".tmp"):
			if b, ok := parseBase(strings.TrimSuffix(n, cleanedSuffix), logSuffix); ok && strings.HasSuffix(n, cleanedSuffix) {
				minCleaned = min(minCleaned, b)
			}
			if err := os.Remove(filepath.Join(l.dir, n)); err != nil {
				return fmt.Errorf("remove %s: %w", n, err)
			}
		case strings.HasSuffix(n, logSuffix+swapSuffix):
			swaps = append(swaps, n)
		case strings.HasSuffix(n, swapSuffix):
			_ = os.Remove(filepath.Join(l.dir, n)) // swapped indexes are rebuilt
		}
	}
	// KAFKA-6264: a .swap at or past the first .cleaned segment belongs to an unfinished split; drop it.
	swaps = slices.DeleteFunc(swaps, func(n string) bool {
		b, ok := parseBase(strings.TrimSuffix(n, swapSuffix), logSuffix)
		if ok && b >= minCleaned {
			_ = os.Remove(filepath.Join(l.dir, n))
			return true
		}
		return false
	})
	if err := l.completeSwaps(swaps); err != nil {
		return err
	}
	if entries, err = os.ReadDir(l.dir); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	logs := map[int64]bool{}
	for _, e := range entries {
		if b, ok := parseBase(e.Name(), logSuffix); ok {
			logs[b] = true
		}
	}
	for _, e := range entries {
		n := e.Name()
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			if b, ok := parseBase(n, suf); ok && !logs[b] {
				l.logger.Info("removing orphaned index file", "file", n)
				_ = os.Remove(filepath.Join(l.dir, n))
			}
		}
	}
	bases := make([]int64, 0, len(logs))
	for b := range logs {
		bases = append(bases, b)
	}
	slices.Sort(bases)
	nowMs := l.nowMs()
	for _, b := range bases {
		_, statErr := os.Stat(segmentFile(l.dir, b, indexSuffix))
		s, err := openSegment(l.dir, b, &l.cfg, nowMs, l.jitter())
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
		if statErr != nil || !s.oi.sane(s.size) || !s.ti.sane(math.MaxInt64) || !s.txn.sane() {
			l.logger.Info("rebuilding index", "segment", b)
			if _, err := l.recoverSegment(s, nil); err != nil {
				return err
			}
		}
	}
	if !st.CleanShutdown {
		if err := l.recoverFrom(st.RecoveryPoint); err != nil {
			return err
		}
	}
	if len(l.segs) == 0 {
		s, err := createSegment(l.dir, l.logStart, &l.cfg, nowMs, l.jitter())
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	if l.next, err = l.active().nextOffset(); err != nil {
		return err
	}
	if l.next < l.logStart {
		// Everything was deleted past the checkpointed start (Kafka: truncateFullyAndStartAt).
		if err := l.truncateFullyAndStartAt(l.logStart); err != nil {
			return err
		}
	}
	l.logStart = max(l.logStart, l.segs[0].base)
	if err := l.epochs.truncateFromEnd(l.next); err != nil {
		return err
	}
	if err := l.epochs.truncateFromStart(l.logStart); err != nil {
		return err
	}
	l.recoveryPoint = min(max(st.RecoveryPoint, 0), l.next)
	if st.CleanShutdown {
		l.recoveryPoint = l.next
	}
	segBases := make([]int64, len(l.segs))
	for i, s := range l.segs {
		segBases[i] = s.base
	}
	if err := l.pstate.removeStraySnapshots(segBases); err != nil {
		return err
	}
	if err := l.rebuildProducerState(l.next, st.CleanShutdown); err != nil {
		return err
	}
	// The transactions the rebuild saw completed stop counting once below the checkpointed high watermark.
	l.setHWLocked(st.HighWatermark)
	return nil
}

// completeSwaps finishes a compaction swap that a crash interrupted: the .swap segment replaces the
// segments whose offsets it covers.
func (l *Log) completeSwaps(swaps []string) error {
	for _, n := range swaps {
		base, ok := parseBase(strings.TrimSuffix(n, swapSuffix), logSuffix)
		if !ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(l.dir, n))
		if err != nil {
			return fmt.Errorf("read %s: %w", n, err)
		}
		last := base
		for p := data; len(p) > 0; {
			b, err := nextBatch(p)
			if err != nil {
				break
			}
			last = b.lastOffset()
			p = p[len(b):]
		}
		entries, err := os.ReadDir(l.dir)
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		for _, e := range entries {
			if b, ok := parseBase(e.Name(), logSuffix); ok && b >= base && b <= last {
				for _, suf := range []string{logSuffix, indexSuffix, timeIndexSuffix, txnIndexSuffix} {
					_ = os.Remove(segmentFile(l.dir, b, suf))
				}
			}
		}
		// The indexes are rebuilt from the swapped-in data (the missing .index makes load recover the segment).
		for _, suf := range []string{indexSuffix, timeIndexSuffix, txnIndexSuffix} {
			_ = os.Remove(segmentFile(l.dir, base, suf))
		}
		if err := os.Rename(filepath.Join(l.dir, n), segmentFile(l.dir, base, logSuffix)); err != nil {
			return fmt.Errorf("complete swap %s: %w", n, err)
		}
	}
	return nil
}

// recoverFrom scans the segments holding offsets at or past the recovery point; after the first
// segment that had to be cut, later segments are unreachable garbage and go.
func (l *Log) recoverFrom(recoveryPoint int64) error {
	start := 0
	for i, s := range l.segs {
		if s.base <= recoveryPoint {
			start = i
		}
	}
	for i := start; i < len(l.segs); i++ {
		s := l.segs[i]
		cut, err := l.recoverSegment(s, l.epochs)
		if err != nil {
			return err
		}
		if cut > 0 {
			l.logger.Warn("truncated invalid bytes at the end of segment", "segment", s.base, "bytes", cut)
			for _, later := range l.segs[i+1:] {
				l.logger.Warn("deleting segment after a corrupt one", "segment", later.base)
				if err := later.remove(); err != nil {
					return err
				}
			}
			l.segs = l.segs[:i+1]
			break
		}
	}
	return nil
}

// recoverSegment is Log.recoverSegment: the producer state at the segment's base, rebuilt into a scratch manager
// from the snapshots and the segments before it, replays the segment's batches while it is recovered (which
// rebuilds its transaction index); a snapshot at its end spares the next segment's recovery the same replay.
func (l *Log) recoverSegment(s *segment, epochs *epochCache) (int64, error) {
	ps, err := newProducerStateManager(l.dir, l.tp, l.pstate.expiryMs, l.logger)
	if err != nil {
		return 0, err
	}
	if err := l.rebuildProducerStateInto(ps, s.base, false); err != nil {
		return 0, err
	}
	cut, err := s.recover(epochs, ps)
	if err != nil {
		return 0, err
	}
	return cut, ps.takeSnapshot()
}

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// Dir is the partition directory.
func (l *Log) Dir() string { return l.dir }

// TopicPartition names the partition this log holds.
func (l *Log) TopicPartition() TopicPartition { return l.tp }

// Config returns the log's effective configuration.
func (l *Log) Config() Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

// SetConfig applies a topic config change (new segments and checks use it).
func (l *Log) SetConfig(cfg Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.cfg.RecordVersion()
	l.cfg = cfg.normalized()
	if v := l.cfg.RecordVersion(); v != old {
		// Log.updateConfig: a changed message format re-initialises the leader epoch cache (none below v2).
		if v < old {
			l.logger.Warn("message format downgraded: appends are converted to the older format",
				"from", old, "to", v)
		}
		if err := l.epochs.setEnabled(v >= 2); err != nil {
			l.logger.Warn("leader epoch cache", "err", err)
		}
	}
}

// TopicID returns the id stored in partition.metadata, ok=false when none.
func (l *Log) TopicID() ([16]byte, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.topicID, l.topicID != [16]byte{}
}

// SetTopicID records the topic id in partition.metadata (Kafka 2.8 writes it once the controller
// assigns one).
func (l *Log) SetTopicID(id [16]byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if id == ([16]byte{}) || id == l.topicID {
		return nil
	}
	if l.topicID != ([16]byte{}) {
		return fmt.Errorf("partition %s already has topic id %x, not %x", l.tp, l.topicID, id)
	}
	if err := writePartitionMetadata(l.dir, id); err != nil {
		return err
	}
	l.topicID = id
	return nil
}

// LogEndOffset is the offset the next record will get.
func (l *Log) LogEndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.next
}

// LogStartOffset is the first offset still readable.
func (l *Log) LogStartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.logStart
}

// HighWatermark is the last value set by the replica layer (clamped to the log).
func (l *Log) HighWatermark() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.hw
}

// Offsets is a read's result without records: the log's high watermark, start, last stable offset and end.
func (l *Log) Offsets() ReadResult {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.offsetsLocked()
}

func (l *Log) offsetsLocked() ReadResult {
	return ReadResult{HighWatermark: l.hw, LogStartOffset: l.logStart, LastStableOffset: l.lastStableLocked(),
		LogEndOffset: l.next, DownConversionDisabled: l.cfg.DownConversionDisabled}
}

// LastStableOffset is the offset below which every transaction is decided and replicated (Log.lastStableOffset):
// the first offset of the oldest ongoing transaction, or of a completed one whose marker is not yet below the
// high watermark, when that is below the high watermark; else the high watermark.
func (l *Log) LastStableOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.lastStableLocked()
}

func (l *Log) lastStableLocked() int64 {
	if first, ok := l.pstate.firstUnstableOffset(); ok {
		// A transaction may begin below the log start (DeleteRecords, retention): the log start is its first
		// readable offset (maybeIncrementFirstUnstableOffset).
		if first = max(first, l.logStart); first < l.hw {
			return first
		}
	}
	return l.hw
}

// SetHighWatermark stores hw clamped to [log start, log end].
func (l *Log) SetHighWatermark(hw int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setHWLocked(hw)
}

// setHWLocked is every change of the high watermark (updateHighWatermarkMetadata): the transactions completed below
// it stop holding the last stable offset back.
func (l *Log) setHWLocked(hw int64) {
	l.hw = min(max(hw, l.logStart), l.next)
	l.pstate.onHighWatermarkUpdated(l.hw)
}

// RecoveryPoint is the offset below which everything is flushed.
func (l *Log) RecoveryPoint() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.recoveryPoint
}

// FirstSegmentBase is the base offset of the oldest segment.
func (l *Log) FirstSegmentBase() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.segs[0].base
}

// Size is the total bytes of all segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.sizeLocked()
}

func (l *Log) sizeLocked() int64 {
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// NumSegments counts the segments.
func (l *Log) NumSegments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}

// Gauges are the values of Kafka's per-log gauges (kafka.log:type=Log): Size, NumLogSegments, LogStartOffset and
// LogEndOffset.
type Gauges struct {
	Size           int64 // bytes of all segments
	NumSegments    int
	LogStartOffset int64
	LogEndOffset   int64
}

// Gauges reads the log's gauges under one lock, so that they agree; ok is false once the log is closed (deleted
// or shut down), whose gauges Kafka removes.
func (l *Log) Gauges() (Gauges, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return Gauges{}, false
	}
	return Gauges{Size: l.sizeLocked(), NumSegments: len(l.segs), LogStartOffset: l.logStart, LogEndOffset: l.next}, true
}

var errClosed = errors.New("log is closed")

// AppendAsLeader validates a produce request's records (CRC, sizes, counts, keys on compacted topics,
// timestamps), assigns offsets in place, stamps the leader epoch and appends. Magic 0/1 message sets
// are up-converted to one v2 batch first, as Kafka 2.8 does.
func (l *Log) AppendAsLeader(records []byte, leaderEpoch int32) (AppendInfo, error) {
	return l.AppendAsLeaderWith(records, leaderEpoch, nil)
}

// AppendAsLeaderWith is AppendAsLeader with the buffer of up-converted records taken from alloc; the log does not
// keep it after returning.
func (l *Log) AppendAsLeaderWith(records []byte, leaderEpoch int32, alloc Alloc) (AppendInfo, error) {
	return l.appendAsLeader(records, leaderEpoch, alloc, originClient)
}

// AppendAsCoordinator is AppendAsLeader for the group and transaction coordinators' own records
// (AppendOrigin.Coordinator): a producer's batches get the epoch check but no sequence checks and no duplicate
// detection (a TxnOffsetCommit's transactional batches all carry sequence 0). The records are validated as a
// client's; the coordinators write nothing a client could not.
func (l *Log) AppendAsCoordinator(records []byte, leaderEpoch int32) (AppendInfo, error) {
	return l.appendAsLeader(records, leaderEpoch, nil, originCoordinator)
}

func (l *Log) appendAsLeader(records []byte, leaderEpoch int32, alloc Alloc, origin appendOrigin) (AppendInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return AppendInfo{}, errClosed
	}
	if records = wholeBatches(records); len(records) == 0 {
		// Nothing whole to append: Kafka answers with no offsets and writes nothing.
		return AppendInfo{FirstOffset: -1, LastOffset: -1, MaxTimestamp: noTimestamp, OffsetOfMaxTimestamp: -1,
			LogAppendTime: -1, LogStartOffset: l.logStart}, nil
	}
	nowMs := l.nowMs()
	start := time.Now()
	v, err := validateLeader(records, l.next, leaderEpoch, &l.cfg, nowMs, alloc)
	if err != nil {
		return AppendInfo{}, fmt.Errorf("append to %s: %w", l.tp, err)
	}
	if v.conversion.Records > 0 {
		v.conversion.Time = time.Since(start)
	}
	info := AppendInfo{FirstOffset: v.firstOffset, LastOffset: v.lastOffset, MaxTimestamp: v.maxTimestamp,
		OffsetOfMaxTimestamp: v.offsetOfMaxTs, LogAppendTime: v.logAppendTime, NumMessages: v.numMessages,
		ValidBytes: len(v.records), Converted: v.converted, Conversion: v.conversion}
	producers, dup, err := l.analyzeProducers(v.batches, origin)
	if err != nil {
		return AppendInfo{}, err
	}
	if dup != nil {
		// A retried batch: nothing is written and the producer learns the offsets of the first copy (Kafka also
		// reports the batch's timestamp as the log append time).
		info.FirstOffset, info.LastOffset, info.LogAppendTime = dup.firstOffset(), dup.lastOffset, dup.timestamp
		info.LogStartOffset = l.logStart
		return info, nil
	}
	if err := l.appendValidated(v.records, v.batches, info.FirstOffset, info.LastOffset, info.MaxTimestamp, info.OffsetOfMaxTimestamp, int64(info.NumMessages), nowMs); err != nil {
		return AppendInfo{}, err
	}
	if err := l.applyProducers(producers, info.LastOffset); err != nil {
		return AppendInfo{}, err
	}
	info.LogStartOffset = l.logStart
	return info, nil
}

// AppendAsFollower appends batches fetched from the leader; offsets and epochs are already set and
// the bytes are written unchanged. A partial batch at the end, which a leader may send (Kafka's cuts a fetch at
// its byte limit), is left for the next fetch, as Kafka's batch iterator stops before it.
func (l *Log) AppendAsFollower(records []byte) (AppendInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return AppendInfo{}, errClosed
	}
	batches, n, err := splitWholeBatches(records)
	records = records[:n]
	if err != nil {
		return AppendInfo{}, fmt.Errorf("follower append to %s: %w: %w", l.tp, ErrCorrupt, err)
	}
	if len(batches) == 0 {
		return AppendInfo{FirstOffset: -1, LastOffset: l.next - 1, MaxTimestamp: noTimestamp, LogAppendTime: -1, LogStartOffset: l.logStart}, nil
	}
	info := AppendInfo{FirstOffset: -1, MaxTimestamp: noTimestamp, LogAppendTime: -1, ValidBytes: len(records)}
	prev := l.next - 1
	for i, b := range batches {
		if err := b.validate(); err != nil {
			return AppendInfo{}, fmt.Errorf("follower append to %s: %w", l.tp, err)
		}
		first, err := b.baseOffset()
		if err != nil {
			return AppendInfo{}, fmt.Errorf("follower append to %s: %w", l.tp, err)
		}
		if i == 0 {
			info.FirstOffset = first
			if first < l.next {
				return AppendInfo{}, fmt.Errorf("follower append to %s: first offset %d below log end %d: %w", l.tp, first, l.next, ErrUnexpectedAppendOffset)
			}
		}
		if first <= prev || b.lastOffset() < first {
			return AppendInfo{}, fmt.Errorf("follower append to %s: offsets not increasing at %d: %w", l.tp, first, ErrInvalidRecord)
		}
		prev = b.lastOffset()
		if ts := b.maxTimestamp(); ts > info.MaxTimestamp {
			info.MaxTimestamp, info.OffsetOfMaxTimestamp = ts, b.lastOffset()
		}
		if b.magic() == 2 {
			info.NumMessages += int(b.v2Count())
		} else {
			info.NumMessages++
		}
	}
	info.LastOffset = prev
	producers, _, err := l.analyzeProducers(batches, originReplication)
	if err != nil {
		return AppendInfo{}, err
	}
	if err := l.appendValidated(records, batches, info.FirstOffset, info.LastOffset, info.MaxTimestamp, info.OffsetOfMaxTimestamp, int64(info.NumMessages), l.nowMs()); err != nil {
		return AppendInfo{}, err
	}
	if err := l.applyProducers(producers, info.LastOffset); err != nil {
		return AppendInfo{}, err
	}
	info.LogStartOffset = l.logStart
	return info, nil
}

func (l *Log) appendValidated(data []byte, batches []batch, first, last, maxTs, offMaxTs, n int64, nowMs int64) error {
	if err := l.maybeRoll(int64(len(data)), maxTs, first, last, nowMs); err != nil {
		return err
	}
	if err := l.active().append(last, maxTs, offMaxTs, data); err != nil {
		return fmt.Errorf("append to %s: %w", l.tp, err)
	}
	for _, b := range batches {
		if b.magic() == 2 {
			if _, err := l.epochs.assign(b.leaderEpoch(), b.offsetField()); err != nil {
				return err
			}
		} else if len(l.epochs.entries) > 0 {
			// Kafka's Log.append: an old-format batch in a partial upgrade clears the cache, so the next leader
			// election falls back to truncation by high watermark.
			l.logger.Warn("clearing leader epoch cache after a message format regression", "offset", b.offsetField())
			if err := l.epochs.clear(); err != nil {
				return err
			}
		}
	}
	l.next = last + 1
	l.unflushed += n
	if l.unflushed >= l.cfg.FlushMessages {
		return l.flushLocked()
	}
	return nil
}

func (l *Log) maybeRoll(size, maxTs, first, last, nowMs int64) error {
	if !l.active().shouldRoll(&l.cfg, nowMs, maxTs, size, last) {
		return nil
	}
	return l.rollLocked(max(first, l.next))
}

// Roll starts a new active segment at the log end offset.
func (l *Log) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	return l.rollLocked(l.next)
}

func (l *Log) rollLocked(base int64) error {
	act := l.active()
	if act.base == base {
		if act.size == 0 {
			return nil // rolling an empty segment to the same offset is a no-op
		}
		return fmt.Errorf("roll %s: segment %d already exists", l.tp, base)
	}
	if base < act.base {
		return fmt.Errorf("roll %s: offset %d below active segment %d", l.tp, base, act.base)
	}
	if err := act.onBecomeInactive(); err != nil {
		return err
	}
	// A snapshot at the new segment's base lets recovery start from it (Log.roll).
	l.pstate.mapEnd = base
	if err := l.pstate.takeSnapshot(); err != nil {
		return err
	}
	s, err := createSegment(l.dir, base, &l.cfg, l.nowMs(), l.jitter())
	if err != nil {
		return err
	}
	if act.size == 0 {
		// An empty active segment is replaced (Kafka deletes it when rolling past it).
		if err := act.remove(); err != nil {
			return err
		}
		l.segs = l.segs[:len(l.segs)-1]
	}
	l.segs = append(l.segs, s)
	l.logger.Debug("rolled segment", "base", base)
	l.flushRolled(base)
	return nil
}

// flushRolled fsyncs the segments below base in the background and then moves the recovery point to base, as
// Kafka's Log.roll schedules flush-log: the fsync of up to a segment's worth of dirty pages must not hold up the
// appends waiting for this log's lock. Until it is done the recovery point stays where it was, which only means a
// longer recovery after a crash.
func (l *Log) flushRolled(base int64) {
	if base <= l.recoveryPoint {
		return
	}
	var segs []*segment
	for _, s := range l.segs {
		if s.base < base && s.dirty {
			segs = append(segs, s)
		}
	}
	gen := l.truncations
	l.bgFlush.Add(1)
	go func() {
		defer l.bgFlush.Done()
		var errs []error
		for _, s := range segs {
			start := time.Now()
			errs = append(errs, s.syncFiles())
			l.flushStats.observe(start)
		}
		err := errors.Join(errs...)
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case l.closed || l.truncations != gen || errors.Is(err, os.ErrClosed):
			return // closing flushes everything itself; a truncation may have cut below base; retention deleted one
		case err != nil:
			l.logger.Warn("flush after roll failed", "base", base, "err", err)
			return
		}
		for _, s := range segs {
			if s != l.active() {
				s.dirty = false
			}
		}
		l.recoveryPoint = max(l.recoveryPoint, min(base, l.next))
	}()
}

// Flush writes every unflushed segment to disk and moves the recovery point to the log end.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	return l.flushLocked()
}

func (l *Log) flushLocked() error {
	if err := l.flushTo(l.next); err != nil {
		return err
	}
	l.unflushed = 0
	l.lastFlushMs = l.nowMs()
	return nil
}

func (l *Log) flushTo(offset int64) error {
	if offset <= l.recoveryPoint {
		return nil
	}
	for i, s := range l.segs {
		// Kafka's Log.flush flushes the segments from the recovery point's to offset, each one timed for
		// LogFlushRateAndTimeMs whether it had anything unwritten or not.
		timed := s.base < offset && (i+1 == len(l.segs) || l.segs[i+1].base > l.recoveryPoint)
		if !timed && !s.dirty {
			continue
		}
		start := time.Now()
		if err := s.flush(); err != nil {
			return fmt.Errorf("flush %s: %w", l.tp, err)
		}
		if timed {
			l.flushStats.observe(start)
		}
	}
	l.recoveryPoint = offset
	return nil
}

// MaybeFlush flushes when flush.ms has passed since the last flush (LogManager's flush scheduler).
func (l *Log) MaybeFlush(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.recoveryPoint >= l.next || now.UnixMilli()-l.lastFlushMs < l.cfg.FlushMs {
		return nil
	}
	return l.flushLocked()
}

// Read returns whole batches starting with the one holding offset, up to maxBytes (at least one batch when
// minOneMessage, else maxBytes of an oversize first one: FirstBatchTooLarge), only batches that end below maxOffset
// (the high watermark for consumers, the log end for followers; <0 means the log end). Like Kafka, one call reads
// from one segment.
func (l *Log) Read(offset int64, maxBytes int32, maxOffset int64, minOneMessage bool) (ReadResult, error) {
	return l.ReadWith(offset, maxBytes, maxOffset, minOneMessage, nil)
}

// ReadWith is Read with the record buffer taken from alloc.
func (l *Log) ReadWith(offset int64, maxBytes int32, maxOffset int64, minOneMessage bool, alloc Alloc) (ReadResult, error) {
	return l.read(offset, maxBytes, maxOffset, false, minOneMessage, false, alloc)
}

// ReadCommitted is ReadWith for a read_committed consumer (Kafka's FetchTxnCommitted): batches below the last
// stable offset, and the aborted transactions that overlap them (ReadResult.AbortedTxns).
func (l *Log) ReadCommitted(offset int64, maxBytes int32, minOneMessage bool, alloc Alloc) (ReadResult, error) {
	return l.read(offset, maxBytes, -1, true, minOneMessage, false, alloc)
}

// ReadSlice is the read of a Fetch: ReadWith, or ReadCommitted when committed, whose records are Kafka's slice of
// the segment (LogSegment.read): the whole batches, then, when a batch below maxOffset crosses maxBytes, its first
// bytes up to maxBytes. Every client drops such a partial batch and fetches it again from its start.
func (l *Log) ReadSlice(offset int64, maxBytes int32, maxOffset int64, committed, minOneMessage bool, alloc Alloc) (ReadResult, error) {
	return l.read(offset, maxBytes, maxOffset, committed, minOneMessage, true, alloc)
}

func (l *Log) read(offset int64, maxBytes int32, maxOffset int64, committed, minOneMessage, slice bool, alloc Alloc) (ReadResult, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	res, maxOffset, empty, err := l.readBounds(offset, maxOffset, committed)
	if empty || err != nil {
		return res, err
	}
	i := l.segIndex(offset)
	for ; i < len(l.segs); i++ {
		s := l.segs[i]
		pos, found, err := l.position(s, offset)
		if err != nil {
			return res, fmt.Errorf("read %s: %w", l.tp, err)
		}
		if !found {
			continue
		}
		data, tooLarge, next, whole, err := s.readBatches(pos, maxBytes, maxOffset, minOneMessage, slice, alloc)
		if err != nil {
			return res, fmt.Errorf("read %s: %w", l.tp, err)
		}
		if committed {
			if res.AbortedTxns, err = l.abortedTxnsLocked(i, pos, offset, maxBytes, maxOffset, minOneMessage); err != nil {
				return res, err
			}
		}
		if len(data) > 0 {
			res.Records = data
			if !tooLarge { // a partial batch ends nowhere a read could resume
				l.setHint(readHint{seg: s, offset: next, pos: pos + whole})
			}
		}
		res.FirstBatchTooLarge = tooLarge
		return res, nil
	}
	return res, nil
}

// readBounds starts a read under l.mu: the result's offsets, the read's upper offset (maxOffset < 0 or past the
// end means the log end; the last stable offset when committed), and whether there is nothing to read.
func (l *Log) readBounds(offset, maxOffset int64, committed bool) (ReadResult, int64, bool, error) {
	res := l.offsetsLocked()
	if l.closed {
		return res, maxOffset, true, errClosed
	}
	if offset < l.logStart || offset > l.next {
		return res, maxOffset, true, fmt.Errorf("%s: fetch offset %d outside [%d, %d]: %w", l.tp, offset, l.logStart, l.next, ErrOffsetOutOfRange)
	}
	if committed {
		maxOffset = res.LastStableOffset
	}
	if maxOffset < 0 || maxOffset > l.next {
		maxOffset = l.next
	}
	empty := offset == l.next || offset >= maxOffset
	if empty && committed {
		res.AbortedTxns = []AbortedTxn{} // Kafka's empty read_committed answer has an empty list
	}
	return res, maxOffset, empty, nil
}

// segIndex is the index of the segment that would hold offset (floor by base offset).
func (l *Log) segIndex(offset int64) int {
	i, found := slices.BinarySearchFunc(l.segs, offset, func(s *segment, o int64) int {
		switch {
		case s.base < o:
			return -1
		case s.base > o:
			return 1
		}
		return 0
	})
	if !found {
		i--
	}
	return max(i, 0)
}

// Special ListOffsets timestamps.
const (
	LatestTimestamp   = -1
	EarliestTimestamp = -2
)

// OffsetForTimestamp answers ListOffsets: the first record with timestamp >= ts (with its timestamp);
// -1 gives the log end offset, -2 the log start offset (timestamp -1 for both).
func (l *Log) OffsetForTimestamp(ts int64) (int64, int64, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	switch ts {
	case LatestTimestamp:
		return l.next, noTimestamp, true
	case EarliestTimestamp:
		return l.logStart, noTimestamp, true
	}
	for _, s := range l.segs {
		if s.largestTimestamp() < ts {
			continue
		}
		off, rts, ok, err := s.findOffsetByTimestamp(ts, l.logStart)
		if err != nil {
			l.logger.Warn("offset for timestamp", "err", err)
			return 0, 0, false
		}
		return off, rts, ok
	}
	return 0, 0, false
}

// LegacyOffsetsBefore answers ListOffsets v0 as Kafka's Log.legacyFetchOffsetsBefore does: the candidates are each
// segment's base offset (at least the log start) stamped with its file's modification time, then the log end offset
// stamped now when the active segment holds data. -1 starts from the newest candidate, -2 from the oldest, any other
// time from the newest candidate stamped at or before it; up to maxNum offsets from there back, newest first.
func (l *Log) LegacyOffsetsBefore(ts int64, maxNum int32) ([]int64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	type stamped struct{ offset, ms int64 }
	cands := make([]stamped, 0, len(l.segs)+1)
	for _, s := range l.segs {
		st, err := s.log.Stat()
		if err != nil {
			return nil, fmt.Errorf("legacy offsets of %s: %w", l.tp, err)
		}
		cands = append(cands, stamped{max(s.base, l.logStart), st.ModTime().UnixMilli()})
	}
	if l.segs[len(l.segs)-1].size > 0 {
		cands = append(cands, stamped{l.next, l.nowMs()})
	}
	start := len(cands) - 1
	switch ts {
	case LatestTimestamp:
	case EarliestTimestamp:
		start = 0
	default:
		for start >= 0 && cands[start].ms > ts {
			start--
		}
	}
	n := min(int(maxNum), start+1)
	if n < 0 {
		// Kafka fails the partition the same way (its array of a negative size): UNKNOWN_SERVER_ERROR.
		return nil, fmt.Errorf("legacy offsets of %s: max number of offsets %d", l.tp, maxNum)
	}
	out := make([]int64, 0, n)
	for i := start; i > start-n; i-- {
		out = append(out, cands[i].offset)
	}
	// Descending even when a segment's base was raised to the log start.
	slices.SortStableFunc(out, func(a, b int64) int { return cmp.Compare(b, a) })
	return out, nil
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch from the leader epoch cache.
func (l *Log) EndOffsetForEpoch(epoch int32) (int32, int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.endOffsetFor(epoch, l.next)
}

// LatestEpoch is the newest leader epoch in the cache (-1 when empty).
func (l *Log) LatestEpoch() int32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if e, ok := l.epochs.latest(); ok {
		return e.Epoch
	}
	return -1
}

// EpochEntries returns a copy of the leader epoch cache.
func (l *Log) EpochEntries() []EpochEntry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return slices.Clone(l.epochs.entries)
}

// AssignEpochStartOffset records that epoch starts at offset (a new leader calls it with its log end).
func (l *Log) AssignEpochStartOffset(epoch int32, offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.epochs.assign(epoch, offset)
	return err
}

// TruncateTo removes everything at or after offset (follower truncation). Like Kafka, a batch that
// straddles offset goes whole and the log end becomes offset.
func (l *Log) TruncateTo(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	if offset < 0 {
		return fmt.Errorf("truncate %s to negative offset %d", l.tp, offset)
	}
	if offset >= l.next {
		// Nothing to cut, but, as Kafka, the epoch cache still loses entries from the log end on: an epoch this
		// broker started as leader without appending to it would otherwise stay the follower's last epoch, and the
		// leader, which never had it, would answer each fetch that it diverges.
		return l.epochs.truncateFromEnd(l.next)
	}
	l.logger.Info("truncating log", "to", offset, "from", l.next)
	l.noteTruncation(offset)
	l.setHint(readHint{})
	l.truncations++
	if l.segs[0].base > offset {
		return l.truncateFullyAndStartAt(offset)
	}
	for len(l.segs) > 1 && l.active().base > offset {
		if err := l.active().remove(); err != nil {
			return err
		}
		l.segs = l.segs[:len(l.segs)-1]
	}
	if _, err := l.active().truncateTo(offset); err != nil {
		return fmt.Errorf("truncate %s: %w", l.tp, err)
	}
	l.next = offset
	l.recoveryPoint = min(l.recoveryPoint, offset)
	l.logStart = min(l.logStart, offset)
	if err := l.epochs.truncateFromEnd(offset); err != nil {
		return err
	}
	if err := l.rebuildProducerState(offset, false); err != nil {
		return err
	}
	// After the rebuild, as Log.completeTruncation: the transactions it completed below the high watermark go.
	l.setHWLocked(min(l.hw, offset))
	return nil
}

// TruncateFullyAndStartAt drops every segment and restarts the log empty at offset.
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	return l.truncateFullyAndStartAt(offset)
}

func (l *Log) truncateFullyAndStartAt(offset int64) error {
	l.noteTruncation(offset)
	l.setHint(readHint{})
	l.truncations++
	for _, s := range l.segs {
		if err := s.remove(); err != nil {
			return err
		}
	}
	l.segs = nil
	s, err := createSegment(l.dir, offset, &l.cfg, l.nowMs(), l.jitter())
	if err != nil {
		return err
	}
	l.segs = []*segment{s}
	l.next, l.logStart, l.recoveryPoint = offset, offset, offset
	if err := l.epochs.clear(); err != nil {
		return err
	}
	l.pstate.truncateFullyAndStartAt(offset)
	if err := l.rebuildProducerState(offset, false); err != nil {
		return err
	}
	l.setHWLocked(offset)
	return nil
}

// DeleteRecordsBefore moves the log start offset forward (DeleteRecords); it may not pass the high
// watermark. Segments wholly below the new start are deleted.
func (l *Log) DeleteRecordsBefore(offset int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	if offset > l.hw {
		return fmt.Errorf("%s: cannot move log start to %d past the high watermark %d: %w", l.tp, offset, l.hw, ErrOffsetOutOfRange)
	}
	if offset <= l.logStart {
		return nil
	}
	if err := l.incrementLogStart(offset); err != nil {
		return err
	}
	_, err := l.deleteSegments(func(_ *segment, next *segment) bool { return next != nil && next.base <= l.logStart })
	return err
}

func (l *Log) incrementLogStart(offset int64) error {
	if offset <= l.logStart {
		return nil
	}
	l.logStart = offset
	l.recoveryPoint = max(l.recoveryPoint, offset)
	l.pstate.onLogStartOffsetIncremented(offset)
	l.setHWLocked(max(l.hw, offset))
	return l.epochs.truncateFromStart(offset)
}

// EnforceRetention deletes the oldest segments past retention.ms or beyond retention.bytes (topics
// with cleanup.policy delete) and those wholly below the log start offset. As in Kafka, only
// segments below the high watermark go, and when every segment goes a new empty one is rolled first.
func (l *Log) EnforceRetention(now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, errClosed
	}
	total := 0
	if l.cfg.isDelete() {
		if l.cfg.RetentionMs >= 0 {
			nowMs := now.UnixMilli()
			n, err := l.deleteSegments(func(s, _ *segment) bool { return nowMs-s.largestTimestamp() > l.cfg.RetentionMs })
			total += n
			if err != nil {
				return total, err
			}
		}
		if l.cfg.RetentionBytes >= 0 {
			var size int64
			for _, s := range l.segs {
				size += s.size
			}
			diff := size - l.cfg.RetentionBytes
			n, err := l.deleteSegments(func(s, _ *segment) bool {
				if diff-s.size >= 0 {
					diff -= s.size
					return true
				}
				return false
			})
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	n, err := l.deleteSegments(func(_ *segment, next *segment) bool { return next != nil && next.base <= l.logStart })
	return total + n, err
}

// deleteSegments deletes leading segments while pred holds, as Kafka's deletableSegments: never one
// that reaches past the high watermark, never an empty active segment.
func (l *Log) deleteSegments(pred func(s, next *segment) bool) (int, error) {
	n := 0
	for n < len(l.segs) {
		s := l.segs[n]
		var next *segment
		upper := l.next
		if n+1 < len(l.segs) {
			next = l.segs[n+1]
			upper = next.base
		}
		if l.hw < upper || (next == nil && s.size == 0) || !pred(s, next) {
			break
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	if n == len(l.segs) {
		if err := l.rollLocked(l.next); err != nil {
			return 0, err
		}
	}
	for _, s := range l.segs[:n] {
		l.logger.Info("deleting segment", "base", s.base, "size", s.size)
		if err := s.remove(); err != nil {
			return 0, err
		}
		l.pstate.removeAndDeleteSnapshot(s.base)
	}
	l.segs = slices.Delete(l.segs, 0, n)
	return n, l.incrementLogStart(l.segs[0].base)
}

// Close flushes and closes the log; its files stay.
func (l *Log) Close() error {
	l.bgFlush.Wait() // its end takes l.mu
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	// A snapshot at the log end spares the next start a scan of the log (Log.close).
	err := errors.Join(l.pstate.takeSnapshot(), l.flushLocked())
	l.closed = true
	return errors.Join(err, l.closeSegments())
}

func (l *Log) closeSegments() error {
	var errs []error
	for _, s := range l.segs {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// Delete closes the log and removes its directory.
func (l *Log) Delete() error {
	l.bgFlush.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		_ = l.closeSegments()
	}
	if err := os.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("delete log %s: %w", l.tp, err)
	}
	return nil
}

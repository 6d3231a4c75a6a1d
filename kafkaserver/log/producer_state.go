package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
)

// Errors of idempotent produce, mapped to Kafka codes by the handlers.
var (
	ErrOutOfOrderSequence   = errors.New("out of order sequence number") // OUT_OF_ORDER_SEQUENCE_NUMBER (45)
	ErrInvalidProducerEpoch = errors.New("invalid producer epoch")       // INVALID_PRODUCER_EPOCH (47)
	ErrInvalidTxnState      = errors.New("invalid transaction state")    // INVALID_TXN_STATE (48)
	// ErrTransactionCoordinatorFenced refuses a marker from a coordinator epoch older than the producer's last one.
	ErrTransactionCoordinatorFenced = errors.New("transaction coordinator fenced") // TRANSACTION_COORDINATOR_FENCED (52)
	errCorruptSnapshot              = errors.New("corrupt producer snapshot")
)

// Producer-state constants of Kafka 2.8 (ProducerStateEntry, RecordBatch, LogManager).
const (
	producerBatchesToRetain = 5 // ProducerStateEntry.NumBatchesToRetain
	noSequence              = int32(-1)
	noProducerEpoch         = int16(-1)
	producerSnapshotVersion = 1
	snapshotEntriesOffset   = 6  // version int16 + crc uint32
	snapshotEntrySize       = 46 // pid 8, epoch 2, seq 4, offset 8, delta 4, ts 8, coordinator epoch 4, txn first 8

	// DefaultProducerIDExpirationMs is transactional.id.expiration.ms, which Kafka 2.8 also uses to expire idle
	// producer ids from the partitions' producer state.
	DefaultProducerIDExpirationMs = int64(7 * 24 * 60 * 60 * 1000)
	// ProducerIDExpirationCheckIntervalMs is LogManager.ProducerIdExpirationCheckIntervalMs.
	ProducerIDExpirationCheckIntervalMs = int64(10 * 60 * 1000)
)

// incrementSequence and decrementSequence wrap at int32 max as DefaultRecordBatch does.
func incrementSequence(seq, inc int32) int32 {
	if seq > math.MaxInt32-inc {
		return inc - (math.MaxInt32 - seq) - 1
	}
	return seq + inc
}

func decrementSequence(seq, dec int32) int32 {
	if seq < dec {
		return math.MaxInt32 - (dec - seq) + 1
	}
	return seq - dec
}

func (b batch) producerEpoch() int16 {
	if b.magic() == 2 {
		return int16(binary.BigEndian.Uint16(b[51:]))
	}
	return noProducerEpoch
}

func (b batch) baseSequence() int32 {
	if b.magic() == 2 {
		return int32(binary.BigEndian.Uint32(b[53:]))
	}
	return noSequence
}

func (b batch) lastSequence() int32 {
	base := b.baseSequence()
	if base == noSequence {
		return noSequence
	}
	return incrementSequence(base, b.v2LastOffsetDelta())
}

// producerBatch is Kafka's BatchMetadata: one appended batch of a producer.
type producerBatch struct {
	lastSeq     int32
	lastOffset  int64
	offsetDelta int32
	timestamp   int64
}

func (b producerBatch) firstSeq() int32    { return decrementSequence(b.lastSeq, b.offsetDelta) }
func (b producerBatch) firstOffset() int64 { return b.lastOffset - int64(b.offsetDelta) }

// producerEntry is ProducerStateEntry: the last batches a producer appended to this partition.
type producerEntry struct {
	producerID       int64
	batches          []producerBatch // oldest first, at most producerBatchesToRetain
	epoch            int16
	coordinatorEpoch int32
	lastTimestamp    int64
	txnFirstOffset   int64 // first offset of the ongoing transaction, -1 when none
}

func emptyProducerEntry(pid int64) *producerEntry {
	return &producerEntry{producerID: pid, epoch: noProducerEpoch, coordinatorEpoch: -1, lastTimestamp: noTimestamp, txnFirstOffset: -1}
}

func (e *producerEntry) lastSeq() int32 {
	if len(e.batches) == 0 {
		return noSequence
	}
	return e.batches[len(e.batches)-1].lastSeq
}

func (e *producerEntry) lastDataOffset() int64 {
	if len(e.batches) == 0 {
		return -1
	}
	return e.batches[len(e.batches)-1].lastOffset
}

func (e *producerEntry) lastOffsetDelta() int32 {
	if len(e.batches) == 0 {
		return 0
	}
	return e.batches[len(e.batches)-1].offsetDelta
}

// maybeUpdateEpoch forgets the batches of an older epoch.
func (e *producerEntry) maybeUpdateEpoch(epoch int16) {
	if e.epoch != epoch {
		e.batches = e.batches[:0]
		e.epoch = epoch
	}
}

func (e *producerEntry) addBatchMetadata(b producerBatch) {
	if len(e.batches) == producerBatchesToRetain {
		e.batches = slices.Delete(e.batches, 0, 1)
	}
	e.batches = append(e.batches, b)
}

func (e *producerEntry) addBatch(epoch int16, b producerBatch) {
	e.maybeUpdateEpoch(epoch)
	e.addBatchMetadata(b)
	e.lastTimestamp = b.timestamp
}

// merge applies the result of one append (ProducerStateEntry.update).
func (e *producerEntry) merge(next *producerEntry) {
	e.maybeUpdateEpoch(next.epoch)
	for _, b := range next.batches {
		e.addBatchMetadata(b)
	}
	e.coordinatorEpoch = next.coordinatorEpoch
	e.txnFirstOffset = next.txnFirstOffset
	e.lastTimestamp = next.lastTimestamp
}

// duplicateOf finds a retained batch with the same epoch and sequence range (findDuplicateBatch).
func (e *producerEntry) duplicateOf(b batch) (producerBatch, bool) {
	if b.producerEpoch() != e.epoch {
		return producerBatch{}, false
	}
	first, last := b.baseSequence(), b.lastSequence()
	for _, m := range e.batches {
		if m.firstSeq() == first && m.lastSeq == last {
			return m, true
		}
	}
	return producerBatch{}, false
}

// appendOrigin says how much an append is checked (AppendOrigin): client appends get the sequence checks, the
// coordinator's (transaction markers) the producer and coordinator epoch checks, replicated and reloaded batches
// only the epoch check, as a warning.
type appendOrigin int

const (
	originClient appendOrigin = iota
	originReplication
	originCoordinator
)

// producerAppend is ProducerAppendInfo: one producer's batches of one append, validated against its state.
type producerAppend struct {
	tp      TopicPartition
	pid     int64
	origin  appendOrigin
	current *producerEntry
	updated *producerEntry
	started []txnSpan // transactions this append began (ProducerAppendInfo.startedTransactions)
	logger  *slog.Logger
}

func (a *producerAppend) checkEpoch(epoch int16, offset int64) error {
	if epoch >= a.updated.epoch {
		return nil
	}
	msg := fmt.Sprintf("Epoch of producer %d at offset %d in %s is %d, which is smaller than the last seen epoch %d",
		a.pid, offset, a.tp, epoch, a.updated.epoch)
	if a.origin == originReplication {
		a.logger.Warn(msg)
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidProducerEpoch, msg)
}

func (a *producerAppend) checkSequence(epoch int16, firstSeq int32, offset int64) error {
	if epoch != a.updated.epoch {
		if firstSeq != 0 && a.updated.epoch != noProducerEpoch {
			return fmt.Errorf("%w: Invalid sequence number for new epoch of producer %d at offset %d in partition %s: "+
				"%d (request epoch), %d (seq. number), %d (current producer epoch)",
				ErrOutOfOrderSequence, a.pid, offset, a.tp, epoch, firstSeq, a.updated.epoch)
		}
		return nil
	}
	current := noSequence
	switch {
	case len(a.updated.batches) > 0:
		current = a.updated.lastSeq()
	case epoch == a.current.epoch:
		current = a.current.lastSeq()
	}
	// A producer whose state is gone (retention, DeleteRecords, expiry) may go on with any sequence (KIP-360).
	inSeq := int64(firstSeq) == int64(current)+1 || (firstSeq == 0 && current == math.MaxInt32)
	if a.current.epoch == noProducerEpoch || inSeq {
		return nil
	}
	return fmt.Errorf("%w: Out of order sequence number for producer %d at offset %d in partition %s: "+
		"%d (incoming seq. number), %d (current end sequence number)", ErrOutOfOrderSequence, a.pid, offset, a.tp, firstSeq, current)
}

// appendBatch adds one batch (its offsets already assigned) to the producer's pending state; a marker that ends a
// transaction with data returns it.
func (a *producerAppend) appendBatch(b batch) (*completedTxn, error) {
	if b.isControl() {
		return a.appendControl(b)
	}
	first, last := b.offsetField(), b.lastOffset()
	epoch := b.producerEpoch()
	if err := a.checkEpoch(epoch, first); err != nil {
		return nil, err
	}
	if a.origin == originClient {
		if err := a.checkSequence(epoch, b.baseSequence(), first); err != nil {
			return nil, err
		}
	}
	a.updated.addBatch(epoch, producerBatch{lastSeq: b.lastSequence(), lastOffset: last, offsetDelta: int32(last - first),
		timestamp: b.maxTimestamp()})
	switch {
	case a.updated.txnFirstOffset >= 0 && !b.isTransactional():
		return nil, fmt.Errorf("%w: Expected transactional write from producer %d at offset %d in partition %s",
			ErrInvalidTxnState, a.pid, first, a.tp)
	case a.updated.txnFirstOffset < 0 && b.isTransactional():
		a.updated.txnFirstOffset = first
		a.started = append(a.started, txnSpan{producerID: a.pid, firstOffset: first, lastOffset: -1})
	}
	return nil, nil
}

// appendControl applies a transaction marker (appendEndTxnMarker); an empty control batch is a cleaned marker. Only
// a marker ending a transaction that had data completes one: an empty transaction does not move the last stable
// offset and has no place in the transaction index.
func (a *producerAppend) appendControl(b batch) (*completedTxn, error) {
	recs, err := b.records()
	if err != nil {
		return nil, fmt.Errorf("%w: control batch at %d: %w", ErrCorrupt, b.offsetField(), err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	offset := b.offsetField()
	marker, err := parseTxnMarker(recs[0])
	if err != nil {
		return nil, fmt.Errorf("%w: control batch at %d: %w", ErrCorrupt, offset, err)
	}
	if err := a.checkEpoch(b.producerEpoch(), offset); err != nil {
		return nil, err
	}
	if a.updated.coordinatorEpoch > marker.coordinatorEpoch {
		msg := fmt.Sprintf("Invalid coordinator epoch for producerId %d at offset %d in partition %s: %d (zombie), %d (current)",
			a.pid, offset, a.tp, marker.coordinatorEpoch, a.updated.coordinatorEpoch)
		if a.origin != originReplication {
			return nil, fmt.Errorf("%w: %s", ErrTransactionCoordinatorFenced, msg)
		}
		a.logger.Info(msg)
	}
	var done *completedTxn
	if first := a.updated.txnFirstOffset; first >= 0 {
		done = &completedTxn{producerID: a.pid, firstOffset: first, lastOffset: offset, aborted: !marker.commit}
	}
	a.updated.maybeUpdateEpoch(b.producerEpoch())
	a.updated.txnFirstOffset = -1
	a.updated.coordinatorEpoch = marker.coordinatorEpoch
	a.updated.lastTimestamp = recs[0].Timestamp
	return done, nil
}

// producerStateManager is ProducerStateManager: per producer id, the last batches appended to the partition,
// and the `<offset>.snapshot` files that persist it.
type producerStateManager struct {
	dir       string
	tp        TopicPartition
	expiryMs  int64
	logger    *slog.Logger
	producers map[int64]*producerEntry
	// Transactions holding the last stable offset back: ongoing ones, and completed ones whose markers are not yet
	// below the high watermark.
	ongoing, unreplicated txnList
	snapshots             []int64 // offsets of the snapshot files on disk, ascending
	mapEnd                int64   // lastMapOffset: the state covers the log below it
	snapEnd               int64   // lastSnapOffset
}

func newProducerStateManager(dir string, tp TopicPartition, expiryMs int64, logger *slog.Logger) (*producerStateManager, error) {
	m := &producerStateManager{dir: dir, tp: tp, expiryMs: expiryMs, logger: logger, producers: map[int64]*producerEntry{}}
	var err error
	m.snapshots, err = listSnapshots(dir)
	return m, err
}

func listSnapshots(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list producer snapshots: %w", err)
	}
	var out []int64
	for _, e := range entries {
		if b, ok := parseBase(e.Name(), snapshotSuffix); ok && e.Type().IsRegular() {
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (m *producerStateManager) snapshotPath(offset int64) string {
	return segmentFile(m.dir, offset, snapshotSuffix)
}

// removeStraySnapshots drops snapshots without a segment of the same base offset, except the newest one when it
// lies past every segment base (the one a clean shutdown wrote).
func (m *producerStateManager) removeStraySnapshots(segmentBases []int64) error {
	all, err := listSnapshots(m.dir)
	if err != nil {
		return err
	}
	m.snapshots = all
	maxBase := int64(-1)
	for _, b := range segmentBases {
		maxBase = max(maxBase, b)
	}
	stray := int64(-1)
	for _, off := range slices.Clone(all) {
		if slices.Contains(segmentBases, off) {
			continue
		}
		if stray >= 0 {
			m.removeAndDeleteSnapshot(stray)
		}
		stray = off
	}
	if stray >= 0 && len(segmentBases) > 0 && stray < maxBase {
		m.removeAndDeleteSnapshot(stray)
	}
	return nil
}

func (m *producerStateManager) removeAndDeleteSnapshot(offset int64) {
	if i, ok := slices.BinarySearch(m.snapshots, offset); ok {
		m.snapshots = slices.Delete(m.snapshots, i, i+1)
	}
	if err := os.Remove(m.snapshotPath(offset)); err != nil && !errors.Is(err, os.ErrNotExist) {
		m.logger.Warn("deleting producer snapshot", "offset", offset, "err", err)
	}
}

func (m *producerStateManager) latestSnapshot() (int64, bool) {
	if len(m.snapshots) == 0 {
		return 0, false
	}
	return m.snapshots[len(m.snapshots)-1], true
}

func (m *producerStateManager) isEmpty() bool {
	return len(m.producers) == 0 && len(m.unreplicated) == 0
}

func (m *producerStateManager) isExpired(nowMs int64, e *producerEntry) bool {
	return e.txnFirstOffset < 0 && nowMs-e.lastTimestamp >= m.expiryMs
}

// removeExpired forgets producers idle for the expiration time (removeExpiredProducers).
func (m *producerStateManager) removeExpired(nowMs int64) {
	for pid, e := range m.producers {
		if m.isExpired(nowMs, e) {
			delete(m.producers, pid)
		}
	}
}

// truncateAndReload drops snapshots outside (logStart, logEnd] and, unless the state already ends at logEnd,
// reloads it from the newest remaining snapshot.
func (m *producerStateManager) truncateAndReload(logStart, logEnd, nowMs int64) {
	for _, off := range slices.Clone(m.snapshots) {
		if off > logEnd || off <= logStart {
			m.removeAndDeleteSnapshot(off)
		}
	}
	if logEnd == m.mapEnd {
		m.onLogStartOffsetIncremented(logStart)
		return
	}
	clear(m.producers)
	// The log end is at or below the high watermark here, so no completed transaction is unreplicated.
	m.clearTxns()
	for {
		off, ok := m.latestSnapshot()
		if !ok {
			m.snapEnd, m.mapEnd = logStart, logStart
			return
		}
		entries, err := readProducerSnapshot(m.snapshotPath(off))
		if err != nil {
			m.logger.Warn("failed to load producer snapshot", "offset", off, "err", err)
			m.removeAndDeleteSnapshot(off)
			continue
		}
		for _, e := range entries {
			if !m.isExpired(nowMs, e) {
				m.loadEntry(e)
			}
		}
		m.snapEnd, m.mapEnd = off, off
		return
	}
}

func (m *producerStateManager) onLogStartOffsetIncremented(logStart int64) {
	m.removeUnreplicated(logStart)
	m.mapEnd = max(m.mapEnd, logStart)
	if off, ok := m.latestSnapshot(); ok {
		m.snapEnd = off
	} else {
		m.snapEnd = logStart
	}
}

func (m *producerStateManager) truncateFullyAndStartAt(offset int64) {
	clear(m.producers)
	m.clearTxns()
	for _, off := range slices.Clone(m.snapshots) {
		m.removeAndDeleteSnapshot(off)
	}
	m.snapEnd, m.mapEnd = 0, offset
}

func (m *producerStateManager) prepareUpdate(pid int64, origin appendOrigin) *producerAppend {
	cur, ok := m.producers[pid]
	if !ok {
		cur = emptyProducerEntry(pid)
	}
	upd := emptyProducerEntry(pid)
	upd.epoch, upd.coordinatorEpoch, upd.lastTimestamp, upd.txnFirstOffset = cur.epoch, cur.coordinatorEpoch, cur.lastTimestamp, cur.txnFirstOffset
	return &producerAppend{tp: m.tp, pid: pid, origin: origin, current: cur, updated: upd, logger: m.logger}
}

func (m *producerStateManager) update(a *producerAppend) {
	if cur, ok := m.producers[a.pid]; ok {
		cur.merge(a.updated)
	} else {
		m.producers[a.pid] = a.updated
	}
	for _, t := range a.started {
		m.ongoing.put(t)
	}
}

// takeSnapshot writes <mapEnd>.snapshot unless one at that offset or later was already written.
func (m *producerStateManager) takeSnapshot() error {
	if m.mapEnd <= m.snapEnd {
		return nil
	}
	if err := writeProducerSnapshot(m.snapshotPath(m.mapEnd), m.producers); err != nil {
		return fmt.Errorf("producer snapshot of %s at %d: %w", m.tp, m.mapEnd, err)
	}
	if i, ok := slices.BinarySearch(m.snapshots, m.mapEnd); !ok {
		m.snapshots = slices.Insert(m.snapshots, i, m.mapEnd)
	}
	m.snapEnd = m.mapEnd
	return nil
}

// producerUpdates is what one append does to the producer state: each producer's pending state, and the
// transactions its markers completed, in log order.
type producerUpdates struct {
	appends   []*producerAppend
	completed []completedTxn
}

// analyze validates the producer batches of one append. For a client append that repeats one of a producer's
// last batches it returns that batch and no updates: the caller answers with the original offsets.
func (m *producerStateManager) analyze(batches []batch, origin appendOrigin) (producerUpdates, *producerBatch, error) {
	var ups producerUpdates
	byPID := map[int64]*producerAppend{}
	for _, b := range batches {
		pid := b.producerID()
		if pid < 0 {
			continue
		}
		if origin == originClient {
			if e, ok := m.producers[pid]; ok {
				if dup, ok := e.duplicateOf(b); ok {
					return producerUpdates{}, &dup, nil
				}
			}
		}
		a, ok := byPID[pid]
		if !ok {
			a = m.prepareUpdate(pid, origin)
			byPID[pid] = a
			ups.appends = append(ups.appends, a)
		}
		done, err := a.appendBatch(b)
		if err != nil {
			return producerUpdates{}, nil, err
		}
		if done != nil {
			ups.completed = append(ups.completed, *done)
		}
	}
	return ups, nil, nil
}

// readProducerSnapshot parses a version 1 snapshot (ProducerStateManager.readSnapshot).
func readProducerSnapshot(path string) ([]*producerEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read producer snapshot: %w", err)
	}
	if len(data) < snapshotEntriesOffset+4 {
		return nil, fmt.Errorf("%w: %s is %d bytes", errCorruptSnapshot, filepath.Base(path), len(data))
	}
	be := binary.BigEndian
	if v := int16(be.Uint16(data)); v != producerSnapshotVersion {
		return nil, fmt.Errorf("%w: snapshot contained an unknown file version %d", errCorruptSnapshot, v)
	}
	if want, got := be.Uint32(data[2:]), crc32.Checksum(data[snapshotEntriesOffset:], castagnoli); want != got {
		return nil, fmt.Errorf("%w: stored crc %d, computed %d", errCorruptSnapshot, want, got)
	}
	n := int32(be.Uint32(data[snapshotEntriesOffset:]))
	p := data[snapshotEntriesOffset+4:]
	if n < 0 || int64(len(p)) != int64(n)*snapshotEntrySize {
		return nil, fmt.Errorf("%w: %d entries in %d bytes", errCorruptSnapshot, n, len(p))
	}
	out := make([]*producerEntry, 0, n)
	for ; len(p) > 0; p = p[snapshotEntrySize:] {
		e := &producerEntry{
			producerID:       int64(be.Uint64(p)),
			epoch:            int16(be.Uint16(p[8:])),
			coordinatorEpoch: int32(be.Uint32(p[34:])),
			lastTimestamp:    int64(be.Uint64(p[26:])),
			txnFirstOffset:   int64(be.Uint64(p[38:])),
		}
		seq, off, delta := int32(be.Uint32(p[10:])), int64(be.Uint64(p[14:])), int32(be.Uint32(p[22:]))
		if off >= 0 {
			e.batches = []producerBatch{{lastSeq: seq, lastOffset: off, offsetDelta: delta, timestamp: e.lastTimestamp}}
		}
		if e.txnFirstOffset < 0 {
			e.txnFirstOffset = -1
		}
		out = append(out, e)
	}
	return out, nil
}

// encodeProducerSnapshot lays out a version 1 snapshot; entries go in producer id order so equal states give
// equal files.
func encodeProducerSnapshot(producers map[int64]*producerEntry) []byte {
	pids := make([]int64, 0, len(producers))
	for pid := range producers {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	be := binary.BigEndian
	out := make([]byte, snapshotEntriesOffset+4, snapshotEntriesOffset+4+len(pids)*snapshotEntrySize)
	be.PutUint16(out, producerSnapshotVersion)
	be.PutUint32(out[snapshotEntriesOffset:], uint32(len(pids)))
	for _, pid := range pids {
		e := producers[pid]
		out = be.AppendUint64(out, uint64(pid))
		out = be.AppendUint16(out, uint16(e.epoch))
		out = be.AppendUint32(out, uint32(e.lastSeq()))
		out = be.AppendUint64(out, uint64(e.lastDataOffset()))
		out = be.AppendUint32(out, uint32(e.lastOffsetDelta()))
		out = be.AppendUint64(out, uint64(e.lastTimestamp))
		out = be.AppendUint32(out, uint32(e.coordinatorEpoch))
		out = be.AppendUint64(out, uint64(e.txnFirstOffset))
	}
	be.PutUint32(out[2:], crc32.Checksum(out[snapshotEntriesOffset:], castagnoli))
	return out
}

func writeProducerSnapshot(path string, producers map[int64]*producerEntry) error {
	return atomicWrite(path, encodeProducerSnapshot(producers))
}

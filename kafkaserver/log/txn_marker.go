package log

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Control record types of a transaction marker's key (ControlRecordType).
const (
	controlTypeAbort  = int16(0)
	controlTypeCommit = int16(1)
)

// txnMarker is the content of a transaction marker's record (EndTransactionMarker).
type txnMarker struct {
	commit           bool
	coordinatorEpoch int32
}

var errBadMarker = errors.New("invalid end transaction marker")

// parseTxnMarker reads a control record as EndTransactionMarker.deserialize does: key version (>= 0) and type,
// value version (>= 0) and coordinator epoch; newer versions are read as version 0.
func parseTxnMarker(r Record) (txnMarker, error) {
	be := binary.BigEndian
	k, v := r.Key, r.Value
	switch {
	case len(k) < 4:
		return txnMarker{}, fmt.Errorf("%w: control record key of %d bytes", errBadMarker, len(k))
	case int16(be.Uint16(k)) < 0:
		return txnMarker{}, fmt.Errorf("%w: control record key version %d", errBadMarker, int16(be.Uint16(k)))
	case len(v) < 6:
		return txnMarker{}, fmt.Errorf("%w: value of %d bytes", errBadMarker, len(v))
	case int16(be.Uint16(v)) < 0:
		return txnMarker{}, fmt.Errorf("%w: value version %d", errBadMarker, int16(be.Uint16(v)))
	}
	m := txnMarker{coordinatorEpoch: int32(be.Uint32(v[2:]))}
	switch t := int16(be.Uint16(k[2:])); t {
	case controlTypeCommit:
		m.commit = true
	case controlTypeAbort:
	default:
		return txnMarker{}, fmt.Errorf("%w: control record type %d", errBadMarker, t)
	}
	return m, nil
}

// txnMarkerRecord is the marker's one record: key version 0 and type, value version 0 and coordinator epoch.
func txnMarkerRecord(offset, ts int64, commit bool, coordinatorEpoch int32) Record {
	typ := controlTypeAbort
	if commit {
		typ = controlTypeCommit
	}
	be := binary.BigEndian
	key := be.AppendUint16(be.AppendUint16(nil, 0), uint16(typ))
	value := be.AppendUint32(be.AppendUint16(nil, 0), uint32(coordinatorEpoch))
	return Record{Offset: offset, Timestamp: ts, Key: key, Value: value}
}

// AppendTxnMarker writes a commit or abort marker for a producer's transaction as the transaction coordinator
// does (WriteTxnMarkers; AppendOrigin.Coordinator): one uncompressed control batch at the log end, stamped with the
// leader epoch and now. A producer epoch older than the partition's last one for the producer is refused with
// ErrInvalidProducerEpoch, a coordinator epoch older than the last marker's with ErrTransactionCoordinatorFenced;
// a log below message format v2 cannot hold markers (ErrUnsupportedForMessageFormat). A marker that ends a
// transaction with data completes it: an abort goes into the segment's transaction index.
func (l *Log) AppendTxnMarker(producerID int64, producerEpoch int16, coordinatorEpoch int32, commit bool, leaderEpoch int32) (AppendInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return AppendInfo{}, errClosed
	}
	if v := l.cfg.RecordVersion(); v < 2 {
		return AppendInfo{}, fmt.Errorf("append marker to %s: %w: message format version %d", l.tp, ErrUnsupportedForMessageFormat, v)
	}
	nowMs := l.nowMs()
	offset := l.next
	h := v2Header{BaseOffset: offset, LeaderEpoch: leaderEpoch, LogAppendTime: -1, Transactional: true, Control: true,
		ProducerID: producerID, ProducerEpoch: producerEpoch, BaseSequence: noSequence, LastOffsetDelta: -1}
	info := AppendInfo{FirstOffset: offset, LastOffset: offset, MaxTimestamp: nowMs, OffsetOfMaxTimestamp: offset,
		LogAppendTime: -1, NumMessages: 1}
	if l.cfg.MessageTimestampType == "LogAppendTime" {
		// LogValidator stamps the batch in place, as any append's.
		h.LogAppendTime, info.LogAppendTime = nowMs, nowMs
	}
	data, err := encodeV2(h, []Record{txnMarkerRecord(offset, nowMs, commit, coordinatorEpoch)})
	if err != nil {
		return AppendInfo{}, fmt.Errorf("append marker to %s: %w", l.tp, err)
	}
	batches := []batch{data}
	ups, _, err := l.analyzeProducers(batches, originCoordinator)
	if err != nil {
		return AppendInfo{}, err
	}
	if err := l.appendValidated(data, batches, offset, offset, nowMs, offset, 1, nowMs); err != nil {
		return AppendInfo{}, err
	}
	if err := l.applyProducers(ups, offset); err != nil {
		return AppendInfo{}, err
	}
	info.ValidBytes = len(data)
	info.LogStartOffset = l.logStart
	return info, nil
}

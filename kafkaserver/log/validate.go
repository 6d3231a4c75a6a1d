package log

import (
	"errors"
	"fmt"
)

// Errors the request handlers map to Kafka error codes.
var (
	ErrInvalidRecord          = errors.New("invalid record")           // INVALID_RECORD (87)
	ErrRecordTooLarge         = errors.New("record batch too large")   // MESSAGE_TOO_LARGE (10)
	ErrInvalidTimestamp       = errors.New("invalid timestamp")        // INVALID_TIMESTAMP (32)
	ErrOffsetOutOfRange       = errors.New("offset out of range")      // OFFSET_OUT_OF_RANGE (1)
	ErrUnsupportedCompression = errors.New("unsupported compression")  // UNSUPPORTED_COMPRESSION_TYPE (76)
	ErrUnexpectedAppendOffset = errors.New("unexpected append offset") // follower append below the log end
)

// validated is the result of leader-side validation: the bytes to write and what they hold.
type validated struct {
	records       []byte
	batches       []batch
	firstOffset   int64
	lastOffset    int64
	maxTimestamp  int64
	offsetOfMaxTs int64
	numMessages   int
	logAppendTime int64
	converted     bool
}

// validateLeader follows Kafka 2.8's LogValidator for message.format.version 2.8: v2 batches get
// offsets, leader epoch and (for LogAppendTime) the max timestamp set in place; magic 0/1 message
// sets are up-converted to one v2 batch.
func validateLeader(records []byte, next int64, leaderEpoch int32, cfg *Config, now int64) (*validated, error) {
	batches, err := splitBatches(records)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(batches) == 0 {
		return nil, fmt.Errorf("%w: record set has no batches", ErrInvalidRecord)
	}
	legacy, compressed := false, false
	for _, b := range batches {
		if cfg.MaxMessageBytes > 0 && len(b) > int(cfg.MaxMessageBytes) {
			return nil, fmt.Errorf("%w: batch of %d bytes exceeds max.message.bytes %d", ErrRecordTooLarge, len(b), cfg.MaxMessageBytes)
		}
		if err := b.validate(); err != nil {
			return nil, err
		}
		legacy = legacy || b.magic() < 2
		compressed = compressed || b.codec() != CodecNone
	}
	if (batches[0].magic() == 2 || compressed) && len(batches) > 1 {
		return nil, fmt.Errorf("%w: compressed outer record has more than one batch", ErrInvalidRecord)
	}
	logAppend := cfg.MessageTimestampType == "LogAppendTime"
	v := &validated{firstOffset: next, logAppendTime: -1}
	if logAppend {
		v.logAppendTime = now
	}
	if legacy {
		return upConvert(batches, next, leaderEpoch, cfg, now, v)
	}

	b := batches[0]
	count := int64(b.v2LastOffsetDelta()) + 1
	switch {
	case count <= 0:
		return nil, fmt.Errorf("%w: batch has an invalid offset range", ErrInvalidRecord)
	case b.v2Count() <= 0:
		return nil, fmt.Errorf("%w: invalid reported count for record batch: %d", ErrInvalidRecord, b.v2Count())
	case count != int64(b.v2Count()):
		return nil, fmt.Errorf("%w: inconsistent batch offset range and record count", ErrInvalidRecord)
	case b.isControl():
		return nil, fmt.Errorf("%w: clients are not allowed to write control records", ErrInvalidRecord)
	case b.producerID() >= 0 && int32(beUint32(b[53:])) < 0:
		return nil, fmt.Errorf("%w: invalid sequence number", ErrInvalidRecord)
	}
	recs, err := b.records()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	maxTs := noTimestamp
	for i, r := range recs {
		if r.Offset-b.offsetField() != int64(i) {
			return nil, fmt.Errorf("%w: record %d has offset delta %d", ErrInvalidRecord, i, r.Offset-b.offsetField())
		}
		if err := checkRecord(r, b.timestampType() == timestampLogAppend, cfg, now); err != nil {
			return nil, err
		}
		maxTs = max(maxTs, r.Timestamp)
	}
	// Offsets are assigned in place: the base offset lies outside the CRC.
	out := make([]byte, len(b))
	copy(out, b)
	nb := batch(out)
	nb.setBaseOffset(next)
	nb.setLeaderEpoch(leaderEpoch)
	if logAppend {
		nb.setMaxTimestamp(timestampLogAppend, now)
		maxTs = now
	} else {
		nb.setMaxTimestamp(timestampCreateTime, maxTs)
	}
	v.records = out
	v.batches = []batch{nb}
	v.lastOffset = nb.lastOffset()
	v.maxTimestamp = maxTs
	v.offsetOfMaxTs = nb.lastOffset()
	v.numMessages = len(recs)
	return v, nil
}

func beUint32(p []byte) uint32 {
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}

func checkRecord(r Record, batchLogAppend bool, cfg *Config, now int64) error {
	if cfg.isCompacted() && r.Key == nil {
		return fmt.Errorf("%w: compacted topic cannot accept message without key", ErrInvalidRecord)
	}
	if cfg.MessageTimestampType != "LogAppendTime" && !batchLogAppend && cfg.MessageTimestampDifferenceMaxMs > 0 &&
		r.Timestamp != noTimestamp {
		d := r.Timestamp - now
		if d < 0 {
			d = -d
		}
		if d > cfg.MessageTimestampDifferenceMaxMs {
			return fmt.Errorf("%w: timestamp %d of message with offset %d is out of range", ErrInvalidTimestamp, r.Timestamp, r.Offset)
		}
	}
	return nil
}

func upConvert(batches []batch, next int64, leaderEpoch int32, cfg *Config, now int64, v *validated) (*validated, error) {
	var all []Record
	codec := CodecNone
	for _, b := range batches {
		if b.codec() != CodecNone {
			codec = b.codec()
		}
		recs, err := b.records()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
		}
		for _, r := range recs {
			if err := checkRecord(r, false, cfg, now); err != nil {
				return nil, err
			}
			r.Offset = next + int64(len(all))
			all = append(all, r)
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: message set has no messages", ErrInvalidRecord)
	}
	h := v2Header{BaseOffset: next, LeaderEpoch: leaderEpoch, Codec: codec, LogAppendTime: v.logAppendTime,
		ProducerID: noProducerID, ProducerEpoch: -1, BaseSequence: -1, LastOffsetDelta: -1}
	out, err := encodeV2(h, all)
	if err != nil {
		return nil, fmt.Errorf("up-convert: %w", err)
	}
	if cfg.MaxMessageBytes > 0 && len(out) > int(cfg.MaxMessageBytes) {
		return nil, fmt.Errorf("%w: up-converted batch of %d bytes exceeds max.message.bytes", ErrRecordTooLarge, len(out))
	}
	nb := batch(out)
	v.records = out
	v.batches = []batch{nb}
	v.lastOffset = nb.lastOffset()
	v.maxTimestamp = nb.maxTimestamp()
	v.offsetOfMaxTs = nb.lastOffset()
	v.numMessages = len(all)
	v.converted = true
	return v, nil
}

// DownConvert rewrites v2 batches as magic 1 or magic 0 message sets for old fetchers (Fetch v0-v3),
// as Kafka's RecordsUtil does: control batches are dropped, headers are lost, a compressed batch becomes
// one compressed wrapper with the same codec, batches already at or below toMagic pass unchanged.
// Zstandard cannot be expressed in the old formats.
func DownConvert(records []byte, toMagic int8) ([]byte, error) {
	return AppendDownConverted(nil, records, toMagic)
}

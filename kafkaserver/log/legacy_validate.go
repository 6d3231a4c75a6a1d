package log

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrUnsupportedForMessageFormat is UNSUPPORTED_FOR_MESSAGE_FORMAT (43): an idempotent or transactional batch for a
// log whose message.format.version stores magic 0 or 1.
var ErrUnsupportedForMessageFormat = errors.New("unsupported for message format")

// checkV2Batch is the client part of LogValidator.validateBatch for a v2 batch.
func checkV2Batch(b batch) error {
	count := int64(b.v2LastOffsetDelta()) + 1
	switch {
	case count <= 0:
		return fmt.Errorf("%w: batch has an invalid offset range", ErrInvalidRecord)
	case b.v2Count() <= 0:
		return fmt.Errorf("%w: invalid reported count for record batch: %d", ErrInvalidRecord, b.v2Count())
	case count != int64(b.v2Count()):
		return fmt.Errorf("%w: inconsistent batch offset range and record count", ErrInvalidRecord)
	case b.isControl():
		return fmt.Errorf("%w: clients are not allowed to write control records", ErrInvalidRecord)
	case b.producerID() >= 0 && int32(beUint32(b[53:])) < 0:
		return fmt.Errorf("%w: invalid sequence number", ErrInvalidRecord)
	}
	return nil
}

// checkBatchFormat is the end of LogValidator.validateBatch: transactions and idempotence need v2 batches.
func checkBatchFormat(b batch, toMagic int8) error {
	if toMagic >= 2 {
		return nil
	}
	if b.isTransactional() {
		return fmt.Errorf("%w: transactional records cannot be used with magic version %d", ErrUnsupportedForMessageFormat, toMagic)
	}
	if b.producerID() >= 0 {
		return fmt.Errorf("%w: idempotent records cannot be used with magic version %d", ErrUnsupportedForMessageFormat, toMagic)
	}
	return nil
}

// legacyInner decompresses a magic 0/1 wrapper and parses its inner messages (offsets as stored: absolute for
// magic 0, relative for magic 1), checking each one's CRC.
func legacyInner(w legacyMessage) ([]legacyMessage, error) {
	inner, err := legacyDecompress(w.magic, w.attrs&attrCodecMask, w.value)
	if err != nil {
		return nil, fmt.Errorf("legacy wrapper at %d: %w", w.offset, err)
	}
	var msgs []legacyMessage
	for len(inner) > 0 {
		ib, err := nextBatch(inner)
		if err != nil {
			return nil, fmt.Errorf("inner message of wrapper at %d: %w", w.offset, err)
		}
		if ib.magic() > 1 {
			return nil, fmt.Errorf("%w: record magic %d does not match outer magic %d", ErrInvalidRecord, ib.magic(), w.magic)
		}
		if err := ib.validate(); err != nil {
			return nil, err
		}
		m, err := parseLegacy(ib)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
		inner = inner[len(ib):]
	}
	return msgs, nil
}

// validateToLegacy is LogValidator.validateMessagesAndAssignOffsets for a log storing magic 0 or 1
// (message.format.version below 0.11.0): batches already in that format and codec are given offsets in place;
// anything else is converted, and a set stored with codec (compression.type's, by default the producer's) becomes
// one wrapper.
func validateToLegacy(batches []batch, next int64, toMagic int8, compressed bool, codec int8, cfg *Config, now int64, alloc Alloc, v *validated) (*validated, error) {
	rules := rulesFor(cfg, now)
	first := batches[0]
	if !compressed && codec == CodecNone && first.magic() == toMagic {
		return assignLegacyInPlace(batches, next, toMagic, &rules, alloc, v)
	}
	if codec == CodecZstd {
		return nil, fmt.Errorf("%w: zstd cannot be stored in message format v%d", ErrUnsupportedCompression, toMagic)
	}
	// Kafka rewrites a magic 1 wrapper in place only when its inner messages are magic 1 with relative offsets
	// 0, 1, ...; a magic 0 wrapper always needs new inner offsets.
	inPlace := compressed && first.magic() == toMagic && toMagic > 0 && first.codec() == codec
	var recs []Record
	maxTs := noTimestamp
	for _, b := range batches {
		if b.magic() == 2 {
			rs, err := b.records()
			if err != nil {
				return nil, recordsError(err)
			}
			for i, r := range rs {
				if err := rules.check(r.Key, r.Offset, r.Timestamp, b.timestampType() == timestampLogAppend); err != nil {
					return nil, err
				}
				if len(r.Headers) > 0 {
					// MemoryRecordsBuilder's IllegalArgumentException: UNKNOWN_SERVER_ERROR in Kafka.
					return nil, fmt.Errorf("magic v%d does not support record headers (record %d)", toMagic, i)
				}
			}
			recs = append(recs, rs...)
			continue
		}
		w, err := parseLegacy(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
		}
		wrapperLAT := w.magic > 0 && w.attrs&attrTimestampType != 0
		msgs := []legacyMessage{w}
		wrapped := w.attrs&attrCodecMask != CodecNone
		if wrapped {
			if msgs, err = legacyInner(w); err != nil {
				return nil, err
			}
		}
		for i, m := range msgs {
			if wrapped {
				if m.magic != w.magic {
					return nil, fmt.Errorf("%w: record magic %d does not match outer magic %d", ErrInvalidRecord, m.magic, w.magic)
				}
				if m.attrs&attrCodecMask != CodecNone {
					return nil, fmt.Errorf("%w: compressed outer record should not have an inner record with a compression attribute set", ErrInvalidRecord)
				}
			}
			ts := m.timestamp
			if w.magic == 0 {
				ts = noTimestamp
			} else if wrapperLAT {
				ts = w.timestamp
			}
			if err := rules.check(m.key, next+int64(len(recs)), ts, wrapperLAT); err != nil {
				return nil, err
			}
			if w.magic > 0 && toMagic > 0 {
				maxTs = max(maxTs, ts)
				if m.offset != int64(i) {
					inPlace = false // some old clients got magic 1 inner offsets wrong: rebuild
				}
			}
			recs = append(recs, Record{Timestamp: ts, Key: m.key, Value: m.value})
		}
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: message set has no messages", ErrInvalidRecord)
	}
	if compressed {
		v.conversion.TempBytes = recordBytes(recs) // decompressed to be validated
	}
	last := next + int64(len(recs)) - 1
	if inPlace {
		// Only the wrapper changes: its offset becomes the last inner offset, its timestamp the max (or the append
		// time) with the CRC redone when that changed.
		out := alloc.get(len(first))
		copy(out, first)
		if rules.appendTime {
			maxTs = now
		}
		setLegacyTimestamp(out, rules.appendTime, maxTs)
		binary.BigEndian.PutUint64(out, uint64(last))
		return legacyResult(v, out, next, last, maxTs, last, len(recs), false, cfg)
	}
	lat := int64(-1)
	if rules.appendTime {
		lat = now
	}
	out, mts, offMax, err := buildLegacy(nil, toMagic, codec, lat, next, recs)
	if err != nil {
		return nil, err
	}
	return legacyResult(v, out, next, last, mts, offMax, len(recs), true, cfg)
}

// assignLegacyInPlace is LogValidator.assignOffsetsNonCompressed for uncompressed magic 0/1 messages going into a
// log of the same format: the offset fields are rewritten (outside the CRC), and for magic 1 the timestamp type
// and, with LogAppendTime, the timestamp, recomputing the CRC when they change.
func assignLegacyInPlace(batches []batch, next int64, magic int8, rules *recordRules, alloc Alloc, v *validated) (*validated, error) {
	total := 0
	for _, b := range batches {
		total += len(b)
	}
	out := alloc.get(total)[:0]
	maxTs, offMax := noTimestamp, int64(-1)
	off := next
	for _, b := range batches {
		m, err := parseLegacy(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
		}
		lat := magic > 0 && m.attrs&attrTimestampType != 0
		ts := m.timestamp
		if magic == 0 {
			ts = noTimestamp
		}
		if err := rules.check(m.key, off, ts, lat); err != nil {
			return nil, err
		}
		start := len(out)
		out = append(out, b...)
		e := out[start:]
		binary.BigEndian.PutUint64(e, uint64(off))
		if magic > 0 {
			if ts > maxTs {
				maxTs, offMax = ts, off
			}
			if rules.appendTime {
				setLegacyTimestamp(e, true, rules.now)
			} else {
				setLegacyTimestamp(e, false, ts)
			}
		}
		off++
	}
	if rules.appendTime {
		maxTs, offMax = rules.now, next
	}
	out2, err := splitBatches(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	v.records, v.batches = out, out2
	v.lastOffset, v.maxTimestamp, v.offsetOfMaxTs, v.numMessages = off-1, maxTs, offMax, len(batches)
	return v, nil
}

// setLegacyTimestamp is LegacyRecordBatch.setMaxTimestamp for a magic 1 entry e (offset and size included): the
// timestamp type bit and the timestamp are written and the CRC redone, only when something changes.
func setLegacyTimestamp(e []byte, logAppend bool, ts int64) {
	if e[16] == 0 {
		return
	}
	attrs := e[17] &^ attrTimestampType
	if logAppend {
		attrs |= attrTimestampType
	}
	if attrs == e[17] && int64(binary.BigEndian.Uint64(e[18:])) == ts {
		return
	}
	e[17] = attrs
	binary.BigEndian.PutUint64(e[18:], uint64(ts))
	binary.BigEndian.PutUint32(e[12:], legacyCRC(e, 16))
}

// buildLegacy is MemoryRecordsBuilder for magic 0/1: recs get offsets next, next+1, ... and, with logAppendTime >= 0,
// that timestamp. A codec other than none makes one wrapper (inner offsets absolute for magic 0, relative for
// magic 1; the wrapper's offset is the last one). maxTs and offMax are the builder's RecordsInfo.
func buildLegacy(dst []byte, toMagic, codec int8, logAppendTime, next int64, recs []Record) (out []byte, maxTs, offMax int64, err error) {
	var attrs int8
	if toMagic > 0 && logAppendTime >= 0 {
		attrs = attrTimestampType
	}
	maxTs, offMax = noTimestamp, -1
	last := next + int64(len(recs)) - 1
	var inner []byte
	for i, r := range recs {
		off, ts := next+int64(i), r.Timestamp
		if logAppendTime >= 0 {
			ts = logAppendTime
		}
		if toMagic > 0 && ts > maxTs {
			maxTs, offMax = ts, off
		}
		if codec == CodecNone {
			dst = appendLegacyMessage(dst, toMagic, off, attrs, ts, r.Key, r.Value)
			continue
		}
		if toMagic > 0 {
			off = int64(i)
		}
		inner = appendLegacyMessage(inner, toMagic, off, attrs, ts, r.Key, r.Value)
	}
	if codec != CodecNone {
		z, err := legacyCompress(toMagic, codec, inner)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("build message set: %w", err)
		}
		wts := maxTs
		if logAppendTime >= 0 {
			wts = logAppendTime
		}
		dst = appendLegacyMessage(dst, toMagic, last, attrs|codec, wts, nil, z)
	}
	switch {
	case logAppendTime >= 0:
		maxTs, offMax = logAppendTime, next
		if codec != CodecNone {
			offMax = last
		}
	case maxTs == noTimestamp, codec != CodecNone:
		offMax = last
	}
	return dst, maxTs, offMax, nil
}

func legacyResult(v *validated, out []byte, first, last, maxTs, offMax int64, n int, converted bool, cfg *Config) (*validated, error) {
	bs, err := splitBatches(out)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if converted {
		for _, b := range bs {
			if cfg.MaxMessageBytes > 0 && len(b) > int(cfg.MaxMessageBytes) {
				return nil, fmt.Errorf("%w: converted message of %d bytes exceeds max.message.bytes %d", ErrRecordTooLarge, len(b), cfg.MaxMessageBytes)
			}
		}
	}
	v.records, v.batches = out, bs
	v.firstOffset, v.lastOffset, v.maxTimestamp, v.offsetOfMaxTs, v.numMessages = first, last, maxTs, offMax, n
	v.converted = converted
	if converted {
		v.conversion.Records = n
		v.conversion.TempBytes += int64(len(out))
	}
	return v, nil
}

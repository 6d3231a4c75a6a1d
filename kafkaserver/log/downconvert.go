package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// AppendDownConverted appends records rewritten as magic toMagic message sets to dst and returns the extended
// buffer; the rules are DownConvert's. Uncompressed v2 batches (what fetches of old clients almost always read)
// are converted in one pass straight into dst, sized once from the batch headers, with no per-record allocation.
func AppendDownConverted(dst, records []byte, toMagic int8) ([]byte, error) {
	return AppendDownConvertedFrom(dst, records, toMagic, math.MinInt64)
}

// AppendDownConvertedFrom is AppendDownConverted for a fetch from offset from: the records of uncompressed v2
// batches below it are left out, as Kafka's RecordsUtil.downConvert does (an old consumer expects an uncompressed
// message set to start at its fetch offset; a compressed wrapper is kept whole).
func AppendDownConvertedFrom(dst, records []byte, toMagic int8, from int64) ([]byte, error) {
	if toMagic != 0 && toMagic != 1 {
		return nil, fmt.Errorf("down-convert to magic %d: %w", toMagic, ErrInvalidRecord)
	}
	if need := downConvertedSizeBound(records, toMagic); cap(dst)-len(dst) < need {
		dst = append(make([]byte, 0, len(dst)+need), dst...)
	}
	var scratch []byte // inner message set of a compressed batch, reused
	for len(records) > 0 {
		b, err := nextBatch(records)
		if errors.Is(err, errShort) {
			break // a truncated trailing batch is dropped, as a client would
		}
		if err != nil {
			return nil, fmt.Errorf("down-convert: %w", err)
		}
		records = records[len(b):]
		if b.magic() <= toMagic {
			dst = append(dst, b...)
			continue
		}
		if b.isControl() {
			continue
		}
		codec := b.codec()
		if codec == CodecZstd {
			return nil, fmt.Errorf("down-convert batch at %d: %w: zstd", b.offsetField(), ErrUnsupportedCompression)
		}
		if b.magic() != 2 {
			// Magic 1 to magic 0: rare (a log written by an old broker read by a very old client).
			if dst, err = appendLegacyDownConverted(dst, b, toMagic); err != nil {
				return nil, err
			}
			continue
		}
		var attrs int8
		logAppend := b.timestampType() == timestampLogAppend
		if toMagic == 1 && logAppend {
			attrs = attrTimestampType
		}
		if codec == CodecNone {
			if dst, _, _, err = appendV2AsLegacy(dst, b, b[v2HeaderSize:], toMagic, attrs, false, from); err != nil {
				return nil, err
			}
			continue
		}
		payload, err := decompress(codec, b[v2HeaderSize:])
		if err != nil {
			return nil, fmt.Errorf("down-convert: batch at offset %d: %w", b.offsetField(), err)
		}
		inner, last, maxTs, err := appendV2AsLegacy(scratch[:0], b, payload, toMagic, attrs, true, math.MinInt64)
		if err != nil {
			return nil, err
		}
		scratch = inner
		if last < 0 {
			continue // no records
		}
		if logAppend {
			maxTs = b.maxTimestamp()
		}
		z, err := legacyCompress(toMagic, codec, inner)
		if err != nil {
			return nil, fmt.Errorf("down-convert: %w", err)
		}
		dst = appendLegacyMessage(dst, toMagic, last, attrs|codec, maxTs, nil, z)
	}
	return dst, nil
}

// DownConvertedSizeBound is an upper bound of the bytes AppendDownConverted appends for records, when they hold
// no compressed batches; with compressed ones it may grow the buffer once more.
func DownConvertedSizeBound(records []byte, toMagic int8) int {
	return downConvertedSizeBound(records, toMagic)
}

// downConvertedSizeBound bounds the converted size from batch headers alone: every v2 record becomes at most its
// key and value (no more than the batch's payload) plus a legacy entry's fixed overhead. Compressed batches are
// counted at their stored size; their wrapper may need a second growth.
func downConvertedSizeBound(records []byte, toMagic int8) int {
	per := logOverhead + legacyOverheadV0
	if toMagic == 1 {
		per = logOverhead + legacyOverheadV1
	}
	n := 0
	for len(records) > 0 {
		b, err := nextBatch(records)
		if err != nil {
			break
		}
		records = records[len(b):]
		if b.magic() != 2 || b.codec() != CodecNone {
			n += len(b) + per
			continue
		}
		// The header's count is trusted only as far as the payload can hold records (7 bytes at least each): a
		// damaged batch must not make a fetch allocate gigabytes.
		count := min(int(max(b.v2Count(), 0)), (len(b)-v2HeaderSize)/minV2RecordLen)
		n += len(b) - v2HeaderSize + count*per
	}
	return n
}

// minV2RecordLen is the smallest v2 record: length, attributes, timestamp and offset deltas, key and value lengths
// and header count, one byte each.
const minV2RecordLen = 7

// appendV2AsLegacy appends the records of v2 batch b (payload already decompressed) as legacy entries. With
// inner, offsets are relative for magic 1 (the wrapper's inner form) and the records' max timestamp is returned.
// last is the last record's absolute offset, -1 when there were none. Records below from are left out.
func appendV2AsLegacy(dst []byte, b batch, payload []byte, toMagic, attrs int8, inner bool, from int64) (out []byte, last, maxTs int64, err error) {
	n := int(b.v2Count())
	base, baseTs := b.offsetField(), b.v2BaseTimestamp()
	logAppend := b.timestampType() == timestampLogAppend
	batchMaxTs := b.maxTimestamp()
	last, maxTs = -1, noTimestamp
	r := reader{p: payload}
	for i := 0; i < n; i++ {
		l := r.varint()
		if r.err != nil || l < 0 || l > int64(len(r.p)) {
			return nil, 0, 0, fmt.Errorf("down-convert: %w: record %d length", ErrCorrupt, i)
		}
		rr := reader{p: r.p[:l]}
		r.p = r.p[l:]
		rr.byte1() // record attributes: unused
		tsDelta := rr.varint()
		offDelta := rr.varint()
		key := rr.varBytes()
		value := rr.varBytes()
		hc := rr.varint()
		if hc < 0 || hc > int64(len(rr.p)) {
			return nil, 0, 0, fmt.Errorf("down-convert: %w: header count", ErrCorrupt)
		}
		for j := int64(0); j < hc; j++ { // headers have no legacy form: skipped
			rr.varBytes()
			rr.varBytes()
		}
		if rr.err != nil || len(rr.p) != 0 {
			return nil, 0, 0, fmt.Errorf("down-convert: %w: record %d of batch at %d malformed", ErrCorrupt, i, base)
		}
		off, ts := base+offDelta, baseTs+tsDelta
		if off < from {
			continue
		}
		if logAppend {
			ts = batchMaxTs
		}
		last, maxTs = off, max(maxTs, ts)
		if inner && toMagic == 1 {
			off = int64(i) // magic 1 inner offsets are relative to the wrapper
		}
		dst = appendLegacyMessage(dst, toMagic, off, attrs, ts, key, value)
	}
	if len(r.p) != 0 {
		return nil, 0, 0, fmt.Errorf("down-convert: %w: %d trailing bytes after %d records", ErrCorrupt, len(r.p), n)
	}
	return dst, last, maxTs, nil
}

// appendLegacyDownConverted converts a magic 1 entry (maybe a compressed wrapper) to magic 0.
func appendLegacyDownConverted(dst []byte, b batch, toMagic int8) ([]byte, error) {
	recs, err := b.records()
	if err != nil {
		return nil, fmt.Errorf("down-convert: %w", err)
	}
	if len(recs) == 0 {
		return dst, nil
	}
	codec := b.codec()
	if codec == CodecNone {
		for _, r := range recs {
			dst = appendLegacyMessage(dst, toMagic, r.Offset, 0, r.Timestamp, r.Key, r.Value)
		}
		return dst, nil
	}
	var inner []byte
	for _, r := range recs {
		inner = appendLegacyMessage(inner, toMagic, r.Offset, 0, r.Timestamp, r.Key, r.Value)
	}
	z, err := legacyCompress(toMagic, codec, inner)
	if err != nil {
		return nil, fmt.Errorf("down-convert: %w", err)
	}
	return appendLegacyMessage(dst, toMagic, recs[len(recs)-1].Offset, codec, noTimestamp, nil, z), nil
}

// appendLegacyMessage appends one magic 0/1 log entry (offset, size, crc, magic, attributes, [timestamp], key,
// value), as encodeLegacy builds it, without an allocation of its own.
func appendLegacyMessage(dst []byte, magic int8, offset int64, attrs int8, ts int64, key, value []byte) []byte {
	size := legacyOverheadV0 + len(key) + len(value)
	if magic == 1 {
		size += 8
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, uint64(offset))
	dst = binary.BigEndian.AppendUint32(dst, uint32(size))
	dst = append(dst, 0, 0, 0, 0, byte(magic), byte(attrs))
	if magic == 1 {
		dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	}
	dst = appendBytes32(dst, key)
	dst = appendBytes32(dst, value)
	binary.BigEndian.PutUint32(dst[start+12:], legacyCRC(dst, start+16))
	return dst
}

// NeedsDownConversion reports whether records (whole batches as read) hold a batch above toMagic, which a Fetch
// v0-v3 must convert (RecordsUtil's hasCompatibleMagic, negated). It reads one byte per batch header; when it is
// false AppendDownConverted would copy records unchanged, so they can be sent as they are. A log whose
// Config.RecordVersion() is <= toMagic needs no look at all (KafkaApis skips the scan the same way), unless its
// format was lowered after newer batches were written.
func NeedsDownConversion(records []byte, toMagic int8) bool {
	for len(records) >= logOverhead+5 {
		if int8(records[16]) > toMagic {
			return true
		}
		size := int64(int32(binary.BigEndian.Uint32(records[8:])))
		if size < legacyOverheadV0 || int64(len(records)) < logOverhead+size {
			return false // a trailing partial batch is dropped by the conversion too
		}
		records = records[logOverhead+size:]
	}
	return false
}

// SplitForDownConversion cuts records into at most n runs of whole batches of about equal size, to be converted on
// several cores, when every batch is one whose converted size DownConvertedSizeBound bounds exactly batch by batch
// (a batch already at toMagic or below, or an uncompressed v2 batch): the runs' bounds then add up to the whole's,
// and each run can be converted into its own part of one buffer. Otherwise, or for n < 2, it returns records whole.
func SplitForDownConversion(records []byte, toMagic int8, n int) [][]byte {
	if n < 2 {
		return [][]byte{records}
	}
	per := max(len(records)/n, 1)
	runs := make([][]byte, 0, n)
	start, at := 0, 0
	for rest := records; len(rest) > 0; {
		b, err := nextBatch(rest)
		if err != nil {
			break // a trailing partial batch stays with the last run, where the conversion drops it
		}
		if b.magic() > toMagic && (b.magic() != 2 || b.codec() != CodecNone) {
			return [][]byte{records}
		}
		rest = rest[len(b):]
		at += len(b)
		if at-start >= per && len(runs) < n-1 {
			runs = append(runs, records[start:at])
			start = at
		}
	}
	return append(runs, records[start:])
}

// ConvertedRecordCount is how many records a down-conversion of records to toMagic rewrites, from the batch
// headers alone: the records of v2 batches (control batches are dropped, not converted), one per magic 1 entry
// going to magic 0. Records of an uncompressed batch below the fetch offset, which the conversion leaves out,
// are counted too: Kafka's meters see the whole batches read.
func ConvertedRecordCount(records []byte, toMagic int8) int {
	n := 0
	for len(records) >= logOverhead+5 {
		size := int64(int32(binary.BigEndian.Uint32(records[8:])))
		if size < legacyOverheadV0 || int64(len(records)) < logOverhead+size {
			break
		}
		b := batch(records[:logOverhead+size])
		records = records[logOverhead+size:]
		switch m := b.magic(); {
		case m <= toMagic:
		case m == 2 && len(b) >= v2HeaderSize && !b.isControl():
			n += int(int32(binary.BigEndian.Uint32(b[57:])))
		case m < 2:
			n++
		}
	}
	return n
}

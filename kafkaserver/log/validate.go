package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
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
	// conversion is what Kafka's RecordConversionStats would say of this validation, but its time (the caller's).
	conversion Conversion
}

// Conversion is Kafka's RecordConversionStats for one partition of a produce or fetch: the records rewritten into
// another format or codec, how long that took, and the temporary memory it needed as Kafka estimates it (the bytes
// of records decompressed plus the bytes of records rebuilt, uncompressed; a fetch also counts the batches read).
type Conversion struct {
	Records   int
	Time      time.Duration
	TempBytes int64
}

// recordBytes is the size of recs as uncompressed v2 records (what Kafka's builders count as uncompressed bytes
// written, and what its validator adds up for records it decompresses).
func recordBytes(recs []Record) int64 {
	var n int64
	for i, r := range recs {
		l := plainRecordLen(0, int64(i), r.Key, r.Value)
		for _, h := range r.Headers {
			l += varintLen(int64(len(h.Key))) + len(h.Key) + varBytesLen(h.Value)
		}
		n += int64(varintLen(int64(l)) + l)
	}
	return n
}

// CheckProduceRecords is Kafka's ProduceRequest.validateRecords, which the broker runs before appending: from
// Produce v3 a partition's records are exactly one whole v2 batch, and zstd needs v7. Older versions are not
// checked (Kafka keeps accepting whatever magic old clients sent with them).
func CheckProduceRecords(version int16, records []byte) error {
	if version < 3 {
		return nil
	}
	b, err := nextBatch(records)
	switch {
	case errors.Is(err, errShort):
		return fmt.Errorf("%w: produce requests with version %d must have at least one record batch", ErrInvalidRecord, version)
	case err != nil:
		return err
	case b.magic() != 2:
		return fmt.Errorf("%w: produce requests with version %d are only allowed to contain record batches with magic version 2", ErrInvalidRecord, version)
	case version < 7 && b.codec() == CodecZstd:
		return fmt.Errorf("%w: produce requests with version %d are not allowed to use ZStandard compression", ErrUnsupportedCompression, version)
	}
	if _, err := nextBatch(records[len(b):]); err == nil {
		return fmt.Errorf("%w: produce requests with version %d are only allowed to contain exactly one record batch", ErrInvalidRecord, version)
	} else if !errors.Is(err, errShort) {
		return err
	}
	return nil
}

// recordsError classifies a batch whose records cannot be read: INVALID_RECORD, except a payload that does not
// decompress (errDecompress), which Kafka answers with UNKNOWN_SERVER_ERROR.
func recordsError(err error) error {
	if errors.Is(err, errDecompress) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalidRecord, err)
}

// wholeBatches drops a partial batch at the end of a producer's records: Kafka's batch iterator stops at one and
// Log.append trims the bytes it did not read, so only that batch is lost. A corrupt header is left for
// splitBatches to report.
func wholeBatches(p []byte) []byte {
	n := 0
	for n < len(p) {
		b, err := nextBatch(p[n:])
		if errors.Is(err, errShort) {
			return p[:n]
		}
		if err != nil {
			return p
		}
		n += len(b)
	}
	return p
}

// validateLeader follows Kafka 2.8's LogValidator.validateMessagesAndAssignOffsets, storing the record version of
// the log's message.format.version: for v2, v2 batches get offsets, leader epoch and (for LogAppendTime) the max
// timestamp set in place and magic 0/1 message sets are up-converted to one v2 batch; for magic 0/1 see
// validateToLegacy.
func validateLeader(records []byte, next int64, leaderEpoch int32, cfg *Config, now int64, alloc Alloc) (*validated, error) {
	toMagic := cfg.RecordVersion()
	if toMagic == 2 && cfg.targetCodec(CodecNone) == CodecNone {
		// Plain magic 0/1 message sets into plain v2 batches (a compression.type would compress them: upConvert).
		if v, ok, err := upConvertPlain(records, next, leaderEpoch, cfg, now, alloc); ok || err != nil {
			return v, err
		}
	}
	batches, err := splitBatches(records)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(batches) == 0 {
		return nil, fmt.Errorf("%w: record set has no batches", ErrInvalidRecord)
	}
	legacy, compressed := false, false
	source := CodecNone // the producer's codec: the last batch's that has one, as LogValidator takes it
	for _, b := range batches {
		if cfg.MaxMessageBytes > 0 && len(b) > int(cfg.MaxMessageBytes) {
			return nil, fmt.Errorf("%w: batch of %d bytes exceeds max.message.bytes %d", ErrRecordTooLarge, len(b), cfg.MaxMessageBytes)
		}
		if err := b.validate(); err != nil {
			return nil, err
		}
		legacy = legacy || b.magic() < 2
		if b.codec() != CodecNone {
			compressed, source = true, b.codec()
		}
	}
	target := cfg.targetCodec(source)
	if (batches[0].magic() == 2 || compressed) && len(batches) > 1 {
		return nil, fmt.Errorf("%w: compressed outer record has more than one batch", ErrInvalidRecord)
	}
	for _, b := range batches {
		if b.magic() != batches[0].magic() {
			return nil, fmt.Errorf("%w: batch magic %d is not the same as the first batch's magic byte %d", ErrInvalidRecord, b.magic(), batches[0].magic())
		}
		if b.magic() == 2 {
			if err := checkV2Batch(b); err != nil {
				return nil, err
			}
		}
		if err := checkBatchFormat(b, toMagic); err != nil {
			return nil, err
		}
	}
	logAppend := cfg.MessageTimestampType == "LogAppendTime"
	v := &validated{firstOffset: next, logAppendTime: -1}
	if logAppend {
		v.logAppendTime = now
	}
	if toMagic < 2 {
		return validateToLegacy(batches, next, toMagic, compressed, target, cfg, now, alloc, v)
	}
	if legacy {
		return upConvert(batches, next, leaderEpoch, target, cfg, now, v)
	}

	b := batches[0]
	recs, err := b.records()
	if err != nil {
		return nil, recordsError(err)
	}
	maxTs := noTimestamp
	rules := rulesFor(cfg, now)
	for i, r := range recs {
		if r.Offset-b.offsetField() != int64(i) {
			return nil, fmt.Errorf("%w: record %d has offset delta %d", ErrInvalidRecord, i, r.Offset-b.offsetField())
		}
		if err := rules.check(r.Key, r.Offset, r.Timestamp, b.timestampType() == timestampLogAppend); err != nil {
			return nil, err
		}
		maxTs = max(maxTs, r.Timestamp)
	}
	if b.codec() != CodecNone || target != b.codec() {
		// Kafka's temporary memory: a compressed batch is decompressed to be validated, and a recompressed one
		// rebuilt; each counts the records' uncompressed size.
		size := v2HeaderSize + recordBytes(recs)
		if b.codec() != CodecNone {
			v.conversion.TempBytes = size
		}
		if target != b.codec() {
			v.conversion.TempBytes += size
			return recompressV2(b, recs, next, leaderEpoch, target, maxTs, cfg, v)
		}
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
	return v.oneBatch(nb, maxTs, len(recs)), nil
}

// recompressV2 stores v2 batch b's records (validated, maxTs their greatest timestamp) as one new batch compressed
// with codec, when compression.type differs from the producer's codec (LogValidator's buildRecordsAndAssignOffsets):
// the producer id, epoch and base sequence and the transactional flag carry over.
func recompressV2(b batch, recs []Record, next int64, leaderEpoch int32, codec int8, maxTs int64, cfg *Config, v *validated) (*validated, error) {
	for i := range recs {
		recs[i].Offset = next + int64(i)
	}
	h := v2Header{BaseOffset: next, LeaderEpoch: leaderEpoch, Codec: codec, LogAppendTime: v.logAppendTime,
		Transactional: b.isTransactional(), ProducerID: b.producerID(), ProducerEpoch: b.producerEpoch(),
		BaseSequence: b.baseSequence(), LastOffsetDelta: -1}
	out, err := encodeV2(h, recs)
	if err != nil {
		return nil, fmt.Errorf("recompress: %w", err)
	}
	if cfg.MaxMessageBytes > 0 && len(out) > int(cfg.MaxMessageBytes) {
		return nil, fmt.Errorf("%w: recompressed batch of %d bytes exceeds max.message.bytes %d", ErrRecordTooLarge, len(out), cfg.MaxMessageBytes)
	}
	nb := batch(out)
	if v.logAppendTime >= 0 {
		maxTs = v.logAppendTime
	}
	v.conversion.Records = len(recs)
	return v.oneBatch(nb, maxTs, len(recs)), nil
}

// oneBatch sets v to hold batch nb alone, with n records whose greatest timestamp is maxTs (its offset given as the
// batch's last, as Kafka reports it for v2).
func (v *validated) oneBatch(nb batch, maxTs int64, n int) *validated {
	v.records = nb
	v.batches = []batch{nb}
	v.lastOffset = nb.lastOffset()
	v.maxTimestamp = maxTs
	v.offsetOfMaxTs = nb.lastOffset()
	v.numMessages = n
	return v
}

func beUint32(p []byte) uint32 {
	return uint32(p[0])<<24 | uint32(p[1])<<16 | uint32(p[2])<<8 | uint32(p[3])
}

// recordRules are the per-record checks of a topic's config, worked out once per append rather than per record
// (the cleanup policy is a string to split).
type recordRules struct {
	compacted  bool
	checkTs    bool // CreateTime topic with message.timestamp.difference.max.ms set
	maxTsDiff  int64
	now        int64
	appendTime bool
}

func rulesFor(cfg *Config, now int64) recordRules {
	appendTime := cfg.MessageTimestampType == "LogAppendTime"
	return recordRules{compacted: cfg.isCompacted(), checkTs: !appendTime && cfg.MessageTimestampDifferenceMaxMs > 0,
		maxTsDiff: cfg.MessageTimestampDifferenceMaxMs, now: now, appendTime: appendTime}
}

// check validates one record's key and timestamp (LogValidator.validateKey, validateTimestamp).
func (rr *recordRules) check(key []byte, offset, ts int64, batchLogAppend bool) error {
	if rr.compacted && key == nil {
		return fmt.Errorf("%w: compacted topic cannot accept message without key", ErrInvalidRecord)
	}
	if rr.checkTs && !batchLogAppend && ts != noTimestamp {
		d := ts - rr.now
		if d < 0 {
			d = -d
		}
		if d > rr.maxTsDiff {
			return fmt.Errorf("%w: timestamp %d of message with offset %d is out of range", ErrInvalidTimestamp, ts, offset)
		}
	}
	return nil
}

// upConvertPlain is upConvert for what old producers send most: a message set of uncompressed magic 0/1
// messages. It checks and converts in two passes over the input, the first sizing the v2 batch exactly, the second
// writing it (into a buffer from alloc), with no per-record allocation. ok is false, with nothing done, for anything else (v2, compressed,
// malformed or oversized input): the general path handles those and words their errors.
func upConvertPlain(records []byte, next int64, leaderEpoch int32, cfg *Config, now int64, alloc Alloc) (*validated, bool, error) {
	if len(records) < logOverhead+5 || int8(records[16]) >= 2 {
		return nil, false, nil
	}
	rules := rulesFor(cfg, now)
	n, body := 0, 0
	baseTs, maxTs := noTimestamp, noTimestamp
	for p := records; len(p) > 0; {
		b, err := nextBatch(p)
		if err != nil || b.magic() >= 2 || b.magic() != int8(records[16]) || b.codec() != CodecNone ||
			(cfg.MaxMessageBytes > 0 && len(b) > int(cfg.MaxMessageBytes)) || b.validate() != nil {
			return nil, false, nil
		}
		p = p[len(b):]
		m, err := parseLegacy(b)
		if err != nil {
			return nil, false, nil
		}
		if err := rules.check(m.key, m.offset, m.timestamp, false); err != nil {
			return nil, true, err
		}
		if n == 0 {
			baseTs = m.timestamp
		}
		maxTs = max(maxTs, m.timestamp)
		l := plainRecordLen(m.timestamp-baseTs, int64(n), m.key, m.value)
		body += varintLen(int64(l)) + l
		n++
	}
	logAppendTime := int64(-1)
	if rules.appendTime {
		logAppendTime = now
		maxTs = now
	}
	total := v2HeaderSize + body
	if cfg.MaxMessageBytes > 0 && total > int(cfg.MaxMessageBytes) {
		return nil, true, fmt.Errorf("%w: up-converted batch of %d bytes exceeds max.message.bytes", ErrRecordTooLarge, total)
	}
	out := alloc.get(total)[:v2HeaderSize]
	i := int64(0)
	for p := records; len(p) > 0; i++ {
		b, _ := nextBatch(p)
		p = p[len(b):]
		m, _ := parseLegacy(b)
		ts := m.timestamp - baseTs
		out = binary.AppendVarint(out, int64(plainRecordLen(ts, i, m.key, m.value)))
		out = append(out, 0)
		out = binary.AppendVarint(out, ts)
		out = binary.AppendVarint(out, i)
		out = appendVarBytes(out, m.key)
		out = appendVarBytes(out, m.value)
		out = append(out, 0) // no headers
	}
	attr := uint16(0)
	if logAppendTime >= 0 {
		attr |= attrTimestampType
	}
	be := binary.BigEndian
	be.PutUint64(out[0:], uint64(next))
	be.PutUint32(out[8:], uint32(total-logOverhead))
	be.PutUint32(out[12:], uint32(leaderEpoch))
	out[16] = 2
	be.PutUint16(out[21:], attr)
	be.PutUint32(out[23:], uint32(n-1))
	be.PutUint64(out[27:], uint64(baseTs))
	be.PutUint64(out[35:], uint64(maxTs))
	be.PutUint64(out[43:], ^uint64(0)) // no producer id (-1)
	be.PutUint16(out[51:], 0xffff)     // producer epoch -1
	be.PutUint32(out[53:], 0xffffffff) // base sequence -1
	be.PutUint32(out[57:], uint32(n))
	nb := batch(out)
	nb.setV2CRC()
	return &validated{records: out, batches: []batch{nb}, firstOffset: next, lastOffset: next + int64(n) - 1,
		maxTimestamp: maxTs, offsetOfMaxTs: next + int64(n) - 1, numMessages: n, logAppendTime: logAppendTime,
		converted: true, conversion: Conversion{Records: n, TempBytes: int64(total)}}, true, nil
}

// plainRecordLen is the encoded size of a v2 record (without its length prefix) with no headers.
func plainRecordLen(tsDelta, offDelta int64, key, value []byte) int {
	return 1 + varintLen(tsDelta) + varintLen(offDelta) + varBytesLen(key) + varBytesLen(value) + 1
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func varintLen(v int64) int {
	u := zigzag(v)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func varBytesLen(b []byte) int {
	if b == nil {
		return 1 // varint -1
	}
	return varintLen(int64(len(b))) + len(b)
}

func upConvert(batches []batch, next int64, leaderEpoch int32, codec int8, cfg *Config, now int64, v *validated) (*validated, error) {
	var all []Record
	rules := rulesFor(cfg, now)
	for _, b := range batches {
		recs, err := b.records()
		if err != nil {
			return nil, recordsError(err)
		}
		if b.codec() != CodecNone {
			v.conversion.TempBytes += recordBytes(recs)
		}
		for _, r := range recs {
			if err := rules.check(r.Key, r.Offset, r.Timestamp, false); err != nil {
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
	v.conversion.Records = len(all)
	v.conversion.TempBytes += int64(v2HeaderSize) + recordBytes(all)
	return v, nil
}

// DownConvert rewrites v2 batches as magic 1 or magic 0 message sets for old fetchers (Fetch v0-v3),
// as Kafka's RecordsUtil does: control batches are dropped, headers are lost, a compressed batch becomes
// one compressed wrapper with the same codec, batches already at or below toMagic pass unchanged.
// Zstandard cannot be expressed in the old formats.
func DownConvert(records []byte, toMagic int8) ([]byte, error) {
	return AppendDownConverted(nil, records, toMagic)
}

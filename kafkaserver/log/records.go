package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Sizes and field positions of the two on-disk record formats (DefaultRecordBatch and LegacyRecord).
const (
	v2HeaderSize     = 61
	logOverhead      = 12 // offset int64 + size int32, shared by every format
	legacyOverheadV0 = 14 // crc, magic, attributes, key length, value length
	legacyOverheadV1 = 22 // plus timestamp

	attrCodecMask       = 0x07
	attrTimestampType   = 0x08
	attrTransactional   = 0x10
	attrControl         = 0x20
	noTimestamp         = int64(-1)
	noProducerID        = int64(-1)
	timestampCreateTime = 0
	timestampLogAppend  = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt marks bytes that are not a valid record batch (bad CRC, bad sizes, unknown magic).
var ErrCorrupt = errors.New("corrupt record batch")

// errShort marks a buffer that ends inside a batch.
var errShort = errors.New("incomplete record batch")

// Header is one v2 record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one logical record, whatever format it was stored in. Nil Key/Value mean null.
type Record struct {
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	Headers   []Header
}

// batch is one shallow entry of a log: a v2 RecordBatch or a legacy (magic 0/1) message, possibly a
// compressed wrapper.
type batch []byte

// nextBatch returns the batch at the start of p. errShort means p ends inside it.
func nextBatch(p []byte) (batch, error) {
	if len(p) < logOverhead+5 {
		return nil, errShort
	}
	size := int32(binary.BigEndian.Uint32(p[8:]))
	if size < legacyOverheadV0 {
		return nil, fmt.Errorf("%w: size %d", ErrCorrupt, size)
	}
	magic := int8(p[16])
	switch {
	case magic == 2 && size < v2HeaderSize-logOverhead:
		return nil, fmt.Errorf("%w: v2 size %d", ErrCorrupt, size)
	case magic == 1 && size < legacyOverheadV1:
		return nil, fmt.Errorf("%w: v1 size %d", ErrCorrupt, size)
	case magic < 0 || magic > 2:
		return nil, fmt.Errorf("%w: magic %d", ErrCorrupt, magic)
	}
	total := int64(size) + logOverhead
	if int64(len(p)) < total {
		return nil, errShort
	}
	return batch(p[:total]), nil
}

// splitBatches cuts a buffer into whole batches; a trailing partial batch is an error.
func splitBatches(p []byte) ([]batch, error) {
	out, n, err := splitWholeBatches(p)
	if err == nil && n < len(p) {
		err = errShort
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// splitWholeBatches cuts a buffer into whole batches up to a trailing partial one and returns their length.
func splitWholeBatches(p []byte) ([]batch, int, error) {
	var out []batch
	n := 0
	for n < len(p) {
		b, err := nextBatch(p[n:])
		if errors.Is(err, errShort) {
			break
		}
		if err != nil {
			return nil, n, err
		}
		out = append(out, b)
		n += len(b)
	}
	return out, n, nil
}

func (b batch) magic() int8        { return int8(b[16]) }
func (b batch) offsetField() int64 { return int64(binary.BigEndian.Uint64(b)) }

func (b batch) attributes() int16 {
	if b.magic() == 2 {
		return int16(binary.BigEndian.Uint16(b[21:]))
	}
	return int16(b[17])
}

func (b batch) codec() int8 { return int8(b.attributes() & attrCodecMask) }

func (b batch) timestampType() int {
	if b.magic() > 0 && b.attributes()&attrTimestampType != 0 {
		return timestampLogAppend
	}
	return timestampCreateTime
}

func (b batch) isControl() bool {
	return b.magic() == 2 && b.attributes()&attrControl != 0
}

func (b batch) isTransactional() bool {
	return b.magic() == 2 && b.attributes()&attrTransactional != 0
}

// lastOffset is what Kafka indexes: the v2 base plus delta, or a legacy entry's offset (a compressed
// legacy wrapper carries the offset of its last inner message).
func (b batch) lastOffset() int64 {
	if b.magic() == 2 {
		return b.offsetField() + int64(int32(binary.BigEndian.Uint32(b[23:])))
	}
	return b.offsetField()
}

// baseOffset is the first offset of the batch; compressed legacy wrappers need a deep look.
func (b batch) baseOffset() (int64, error) {
	if b.magic() == 2 || b.codec() == CodecNone {
		return b.offsetField(), nil
	}
	recs, err := b.records()
	if err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return b.offsetField(), nil
	}
	return recs[0].Offset, nil
}

func (b batch) maxTimestamp() int64 {
	switch b.magic() {
	case 2:
		return int64(binary.BigEndian.Uint64(b[35:]))
	case 1:
		return int64(binary.BigEndian.Uint64(b[18:]))
	}
	return noTimestamp
}

func (b batch) leaderEpoch() int32 {
	if b.magic() == 2 {
		return int32(binary.BigEndian.Uint32(b[12:]))
	}
	return -1
}

func (b batch) producerID() int64 {
	if b.magic() == 2 {
		return int64(binary.BigEndian.Uint64(b[43:]))
	}
	return noProducerID
}

func (b batch) v2Count() int32           { return int32(binary.BigEndian.Uint32(b[57:])) }
func (b batch) v2LastOffsetDelta() int32 { return int32(binary.BigEndian.Uint32(b[23:])) }
func (b batch) v2BaseTimestamp() int64   { return int64(binary.BigEndian.Uint64(b[27:])) }

// validate checks the CRC (CRC-32C over attributes..end for v2, CRC-32 over magic..end for legacy).
func (b batch) validate() error {
	if b.magic() == 2 {
		if len(b) < v2HeaderSize {
			return fmt.Errorf("%w: short v2 batch", ErrCorrupt)
		}
		want := binary.BigEndian.Uint32(b[17:])
		if got := crc32.Checksum(b[21:], castagnoli); got != want {
			return fmt.Errorf("%w: crc %08x, stored %08x", ErrCorrupt, got, want)
		}
		if b.v2Count() < 0 {
			return fmt.Errorf("%w: negative record count", ErrCorrupt)
		}
		return nil
	}
	want := binary.BigEndian.Uint32(b[12:])
	if got := legacyCRC(b, 16); got != want {
		return fmt.Errorf("%w: crc %08x, stored %08x", ErrCorrupt, got, want)
	}
	return nil
}

// setV2CRC recomputes the CRC after an in-place header change.
func (b batch) setV2CRC() {
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
}

// setBaseOffset writes the base offset in place; it is outside the CRC for v2.
func (b batch) setBaseOffset(off int64) { binary.BigEndian.PutUint64(b, uint64(off)) }

func (b batch) setLeaderEpoch(e int32) { binary.BigEndian.PutUint32(b[12:], uint32(e)) }

// setMaxTimestamp mirrors DefaultRecordBatch.setMaxTimestamp: only rewrites when something changes.
func (b batch) setMaxTimestamp(tsType int, ts int64) {
	if b.timestampType() == tsType && b.maxTimestamp() == ts {
		return
	}
	attr := b.attributes() &^ attrTimestampType
	if tsType == timestampLogAppend {
		attr |= attrTimestampType
	}
	binary.BigEndian.PutUint16(b[21:], uint16(attr))
	binary.BigEndian.PutUint64(b[35:], uint64(ts))
	b.setV2CRC()
}

// records decodes every logical record of the batch (decompressing when needed).
func (b batch) records() ([]Record, error) {
	if b.magic() == 2 {
		return b.v2Records()
	}
	return b.legacyRecords()
}

func (b batch) v2Records() ([]Record, error) {
	payload, err := decompress(b.codec(), b[v2HeaderSize:])
	if err != nil {
		return nil, fmt.Errorf("batch at offset %d: %w", b.offsetField(), err)
	}
	n := int(b.v2Count())
	base, baseTs := b.offsetField(), b.v2BaseTimestamp()
	logAppend := b.timestampType() == timestampLogAppend
	maxTs := b.maxTimestamp()
	out := make([]Record, 0, min(n, len(payload)/7+1))
	r := reader{p: payload}
	for i := 0; i < n; i++ {
		l := r.varint()
		if r.err != nil || l < 0 || l > int64(len(r.p)) {
			return nil, fmt.Errorf("%w: record %d length", ErrCorrupt, i)
		}
		rr := reader{p: r.p[:l]}
		r.p = r.p[l:]
		rr.byte1() // unused record attributes
		tsDelta := rr.varint()
		offDelta := rr.varint()
		rec := Record{Offset: base + offDelta, Timestamp: baseTs + tsDelta}
		if logAppend {
			rec.Timestamp = maxTs
		}
		rec.Key = rr.varBytes()
		rec.Value = rr.varBytes()
		hc := rr.varint()
		if hc < 0 || hc > int64(len(rr.p)) {
			return nil, fmt.Errorf("%w: header count", ErrCorrupt)
		}
		for j := int64(0); j < hc; j++ {
			k := rr.varBytes()
			v := rr.varBytes()
			rec.Headers = append(rec.Headers, Header{Key: string(k), Value: v})
		}
		if rr.err != nil || len(rr.p) != 0 {
			return nil, fmt.Errorf("%w: record %d of batch at %d malformed", ErrCorrupt, i, base)
		}
		out = append(out, rec)
	}
	if len(r.p) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after %d records", ErrCorrupt, len(r.p), n)
	}
	return out, nil
}

// legacyMessage parses one magic 0/1 log entry (offset, size, message) without decompressing.
type legacyMessage struct {
	offset    int64
	magic     int8
	attrs     int8
	timestamp int64
	key       []byte
	value     []byte
}

func parseLegacy(b []byte) (legacyMessage, error) {
	var m legacyMessage
	if len(b) < logOverhead+legacyOverheadV0 {
		return m, fmt.Errorf("%w: short legacy message", ErrCorrupt)
	}
	m.offset = int64(binary.BigEndian.Uint64(b))
	m.magic = int8(b[16])
	m.attrs = int8(b[17])
	m.timestamp = noTimestamp
	r := reader{p: b[18:]}
	if m.magic == 1 {
		m.timestamp = r.int64()
	}
	m.key = r.bytes32()
	m.value = r.bytes32()
	if r.err != nil || len(r.p) != 0 {
		return m, fmt.Errorf("%w: malformed legacy message at %d", ErrCorrupt, m.offset)
	}
	return m, nil
}

func (b batch) legacyRecords() ([]Record, error) {
	w, err := parseLegacy(b)
	if err != nil {
		return nil, err
	}
	codec := w.attrs & attrCodecMask
	if codec == CodecNone {
		return []Record{{Offset: w.offset, Timestamp: w.timestamp, Key: w.key, Value: w.value}}, nil
	}
	inner, err := legacyDecompress(w.magic, codec, w.value)
	if err != nil {
		return nil, fmt.Errorf("legacy wrapper at %d: %w", w.offset, err)
	}
	var msgs []legacyMessage
	for len(inner) > 0 {
		ib, err := nextBatch(inner)
		if err != nil {
			return nil, fmt.Errorf("inner message of wrapper at %d: %w", w.offset, err)
		}
		m, err := parseLegacy(ib)
		if err != nil {
			return nil, err
		}
		if m.attrs&attrCodecMask != 0 {
			return nil, fmt.Errorf("%w: nested compression at %d", ErrCorrupt, w.offset)
		}
		msgs = append(msgs, m)
		inner = inner[len(ib):]
	}
	out := make([]Record, 0, len(msgs))
	var shift int64
	if w.magic > 0 && len(msgs) > 0 {
		// Magic 1 inner offsets are relative; the wrapper holds the absolute offset of the last one.
		shift = w.offset - msgs[len(msgs)-1].offset
	}
	for _, m := range msgs {
		ts := m.timestamp
		if w.magic > 0 && w.attrs&attrTimestampType != 0 {
			ts = w.timestamp
		}
		if m.magic == 0 {
			ts = noTimestamp
		}
		out = append(out, Record{Offset: m.offset + shift, Timestamp: ts, Key: m.key, Value: m.value})
	}
	return out, nil
}

// v2Header holds the fields of a batch header that survive re-encoding.
type v2Header struct {
	BaseOffset      int64
	LeaderEpoch     int32
	Codec           int8
	LogAppendTime   int64 // >= 0: LogAppendTime batch with this max timestamp
	Transactional   bool
	Control         bool
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	LastOffsetDelta int32 // < 0: derived from the records
}

// encodeV2 builds one magic 2 batch; used only where Kafka itself rebuilds batches (up-conversion,
// compaction), never for ordinary appends.
func encodeV2(h v2Header, recs []Record) ([]byte, error) {
	baseTs, maxTs := noTimestamp, noTimestamp
	if len(recs) > 0 {
		baseTs = recs[0].Timestamp
	}
	for _, r := range recs {
		maxTs = max(maxTs, r.Timestamp)
	}
	var body []byte
	var tmp [binary.MaxVarintLen64]byte
	for _, r := range recs {
		var rec []byte
		rec = append(rec, 0)
		rec = binary.AppendVarint(rec, r.Timestamp-baseTs)
		rec = binary.AppendVarint(rec, r.Offset-h.BaseOffset)
		rec = appendVarBytes(rec, r.Key)
		rec = appendVarBytes(rec, r.Value)
		rec = binary.AppendVarint(rec, int64(len(r.Headers)))
		for _, hd := range r.Headers {
			rec = appendVarBytes(rec, []byte(hd.Key))
			rec = appendVarBytes(rec, hd.Value)
		}
		n := binary.PutVarint(tmp[:], int64(len(rec)))
		body = append(body, tmp[:n]...)
		body = append(body, rec...)
	}
	payload, err := compress(h.Codec, body)
	if err != nil {
		return nil, err
	}
	lastDelta := h.LastOffsetDelta
	if lastDelta < 0 {
		lastDelta = 0
		if len(recs) > 0 {
			lastDelta = int32(recs[len(recs)-1].Offset - h.BaseOffset)
		}
	}
	attr := int16(h.Codec) & attrCodecMask
	if h.LogAppendTime >= 0 {
		attr |= attrTimestampType
		maxTs = h.LogAppendTime
	}
	if h.Transactional {
		attr |= attrTransactional
	}
	if h.Control {
		attr |= attrControl
	}
	out := make([]byte, v2HeaderSize, v2HeaderSize+len(payload))
	be := binary.BigEndian
	be.PutUint64(out[0:], uint64(h.BaseOffset))
	be.PutUint32(out[8:], uint32(v2HeaderSize-logOverhead+len(payload)))
	be.PutUint32(out[12:], uint32(h.LeaderEpoch))
	out[16] = 2
	be.PutUint16(out[21:], uint16(attr))
	be.PutUint32(out[23:], uint32(lastDelta))
	be.PutUint64(out[27:], uint64(baseTs))
	be.PutUint64(out[35:], uint64(maxTs))
	be.PutUint64(out[43:], uint64(h.ProducerID))
	be.PutUint16(out[51:], uint16(h.ProducerEpoch))
	be.PutUint32(out[53:], uint32(h.BaseSequence))
	be.PutUint32(out[57:], uint32(len(recs)))
	out = append(out, payload...)
	batch(out).setV2CRC()
	return out, nil
}

func appendVarBytes(p, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(p, -1)
	}
	p = binary.AppendVarint(p, int64(len(b)))
	return append(p, b...)
}

// encodeLegacy builds one magic 0/1 log entry (offset, size, crc, magic, attributes, [timestamp], key, value).
func encodeLegacy(magic int8, offset int64, attrs int8, ts int64, key, value []byte) []byte {
	size := legacyOverheadV0 + len(key) + len(value)
	if magic == 1 {
		size += 8
	}
	out := make([]byte, 0, logOverhead+size)
	out = binary.BigEndian.AppendUint64(out, uint64(offset))
	out = binary.BigEndian.AppendUint32(out, uint32(size))
	out = append(out, 0, 0, 0, 0, byte(magic), byte(attrs))
	if magic == 1 {
		out = binary.BigEndian.AppendUint64(out, uint64(ts))
	}
	out = appendBytes32(out, key)
	out = appendBytes32(out, value)
	binary.BigEndian.PutUint32(out[12:], legacyCRC(out, 16))
	return out
}

func appendBytes32(p, b []byte) []byte {
	if b == nil {
		return binary.BigEndian.AppendUint32(p, 0xffffffff)
	}
	p = binary.BigEndian.AppendUint32(p, uint32(len(b)))
	return append(p, b...)
}

// reader decodes Kafka primitives, remembering the first error.
type reader struct {
	p   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated field", ErrCorrupt)
	}
	r.p = nil
}

func (r *reader) byte1() byte {
	if len(r.p) < 1 {
		r.fail()
		return 0
	}
	v := r.p[0]
	r.p = r.p[1:]
	return v
}

func (r *reader) int64() int64 {
	if len(r.p) < 8 {
		r.fail()
		return 0
	}
	v := int64(binary.BigEndian.Uint64(r.p))
	r.p = r.p[8:]
	return v
}

// varint reads a zigzag varint. Record fields are mostly one or two bytes long (deltas, lengths below 8 KiB), which
// are decoded inline here: binary.Varint's loop was a fifth of a down-conversion's time.
func (r *reader) varint() int64 {
	if p := r.p; len(p) >= 2 {
		if p[0] < 0x80 {
			r.p = p[1:]
			return int64(p[0]>>1) ^ -int64(p[0]&1)
		}
		if p[1] < 0x80 {
			u := uint64(p[0]&0x7f) | uint64(p[1])<<7
			r.p = p[2:]
			return int64(u>>1) ^ -int64(u&1)
		}
	}
	return r.varintSlow()
}

func (r *reader) varintSlow() int64 {
	v, n := binary.Varint(r.p)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.p = r.p[n:]
	return v
}

func (r *reader) varBytes() []byte {
	n := r.varint()
	if r.err != nil || n < 0 {
		return nil
	}
	if n > int64(len(r.p)) {
		r.fail()
		return nil
	}
	v := r.p[:n:n]
	r.p = r.p[n:]
	return v
}

func (r *reader) bytes32() []byte {
	if len(r.p) < 4 {
		r.fail()
		return nil
	}
	n := int32(binary.BigEndian.Uint32(r.p))
	r.p = r.p[4:]
	if n < 0 {
		return nil
	}
	if int(n) > len(r.p) {
		r.fail()
		return nil
	}
	v := r.p[:n:n]
	r.p = r.p[n:]
	return v
}

// DecodeRecords returns the logical records of every whole batch in p (any magic, decompressed); a
// trailing partial batch, as a Fetch response may end with, is ignored. Control batches are included.
func DecodeRecords(p []byte) ([]Record, error) {
	var out []Record
	for len(p) > 0 {
		b, err := nextBatch(p)
		if errors.Is(err, errShort) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := b.validate(); err != nil {
			return nil, err
		}
		recs, err := b.records()
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		p = p[len(b):]
	}
	return out, nil
}

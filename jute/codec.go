// Package jute implements ZooKeeper's Jute binary encoding and the records that
// ZooKeeper 3.8 puts on the client wire, in txn logs, in snapshots and on the
// quorum port. The same record types serve all four uses.
package jute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// DefaultMaxBuffer is jute.maxbuffer's default (0xfffff), the largest frame and
// the largest single buffer or string a reader accepts.
const DefaultMaxBuffer = 0xfffff

// ErrShort is returned when a record ends before all its fields are read.
var ErrShort = errors.New("jute: record truncated")

// Record is any Jute record: fields in order, no tags, no length.
type Record interface {
	Encode(e *Encoder)
	Decode(d *Decoder)
}

// ReadFrame reads one frame of the client wire, a big-endian int32 length and that many bytes, and returns the
// bytes. A length below zero or above max fails before anything is allocated.
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(lb[:]))
	if n < 0 || int(n) > max {
		return nil, fmt.Errorf("frame length %d out of range (max %d)", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// Encoder appends Jute-encoded values to a byte slice.
type Encoder struct {
	Buf []byte
}

func (e *Encoder) Int(v int32) { e.Buf = binary.BigEndian.AppendUint32(e.Buf, uint32(v)) }
func (e *Encoder) Long(v int64) {
	e.Buf = binary.BigEndian.AppendUint64(e.Buf, uint64(v))
}
func (e *Encoder) Byte(v byte) { e.Buf = append(e.Buf, v) }
func (e *Encoder) Bool(v bool) {
	if v {
		e.Buf = append(e.Buf, 1)
	} else {
		e.Buf = append(e.Buf, 0)
	}
}

// Buffer writes a length-prefixed byte string; nil is written as length -1,
// which Java reads back as null (distinct from an empty array).
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(b)))
	e.Buf = append(e.Buf, b...)
}

// String writes a ustring. Java's writer encodes each UTF-16 unit on its own,
// so characters outside the BMP become two 3-byte surrogates (CESU-8); we do
// the same so records are byte-identical to Apache's.
func (e *Encoder) String(s string) {
	if !needsCESU(s) {
		e.Int(int32(len(s)))
		e.Buf = append(e.Buf, s...)
		return
	}
	c := toCESU(s)
	e.Int(int32(len(c)))
	e.Buf = append(e.Buf, c...)
}

// NullString writes nil as null (length -1).
func (e *Encoder) NullString(s *string) {
	if s == nil {
		e.Int(-1)
		return
	}
	e.String(*s)
}

// Strings writes a vector<ustring>. A nil slice is written as an empty vector:
// Apache never sends a null vector where a client expects a list.
func (e *Encoder) Strings(v []string) {
	e.Int(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// Record writes a nested record.
func (e *Encoder) Record(r Record) { r.Encode(e) }

func needsCESU(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xF0 {
			return true
		}
	}
	return false
}

func toCESU(s string) []byte {
	out := make([]byte, 0, len(s)+8)
	for _, r := range s {
		if r < 0x10000 {
			out = utf8.AppendRune(out, r)
			continue
		}
		r -= 0x10000
		hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
		for _, u := range []rune{hi, lo} {
			out = append(out, byte(0xE0|(u>>12)), byte(0x80|((u>>6)&0x3F)), byte(0x80|(u&0x3F)))
		}
	}
	return out
}

// Decoder reads Jute values from a byte slice. Errors are sticky: after the
// first one every read returns a zero value and Err reports it.
type Decoder struct {
	b   []byte
	off int
	err error
	// Max bounds any single buffer, string or vector length (jute.maxbuffer).
	Max int
}

// NewDecoder returns a decoder over b with the default length limit.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b, Max: DefaultMaxBuffer} }

// Err returns the first error met.
func (d *Decoder) Err() error { return d.err }

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Offset returns how many bytes have been consumed.
func (d *Decoder) Offset() int { return d.off }

// Rest returns the unread bytes without consuming them.
func (d *Decoder) Rest() []byte { return d.b[d.off:] }

// Fail records err unless an earlier error is already recorded.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.err = ErrShort
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *Decoder) Int() int32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

func (d *Decoder) Long() int64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

func (d *Decoder) Byte() byte {
	p := d.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *Decoder) Bool() bool { return d.Byte() != 0 }

func (d *Decoder) length(kind string) int {
	n := d.Int()
	if d.err != nil {
		return -1
	}
	if n < -1 {
		d.err = fmt.Errorf("jute: negative %s length %d", kind, n)
		return -1
	}
	if d.Max > 0 && int(n) > d.Max {
		d.err = fmt.Errorf("jute: %s length %d exceeds max %d", kind, n, d.Max)
		return -1
	}
	return int(n)
}

// Buffer reads a byte string; length -1 gives nil, length 0 a non-nil empty slice.
func (d *Decoder) Buffer() []byte {
	n := d.length("buffer")
	if n < 0 {
		return nil
	}
	p := d.take(n)
	if p == nil {
		return nil
	}
	out := make([]byte, n)
	copy(out, p)
	return out
}

// NullString reads a string keeping null (length -1) apart from "": nil for null.
func (d *Decoder) NullString() *string {
	n := d.length("string")
	if n < 0 {
		return nil
	}
	str := string(d.take(n))
	return &str
}

func (d *Decoder) String() string {
	n := d.length("string")
	if n <= 0 {
		return ""
	}
	p := d.take(n)
	return string(p)
}

// VectorLen reads a vector count; -1 (null) is returned as -1.
func (d *Decoder) VectorLen() int {
	n := d.length("vector")
	if n > d.Remaining() {
		// each element takes at least one byte: a larger count is a lie
		d.Fail(ErrShort)
		return -1
	}
	return n
}

func (d *Decoder) Strings() []string {
	n := d.VectorLen()
	if n < 0 {
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.String())
	}
	return out
}

// Record reads a nested record.
func (d *Decoder) Record(r Record) { r.Decode(d) }

// Marshal encodes r into a new byte slice.
func Marshal(r Record) []byte {
	e := Encoder{Buf: make([]byte, 0, 64)}
	r.Encode(&e)
	return e.Buf
}

// Unmarshal decodes r from b, which must hold exactly one record.
func Unmarshal(b []byte, r Record) error {
	d := NewDecoder(b)
	r.Decode(d)
	if d.err != nil {
		return d.err
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("jute: %d trailing bytes after %T", d.Remaining(), r)
	}
	return nil
}

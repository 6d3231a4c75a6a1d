// Package xerial reads and writes the snappy framing of snappy-java's
// SnappyOutputStream (org.xerial.snappy), which Kafka's Java clients use for
// snappy message sets and Apache ZooKeeper for `.snappy` snapshots.
//
// A stream is a 16-byte header (the magic 0x82 "SNAPPY" 0x00, then the int32s
// version 1 and compatible version 1), then blocks: a big-endian int32 length
// and that many bytes of one raw snappy block.
package xerial

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/snappy"
)

// Magic opens every stream SnappyOutputStream writes.
var Magic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	headerSize = 16
	// version and minCompatible are SnappyCodec's DEFAULT_VERSION and
	// MINIMUM_COMPATIBLE_VERSION.
	version       = 1
	minCompatible = 1
	// BlockSize is SnappyOutputStream's DEFAULT_BLOCK_SIZE: how much input
	// each block holds.
	BlockSize = 32 << 10
)

// magicHead is the magic's first four bytes read as a block length:
// SnappyInputStream takes that length as the start of a concatenated stream.
var magicHead = binary.BigEndian.Uint32(Magic)

// ErrTooLarge is returned when the decoded data would pass the caller's limit.
var ErrTooLarge = errors.New("xerial: decompressed data too large")

// header returns the 16 bytes SnappyCodec writes.
func header() []byte {
	h := make([]byte, 0, headerSize)
	h = append(h, Magic...)
	h = binary.BigEndian.AppendUint32(h, version)
	return binary.BigEndian.AppendUint32(h, minCompatible)
}

// Decode decodes src as SnappyInputStream reads it, refusing output longer
// than limit bytes before allocating it. Like SnappyInputStream it takes
// input that does not start with a full header as one raw snappy block,
// reads on through concatenated streams, ends quietly at a block length cut
// short or at a second header whose magic is wrong, and fails on a block cut
// short or one that does not decode.
func Decode(src []byte, limit int) ([]byte, error) {
	if len(src) == 0 {
		return nil, errors.New("xerial: cannot decompress empty stream")
	}
	if len(src) < headerSize || !bytes.HasPrefix(src, Magic[:min(len(Magic), len(src))]) {
		return appendBlock(nil, src, limit)
	}
	p := src[headerSize:] // the first header's versions are not checked
	var out []byte
	for len(p) >= 4 {
		n := binary.BigEndian.Uint32(p)
		if n == magicHead {
			rest, ok, err := nextHeader(p)
			if err != nil || !ok {
				return out, err
			}
			p = rest
			continue
		}
		p = p[4:]
		if uint64(n) > uint64(len(p)) {
			return nil, fmt.Errorf("xerial: block of %d bytes cut short at %d", n, len(p))
		}
		var err error
		if out, err = appendBlock(out, p[:n], limit); err != nil {
			return nil, err
		}
		p = p[n:]
	}
	return out, nil
}

// nextHeader reads the header of a concatenated stream at p: ok is false
// when its magic is wrong, which SnappyInputStream takes as the end.
func nextHeader(p []byte) (rest []byte, ok bool, err error) {
	if len(p) < headerSize {
		return nil, false, errors.New("xerial: insufficient header size in a concatenated block")
	}
	if !bytes.Equal(p[:len(Magic)], Magic) {
		return nil, false, nil
	}
	if v := int32(binary.BigEndian.Uint32(p[8:])); v < minCompatible {
		return nil, false, fmt.Errorf("xerial: compressed with an incompatible codec version %d", v)
	}
	return p[headerSize:], true, nil
}

// appendBlock appends one decoded raw snappy block to out.
func appendBlock(out, blk []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(blk)
	if err != nil {
		return nil, fmt.Errorf("xerial: snappy: %w", err)
	}
	if n > limit-len(out) {
		return nil, ErrTooLarge
	}
	out = append(out, make([]byte, n)...)
	if _, err := snappy.Decode(out[len(out)-n:], blk); err != nil {
		return nil, fmt.Errorf("xerial: snappy: %w", err)
	}
	return out, nil
}

// Encode returns src framed as SnappyOutputStream writes it in one go.
func Encode(src []byte) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_, _ = w.Write(src) // a bytes.Buffer does not fail
	_ = w.Close()
	return buf.Bytes()
}

// Writer is SnappyOutputStream with its default block size: input is cut
// into BlockSize blocks, each written when full, the last by Close.
type Writer struct {
	w             io.Writer
	in            []byte
	out           []byte
	headerWritten bool
	err           error
}

// NewWriter returns a Writer onto w. Close does not close w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, in: make([]byte, 0, BlockSize)}
}

func (x *Writer) Write(p []byte) (int, error) {
	if x.err != nil {
		return 0, x.err
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), BlockSize-len(x.in))
		x.in = append(x.in, p[:n]...)
		p = p[n:]
		written += n
		if len(x.in) == BlockSize {
			if err := x.flushBlock(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// Close writes the header if nothing was written yet (an empty stream is a
// header alone, as SnappyOutputStream.close leaves it) and the last block.
func (x *Writer) Close() error {
	if x.err != nil {
		return x.err
	}
	return x.flushBlock()
}

// flushBlock compresses the buffered input into one block and writes it,
// with the header before the first.
func (x *Writer) flushBlock() error {
	x.out = x.out[:0]
	if !x.headerWritten {
		x.out = append(x.out, header()...)
		x.headerWritten = true
	}
	if len(x.in) > 0 {
		at := len(x.out)
		x.out = append(x.out, 0, 0, 0, 0)
		need := at + 4 + snappy.MaxEncodedLen(len(x.in))
		if cap(x.out) < need {
			x.out = append(make([]byte, 0, need), x.out...)
		}
		blk := snappy.Encode(x.out[at+4:need], x.in)
		binary.BigEndian.PutUint32(x.out[at:], uint32(len(blk)))
		x.out = x.out[:at+4+len(blk)]
		x.in = x.in[:0]
	}
	if len(x.out) == 0 {
		return nil
	}
	if _, err := x.w.Write(x.out); err != nil {
		x.err = fmt.Errorf("xerial: %w", err)
		return x.err
	}
	return nil
}

package log

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compression codecs as numbered in the attributes of both record formats.
const (
	CodecNone   int8 = 0
	CodecGzip   int8 = 1
	CodecSnappy int8 = 2
	CodecLZ4    int8 = 3
	CodecZstd   int8 = 4
)

// xerialHeader opens the snappy framing used by the Java client (xerial SnappyOutputStream).
var xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// maxDecompressed bounds a decompressed payload so a hostile batch cannot exhaust memory.
const maxDecompressed = 1 << 30

// errDecompress marks a payload that does not decompress, or an unknown codec: Kafka fails those appends with an
// exception of no API error (KafkaException, IllegalArgumentException), so UNKNOWN_SERVER_ERROR, not INVALID_RECORD.
var errDecompress = errors.New("cannot decompress")

func decompress(codec int8, src []byte) ([]byte, error) {
	out, err := decompressCodec(codec, src)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDecompress, err)
	}
	return out, nil
}

func decompressCodec(codec int8, src []byte) ([]byte, error) {
	switch codec {
	case CodecNone:
		return src, nil
	case CodecGzip:
		r, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer r.Close()
		return readAllLimited(r)
	case CodecSnappy:
		return snappyDecode(src)
	case CodecLZ4:
		return readAllLimited(lz4.NewReader(bytes.NewReader(src)))
	case CodecZstd:
		d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxDecompressed))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer d.Close()
		out, err := d.DecodeAll(src, nil)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
}

func readAllLimited(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, maxDecompressed+1))
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	if len(out) > maxDecompressed {
		return nil, errors.New("decompressed payload too large")
	}
	return out, nil
}

func snappyDecode(src []byte) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialHeader) {
		// xerial falls back to one raw block when the header is absent; so do we.
		return snappyBlock(nil, src)
	}
	if len(src) < 16 {
		return nil, errors.New("snappy: short xerial header")
	}
	p := src[16:] // header, version, compatible version
	var out []byte
	for len(p) > 0 {
		if len(p) < 4 {
			return nil, errors.New("snappy: short xerial chunk header")
		}
		n := int(binary.BigEndian.Uint32(p))
		p = p[4:]
		if n < 0 || n > len(p) {
			return nil, errors.New("snappy: short xerial chunk")
		}
		var err error
		if out, err = snappyBlock(out, p[:n]); err != nil {
			return nil, err
		}
		p = p[n:]
	}
	return out, nil
}

// snappyBlock appends one decoded snappy block to out, refusing a block whose declared length would take the
// payload past maxDecompressed before anything is allocated for it.
func snappyBlock(out, blk []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(blk)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > maxDecompressed-len(out) {
		return nil, errors.New("decompressed payload too large")
	}
	dec, err := snappy.Decode(nil, blk)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return append(out, dec...), nil
}

func compress(codec int8, src []byte) ([]byte, error) {
	var buf bytes.Buffer
	switch codec {
	case CodecNone:
		return src, nil
	case CodecGzip:
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(src); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
	case CodecSnappy:
		// xerial framing as the Java client writes it: header, version 1, compatible 1, 32 KiB blocks.
		buf.Write(xerialHeader)
		buf.Write([]byte{0, 0, 0, 1, 0, 0, 0, 1})
		for off := 0; off < len(src); off += 32 << 10 {
			end := min(off+32<<10, len(src))
			blk := snappy.Encode(nil, src[off:end])
			_ = binary.Write(&buf, binary.BigEndian, uint32(len(blk)))
			buf.Write(blk)
		}
	case CodecLZ4:
		w := lz4.NewWriter(&buf)
		if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false)); err != nil {
			return nil, fmt.Errorf("lz4: %w", err)
		}
		if _, err := w.Write(src); err != nil {
			return nil, fmt.Errorf("lz4: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("lz4: %w", err)
		}
	case CodecZstd:
		e, err := zstd.NewWriter(nil)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer e.Close()
		return e.EncodeAll(src, nil), nil
	default:
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
	return buf.Bytes(), nil
}

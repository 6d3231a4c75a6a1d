package log

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/zkafka/zkafka/compat/xerial"
)

// Compression codecs as numbered in the attributes of both record formats.
const (
	CodecNone   int8 = 0
	CodecGzip   int8 = 1
	CodecSnappy int8 = 2
	CodecLZ4    int8 = 3
	CodecZstd   int8 = 4
)

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
		// The Java client's framing (xerial SnappyOutputStream); a payload without its header is one raw block.
		return xerial.Decode(src, maxDecompressed)
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
		return xerial.Encode(src), nil
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

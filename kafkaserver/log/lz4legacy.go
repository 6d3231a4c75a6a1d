package log

import (
	"encoding/binary"
	"math/bits"
)

// Kafka before 0.10 computed the LZ4 frame's header checksum over the frame magic too (KAFKA-3160); magic 0
// messages keep that: Kafka writes magic 0 LZ4 wrappers with the "broken" checksum and ignores it when reading
// them. The LZ4 library here checks and writes the standard one, so magic 0 payloads are patched both ways.

// lz4HeaderChecksum returns the position of the frame descriptor's checksum byte in frame and the standard and
// the pre-0.10 value of that byte; ok is false when frame does not start with an LZ4 frame header.
func lz4HeaderChecksum(frame []byte) (pos int, std, broken byte, ok bool) {
	if len(frame) < 7 || binary.LittleEndian.Uint32(frame) != 0x184D2204 {
		return 0, 0, 0, false
	}
	pos = 6
	if frame[4]&0x08 != 0 { // content size
		pos += 8
	}
	if frame[4]&0x01 != 0 { // dictionary id
		pos += 4
	}
	if len(frame) <= pos {
		return 0, 0, 0, false
	}
	return pos, byte(xxh32(frame[4:pos]) >> 8), byte(xxh32(frame[:pos]) >> 8), true
}

// legacyDecompress decompresses the value of a magic 0/1 wrapper (a magic 0 LZ4 frame may carry the old header
// checksum).
func legacyDecompress(magic, codec int8, value []byte) ([]byte, error) {
	if magic == 0 && codec == CodecLZ4 {
		if pos, std, _, ok := lz4HeaderChecksum(value); ok && value[pos] != std {
			fixed := make([]byte, len(value))
			copy(fixed, value)
			fixed[pos] = std
			value = fixed
		}
	}
	return decompress(codec, value)
}

// legacyCompress compresses the inner messages of a magic 0/1 wrapper, with the header checksum Kafka writes for
// magic 0 LZ4.
func legacyCompress(magic, codec int8, inner []byte) ([]byte, error) {
	z, err := compress(codec, inner)
	if err != nil || magic != 0 || codec != CodecLZ4 {
		return z, err
	}
	if pos, _, broken, ok := lz4HeaderChecksum(z); ok {
		z[pos] = broken
	}
	return z, nil
}

// xxh32 is XXH32 with seed 0 (what the LZ4 frame format hashes its descriptor with).
func xxh32(p []byte) uint32 {
	const (
		p1 uint32 = 2654435761
		p2 uint32 = 2246822519
		p3 uint32 = 3266489917
		p4 uint32 = 668265263
		p5 uint32 = 374761393
	)
	n := uint32(len(p))
	var h uint32
	if len(p) >= 16 {
		v1, v2, v3, v4 := p1, p2, uint32(0), uint32(0)
		v1 += p2 // seed + p1 + p2, wrapping
		v4 -= p1
		round := func(v, lane uint32) uint32 { return bits.RotateLeft32(v+lane*p2, 13) * p1 }
		for ; len(p) >= 16; p = p[16:] {
			v1 = round(v1, binary.LittleEndian.Uint32(p))
			v2 = round(v2, binary.LittleEndian.Uint32(p[4:]))
			v3 = round(v3, binary.LittleEndian.Uint32(p[8:]))
			v4 = round(v4, binary.LittleEndian.Uint32(p[12:]))
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = p5
	}
	h += n
	for ; len(p) >= 4; p = p[4:] {
		h += binary.LittleEndian.Uint32(p) * p3
		h = bits.RotateLeft32(h, 17) * p4
	}
	for _, b := range p {
		h += uint32(b) * p5
		h = bits.RotateLeft32(h, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}

package log

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// TestLegacyCRC checks the early-start checksum against the standard library over every length and offset mod 16
// (short, long, with and without room before the message) and random bytes, including the known bytes before it.
func TestLegacyCRC(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 400)
	for trial := range 20 {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		for at := range 20 {
			for n := 0; at+n <= len(buf); n++ {
				b := buf[:at+n]
				if got, want := legacyCRC(b, at), crc32.ChecksumIEEE(b[at:]); got != want {
					t.Fatalf("trial %d at %d len %d: %08x, want %08x", trial, at, n, got, want)
				}
			}
		}
	}
}

func BenchmarkLegacyCRC(b *testing.B) {
	buf := make([]byte, 16+110)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.Run("stdlib", func(b *testing.B) {
		for range b.N {
			crc32.ChecksumIEEE(buf[16:])
		}
	})
	b.Run("legacyCRC", func(b *testing.B) {
		for range b.N {
			legacyCRC(buf, 16)
		}
	})
}

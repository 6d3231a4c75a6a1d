package xerial

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
)

const noLimit = 1 << 30

func fixtureText() []byte {
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "line %d of the xerial fixture\n", i)
	}
	return []byte(b.String())
}

// testdata/lines.snappy was written by snappy-java 1.1.8.3's
// SnappyOutputStream: 100 bytes, flush (a short block, as Apache's
// FileSnap.serialize flushes before close), then the rest of fixtureText.
func TestDecodeSnappyJavaStream(t *testing.T) {
	raw, err := os.ReadFile("testdata/lines.snappy")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(raw, noLimit)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, fixtureText()) {
		t.Fatalf("decoded %d bytes, not the fixture's text", len(got))
	}
}

// Our blocks are laid out as snappy-java's: the same header and, for the
// same input, the same block boundaries.
func TestEncodeLayout(t *testing.T) {
	src := fixtureText()
	enc := Encode(src)
	if !bytes.Equal(enc[:16], []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}) {
		t.Fatalf("header % x", enc[:16])
	}
	var sizes []int
	for p := enc[16:]; len(p) > 0; {
		n := binary.BigEndian.Uint32(p)
		d, err := snappy.DecodedLen(p[4 : 4+n])
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, d)
		p = p[4+n:]
	}
	want := []int{BlockSize, BlockSize, len(src) - 2*BlockSize}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Fatalf("block sizes %v, want %v", sizes, want)
	}
	if got := Encode(nil); !bytes.Equal(got, enc[:16]) {
		t.Fatalf("empty stream % x, want the header alone", got)
	}
}

func TestRoundTrip(t *testing.T) {
	src := fixtureText()
	for _, n := range []int{0, 1, BlockSize - 1, BlockSize, BlockSize + 1, len(src)} {
		got, err := Decode(Encode(src[:n]), noLimit)
		if err != nil || !bytes.Equal(got, src[:n]) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	// Written in small pieces, the stream is the same.
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for p := src; len(p) > 0; p = p[min(len(p), 777):] {
		if _, err := w.Write(p[:min(len(p), 777)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), Encode(src)) {
		t.Fatal("piecewise writes framed differently")
	}
}

// SnappyInputStream's edge cases: concatenated streams, a raw block without
// the header, a short tail or a wrong second magic ending the stream.
func TestDecodeAsSnappyInputStream(t *testing.T) {
	a, b := []byte("first stream "), []byte("second stream")
	cat := append(Encode(a), Encode(b)...)
	if got, err := Decode(cat, noLimit); err != nil || string(got) != string(a)+string(b) {
		t.Fatalf("concatenated: %q %v", got, err)
	}
	if got, err := Decode(snappy.Encode(nil, a), noLimit); err != nil || string(got) != string(a) {
		t.Fatalf("raw block: %q %v", got, err)
	}
	if got, err := Decode(append(Encode(a), 0, 0, 1), noLimit); err != nil || string(got) != string(a) {
		t.Fatalf("short tail: %q %v", got, err)
	}
	wrong := append(Encode(a), Encode(b)...)
	wrong[len(Encode(a))+7] = 1 // second magic's last byte
	if got, err := Decode(wrong, noLimit); err != nil || string(got) != string(a) {
		t.Fatalf("wrong second magic: %q %v", got, err)
	}
	old := append(Encode(a), Encode(b)...)
	old[len(Encode(a))+11] = 0 // second header's version 0
	if _, err := Decode(old, noLimit); err == nil || !strings.Contains(err.Error(), "incompatible") {
		t.Fatalf("version 0: %v", err)
	}
}

func TestDecodeDamaged(t *testing.T) {
	enc := Encode(fixtureText())
	if _, err := Decode(nil, noLimit); err == nil {
		t.Fatal("empty input accepted")
	}
	// Torn inside a block.
	if _, err := Decode(enc[:len(enc)-10], noLimit); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("torn block: %v", err)
	}
	// A block whose decoded length (its leading varint, 32768 here) is wrong.
	bad := append([]byte(nil), enc...)
	bad[16+4+2] ^= 0x01
	if _, err := Decode(bad, noLimit); err == nil || !strings.Contains(err.Error(), "snappy") {
		t.Fatalf("bad block: %v", err)
	}
	if _, err := Decode(enc, 1000); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("limit: %v", err)
	}
}

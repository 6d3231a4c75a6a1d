package kwire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestMappedRegionTruncated checks that a region whose file is truncated after it was mapped fails the write as a
// short region (EFAULT from the kernel's copy), without a signal, and that what was sent before is intact.
func TestMappedRegionTruncated(t *testing.T) {
	client, server := tcpPair(t)
	_ = client.SetDeadline(time.Now().Add(30 * time.Second))

	data := make([]byte, 256<<10)
	for i := range data {
		data[i] = byte(i * 3)
	}
	r := regionFile(t, data, 5000) // not page-aligned
	defer r.File.Close()
	m, mapped, ok, err := mapRegion(r)
	if !ok || err != nil {
		t.Fatalf("mapRegion: ok %v, %v", ok, err)
	}
	defer unmapRegion(m)
	if !bytes.Equal(mapped, data) {
		t.Fatal("mapped bytes differ from the region")
	}
	keep := 64 << 10
	if err := os.Truncate(r.File.Name(), r.Offset+int64(keep)); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	hdr := []byte("header")
	n, err := writeMappedPieces(server, net.Buffers{hdr, mapped})
	if !errors.Is(err, errShortRegion) || !regionError(err) {
		t.Fatalf("write of a truncated mapping: %d, %v", n, err)
	}
	server.Close()
	b := <-got
	if int64(len(b)) != n || !bytes.HasPrefix(b, hdr) || !bytes.Equal(b[len(hdr):], data[:len(b)-len(hdr)]) {
		t.Fatalf("received %d bytes (write reported %d), not a prefix of the response", len(b), n)
	}
	if len(b)-len(hdr) > keep+os.Getpagesize() {
		t.Fatalf("received %d bytes of the region, past the file's end", len(b)-len(hdr))
	}
}

// TestMapRegionShortFile checks that a region past its file's end is refused before anything is mapped or sent.
func TestMapRegionShortFile(t *testing.T) {
	r := regionFile(t, make([]byte, 10000), 100)
	defer r.File.Close()
	r.Len += 1
	if _, _, ok, err := mapRegion(r); !ok || !errors.Is(err, errShortRegion) {
		t.Fatalf("mapRegion of a region past the end: ok %v, %v", ok, err)
	}
}

package kwire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// regionFile writes data at off of a new file and returns a region of it with a descriptor of its own.
func regionFile(t *testing.T, data []byte, off int64) *FileRegion {
	t.Helper()
	path := filepath.Join(t.TempDir(), "00000000000000000000.log")
	if err := os.WriteFile(path, append(make([]byte, off), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return &FileRegion{File: f, Offset: off, Len: len(data)}
}

// plainFrame is the whole response frame as kmsg alone encodes it.
func plainFrame(resp *kmsg.FetchResponse, corr int32) []byte {
	b := []byte{0, 0, 0, 0}
	b = appendResponseHeader(b, corr, responseHeaderVersion(1, resp.IsFlexible()))
	b = resp.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// TestFetchResponseRegions checks that a Fetch response whose record sets are partly file regions and partly bytes
// is, in every version, byte for byte kmsg's encoding of the same response; that regions released before the
// response are not sent; and that BytesOut counts every byte. The regions are mapped, or, past maxMappedRegions
// in one response, sent with sendfile.
func TestFetchResponseRegions(t *testing.T) {
	sizes := []int{0, 10, vecMin - 1, 3 << 20, 100 << 10, 3, 1 << 20, vecMin + 1, 0, 7}
	regionAt := map[int]bool{1: true, 3: true, 4: true, 6: true, 9: true} // partition indexes sent from files
	t.Run("mapped", func(t *testing.T) { testFetchResponseRegions(t, sizes, regionAt) })
	// Serial, as the broker registers Fetch: the connection's reader writes the response.
	t.Run("mapped-serial", func(t *testing.T) { testFetchResponseRegions(t, sizes, regionAt, Serial()) })
	t.Run("sendfile", func(t *testing.T) {
		var sizes []int
		regionAt := make(map[int]bool)
		for i := range maxMappedRegions + 2 {
			sizes = append(sizes, 100+i*97)
			regionAt[i] = i != 5
		}
		testFetchResponseRegions(t, sizes, regionAt)
	})
}

func testFetchResponseRegions(t *testing.T, sizes []int, regionAt map[int]bool, opts ...HandleOption) {
	var (
		mu    sync.Mutex
		files []*os.File
	)
	keep := func(r *FileRegion) *FileRegion {
		mu.Lock()
		files = append(files, r.File)
		mu.Unlock()
		return r
	}
	mux := NewMux()
	mux.Handle(1, 0, 12, func(_ context.Context, rc *RequestContext, r kmsg.Request) (kmsg.Response, error) {
		req := r.(*kmsg.FetchRequest)
		resp := fetchResponseFor(rc, req, sizes, uint64(req.Version), false)
		if !rc.CanAttachRegions() {
			t.Error("a connection's request cannot attach regions")
		}
		// A region attached and released (a long poll reading again) is not sent.
		rc.AttachRegion(keep(regionFile(t, []byte("dropped"), 0)))
		rc.ReleaseRegions()
		i := 0
		for ti := range resp.Topics {
			for pi := range resp.Topics[ti].Partitions {
				if rp := &resp.Topics[ti].Partitions[pi]; regionAt[i] {
					rp.RecordBatches = rc.AttachRegion(keep(regionFile(t, rp.RecordBatches, int64(100+i))))
				}
				i++
			}
		}
		return resp, nil
	}, opts...)
	s, _ := startServer(t, Config{}, mux)
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &rawClient{t: t, nc: nc, br: bufio.NewReaderSize(nc, 4<<10), fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw"))}
	var sent int64
	for v := int16(0); v <= 12; v++ {
		req := kmsg.NewPtrFetchRequest()
		req.Version = v
		c.write(c.frame(req, int32(v)))
		got, err := c.readFrame()
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		want := fetchResponseFor(&RequestContext{}, req, sizes, uint64(v), false)
		want.Version = v
		wantB := plainFrame(want, int32(v))
		if !bytes.Equal(got, wantB[4:]) {
			t.Fatalf("v%d: response differs from kmsg's encoding (%d vs %d bytes)", v, len(got), len(wantB)-4)
		}
		sent += int64(len(got)) + 4
	}
	// The writer counts a response once it is written, before it takes the next: after one more response, the
	// fetches are all counted.
	av := kmsg.NewPtrApiVersionsRequest()
	c.write(c.frame(av, 99))
	last, err := c.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	if out := s.Metrics().BytesOut.Load(); out != sent && out != sent+int64(len(last))+4 {
		t.Fatalf("BytesOut %d, want %d (+ %d)", out, sent, len(last)+4)
	}
	// And their regions' files are closed.
	mu.Lock()
	defer mu.Unlock()
	for _, f := range files {
		if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
			t.Fatalf("region file left open: %v", err)
		}
	}
}

// tcpPair returns both ends of a 127.0.0.1 TCP connection, closed when the test ends.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

// TestSendRegionPartial sends regions through a socket with a small send buffer, so that sendfile writes in parts
// and waits for the poller, and checks the bytes and the counts.
func TestSendRegionPartial(t *testing.T) {
	client, server := tcpPair(t)
	_ = server.(*net.TCPConn).SetWriteBuffer(4 << 10)
	_ = client.SetDeadline(time.Now().Add(30 * time.Second))

	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7 / 5)
	}
	r := regionFile(t, data, 12345)
	defer r.File.Close()
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := sendRegion(server, r)
		done <- result{n, err}
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil || res.n != int64(len(data)) {
		t.Fatalf("sendRegion: %d, %v", res.n, res.err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("received bytes differ")
	}
	// The file's own offset is not used (nor moved).
	if off, _ := r.File.Seek(0, io.SeekCurrent); off != 0 {
		t.Fatalf("file offset moved to %d", off)
	}
}

// TestRegionTruncated checks that a region whose file is shorter than announced (a truncated segment) closes the
// connection after a log line, the response being unfinishable.
func TestRegionTruncated(t *testing.T) {
	mux := NewMux()
	mux.Handle(1, 0, 12, func(_ context.Context, rc *RequestContext, r kmsg.Request) (kmsg.Response, error) {
		req := r.(*kmsg.FetchRequest)
		resp := fetchResponseFor(rc, req, []int{10, 64 << 10}, 1, false)
		rp := &resp.Topics[0].Partitions[1]
		reg := regionFile(t, rp.RecordBatches, 0)
		if err := os.Truncate(reg.File.Name(), 1000); err != nil {
			t.Error(err)
		}
		rp.RecordBatches = rc.AttachRegion(reg)
		return resp, nil
	})
	s, logs := startServer(t, Config{}, mux)
	c := dialRaw(t, s)
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	c.write(c.frame(req, 1))
	c.expectClosed()
	if !strings.Contains(logs.String(), "could not be sent") {
		t.Fatalf("no log line about the region:\n%s", logs)
	}
}

// TestRegionTruncatedWhileSent truncates a region's file in the middle of a page while the response is being
// written (the client reads slowly): a region marked MayTruncate (a follower's fetch) goes with sendfile, which
// delivers exactly the bytes the file still holds and then fails as short, as Kafka's transferTo; never the zeros
// a mapping shows in the rest of the page at the file's new end.
func TestRegionTruncatedWhileSent(t *testing.T) {
	client, server := tcpPair(t)
	// At most about 256 KiB can be in flight: the kernel doubles both sizes.
	_ = server.(*net.TCPConn).SetWriteBuffer(64 << 10)
	_ = client.(*net.TCPConn).SetReadBuffer(64 << 10)
	_ = client.SetDeadline(time.Now().Add(30 * time.Second))

	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i%251) | 1 // no zero byte
	}
	r := regionFile(t, data, 0)
	r.MayTruncate = true
	rc := &RequestContext{}
	ph := rc.AttachRegion(r)
	hdr := []byte("header")
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := (&conn{nc: server}).writePieces(rc, net.Buffers{hdr, ph})
		rc.releaseRegions()
		server.Close()
		done <- result{n, err}
	}()
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(client, head); err != nil {
		t.Fatal(err)
	}
	// The writer is blocked on the full socket, far before this point.
	cut := int64(768<<10 + 100)
	if err := os.Truncate(r.File.Name(), cut); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(client)
	if err != nil {
		t.Fatal(err)
	}
	got := append(head, rest...)
	res := <-done
	if !errors.Is(res.err, errShortRegion) || !regionError(res.err) || res.n != int64(len(got)) {
		t.Fatalf("write of a region truncated while sent: %d bytes, %v; %d received", res.n, res.err, len(got))
	}
	// sendfile sends all the file holds; a mapping's copy stops at a page or socket-chunk boundary before the new
	// end, or sends zeros after it.
	body := got[len(hdr):]
	if int64(len(body)) != cut {
		t.Fatalf("received %d bytes of the region, want all %d the file holds", len(body), cut)
	}
	if i := bytes.IndexByte(body, 0); i >= 0 {
		t.Fatalf("received a zero at %d of the region (the file was cut at %d)", i, cut)
	}
	if !bytes.Equal(body, data[:len(body)]) {
		t.Fatal("received bytes differ from the file's")
	}
}

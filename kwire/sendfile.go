package kwire

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// FileRegion is a range of a file that a Fetch response sends from the file instead of holding its bytes (Kafka's
// FileRecords.writeTo): written from a mapping of the file (mapRegion) or with sendfile(2). Its File belongs to the
// connection once attached (RequestContext.AttachRegion), which closes it after the response is written or
// dropped; it should be a descriptor of its own (a dup of the log segment's), so that deleting or replacing the
// segment meanwhile changes nothing for the response. If the file holds fewer than Len bytes at Offset when they
// are sent (the segment was truncated), the response cannot be completed and the connection is closed; the client
// reconnects and fetches again.
type FileRegion struct {
	File   *os.File
	Offset int64
	Len    int
	// MayTruncate marks a region the file may be truncated under while it is sent: a follower's fetch reads past
	// the high watermark, and a leadership change can truncate a log there (never below it). Such a region goes
	// out with sendfile, which sends only what the file holds, as Kafka's transferTo does; from a mapping, the
	// rest of the page at the file's new end would read as zeros.
	MayTruncate bool
}

// regions are the file regions of one request's response: placeholder slices (what a Fetch partition's
// RecordBatches holds instead of the records) to regions. The handler adds them; the writer, or whoever sees the
// response dropped, releases them; a lock makes releasing from both sides safe.
type regions struct {
	mu       sync.Mutex
	m        map[*byte]*FileRegion
	released bool
}

// CanAttachRegions tells whether this request's response can carry file regions: only in a connection's requests.
func (rc *RequestContext) CanAttachRegions() bool { return rc.bufs != nil }

// AttachRegion hands r to the connection and returns the placeholder to put in a Fetch response partition's
// RecordBatches (kmsg needs a byte slice there): the response is laid out with r.Len bytes of records in its place,
// which the writer sends from the file. The placeholder's length is not r.Len: callers account with r.Len. r's
// file is closed once the response is written or dropped, or by ReleaseRegions.
func (rc *RequestContext) AttachRegion(r *FileRegion) []byte {
	ph := make([]byte, 1)
	rc.regions.mu.Lock()
	defer rc.regions.mu.Unlock()
	if rc.regions.released {
		_ = r.File.Close() // the connection is gone: nothing will send it
		return ph
	}
	if rc.regions.m == nil {
		rc.regions.m = make(map[*byte]*FileRegion)
	}
	rc.regions.m[&ph[0]] = r
	return ph
}

// ReleaseRegions closes the regions attached so far, for a handler that reads again (a long-polling fetch) and
// drops its earlier response; regions attached later are kept.
func (rc *RequestContext) ReleaseRegions() {
	rc.regions.mu.Lock()
	defer rc.regions.mu.Unlock()
	for k, r := range rc.regions.m {
		_ = r.File.Close()
		delete(rc.regions.m, k)
	}
}

// region is the region whose placeholder b is, or nil.
func (rc *RequestContext) region(b []byte) *FileRegion {
	if len(b) != 1 {
		return nil
	}
	rc.regions.mu.Lock()
	defer rc.regions.mu.Unlock()
	return rc.regions.m[&b[0]]
}

// releaseRegions closes every region of the response for good: it was written or will never be.
func (rc *RequestContext) releaseRegions() {
	rc.regions.mu.Lock()
	defer rc.regions.mu.Unlock()
	for _, r := range rc.regions.m {
		_ = r.File.Close()
	}
	rc.regions.m = nil
	rc.regions.released = true
}

// errShortRegion is a file that ended before its region did: the response's framing promised more bytes.
var errShortRegion = errors.New("file region shorter than announced (segment truncated?)")

// errRegionFile is a region's file that could not be examined.
var errRegionFile = errors.New("file region unreadable")

// writePieces writes out, whose pieces are bytes or, for placeholders of rc's regions, file regions: all of them
// with one writev loop, the regions mapped (writeMapped), or, where regions cannot be mapped or are too many,
// consecutive byte pieces with one writev and regions with sendfile. It returns the bytes written.
func (c *conn) writePieces(rc *RequestContext, out net.Buffers) (int64, error) {
	// Over TLS the records are encrypted in this process: from a mapping, a file truncated under it would fault
	// here instead of failing a system call, so regions are read instead.
	if _, isTLS := c.nc.(*tls.Conn); !isTLS && rc.mappable() {
		if n, ok, err := c.writeMapped(rc, out); ok {
			return n, err
		}
	}
	var total int64
	start := 0
	flush := func(end int) error {
		if start == end {
			return nil
		}
		bufs := out[start:end]
		n, err := bufs.WriteTo(c.nc)
		total += n
		return err
	}
	for i, b := range out {
		r := rc.region(b)
		if r == nil {
			continue
		}
		if err := flush(i); err != nil {
			return total, err
		}
		start = i + 1
		n, err := sendRegion(c.nc, r)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, flush(len(out))
}

// sendRegion writes r to nc: with sendfile(2) at r's offset (never the file's shared offset) through the socket's
// poller, so that a full socket buffer parks the goroutine instead of a thread; or, on a connection that is not a
// plain socket, by reading and writing.
func sendRegion(nc net.Conn, r *FileRegion) (int64, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return copyRegion(nc, r)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return copyRegion(nc, r)
	}
	fraw, err := r.File.SyscallConn()
	if err != nil {
		return 0, err
	}
	var (
		off     = r.Offset
		written int64
		serr    error
	)
	// Control holds the file's descriptor (it cannot be closed and reused) while sendfile runs.
	cerr := fraw.Control(func(ffd uintptr) {
		werr := raw.Write(func(sfd uintptr) bool {
			for written < int64(r.Len) {
				n, err := syscall.Sendfile(int(sfd), int(ffd), &off, int(min(int64(r.Len)-written, 1<<30)))
				if n > 0 {
					written += int64(n)
				}
				switch {
				case err == syscall.EINTR:
					continue
				case err == syscall.EAGAIN:
					return false // wait until the socket is writable
				case err != nil:
					serr = os.NewSyscallError("sendfile", err)
					return true
				case n == 0:
					serr = errShortRegion
					return true
				}
			}
			return true
		})
		if serr == nil {
			serr = werr
		}
	})
	if serr == nil {
		serr = cerr
	}
	return written, serr
}

// copyRegion is sendRegion for connections without a socket descriptor.
func copyRegion(w io.Writer, r *FileRegion) (int64, error) {
	n, err := io.Copy(w, io.NewSectionReader(r.File, r.Offset, int64(r.Len)))
	if err == nil && n < int64(r.Len) {
		err = errShortRegion
	}
	return n, err
}

// regionError tells whether a write failed because of a region's file rather than the socket.
func regionError(err error) bool {
	var se *os.SyscallError
	return errors.Is(err, errShortRegion) || errors.Is(err, errRegionFile) || errors.Is(err, os.ErrClosed) || (errors.As(err, &se) && se.Syscall == "sendfile" && !errors.Is(se.Err, syscall.EPIPE) && !errors.Is(se.Err, syscall.ECONNRESET))
}

// hasRegions tells whether regions were attached and not released.
func (rc *RequestContext) hasRegions() bool { return rc.regionCount() > 0 }

// regionCount is the number of regions attached and not released.
func (rc *RequestContext) regionCount() int {
	rc.regions.mu.Lock()
	defer rc.regions.mu.Unlock()
	return len(rc.regions.m)
}

// mappable tells whether the response's regions can be written from mappings: there are some, not too many,
// and none may be truncated while it is sent.
func (rc *RequestContext) mappable() bool {
	rc.regions.mu.Lock()
	defer rc.regions.mu.Unlock()
	if len(rc.regions.m) == 0 || len(rc.regions.m) > maxMappedRegions {
		return false
	}
	for _, r := range rc.regions.m {
		if r.MayTruncate {
			return false
		}
	}
	return true
}

// maxMappedRegions bounds the mappings one response makes (each is a kernel VMA, of which a process may have
// some 65530); a response with more regions goes out with sendfile.
const maxMappedRegions = 64

// writeMapped writes out with one writev loop, its regions mapped (mapRegion): the response's header and records
// leave together, and the page cache's pages are copied once into the socket. ok=false, nothing written, means a
// region's file could not be mapped: the caller sends the response with sendfile.
func (c *conn) writeMapped(rc *RequestContext, out net.Buffers) (n int64, ok bool, err error) {
	var mappings [][]byte
	defer func() {
		for _, m := range mappings {
			unmapRegion(m)
		}
	}()
	pieces := make(net.Buffers, len(out))
	for i, b := range out {
		pieces[i] = b
		r := rc.region(b)
		if r == nil {
			continue
		}
		m, data, ok, err := mapRegion(r)
		if !ok {
			return 0, false, nil
		}
		if err != nil {
			return 0, true, err
		}
		if m != nil {
			mappings = append(mappings, m)
		}
		pieces[i] = data
	}
	n, err = writeMappedPieces(c.nc, pieces)
	return n, true, err
}

// writeMappedPieces writes pieces, some of them mapped file regions, to w. A region whose file was truncated after
// it was mapped fails the write with EFAULT (the kernel's copy finds no page), reported as a short region.
func writeMappedPieces(w io.Writer, pieces net.Buffers) (int64, error) {
	n, err := pieces.WriteTo(w)
	if errors.Is(err, syscall.EFAULT) {
		err = fmt.Errorf("%w: %w", errShortRegion, err)
	}
	return n, err
}

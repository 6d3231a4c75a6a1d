package storage

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/adler32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/compat/xerial"
	"github.com/zkafka/zkafka/jute"
)

// maxSnapshotsTried is how many valid-looking snapshots FileSnap.deserialize
// tries before giving up.
const maxSnapshotsTried = 100

// snapDbid is the dbid Apache writes in snapshot headers.
const snapDbid = -1

// TreeWriter serializes the data tree as Apache's DataTree.serialize does:
// ACL cache, nodes in pre-order from the root "", then the terminator "/".
type TreeWriter interface{ WriteSnapshot(w io.Writer) error }

// TreeReader reads what TreeWriter writes, consuming the terminator "/".
type TreeReader interface{ ReadSnapshot(d *jute.Decoder) error }

// SnapshotInfo describes a snapshot that was read.
type SnapshotInfo struct {
	Path     string
	Zxid     int64 // from the file name: replay the log from here
	Sessions map[int64]int32
	// Digest is nil if the file has none. Apache writes one with Zxid 0 when
	// it had no digest yet and ignores such a digest on load.
	Digest *jute.ZxidDigest
	// Skipped lists newer snapshots LoadLatest rejected, with the reason.
	Skipped []string
}

// SnapshotOptions chooses how WriteSnapshotWith stores a snapshot.
type SnapshotOptions struct {
	// Compression is "" (plain, Apache's default), "gz" or "snappy" (snappy-java's
	// SnappyOutputStream framing), as zookeeper.snapshot.compression.method.
	// The file gets that extension.
	Compression string
	// NoSync skips the fsyncs. Apache writes its periodic snapshots so
	// (SyncRequestProcessor takes them with takeSnapshot(false), a plain
	// FileOutputStream). The txn log alone holds every acknowledged write; a
	// snapshot lost to a power cut fails its checksum on load and the one
	// before it is used.
	NoSync bool
	// WriteRate caps how fast a NoSync snapshot is written, in bytes per
	// second (0: no cap), with writeback started as it goes. Every txn log
	// fdatasync flushes the device's cache, so it waits for whatever snapshot
	// data reached the device since the last one: after 450k creates (make
	// bench-zk), 400 MB snapshots written at full speed took set from 30k/s
	// (small tree) to 17k/s with a 12 ms p99; paced at 32 MB/s, 26k/s, 3 ms.
	WriteRate int64
	// Abort, when closed, stops a paced snapshot at its next write (the
	// temporary file is removed): a server shutting down does not wait out a
	// slow snapshot it does not need.
	Abort <-chan struct{}
}

// WriteSnapshot writes a plain snapshot.<hex zxid> into dir.
func WriteSnapshot(dir string, zxid int64, sessions map[int64]int32, tree TreeWriter, digest *jute.ZxidDigest) (string, error) {
	return WriteSnapshotWith(dir, zxid, sessions, tree, digest, SnapshotOptions{})
}

// checkedWriter is CheckedOutputStream: Adler32 over the uncompressed bytes.
type checkedWriter struct {
	w   io.Writer
	sum hash.Hash32
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	c.sum.Write(p)
	return c.w.Write(p)
}

// seal writes SnapStream.sealStream: the checksum so far, then "/".
func (c *checkedWriter) seal() error {
	e := jute.Encoder{Buf: make([]byte, 0, 13)}
	e.Long(int64(c.sum.Sum32()))
	e.String("/")
	_, err := c.Write(e.Buf)
	return err
}

// WriteSnapshotWith streams a snapshot to a temporary name, fsyncs it and
// renames it into place, so the real name never holds a partial snapshot.
// digest, if not nil, is written after the first seal with its own seal, as
// Apache does when zookeeper.digest.enabled is on.
func WriteSnapshotWith(dir string, zxid int64, sessions map[int64]int32, tree TreeWriter, digest *jute.ZxidDigest, opts SnapshotOptions) (string, error) {
	name := snapName(zxid)
	switch opts.Compression {
	case "":
	case "gz", "snappy":
		name += "." + opts.Compression
	default:
		return "", fmt.Errorf("storage: unsupported snapshot compression %q", opts.Compression)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("storage: create snapshot dir: %w", err)
	}
	final := filepath.Join(dir, name)
	// "tmp.snapshot.x" does not parse as a snapshot name for Apache or us.
	tmp := filepath.Join(dir, tmpSnapPrefix+name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", fmt.Errorf("storage: create snapshot: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var out io.Writer = f
	switch {
	case !opts.NoSync:
		out = &pacedFile{f: f}
	case opts.WriteRate > 0:
		out = &rateFile{f: f, rate: opts.WriteRate, start: time.Now(), abort: opts.Abort}
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	var under io.Writer = bw
	var codec io.WriteCloser
	switch opts.Compression {
	case "gz":
		codec = gzip.NewWriter(bw)
	case "snappy":
		codec = xerial.NewWriter(bw)
	}
	if codec != nil {
		under = codec
	}
	cw := &checkedWriter{w: under, sum: adler32.New()}
	if err := writeSnapshotBody(cw, sessions, tree, digest); err != nil {
		return "", fmt.Errorf("storage: write snapshot %s: %w", name, err)
	}
	if codec != nil {
		if err := codec.Close(); err != nil {
			return "", fmt.Errorf("storage: write snapshot %s: %w", name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("storage: write snapshot %s: %w", name, err)
	}
	if !opts.NoSync {
		if err := f.Sync(); err != nil {
			return "", fmt.Errorf("storage: fsync snapshot %s: %w", name, err)
		}
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("storage: close snapshot %s: %w", name, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("storage: rename snapshot: %w", err)
	}
	ok = true
	if !opts.NoSync {
		if err := syncDir(dir); err != nil {
			return "", fmt.Errorf("storage: fsync snapshot dir: %w", err)
		}
	}
	return final, nil
}

const tmpSnapPrefix = "tmp."

func writeSnapshotBody(cw *checkedWriter, sessions map[int64]int32, tree TreeWriter, digest *jute.ZxidDigest) error {
	e := jute.Encoder{Buf: make([]byte, 0, 16+4+12*len(sessions))}
	h := jute.FileHeader{Magic: jute.SnapshotMagic, Version: fileVersion, Dbid: snapDbid}
	h.Encode(&e)
	// Apache writes HashMap order; sorted ids make our files reproducible.
	ids := make([]int64, 0, len(sessions))
	for id := range sessions {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	e.Int(int32(len(ids)))
	for _, id := range ids {
		e.Long(id)
		e.Int(sessions[id])
	}
	if _, err := cw.Write(e.Buf); err != nil {
		return err
	}
	if err := tree.WriteSnapshot(cw); err != nil {
		return fmt.Errorf("tree: %w", err)
	}
	if err := cw.seal(); err != nil {
		return err
	}
	if digest == nil {
		return nil
	}
	e.Buf = e.Buf[:0]
	e.Long(digest.Zxid)
	e.Int(digest.DigestVersion)
	e.Long(digest.Digest)
	if _, err := cw.Write(e.Buf); err != nil {
		return err
	}
	return cw.seal()
}

// ReadSnapshot reads a snapshot file (plain, .gz or .snappy), feeding the tree part to
// tree, and verifies the Adler32 seal(s).
func ReadSnapshot(path string, tree TreeReader) (*SnapshotInfo, error) {
	base := filepath.Base(path)
	zxid := zxidFromName(base, snapPrefix)
	if zxid < 0 {
		return nil, fmt.Errorf("storage: %s is not a snapshot name", base)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("storage: read snapshot: %w", err)
	}
	switch streamMode(base) {
	case "gz":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("storage: snapshot %s: %w", base, err)
		}
		raw, err = io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("storage: snapshot %s: %w", base, err)
		}
	case "snappy":
		// Snappy expands its input at most about 22-fold (a 3-byte copy makes
		// 64 bytes), so a damaged block length cannot claim more than this.
		raw, err = xerial.Decode(raw, 32*len(raw)+xerial.BlockSize)
		if err != nil {
			return nil, fmt.Errorf("storage: snapshot %s: %w", base, err)
		}
	}
	info, err := decodeSnapshot(raw, tree)
	if err != nil {
		return nil, fmt.Errorf("storage: snapshot %s: %w", base, err)
	}
	info.Path = path
	info.Zxid = zxid
	return info, nil
}

func decodeSnapshot(b []byte, tree TreeReader) (*SnapshotInfo, error) {
	d := jute.NewDecoder(b)
	d.Max = 0 // bounded by the file itself
	var h jute.FileHeader
	h.Decode(d)
	if d.Err() != nil {
		return nil, fmt.Errorf("header: %w", d.Err())
	}
	if h.Magic != jute.SnapshotMagic {
		return nil, fmt.Errorf("mismatching magic headers %d != %d", h.Magic, jute.SnapshotMagic)
	}
	n := d.Int()
	if n < 0 || int(n) > d.Remaining()/12 {
		if d.Err() == nil {
			d.Fail(fmt.Errorf("bad session count %d", n))
		}
		return nil, d.Err()
	}
	info := &SnapshotInfo{Sessions: make(map[int64]int32, n)}
	for i := int32(0); i < n; i++ {
		id := d.Long()
		info.Sessions[id] = d.Int()
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("sessions: %w", d.Err())
	}
	if err := tree.ReadSnapshot(d); err != nil {
		return nil, fmt.Errorf("tree: %w", err)
	}
	if d.Err() != nil {
		return nil, fmt.Errorf("tree: %w", d.Err())
	}
	if err := checkSeal(d, b); err != nil {
		return nil, err
	}
	// The digest came later than the seal; EOF here means an older snapshot.
	zd := readZxidDigest(d)
	if d.Err() != nil {
		if errors.Is(d.Err(), jute.ErrShort) {
			return info, nil
		}
		return nil, fmt.Errorf("digest: %w", d.Err())
	}
	if err := checkSeal(d, b); err != nil {
		return nil, fmt.Errorf("digest %w", err)
	}
	info.Digest = zd
	return info, nil
}

// checkSeal reads a seal at d's position and compares it with the Adler32 of
// everything before it.
func checkSeal(d *jute.Decoder, b []byte) error {
	want := int64(adler32.Checksum(b[:d.Offset()]))
	got := d.Long()
	_ = d.String() // the "/" after the checksum
	if d.Err() != nil {
		return fmt.Errorf("seal: %w", d.Err())
	}
	if got != want {
		return fmt.Errorf("CRC corruption: stored 0x%x, computed 0x%x", got, want)
	}
	return nil
}

// readZxidDigest reads DataTree.ZxidDigest; versions below 2 stored the
// digest as a hex string.
func readZxidDigest(d *jute.Decoder) *jute.ZxidDigest {
	zd := &jute.ZxidDigest{Zxid: d.Long(), DigestVersion: d.Int()}
	if zd.DigestVersion < 2 {
		s := d.String()
		if d.Err() == nil && s != "" {
			v, err := strconv.ParseUint(s, 16, 64)
			if err != nil {
				d.Fail(fmt.Errorf("bad hex digest %q", s))
			}
			zd.Digest = int64(v)
		}
	} else {
		zd.Digest = d.Long()
	}
	return zd
}

// streamMode is SnapStream.getStreamMode: the last extension picks the codec,
// anything unknown is plain.
func streamMode(name string) string {
	parts := strings.Split(name, ".")
	if len(parts) > 1 {
		switch strings.ToLower(parts[len(parts)-1]) {
		case "gz":
			return "gz"
		case "snappy":
			return "snappy"
		}
	}
	return ""
}

// Snapshots lists dir's snapshot files, newest (highest zxid) first.
func Snapshots(dir string) ([]string, error) {
	files, err := listByZxid(dir, snapPrefix, false)
	if err != nil {
		return nil, fmt.Errorf("storage: list snapshots: %w", err)
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out, nil
}

// IsValidSnapshot is SnapStream.isValidSnapshot's cheap check: a snapshot name,
// and for plain files at least 10 bytes ending in int 1 + '/'; for compressed
// files the codec's magic.
func IsValidSnapshot(path string) (bool, error) {
	base := filepath.Base(path)
	if zxidFromName(base, snapPrefix) < 0 {
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	switch streamMode(base) {
	case "gz":
		var m [2]byte
		if _, err := io.ReadFull(f, m[:]); err != nil {
			return false, nil
		}
		return m[0] == 0x1f && m[1] == 0x8b, nil
	case "snappy":
		var m [8]byte
		if _, err := io.ReadFull(f, m[:]); err != nil {
			return false, nil
		}
		return bytes.Equal(m[:], xerial.Magic), nil
	}
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() < 10 {
		return false, nil
	}
	var tail [5]byte
	if _, err := f.ReadAt(tail[:], st.Size()-5); err != nil {
		return false, nil
	}
	return binary.BigEndian.Uint32(tail[:4]) == 1 && tail[4] == '/', nil
}

// validSnapshots is FileSnap.findNValidSnapshots: newest first, at most n.
func validSnapshots(dir string, n int) ([]string, []string, error) {
	all, err := Snapshots(dir)
	if err != nil {
		return nil, nil, err
	}
	var out, skipped []string
	for _, p := range all {
		ok, err := IsValidSnapshot(p)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s: %v", filepath.Base(p), err))
			continue
		}
		if !ok {
			skipped = append(skipped, filepath.Base(p)+": invalid snapshot")
			continue
		}
		out = append(out, p)
		if len(out) == n {
			break
		}
	}
	return out, skipped, nil
}

// LoadLatest loads the newest snapshot that reads back intact, trying up to
// 100 valid-looking ones newest first (FileSnap.deserialize). With no
// valid-looking snapshot at all it returns (nil, nil, nil); if some exist but
// none reads, an error.
func LoadLatest(dir string, newTree func() TreeReader) (TreeReader, *SnapshotInfo, error) {
	cands, skipped, err := validSnapshots(dir, maxSnapshotsTried)
	if err != nil {
		return nil, nil, err
	}
	if len(cands) == 0 {
		return nil, nil, nil
	}
	for _, p := range cands {
		t := newTree()
		info, err := ReadSnapshot(p, t)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		info.Skipped = skipped
		return t, info, nil
	}
	return nil, nil, fmt.Errorf("storage: no valid snapshot in %s: %s", dir, strings.Join(skipped, "; "))
}

// RemoveStaleTemps deletes temporary snapshot files a crash left behind. Call
// it at startup, never while a snapshot is being written.
func RemoveStaleTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("storage: list snapshot dir: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpSnapPrefix+snapPrefix+".") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("storage: remove temp snapshot: %w", err)
			}
		}
	}
	return nil
}

// pacedFile writes through to f and starts writeback every chunk bytes.
type pacedFile struct {
	f       *os.File
	written int64
	flushed int64
}

const writeBehindChunk = 8 << 20

func (p *pacedFile) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.written += int64(n)
	for p.written-p.flushed >= writeBehindChunk {
		writeBehind(p.f, p.flushed, writeBehindChunk)
		p.flushed += writeBehindChunk
	}
	return n, err
}

// rateFile writes through to f at no more than rate bytes per second on
// average, and starts writeback of each chunk once written (without waiting
// for it), so the disk sees a steady stream rather than the kernel flusher's
// bursts.
type rateFile struct {
	f       *os.File
	rate    int64
	start   time.Time
	written int64
	started int64 // writeback started below this offset
	abort   <-chan struct{}
}

// rateWritebackChunk is how much a paced snapshot writes before starting its
// writeback: small enough that the disk sees a steady stream.
const rateWritebackChunk = 1 << 20

// ErrSnapshotAborted is returned for a snapshot stopped by its Abort channel.
var ErrSnapshotAborted = errors.New("storage: snapshot aborted")

func (r *rateFile) Write(b []byte) (int, error) {
	n, err := r.f.Write(b)
	r.written += int64(n)
	for r.written-r.started >= rateWritebackChunk {
		startWriteback(r.f, r.started, rateWritebackChunk)
		r.started += rateWritebackChunk
	}
	if err != nil {
		return n, err
	}
	due := time.Duration(float64(r.written) / float64(r.rate) * float64(time.Second))
	if d := due - time.Since(r.start); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.abort:
			return n, ErrSnapshotAborted
		}
	}
	return n, nil
}

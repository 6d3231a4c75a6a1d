package zab

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// snapSignature ends the snapshot a leader streams after SNAP.
const snapSignature = "BenWasHere"

// statPersistedSize is StatPersisted's size: czxid, mzxid, ctime, mtime, version, cversion, aversion,
// ephemeralOwner, pzxid.
const statPersistedSize = 8*4 + 4*3 + 8*2

// ReadSnapshotStream reads the snapshot a leader sends right after a SNAP packet: sessions, the ACL cache, the
// nodes up to the "/" terminator (SerializeUtils.serializeSnapshot: no file header, digest or checksums), then
// the "BenWasHere" signature. The stream has no length of its own, so it is walked record by record; the body is
// returned as read, without the signature, for a data tree's snapshot decoder. maxField bounds any one length.
func ReadSnapshotStream(r *bufio.Reader, maxField int) ([]byte, error) {
	s := &snapScanner{r: r, max: maxField}
	sessions := s.count("session count")
	s.skip(int64(sessions) * 12)
	// The loops stop at the first error: a count the stream does not hold would otherwise spin on for up to 2^31
	// rounds after its end.
	acls := s.count("ACL cache size")
	for i := int32(0); i < acls && s.err == nil; i++ {
		s.skip(8) // ACL id
		entries := s.count("ACL list length")
		for j := int32(0); j < entries && s.err == nil; j++ {
			s.skip(4) // perms
			s.str()
			s.str()
		}
	}
	for s.err == nil {
		path := s.str()
		if path == "/" {
			break
		}
		s.buffer()
		s.skip(8 + statPersistedSize) // ACL id, stat
	}
	if s.err != nil {
		return nil, fmt.Errorf("snapshot from leader: %w", s.err)
	}
	body := s.body
	s.body = nil
	if sig := s.str(); s.err != nil || sig != snapSignature {
		return nil, fmt.Errorf("snapshot from leader: missing signature (got %q, %v)", sig, s.err)
	}
	return body, nil
}

// SnapshotStream is what a leader sends right after a SNAP packet: the sessions, the tree as writeTree writes it
// (DataTree.serialize), then the signature.
func SnapshotStream(sessions map[int64]int32, writeTree func(io.Writer) error) ([]byte, error) {
	var b bytes.Buffer
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(sessions))))
	for id, to := range sessions {
		b.Write(binary.BigEndian.AppendUint64(nil, uint64(id)))
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(to)))
	}
	if err := writeTree(&b); err != nil {
		return nil, fmt.Errorf("snapshot for a learner: %w", err)
	}
	e := jute.Encoder{}
	e.String(snapSignature)
	b.Write(e.Buf)
	return b.Bytes(), nil
}

// snapScanner reads fields from the stream and keeps every byte it read.
type snapScanner struct {
	r    *bufio.Reader
	max  int
	body []byte
	err  error
}

func (s *snapScanner) read(n int64) []byte {
	if s.err != nil {
		return nil
	}
	if n < 0 || n > int64(s.max) {
		s.err = fmt.Errorf("field of %d bytes", n)
		return nil
	}
	start := len(s.body)
	s.body = append(s.body, make([]byte, n)...)
	if _, err := io.ReadFull(s.r, s.body[start:]); err != nil {
		s.err = err
		return nil
	}
	return s.body[start:]
}

func (s *snapScanner) skip(n int64) {
	for n > 0 && s.err == nil {
		chunk := min(n, int64(s.max))
		s.read(chunk)
		n -= chunk
	}
}

func (s *snapScanner) count(what string) int32 {
	b := s.read(4)
	if b == nil {
		return 0
	}
	n := int32(binary.BigEndian.Uint32(b))
	if n < 0 {
		s.err = fmt.Errorf("%s %d", what, n)
		return 0
	}
	return n
}

func (s *snapScanner) buffer() []byte {
	b := s.read(4)
	if b == nil {
		return nil
	}
	n := int32(binary.BigEndian.Uint32(b))
	if n < 0 {
		return nil // null
	}
	return s.read(int64(n))
}

func (s *snapScanner) str() string {
	return string(s.buffer())
}

// LoadSnapshot decodes a body ReadSnapshotStream returned into tree, and returns the sessions and their timeouts.
func LoadSnapshot(body []byte, tree storage.TreeReader) (map[int64]int32, error) {
	d := jute.NewDecoder(body)
	d.Max = 0 // bounded by the body
	n := d.Int()
	if n < 0 || int(n) > d.Remaining()/12 {
		return nil, fmt.Errorf("snapshot from leader: session count %d", n)
	}
	sessions := make(map[int64]int32, n)
	for range n {
		id := d.Long()
		sessions[id] = d.Int()
	}
	if err := tree.ReadSnapshot(d); err != nil {
		return nil, fmt.Errorf("snapshot from leader: %w", err)
	}
	if d.Err() != nil || d.Remaining() != 0 {
		return nil, fmt.Errorf("snapshot from leader: %d bytes left, %v", d.Remaining(), d.Err())
	}
	return sessions, nil
}

package tree

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/zkafka/zkafka/jute"
)

// flushAt bounds the encoder buffer while writing a snapshot.
const flushAt = 256 << 10

// Capture is a consistent copy of the tree taken on the tree's goroutine, to
// be serialized elsewhere while the tree keeps changing. It shares the data
// slices, which the tree replaces but never modifies in place, so taking one
// costs a walk and ~120 bytes per node, not a copy of the data.
type Capture struct {
	acls  []capturedACL
	nodes []capturedNode
}

type capturedACL struct {
	index int64
	acl   []jute.ACL
}

// capturedNode is one node in pre-order. Its path is not stored: it is
// rebuilt while writing from the parent's entry and the child name, which is
// the children map's own key, so a capture allocates no strings.
type capturedNode struct {
	name   string // "" for the root
	parent int32  // index of the parent's entry; -1 for the root
	depth  int32
	data   []byte
	acl    int64
	stat   jute.StatPersisted
}

// Capture copies the ACL cache and every node in pre-order from the root
// (path ""), children in sorted order so output is stable.
func (t *Tree) Capture() *Capture {
	j := t.StartCapture(true)
	for !j.Step(1 << 30) {
	}
	return j.Finish()
}

// CaptureJob takes a fuzzy capture in steps, so a running server can keep
// applying txns between them, as Apache's snapshots are taken while the tree
// changes: a node is recorded as it is when the walk reaches it, and replaying
// the txns logged after the capture started makes the result exact.
type CaptureJob struct {
	t      *Tree
	c      *Capture
	sorted bool
	acls   map[int64][]jute.ACL // the ACL cache when the capture started
	path   []byte
	stack  []captureFrame
}

// captureFrame is a node whose children are being walked.
type captureFrame struct {
	idx     int32 // its entry in c.nodes
	depth   int32
	pathLen int
	names   []string
	next    int
}

// StartCapture records the root and the ACL cache; Step walks the rest.
// sorted orders children by name (stable output); a running server passes
// false, as Apache writes children in hash order.
func (t *Tree) StartCapture(sorted bool) *CaptureJob {
	j := &CaptureJob{t: t, sorted: sorted, acls: make(map[int64][]jute.ACL, len(t.acls.byIndex)),
		c: &Capture{nodes: make([]capturedNode, 0, len(t.nodes)+1)}}
	for i, e := range t.acls.byIndex {
		j.acls[i] = e.acl
	}
	j.visit(t.root, "", -1, 0)
	return j
}

func (j *CaptureJob) visit(n *Node, name string, parent, depth int32) {
	// Record the node's ACL now if the capture does not know its index: the
	// entry may be purged before Finish (the node deleted), and a snapshot
	// naming an index it does not hold would let replay hand that index to
	// another ACL.
	if _, ok := j.acls[n.ACL]; !ok && n.ACL != openACLIndex {
		if e := j.t.acls.byIndex[n.ACL]; e != nil {
			j.acls[n.ACL] = e.acl
		}
	}
	me := int32(len(j.c.nodes))
	j.c.nodes = append(j.c.nodes, capturedNode{name: name, parent: parent, depth: depth, data: n.Data, acl: n.ACL, stat: n.Stat})
	if len(n.Children) == 0 {
		return
	}
	names := make([]string, 0, len(n.Children))
	for ch := range n.Children {
		names = append(names, ch)
	}
	if j.sorted {
		sort.Strings(names)
	}
	j.stack = append(j.stack, captureFrame{idx: me, depth: depth, pathLen: len(j.path), names: names})
}

// Step visits up to budget nodes and reports whether the walk is done.
func (j *CaptureJob) Step(budget int) bool {
	for budget > 0 && len(j.stack) > 0 {
		f := &j.stack[len(j.stack)-1]
		if f.next == len(f.names) {
			j.stack = j.stack[:len(j.stack)-1]
			continue
		}
		name := f.names[f.next]
		f.next++
		j.path = append(j.path[:f.pathLen], '/')
		j.path = append(j.path, name...)
		// A child deleted since its parent was reached is skipped; one
		// created since is not seen: replay supplies both.
		if cn := j.t.nodes[string(j.path)]; cn != nil {
			j.visit(cn, name, f.idx, f.depth+1) // f may move: visit appends to the stack
		}
		budget--
	}
	return len(j.stack) == 0
}

// Finish returns the capture. Its ACL cache is the union of the cache at the
// start and at the end, so every captured node's index resolves.
func (j *CaptureJob) Finish() *Capture {
	for i, e := range j.t.acls.byIndex {
		j.acls[i] = e.acl
	}
	j.c.acls = make([]capturedACL, 0, len(j.acls))
	for i, a := range j.acls {
		j.c.acls = append(j.c.acls, capturedACL{index: i, acl: a})
	}
	sort.Slice(j.c.acls, func(a, b int) bool { return j.c.acls[a].index < j.c.acls[b].index })
	return j.c
}

// WriteSnapshot writes Apache's DataTree serialization: the ACL cache
// (int count, then {long index; vector<ACL>} per entry, -1 not stored), then
// every node in pre-order from the root (path ""), each as ustring path and
// DataNode{buffer data; long acl; StatPersisted}, then the terminator "/".
func (t *Tree) WriteSnapshot(w io.Writer) error { return t.Capture().WriteSnapshot(w) }

// WriteSnapshot serializes the captured tree (see Tree.WriteSnapshot).
func (c *Capture) WriteSnapshot(w io.Writer) error {
	e := &jute.Encoder{Buf: make([]byte, 0, flushAt+4096)}
	var werr error
	flush := func(force bool) {
		if werr != nil || (!force && len(e.Buf) < flushAt) {
			return
		}
		if _, err := w.Write(e.Buf); err != nil {
			werr = fmt.Errorf("tree: write snapshot: %w", err)
		}
		e.Buf = e.Buf[:0]
	}
	e.Int(int32(len(c.acls)))
	for _, a := range c.acls {
		e.Long(a.index)
		e.Int(int32(len(a.acl)))
		for j := range a.acl {
			a.acl[j].Encode(e)
		}
		flush(false)
	}
	// stack[d] is the length of the path of the current ancestor at depth d.
	var path []byte
	var stack []int
	for i := range c.nodes {
		n := &c.nodes[i]
		if n.parent >= 0 {
			path = append(path[:stack[n.depth-1]], '/')
			path = append(path, n.name...)
		}
		if int(n.depth) < len(stack) {
			stack = stack[:n.depth]
		}
		stack = append(stack, len(path))
		// As e.String, without a string per node: valid paths hold no
		// characters outside the BMP, so there is no CESU-8 to apply.
		e.Buf = binary.BigEndian.AppendUint32(e.Buf, uint32(len(path)))
		e.Buf = append(e.Buf, path...)
		e.Buffer(n.data)
		e.Long(n.acl)
		n.stat.Encode(e)
		flush(false)
		if werr != nil {
			return werr
		}
	}
	e.String("/")
	flush(true)
	return werr
}

// ReadSnapshot replaces the tree's contents with a serialized DataTree (the
// inverse of WriteSnapshot) and rebuilds children, ephemerals, containers,
// TTLs, quotas, ACL reference counts, data size and digest. LastZxid is left
// for the caller (SetLastZxid), which knows the snapshot's zxid.
func (t *Tree) ReadSnapshot(d *jute.Decoder) error {
	t.reset()
	n := d.Int()
	if d.Err() == nil && (n < 0 || int(n) > d.Remaining()) {
		return fmt.Errorf("tree: read snapshot: bad ACL map size %d", n)
	}
	for i := int32(0); i < n && d.Err() == nil; i++ {
		idx := d.Long()
		cnt := d.VectorLen()
		acl := make([]jute.ACL, 0, max(cnt, 0))
		for j := 0; j < cnt && d.Err() == nil; j++ {
			var a jute.ACL
			a.Decode(d)
			acl = append(acl, a)
		}
		t.acls.put(idx, acl)
	}
	if err := d.Err(); err != nil {
		return fmt.Errorf("tree: read snapshot ACLs: %w", err)
	}
	t.nodes = map[string]*Node{}
	t.digest = 0
	t.root = nil
	for {
		path := d.String()
		if err := d.Err(); err != nil {
			return fmt.Errorf("tree: read snapshot node: %w", err)
		}
		if path == "/" {
			break
		}
		node := &Node{}
		node.Data = d.Buffer()
		node.ACL = d.Long()
		node.Stat.Decode(d)
		if err := d.Err(); err != nil {
			return fmt.Errorf("tree: read snapshot node %q: %w", path, err)
		}
		t.putNode(path, node)
		t.acls.addUsage(node.ACL)
		i := strings.LastIndexByte(path, '/')
		if i < 0 {
			t.root = node
			continue
		}
		parent := t.nodes[path[:i]]
		if parent == nil {
			return fmt.Errorf("tree: read snapshot: invalid tree, no parent %q of %q", path[:i], path)
		}
		if parent.Children == nil {
			parent.Children = make(map[string]struct{}, 1)
		}
		parent.Children[path[i+1:]] = struct{}{}
		owner := node.Stat.EphemeralOwner
		switch t.ownerType(owner) {
		case typeContainer:
			t.containers[path] = struct{}{}
		case typeTTL:
			t.ttls[path] = struct{}{}
		case typeNormal:
			t.addEphemeral(owner, path)
		}
	}
	if t.root == nil || t.nodes[""] != t.root {
		return errors.New("tree: read snapshot: no root node")
	}
	t.dataSize = t.computeDataSize()
	t.setupQuota()
	t.acls.purgeUnused()
	return nil
}

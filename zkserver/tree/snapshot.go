package tree

import (
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

type capturedNode struct {
	path string
	data []byte
	acl  int64
	stat jute.StatPersisted
}

// Capture copies the ACL cache and every node in pre-order from the root
// (path ""), children in sorted order so output is stable.
func (t *Tree) Capture() *Capture {
	c := &Capture{acls: make([]capturedACL, 0, len(t.acls.byIndex)), nodes: make([]capturedNode, 0, len(t.nodes)+1)}
	for i, e := range t.acls.byIndex {
		c.acls = append(c.acls, capturedACL{index: i, acl: e.acl})
	}
	sort.Slice(c.acls, func(a, b int) bool { return c.acls[a].index < c.acls[b].index })
	var path []byte
	var names []string
	var walk func(n *Node)
	walk = func(n *Node) {
		c.nodes = append(c.nodes, capturedNode{path: string(path), data: n.Data, acl: n.ACL, stat: n.Stat})
		if len(n.Children) == 0 {
			return
		}
		base := len(names)
		for ch := range n.Children {
			names = append(names, ch)
		}
		mine := names[base:]
		sort.Strings(mine)
		path = append(path, '/')
		off := len(path)
		for i := range mine {
			path = append(path[:off], names[base+i]...)
			if cn := t.nodes[string(path)]; cn != nil {
				walk(cn)
			}
		}
		path = path[:off-1]
		names = names[:base]
	}
	walk(t.root)
	return c
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
	for i := range c.nodes {
		n := &c.nodes[i]
		e.String(n.path)
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

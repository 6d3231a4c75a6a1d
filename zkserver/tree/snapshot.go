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

// WriteSnapshot writes Apache's DataTree serialization: the ACL cache
// (int count, then {long index; vector<ACL>} per entry, -1 not stored), then
// every node in pre-order from the root (path ""), each as ustring path and
// DataNode{buffer data; long acl; StatPersisted}, then the terminator "/".
// Entries and children are written in sorted order so output is stable.
func (t *Tree) WriteSnapshot(w io.Writer) error {
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

	idxs := make([]int64, 0, len(t.acls.byIndex))
	for i := range t.acls.byIndex {
		idxs = append(idxs, i)
	}
	sort.Slice(idxs, func(a, b int) bool { return idxs[a] < idxs[b] })
	e.Int(int32(len(idxs)))
	for _, i := range idxs {
		acl := t.acls.byIndex[i].acl
		e.Long(i)
		e.Int(int32(len(acl)))
		for j := range acl {
			acl[j].Encode(e)
		}
		flush(false)
	}

	var path []byte
	var walk func(n *Node)
	walk = func(n *Node) {
		if werr != nil {
			return
		}
		e.String(string(path))
		e.Buffer(n.Data)
		e.Long(n.ACL)
		n.Stat.Encode(e)
		flush(false)
		if len(n.Children) == 0 {
			return
		}
		names := make([]string, 0, len(n.Children))
		for c := range n.Children {
			names = append(names, c)
		}
		sort.Strings(names)
		path = append(path, '/')
		off := len(path)
		for _, c := range names {
			path = append(path[:off], c...)
			if cn := t.nodes[string(path)]; cn != nil {
				walk(cn)
			}
		}
		path = path[:off-1]
	}
	walk(t.root)
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
			s := t.ephemerals[owner]
			if s == nil {
				s = map[string]struct{}{}
				t.ephemerals[owner] = s
			}
			s[path] = struct{}{}
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

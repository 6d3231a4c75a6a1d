package storage

import (
	"fmt"
	"io"
	"strings"

	"github.com/zkafka/zkafka/jute"
)

// testTree is a minimal stand-in for the tree package in Apache's snapshot
// layout (DataTree.serialize): ACL cache {int size; {long index; vector<ACL>}},
// nodes in pre-order from the root "" as {ustring path; DataNode}, then "/".
// It keeps file order so an Apache snapshot re-serializes byte for byte.
type testTree struct {
	acls  []testACL
	nodes []testNode
	index map[string]int
}

type testACL struct {
	id   int64
	acls []jute.ACL
}

type testNode struct {
	path string
	node jute.DataNode
}

func newTestTree() *testTree { return &testTree{index: map[string]int{}} }

// stdTestTree is what a fresh Apache 3.8 server has: "", /zookeeper,
// /zookeeper/config (READ world:anyone, ACL index 1), /zookeeper/quota.
func stdTestTree() *testTree {
	t := newTestTree()
	t.acls = []testACL{{id: 1, acls: []jute.ACL{{Perms: jute.PermRead, ID: jute.Id{Scheme: "world", ID: "anyone"}}}}}
	t.add("", []byte{}, -1, jute.StatPersisted{})
	t.add("/zookeeper", []byte{}, -1, jute.StatPersisted{})
	t.add("/zookeeper/config", []byte{}, 1, jute.StatPersisted{Version: -1})
	t.add("/zookeeper/quota", []byte{}, -1, jute.StatPersisted{})
	return t
}

func (t *testTree) add(path string, data []byte, acl int64, st jute.StatPersisted) {
	t.index[path] = len(t.nodes)
	t.nodes = append(t.nodes, testNode{path: path, node: jute.DataNode{Data: data, ACL: acl, Stat: st}})
}

func (t *testTree) get(path string) (*jute.DataNode, bool) {
	i, ok := t.index[path]
	if !ok {
		return nil, false
	}
	return &t.nodes[i].node, true
}

func (t *testTree) WriteSnapshot(w io.Writer) error {
	e := jute.Encoder{}
	e.Int(int32(len(t.acls)))
	for _, a := range t.acls {
		e.Long(a.id)
		e.Int(int32(len(a.acls)))
		for i := range a.acls {
			a.acls[i].Encode(&e)
		}
	}
	for i := range t.nodes {
		e.String(t.nodes[i].path)
		t.nodes[i].node.Encode(&e)
		if len(e.Buf) > 32<<10 { // stream in chunks, as a real tree would
			if _, err := w.Write(e.Buf); err != nil {
				return err
			}
			e.Buf = e.Buf[:0]
		}
	}
	e.String("/")
	_, err := w.Write(e.Buf)
	return err
}

func (t *testTree) ReadSnapshot(d *jute.Decoder) error {
	n := d.Int()
	for i := int32(0); i < n && d.Err() == nil; i++ {
		a := testACL{id: d.Long()}
		m := d.VectorLen()
		for j := 0; j < m && d.Err() == nil; j++ {
			var acl jute.ACL
			acl.Decode(d)
			a.acls = append(a.acls, acl)
		}
		t.acls = append(t.acls, a)
	}
	for d.Err() == nil {
		p := d.String()
		if d.Err() != nil || p == "/" {
			break
		}
		var dn jute.DataNode
		dn.Decode(d)
		if p != "" {
			parent := p[:strings.LastIndexByte(p, '/')]
			if _, ok := t.index[parent]; !ok {
				return fmt.Errorf("no parent %q for %q", parent, p)
			}
		}
		t.index[p] = len(t.nodes)
		t.nodes = append(t.nodes, testNode{path: p, node: dn})
	}
	return d.Err()
}

package tree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/zkafka/zkafka/jute"
)

// TestFuzzyCaptureReplaysExact takes a capture in steps while txns keep
// changing the tree, as a running server does, then loads it and replays the
// txns logged after the capture started: the result must be the live tree,
// node for node and digest for digest.
func TestFuzzyCaptureReplaysExact(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { fuzzyRound(t, seed) })
	}
}

func fuzzyRound(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 7))
	live := New(nil)
	var log []struct {
		hdr jute.TxnHeader
		txn jute.Record
	}
	zxid := int64(0)
	paths := []string{}
	acls := [][]jute.ACL{jute.OpenACLUnsafe, jute.ReadACLUnsafe,
		{{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "u:x"}}}}
	apply := func(typ int32, txn jute.Record) {
		zxid++
		hdr := jute.TxnHeader{ClientID: 1, Zxid: zxid, Time: zxid, Type: typ}
		live.Apply(&hdr, txn)
		log = append(log, struct {
			hdr jute.TxnHeader
			txn jute.Record
		}{hdr, txn})
	}
	mutate := func() {
		switch r := rnd.IntN(10); {
		case r < 5 || len(paths) < 3:
			parent := ""
			if len(paths) > 0 && rnd.IntN(2) == 0 {
				parent = paths[rnd.IntN(len(paths))]
			}
			p := fmt.Sprintf("%s/n%d", parent, zxid)
			n := live.Node(parent)
			if parent == "" {
				n = live.Node("/")
			}
			if n == nil {
				return
			}
			apply(jute.OpCreate, &jute.CreateTxn{Path: p, Data: []byte(p), ACL: acls[rnd.IntN(len(acls))], ParentCVersion: n.Stat.Cversion + 1})
			paths = append(paths, p)
		case r < 7:
			i := rnd.IntN(len(paths))
			if n := live.Node(paths[i]); n != nil && len(n.Children) == 0 {
				apply(jute.OpDelete, &jute.DeleteTxn{Path: paths[i]})
				paths = append(paths[:i], paths[i+1:]...)
			}
		case r < 9:
			p := paths[rnd.IntN(len(paths))]
			if n := live.Node(p); n != nil {
				apply(jute.OpSetData, &jute.SetDataTxn{Path: p, Data: []byte(fmt.Sprint(zxid)), Version: n.Stat.Version + 1})
			}
		default:
			p := paths[rnd.IntN(len(paths))]
			if n := live.Node(p); n != nil {
				fresh := []jute.ACL{{Perms: int32(1 + rnd.IntN(31)), ID: jute.Id{Scheme: "digest", ID: fmt.Sprintf("u%d:x", zxid)}}}
				apply(jute.OpSetACL, &jute.SetACLTxn{Path: p, ACL: fresh, Version: n.Stat.Aversion + 1})
			}
		}
	}
	for i := 0; i < 300; i++ {
		mutate()
	}
	start := zxid
	job := live.StartCapture(false)
	for !job.Step(1 + rnd.IntN(20)) {
		for k := rnd.IntN(6); k > 0; k-- {
			mutate()
		}
	}
	capture := job.Finish()

	var buf bytes.Buffer
	if err := capture.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	loaded := New(nil)
	if err := loaded.ReadSnapshot(jute.NewDecoder(buf.Bytes())); err != nil {
		t.Fatalf("read fuzzy snapshot: %v", err)
	}
	for _, e := range log {
		if e.hdr.Zxid > start {
			h := e.hdr
			loaded.Apply(&h, e.txn)
		}
	}
	if live.Digest() != loaded.Digest() {
		t.Errorf("digest %x, want %x", loaded.Digest(), live.Digest())
	}
	for p, n := range live.nodes {
		m := loaded.nodes[p]
		if m == nil {
			t.Fatalf("%q missing after replay", p)
		}
		if !bytes.Equal(n.Data, m.Data) || n.Stat != m.Stat || fmt.Sprint(live.ACL(n)) != fmt.Sprint(loaded.ACL(m)) || len(n.Children) != len(m.Children) {
			t.Fatalf("%q: live %+v %v %d children, replayed %+v %v %d children", p, n.Stat, live.ACL(n), len(n.Children), m.Stat, loaded.ACL(m), len(m.Children))
		}
	}
	if len(live.nodes) != len(loaded.nodes) {
		t.Fatalf("%d nodes live, %d replayed", len(live.nodes), len(loaded.nodes))
	}
}

package tree

import (
	"bytes"
	"os"
	"testing"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/watch"
)

// txnRecord returns an empty record for a logged txn type.
func txnRecord(typ int32) jute.Record {
	switch typ {
	case jute.OpCreate, jute.OpCreate2:
		return &jute.CreateTxn{}
	case jute.OpCreateTTL:
		return &jute.CreateTTLTxn{}
	case jute.OpCreateContainer:
		return &jute.CreateContainerTxn{}
	case jute.OpDelete, jute.OpDeleteContainer:
		return &jute.DeleteTxn{}
	case jute.OpSetData, jute.OpReconfig:
		return &jute.SetDataTxn{}
	case jute.OpSetACL:
		return &jute.SetACLTxn{}
	case jute.OpCreateSession:
		return &jute.CreateSessionTxn{}
	case jute.OpCloseSession:
		return &jute.CloseSessionTxn{}
	case jute.OpError:
		return &jute.ErrorTxn{}
	case jute.OpMulti:
		return &jute.MultiTxn{}
	case jute.OpCheck:
		return &jute.CheckVersionTxn{}
	}
	return nil
}

type loggedTxn struct {
	hdr    jute.TxnHeader
	txn    jute.Record
	digest *jute.TxnDigest
}

// readLog parses an Apache txn log (just enough for tests: storage owns the
// real reader).
func readLog(t *testing.T, b []byte) []loggedTxn {
	t.Helper()
	d := jute.NewDecoder(b)
	var fh jute.FileHeader
	fh.Decode(d)
	if fh.Magic != jute.TxnLogMagic {
		t.Fatalf("bad log magic %x", fh.Magic)
	}
	var out []loggedTxn
	for d.Remaining() >= 12 {
		d.Long() // adler32
		n := d.Int()
		if n <= 0 {
			break
		}
		entry := jute.NewDecoder(d.Rest()[:n])
		d.Fail(nil)
		for i := 0; i < int(n); i++ {
			d.Byte()
		}
		if d.Byte() != 'B' {
			t.Fatal("missing record trailer")
		}
		var lt loggedTxn
		lt.hdr.Decode(entry)
		lt.txn = txnRecord(lt.hdr.Type)
		if lt.txn == nil {
			t.Fatalf("unknown txn type %d", lt.hdr.Type)
		}
		lt.txn.Decode(entry)
		if entry.Remaining() >= 12 {
			lt.digest = &jute.TxnDigest{}
			lt.digest.Decode(entry)
		}
		if entry.Err() != nil {
			t.Fatalf("decode txn: %v", entry.Err())
		}
		out = append(out, lt)
	}
	return out
}

// readApacheSnapshot loads a snapshot file into a fresh tree and returns the
// trailing ZxidDigest.
func readApacheSnapshot(t *testing.T, b []byte, opts Options) (*Tree, jute.ZxidDigest) {
	t.Helper()
	d := jute.NewDecoder(b)
	var fh jute.FileHeader
	fh.Decode(d)
	if fh.Magic != jute.SnapshotMagic {
		t.Fatalf("bad snapshot magic %x", fh.Magic)
	}
	for n := d.Int(); n > 0; n-- {
		d.Long()
		d.Int()
	}
	tr := NewWithOptions(watch.NewManager(), opts)
	if err := tr.ReadSnapshot(d); err != nil {
		t.Fatal(err)
	}
	d.Long()
	if s := d.String(); s != "/" {
		t.Fatalf("bad seal %q", s)
	}
	var zd jute.ZxidDigest
	zd.Decode(d)
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	return tr, zd
}

// TestApacheDigests replays a txn log written by Apache ZooKeeper 3.8.0
// (see TestGenerateApacheData) and checks the tree digest after every txn
// against the TxnDigest Apache logged, then loads Apache's snapshot of the
// same tree and compares it node by node and by digest.
func TestApacheDigests(t *testing.T) {
	logBytes, err := os.ReadFile("testdata/log.1")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{ExtendedTypes: true}
	tr := NewWithOptions(watch.NewManager(), opts)
	checked := 0
	types := map[int32]bool{}
	for _, lt := range readLog(t, logBytes) {
		types[lt.hdr.Type] = true
		tr.Apply(&lt.hdr, lt.txn)
		if lt.digest == nil {
			continue
		}
		checked++
		if lt.digest.Version != DigestVersion || lt.digest.TreeDigest != tr.Digest() {
			t.Fatalf("zxid %#x type %d: digest %d (v%d), Apache %d", lt.hdr.Zxid, lt.hdr.Type,
				tr.Digest(), lt.digest.Version, lt.digest.TreeDigest)
		}
	}
	if checked < 25 {
		t.Fatalf("only %d digests checked", checked)
	}
	for _, typ := range []int32{jute.OpCreate, jute.OpCreateTTL, jute.OpCreateContainer, jute.OpDelete,
		jute.OpSetData, jute.OpSetACL, jute.OpMulti, jute.OpCreateSession, jute.OpCloseSession, jute.OpError} {
		if !types[typ] {
			t.Errorf("log has no txn of type %d", typ)
		}
	}

	snapBytes, err := os.ReadFile("testdata/snapshot.1f")
	if err != nil {
		t.Fatal(err)
	}
	st, zd := readApacheSnapshot(t, snapBytes, opts)
	if zd.Zxid != tr.LastZxid() || zd.Digest != tr.Digest() || st.Digest() != tr.Digest() {
		t.Fatalf("snapshot digest zxid %#x %d, loaded %d; replay zxid %#x %d",
			zd.Zxid, zd.Digest, st.Digest(), tr.LastZxid(), tr.Digest())
	}
	assertSameTree(t, tr, st)
	// Quota bookkeeping: /a ("world"), /a/b, /a/s-1 (1 byte), /a/s-4
	// ("again"), /a/q ("q").
	if got := string(st.Node("/zookeeper/quota/a/zookeeper_stats").Data); got != "count=5,bytes=12" {
		t.Errorf("stats after load: %q", got)
	}
}

// assertSameTree compares two trees node by node.
func assertSameTree(t *testing.T, a, b *Tree) {
	t.Helper()
	if a.NodeCount() != b.NodeCount() {
		t.Errorf("node count %d vs %d", a.NodeCount(), b.NodeCount())
	}
	for p, n := range a.nodes {
		m := b.nodes[p]
		if m == nil {
			t.Errorf("%q missing", p)
			continue
		}
		if !bytes.Equal(n.Data, m.Data) || n.Stat != m.Stat || len(n.Children) != len(m.Children) {
			t.Errorf("%q differs: %+v %q vs %+v %q", p, n.Stat, n.Data, m.Stat, m.Data)
		}
		if aclKey(a.ACL(n)) != aclKey(b.ACL(m)) {
			t.Errorf("%q ACL %v vs %v", p, a.ACL(n), b.ACL(m))
		}
	}
	// ApproximateDataSize is not compared: like Apache's cached value it
	// drifts from a fresh count when quota stat nodes are rewritten.
	if a.Digest() != b.Digest() {
		t.Errorf("digest %d/%d", a.Digest(), b.Digest())
	}
	if !equalStrings(a.Containers(), b.Containers()) || !equalStrings(a.TTLs(), b.TTLs()) {
		t.Errorf("containers %v/%v ttls %v/%v", a.Containers(), b.Containers(), a.TTLs(), b.TTLs())
	}
	if a.EphemeralCount() != b.EphemeralCount() {
		t.Errorf("ephemerals %d vs %d", a.EphemeralCount(), b.EphemeralCount())
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func readFile(name string) ([]byte, error) { return os.ReadFile(name) }

package tree

import (
	"fmt"
	"testing"

	"github.com/zkafka/zkafka/jute"
)

func zd(zxid int64, version int32, digest int64) jute.ZxidDigest {
	return jute.ZxidDigest{Zxid: zxid, DigestVersion: version, Digest: digest}
}

func createAt(t *testing.T, tr *Tree, zxid int64) Result {
	t.Helper()
	return tr.Apply(&jute.TxnHeader{Zxid: zxid, Type: jute.OpCreate},
		&jute.CreateTxn{Path: fmt.Sprintf("/n%d", zxid), Data: []byte("x"), ACL: jute.OpenACLUnsafe})
}

// The digest log holds the digest after each txn whose zxid is a multiple of 128, the latest 1024; the last
// digest is the latest txn's.
func TestDigestLog(t *testing.T) {
	tr := New(nil)
	if tr.LastDigest() != nil || len(tr.DigestLog()) != 0 {
		t.Fatal("a new tree has digests")
	}
	var at256 int64
	for z := int64(1); z <= (DigestLogLimit+2)*DigestLogInterval; z++ {
		createAt(t, tr, z)
		if z == 256 {
			at256 = tr.Digest()
		}
	}
	log := tr.DigestLog()
	if len(log) != DigestLogLimit || log[0].Zxid != 3*DigestLogInterval ||
		log[len(log)-1].Zxid != (DigestLogLimit+2)*DigestLogInterval {
		t.Fatalf("%d entries, %d to %d", len(log), log[0].Zxid, log[len(log)-1].Zxid)
	}
	if d := tr.LastDigest(); d == nil || d.Zxid != (DigestLogLimit+2)*DigestLogInterval || d.Digest != tr.Digest() ||
		d.DigestVersion != DigestVersion {
		t.Fatalf("last digest %+v, tree's %d", d, tr.Digest())
	}
	tr2 := New(nil)
	for z := int64(1); z <= 256; z++ {
		createAt(t, tr2, z)
	}
	if got := tr2.DigestLog(); len(got) != 2 || got[1] != zd(256, DigestVersion, at256) {
		t.Fatalf("log %+v, want 128 and 256 (%d)", got, at256)
	}
}

// A loaded snapshot's digest of the snapshot's own zxid is compared with the loaded tree at once; one past it leaves
// the tree fuzzy until the txn of its zxid, which is compared with it (a mismatch reported once), then logging
// starts. A digest at an earlier zxid than the snapshot's, or of zxid 0, is ignored; one at a zxid no txn reaches
// keeps the tree fuzzy.
func TestSnapshotDigest(t *testing.T) {
	ref := New(nil)
	for z := int64(1); z <= 3; z++ {
		createAt(t, ref, z)
	}
	for _, tc := range []struct {
		digest     jute.ZxidDigest
		snapZxid   int64
		fuzzyAfter []bool // after txns 1, 2, 3
		mismatchAt int64  // -1: at load
		lastLogged int64
	}{
		{zd(2, DigestVersion, ref.Digest()+1), 0, []bool{true, false, false}, 2, 3},
		{zd(3, DigestVersion, ref.Digest()), 0, []bool{true, true, false}, 0, 0},
		{zd(2, 1, 12345), 0, []bool{true, false, false}, 0, 3}, // another version: not compared
		{zd(0, DigestVersion, 0), 0, []bool{false, false, false}, 0, 3},
		{zd(1, DigestVersion, 7), 2, []bool{false, false, false}, 0, 3},
		{zd(9, DigestVersion, 7), 0, []bool{true, true, true}, 0, 0},
		{zd(5, DigestVersion, New(nil).Digest()), 5, []bool{false, false, false}, 0, 3},
		{zd(5, DigestVersion, 7), 5, []bool{false, false, false}, -1, 3},
	} {
		tr := New(nil)
		var mismatch int64
		if tr.SetSnapshotDigest(tc.digest, tc.snapZxid) {
			mismatch = -1
		}
		for z := int64(1); z <= 3; z++ {
			if createAt(t, tr, z).SnapshotDigestMismatch {
				mismatch = z
			}
			if tr.Fuzzy() != tc.fuzzyAfter[z-1] {
				t.Fatalf("%+v: fuzzy %v after txn %d", tc.digest, tr.Fuzzy(), z)
			}
		}
		var last int64
		if d := tr.LastDigest(); d != nil {
			last = d.Zxid
		}
		if mismatch != tc.mismatchAt || last != tc.lastLogged {
			t.Fatalf("%+v: mismatch at %d, last logged %d", tc.digest, mismatch, last)
		}
	}
}

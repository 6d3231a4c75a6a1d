package tree

import "github.com/zkafka/zkafka/jute"

// DataTree's DIGEST_LOG_INTERVAL and DIGEST_LOG_LIMIT: the digest log keeps the tree's digest after each txn whose
// zxid is a multiple of the interval, the latest DigestLogLimit of them.
const (
	DigestLogInterval = 128
	DigestLogLimit    = 1024
)

// digests is the tree's record of its own digests, as DataTree keeps it.
type digests struct {
	log []jute.ZxidDigest
	// last is lastProcessedZxidDigest, the latest digest logged: a snapshot stores it.
	last *jute.ZxidDigest
	// fromSnapshot is digestFromLoadedSnapshot: the digest the loaded snapshot stored, until the txn of its zxid
	// is applied. Until then the tree is fuzzy: nothing is logged and txn digests are not compared.
	fromSnapshot *jute.ZxidDigest
}

// DigestLog returns the digest log (DataTree.ZxidDigest: the tree's digest after the txn of a zxid), oldest first.
func (t *Tree) DigestLog() []jute.ZxidDigest { return append([]jute.ZxidDigest(nil), t.digests.log...) }

// LastDigest is the latest digest logged (lastProcessedZxidDigest); nil when none was since the tree was made
// or loaded. A snapshot stores it (Apache writes an empty one, zxid 0, for nil).
func (t *Tree) LastDigest() *jute.ZxidDigest { return t.digests.last }

// SetSnapshotDigest is DataTree.deserializeZxidDigest and FileSnap.deserialize's check after it: d is the digest
// stored in the snapshot the tree was just loaded from, whose file name has snapZxid. A digest of zxid 0 is none;
// one below snapZxid is not of this snapshot (a new leader's snapshot named after its epoch's first zxid) and is
// ignored. One of snapZxid itself (no txn ran while the snapshot was written) is compared with the loaded tree at
// once: mismatch reports a difference. One past it (a fuzzy snapshot) leaves the tree fuzzy until that txn.
func (t *Tree) SetSnapshotDigest(d jute.ZxidDigest, snapZxid int64) (mismatch bool) {
	t.digests.fromSnapshot = nil
	if d.Zxid > 0 && d.Zxid >= snapZxid {
		t.digests.fromSnapshot = &d
		return t.compareSnapshotDigest(snapZxid)
	}
	return false
}

// Fuzzy reports whether the tree still waits for the txn of its loaded snapshot's digest (DataTree.compareDigest
// compares nothing meanwhile).
func (t *Tree) Fuzzy() bool { return t.digests.fromSnapshot != nil }

// compareSnapshotDigest is DataTree.compareSnapshotDigests: at the zxid of the loaded snapshot's digest the tree
// must have that digest (when computed in our version), and the tree is no longer fuzzy.
func (t *Tree) compareSnapshotDigest(zxid int64) (mismatch bool) {
	d := &t.digests
	if s := d.fromSnapshot; s != nil && zxid == s.Zxid {
		mismatch = s.DigestVersion == DigestVersion && t.digest != s.Digest
		d.fromSnapshot = nil
	}
	return mismatch
}

// afterTxn is the end of DataTree.processTxn for a whole txn (not a multi's parts): while fuzzy, the txn of the
// snapshot digest's zxid is compared with it and ends the fuzzy state (a log that stops short leaves the tree
// fuzzy); otherwise the digest is logged (logZxidDigest).
func (t *Tree) afterTxn(zxid int64) (mismatch bool) {
	d := &t.digests
	if d.fromSnapshot != nil {
		return t.compareSnapshotDigest(zxid)
	}
	zd := jute.ZxidDigest{Zxid: zxid, DigestVersion: DigestVersion, Digest: t.digest}
	d.last = &zd
	if zxid%DigestLogInterval == 0 {
		if len(d.log) == DigestLogLimit {
			d.log = append(d.log[:0], d.log[1:]...)
		}
		d.log = append(d.log, zd)
	}
	return false
}

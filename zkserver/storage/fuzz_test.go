package storage

import (
	"bytes"
	"encoding/binary"
	"hash/adler32"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// fuzzLogFile is a txn log as TxnLog writes it: header, entries of each kind, preallocated zeros.
func fuzzLogFile(t testing.TB) []byte {
	dir := t.TempDir()
	l, err := OpenTxnLog(dir, LogOptions{PreAllocSize: 4096, ForceSync: false})
	if err != nil {
		t.Fatal(err)
	}
	acl := jute.OpenACLUnsafe
	txns := []struct {
		typ int32
		rec jute.Record
	}{
		{jute.OpCreateSession, &jute.CreateSessionTxn{TimeOut: 30000}},
		{jute.OpCreate, &jute.CreateTxn{Path: "/a", Data: []byte("x"), ACL: acl, ParentCVersion: 1}},
		{jute.OpSetData, &jute.SetDataTxn{Path: "/a", Data: []byte("y"), Version: 1}},
		{jute.OpMulti, &jute.MultiTxn{Txns: []jute.Txn{
			{Type: jute.OpCreate, Data: jute.Marshal(&jute.CreateTxn{Path: "/m", ACL: acl})},
			{Type: jute.OpDelete, Data: jute.Marshal(&jute.DeleteTxn{Path: "/m"})},
		}}},
		{jute.OpCloseSession, &jute.CloseSessionTxn{Paths2Delete: []string{"/e"}}},
	}
	for i, x := range txns {
		hdr := &jute.TxnHeader{ClientID: 0x55, Cxid: int32(i), Zxid: 0x100000001 + int64(i), Time: 1, Type: x.typ}
		if err := l.AppendTxn(hdr, x.rec, &jute.TxnDigest{Version: 2, TreeDigest: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(); err != nil {
		t.Fatal(err)
	}
	name := l.CurrentFile()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixChecksums rewrites each framed entry's Adler32 so that the fuzzer's changes inside entries reach the txn
// decoder instead of stopping at the checksum.
func fixChecksums(b []byte) {
	off := headerLen
	for off+12 <= len(b) {
		n := int(int32(binary.BigEndian.Uint32(b[off+8:])))
		if n <= 0 || off+12+n > len(b) {
			return
		}
		binary.BigEndian.PutUint64(b[off:], uint64(adler32.Checksum(b[off+12:off+12+n])))
		off += 12 + n + 1
	}
}

// FuzzTxnLog (make fuzz) recovers a dataDir whose only txn log holds arbitrary bytes: reading it must give the
// entries up to the first bad one or an error, never a panic; repairing the torn tail must keep every entry read
// before, and the repaired file must read the same again.
func FuzzTxnLog(f *testing.F) {
	good := fuzzLogFile(f)
	f.Add(good, false)
	f.Add(good, true)
	f.Add(good[:len(good)/3], false)              // torn inside an entry
	f.Add(append(good[:40:40], 0xff, 0xff), true) // garbage after a partial entry
	f.Add(good[:10], false)                       // shorter than the header
	f.Fuzz(func(t *testing.T, file []byte, fixCRC bool) {
		if fixCRC {
			file = bytes.Clone(file)
			fixChecksums(file)
		}
		dir := fuzzDir(t)
		path := filepath.Join(dir, logName(0x100000001))
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		before, err := fuzzReadLog(dir)
		if err != nil {
			return // a corrupt entry (not a torn tail) stops recovery with an error
		}
		last, err := TruncateTornTail(dir)
		if err != nil {
			t.Fatalf("repair after a clean read: %v", err)
		}
		after, err := fuzzReadLog(dir)
		if err != nil {
			t.Fatalf("read after repair: %v", err)
		}
		if len(after) != len(before) {
			t.Fatalf("repair lost entries: %d before, %d after", len(before), len(after))
		}
		for i := range after {
			if !reflect.DeepEqual(after[i], before[i]) {
				t.Fatalf("entry %d changed by the repair", i)
			}
			if !bytes.Equal(EncodeEntry(&after[i].Hdr, after[i].Txn, after[i].Digest), after[i].Raw) &&
				after[i].Txn != nil && after[i].Hdr.Type != jute.OpCreate {
				// Re-encoding is exact except for the old formats DecodeEntry upgrades (CreateTxnV0, bare closeSession).
				checkReencodes(t, after[i])
			}
		}
		if len(after) > 0 && last != after[len(after)-1].Hdr.Zxid {
			t.Fatalf("repair says last zxid %#x, log ends at %#x", last, after[len(after)-1].Hdr.Zxid)
		}
	})
}

// checkReencodes: an entry that decodes re-encodes to bytes that decode the same.
func checkReencodes(t *testing.T, e *Entry) {
	t.Helper()
	again, err := DecodeEntry(EncodeEntry(&e.Hdr, e.Txn, e.Digest))
	if err != nil {
		t.Fatalf("re-encoded entry at %#x: %v", e.Hdr.Zxid, err)
	}
	if again.Hdr != e.Hdr || !reflect.DeepEqual(again.Digest, e.Digest) {
		t.Fatalf("re-encoded entry %+v became %+v", e.Hdr, again.Hdr)
	}
}

func fuzzReadLog(dir string) ([]*Entry, error) {
	var ents []*Entry
	_, err := ReadLog(dir, 0, func(e *Entry) error {
		ents = append(ents, e)
		return nil
	})
	return ents, err
}

// FuzzSnapshotFile (make fuzz) loads a snapshot file of arbitrary bytes, plain, gzip or snappy, into a data tree:
// an error or a snapshot, never a panic or an allocation its lengths ask for.
func FuzzSnapshotFile(f *testing.F) {
	src := tree.New(nil)
	src.Apply(&jute.TxnHeader{ClientID: 1, Zxid: 1, Type: jute.OpCreate},
		&jute.CreateTxn{Path: "/a", Data: []byte("x"), ACL: jute.OpenACLUnsafe})
	src.Apply(&jute.TxnHeader{ClientID: 7, Zxid: 2, Type: jute.OpCreate},
		&jute.CreateTxn{Path: "/a/e", ACL: []jute.ACL{{Perms: 1, ID: jute.Id{Scheme: "digest", ID: "u:h"}}}, Ephemeral: true})
	for mode, comp := range []string{"", "gz", "snappy"} {
		dir := f.TempDir()
		name, err := WriteSnapshotWith(dir, 2, map[int64]int32{1: 30000, 7: 4000}, src,
			&jute.ZxidDigest{Zxid: 2, DigestVersion: 2, Digest: 99}, SnapshotOptions{Compression: comp})
		if err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(mode))
		f.Add(b[:len(b)-20], uint8(mode))
	}
	f.Fuzz(func(t *testing.T, file []byte, mode uint8) {
		name := snapName(2)
		switch mode % 3 {
		case 1:
			name += ".gz"
		case 2:
			name += ".snappy"
		}
		path := filepath.Join(fuzzDir(t), name)
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = ReadSnapshot(path, tree.New(nil))
		_, _ = IsValidSnapshot(path)
	})
}

// fuzzDir is a fresh directory, in memory where the system has /dev/shm: the repair fsyncs, which on a busy disk
// would hold each input for a tenth of a second.
func fuzzDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/dev/shm", "zkfuzz")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

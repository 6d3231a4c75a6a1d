package storage

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/zkafka/zkafka/jute"
)

func createEntry(zxid int64, path string, withDigest bool) []byte {
	hdr := jute.TxnHeader{ClientID: 0x1000, Cxid: int32(zxid), Zxid: zxid, Time: 1700000000000 + zxid, Type: jute.OpCreate}
	txn := &jute.CreateTxn{Path: path, Data: []byte("d" + path), ACL: jute.OpenACLUnsafe, ParentCVersion: int32(zxid)}
	var dg *jute.TxnDigest
	if withDigest {
		dg = &jute.TxnDigest{Version: 2, TreeDigest: zxid * 7}
	}
	return EncodeEntry(&hdr, txn, dg)
}

func TestEntryCodec(t *testing.T) {
	acl := jute.OpenACLUnsafe
	cases := []struct {
		typ int32
		txn jute.Record
	}{
		{jute.OpCreateSession, &jute.CreateSessionTxn{TimeOut: 30000}},
		{jute.OpCloseSession, &jute.CloseSessionTxn{Paths2Delete: []string{"/e1", "/e2"}}},
		{jute.OpCreate, &jute.CreateTxn{Path: "/a", Data: []byte("x"), ACL: acl, Ephemeral: true, ParentCVersion: 3}},
		{jute.OpCreate2, &jute.CreateTxn{Path: "/b", Data: nil, ACL: acl, ParentCVersion: 4}},
		{jute.OpCreateTTL, &jute.CreateTTLTxn{Path: "/t", Data: []byte{}, ACL: acl, ParentCVersion: 1, TTL: 5000}},
		{jute.OpCreateContainer, &jute.CreateContainerTxn{Path: "/c", Data: []byte("c"), ACL: acl, ParentCVersion: 2}},
		{jute.OpDelete, &jute.DeleteTxn{Path: "/a"}},
		{jute.OpDeleteContainer, &jute.DeleteTxn{Path: "/c"}},
		{jute.OpSetData, &jute.SetDataTxn{Path: "/b", Data: []byte("y"), Version: 2}},
		{jute.OpReconfig, &jute.SetDataTxn{Path: "/zookeeper/config", Data: []byte("server.1=..."), Version: 1}},
		{jute.OpSetACL, &jute.SetACLTxn{Path: "/b", ACL: acl, Version: 1}},
		{jute.OpError, &jute.ErrorTxn{Err: int32(jute.ErrNoNode)}},
		{jute.OpCheck, &jute.CheckVersionTxn{Path: "/b", Version: 7}},
		{jute.OpMulti, &jute.MultiTxn{Txns: []jute.Txn{
			{Type: jute.OpCreate, Data: jute.Marshal(&jute.CreateTxn{Path: "/m", ACL: acl})},
			{Type: jute.OpCheck, Data: jute.Marshal(&jute.CheckVersionTxn{Path: "/m", Version: 0})},
		}}},
	}
	for _, c := range cases {
		for _, withDigest := range []bool{false, true} {
			hdr := jute.TxnHeader{ClientID: 77, Cxid: 5, Zxid: 0x100000002, Time: 123456, Type: c.typ}
			var dg *jute.TxnDigest
			if withDigest {
				dg = &jute.TxnDigest{Version: 2, TreeDigest: -42}
			}
			b := EncodeEntry(&hdr, c.txn, dg)
			ent, err := DecodeEntry(b)
			if err != nil {
				t.Fatalf("type %d: %v", c.typ, err)
			}
			if ent.Hdr != hdr || !reflect.DeepEqual(ent.Txn, c.txn) || !reflect.DeepEqual(ent.Digest, dg) {
				t.Fatalf("type %d digest %v: got %+v %+v %+v", c.typ, withDigest, ent.Hdr, ent.Txn, ent.Digest)
			}
			if !bytes.Equal(ent.Raw, b) {
				t.Fatalf("raw differs")
			}
		}
	}

	// closeSession from before CloseSessionTxn: no record, maybe a digest.
	hdr := jute.TxnHeader{ClientID: 1, Zxid: 9, Type: jute.OpCloseSession}
	for _, dg := range []*jute.TxnDigest{nil, {Version: 2, TreeDigest: 99}} {
		ent, err := DecodeEntry(EncodeEntry(&hdr, nil, dg))
		if err != nil || ent.Txn != nil || !reflect.DeepEqual(ent.Digest, dg) {
			t.Fatalf("closeSession without record: %+v %v", ent, err)
		}
	}

	// CreateTxnV0 (no parentCVersion) reads as parentCVersion -1.
	e := jute.Encoder{}
	hdr = jute.TxnHeader{ClientID: 1, Zxid: 10, Type: jute.OpCreate}
	hdr.Encode(&e)
	e.String("/v0")
	e.Buffer([]byte("old"))
	e.Int(0)
	e.Bool(false)
	ent, err := DecodeEntry(e.Buf)
	if err != nil {
		t.Fatal(err)
	}
	want := &jute.CreateTxn{Path: "/v0", Data: []byte("old"), ACL: []jute.ACL{}, ParentCVersion: -1}
	if !reflect.DeepEqual(ent.Txn, want) {
		t.Fatalf("V0 create: %+v", ent.Txn)
	}

	if _, err := DecodeEntry(EncodeEntry(&jute.TxnHeader{Type: 999}, nil, nil)); err == nil {
		t.Fatal("unknown type accepted")
	}
	if _, err := DecodeEntry(EncodeEntry(&jute.TxnHeader{Type: jute.OpSetData}, &jute.DeleteTxn{Path: "/x"}, nil)[:35]); err == nil {
		t.Fatal("truncated setData accepted")
	}
}

func readAll(t *testing.T, dir string, from int64) ([]*Entry, int64) {
	t.Helper()
	var got []*Entry
	last, err := ReadLog(dir, from, func(e *Entry) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadLog: %v", err)
	}
	return got, last
}

func checkZxids(t *testing.T, got []*Entry, from, to int64) {
	t.Helper()
	if int64(len(got)) != to-from+1 {
		t.Fatalf("got %d entries, want %d (%d..%d)", len(got), to-from+1, from, to)
	}
	for i, e := range got {
		z := from + int64(i)
		if e.Hdr.Zxid != z {
			t.Fatalf("entry %d has zxid %d, want %d", i, e.Hdr.Zxid, z)
		}
		c, ok := e.Txn.(*jute.CreateTxn)
		if !ok || c.Path != fmt.Sprintf("/n%d", z) {
			t.Fatalf("entry %d: %+v", i, e.Txn)
		}
	}
}

func TestLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	const prealloc = 16 << 10
	l, err := OpenTxnLog(dir, LogOptions{PreAllocSize: prealloc, ForceSync: true})
	if err != nil {
		t.Fatal(err)
	}
	z := int64(0)
	// Batches of various sizes, a roll every 300 txns, big entries now and then
	// so the file outgrows several preallocation chunks.
	for batch := 0; batch < 60; batch++ {
		for i := 0; i < batch%17+1; i++ {
			z++
			ent := createEntry(z, fmt.Sprintf("/n%d", z), z%2 == 0)
			if err := l.Append(z, ent); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Commit(); err != nil {
			t.Fatal(err)
		}
		if batch%20 == 19 {
			if err := l.Roll(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if l.LastZxid() != z {
		t.Fatalf("LastZxid %d, want %d", l.LastZxid(), z)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := listByZxid(dir, logPrefix, true)
	if len(files) != 3 || files[0].zxid != 1 {
		t.Fatalf("files %+v", files)
	}
	for _, f := range files {
		st, _ := os.Stat(f.path)
		res, err := scanLog(f.path, true, nil)
		if err != nil || res.torn {
			t.Fatalf("%s: %+v %v", f.path, res, err)
		}
		// Preallocated: the file is longer than its data, and the tail is zeros.
		if st.Size() <= res.goodEnd+padMargin {
			t.Fatalf("%s: size %d, data end %d", f.path, st.Size(), res.goodEnd)
		}
		if st.Size() < prealloc {
			t.Fatalf("%s not preallocated: %d", f.path, st.Size())
		}
		raw, _ := os.ReadFile(f.path)
		if !allZero(raw[res.goodEnd:]) {
			t.Fatalf("%s: non-zero tail", f.path)
		}
		if !bytes.Equal(raw[:16], []byte{'Z', 'K', 'L', 'G', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}) {
			t.Fatalf("header % x", raw[:16])
		}
	}
	got, last := readAll(t, dir, 0)
	checkZxids(t, got, 1, z)
	if last != z {
		t.Fatalf("last %d", last)
	}
	for _, e := range got {
		if (e.Hdr.Zxid%2 == 0) != (e.Digest != nil) {
			t.Fatalf("digest presence wrong at %d", e.Hdr.Zxid)
		}
	}
	// From the middle of the second file: only later txns.
	from := files[1].zxid + 5
	got, _ = readAll(t, dir, from)
	checkZxids(t, got, from+1, z)
	// Past the end.
	got, last = readAll(t, dir, z+10)
	if len(got) != 0 || last != z+10 {
		t.Fatalf("past end: %d %d", len(got), last)
	}

	// Reopen: appends go to a new file named after the next zxid.
	l, err = OpenTxnLog(dir, LogOptions{PreAllocSize: prealloc, ForceSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.LastZxid() != z {
		t.Fatalf("reopened LastZxid %d", l.LastZxid())
	}
	z++
	if err := l.Append(z, createEntry(z, fmt.Sprintf("/n%d", z), true)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, logName(z))); err != nil {
		t.Fatal(err)
	}
	got, _ = readAll(t, dir, 0)
	checkZxids(t, got, 1, z)
}

func TestPadSize(t *testing.T) {
	const p = 64 << 20
	cases := []struct{ pos, size, want int64 }{
		{16, 16, 16 + p},       // right after the header (Apache files are 64 MiB + 16)
		{1000, 16 + p, 16 + p}, // far from the end
		{16 + p - 4096, 16 + p, 16 + 2*p},
		{3 * p, p, 4 * p}, // wrote past the end
		{0, 0, p},
	}
	for _, c := range cases {
		if got := padSize(c.pos, c.size, p); got != c.want {
			t.Errorf("padSize(%d,%d) = %d, want %d", c.pos, c.size, got, c.want)
		}
	}
	if padSize(100, 50, 0) != 50 || padSize(100, 50, -1) != 50 {
		t.Error("preallocation not disabled")
	}
}

// writeLog writes txns 1..n to a single file and returns its path and the
// offset where each entry starts.
func writeLog(t *testing.T, dir string, n int) (string, []int64) {
	t.Helper()
	l, err := OpenTxnLog(dir, LogOptions{PreAllocSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	off := int64(headerLen)
	for z := int64(1); z <= int64(n); z++ {
		e := createEntry(z, fmt.Sprintf("/n%d", z), true)
		offs = append(offs, off)
		off += int64(len(e)) + frameOverhead
		if err := l.Append(z, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, logName(1)), offs
}

func TestTornTails(t *testing.T) {
	const n = 10
	type damage func(f *os.File, lastOff, end int64)
	cases := map[string]damage{
		// The last entry's bytes never made it: zeros from its start.
		"zero length": func(f *os.File, lastOff, end int64) {
			f.WriteAt(make([]byte, end-lastOff), lastOff)
		},
		// Only part of the last entry is there; file ends mid-entry.
		"short read": func(f *os.File, lastOff, end int64) {
			f.Truncate(lastOff + 20)
		},
		// Header bytes written, payload missing (zeros), so no 0x42.
		"missing 0x42": func(f *os.File, lastOff, end int64) {
			f.WriteAt(make([]byte, end-lastOff-12), lastOff+12)
		},
		// Payload present but garbled.
		"checksum mismatch": func(f *os.File, lastOff, end int64) {
			f.WriteAt([]byte{0xff, 0xee}, lastOff+30)
		},
		// File ends inside the 12-byte prefix.
		"short prefix": func(f *os.File, lastOff, end int64) {
			f.Truncate(lastOff + 5)
		},
	}
	for name, dmg := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path, offs := writeLog(t, dir, n)
			end := offs[n-1] + int64(len(createEntry(n, fmt.Sprintf("/n%d", n), true))) + frameOverhead
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			dmg(f, offs[n-1], end)
			f.Close()

			got, last := readAll(t, dir, 0)
			checkZxids(t, got, 1, n-1)
			if last != n-1 {
				t.Fatalf("last %d", last)
			}
			// Repair, then append after it: the old file reads cleanly even
			// though it is no longer the last one.
			l, err := OpenTxnLog(dir, LogOptions{PreAllocSize: 8 << 10})
			if err != nil {
				t.Fatal(err)
			}
			if l.LastZxid() != n-1 {
				t.Fatalf("LastZxid %d", l.LastZxid())
			}
			for z := int64(n); z < n+5; z++ {
				if err := l.Append(z, createEntry(z, fmt.Sprintf("/n%d", z), false)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ = readAll(t, dir, 0)
			checkZxids(t, got, 1, n+4)
		})
	}
}

func TestCorruptionInsideLogIsAnError(t *testing.T) {
	dir := t.TempDir()
	path, offs := writeLog(t, dir, 10)
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, offs[4]+30) // entry 5 of 10
	f.Close()
	_, err := ReadLog(dir, 0, func(*Entry) error { return nil })
	if !errors.Is(err, ErrCorruptLog) {
		t.Fatalf("want ErrCorruptLog, got %v", err)
	}
	if _, err := OpenTxnLog(dir, LogOptions{}); !errors.Is(err, ErrCorruptLog) {
		t.Fatalf("open: want ErrCorruptLog, got %v", err)
	}

	// A bad magic number is an error too.
	dir2 := t.TempDir()
	path, _ = writeLog(t, dir2, 2)
	f, _ = os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte("XX"), 0)
	f.Close()
	if _, err := ReadLog(dir2, 0, func(*Entry) error { return nil }); err == nil {
		t.Fatal("bad magic accepted")
	}
}

func TestEmptyNewestLogIsRemoved(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, 3)
	// A crash right after creating the next file.
	if err := os.WriteFile(filepath.Join(dir, logName(4)), []byte{'Z', 'K'}, 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, dir, 0)
	checkZxids(t, got, 1, 3)
	l, err := OpenTxnLog(dir, LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.LastZxid() != 3 {
		t.Fatalf("LastZxid %d", l.LastZxid())
	}
	if _, err := os.Stat(filepath.Join(dir, logName(4))); !os.IsNotExist(err) {
		t.Fatalf("empty log kept: %v", err)
	}
}

// writeRolledLog writes txns 1..n, one commit each, into log files of about 2 KiB.
func writeRolledLog(t *testing.T, dir string, n int64) {
	t.Helper()
	l, err := OpenTxnLog(dir, LogOptions{PreAllocSize: 4 << 10, SizeLimit: 2 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for z := int64(1); z <= n; z++ {
		l.Append(z, createEntry(z, fmt.Sprintf("/n%d", z), true))
		if err := l.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
}

func TestSizeLimitRolls(t *testing.T) {
	dir := t.TempDir()
	writeRolledLog(t, dir, 100)
	files, _ := listByZxid(dir, logPrefix, true)
	if len(files) < 3 {
		t.Fatalf("only %d files", len(files))
	}
	got, _ := readAll(t, dir, 0)
	checkZxids(t, got, 1, 100)
}

func BenchmarkGroupCommit(b *testing.B) {
	dir := b.TempDir()
	l, err := OpenTxnLog(dir, LogOptions{ForceSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ent := createEntry(1, "/bench/node-000000001", true)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.Append(int64(i+1), ent)
		if i%100 == 99 {
			if err := l.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TRUNC: the log goes back to a zxid in the middle of a file, the files after it and the snapshots past it go, and
// the log continues from there.
func TestTruncateLog(t *testing.T) {
	dir, snapDir := t.TempDir(), t.TempDir()
	writeRolledLog(t, dir, 100)
	for _, z := range []int64{10, 37, 50} {
		if err := os.WriteFile(filepath.Join(snapDir, snapName(z)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := TruncateLog(dir, snapDir, 37); err != nil {
		t.Fatal(err)
	}
	got, _ := readAll(t, dir, 0)
	checkZxids(t, got, 1, 37)
	snaps, _ := listByZxid(snapDir, snapPrefix, true)
	if len(snaps) != 2 || snaps[1].zxid != 37 {
		t.Fatalf("snapshots after the truncation: %+v", snaps)
	}
	l, err := OpenTxnLog(dir, LogOptions{PreAllocSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for z := int64(38); z <= 40; z++ {
		l.Append(z, createEntry(z, fmt.Sprintf("/n%d", z), true))
	}
	if err := l.Commit(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	got, _ = readAll(t, dir, 0)
	checkZxids(t, got, 1, 40)
	if err := TruncateLog(dir, snapDir, 0); err == nil {
		t.Fatal("truncating below the first log file must fail")
	}
}

// Epoch files as QuorumPeer loads them: missing ones written from the last zxid's epoch, disagreements refused.
func TestLoadEpochs(t *testing.T) {
	dir := t.TempDir()
	if a, c, err := LoadEpochs(dir, 0x300000007); err != nil || a != 3 || c != 3 {
		t.Fatalf("fresh: %d %d %v", a, c, err)
	}
	if v, ok, err := ReadEpoch(dir, AcceptedEpochFile); !ok || v != 3 || err != nil {
		t.Fatalf("acceptedEpoch written: %d %v %v", v, ok, err)
	}
	if _, _, err := LoadEpochs(dir, 0x400000001); err == nil {
		t.Fatal("a zxid of a later epoch than currentEpoch must be refused")
	}
	if err := WriteEpoch(dir, CurrentEpochFile, 5); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadEpochs(dir, 0x300000007); err == nil {
		t.Fatal("acceptedEpoch below currentEpoch must be refused")
	}
}

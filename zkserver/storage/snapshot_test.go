package storage

import (
	"bytes"
	"errors"
	"fmt"
	"hash/adler32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/xerial"
	"github.com/zkafka/zkafka/jute"
)

func sampleTree(n int) *testTree {
	t := stdTestTree()
	t.acls = append(t.acls, testACL{id: 2, acls: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "digest", ID: "u:hash"}}}})
	// Insert app nodes right after the root's own entry order: "", then
	// /app subtree, then /zookeeper... any pre-order works for the format.
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("/app%d", i)
		t.add(p, []byte(strings.Repeat("v", i%50)), int64(-1+3*(i%2)), jute.StatPersisted{Czxid: int64(i + 1), Mzxid: int64(i + 1), Ctime: 1700000000000, Mtime: 1700000000001, Version: int32(i), Pzxid: int64(i + 1)})
	}
	return t
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, comp := range []string{"", "gz", "snappy"} {
		dir := t.TempDir()
		tree := sampleTree(3000)
		sess := map[int64]int32{0x100000001: 30000, 0x100000002: 4000}
		dg := &jute.ZxidDigest{Zxid: 0x1f, DigestVersion: 2, Digest: -12345}
		path, err := WriteSnapshotWith(dir, 0x1f, sess, tree, dg, SnapshotOptions{Compression: comp})
		if err != nil {
			t.Fatal(err)
		}
		wantName := "snapshot.1f"
		if comp != "" {
			wantName += "." + comp
		}
		if filepath.Base(path) != wantName {
			t.Fatalf("name %s", path)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("leftover files: %v", ents)
		}
		if ok, err := IsValidSnapshot(path); !ok || err != nil {
			t.Fatalf("IsValidSnapshot: %v %v", ok, err)
		}
		got := newTestTree()
		info, err := ReadSnapshot(path, got)
		if err != nil {
			t.Fatal(err)
		}
		if info.Zxid != 0x1f || !reflect.DeepEqual(info.Sessions, sess) || !reflect.DeepEqual(info.Digest, dg) {
			t.Fatalf("info %+v", info)
		}
		if !reflect.DeepEqual(got.nodes, tree.nodes) || !reflect.DeepEqual(got.acls, tree.acls) {
			t.Fatal("tree differs")
		}
	}
}

func TestSnapshotLayout(t *testing.T) {
	// Without a digest: header, sessions, tree, seal, and nothing after.
	dir := t.TempDir()
	path, err := WriteSnapshotWith(dir, 0, nil, stdTestTree(), nil, SnapshotOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var tb bytes.Buffer
	stdTestTree().WriteSnapshot(&tb)
	body := append([]byte{'Z', 'K', 'S', 'N', 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, tb.Bytes()...)
	if !bytes.Equal(b[:len(body)], body) || len(b) != len(body)+13 {
		t.Fatalf("layout:\n% x", b)
	}
	if !bytes.Equal(b[len(b)-5:], []byte{0, 0, 0, 1, '/'}) {
		t.Fatal("seal")
	}
	info, err := ReadSnapshot(path, newTestTree())
	if err != nil || info.Digest != nil {
		t.Fatalf("%+v %v", info, err)
	}
}

func TestSnapshotChecksumMismatch(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteSnapshot(dir, 5, map[int64]int32{1: 100}, sampleTree(10), &jute.ZxidDigest{Zxid: 5, DigestVersion: 2, Digest: 1})
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(path)
	// Flip a byte inside node data (a data byte, so the structure still parses).
	i := bytes.Index(orig, []byte("vvvv"))
	for _, off := range []int{i, len(orig) - 20} { // tree body; digest section
		b := append([]byte(nil), orig...)
		b[off] ^= 0x01
		os.WriteFile(path, b, 0o644)
		if _, err := ReadSnapshot(path, newTestTree()); err == nil || !strings.Contains(err.Error(), "CRC") {
			t.Fatalf("corruption at %d not detected: %v", off, err)
		}
	}
}

func TestLoadLatestFallsBack(t *testing.T) {
	dir := t.TempDir()
	for _, z := range []int64{0x10, 0x20, 0x30, 0x40} {
		tree := sampleTree(int(z))
		if _, err := WriteSnapshotWith(dir, z, nil, tree, nil, SnapshotOptions{NoSync: true}); err != nil {
			t.Fatal(err)
		}
	}
	snaps, _ := Snapshots(dir)
	if len(snaps) != 4 || filepath.Base(snaps[0]) != "snapshot.40" || filepath.Base(snaps[3]) != "snapshot.10" {
		t.Fatalf("order %v", snaps)
	}
	// Newest: half-written (no seal at the end: not even a candidate).
	b, _ := os.ReadFile(snaps[0])
	os.WriteFile(snaps[0], b[:len(b)/2], 0o644)
	// Second newest: sealed but corrupt inside.
	b, _ = os.ReadFile(snaps[1])
	b[bytes.Index(b, []byte("vvv"))] = 'X'
	os.WriteFile(snaps[1], b, 0o644)
	// Stray files that are not snapshots.
	os.WriteFile(filepath.Join(dir, "tmp.snapshot.50"), []byte("junk"), 0o644)
	os.WriteFile(filepath.Join(dir, "snapshot.zz"), []byte("junk"), 0o644)

	tr, info, err := LoadLatest(dir, func() TreeReader { return newTestTree() })
	if err != nil {
		t.Fatal(err)
	}
	if info.Zxid != 0x20 || len(tr.(*testTree).nodes) != 4+0x20 {
		t.Fatalf("loaded %+v", info)
	}
	if len(info.Skipped) != 2 {
		t.Fatalf("skipped %v", info.Skipped)
	}

	// Nothing usable at all: an error, not a silent empty tree.
	b, _ = os.ReadFile(snaps[2])
	b[bytes.Index(b, []byte("vvv"))] = 'X'
	os.WriteFile(snaps[2], b, 0o644)
	b, _ = os.ReadFile(snaps[3])
	b[bytes.Index(b, []byte("vvv"))] = 'X'
	os.WriteFile(snaps[3], b, 0o644)
	if _, _, err := LoadLatest(dir, func() TreeReader { return newTestTree() }); err == nil {
		t.Fatal("want error")
	}
	// No snapshot files: nil, nil, nil.
	tr, info, err = LoadLatest(t.TempDir(), func() TreeReader { return newTestTree() })
	if tr != nil || info != nil || err != nil {
		t.Fatal("empty dir")
	}
	if err := RemoveStaleTemps(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp.snapshot.50")); !os.IsNotExist(err) {
		t.Fatal("temp kept")
	}
}

// testdata/snapshot.1f.snappy is our plain snapshot of sampleTree(300)
// compressed by snappy-java 1.1.8.3's SnappyOutputStream (a flush after 100
// bytes, then the rest), as Apache writes one.
func TestReadSnappyJavaSnapshot(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/snapshot.1f.snappy")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "snapshot.1f.snappy")
	os.WriteFile(path, b, 0o644)
	got := newTestTree()
	info, err := ReadSnapshot(path, got)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleTree(300)
	if !reflect.DeepEqual(got.nodes, want.nodes) || !reflect.DeepEqual(got.acls, want.acls) {
		t.Fatal("tree differs")
	}
	if info.Zxid != 0x1f || info.Sessions[0x100000001] != 30000 || info.Digest == nil || info.Digest.Digest != -12345 {
		t.Fatalf("info %+v", info)
	}
	// The snapshot written by us from the same tree decodes to the same bytes.
	ours, err := WriteSnapshotWith(t.TempDir(), 0x1f, info.Sessions, want, info.Digest, SnapshotOptions{Compression: "snappy", NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ob, _ := os.ReadFile(ours)
	a, err1 := xerial.Decode(ob, 1<<30)
	j, err2 := xerial.Decode(b, 1<<30)
	if err1 != nil || err2 != nil || !bytes.Equal(a, j) {
		t.Fatalf("decoded streams differ: %v %v", err1, err2)
	}
}

// Damaged gz and snappy snapshots are invalid snapshots: LoadLatest goes
// back to an older one, as FileSnap.deserialize does on its IOException.
func TestDamagedCompressedSnapshotsFallBack(t *testing.T) {
	for _, comp := range []string{"gz", "snappy"} {
		t.Run(comp, func(t *testing.T) { damagedFallBack(t, comp) })
	}
}

func damagedFallBack(t *testing.T, comp string) {
	opts := SnapshotOptions{Compression: comp, NoSync: true}
	damages := map[string]func([]byte) []byte{
		"torn":          func(b []byte) []byte { return b[:len(b)*2/3] },
		"torn tail":     func(b []byte) []byte { return b[:len(b)-3] },
		"magic only":    func(b []byte) []byte { return b[:8] },
		"flipped block": func(b []byte) []byte { b[len(b)/2] ^= 0x5a; return b },
		"zeroed end":    func(b []byte) []byte { clear(b[len(b)-200:]); return b },
	}
	for name, damage := range damages {
		dir := t.TempDir()
		if _, err := WriteSnapshotWith(dir, 0x10, nil, sampleTree(0x10), nil, opts); err != nil {
			t.Fatal(err)
		}
		newest, err := WriteSnapshotWith(dir, 0x20, nil, sampleTree(0x800), nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(newest)
		os.WriteFile(newest, damage(b), 0o644)
		if _, err := ReadSnapshot(newest, newTestTree()); err == nil {
			t.Fatalf("%s: damaged %s snapshot read", name, comp)
		}
		tr, info, err := LoadLatest(dir, func() TreeReader { return newTestTree() })
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.Zxid != 0x10 || len(tr.(*testTree).nodes) != 4+0x10 || len(info.Skipped) != 1 {
			t.Fatalf("%s: loaded %+v", name, info)
		}
	}
}

func TestOldDigestVersion(t *testing.T) {
	// digestVersion < 2 stored the digest as a hex string.
	var tb bytes.Buffer
	stdTestTree().WriteSnapshot(&tb)
	e := jute.Encoder{}
	(&jute.FileHeader{Magic: jute.SnapshotMagic, Version: 2, Dbid: -1}).Encode(&e)
	e.Int(0)
	e.Buf = append(e.Buf, tb.Bytes()...)
	seal := func() {
		s := jute.Encoder{}
		s.Long(int64(adler32.Checksum(e.Buf)))
		s.String("/")
		e.Buf = append(e.Buf, s.Buf...)
	}
	seal()
	e.Long(9)
	e.Int(1)
	e.String("ff")
	seal()
	p := filepath.Join(t.TempDir(), "snapshot.9")
	os.WriteFile(p, e.Buf, 0o644)
	info, err := ReadSnapshot(p, newTestTree())
	if err != nil {
		t.Fatal(err)
	}
	if *info.Digest != (jute.ZxidDigest{Zxid: 9, DigestVersion: 1, Digest: 255}) {
		t.Fatalf("%+v", info.Digest)
	}
}

func TestPurge(t *testing.T) {
	snapDir, logDir := t.TempDir(), t.TempDir()
	if err := Purge(snapDir, logDir, 2); err == nil {
		t.Fatal("retain 2 accepted")
	}
	for _, z := range []int64{0x5, 0x20, 0x40, 0x60, 0x80} {
		WriteSnapshotWith(snapDir, z, nil, stdTestTree(), nil, SnapshotOptions{NoSync: true})
	}
	for _, z := range []int64{0x1, 0x10, 0x30, 0x41, 0x70, 0x90} {
		os.WriteFile(filepath.Join(logDir, logName(z)), []byte("ZKLG"), 0o644)
	}
	if err := Purge(snapDir, logDir, 3); err != nil {
		t.Fatal(err)
	}
	names := func(dir string) []string {
		ents, _ := os.ReadDir(dir)
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	// Oldest kept snapshot is 0x40: log.30 may hold txns after it and stays.
	if got := names(snapDir); !reflect.DeepEqual(got, []string{"snapshot.40", "snapshot.60", "snapshot.80"}) {
		t.Fatalf("snapshots %v", got)
	}
	if got := names(logDir); !reflect.DeepEqual(got, []string{"log.30", "log.41", "log.70", "log.90"}) {
		t.Fatalf("logs %v", got)
	}
}

func TestEpochFiles(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := ReadEpoch(dir, CurrentEpochFile); ok || err != nil {
		t.Fatal("missing file")
	}
	if err := WriteEpoch(dir, CurrentEpochFile, 7); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, CurrentEpochFile))
	if string(b) != "7" {
		t.Fatalf("%q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, CurrentEpochFile+".tmp")); !os.IsNotExist(err) {
		t.Fatal("tmp left")
	}
	os.WriteFile(filepath.Join(dir, AcceptedEpochFile), []byte("12\n"), 0o644)
	if v, ok, err := ReadEpoch(dir, AcceptedEpochFile); v != 12 || !ok || err != nil {
		t.Fatal(v, ok, err)
	}
	os.WriteFile(filepath.Join(dir, AcceptedEpochFile), []byte("x"), 0o644)
	if _, _, err := ReadEpoch(dir, AcceptedEpochFile); err == nil {
		t.Fatal("garbage accepted")
	}
}

// A paced snapshot writes the same bytes as an unpaced one; aborted, it leaves
// nothing behind.
func TestPacedSnapshot(t *testing.T) {
	tree := sampleTree(3000)
	plainDir, pacedDir := t.TempDir(), t.TempDir()
	plain, err := WriteSnapshotWith(plainDir, 0x20, nil, tree, nil, SnapshotOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	paced, err := WriteSnapshotWith(pacedDir, 0x20, nil, tree, nil, SnapshotOptions{NoSync: true, WriteRate: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(plain)
	b, _ := os.ReadFile(paced)
	if !bytes.Equal(a, b) {
		t.Fatal("paced snapshot differs from the plain one")
	}

	// 1 byte/s: the first write already owes a long wait, which the closed
	// Abort channel cuts short.
	abortDir := t.TempDir()
	abort := make(chan struct{})
	close(abort)
	_, err = WriteSnapshotWith(abortDir, 0x21, nil, tree, nil, SnapshotOptions{NoSync: true, WriteRate: 1, Abort: abort})
	if !errors.Is(err, ErrSnapshotAborted) {
		t.Fatalf("err %v, want ErrSnapshotAborted", err)
	}
	if ents, _ := os.ReadDir(abortDir); len(ents) != 0 {
		t.Fatalf("aborted snapshot left %v", ents)
	}
}

package diff

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/zkserver/storage"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// TestDigestLogAsApache compares `hash` (the digest log: the tree's digest after each txn whose zxid is a multiple
// of 128) and digest_mismatches_count on a standalone Apache server and ours across restarts on one data
// directory. Fresh, the log grows with the txns; restarted, it holds what the replay of the log after the snapshot
// and the new txns logged, the replayed ones with the digests logged before. Each start writes a snapshot holding
// the digest of its own zxid, which the next start compares with the tree it loads; before the last start the
// test rewrites that snapshot with a wrong digest, and both servers count the mismatch.
func TestDigestLogAsApache(t *testing.T) {
	harness.SameAsApache(t, digestLog)
}

func digestLog(t *testing.T, kind harness.Kind) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	var lines []string
	seen := map[string]string{} // zxid -> digest, across restarts
	var s *harness.Server
	step := func(when string, creates int) {
		if s != nil {
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
		}
		started, err := harness.Start(ctx, kind, harness.Config{Dir: dir})
		harness.NeedOrSkip(t, err)
		t.Cleanup(func() { _ = started.Stop() })
		s = started
		c, _, err := zk.Connect([]string{s.Addr()}, 10*time.Second, zk.WithLogInfo(false))
		if err != nil {
			t.Fatal(err)
		}
		for i := range creates {
			if _, err := c.Create(fmt.Sprintf("/%s-%d", when, i), []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
				t.Fatal(err)
			}
		}
		c.Close() // createSession, the creates, closeSession
		out, err := harness.FourLetter(ctx, s.Addr(), "hash")
		if err != nil {
			t.Fatal(err)
		}
		log := map[string]string{}
		for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
			if zxid, digest, ok := strings.Cut(line, ": "); ok {
				log[zxid] = digest
			}
		}
		same := true
		for zxid, digest := range log {
			if d, ok := seen[zxid]; ok && d != digest {
				same = false
			}
			seen[zxid] = digest
		}
		kv := mntrValues(t, ctx, s)
		lines = append(lines, fmt.Sprintf("%s: hash lists %v, digests as logged before %v, digest_mismatches_count %s",
			when, slices.Sorted(maps.Keys(log)), same, kv["zk_digest_mismatches_count"]))
	}
	step("fresh", 300)    // zxids 0x1-0x12e
	step("restart1", 200) // 0x12f-0x1f8
	step("restart2", 100) // 0x1f9-0x25e
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	corruptSnapshotDigest(t, filepath.Join(dir, "data", "version-2"))
	step("restart3 on a snapshot with a wrong digest", 0) // 0x25f-0x260
	return lines
}

// corruptSnapshotDigest rewrites the latest snapshot in dir with its digest one more than it was.
func corruptSnapshotDigest(t *testing.T, dir string) {
	t.Helper()
	rd, info, err := storage.LoadLatest(dir, func() storage.TreeReader { return tree.New(nil) })
	if err != nil || rd == nil || info.Digest == nil || info.Digest.Zxid != info.Zxid {
		t.Fatalf("latest snapshot in %s: %v %+v", dir, err, info)
	}
	info.Digest.Digest++
	if err := os.Remove(info.Path); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.WriteSnapshot(dir, info.Zxid, info.Sessions, rd.(*tree.Tree), info.Digest); err != nil {
		t.Fatal(err)
	}
}

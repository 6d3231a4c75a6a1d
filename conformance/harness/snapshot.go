package harness

import (
	"os"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/storage"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// SnapshotNode is one top-level znode of a crafted snapshot: persistent (Owner 0), owned by Owner (an ephemeral,
// or whatever the server reads that owner as), or a container.
type SnapshotNode struct {
	Path      string
	Owner     int64
	Container bool
}

// WriteSnapshot writes a snapshot into dir (a dataDir's version-2), in Apache's format, whose nodes were created
// in order by one world-readable txn each (zxids 1, 2, ...), with sessions' timeouts: what a server's dataDir holds
// after a history a test cannot make through a client.
func WriteSnapshot(t testing.TB, dir string, sessions map[int64]int32, nodes ...SnapshotNode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := tree.New(nil)
	acl := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	now := time.Now().UnixMilli()
	for i, n := range nodes {
		zxid := int64(i + 1)
		if n.Container {
			src.Apply(&jute.TxnHeader{Zxid: zxid, Time: now, Type: jute.OpCreateContainer},
				&jute.CreateContainerTxn{Path: n.Path, ACL: acl, ParentCVersion: int32(zxid)})
			continue
		}
		src.Apply(&jute.TxnHeader{ClientID: n.Owner, Zxid: zxid, Time: now, Type: jute.OpCreate},
			&jute.CreateTxn{Path: n.Path, ACL: acl, Ephemeral: n.Owner != 0, ParentCVersion: int32(zxid)})
	}
	if sessions == nil {
		sessions = map[int64]int32{}
	}
	if _, err := storage.WriteSnapshot(dir, int64(len(nodes)), sessions, src, nil); err != nil {
		t.Fatal(err)
	}
}

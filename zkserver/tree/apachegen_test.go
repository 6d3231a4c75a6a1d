package tree

import (
	"os"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// TestGenerateApacheData drives a real Apache ZooKeeper (started with
// -Dzookeeper.extendedTypesEnabled=true) through a scenario covering every
// txn type; its data dir then becomes testdata/apache38 for
// TestApacheDigests. Run only by hand: ZKAFKA_APACHE_ADDR=127.0.0.1:port.
func TestGenerateApacheData(t *testing.T) {
	addr := os.Getenv("ZKAFKA_APACHE_ADDR")
	if addr == "" {
		t.Skip("set ZKAFKA_APACHE_ADDR to generate Apache test data")
	}
	open := zk.WorldACL(zk.PermAll)
	c1, _, err := zk.Connect([]string{addr}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c1.Create("/a", []byte("hello"), 0, open))
	must(c1.Create("/a/b", nil, 0, open))
	for i := 0; i < 3; i++ {
		must(c1.Create("/a/s-", []byte{byte(i)}, zk.FlagSequence, open))
	}
	must(nil, c1.Delete("/a/s-0000000002", -1))
	must(c1.Create("/a/s-", []byte("again"), zk.FlagSequence, open))
	must(c1.Set("/a", []byte("world"), -1))
	must(c1.Set("/", []byte("rootdata"), -1))
	must(c1.SetACL("/a/b", zk.DigestACL(zk.PermAll, "user", "pw"), -1))
	must(c1.CreateContainer("/c", nil, zk.FlagTTL&0|4, open))
	must(c1.Create("/c/x", []byte("x"), 0, open))
	must(c1.CreateTTL("/t", []byte("ttl"), 5, open, time.Minute))
	must(c1.Create("/e", []byte("eph"), zk.FlagEphemeral, open))
	must(c1.Create("/a/eseq-", nil, zk.FlagEphemeral|zk.FlagSequence, open))
	_, err = c1.Multi(
		&zk.CreateRequest{Path: "/m1", Data: []byte("m"), Acl: open},
		&zk.SetDataRequest{Path: "/a", Data: []byte("multi"), Version: -1},
		&zk.CheckVersionRequest{Path: "/a", Version: 99},
		&zk.DeleteRequest{Path: "/a/b", Version: -1},
	)
	if err == nil {
		t.Fatal("failing multi succeeded")
	}
	must(c1.Multi(
		&zk.CreateRequest{Path: "/m2", Data: []byte("m2"), Acl: open},
		&zk.CreateRequest{Path: "/m2/x", Acl: open},
		&zk.DeleteRequest{Path: "/m2/x", Version: -1},
		&zk.SetDataRequest{Path: "/m2", Data: []byte("done"), Version: 0},
		&zk.CheckVersionRequest{Path: "/m2", Version: 1},
	))
	// quota on /a, as zkCli setquota lays it out
	must(c1.Create("/zookeeper/quota/a", nil, 0, open))
	must(c1.Create("/zookeeper/quota/a/zookeeper_limits", []byte("count=10,bytes=-1"), 0, open))
	must(c1.Create("/zookeeper/quota/a/zookeeper_stats", []byte("count=0,bytes=0"), 0, open))
	must(c1.Create("/a/q", []byte("quota!"), 0, open))
	must(c1.Set("/a/q", []byte("q"), -1))
	must(nil, c1.Delete("/a/s-0000000003", -1))
	// a failed write outside a multi: an ErrorTxn
	if _, err := c1.Create("/a", nil, 0, open); err != zk.ErrNodeExists {
		t.Fatalf("create existing: %v", err)
	}
	c2, _, err := zk.Connect([]string{addr}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	must(c2.Create("/e2", nil, zk.FlagEphemeral, open))
	must(c2.Create("/c/e2", nil, zk.FlagEphemeral, open))
	c1.Close() // closeSession deleting /e and /a/eseq-...
	must(nil, c2.Delete("/c/e2", -1))
	c2.Close()
	time.Sleep(500 * time.Millisecond)
}

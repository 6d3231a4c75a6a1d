package broker

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// logDirOf is the dir DescribeLogDirs lists tp's current log in, "" if none, and whether a future log is listed.
func logDirOf(t *testing.T, adm *kadm.Client, broker int32, topic string, p int32) (cur string, future bool) {
	t.Helper()
	all, err := adm.DescribeAllLogDirs(ctxT(t), nil)
	if err != nil {
		return "", false
	}
	for dir, d := range all[broker] {
		if lp, ok := d.Topics[topic][p]; ok {
			if lp.IsFuture {
				future = true
			} else {
				cur = dir
			}
		}
	}
	return cur, future
}

func TestAlterReplicaLogDirs(t *testing.T) {
	c := newCluster(t)
	d1, d2 := filepath.Join(c.logDir, "a"), filepath.Join(c.logDir, "b")
	dirsProp := "log.dirs=" + d1 + "," + d2
	c.start(dirsProp)
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "mv", 1, nil)
	produceN(t, cl, "mv", 0, 0, 300)

	src, _ := logDirOf(t, adm, c.b.ID(), "mv", 0)
	dst := d2
	if src == d2 {
		dst = d1
	}
	if src == "" {
		t.Fatal("mv-0 not listed")
	}
	var req kadm.AlterReplicaLogDirsReq
	req.Add(dst, kadm.TopicsSet{"mv": {0: {}}})
	req.Add(filepath.Join(c.logDir, "nope"), kadm.TopicsSet{"mv2": {0: {}}})
	req.Add(dst, kadm.TopicsSet{"nope": {0: {}}})
	res, err := adm.AlterBrokerReplicaLogDirs(ctxT(t), c.b.ID(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		topic string
		err   error
	}{{"mv", nil}, {"mv2", kerr.LogDirNotFound}, {"nope", kerr.UnknownTopicOrPartition}} {
		if r, ok := res[want.topic][0]; !ok || !errors.Is(r.Err, want.err) && r.Err != want.err {
			t.Fatalf("%s: %+v, want %v", want.topic, r, want.err)
		}
	}
	produceN(t, cl, "mv", 0, 300, 100) // appends while it moves are copied too
	c.waitFor("mv-0 moved", func() bool {
		cur, fut := logDirOf(t, adm, c.b.ID(), "mv", 0)
		return cur == dst && !fut
	})
	check := func(when string) {
		t.Helper()
		got := consumeN(t, c, "mv", 0, 400)
		for i, r := range got[:400] {
			if r.Offset != int64(i) || string(r.Value) != fmt.Sprintf("value-%d", i) {
				t.Fatalf("%s: record %d is offset %d %q", when, i, r.Offset, r.Value)
			}
		}
	}
	check("after the move")

	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.start(dirsProp)
	adm = kadm.NewClient(c.client())
	c.waitFor("mv-0 listed after the restart", func() bool {
		cur, _ := logDirOf(t, adm, c.b.ID(), "mv", 0)
		return cur == dst
	})
	check("after the restart")
}

func TestAlterReplicaLogDirsNotAuthorized(t *testing.T) {
	c := newCluster(t)
	addr := startACLBroker(c)
	admin := kadm.NewClient(userClient(t, addr, "admin"))
	if _, err := admin.CreateTopic(ctxT(t), 1, 1, nil, "secure"); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(c.logDir)
	var req kadm.AlterReplicaLogDirsReq
	req.Add(abs, kadm.TopicsSet{"secure": {0: {}}, "other": {3: {}}})
	alice := kadm.NewClient(userClient(t, addr, "alice"))
	res, err := alice.AlterBrokerReplicaLogDirs(ctxT(t), c.b.ID(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res["secure"][0].Err, kerr.ClusterAuthorizationFailed) || !errors.Is(res["other"][3].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice: %+v", res)
	}
	// The super user may: the partition is already in that dir, so nothing moves.
	res, err = admin.AlterBrokerReplicaLogDirs(ctxT(t), c.b.ID(), req)
	if err != nil || res["secure"][0].Err != nil {
		t.Fatalf("admin: %+v %v", res, err)
	}
}

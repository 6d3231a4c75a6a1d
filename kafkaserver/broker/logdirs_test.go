package broker

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// futureSizes lists the future logs DescribeLogDirs shows for topic's partitions, with their sizes.
func futureSizes(t *testing.T, adm *kadm.Client, broker int32, topic string) map[int32]int64 {
	t.Helper()
	all, err := adm.DescribeAllLogDirs(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, d := range all[broker] {
		for p, lp := range d.Topics[topic] {
			if lp.IsFuture {
				out[p] = lp.Size
			}
		}
	}
	return out
}

// TestAlterReplicaLogDirsThreads moves two partitions with num.replica.alter.log.dirs.threads=1, throttled: the
// one mover copies one partition at a time, so no two future logs are ever filling at once, and both moves end.
// Meanwhile /metrics has the future logs' gauges with is_future="true" (Kafka's is-future tag), gone after. The
// count cannot change while the broker runs (not a dynamic config in Kafka 2.8).
func TestAlterReplicaLogDirsThreads(t *testing.T) {
	c := newCluster(t)
	d1, d2 := filepath.Join(c.logDir, "a"), filepath.Join(c.logDir, "b")
	c.start("log.dirs="+d1+","+d2, "num.replica.alter.log.dirs.threads=1", "zkafka.metrics.address=127.0.0.1:0",
		"replica.fetch.max.bytes=500", "alter.log.dirs.replication.quota.window.num=2")
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "mt", 2, nil)
	for i := 0; i < 60; i++ { // a batch each: a round copies a few
		produceN(t, cl, "mt", 0, 5*i, 5)
		produceN(t, cl, "mt", 1, 5*i, 5)
	}
	id := c.b.ID()
	s := func(v string) *string { return &v }
	if rs, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig,
		Name: "replica.alter.log.dirs.io.max.bytes.per.second", Value: s("3000")}}, id); err != nil || rs[0].Err != nil {
		t.Fatalf("throttle: %v %+v", err, rs)
	}
	rs, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig,
		Name: "num.replica.alter.log.dirs.threads", Value: s("2")}}, id)
	if err != nil || !errors.Is(rs[0].Err, kerr.InvalidRequest) ||
		!strings.Contains(rs[0].ErrMessage, "Cannot update these configs dynamically: Set(num.replica.alter.log.dirs.threads)") {
		t.Fatalf("dynamic thread count: %v %+v", err, rs)
	}
	c.waitFor("the throttle applied", func() bool { return c.b.rm.MoveQuota().Bound() == 3000 })

	var req kadm.AlterReplicaLogDirsReq
	dst := map[int32]string{}
	for p := int32(0); p < 2; p++ {
		src, _ := logDirOf(t, adm, id, "mt", p)
		dst[p] = d1
		if src == d1 {
			dst[p] = d2
		}
		req.Add(dst[p], kadm.TopicsSet{"mt": {p: {}}})
	}
	res, err := adm.AlterBrokerReplicaLogDirs(ctxT(t), id, req)
	if err != nil || res["mt"][0].Err != nil || res["mt"][1].Err != nil {
		t.Fatalf("AlterReplicaLogDirs: %v %+v", err, res)
	}
	sawGauges := false
	for i := 0; ; i++ {
		if i == 2000 {
			t.Fatal("moves not done")
		}
		fs := futureSizes(t, adm, id, "mt")
		if len(fs) == 0 {
			break
		}
		filling := 0
		for _, size := range fs {
			if size > 0 {
				filling++
			}
		}
		if filling > 1 {
			t.Fatalf("two future logs filling at once with one mover: %v", fs)
		}
		if len(fs) == 2 && !sawGauges {
			// Both future logs exist: each has its gauges, one perhaps still empty.
			m := scrape(t, c.b)
			_, ok0 := m["kafka_log_log_size{is_future=true,partition=0,topic=mt}"]
			_, ok1 := m["kafka_log_log_logendoffset{is_future=true,partition=1,topic=mt}"]
			_, cur := m["kafka_log_log_size{partition=0,topic=mt}"]
			sawGauges = ok0 && ok1 && cur
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sawGauges {
		t.Error("the future logs' gauges were not seen during the moves")
	}
	for p := int32(0); p < 2; p++ {
		if cur, fut := logDirOf(t, adm, id, "mt", p); cur != dst[p] || fut {
			t.Fatalf("mt-%d in %s (future %v), want %s", p, cur, fut, dst[p])
		}
	}
	m := scrape(t, c.b)
	for name := range m {
		if strings.Contains(name, "is_future") {
			t.Errorf("%s after the moves", name)
		}
	}
	if m["kafka_log_log_logendoffset{partition=1,topic=mt}"] != 300 {
		t.Errorf("mt-1's end offset after the move: %v", m["kafka_log_log_logendoffset{partition=1,topic=mt}"])
	}

	// A move cancelled (asked back to where the log is) takes its future log's gauges with it.
	if rs, err := adm.AlterBrokerConfigs(ctxT(t), []kadm.AlterConfig{{Op: kadm.SetConfig,
		Name: "replica.alter.log.dirs.io.max.bytes.per.second", Value: s("1")}}, id); err != nil || rs[0].Err != nil {
		t.Fatalf("throttle: %v %+v", err, rs)
	}
	c.waitFor("the throttle applied", func() bool { return c.b.rm.MoveQuota().Bound() == 1 })
	back := func(dir string) {
		t.Helper()
		var req kadm.AlterReplicaLogDirsReq
		req.Add(dir, kadm.TopicsSet{"mt": {0: {}}})
		if res, err := adm.AlterBrokerReplicaLogDirs(ctxT(t), id, req); err != nil || res["mt"][0].Err != nil {
			t.Fatalf("AlterReplicaLogDirs to %s: %v %+v", dir, err, res)
		}
	}
	other := d1
	if dst[0] == d1 {
		other = d2
	}
	const futureSize = "kafka_log_log_size{is_future=true,partition=0,topic=mt}"
	back(other)
	if _, ok := scrape(t, c.b)[futureSize]; !ok {
		t.Fatal("no future log gauges for a throttled move")
	}
	back(dst[0])
	if _, ok := scrape(t, c.b)[futureSize]; ok {
		t.Fatal("future log gauges after the move was cancelled")
	}
}

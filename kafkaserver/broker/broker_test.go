package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/zkafka/zkafka/compat/serverprops"
)

var (
	zkBuildOnce sync.Once
	zkBin       string
	zkBuildErr  error
)

// zkserverBin builds cmd/zkserver once per test run.
func zkserverBin(t testing.TB) string {
	t.Helper()
	zkBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "zkserver-bin")
		if err != nil {
			zkBuildErr = err
			return
		}
		zkBin = filepath.Join(dir, "zkserver")
		zkBin, zkBuildErr = buildOrPrebuilt(zkBin)
	})
	if zkBuildErr != nil {
		t.Fatal(zkBuildErr)
	}
	return zkBin
}

// buildOrPrebuilt builds cmd/zkserver to out; ZKSERVER_BIN overrides, and a failed build (the tree is shared with
// work in progress) falls back to the repository's bin/zkserver.
func buildOrPrebuilt(out string) (string, error) {
	if p := os.Getenv("ZKSERVER_BIN"); p != "" {
		return p, nil
	}
	b, err := exec.Command("go", "build", "-o", out, "github.com/zkafka/zkafka/cmd/zkserver").CombinedOutput()
	if err == nil {
		return out, nil
	}
	if pre, perr := filepath.Abs("../../bin/zkserver"); perr == nil {
		if _, serr := os.Stat(pre); serr == nil {
			return pre, nil
		}
	}
	return "", fmt.Errorf("go build zkserver: %v\n%s", err, b)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startZK runs a standalone zkserver and returns its client address and process id.
func startZK(t testing.TB, extra ...string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(dir, "zoo.cfg")
	lines := []string{"tickTime=500", "initLimit=10", "syncLimit=5", "dataDir=" + filepath.Join(dir, "data"),
		fmt.Sprintf("clientPort=%d", port), "clientPortAddress=127.0.0.1", "admin.enableServer=false",
		"4lw.commands.whitelist=*", "maxClientCnxns=0"}
	lines = append(lines, extra...)
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(zkserverBin(t), "start-foreground", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = childAttrs()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			_, _ = c.Write([]byte("ruok"))
			b := make([]byte, 4)
			_, err = c.Read(b)
			c.Close()
			if err == nil && string(b) == "imok" {
				return addr, cmd.Process.Pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "zk.log"))
	t.Fatalf("zkserver not ready\n%s", b)
	return "", 0
}

type cluster struct {
	t       testing.TB
	zk      string
	zkPid   int
	logDir  string
	port    int
	b       *Broker
	brokers []*Broker
	logOut  io.Writer // where the brokers log besides stderr, when set
}

func newCluster(t testing.TB) *cluster {
	zk, pid := startZK(t)
	return &cluster{t: t, zk: zk, zkPid: pid, logDir: t.TempDir(), port: freePort(t)}
}

func (c *cluster) config(extra ...string) *serverprops.Config {
	c.t.Helper()
	props := map[string]string{
		"broker.id":                                "0",
		"zookeeper.connect":                        c.zk + "/kafka",
		"zookeeper.session.timeout.ms":             "6000",
		"listeners":                                fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", c.port),
		"log.dirs":                                 c.logDir,
		"offsets.topic.replication.factor":         "1",
		"offsets.topic.num.partitions":             "4",
		"transaction.state.log.replication.factor": "1",
		"transaction.state.log.min.isr":            "1",
		"num.partitions":                           "1",
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		props[k] = v
	}
	cfg, err := serverprops.FromMap(props, nil, slog.Default())
	if err != nil {
		c.t.Fatal(err)
	}
	return cfg
}

func (c *cluster) start(extra ...string) *Broker {
	c.t.Helper()
	var out io.Writer = os.Stderr
	if c.logOut != nil {
		out = io.MultiWriter(os.Stderr, c.logOut)
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b := New(c.config(extra...), logger)
	if err := b.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.b = b
	c.brokers = append(c.brokers, b)
	c.t.Cleanup(func() { _ = b.Close() })
	// The broker is usable once the controller (this broker) has told it about itself.
	c.waitFor("controller metadata", func() bool {
		return len(b.Replicas().Cache().AliveBrokers()) == 1 && b.Replicas().Cache().ControllerID() == b.ID()
	})
	return b
}

func (c *cluster) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cluster) addr() string { return c.b.Addr("PLAINTEXT").String() }

func (c *cluster) client(opts ...kgo.Opt) *kgo.Client {
	c.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.addr()), kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond })}, opts...)...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return cl
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func produceN(t *testing.T, cl *kgo.Client, topic string, partition int32, from, n int) {
	t.Helper()
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: partition, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("value-%d", i))})
	}
	if err := cl.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func consumeN(t *testing.T, c *cluster, topic string, partition int32, n int) []*kgo.Record {
	t.Helper()
	cl := c.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().AtStart()}}))
	return pollN(t, cl, n)
}

// pollN polls cl until it has n records.
func pollN(t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	ctx := ctxT(t)
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", len(got), n, err)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch error %s/%d: %v", tp, p, err) })
		got = append(got, fs.Records()...)
	}
	return got
}

func TestProduceConsumeAndRestart(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)

	res, err := adm.CreateTopics(ctx, 3, 1, nil, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if r := res["orders"]; r.Err != nil {
		t.Fatalf("create orders: %v (%s)", r.Err, r.ErrMessage)
	}
	// Answered only after the controller elected leaders: the metadata is complete now.
	md, err := adm.Metadata(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	td := md.Topics["orders"]
	if td.Err != nil || len(td.Partitions) != 3 {
		t.Fatalf("metadata orders: %+v", td)
	}
	for _, p := range td.Partitions {
		if p.Leader != c.b.ID() || p.Err != nil {
			t.Fatalf("partition %d: leader %d err %v", p.Partition, p.Leader, p.Err)
		}
	}

	produceN(t, cl, "orders", 1, 0, 50)
	got := consumeN(t, c, "orders", 1, 50)
	for i, r := range got[:50] {
		if string(r.Value) != fmt.Sprintf("value-%d", i) || r.Offset != int64(i) {
			t.Fatalf("record %d: offset %d value %q", i, r.Offset, r.Value)
		}
	}

	// ListOffsets: earliest 0, latest 50.
	ends, err := adm.ListEndOffsets(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("orders", 1); o.Offset != 50 {
		t.Fatalf("end offset %+v", o)
	}
	starts, err := adm.ListStartOffsets(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("orders", 1); o.Offset != 0 {
		t.Fatalf("start offset %+v", o)
	}

	// Restart the broker on the same log dir: the log is recovered and served again.
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.logDir, "replication-offset-checkpoint")); err != nil {
		t.Fatalf("checkpoint after shutdown: %v", err)
	}
	c.start()
	cl2 := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produceN(t, cl2, "orders", 1, 50, 10)
	got = consumeN(t, c, "orders", 1, 60)
	for i, r := range got[:60] {
		if string(r.Value) != fmt.Sprintf("value-%d", i) || r.Offset != int64(i) {
			t.Fatalf("after restart record %d: offset %d value %q", i, r.Offset, r.Value)
		}
	}
}

func TestAdminTopics(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client()
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)

	res, err := adm.CreateTopics(ctx, 2, 1, map[string]*string{"retention.ms": kadm.StringPtr("1000")}, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Sorted() {
		if r.Err != nil {
			t.Fatalf("create %s: %v", r.Topic, r.Err)
		}
	}
	res, _ = adm.CreateTopics(ctx, 1, 1, nil, "a", "bad name!")
	if r := res["a"]; r.Err != kerr.TopicAlreadyExists {
		t.Fatalf("create existing: %v", r.Err)
	}
	if r := res["bad name!"]; r.Err != kerr.InvalidTopicException {
		t.Fatalf("create invalid: %v", r.Err)
	}
	res, _ = adm.CreateTopics(ctx, 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("soon")}, "c")
	if r := res["c"]; r.Err != kerr.InvalidConfig {
		t.Fatalf("create with bad config: %v", r.Err)
	}
	res, _ = adm.CreateTopics(ctx, 1, 3, nil, "d")
	if r := res["d"]; r.Err != kerr.InvalidReplicationFactor {
		t.Fatalf("create with rf 3 on one broker: %v", r.Err)
	}

	topics, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !topics.Has("a") || !topics.Has("b") || topics.Has("c") || len(topics["a"].Partitions) != 2 {
		t.Fatalf("topics: %v", topics.Names())
	}

	rcs, err := adm.DescribeTopicConfigs(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("a", nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cfg := range rc.Configs {
		if cfg.Key == "retention.ms" {
			found = cfg.MaybeValue() == "1000" && cfg.Source == kmsg.ConfigSourceDynamicTopicConfig
		}
	}
	if !found {
		t.Fatalf("retention.ms override not described: %+v", rc.Configs)
	}
	bcs, err := adm.DescribeBrokerConfigs(ctx, c.b.ID())
	if err != nil || len(bcs) != 1 || bcs[0].Err != nil || len(bcs[0].Configs) == 0 {
		t.Fatalf("broker configs: %v %+v", err, bcs)
	}

	dres, err := adm.DeleteTopics(ctx, "a", "nope")
	if err != nil {
		t.Fatal(err)
	}
	if r := dres["a"]; r.Err != nil {
		t.Fatalf("delete a: %v", r.Err)
	}
	if r := dres["nope"]; r.Err != kerr.UnknownTopicOrPartition {
		t.Fatalf("delete unknown: %v", r.Err)
	}
	c.waitFor("topic a's log deleted", func() bool {
		_, ok := c.b.logs.Get("a", 0)
		return !ok
	})
	// kadm caches metadata; ask the broker directly.
	mr, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tp := range mr.Topics {
		names = append(names, *tp.Topic)
	}
	if len(names) != 1 || names[0] != "b" {
		t.Fatalf("topics after delete: %v", names)
	}

	dc, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if dc.ControllerID != c.b.ID() || dc.ClusterID != c.b.ClusterID() || len(dc.Brokers) != 1 || dc.Brokers[0].Port != int32(c.port) {
		t.Fatalf("describe cluster: %+v", dc)
	}
}

func TestMetadataAutoCreate(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)

	// A raw Metadata request creates the topic and answers LEADER_NOT_AVAILABLE first.
	cl := c.client()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("auto")
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = true
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.LeaderNotAvailable.Code {
		t.Fatalf("first metadata: %+v", resp.Topics)
	}
	// Not allowed by the request: unknown.
	req.AllowAutoTopicCreation = false
	req.Topics[0].Topic = kmsg.StringPtr("not-auto")
	resp, err = req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("no auto create: %+v", resp.Topics[0])
	}

	// A producer to a new topic just works (it retries through LEADER_NOT_AVAILABLE).
	pcl := c.client(kgo.AllowAutoTopicCreation())
	if err := pcl.ProduceSync(ctx, &kgo.Record{Topic: "auto2", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if got := consumeN(t, c, "auto2", 0, 1); string(got[0].Value) != "x" {
		t.Fatalf("got %q", got[0].Value)
	}

	// FindCoordinator creates __consumer_offsets and then answers with this broker.
	c.waitFor("group coordinator", func() bool {
		fc := kmsg.NewPtrFindCoordinatorRequest()
		fc.CoordinatorKey = "g1"
		r, err := fc.RequestWith(ctx, cl)
		return err == nil && r.ErrorCode == 0 && r.NodeID == c.b.ID()
	})
	md := kmsg.NewPtrMetadataRequest()
	mr, err := md.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range mr.Topics {
		if *tp.Topic == "__consumer_offsets" && (!tp.IsInternal || len(tp.Partitions) != 4) {
			t.Fatalf("offsets topic: %+v", tp)
		}
	}
}

func TestFetchLongPoll(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, "poll"); err != nil {
		t.Fatal(err)
	}
	c.waitFor("leader", func() bool { _, err := c.b.Replicas().Partition("poll", 0); return err == nil })

	fetch := func(version int16, offset int64) *kmsg.FetchResponse {
		req := kmsg.NewPtrFetchRequest()
		req.Version = version
		req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes, req.SessionEpoch = -1, 20000, 1, 1<<20, -1
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = "poll"
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.FetchOffset, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = offset, 1<<20, -1
		ft.Partitions = append(ft.Partitions, fp)
		req.Topics = append(req.Topics, ft)
		vs := kversion.V2_8_0()
		vs.SetMaxKeyVersion(kmsg.Fetch.Int16(), version)
		vcl := c.client(kgo.MaxVersions(vs))
		r, err := req.RequestWith(ctx, vcl)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	done := make(chan *kmsg.FetchResponse, 1)
	go func() { done <- fetch(12, 0) }()
	select {
	case r := <-done:
		t.Fatalf("fetch returned before any data: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	produceN(t, cl, "poll", 0, 0, 3)
	r := <-done
	p := r.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.HighWatermark != 3 || len(p.RecordBatches) == 0 {
		t.Fatalf("long poll: %+v", p)
	}
	// Old fetchers get down-converted message sets.
	for _, v := range []int16{0, 2, 4} {
		r := fetch(v, 0)
		p := r.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || len(p.RecordBatches) == 0 {
			t.Fatalf("fetch v%d: %+v", v, p)
		}
		magic := p.RecordBatches[16]
		if want := map[int16]byte{0: 0, 2: 1, 4: 2}[v]; magic != want {
			t.Fatalf("fetch v%d magic %d want %d", v, magic, want)
		}
	}
	// A fetch for an unknown partition fails at once.
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.SessionEpoch = -1, 20000, 1, -1
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "poll"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition, fp.PartitionMaxBytes = 7, 1024
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	ur, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if ec := ur.Topics[0].Partitions[0].ErrorCode; ec != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown partition: %d", ec)
	}
	// Records are empty, not null, even on errors: librdkafka fails on a null records field.
	if ur.Topics[0].Partitions[0].RecordBatches == nil {
		t.Fatal("unknown partition: null records")
	}
}

func TestConsumerGroup(t *testing.T) {
	c := newCluster(t)
	c.start("group.initial.rebalance.delay.ms=0")
	ctx := ctxT(t)
	cl := c.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 2, 1, nil, "events"); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "events", 0, 0, 10)
	produceN(t, cl, "events", 1, 10, 10)

	gcl := c.client(kgo.ConsumerGroup("grp"), kgo.ConsumeTopics("events"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	n := 0
	for n < 20 {
		fs := gcl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group consumed %d: %v", n, ctx.Err())
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch error %s/%d: %v", tp, p, err) })
		n += len(fs.Records())
	}
	if err := gcl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	gcl.Close()

	check := func() {
		t.Helper()
		adm := kadm.NewClient(c.client())
		var offs kadm.OffsetResponses
		c.waitFor("committed offsets", func() bool {
			var err error
			offs, err = adm.FetchOffsets(ctx, "grp")
			if err != nil {
				return false
			}
			o0, _ := offs.Lookup("events", 0)
			o1, _ := offs.Lookup("events", 1)
			return o0.At == 10 && o1.At == 10
		})
	}
	check()
	// The offsets survive a restart: they are loaded back from __consumer_offsets.
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.start("group.initial.rebalance.delay.ms=0")
	check()
}

func TestCreatePartitions(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client()
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)
	if res, err := adm.CreateTopics(ctx, 2, 1, nil, "grow"); err != nil || res["grow"].Err != nil {
		t.Fatalf("create: %v %+v", err, res)
	}
	before, _, err := c.b.zk.GetTopicAssignment("grow")
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, res kadm.CreatePartitionsResponses, err error, want error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := res["grow"].Err; !errors.Is(got, want) && !(got == nil && want == nil) {
			t.Fatalf("%s: got %v (%s), want %v", what, got, res["grow"].ErrMessage, want)
		}
	}
	res, err := adm.UpdatePartitions(ctx, 1, "grow")
	check("shrink", res, err, kerr.InvalidPartitions)
	res, err = adm.UpdatePartitions(ctx, 2, "grow")
	check("same count", res, err, kerr.InvalidPartitions)
	res, err = adm.ValidateCreatePartitions(ctx, 3, "grow")
	check("validate only", res, err, nil)
	if md, _ := adm.Metadata(ctx, "grow"); len(md.Topics["grow"].Partitions) != 2 {
		t.Fatalf("validate_only changed the topic: %+v", md.Topics["grow"])
	}
	res, err = adm.CreatePartitions(ctx, 3, "grow")
	check("grow", res, err, nil)
	md, err := adm.Metadata(ctx, "grow")
	if err != nil || len(md.Topics["grow"].Partitions) != 5 {
		t.Fatalf("after grow: %v %+v", err, md.Topics["grow"])
	}
	for _, p := range md.Topics["grow"].Partitions {
		if p.Leader != 0 || p.Err != nil {
			t.Fatalf("partition %d: leader %d err %v", p.Partition, p.Leader, p.Err)
		}
	}
	after, _, err := c.b.zk.GetTopicAssignment("grow")
	if err != nil || after.TopicID != before.TopicID || len(after.Partitions) != 5 {
		t.Fatalf("znode after grow: %+v (before %+v) %v", after, before, err)
	}
	produceN(t, cl, "grow", 4, 0, 1)

	// A manual assignment naming an unknown broker is refused.
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = "grow", 6
	a := kmsg.NewCreatePartitionsRequestTopicAssignment()
	a.Replicas = []int32{7}
	rt.Assignment = append(rt.Assignment, a)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != kerr.InvalidReplicaAssignment.Code {
		t.Fatalf("unknown broker: %v %+v", err, resp)
	}
	req.Topics[0].Topic, req.Topics[0].Assignment = "missing", nil
	resp, err = req.RequestWith(ctx, cl)
	if err != nil || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: %v %+v", err, resp)
	}
}

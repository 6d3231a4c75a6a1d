package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

func TestOffsetDeleteKadm(t *testing.T) {
	c := newCluster(t)
	c.start("group.initial.rebalance.delay.ms=0")
	ctx := ctxT(t)
	cl := c.client()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "a", "b"); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "a", 0, 0, 3)
	produceN(t, cl, "b", 0, 0, 3)

	// A simple consumer's offsets (no group membership): the group is Empty, every offset may go.
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: "a", Partition: 0, At: 1, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: "b", Partition: 0, At: 2, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, "simple", offs); err != nil {
		t.Fatal(err)
	}
	res, err := adm.DeleteOffsets(ctx, "simple", kadm.TopicsSet{"a": {0: {}}, "nope": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := res.Lookup("a", 0); !ok || e != nil {
		t.Fatalf("a/0: %v %v", e, ok)
	}
	if e, _ := res.Lookup("nope", 0); !errors.Is(e, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown topic: %v", e)
	}
	fetched, err := adm.FetchOffsets(ctx, "simple")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fetched.Lookup("a", 0); ok {
		t.Fatalf("a/0 still committed: %+v", fetched)
	}
	if o, ok := fetched.Lookup("b", 0); !ok || o.At != 2 {
		t.Fatalf("b/0: %+v %v", o, ok)
	}

	// A live consumer group subscribed to "a": its offsets there stay (GROUP_SUBSCRIBED_TO_TOPIC), others go.
	gcl := c.client(kgo.ConsumerGroup("live"), kgo.ConsumeTopics("a"), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for n := 0; n < 3; {
		fs := gcl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		n += len(fs.Records())
	}
	if err := gcl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	// A member may store offsets of any topic; a simple commit from an admin is refused while the group lives, so
	// this one goes through the member.
	var commitErr error
	gcl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"b": {0: {Epoch: -1, Offset: 1}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err == nil {
				err = kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
			}
			commitErr = err
		})
	if commitErr != nil {
		t.Fatal(commitErr)
	}
	res, err = adm.DeleteOffsets(ctx, "live", kadm.TopicsSet{"a": {0: {}}, "b": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := res.Lookup("a", 0); !errors.Is(e, kerr.GroupSubscribedToTopic) {
		t.Fatalf("subscribed topic: %v", e)
	}
	if e, ok := res.Lookup("b", 0); !ok || e != nil {
		t.Fatalf("b/0: %v %v", e, ok)
	}

	// Group-level errors.
	if _, err := adm.DeleteOffsets(ctx, "missing", kadm.TopicsSet{"a": {0: {}}}); !errors.Is(err, kerr.GroupIDNotFound) {
		t.Fatalf("missing group: %v", err)
	}
}

// logRecorder keeps the messages a broker logs at Info and above.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, rec.Message)
	r.mu.Unlock()
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) has(msg string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m == msg {
			return true
		}
	}
	return false
}

func TestControlledShutdownSingleBroker(t *testing.T) {
	c := newCluster(t)
	rec := &logRecorder{}
	b := New(c.config(), slog.New(rec))
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.b = b
	t.Cleanup(func() { _ = b.Close() })
	c.waitFor("controller metadata", func() bool { return b.Replicas().Cache().ControllerID() == b.ID() })
	ctx := ctxT(t)
	cl := c.client()
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 2, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}

	// Raw requests get Kafka's answers: an unknown broker, a stale broker epoch (v2+), and an old version that
	// carries no epoch.
	send := func(cl *kgo.Client, ver int16, id int32, epoch int64) *kmsg.ControlledShutdownResponse {
		t.Helper()
		req := kmsg.NewPtrControlledShutdownRequest()
		req.Version, req.BrokerID, req.BrokerEpoch = ver, id, epoch
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Version != ver {
			t.Fatalf("sent v%d, answered v%d", ver, resp.Version)
		}
		return resp
	}
	if r := send(cl, 3, 42, -1); r.ErrorCode != kerr.BrokerNotAvailable.Code {
		t.Fatalf("unknown broker: %+v", r)
	}
	if r := send(cl, 3, b.ID(), 1); r.ErrorCode != kerr.StaleBrokerEpoch.Code {
		t.Fatalf("stale epoch: %+v", r)
	}
	v1 := kversion.V2_8_0()
	v1.SetMaxKeyVersion(kmsg.ControlledShutdown.Int16(), 1)
	old := c.client(kgo.MaxVersions(v1))
	if r := send(old, 1, 42, 7); r.ErrorCode != kerr.BrokerNotAvailable.Code {
		t.Fatalf("v1 unknown broker: %+v", r)
	}

	// The broker's own shutdown asks its controller (itself) first; with single-replica partitions nothing has to
	// move and the first attempt succeeds.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !rec.has("controlled shutdown request returned successfully") {
		t.Fatalf("controlled shutdown did not succeed: %q", rec.msgs)
	}
	if rec.has("proceeding to do an unclean shutdown as all the controlled shutdown attempts failed") {
		t.Fatal("unclean shutdown")
	}
}

// startBrokerN starts broker id beside the cluster's first one, with its own log dir and listener port.
func startBrokerN(c *cluster, id int, logger *slog.Logger, extra ...string) *Broker {
	c.t.Helper()
	dir := filepath.Join(c.t.TempDir(), fmt.Sprintf("logs-%d", id))
	props := append([]string{fmt.Sprintf("broker.id=%d", id), "log.dirs=" + dir}, extra...)
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	b := New(c.config(props...), logger)
	if err := b.Start(context.Background()); err != nil {
		c.t.Fatal(err)
	}
	c.brokers = append(c.brokers, b)
	c.t.Cleanup(func() { _ = b.Close() })
	return b
}

// Two brokers whose inter-broker listener is SASL_PLAINTEXT: the controller reaches the other broker with the
// PLAIN credentials of the listener's JAAS config, and the other broker's controlled shutdown goes to the
// controller over the same listener and moves its leadership away.
func TestInterBrokerSASLAndControlledShutdown(t *testing.T) {
	c := newCluster(t)
	jaas := "listener.name.sasl_plaintext.plain.sasl.jaas.config=" + plainJaas
	common := []string{"sasl.enabled.mechanisms=PLAIN", "sasl.mechanism.inter.broker.protocol=PLAIN",
		"security.inter.broker.protocol=SASL_PLAINTEXT", jaas, "connection.failed.authentication.delay.ms=0",
		"controlled.shutdown.retry.backoff.ms=100", "offsets.topic.replication.factor=1"}
	listeners := func() string {
		return fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,SASL_PLAINTEXT://127.0.0.1:%d", freePort(t), freePort(t))
	}
	b0 := startBrokerN(c, 0, nil, append([]string{listeners()}, common...)...)
	c.waitFor("broker 0 controller", func() bool { return b0.Controller() != nil && isActive(b0) })
	rec := &logRecorder{}
	b1 := startBrokerN(c, 1, slog.New(rec), append([]string{listeners()}, common...)...)
	c.b = b0
	// UpdateMetadata reached broker 1 over SASL: it knows both brokers and the controller.
	c.waitFor("broker 1 metadata", func() bool {
		cache := b1.Replicas().Cache()
		return len(cache.AliveBrokers()) == 2 && cache.ControllerID() == 0
	})

	ctx := ctxT(t)
	// Partition 0 led by broker 1, partition 1 by broker 0.
	createAssigned(t, ctx, c.client(), "moving", []int32{1, 0}, []int32{0, 1})
	leader := func(b *Broker, p int32) int32 {
		tm, ok := b.Replicas().Cache().Topic("moving")
		if pm, pok := tm.Partitions[p]; ok && pok {
			return pm.Leader
		}
		return -2
	}
	c.waitFor("leaders", func() bool { return leader(b1, 0) == 1 && leader(b0, 0) == 1 && leader(b0, 1) == 0 })

	// A broker that is not the controller answers NOT_CONTROLLER.
	direct, err := kgo.NewClient(kgo.SeedBrokers(b1.Addr("PLAINTEXT").String()))
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	cs := kmsg.NewPtrControlledShutdownRequest()
	cs.BrokerID, cs.BrokerEpoch = 1, -1
	csr, err := cs.RequestWith(ctx, direct)
	if err != nil || csr.ErrorCode != kerr.NotController.Code {
		t.Fatalf("non-controller: %v %+v", err, csr)
	}
	// So do CreateTopics, DeleteTopics and CreatePartitions (KafkaApis checks controller.isActive first), and
	// nothing of them is done.
	at1 := direct.Broker(1)
	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.Version = 6
	for _, n := range []string{"fresh", "fresh"} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = n, 1, 1
		ct.Topics = append(ct.Topics, rt)
	}
	ct.TimeoutMillis = 1000
	ctr, err := at1.RetriableRequest(ctx, ct)
	if err != nil {
		t.Fatal(err)
	}
	if cr := ctr.(*kmsg.CreateTopicsResponse); len(cr.Topics) != 2 || cr.Topics[0].ErrorCode != kerr.NotController.Code ||
		cr.Topics[1].ErrorCode != kerr.NotController.Code || cr.Topics[0].ErrorMessage != nil || cr.Topics[0].NumPartitions != -1 {
		t.Fatalf("CreateTopics at a non-controller: %+v", cr.Topics)
	}
	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.Version = 6
	tm, _ := b0.Replicas().Cache().Topic("moving")
	byName, byID := kmsg.NewDeleteTopicsRequestTopic(), kmsg.NewDeleteTopicsRequestTopic()
	byName.Topic, byID.TopicID = kmsg.StringPtr("moving"), tm.ID
	dt.Topics = []kmsg.DeleteTopicsRequestTopic{byName, byID}
	dt.TimeoutMillis = 1000
	dtr, err := at1.RetriableRequest(ctx, dt)
	if err != nil {
		t.Fatal(err)
	}
	if dr := dtr.(*kmsg.DeleteTopicsResponse); len(dr.Topics) != 2 || dr.Topics[0].ErrorCode != kerr.NotController.Code ||
		dr.Topics[1].ErrorCode != kerr.NotController.Code || dr.Topics[1].Topic != nil || dr.Topics[1].TopicID != tm.ID {
		t.Fatalf("DeleteTopics at a non-controller: %+v", dr.Topics)
	}
	cp := kmsg.NewPtrCreatePartitionsRequest()
	cpt := kmsg.NewCreatePartitionsRequestTopic()
	cpt.Topic, cpt.Count = "moving", 3
	cp.Topics, cp.TimeoutMillis = []kmsg.CreatePartitionsRequestTopic{cpt, cpt}, 1000
	cpr, err := at1.RetriableRequest(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	if pr := cpr.(*kmsg.CreatePartitionsResponse); len(pr.Topics) != 1 || pr.Topics[0].ErrorCode != kerr.NotController.Code ||
		pr.Topics[0].ErrorMessage != nil {
		t.Fatalf("CreatePartitions at a non-controller: %+v", pr.Topics)
	}
	if _, ok := b0.Replicas().Cache().Topic("fresh"); ok {
		t.Fatal("a topic asked of the non-controller was created")
	}
	if tm, ok := b0.Replicas().Cache().Topic("moving"); !ok || len(tm.Partitions) != 2 {
		t.Fatalf("the topic asked of the non-controller to delete or grow: %+v %v", tm, ok)
	}

	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	if !rec.has("controlled shutdown request returned successfully") {
		t.Fatalf("controlled shutdown of broker 1 did not succeed: %q", rec.msgs)
	}
	c.waitFor("leadership moved to broker 0", func() bool { return leader(b0, 0) == 0 })
}

func isActive(b *Broker) bool {
	ok, _ := b.Controller().Active()
	return ok
}

// TestOffsetCommitRepeatedPartition: a partition given twice in one OffsetCommit is committed once with its last
// entry and answered once, as Kafka's map of the request (0.9 and 2.8: a too-large metadata first, then a good
// one, commits the good one without error; found by the random wire differential against Kafka 0.9.0.1).
func TestOffsetCommitRepeatedPartition(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)
	cl := c.client()
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, "r"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int16{0, 2} {
		group := fmt.Sprintf("g%d", v)
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Version, req.Group, req.Generation, req.RetentionTimeMillis = v, group, -1, -1
		tp := kmsg.NewOffsetCommitRequestTopic()
		tp.Topic = "r"
		for _, e := range []struct {
			offset   int64
			metadata string
		}{{7, strings.Repeat("m", 4097)}, {5, "ok"}} {
			p := kmsg.NewOffsetCommitRequestTopicPartition()
			p.Partition, p.Offset, p.Metadata = 0, e.offset, kmsg.StringPtr(e.metadata)
			tp.Partitions = append(tp.Partitions, p)
		}
		req.Topics = append(req.Topics, tp)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("v%d: answer %+v, want one partition without error", v, resp.Topics)
		}
		fetch := kmsg.NewPtrOffsetFetchRequest()
		fetch.Version, fetch.Group = min(v, 1), group
		ft := kmsg.NewOffsetFetchRequestTopic()
		ft.Topic, ft.Partitions = "r", []int32{0}
		fetch.Topics = append(fetch.Topics, ft)
		fresp, err := fetch.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if got := fresp.Topics[0].Partitions[0]; got.Offset != 5 {
			t.Fatalf("v%d: committed %+v, want offset 5 (the last entry)", v, got)
		}
	}
}

package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumeAll reads partition 0 of topic from the start until it has seen n records or the deadline passes, with
// the given isolation level.
func consumeAll(t *testing.T, addr, topic string, iso kgo.IsolationLevel, n int, wait time.Duration) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {0: kgo.NewOffset().AtStart()}}), kgo.FetchIsolationLevel(iso), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	return out
}

func produceTxn(t *testing.T, cl *kgo.Client, topic string, commit bool, vals ...string) {
	t.Helper()
	ctx := ctxT(t)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end transaction: %v", err)
	}
}

// TestTransactions runs franz-go's transactional producer against the broker: committed records reach
// read_committed consumers, aborted ones never do, an open transaction holds them back at the last stable
// offset, and a second producer with the same transactional id fences the first.
func TestTransactions(t *testing.T) {
	c := newCluster(t)
	c.start("transaction.state.log.num.partitions=4")
	admin := kadm.NewClient(c.client())
	ctx := ctxT(t)
	if res, err := admin.CreateTopics(ctx, 1, 1, nil, "tx"); err != nil || res.Error() != nil {
		t.Fatalf("create topic: %v %v", err, res.Error())
	}
	newProducer := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr()), kgo.TransactionalID("app-1"),
			kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	p := newProducer()
	produceTxn(t, p, "tx", true, "a1", "a2", "a3")
	produceTxn(t, p, "tx", false, "b1", "b2")
	produceTxn(t, p, "tx", true, "c1")

	if got := consumeAll(t, c.addr(), "tx", kgo.ReadCommitted(), 4, 10*time.Second); !slices.Equal(got, []string{"a1", "a2", "a3", "c1"}) {
		t.Fatalf("read_committed: %v", got)
	}
	if got := consumeAll(t, c.addr(), "tx", kgo.ReadUncommitted(), 6, 10*time.Second); !slices.Equal(got, []string{"a1", "a2", "a3", "b1", "b2", "c1"}) {
		t.Fatalf("read_uncommitted: %v", got)
	}

	// An open transaction: read_uncommitted sees its records, read_committed stops before them.
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "tx", Value: []byte("d1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if got := consumeAll(t, c.addr(), "tx", kgo.ReadUncommitted(), 7, 10*time.Second); len(got) != 7 {
		t.Fatalf("read_uncommitted with an open transaction: %v", got)
	}
	if got := consumeAll(t, c.addr(), "tx", kgo.ReadCommitted(), 5, 2*time.Second); len(got) != 4 {
		t.Fatalf("read_committed with an open transaction: %v", got)
	}
	offs, err := admin.ListEndOffsets(ctx, "tx")
	if err != nil {
		t.Fatal(err)
	}
	committedEnd, err := admin.ListCommittedOffsets(ctx, "tx")
	if err != nil {
		t.Fatal(err)
	}
	end, _ := offs.Lookup("tx", 0)
	stable, _ := committedEnd.Lookup("tx", 0)
	// a1..a3, b1..b2, c1 and three markers: d1 is at 9, the last stable offset.
	if end.Offset != 10 || stable.Offset != 9 {
		t.Fatalf("end offset %d, last stable offset %d", end.Offset, stable.Offset)
	}
	// DescribeProducers (kadm, as kafka-transactions.sh would ask): the producer's last sequence (seven batches:
	// 0..6) and the open transaction's first offset.
	described, err := admin.DescribeProducers(ctx, kadm.TopicsSet{"tx": {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	dps := described.SortedProducers()
	if len(dps) != 1 || dps[0].ProducerID < 0 || dps[0].LastSequence != 6 || dps[0].CurrentTxnStartOffset != 9 ||
		dps[0].LastTimestamp < time.Now().Add(-time.Minute).UnixMilli() || dps[0].CoordinatorEpoch < 0 {
		t.Fatalf("described producers: %+v", dps)
	}
	// A partition or topic the cluster does not know, as Kafka answers them.
	dreq := kmsg.NewPtrDescribeProducersRequest()
	for _, tp := range []struct {
		topic string
		part  int32
	}{{"tx", 5}, {"nope", 0}} {
		rt := kmsg.NewDescribeProducersRequestTopic()
		rt.Topic, rt.Partitions = tp.topic, []int32{tp.part}
		dreq.Topics = append(dreq.Topics, rt)
	}
	dresp := rawAt(t, c, 0, dreq).(*kmsg.DescribeProducersResponse)
	for _, rt := range dresp.Topics {
		if len(rt.Partitions) != 1 || rt.Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("describe producers of %s: %+v", rt.Topic, rt.Partitions)
		}
	}

	// A new producer instance aborts the open transaction and fences the old one.
	p2 := newProducer()
	produceTxn(t, p2, "tx", true, "e1")
	err = p.EndTransaction(ctx, kgo.TryCommit)
	var ke *kerr.Error
	if !errors.As(err, &ke) || (ke != kerr.ProducerFenced && ke != kerr.InvalidProducerEpoch) {
		t.Fatalf("fenced producer's commit: %v", err)
	}
	if got := consumeAll(t, c.addr(), "tx", kgo.ReadCommitted(), 5, 10*time.Second); !slices.Equal(got, []string{"a1", "a2", "a3", "c1", "e1"}) {
		t.Fatalf("read_committed after the fence: %v", got)
	}
}

// TestTransactionalConsumeProduce is the exactly-once loop: a group consumer's offsets are committed in the same
// transaction as the records it produced (AddOffsetsToTxn, TxnOffsetCommit), or not at all.
func TestTransactionalConsumeProduce(t *testing.T) {
	c := newCluster(t)
	c.start("transaction.state.log.num.partitions=4", "group.initial.rebalance.delay.ms=0")
	admin := kadm.NewClient(c.client())
	ctx := ctxT(t)
	if res, err := admin.CreateTopics(ctx, 1, 1, nil, "in", "out"); err != nil || res.Error() != nil {
		t.Fatalf("create topics: %v %v", err, res.Error())
	}
	in := c.client(kgo.DefaultProduceTopic("in"))
	for i := range 10 {
		if err := in.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(c.addr()), kgo.TransactionalID("etl"),
		kgo.ConsumerGroup("etl-group"), kgo.ConsumeTopics("in"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DefaultProduceTopic("out"), kgo.TransactionTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	done := 0
	for done < 10 && ctx.Err() == nil {
		fs := sess.PollFetches(ctx)
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Value: append([]byte("x"), r.Value...)}, nil)
			done++
		})
		// The first round is aborted: neither its records nor its offsets may show.
		committed, err := sess.End(ctx, kgo.TransactionEndTry(done == 10))
		if err != nil {
			t.Fatalf("end: %v", err)
		}
		if done == 10 && !committed {
			t.Fatal("the transaction was not committed")
		}
		if done < 10 {
			t.Fatalf("one poll got %d of 10 records", done)
		}
	}
	got := consumeAll(t, c.addr(), "out", kgo.ReadCommitted(), 10, 10*time.Second)
	if len(got) != 10 || got[0] != "x0" || got[9] != "x9" {
		t.Fatalf("output: %v", got)
	}
	offs, err := admin.FetchOffsets(ctx, "etl-group")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("in", 0); !ok || o.At != 10 {
		t.Fatalf("committed offset: %+v %v", o, ok)
	}
}

// consumeParts reads the given partitions of topic from the start with read_committed until n records or the wait.
func consumeParts(t *testing.T, seeds []string, topic string, parts []int32, n int, wait time.Duration) []string {
	t.Helper()
	offs := map[int32]kgo.Offset{}
	for _, p := range parts {
		offs[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var out []string
	for len(out) < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, fmt.Sprintf("%d:%s", r.Partition, r.Value)) })
	}
	slices.Sort(out)
	return out
}

// TestTransactionAcrossBrokers: a transaction with a partition on each of two brokers; the coordinator writes one
// marker through its own broker and sends the other with WriteTxnMarkers.
func TestTransactionAcrossBrokers(t *testing.T) {
	c := newCluster(t)
	txnSettings := []string{"transaction.state.log.num.partitions=1"}
	b0, b1, cl := twoBrokers(t, c, txnSettings, txnSettings)
	ctx := ctxT(t)
	createAssigned(t, ctx, cl, "spread", []int32{0}, []int32{1})
	seeds := []string{b0.Addr("PLAINTEXT").String(), b1.Addr("PLAINTEXT").String()}
	p, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.TransactionalID("across"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i, commit := range []bool{true, false, true} {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for part := int32(0); part < 2; part++ {
			r := &kgo.Record{Topic: "spread", Partition: part, Value: []byte(fmt.Sprintf("t%d", i))}
			if err := p.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"0:t0", "0:t2", "1:t0", "1:t2"}
	if got := consumeParts(t, seeds, "spread", []int32{0, 1}, 4, 10*time.Second); !slices.Equal(got, want) {
		t.Fatalf("read_committed across brokers: %v, want %v", got, want)
	}
	// Both partitions end with a marker (each transaction adds one record and one marker per partition).
	for _, b := range []*Broker{b0, b1} {
		part := int32(0)
		if b == b1 {
			part = 1
		}
		pt, err := b.Replicas().Partition("spread", part)
		if err != nil {
			t.Fatal(err)
		}
		if info := pt.Info(); info.LogEndOffset != 6 || pt.Log().LastStableOffset() != 6 {
			t.Fatalf("broker %d spread-%d: end %d, LSO %d", b.ID(), part, info.LogEndOffset, pt.Log().LastStableOffset())
		}
	}
}

// TestOpenTransactionSurvivesRestart: an open transaction's records stay above the last stable offset across a
// restart (the producer state and the transaction log are reloaded); a new producer instance then aborts it.
func TestOpenTransactionSurvivesRestart(t *testing.T) {
	c := newCluster(t)
	settings := []string{"transaction.state.log.num.partitions=1"}
	c.start(settings...)
	ctx := ctxT(t)
	if res, err := kadm.NewClient(c.client()).CreateTopics(ctx, 1, 1, nil, "open"); err != nil || res.Error() != nil {
		t.Fatalf("create topic: %v %v", err, res.Error())
	}
	p, err := kgo.NewClient(kgo.SeedBrokers(c.addr()), kgo.TransactionalID("restart"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	produceTxn(t, p, "open", true, "kept")
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "open", Value: []byte("pending")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	b := c.start(settings...)
	c.waitFor("open-0 led", func() bool {
		pt, err := b.Replicas().Partition("open", 0)
		return err == nil && pt.Info().Leader == b.ID()
	})
	pt, _ := b.Replicas().Partition("open", 0)
	if lso := pt.Log().LastStableOffset(); lso != 2 {
		t.Fatalf("last stable offset after restart: %d, want 2 (the open transaction's first offset)", lso)
	}
	p2, err := kgo.NewClient(kgo.SeedBrokers(c.addr()), kgo.TransactionalID("restart"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	produceTxn(t, p2, "open", true, "after")
	if got := consumeAll(t, c.addr(), "open", kgo.ReadCommitted(), 2, 10*time.Second); !slices.Equal(got, []string{"kept", "after"}) {
		t.Fatalf("read_committed after the restart: %v", got)
	}
}

// TestAddPartitionsToTxnRefusals: an internal topic is not authorized and an unknown partition does not exist; the
// request's other partitions are not attempted (KafkaApis.handleAddPartitionToTxnRequest).
func TestAddPartitionsToTxnRefusals(t *testing.T) {
	c := newCluster(t)
	c.start("transaction.state.log.num.partitions=1")
	cl := c.client()
	ctx := ctxT(t)
	if res, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, "ok"); err != nil || res.Error() != nil {
		t.Fatalf("create topic: %v %v", err, res.Error())
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = "refusals", 1, 0
	for _, tp := range []struct {
		topic string
		part  int32
	}{{"ok", 0}, {"__consumer_offsets", 0}, {"missing", 3}} {
		rt := kmsg.NewAddPartitionsToTxnRequestTopic()
		rt.Topic, rt.Partitions = tp.topic, []int32{tp.part}
		req.Topics = append(req.Topics, rt)
	}
	// Straight to the broker: the refusals come before any coordinator is asked.
	r, err := cl.SeedBrokers()[0].Request(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	resp := r.(*kmsg.AddPartitionsToTxnResponse)
	want := map[string]int16{"ok": kerr.OperationNotAttempted.Code, "__consumer_offsets": kerr.TopicAuthorizationFailed.Code,
		"missing": kerr.UnknownTopicOrPartition.Code}
	for _, rt := range resp.Topics {
		if got := rt.Partitions[0].ErrorCode; got != want[rt.Topic] {
			t.Errorf("%s: error %d, want %d", rt.Topic, got, want[rt.Topic])
		}
	}
}

package broker

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// rawBatch is an idempotent producer's v2 batch of n records, as a client encodes it.
func rawBatch(pid int64, epoch int16, seq int32, n int) []byte {
	var body []byte
	for i := range n {
		rec := kmsg.Record{OffsetDelta: int32(i), Value: []byte(fmt.Sprintf("seq-%d", seq+int32(i)))}
		rec.Length = int32(len(rec.AppendTo(nil)) - 1)
		body = rec.AppendTo(body)
	}
	ts := time.Now().UnixMilli()
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(n - 1), FirstTimestamp: ts,
		MaxTimestamp: ts, ProducerID: pid, ProducerEpoch: epoch, FirstSequence: seq, NumRecords: int32(n), Records: body,
		Length: int32(49 + len(body))}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// rawProduce sends one ProduceRequest for topic partition 0 and returns its partition response.
func rawProduce(t *testing.T, cl *kgo.Client, topic string, records []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 0, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := cl.SeedBrokers()[0].Request(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
}

func initProducerID(t *testing.T, cl *kgo.Client, txnID *string, pid int64, epoch int16) *kmsg.InitProducerIDResponse {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch = txnID, 60000, pid, epoch
	resp, err := cl.SeedBrokers()[0].Request(ctxT(t), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*kmsg.InitProducerIDResponse)
}

func TestIdempotentProduce(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client()
	ctx := ctxT(t)
	if res, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, "idem", "raw"); err != nil || res.Error() != nil {
		t.Fatalf("create topics: %v %v", err, res.Error())
	}

	// franz-go's default producer is idempotent: it asks for a producer id and numbers its batches.
	idem, err := kgo.NewClient(kgo.SeedBrokers(c.addr()), kgo.DefaultProduceTopic("idem"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer idem.Close()
	produceN(t, idem, "idem", 0, 0, 100)
	got := consumeN(t, c, "idem", 0, 100)
	for i, r := range got {
		if r.Offset != int64(i) || string(r.Value) != fmt.Sprintf("value-%d", i) || r.ProducerID < 0 {
			t.Fatalf("record %d: offset %d value %q producer %d", i, r.Offset, r.Value, r.ProducerID)
		}
	}
	raw, _, err := c.b.ZK().Get(zkmeta.ProducerIDBlockPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"version":1,"broker":0,"block_start":"0","block_end":"999"}`; string(raw) != want {
		t.Fatalf("%s = %s, want %s", zkmeta.ProducerIDBlockPath, raw, want)
	}

	// InitProducerId: a fresh id at epoch 0 each time; a transactional id gets its own.
	r1 := initProducerID(t, cl, nil, -1, -1)
	r2 := initProducerID(t, cl, nil, r1.ProducerID, 0)
	if r1.ErrorCode != 0 || r2.ErrorCode != 0 || r1.ProducerEpoch != 0 || r2.ProducerEpoch != 0 || r2.ProducerID == r1.ProducerID {
		t.Fatalf("init producer id: %+v then %+v", r1, r2)
	}
	if r := initProducerID(t, cl, nil, 5, -1); r.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("producer id without epoch: error %d", r.ErrorCode)
	}
	txn := "txn-1"
	// The first FindCoordinator creates __transaction_state; the coordinator answers once its partition is loaded.
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKey, fc.CoordinatorType = txn, 1
	var r *kmsg.InitProducerIDResponse
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := cl.SeedBrokers()[0].Request(ctxT(t), fc); err != nil {
			t.Fatal(err)
		}
		if r = initProducerID(t, cl, &txn, -1, -1); !kerr.IsRetriable(kerr.ErrorForCode(r.ErrorCode)) {
			break
		}
	}
	if r.ErrorCode != 0 || r.ProducerEpoch != 0 || r.ProducerID == r2.ProducerID {
		t.Fatalf("transactional id: %+v", r)
	}

	// The same batch sent twice is written once; the retry learns the first copy's offset.
	pid := r1.ProducerID
	first := rawProduce(t, cl, "raw", rawBatch(pid, 0, 0, 3))
	again := rawProduce(t, cl, "raw", rawBatch(pid, 0, 0, 3))
	if first.ErrorCode != 0 || again.ErrorCode != 0 || first.BaseOffset != 0 || again.BaseOffset != 0 {
		t.Fatalf("produce then duplicate: %+v / %+v", first, again)
	}
	if p := rawProduce(t, cl, "raw", rawBatch(pid, 0, 3, 2)); p.ErrorCode != 0 || p.BaseOffset != 3 {
		t.Fatalf("next batch: %+v", p)
	}
	if p := rawProduce(t, cl, "raw", rawBatch(pid, 0, 9, 1)); p.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("sequence gap: error %d", p.ErrorCode)
	}
	if p := rawProduce(t, cl, "raw", rawBatch(pid, 1, 0, 1)); p.ErrorCode != 0 || p.BaseOffset != 5 {
		t.Fatalf("epoch bump: %+v", p)
	}
	if p := rawProduce(t, cl, "raw", rawBatch(pid, 0, 5, 1)); p.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("stale epoch: error %d", p.ErrorCode)
	}
	if recs := consumeN(t, c, "raw", 0, 6); len(recs) != 6 {
		t.Fatalf("raw topic holds %d records, want 6", len(recs))
	}

	// After a restart the producer state comes back from the snapshot written at shutdown.
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	b := c.start()
	// The controller leads every partition again, __transaction_state's 50 included, before "raw" is served.
	c.waitFor("raw-0 led", func() bool {
		p, err := b.Replicas().Partition("raw", 0)
		return err == nil && p.Info().Leader == b.ID()
	})
	cl = c.client()
	if p := rawProduce(t, cl, "raw", rawBatch(pid, 1, 0, 1)); p.ErrorCode != 0 || p.BaseOffset != 5 {
		t.Fatalf("duplicate after restart: %+v", p)
	}
	if p := rawProduce(t, cl, "raw", rawBatch(pid, 1, 2, 1)); p.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("gap after restart: error %d", p.ErrorCode)
	}
	if p := rawProduce(t, cl, "raw", rawBatch(pid, 1, 1, 1)); p.ErrorCode != 0 || p.BaseOffset != 6 {
		t.Fatalf("next batch after restart: %+v", p)
	}
	// A restarted broker claims a new block, as Kafka does.
	r3 := initProducerID(t, cl, nil, -1, -1)
	if r3.ErrorCode != 0 || r3.ProducerID != 1000 {
		t.Fatalf("producer id after restart: %+v", r3)
	}
}

// TestIdempotentProduceSarama runs sarama's idempotent producer (InitProducerId v1+, sequence numbers per
// partition) and checks every record lands once, in order.
func TestIdempotentProduceSarama(t *testing.T) {
	c := newCluster(t)
	c.start()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Net.MaxOpenRequests = 1
	prod, err := sarama.NewSyncProducer([]string{c.addr()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	var msgs []*sarama.ProducerMessage
	for i := range 50 {
		msgs = append(msgs, &sarama.ProducerMessage{Topic: "sarama-idem", Partition: 0, Value: sarama.StringEncoder(fmt.Sprintf("value-%d", i))})
	}
	if err := prod.SendMessages(msgs); err != nil {
		t.Fatal(err)
	}
	got := consumeN(t, c, "sarama-idem", 0, 50)
	for i, r := range got {
		if r.Offset != int64(i) || string(r.Value) != fmt.Sprintf("value-%d", i) || r.ProducerID < 0 {
			t.Fatalf("record %d: offset %d value %q producer %d", i, r.Offset, r.Value, r.ProducerID)
		}
	}
}

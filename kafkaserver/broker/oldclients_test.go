package broker

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestOldClientRoundTrip is bench-kafka's path: a client at Kafka 0.9's request versions (Produce v1 with magic 0
// message sets, up-converted on append; Fetch v1, down-converted per fetch, in parallel once a fetch is large) writes
// records over 8 partitions and reads every one back, in order and intact.
func TestOldClientRoundTrip(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)
	adm := kadm.NewClient(c.client())
	createTopic(t, adm, "old", 8, nil)
	pin := kgo.MaxVersions(kversion.V0_9_0())
	prod := c.client(pin, kgo.RequiredAcks(kgo.LeaderAck()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	const perPart = 3000
	val := func(p int32, i int) []byte {
		return []byte(fmt.Sprintf("%d-%d-%s", p, i, bytes.Repeat([]byte{'v'}, i%300)))
	}
	var recs []*kgo.Record
	for p := int32(0); p < 8; p++ {
		for i := range perPart {
			var key []byte
			if i%3 == 0 {
				key = []byte(fmt.Sprint(i))
			}
			recs = append(recs, &kgo.Record{Topic: "old", Partition: p, Key: key, Value: val(p, i)})
		}
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	offsets := map[int32]kgo.Offset{}
	for p := int32(0); p < 8; p++ {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cons := c.client(pin, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"old": offsets}))
	next := map[int32]int{}
	for n := 0; n < 8*perPart; {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d: %v", n, err)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			i := next[r.Partition]
			if r.Offset != int64(i) || !bytes.Equal(r.Value, val(r.Partition, i)) || (i%3 == 0) != (r.Key != nil) {
				t.Fatalf("partition %d: record %d is offset %d value %.20q", r.Partition, i, r.Offset, r.Value)
			}
			next[r.Partition]++
			n++
		})
	}
}

// TestFetchV1DownConversionDisabled checks message.downconversion.enable=false, set for the broker
// (log.message.downconversion.enable) or for a topic: an old fetcher gets UNSUPPORTED_VERSION for a partition whose
// records would need down-conversion, as from Kafka, and its records when they need none (a topic stored in the 0.9
// format) or when the topic allows it; a current fetcher is not affected.
func TestFetchV1DownConversionDisabled(t *testing.T) {
	for _, brokerWide := range []bool{true, false} {
		c := newCluster(t)
		var overrides []string
		no := "false"
		topicCfg := map[string]*string{"message.downconversion.enable": &no}
		if brokerWide {
			overrides, topicCfg = []string{"log.message.downconversion.enable=false"}, nil
		}
		c.start(overrides...)
		ctx := ctxT(t)
		cl := c.client()
		adm := kadm.NewClient(cl)
		old := "0.9.0"
		for topic, cfg := range map[string]map[string]*string{"nodc": topicCfg, "nodc09": {"message.format.version": &old},
			"dc": nil} {
			if brokerWide && topic == "dc" {
				continue
			}
			createTopic(t, adm, topic, 1, cfg)
			if topic == "nodc09" {
				if err := c.client(kgo.MaxVersions(kversion.V0_9_0())).ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("v")}).FirstErr(); err != nil {
					t.Fatal(err)
				}
				continue
			}
			produceN(t, cl, topic, 0, 0, 5)
		}
		fetch := func(topic string, pin *kversion.Versions) kmsg.FetchResponseTopicPartition {
			return fetchPartition(ctx, t, c.client(kgo.MaxVersions(pin)), topic, 0)
		}
		if p := fetch("nodc", kversion.V0_9_0()); p.ErrorCode != kerr.UnsupportedVersion.Code || len(p.RecordBatches) != 0 {
			t.Fatalf("broker-wide %v: v1 fetch of nodc: error %d, %d bytes", brokerWide, p.ErrorCode, len(p.RecordBatches))
		}
		if p := fetch("nodc", kversion.V2_8_0()); p.ErrorCode != 0 || len(p.RecordBatches) == 0 {
			t.Fatalf("broker-wide %v: current fetch of nodc: error %d, %d bytes", brokerWide, p.ErrorCode, len(p.RecordBatches))
		}
		if p := fetch("nodc09", kversion.V0_9_0()); p.ErrorCode != 0 || len(p.RecordBatches) == 0 {
			t.Fatalf("broker-wide %v: v1 fetch of a 0.9 format topic: error %d, %d bytes", brokerWide, p.ErrorCode, len(p.RecordBatches))
		}
		if !brokerWide {
			if p := fetch("dc", kversion.V0_9_0()); p.ErrorCode != 0 || len(p.RecordBatches) == 0 {
				t.Fatalf("v1 fetch of a topic without the override: error %d, %d bytes", p.ErrorCode, len(p.RecordBatches))
			}
		}
	}
}

// fetchPartition sends one Fetch (at the highest version cl and the broker share, no wait) for partition 0 of topic
// from offset and returns that partition's answer.
func fetchPartition(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, offset int64) kmsg.FetchResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis = -1, 0
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0]
}

// TestFetchV1FromInsideBatch checks a Fetch v1 at an offset inside an uncompressed v2 batch: the down-converted
// message set starts at the fetch offset, as Kafka's down-conversion leaves out the records below it.
func TestFetchV1FromInsideBatch(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)
	cl := c.client(kgo.ProducerBatchCompression(kgo.NoCompression()))
	createTopic(t, kadm.NewClient(cl), "mid", 1, nil)
	produceN(t, cl, "mid", 0, 0, 5) // one batch, offsets 0-4
	var offsets []int64
	for p := fetchPartition(ctx, t, c.client(kgo.MaxVersions(kversion.V0_9_0())), "mid", 2).RecordBatches; len(p) > 0; {
		var m kmsg.MessageV0
		if err := m.ReadFrom(p); err != nil {
			t.Fatal(err)
		}
		offsets = append(offsets, m.Offset)
		p = p[12+m.MessageSize:]
	}
	if fmt.Sprint(offsets) != "[2 3 4]" {
		t.Fatalf("message offsets %v, want [2 3 4]", offsets)
	}
}

// TestFetchOversizeFirstBatch checks a first batch larger than a partition's max bytes. Fetch v0-v2 get its first
// max bytes at once (Kafka's LogSegment.read slice, which an old consumer reports as a message too large for its
// fetch size) instead of a long poll that never fills; v3+ get nothing for a partition after the first, as
// readFromLocalLog drops the slice. Both a v2 log (sent unconverted: no whole batch to convert) and a Kafka 0.9
// format log (sent from the file when the slice is large) are read.
func TestFetchOversizeFirstBatch(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)
	cl := c.client(kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := kadm.NewClient(cl)
	old := "0.9.0"
	createTopic(t, adm, "big", 2, nil)
	createTopic(t, adm, "big09", 1, map[string]*string{"message.format.version": &old})
	value := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
	for _, r := range []*kgo.Record{{Topic: "big", Partition: 0, Value: value}, {Topic: "big", Partition: 1, Value: value}} {
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	pin := c.client(kgo.MaxVersions(kversion.V0_9_0()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err := pin.ProduceSync(ctx, &kgo.Record{Topic: "big09", Value: value}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	fetch := func(version int16, maxBytes int32, topic string, partMax ...int32) []kmsg.FetchResponseTopicPartition {
		t.Helper()
		req := kmsg.NewPtrFetchRequest()
		// A long poll that outlasts the test's context: the answer must come because the slice counts as bytes.
		req.Version, req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = version, -1, 600_000, 1, maxBytes
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = topic
		for p, m := range partMax {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition, rp.PartitionMaxBytes = int32(p), m
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		// kgo sends the highest version both sides take: cap Fetch at the one wanted.
		vs := kversion.V2_8_0()
		vs.SetMaxKeyVersion(kmsg.Fetch.Int16(), version)
		resp, err := req.RequestWith(ctx, c.client(kgo.MaxVersions(vs)))
		if err != nil {
			t.Fatalf("fetch v%d %s: %v", version, topic, err)
		}
		if resp.Version != version {
			t.Fatalf("fetch sent as v%d, not v%d", resp.Version, version)
		}
		ps := resp.Topics[0].Partitions
		for _, p := range ps {
			if p.ErrorCode != 0 {
				t.Fatalf("fetch v%d %s-%d: error %d", version, topic, p.Partition, p.ErrorCode)
			}
		}
		return ps
	}
	// The stored batches, whole: v4 (v2 batches as stored) and v1 (the 0.9 log's magic 0 message as stored).
	stored := fetch(4, 1<<20, "big", 1<<20)[0].RecordBatches
	stored09 := fetch(1, 1<<20, "big09", 1<<20)[0].RecordBatches
	if len(stored) < len(value) || len(stored09) < len(value) {
		t.Fatalf("stored batches of %d and %d bytes", len(stored), len(stored09))
	}
	for _, tc := range []struct {
		version int16
		topic   string
		max     int32
		want    []byte
	}{
		{1, "big", 500, stored[:500]},         // bytes, not converted
		{2, "big", 40 << 10, stored[:40<<10]}, // bytes, not converted
		{0, "big09", 500, stored09[:500]},     // bytes
		{1, "big09", 40 << 10, stored09[:40<<10]},
	} {
		got := fetch(tc.version, 1<<20, tc.topic, tc.max)[0].RecordBatches
		if !bytes.Equal(got, tc.want) {
			t.Fatalf("fetch v%d %s with %d bytes: got %d bytes, want the first %d of the batch", tc.version, tc.topic, tc.max, len(got), len(tc.want))
		}
	}
	// v4: the first partition's batch goes whole (one batch at least); the second's does not fit what is left of
	// the response's max bytes and is dropped, not sliced.
	ps := fetch(4, int32(len(stored))+100, "big", 1<<20, 1<<20)
	if !bytes.Equal(ps[0].RecordBatches, stored) || len(ps[1].RecordBatches) != 0 {
		t.Fatalf("v4: %d and %d bytes", len(ps[0].RecordBatches), len(ps[1].RecordBatches))
	}
}

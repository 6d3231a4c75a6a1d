package broker

import (
	"bytes"
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
	if res, err := adm.CreateTopics(ctx, 8, 1, nil, "old"); err != nil || res["old"].Err != nil {
		t.Fatalf("create: %v %v", err, res["old"].Err)
	}
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

// TestFetchV1DownConversionDisabled checks log.message.downconversion.enable=false: an old fetcher gets
// UNSUPPORTED_VERSION for a partition with records, as from Kafka.
func TestFetchV1DownConversionDisabled(t *testing.T) {
	c := newCluster(t)
	c.start("log.message.downconversion.enable=false")
	ctx := ctxT(t)
	cl := c.client()
	if res, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, "nodc"); err != nil || res["nodc"].Err != nil {
		t.Fatalf("create: %v %v", err, res["nodc"].Err)
	}
	produceN(t, cl, "nodc", 0, 0, 5)
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.ReplicaID, req.MaxWaitMillis = 1, -1, 0
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "nodc"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c.client(kgo.MaxVersions(kversion.V0_9_0())))
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.UnsupportedVersion.Code || len(p.RecordBatches) != 0 {
		t.Fatalf("error %d, %d bytes", p.ErrorCode, len(p.RecordBatches))
	}
}

package broker

import (
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/quota"
)

// The request quota (request_percentage, KIP-124), set in ZooKeeper as kafka-configs.sh writes it: a client whose
// requests take more of a thread than its quota gets throttle times (at most one quota window) in its Metadata,
// Produce and Fetch responses (a throttled fetch's empty, as Kafka answers it); another client id is never
// throttled; the request-time and throttle-time sensors show in /metrics; removing the quota ends the throttling
// and the client reads every record.
func TestRequestQuota(t *testing.T) {
	c := newCluster(t)
	// Two one-second windows; a throttle is at most one window (quota.window.size.seconds).
	b := c.start("quota.window.num=2", "zkafka.metrics.address=127.0.0.1:0")
	ctx := ctxT(t)
	// 0.0001% of a thread is 1 µs per second: every request is over it.
	setQuota(t, b, "clients", "busy", map[string]string{quota.RequestPercentage: "0.0001"})
	c.waitFor("quota applied", func() bool { return b.quotas.Request.Quota("ANONYMOUS", "busy") == 0.0001 })

	metadata := func(cl *kgo.Client) int32 {
		t.Helper()
		req := kmsg.NewPtrMetadataRequest()
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.ThrottleMillis
	}
	busy, idle := &throttleHook{}, &throttleHook{}
	bc := c.client(kgo.ClientID("busy"), kgo.WithHooks(busy), kgo.DefaultProduceTopic("rq"), kgo.AllowAutoTopicCreation())
	ic := c.client(kgo.ClientID("idle"), kgo.WithHooks(idle))
	var throttled int32
	for range 5 {
		ms := metadata(bc)
		if ms > 1000 {
			t.Fatalf("throttle time %d ms, more than one quota window", ms)
		}
		throttled = max(throttled, ms)
		if ms := metadata(ic); ms != 0 {
			t.Fatalf("client without a request quota throttled %d ms", ms)
		}
	}
	if throttled == 0 {
		t.Fatal("Metadata over the request quota was not throttled")
	}

	before := busy.count()
	for i := range 4 {
		if err := bc.ProduceSync(ctx, &kgo.Record{Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if busy.count() == before {
		t.Fatal("Produce over the request quota was not throttled")
	}
	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version, fetch.ReplicaID, fetch.MaxBytes, fetch.MaxWaitMillis = 11, -1, 1<<20, 100
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "rq"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes, fp.CurrentLeaderEpoch, fp.LogStartOffset = 1<<20, -1, -1
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	fresp, err := fetch.RequestWith(ctx, bc)
	if err != nil {
		t.Fatal(err)
	}
	if fresp.ThrottleMillis <= 0 || fresp.ThrottleMillis > 1000 || len(fresp.Topics) != 0 {
		t.Fatalf("Fetch over the request quota: throttle %d ms, %d topics (want a throttle and an empty response)",
			fresp.ThrottleMillis, len(fresp.Topics))
	}
	if idle.count() != 0 {
		t.Fatalf("client without a request quota throttled: %v", idle.times)
	}

	m := scrape(t, b)
	if v := m["kafka_server_request_throttle_time{client_id=busy}"]; math.IsNaN(v) || v <= 0 {
		t.Fatalf("request throttle time %v", v)
	}
	if v := m["kafka_server_request_request_time{client_id=busy}"]; v <= 0 {
		t.Fatalf("request time %v", v)
	}
	if _, ok := m["kafka_server_request_exempt_request_time"]; !ok {
		t.Fatal("no exempt request time")
	}

	setQuota(t, b, "clients", "busy", map[string]string{})
	c.waitFor("quota removed", func() bool { return math.IsInf(b.quotas.Request.Quota("ANONYMOUS", "busy"), 1) })
	for range 3 {
		if ms := metadata(bc); ms != 0 {
			t.Fatalf("throttled %d ms after the quota was removed", ms)
		}
	}
	cc := c.client(kgo.ClientID("busy"), kgo.ConsumeTopics("rq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for got := 0; got < 4; {
		fs := cc.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
}

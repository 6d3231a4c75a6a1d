package broker

import (
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// The controller mutation quota (KIP-599) set through AlterClientQuotas for a client id, with one one-second
// window so that a bucket holds one second of the quota: the strict versions (CreateTopics v6, CreatePartitions
// v3, DeleteTopics v5) refuse a topic once the bucket is below zero, with THROTTLING_QUOTA_EXCEEDED and a throttle
// time; the versions before them execute the request and only throttle the response; validate-only requests and
// other client ids are not counted; automatic topic creation is counted but not throttled; removing the quota
// lifts it. Each request goes out on a client of its own, so no step waits out an earlier throttle. At 0.1
// partitions per second the debts are tens of seconds of refill, far more than the steps take on a slow machine.
func TestControllerMutationQuota(t *testing.T) {
	c := newCluster(t)
	b := c.start("controller.quota.window.num=1", "zkafka.metrics.address=127.0.0.1:0")
	ctx := ctxT(t)
	adm := kadm.NewClient(c.client())
	setRate := func(client string, rate float64, remove bool) {
		t.Helper()
		res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
			Entity: kadm.ClientQuotaEntity{{Type: "client-id", Name: &client}},
			Ops:    []kadm.AlterClientQuotaOp{{Key: "controller_mutation_rate", Value: rate, Remove: remove}},
		}})
		if err == nil {
			err = res[0].Err
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	setRate("mut", 0.1, false)
	setRate("auto", 0.001, false)
	c.waitFor("quotas applied", func() bool {
		q := b.quotas.ControllerMutation
		return q.Quota("ANONYMOUS", "mut") == 0.1 && q.Quota("ANONYMOUS", "auto") == 0.001
	})

	client := func(id string, strict bool) *kgo.Client {
		vs := kversion.V2_8_0()
		ct, dt, cp := int16(6), int16(5), int16(3)
		if !strict {
			ct, dt, cp = 5, 4, 2
		}
		vs.SetMaxKeyVersion(kmsg.CreateTopics.Int16(), ct)
		vs.SetMaxKeyVersion(kmsg.DeleteTopics.Int16(), dt)
		vs.SetMaxKeyVersion(kmsg.CreatePartitions.Int16(), cp)
		return c.client(kgo.ClientID(id), kgo.MaxVersions(vs))
	}
	createTopics := func(id string, strict, validateOnly bool, topics ...any) *kmsg.CreateTopicsResponse {
		t.Helper()
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis, req.ValidateOnly = 20000, validateOnly
		for i := 0; i < len(topics); i += 2 {
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topics[i].(string), int32(topics[i+1].(int)), 1
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, client(id, strict))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int16{true: 6, false: 5}[strict]; resp.Version != want {
			t.Fatalf("CreateTopics v%d, want v%d", resp.Version, want)
		}
		return resp
	}
	createPartitions := func(id string, strict bool, topic string, count int32) *kmsg.CreatePartitionsResponse {
		t.Helper()
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.TimeoutMillis = 20000
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = topic, count
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, client(id, strict))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int16{true: 3, false: 2}[strict]; resp.Version != want {
			t.Fatalf("CreatePartitions v%d, want v%d", resp.Version, want)
		}
		return resp
	}
	deleteTopics := func(id string, strict bool, topic string) *kmsg.DeleteTopicsResponse {
		t.Helper()
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TimeoutMillis, req.TopicNames = 20000, []string{topic}
		resp, err := req.RequestWith(ctx, client(id, strict))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int16{true: 5, false: 4}[strict]; resp.Version != want {
			t.Fatalf("DeleteTopics v%d, want v%d", resp.Version, want)
		}
		return resp
	}
	partitions := func(topic string) int {
		tm, ok := b.Replicas().Cache().Topic(topic)
		if !ok {
			return 0
		}
		return len(tm.Partitions)
	}
	errorOf := func(code int16, msg *string) error {
		if msg != nil {
			t.Errorf("error message %q, Kafka sends none", *msg)
		}
		return kerr.ErrorForCode(code)
	}

	// Strict, with a full bucket of 0.1: mq-a's 2 partitions go through (to -1.9), mq-b is refused; the throttle is
	// the time to refill to zero, at most 19 s.
	r := createTopics("mut", true, false, "mq-a", 2, "mq-b", 1)
	if err := errorOf(r.Topics[0].ErrorCode, r.Topics[0].ErrorMessage); err != nil {
		t.Fatalf("mq-a: %v", err)
	}
	if err := errorOf(r.Topics[1].ErrorCode, r.Topics[1].ErrorMessage); err != kerr.ThrottlingQuotaExceeded ||
		r.Topics[1].NumPartitions != -1 {
		t.Fatalf("mq-b: %v, %d partitions", err, r.Topics[1].NumPartitions)
	}
	if r.ThrottleMillis <= 0 || r.ThrottleMillis > 19000 {
		t.Fatalf("throttle %d ms, want (0, 19000]", r.ThrottleMillis)
	}
	if partitions("mq-a") != 2 || partitions("mq-b") != 0 {
		t.Fatalf("mq-a has %d partitions, mq-b %d", partitions("mq-a"), partitions("mq-b"))
	}
	if ok, _, err := b.zk.Exists("/brokers/topics/mq-b"); err != nil || ok {
		t.Fatalf("refused topic's znode: %v %v", ok, err)
	}
	// Validate-only requests are neither counted nor refused; another client id has no quota.
	if r := createTopics("mut", true, true, "mq-v", 50); r.Topics[0].ErrorCode != 0 || r.ThrottleMillis != 0 {
		t.Fatalf("validate only: %v, throttle %d", kerr.ErrorForCode(r.Topics[0].ErrorCode), r.ThrottleMillis)
	}
	if r := createTopics("free", true, false, "mq-free", 3); r.Topics[0].ErrorCode != 0 || r.ThrottleMillis != 0 {
		t.Fatalf("unlimited client: %v, throttle %d", kerr.ErrorForCode(r.Topics[0].ErrorCode), r.ThrottleMillis)
	}
	// Permissive (v5): created over the exhausted bucket, the response throttled (about -7.9: 79 s of refill).
	r = createTopics("mut", false, false, "mq-c", 6)
	if r.Topics[0].ErrorCode != 0 || r.ThrottleMillis <= 0 || partitions("mq-c") != 6 {
		t.Fatalf("v5: %v, throttle %d", kerr.ErrorForCode(r.Topics[0].ErrorCode), r.ThrottleMillis)
	}

	// CreatePartitions: v3 refused, v2 executed and throttled.
	cr := createPartitions("mut", true, "mq-a", 3)
	if err := errorOf(cr.Topics[0].ErrorCode, cr.Topics[0].ErrorMessage); err != kerr.ThrottlingQuotaExceeded ||
		cr.ThrottleMillis <= 0 || partitions("mq-a") != 2 {
		t.Fatalf("CreatePartitions v3: %v, throttle %d, %d partitions", err, cr.ThrottleMillis, partitions("mq-a"))
	}
	cr = createPartitions("mut", false, "mq-a", 3)
	if cr.Topics[0].ErrorCode != 0 || cr.ThrottleMillis <= 0 || partitions("mq-a") != 3 {
		t.Fatalf("CreatePartitions v2: %v, throttle %d, %d partitions", kerr.ErrorForCode(cr.Topics[0].ErrorCode),
			cr.ThrottleMillis, partitions("mq-a"))
	}

	// DeleteTopics: v5 refused, v4 executed and throttled.
	dr := deleteTopics("mut", true, "mq-c")
	if err := errorOf(dr.Topics[0].ErrorCode, dr.Topics[0].ErrorMessage); err != kerr.ThrottlingQuotaExceeded ||
		dr.ThrottleMillis <= 0 {
		t.Fatalf("DeleteTopics v5: %v, throttle %d", err, dr.ThrottleMillis)
	}
	if ok, _, err := b.zk.Exists("/admin/delete_topics/mq-c"); err != nil || ok || partitions("mq-c") != 6 {
		t.Fatalf("refused deletion marked (%v, %v) or done", ok, err)
	}
	dr = deleteTopics("mut", false, "mq-c")
	if dr.Topics[0].ErrorCode != 0 || dr.ThrottleMillis <= 0 || partitions("mq-c") != 0 {
		t.Fatalf("DeleteTopics v4: %v, throttle %d", kerr.ErrorForCode(dr.Topics[0].ErrorCode), dr.ThrottleMillis)
	}

	// Automatic creation counts the topic's partition for its client (1 at 0.001/s leaves about -1) and throttles
	// nothing.
	mreq := kmsg.NewPtrMetadataRequest()
	mreq.AllowAutoTopicCreation = true
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("mq-auto")
	mreq.Topics = append(mreq.Topics, mt)
	mresp, err := mreq.RequestWith(ctx, c.client(kgo.ClientID("auto")))
	if err != nil {
		t.Fatal(err)
	}
	if mresp.ThrottleMillis != 0 || mresp.Topics[0].ErrorCode != kerr.LeaderNotAvailable.Code {
		t.Fatalf("auto-creation: %v, throttle %d", kerr.ErrorForCode(mresp.Topics[0].ErrorCode), mresp.ThrottleMillis)
	}

	// The sensors show in /metrics as the JMX exporter names kafka.server:type=ControllerMutation beans.
	m := scrape(t, b)
	if v := m["kafka_server_controllermutation_throttle_time{client_id=mut}"]; math.IsNaN(v) || v <= 0 ||
		m["kafka_server_controllermutation_mutation_rate{client_id=mut}"] <= 0 ||
		m["kafka_server_controllermutation_tokens{client_id=mut}"] >= 0 {
		t.Fatalf("mutation sensor: throttle %v, rate %v, tokens %v", v, m["kafka_server_controllermutation_mutation_rate{client_id=mut}"],
			m["kafka_server_controllermutation_tokens{client_id=mut}"])
	}
	if v := m["kafka_server_controllermutation_tokens{client_id=auto}"]; v > -0.9 {
		t.Fatalf("auto-created topic not counted: tokens %v", v)
	}

	// Removing the quota lifts it at once.
	setRate("mut", 0, true)
	c.waitFor("quota removed", func() bool { return math.IsInf(b.quotas.ControllerMutation.Quota("ANONYMOUS", "mut"), 1) })
	r = createTopics("mut", true, false, "mq-d", 4)
	if r.Topics[0].ErrorCode != 0 || r.ThrottleMillis != 0 || partitions("mq-d") != 4 {
		t.Fatalf("after removal: %v, throttle %d", kerr.ErrorForCode(r.Topics[0].ErrorCode), r.ThrottleMillis)
	}
}

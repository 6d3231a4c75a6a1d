package broker

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zkafka/zkafka/kafkaserver/quota"
)

// throttleHook counts the throttles a franz-go client is told of.
type throttleHook struct {
	mu    sync.Mutex
	times []time.Duration
}

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.times = append(h.times, d)
}

func (h *throttleHook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.times)
}

// setQuota writes a quota znode and its change notification as kafka-configs.sh --zookeeper does.
func setQuota(t *testing.T, b *Broker, entityType, name string, config map[string]string) {
	t.Helper()
	if err := b.zk.SetOrCreateEntityConfigs(entityType, name, config); err != nil {
		t.Fatal(err)
	}
	if _, err := b.zk.CreateConfigChangeNotification(entityType + "/" + name); err != nil {
		t.Fatal(err)
	}
}

// Client quotas set in ZooKeeper as kafka-configs.sh writes them: a producer over its producer_byte_rate and a
// consumer over its consumer_byte_rate get throttle times in their responses (and are muted for them), while an
// unlimited client id is not; the consumer still reads every record, a quota window's worth at a time; removing
// the quota ends the throttling.
func TestClientQuotas(t *testing.T) {
	c := newCluster(t)
	// Two one-second windows: a rate is measured over at least one second.
	b := c.start("quota.window.num=2", "zkafka.metrics.address=127.0.0.1:0")
	ctx := ctxT(t)
	setQuota(t, b, "clients", "slow", map[string]string{quota.ProducerByteRate: "10000"})
	setQuota(t, b, "clients", "slowc", map[string]string{quota.ConsumerByteRate: "10000"})
	setQuota(t, b, "users", "ANONYMOUS/clients/other", map[string]string{quota.ProducerByteRate: "5"})
	c.waitFor("quotas applied", func() bool {
		return b.quotas.Produce.Quota("ANONYMOUS", "slow") == 10000 && b.quotas.Fetch.Quota("ANONYMOUS", "slowc") == 10000 &&
			b.quotas.Produce.Quota("ANONYMOUS", "other") == 5
	})
	if q := b.quotas.Produce.Quota("ANONYMOUS", "fast"); !math.IsInf(q, 1) {
		t.Fatalf("unlimited client's quota %v", q)
	}

	big := strings.Repeat("x", 15000)
	produce := func(clientID, topic, value string) *throttleHook {
		t.Helper()
		h := &throttleHook{}
		cl := c.client(kgo.ClientID(clientID), kgo.WithHooks(h), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation(),
			kgo.ProducerBatchCompression(kgo.NoCompression()))
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatalf("%s: %v", clientID, err)
		}
		return h
	}
	// 15 kB in one request against 10 kB/s: throttled for about half a second.
	if h := produce("slow", "quota-p", big); h.count() == 0 {
		t.Fatal("producer over its quota was not throttled")
	}
	if h := produce("fast", "quota-p", big); h.count() != 0 {
		t.Fatalf("unlimited producer throttled: %v", h.times)
	}
	// The sensors show in /metrics as the JMX exporter names Kafka's.
	m := scrape(t, b)
	if v := m["kafka_server_produce_throttle_time{client_id=slow}"]; math.IsNaN(v) || v <= 0 || m["kafka_server_produce_byte_rate{client_id=slow}"] <= 0 {
		t.Fatalf("producer sensor: throttle %v, rate %v", v, m["kafka_server_produce_byte_rate{client_id=slow}"])
	}

	// Four batches of 4 kB: a fetch carries at most 10 kB (a window's worth), and the second fetch is over the rate.
	pc := c.client(kgo.DefaultProduceTopic("quota-c"), kgo.AllowAutoTopicCreation(), kgo.ProducerBatchCompression(kgo.NoCompression()))
	for range 4 {
		if err := pc.ProduceSync(ctx, &kgo.Record{Value: []byte(big[:4000])}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	h := &throttleHook{}
	cc := c.client(kgo.ClientID("slowc"), kgo.WithHooks(h), kgo.ConsumeTopics("quota-c"), kgo.FetchMaxBytes(1<<20))
	got := 0
	for got < 4 {
		fs := cc.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(*kgo.Record) { got++ })
	}
	if h.count() == 0 {
		t.Fatal("consumer over its quota was not throttled")
	}
	if v := scrape(t, b)["kafka_server_fetch_throttle_time{client_id=slowc}"]; math.IsNaN(v) || v <= 0 {
		t.Fatalf("consumer throttle time %v", v)
	}

	// Removed (kafka-configs.sh --delete-config leaves an empty config): no more throttles.
	setQuota(t, b, "clients", "slow", map[string]string{})
	c.waitFor("quota removed", func() bool { return math.IsInf(b.quotas.Produce.Quota("ANONYMOUS", "slow"), 1) })
	if h := produce("slow", "quota-p", big); h.count() != 0 {
		t.Fatalf("producer throttled after its quota was removed: %v", h.times)
	}
}

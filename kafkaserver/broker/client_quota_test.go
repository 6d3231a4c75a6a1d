package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
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

// AlterClientQuotas and DescribeClientQuotas (kafka-configs.sh --bootstrap-server in 2.8) through kadm: quotas
// land in Kafka's znodes with a change notification the broker applies; invalid entities, keys and values get
// Kafka's errors; describe filters by exact name, default and any, strict or not.
func TestClientQuotaAPIs(t *testing.T) {
	c := newCluster(t)
	b := c.start()
	ctx := ctxT(t)
	adm := kadm.NewClient(c.client())
	str := func(s string) *string { return &s }
	ent := func(kv ...any) kadm.ClientQuotaEntity {
		var e kadm.ClientQuotaEntity
		for i := 0; i < len(kv); i += 2 {
			name, _ := kv[i+1].(*string)
			e = append(e, kadm.ClientQuotaEntityComponent{Type: kv[i].(string), Name: name})
		}
		return e
	}
	set := func(k string, v float64) kadm.AlterClientQuotaOp { return kadm.AlterClientQuotaOp{Key: k, Value: v} }
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{
		{Entity: ent("client-id", str("app")), Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1024), set("consumer_byte_rate", 4096)}},
		{Entity: ent("user", str("alice"), "client-id", str("app")), Ops: []kadm.AlterClientQuotaOp{set("request_percentage", 200)}},
		{Entity: ent("user", nil), Ops: []kadm.AlterClientQuotaOp{set("consumer_byte_rate", 1e8)}},
		{Entity: ent("ip", str("127.0.0.1")), Ops: []kadm.AlterClientQuotaOp{set("connection_creation_rate", 10)}},
		{Entity: ent("user", str("bob")), Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1.5)}},
		{Entity: ent("client-id", str("x")), Ops: []kadm.AlterClientQuotaOp{set("retention.ms", 1)}},
		{Entity: ent("client-id", str("")), Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1)}},
		{Entity: ent("ip", str("1.2.3.4"), "user", str("u")), Ops: []kadm.AlterClientQuotaOp{set("producer_byte_rate", 1)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantErrs := map[string]string{
		"{user=bob}":           "INVALID_REQUEST: Configuration producer_byte_rate must be a LONG value",
		"{client-id=x}":        "INVALID_REQUEST: Invalid configuration key retention.ms",
		"{client-id=}":         "INVALID_REQUEST: Empty client-id not supported",
		"{ip=1.2.3.4, user=u}": "INVALID_REQUEST: Invalid quota entity combination, IP entity should not be used with user/client ID entity.",
	}
	for _, r := range res {
		got := ""
		if r.Err != nil {
			got = r.Err.(*kerr.Error).Message + ": " + r.ErrMessage
		}
		if got != wantErrs[r.Entity.String()] {
			t.Errorf("%s: %q, want %q", r.Entity, got, wantErrs[r.Entity.String()])
		}
	}
	for path, want := range map[string]string{
		"/kafka/config/clients/app":             `{"version":1,"config":{"consumer_byte_rate":"4096","producer_byte_rate":"1024"}}`,
		"/kafka/config/users/alice/clients/app": `{"version":1,"config":{"request_percentage":"200.0"}}`,
		"/kafka/config/users/<default>":         `{"version":1,"config":{"consumer_byte_rate":"100000000"}}`,
		"/kafka/config/ips/127.0.0.1":           `{"version":1,"config":{"connection_creation_rate":"10"}}`,
	} {
		data, _, err := b.zk.Get(strings.TrimPrefix(path, "/kafka"))
		if err != nil || !sameJSON(t, string(data), want) {
			t.Errorf("%s: %s (%v), want %s", path, data, err, want)
		}
	}
	c.waitFor("quotas applied", func() bool {
		return b.quotas.Produce.Quota("ANONYMOUS", "app") == 1024 && b.quotas.Fetch.Quota("someone", "other") == 1e8
	})
	// A broker starting on these znodes loads every quota entity (DynamicConfigManager.startup), the user znode
	// made as the parent of alice's client quota too, with no config, as Kafka lists it.
	loaded := map[string]map[string]string{}
	fresh := dynconfig.New(dynconfig.Config{ZK: b.ZK(), BrokerID: b.ID(), Static: b.cfg, Logger: slog.Default(),
		OnQuotaChange: func(e quota.Entity, config map[string]string) error {
			loaded[e.String()] = config
			return nil
		}})
	if err := fresh.LoadQuotas(); err != nil {
		t.Fatal(err)
	}
	wantLoaded := map[string]map[string]string{
		"clients/app":             {"producer_byte_rate": "1024", "consumer_byte_rate": "4096"},
		"users/alice/clients/app": {"request_percentage": "200.0"},
		"users/alice":             {},
		"users/<default>":         {"consumer_byte_rate": "100000000"},
	}
	if !reflect.DeepEqual(loaded, wantLoaded) {
		t.Errorf("loaded at start %v, want %v", loaded, wantLoaded)
	}

	describe := func(strict bool, comps ...kadm.DescribeClientQuotaComponent) []string {
		t.Helper()
		qs, err := adm.DescribeClientQuotas(ctx, strict, comps)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range qs {
			out = append(out, fmt.Sprint(q.Entity, q.Values))
		}
		slices.Sort(out)
		return out
	}
	check := func(got []string, want ...string) {
		t.Helper()
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("described %q, want %q", got, want)
		}
	}
	app := "{client-id=app} [consumer_byte_rate=4096.000000 producer_byte_rate=1024.000000]"
	alice := "{user=alice, client-id=app} [request_percentage=200.000000]"
	def := "{user=<default>} [consumer_byte_rate=100000000.000000]"
	ip := "{ip=127.0.0.1} [connection_creation_rate=10.000000]"
	check(describe(false), alice, ip, def, app)
	check(describe(true))
	check(describe(true, kadm.DescribeClientQuotaComponent{Type: "client-id", MatchType: 0, MatchName: str("app")}), app)
	check(describe(false, kadm.DescribeClientQuotaComponent{Type: "client-id", MatchType: 0, MatchName: str("app")}), alice, app)
	check(describe(false, kadm.DescribeClientQuotaComponent{Type: "user", MatchType: 1}), def)
	check(describe(false, kadm.DescribeClientQuotaComponent{Type: "user", MatchType: 2}), alice, def)
	check(describe(true, kadm.DescribeClientQuotaComponent{Type: "ip", MatchType: 2}), ip)
	if _, err := adm.DescribeClientQuotas(ctx, false, []kadm.DescribeClientQuotaComponent{{Type: "ip", MatchType: 2},
		{Type: "user", MatchType: 2}}); !errors.Is(err, kerr.InvalidRequest) {
		t.Errorf("ip with user filter: %v", err)
	}

	// Removing the last quota of an entity leaves an empty config, which describe no longer lists.
	res, err = adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: ent("client-id", str("app")),
		Ops: []kadm.AlterClientQuotaOp{{Key: "producer_byte_rate", Remove: true}, {Key: "consumer_byte_rate", Remove: true}}}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("remove: %+v %v", res, err)
	}
	check(describe(false, kadm.DescribeClientQuotaComponent{Type: "client-id", MatchType: 0, MatchName: str("app")}), alice)
	c.waitFor("quota removed", func() bool { return math.IsInf(b.quotas.Produce.Quota("ANONYMOUS", "app"), 1) })
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

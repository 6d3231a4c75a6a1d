package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

func configOf(t *testing.T, rcs kadm.ResourceConfigs, err error, name string) kadm.Config {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(rcs) != 1 || rcs[0].Err != nil {
		t.Fatalf("describe: %+v", rcs)
	}
	for _, c := range rcs[0].Configs {
		if c.Key == name {
			return c
		}
	}
	t.Fatalf("config %s not described", name)
	return kadm.Config{}
}

func wantConfig(t *testing.T, c kadm.Config, value string, src kmsg.ConfigSource) {
	t.Helper()
	if c.MaybeValue() != value || c.Source != src {
		t.Fatalf("%s = %q (%v), want %q (%v); synonyms %+v", c.Key, c.MaybeValue(), c.Source, value, src, c.Synonyms)
	}
}

func alterOK(t *testing.T, rs kadm.AlterConfigsResponses, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("alter %s: %v %s", r.Name, r.Err, r.ErrMessage)
		}
	}
}

func alterErr(t *testing.T, rs kadm.AlterConfigsResponses, err error, want error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || !errors.Is(rs[0].Err, want) {
		t.Fatalf("alter: %+v, want %v", rs, want)
	}
	return rs[0].ErrMessage
}

func logOf(t *testing.T, c *cluster, topic string) *klog.Log {
	t.Helper()
	var l *klog.Log
	c.waitFor("log of "+topic, func() bool {
		var ok bool
		l, ok = c.b.logs.Get(topic, 0)
		return ok
	})
	return l
}

func TestAlterTopicConfigs(t *testing.T) {
	c := newCluster(t)
	c.start()
	cl := c.client()
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "cfg"); err != nil {
		t.Fatal(err)
	}
	l := logOf(t, c, "cfg")
	s := kadm.StringPtr

	// Incremental SET: written, described as a topic override, and applied to the live log.
	rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "segment.bytes", Value: s("200")},
		{Op: kadm.SetConfig, Name: "retention.ms", Value: s("3600000")}}, "cfg")
	alterOK(t, rs, err)
	rcs, err := adm.DescribeTopicConfigs(ctx, "cfg")
	wantConfig(t, configOf(t, rcs, err, "segment.bytes"), "200", kmsg.ConfigSourceDynamicTopicConfig)
	wantConfig(t, configOf(t, rcs, err, "retention.ms"), "3600000", kmsg.ConfigSourceDynamicTopicConfig)
	wantConfig(t, configOf(t, rcs, err, "cleanup.policy"), "delete", kmsg.ConfigSourceDefaultConfig)
	c.waitFor("segment.bytes applied", func() bool { return l.Config().SegmentBytes == 200 })
	for i := range 6 {
		produceN(t, cl, "cfg", 0, i, 1)
	}
	if n := l.NumSegments(); n < 3 {
		t.Fatalf("segment.bytes=200 not applied: %d segments after 6 batches", n)
	}

	// APPEND to a list, then AlterConfigs replaces the whole set.
	rs, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: s("compact")}}, "cfg")
	alterOK(t, rs, err)
	rcs, err = adm.DescribeTopicConfigs(ctx, "cfg")
	wantConfig(t, configOf(t, rcs, err, "cleanup.policy"), "delete,compact", kmsg.ConfigSourceDynamicTopicConfig)
	rs, err = adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.bytes", Value: s("100000")}}, "cfg")
	alterOK(t, rs, err)
	rcs, err = adm.DescribeTopicConfigs(ctx, "cfg")
	wantConfig(t, configOf(t, rcs, err, "retention.bytes"), "100000", kmsg.ConfigSourceDynamicTopicConfig)
	wantConfig(t, configOf(t, rcs, err, "segment.bytes"), "1073741824", kmsg.ConfigSourceDefaultConfig)
	c.waitFor("overrides replaced", func() bool {
		cfg := l.Config()
		return cfg.RetentionBytes == 100000 && cfg.SegmentBytes == 1<<30 && cfg.CleanupPolicy == "delete"
	})
	got, err := c.b.ZK().GetEntityConfigs(zkmeta.ConfigTypeTopic, "cfg")
	if err != nil || len(got) != 1 || got["retention.bytes"] != "100000" {
		t.Fatalf("/config/topics/cfg = %v, %v", got, err)
	}

	// validateOnly writes nothing.
	rs, err = adm.ValidateAlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: s("1")}}, "cfg")
	alterOK(t, rs, err)
	if got, _ := c.b.ZK().GetEntityConfigs(zkmeta.ConfigTypeTopic, "cfg"); len(got) != 1 {
		t.Fatalf("validateOnly wrote %v", got)
	}

	// Errors as Kafka reports them.
	set := func(k, v string) []kadm.AlterConfig {
		return []kadm.AlterConfig{{Op: kadm.SetConfig, Name: k, Value: s(v)}}
	}
	rs, err = adm.AlterTopicConfigs(ctx, set("retention.ms", "1"), "nosuch")
	alterErr(t, rs, err, kerr.UnknownTopicOrPartition)
	rs, err = adm.AlterTopicConfigs(ctx, set("retention.ms", "abc"), "cfg")
	if msg := alterErr(t, rs, err, kerr.InvalidRequest); msg != "Invalid config value for resource "+
		"ConfigResource(type=TOPIC, name='cfg'): Invalid value abc for configuration retention.ms: Not a number of type LONG" {
		t.Fatalf("message %q", msg)
	}
	rs, err = adm.AlterTopicConfigs(ctx, set("no.such.config", "1"), "cfg")
	alterErr(t, rs, err, kerr.InvalidConfig)
	rs, err = adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.AppendConfig, Name: "retention.ms", Value: s("1")}}, "cfg")
	alterErr(t, rs, err, kerr.InvalidRequest)

	// The config tools write the entity and a notification straight to ZooKeeper; Kafka 0.9's tools use the
	// version 1 notification.
	zc := c.b.ZK()
	if err := zc.SetOrCreateEntityConfigs(zkmeta.ConfigTypeTopic, "cfg", map[string]string{"segment.bytes": "4096"}); err != nil {
		t.Fatal(err)
	}
	if _, err := zc.Create(zkmeta.ConfigChangeCreatePath(),
		[]byte(`{"version":1,"entity_type":"topics","entity_name":"cfg"}`), zk.FlagSequence); err != nil {
		t.Fatal(err)
	}
	c.waitFor("v1 notification applied", func() bool { return l.Config().SegmentBytes == 4096 })
}

func TestAlterBrokerConfigs(t *testing.T) {
	c := newCluster(t)
	c.start("log.retention.bytes=5000000")
	cl := c.client()
	adm := kadm.NewClient(cl)
	ctx := ctxT(t)
	if _, err := adm.CreateTopics(ctx, 1, 1, nil, "b"); err != nil {
		t.Fatal(err)
	}
	l := logOf(t, c, "b")
	s := kadm.StringPtr
	id := c.b.ID()

	rcs, err := adm.DescribeBrokerConfigs(ctx, id)
	wantConfig(t, configOf(t, rcs, err, "log.retention.bytes"), "5000000", kmsg.ConfigSourceStaticBrokerConfig)

	// Per broker: the broker config and the topic default both change, and the log follows.
	rs, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "log.retention.bytes", Value: s("12345")}}, id)
	alterOK(t, rs, err)
	c.waitFor("broker retention applied", func() bool { return l.Config().RetentionBytes == 12345 })
	rcs, err = adm.DescribeBrokerConfigs(ctx, id)
	rb := configOf(t, rcs, err, "log.retention.bytes")
	wantConfig(t, rb, "12345", kmsg.ConfigSourceDynamicBrokerConfig)
	if len(rb.Synonyms) != 3 || rb.Synonyms[1].Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Fatalf("synonyms %+v", rb.Synonyms)
	}
	rcs, err = adm.DescribeTopicConfigs(ctx, "b")
	wantConfig(t, configOf(t, rcs, err, "retention.bytes"), "12345", kmsg.ConfigSourceDynamicBrokerConfig)

	// Cluster default: below the per-broker value, above server.properties.
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "message.max.bytes", Value: s("2000000")}})
	alterOK(t, rs, err)
	// Like Kafka, the broker serves the new value once its own listener has applied the notification.
	c.waitFor("default message.max.bytes applied", func() bool { return l.Config().MaxMessageBytes == 2000000 })
	rcs, err = adm.DescribeBrokerConfigs(ctx)
	wantConfig(t, configOf(t, rcs, err, "message.max.bytes"), "2000000", kmsg.ConfigSourceDynamicDefaultBrokerConfig)
	rcs, err = adm.DescribeBrokerConfigs(ctx, id)
	wantConfig(t, configOf(t, rcs, err, "message.max.bytes"), "2000000", kmsg.ConfigSourceDynamicDefaultBrokerConfig)

	// DELETE goes back to the static value.
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "log.retention.bytes"}}, id)
	alterOK(t, rs, err)
	c.waitFor("broker retention removed", func() bool { return l.Config().RetentionBytes == 5000000 })

	// Non-dynamic, per-broker-only at the default level, another broker's id.
	rs, err = adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "num.partitions", Value: s("3")}}, id)
	if msg := alterErr(t, rs, err, kerr.InvalidRequest); msg != "Invalid config value for resource "+
		"ConfigResource(type=BROKER, name='0'): Cannot update these configs dynamically: Set(num.partitions)" {
		t.Fatalf("message %q", msg)
	}
	rs, err = adm.AlterBrokerConfigsState(ctx, []kadm.AlterConfig{{Name: "listeners", Value: s("PLAINTEXT://:9999")}})
	alterErr(t, rs, err, kerr.InvalidRequest)
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, "7"
	req.Resources = append(req.Resources, res)
	// Sent to this broker directly: the client would route a broker resource to that (unknown) broker.
	send := func() (*kmsg.IncrementalAlterConfigsResponse, error) {
		r, err := cl.Broker(int(id)).Request(ctx, req)
		if err != nil {
			return nil, err
		}
		return r.(*kmsg.IncrementalAlterConfigsResponse), nil
	}
	if resp, err := send(); err != nil || resp.Resources[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("other broker id: %+v %v", resp, err)
	}
}

// TestConfigChangeExpiry: processed notifications older than the expiration are deleted, and a restarted
// listener reprocesses what is left.
func TestConfigChangeExpiry(t *testing.T) {
	c := newCluster(t)
	c.start()
	zc := c.b.ZK()
	for range 3 {
		if _, err := zc.CreateConfigChangeNotification("topics/none"); err != nil {
			t.Fatal(err)
		}
	}
	later := dynconfig.New(dynconfig.Config{ZK: zc, BrokerID: c.b.ID(), Static: c.b.cfg, Logger: slog.Default(),
		Now: func() time.Time { return time.Now().Add(time.Hour) }})
	children, err := zc.GetChildren(zkmeta.ConfigChangesPath)
	if err != nil || len(children) < 3 {
		t.Fatalf("children %v %v", children, err)
	}
	later.ProcessNotifications(children)
	if later.LastExecuted() < 2 {
		t.Fatalf("last executed %d", later.LastExecuted())
	}
	if left, _ := zc.GetChildren(zkmeta.ConfigChangesPath); len(left) != 0 {
		t.Fatalf("not purged: %v", left)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := zc.CreateConfigChangeNotification("brokers/<default>"); err != nil {
		t.Fatal(err)
	}
	fresh := dynconfig.New(dynconfig.Config{ZK: zc, BrokerID: c.b.ID(), Static: c.b.cfg, Logger: slog.Default()})
	go func() { _ = fresh.Run(ctx) }()
	c.waitFor("restart reprocesses", func() bool { return fresh.LastExecuted() >= 3 })
}

// TestTopicCompressionType checks compression.type end to end: a topic created with gzip stores an uncompressed
// produce as a gzip batch, an alteration to "producer" keeps the producer's snappy, and a consumer reads every
// record back.
func TestTopicCompressionType(t *testing.T) {
	c := newCluster(t)
	c.start()
	ctx := ctxT(t)
	plain := c.client(kgo.ProducerBatchCompression(kgo.NoCompression()))
	adm := kadm.NewClient(plain)
	gz := "gzip"
	createTopic(t, adm, "ct", 1, map[string]*string{"compression.type": &gz})
	produceN(t, plain, "ct", 0, 0, 5)
	rs, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "compression.type", Value: kadm.StringPtr("producer")}}, "ct")
	alterOK(t, rs, err)
	l := logOf(t, c, "ct")
	c.waitFor("compression.type applied", func() bool { return l.Config().CompressionType == "producer" })
	produceN(t, c.client(kgo.ProducerBatchCompression(kgo.SnappyCompression())), "ct", 0, 5, 5)

	var codecs []int16
	n := 0
	for p := fetchPartition(ctx, t, plain, "ct", 0).RecordBatches; len(p) > 0; {
		var b kmsg.RecordBatch
		if err := b.ReadFrom(p); err != nil {
			t.Fatal(err)
		}
		codecs = append(codecs, b.Attributes&7)
		n += int(b.NumRecords)
		p = p[12+b.Length:]
	}
	if fmt.Sprint(codecs) != "[1 2]" || n != 10 {
		t.Fatalf("stored codecs %v with %d records, want a gzip batch then a snappy one, 10 records", codecs, n)
	}
	cons := c.client(kgo.ConsumeTopics("ct"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for got := 0; got < 10; {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d: %v", got, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) != fmt.Sprintf("value-%d", r.Offset) {
				t.Fatalf("offset %d: %q", r.Offset, r.Value)
			}
			got++
		})
	}
}

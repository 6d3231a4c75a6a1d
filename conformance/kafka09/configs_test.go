package kafka09

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Kafka 0.9's kafka-configs.sh --zookeeper writes /config/topics/<t> and a version 1 change notification; the
// broker must pick the change up live.
func init() {
	scenarios = append(scenarios, scenario{"admin/configs-topic", scenTopicConfigs})
}

func (e *env) configs(args ...string) (string, error) {
	out, _, err := e.run(60*time.Second, "", "kafka-configs.sh",
		append([]string{"--zookeeper", e.zkConnect, "--entity-type", "topics"}, args...)...)
	return out, err
}

// produceBig sends one record of n bytes and returns the produce error.
func (e *env) produceBig(cl *kgo.Client, topic string, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(strings.Repeat("x", n))}).FirstErr()
}

func scenTopicConfigs(e *env) error {
	const topic = "configs09"
	if err := e.createTopic(topic, 1); err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker), kgo.RecordRetries(0), kgo.DisableIdempotentWrite(),
		// Uncompressed, so that the batch size is what max.message.bytes sees.
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := e.produceBig(cl, topic, 1000); err != nil {
		return fmt.Errorf("produce before the config change: %w", err)
	}

	out, err := e.configs("--alter", "--entity-name", topic, "--add-config", "max.message.bytes=300,retention.ms=3600000")
	if err != nil {
		return err
	}
	if err := wantLines(out, `Updated config for topic: "configs09".`); err != nil {
		return err
	}
	if out, err = e.configs("--describe", "--entity-name", topic); err != nil {
		return err
	}
	if err := wantLines(out, "Configs for topics:configs09 are ", "max.message.bytes=300", "retention.ms=3600000"); err != nil {
		return err
	}
	// Live: the broker's log refuses what the new max.message.bytes does not allow, without a restart.
	var last error
	if err := waitFor("max.message.bytes applied", 30*time.Second, nil, func() bool {
		last = e.produceBig(cl, topic, 1000)
		return errors.Is(last, kerr.MessageTooLarge)
	}); err != nil {
		return fmt.Errorf("%w (last produce: %v)", err, last)
	}
	adm := kadm.NewClient(cl)
	rc, err := adm.DescribeTopicConfigs(context.Background(), topic)
	if err != nil {
		return err
	}
	c, err := rc.On(topic, nil)
	if err != nil {
		return err
	}
	seen := map[string]string{}
	for _, kv := range c.Configs {
		if kv.Source == 1 { // DYNAMIC_TOPIC_CONFIG
			seen[kv.Key] = kv.MaybeValue()
		}
	}
	if seen["max.message.bytes"] != "300" || seen["retention.ms"] != "3600000" || len(seen) != 2 {
		return fmt.Errorf("DescribeConfigs topic overrides %v", seen)
	}

	if out, err = e.configs("--alter", "--entity-name", topic, "--delete-config", "max.message.bytes"); err != nil {
		return err
	}
	if err := wantLines(out, `Updated config for topic: "configs09".`); err != nil {
		return err
	}
	if out, err = e.configs("--describe", "--entity-name", topic); err != nil {
		return err
	}
	if err := wantLines(out, "Configs for topics:configs09 are retention.ms=3600000"); err != nil {
		return err
	}
	if strings.Contains(out, "max.message.bytes") {
		return fmt.Errorf("deleted config still described:\n%s", out)
	}
	if err := waitFor("max.message.bytes removed", 30*time.Second, nil, func() bool {
		last = e.produceBig(cl, topic, 1000)
		return last == nil
	}); err != nil {
		return fmt.Errorf("%w (last produce: %v)", err, last)
	}
	return nil
}

// Kafka 0.9's kafka-configs.sh --zookeeper --entity-type clients writes a client quota (0.9 introduced them) and a
// version 1 change notification; the broker applies it live: a producer with that client id over its
// producer_byte_rate is told to back off (throttle_time_ms), one with another client id is not.
func init() {
	scenarios = append(scenarios, scenario{"admin/configs-client-quota", scenClientQuota})
}

// throttles counts the throttles a franz-go client is told of.
type throttles struct{ n atomic.Int32 }

func (h *throttles) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	if d > 0 {
		h.n.Add(1)
	}
}

func scenClientQuota(e *env) error {
	const topic = "quota09"
	if err := e.createTopic(topic, 1); err != nil {
		return err
	}
	quotas := func(args ...string) (string, error) {
		out, _, err := e.run(60*time.Second, "", "kafka-configs.sh",
			append([]string{"--zookeeper", e.zkConnect, "--entity-type", "clients", "--entity-name", "q09"}, args...)...)
		return out, err
	}
	out, err := quotas("--alter", "--add-config", "producer_byte_rate=1000,consumer_byte_rate=1000")
	if err != nil {
		return err
	}
	if err := wantLines(out, `Updated config for clientId: "q09".`); err != nil {
		return err
	}
	if out, err = quotas("--describe"); err != nil {
		return err
	}
	if err := wantLines(out, "Configs for clients:q09 are ", "producer_byte_rate=1000", "consumer_byte_rate=1000"); err != nil {
		return err
	}
	producer := func(clientID string) (*kgo.Client, *throttles, error) {
		h := &throttles{}
		cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker), kgo.ClientID(clientID), kgo.WithHooks(h),
			kgo.DisableIdempotentWrite(), kgo.ProducerBatchCompression(kgo.NoCompression()))
		return cl, h, err
	}
	// 12 kB at once against 1000 B/s over Kafka's ten-second window: about two seconds of throttle, once the
	// broker has the quota (its listener runs apart from the tool).
	slow, h, err := producer("q09")
	if err != nil {
		return err
	}
	defer slow.Close()
	if err := waitFor("producer throttled", 60*time.Second, nil, func() bool {
		return e.produceBig(slow, topic, 12000) == nil && h.n.Load() > 0
	}); err != nil {
		return err
	}
	fast, hf, err := producer("not-q09")
	if err != nil {
		return err
	}
	defer fast.Close()
	if err := e.produceBig(fast, topic, 12000); err != nil {
		return err
	}
	if n := hf.n.Load(); n != 0 {
		return fmt.Errorf("a client id without a quota was throttled %d times", n)
	}
	if out, err = quotas("--alter", "--delete-config", "producer_byte_rate,consumer_byte_rate"); err != nil {
		return err
	}
	return wantLines(out, `Updated config for clientId: "q09".`)
}

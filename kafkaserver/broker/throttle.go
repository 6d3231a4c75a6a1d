package broker

import (
	"fmt"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// applyThrottleRates gives the replication throttles and the log dir move throttle this broker's dynamic rates
// (BrokerConfigHandler).
func (b *Broker) applyThrottleRates(cfg *serverprops.Config) {
	b.rm.LeaderQuota().SetBound(cfg.ThrottleRate("leader.replication.throttled.rate"))
	b.rm.FollowerQuota().SetBound(cfg.ThrottleRate("follower.replication.throttled.rate"))
	b.rm.MoveQuota().SetBound(cfg.ThrottleRate("replica.alter.log.dirs.io.max.bytes.per.second"))
}

// setThrottledReplicas marks which of a topic's partitions the throttles apply to on this broker, from its
// leader.replication.throttled.replicas and follower.replication.throttled.replicas (TopicConfigHandler).
func (b *Broker) setThrottledReplicas(topic string, config map[string]string) {
	b.rm.LeaderQuota().SetThrottled(topic, config[serverprops.TopicLeaderReplicationThrottled], b.brokerID)
	b.rm.FollowerQuota().SetThrottled(topic, config[serverprops.TopicFollowerReplicationThrottled], b.brokerID)
}

// loadThrottledReplicas reads every topic's throttled replicas at start, as DynamicConfigManager.startup hands
// every topic's config to the TopicConfigHandler.
func (b *Broker) loadThrottledReplicas() error {
	topics, err := b.zk.GetAllEntitiesWithConfig(zkmeta.ConfigTypeTopic)
	if err != nil {
		return fmt.Errorf("topics with configs: %w", err)
	}
	for _, t := range topics {
		config, err := b.zk.GetEntityConfigs(zkmeta.ConfigTypeTopic, t)
		if err != nil {
			return fmt.Errorf("configs of topic %s: %w", t, err)
		}
		b.setThrottledReplicas(t, config)
	}
	return nil
}

// newClientQuotas makes the client quota managers from server.properties (QuotaFactory.instantiate).
func newClientQuotas(cfg *serverprops.Config) *quota.ClientQuotas {
	producer, _ := cfg.Long("quota.producer.default")
	consumer, _ := cfg.Long("quota.consumer.default")
	windows, _ := cfg.Int("quota.window.num")
	secs, _ := cfg.Int("quota.window.size.seconds")
	ctrlWindows, _ := cfg.Int("controller.quota.window.num")
	ctrlSecs, _ := cfg.Int("controller.quota.window.size.seconds")
	return quota.NewClientQuotas(quota.ClientQuotasConfig{ProducerDefault: producer, ConsumerDefault: consumer,
		Windows: int(windows), WindowSeconds: int(secs), ControllerWindows: int(ctrlWindows),
		ControllerWindowSeconds: int(ctrlSecs)})
}

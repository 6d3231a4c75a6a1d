package serverprops

import (
	"fmt"
	"sort"
	"strconv"
)

// Topic-level config names (org.apache.kafka.common.config.TopicConfig and LogConfig).
const (
	TopicSegmentBytes                 = "segment.bytes"
	TopicSegmentMs                    = "segment.ms"
	TopicSegmentJitterMs              = "segment.jitter.ms"
	TopicSegmentIndexBytes            = "segment.index.bytes"
	TopicFlushMessages                = "flush.messages"
	TopicFlushMs                      = "flush.ms"
	TopicRetentionBytes               = "retention.bytes"
	TopicRetentionMs                  = "retention.ms"
	TopicMaxMessageBytes              = "max.message.bytes"
	TopicIndexIntervalBytes           = "index.interval.bytes"
	TopicDeleteRetentionMs            = "delete.retention.ms"
	TopicMinCompactionLagMs           = "min.compaction.lag.ms"
	TopicMaxCompactionLagMs           = "max.compaction.lag.ms"
	TopicFileDeleteDelayMs            = "file.delete.delay.ms"
	TopicMinCleanableDirtyRatio       = "min.cleanable.dirty.ratio"
	TopicCleanupPolicy                = "cleanup.policy"
	TopicUncleanLeaderElectionEnable  = "unclean.leader.election.enable"
	TopicMinInsyncReplicas            = "min.insync.replicas"
	TopicCompressionType              = "compression.type"
	TopicPreallocate                  = "preallocate"
	TopicMessageFormatVersion         = "message.format.version"
	TopicMessageTimestampType         = "message.timestamp.type"
	TopicMessageTimestampDiffMaxMs    = "message.timestamp.difference.max.ms"
	TopicLeaderReplicationThrottled   = "leader.replication.throttled.replicas"
	TopicFollowerReplicationThrottled = "follower.replication.throttled.replicas"
	TopicMessageDownConversionEnable  = "message.downconversion.enable"
)

// brokerCompressionTypes is BrokerCompressionCodec.brokerCompressionOptions, in Kafka's order.
var brokerCompressionTypes = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}

// topicDefs is LogConfig.configDef of Kafka 2.8. Defaults are Kafka's static ones; a broker's own defaults come
// from Config.TopicDefaults.
var topicDefs = []def{
	d(TopicSegmentBytes, TypeInt, "1073741824", atLeast(14)),
	d(TopicSegmentMs, TypeLong, "604800000", atLeast(1)),
	d(TopicSegmentJitterMs, TypeLong, "0", atLeast(0)),
	d(TopicSegmentIndexBytes, TypeInt, "10485760", atLeast(0)),
	d(TopicFlushMessages, TypeLong, "9223372036854775807", atLeast(0)),
	d(TopicFlushMs, TypeLong, "9223372036854775807", atLeast(0)),
	d(TopicRetentionBytes, TypeLong, "-1", nil),
	d(TopicRetentionMs, TypeLong, "604800000", atLeast(-1)),
	d(TopicMaxMessageBytes, TypeInt, "1048588", atLeast(0)),
	d(TopicIndexIntervalBytes, TypeInt, "4096", atLeast(0)),
	d(TopicDeleteRetentionMs, TypeLong, "86400000", atLeast(0)),
	d(TopicMinCompactionLagMs, TypeLong, "0", atLeast(0)),
	d(TopicMaxCompactionLagMs, TypeLong, "9223372036854775807", atLeast(1)),
	d(TopicFileDeleteDelayMs, TypeLong, "60000", atLeast(0)),
	d(TopicMinCleanableDirtyRatio, TypeDouble, "0.5", between(0, 1)),
	d(TopicCleanupPolicy, TypeList, "delete", validList("compact", "delete")),
	d(TopicUncleanLeaderElectionEnable, TypeBoolean, "false", nil),
	d(TopicMinInsyncReplicas, TypeInt, "1", atLeast(1)),
	d(TopicCompressionType, TypeString, "producer", validString(brokerCompressionTypes...)),
	d(TopicPreallocate, TypeBoolean, "false", nil),
	d(TopicMessageFormatVersion, TypeString, LatestAPIVersion, apiVersionValidator{}),
	d(TopicMessageTimestampType, TypeString, "CreateTime", validString("CreateTime", "LogAppendTime")),
	d(TopicMessageTimestampDiffMaxMs, TypeLong, "9223372036854775807", atLeast(0)),
	d(TopicLeaderReplicationThrottled, TypeList, "", throttledReplicaValidator{}),
	d(TopicFollowerReplicationThrottled, TypeList, "", throttledReplicaValidator{}),
	d(TopicMessageDownConversionEnable, TypeBoolean, "true", nil),
}

var topicDefIndex = indexDefs(topicDefs)

// topicSynonyms is LogConfig.TopicConfigSynonyms: each topic config and the broker config of highest priority
// that supplies its default.
var topicSynonyms = []struct{ topic, broker string }{
	{TopicSegmentBytes, LogSegmentBytes},
	{TopicSegmentMs, LogRollMs},
	{TopicSegmentJitterMs, LogRollJitterMs},
	{TopicSegmentIndexBytes, LogIndexSizeMaxBytes},
	{TopicFlushMessages, LogFlushIntervalMessages},
	{TopicFlushMs, LogFlushIntervalMs},
	{TopicRetentionBytes, LogRetentionBytes},
	{TopicRetentionMs, LogRetentionMs},
	{TopicMaxMessageBytes, MessageMaxBytes},
	{TopicIndexIntervalBytes, LogIndexIntervalBytes},
	{TopicDeleteRetentionMs, LogCleanerDeleteRetentionMs},
	{TopicMinCompactionLagMs, LogCleanerMinCompactionLagMs},
	{TopicMaxCompactionLagMs, LogCleanerMaxCompactionLagMs},
	{TopicFileDeleteDelayMs, LogSegmentDeleteDelayMs},
	{TopicMinCleanableDirtyRatio, LogCleanerMinCleanableRatio},
	{TopicCleanupPolicy, LogCleanupPolicy},
	{TopicUncleanLeaderElectionEnable, UncleanLeaderElectionEnable},
	{TopicMinInsyncReplicas, MinInsyncReplicas},
	{TopicCompressionType, CompressionType},
	{TopicPreallocate, LogPreallocate},
	{TopicMessageFormatVersion, LogMessageFormatVersion},
	{TopicMessageTimestampType, LogMessageTimestampType},
	{TopicMessageTimestampDiffMaxMs, LogMessageTimestampDiffMaxMs},
	{TopicMessageDownConversionEnable, LogMessageDownConversionEnable},
}

// TopicConfigSynonym returns the broker config that supplies a topic config's default (retention.ms ->
// log.retention.ms), as LogConfig.TopicConfigSynonyms does.
func TopicConfigSynonym(topicConfig string) (string, bool) {
	for _, s := range topicSynonyms {
		if s.topic == topicConfig {
			return s.broker, true
		}
	}
	return "", false
}

// TopicConfigNames lists every topic-level config name, sorted (LogConfig.configNames).
func TopicConfigNames() []string {
	out := make([]string, 0, len(topicDefs))
	for _, d := range topicDefs {
		out = append(out, d.name)
	}
	sort.Strings(out)
	return out
}

// TopicConfigType is the type of a topic config (TypeUnknown for an unknown name).
func TopicConfigType(name string) Type {
	if d, ok := topicDefIndex[name]; ok {
		return d.typ
	}
	return TypeUnknown
}

// InvalidConfigError is Kafka's InvalidConfigurationException / ConfigException for topic configs; it goes on the
// wire as INVALID_CONFIG with Message as the error message.
type InvalidConfigError struct {
	Key     string
	Message string
}

func (e *InvalidConfigError) Error() string { return e.Message }

// ErrorCode is Kafka's INVALID_CONFIG.
func (e *InvalidConfigError) ErrorCode() int16 { return 40 }

// ValidateTopicConfig checks topic-level overrides as LogConfig.validate does: every name known, every value
// parsable and in range, and min.compaction.lag.ms <= max.compaction.lag.ms.
func ValidateTopicConfig(cfg map[string]string) error {
	_, err := ParseTopicConfig(cfg)
	return err
}

// ParseTopicConfig validates topic overrides (ValidateTopicConfig) and returns every topic config's parsed value,
// overrides over Kafka's static defaults.
func ParseTopicConfig(cfg map[string]string) (map[string]any, error) {
	names := make([]string, 0, len(cfg))
	for k := range cfg {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, ok := topicDefIndex[k]; !ok {
			return nil, &InvalidConfigError{Key: k, Message: "Unknown topic config name: " + k}
		}
	}
	vals, err := parseDefs(topicDefs, cfg)
	if err != nil {
		ce := err.(*ConfigError)
		return nil, &InvalidConfigError{Key: ce.Key, Message: ce.Message}
	}
	minLag, maxLag := vals[TopicMinCompactionLagMs].(int64), vals[TopicMaxCompactionLagMs].(int64)
	if minLag > maxLag {
		return nil, &InvalidConfigError{Key: TopicMinCompactionLagMs, Message: fmt.Sprintf(
			"conflict topic config setting %s (%d) > %s (%d)", TopicMinCompactionLagMs, minLag,
			TopicMaxCompactionLagMs, maxLag)}
	}
	return vals, nil
}

// TopicDefaults maps the broker's log defaults to topic-level config names, as LogConfig.extractLogConfigMap does
// (retention.ms from log.retention.ms/minutes/hours, segment.ms from log.roll.ms/hours, flush.ms from
// log.flush.interval.ms or log.flush.scheduler.interval.ms, ...). The replication-throttle lists, which have no
// broker synonym, are included with their empty default so the map covers every topic config.
func (c *Config) TopicDefaults() map[string]string {
	str := func(name string) string { s, _ := convertToString(c.vals[name]); return s }
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	ver, _ := ParseAPIVersion(c.String(LogMessageFormatVersion))
	return map[string]string{
		TopicSegmentBytes:                 str(LogSegmentBytes),
		TopicSegmentMs:                    i64(c.LogRollMs),
		TopicSegmentJitterMs:              i64(c.LogRollJitterMs),
		TopicSegmentIndexBytes:            str(LogIndexSizeMaxBytes),
		TopicFlushMessages:                str(LogFlushIntervalMessages),
		TopicFlushMs:                      i64(c.LogFlushIntervalMs),
		TopicRetentionBytes:               str(LogRetentionBytes),
		TopicRetentionMs:                  i64(c.LogRetentionMs),
		TopicMaxMessageBytes:              str(MessageMaxBytes),
		TopicIndexIntervalBytes:           str(LogIndexIntervalBytes),
		TopicDeleteRetentionMs:            str(LogCleanerDeleteRetentionMs),
		TopicMinCompactionLagMs:           str(LogCleanerMinCompactionLagMs),
		TopicMaxCompactionLagMs:           str(LogCleanerMaxCompactionLagMs),
		TopicFileDeleteDelayMs:            str(LogSegmentDeleteDelayMs),
		TopicMinCleanableDirtyRatio:       str(LogCleanerMinCleanableRatio),
		TopicCleanupPolicy:                str(LogCleanupPolicy),
		TopicUncleanLeaderElectionEnable:  str(UncleanLeaderElectionEnable),
		TopicMinInsyncReplicas:            str(MinInsyncReplicas),
		TopicCompressionType:              str(CompressionType),
		TopicPreallocate:                  str(LogPreallocate),
		TopicMessageFormatVersion:         ver.Version,
		TopicMessageTimestampType:         str(LogMessageTimestampType),
		TopicMessageTimestampDiffMaxMs:    str(LogMessageTimestampDiffMaxMs),
		TopicMessageDownConversionEnable:  str(LogMessageDownConversionEnable),
		TopicLeaderReplicationThrottled:   "",
		TopicFollowerReplicationThrottled: "",
	}
}

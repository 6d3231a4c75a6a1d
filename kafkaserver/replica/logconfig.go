package replica

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/serverprops"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// LogConfig turns a full topic config (broker defaults with the topic's overrides applied, Kafka names and string
// values, as serverprops.Config.TopicDefaults gives) into the log's Config.
func LogConfig(values map[string]string) (klog.Config, error) {
	c := klog.DefaultConfig()
	var firstErr error
	i64 := func(name string, dst *int64) {
		v, ok := values[name]
		if !ok || v == "" {
			return
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("topic config %s=%q: %w", name, v, err)
			}
			return
		}
		*dst = n
	}
	i32 := func(name string, dst *int32) {
		var n int64 = int64(*dst)
		i64(name, &n)
		*dst = int32(n)
	}
	i64("segment.bytes", &c.SegmentBytes)
	i64("segment.ms", &c.SegmentMs)
	i64("segment.jitter.ms", &c.SegmentJitterMs)
	i32("index.interval.bytes", &c.IndexIntervalBytes)
	i32("segment.index.bytes", &c.MaxIndexSize)
	i64("retention.bytes", &c.RetentionBytes)
	i64("retention.ms", &c.RetentionMs)
	i64("flush.messages", &c.FlushMessages)
	i64("flush.ms", &c.FlushMs)
	i64("message.timestamp.difference.max.ms", &c.MessageTimestampDifferenceMaxMs)
	i32("max.message.bytes", &c.MaxMessageBytes)
	i32("min.insync.replicas", &c.MinInsyncReplicas)
	i64("delete.retention.ms", &c.DeleteRetentionMs)
	i64("min.compaction.lag.ms", &c.MinCompactionLagMs)
	i64("max.compaction.lag.ms", &c.MaxCompactionLagMs)
	if v := values["cleanup.policy"]; v != "" {
		c.CleanupPolicy = strings.ReplaceAll(v, " ", "")
	}
	if v := values["message.timestamp.type"]; v != "" {
		c.MessageTimestampType = v
	}
	c.DownConversionDisabled = strings.EqualFold(strings.TrimSpace(values["message.downconversion.enable"]), "false")
	if v := values["compression.type"]; v != "" {
		c.CompressionType = strings.TrimSpace(v)
	}
	if v := values["message.format.version"]; v != "" {
		ver, err := serverprops.ParseAPIVersion(strings.TrimSpace(v))
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("topic config message.format.version=%q: %w", v, err)
		}
		if err == nil {
			c.MessageFormat = klog.FormatForMagic(ver.RecordVersion)
		}
	}
	if v := values["preallocate"]; v != "" {
		c.PreallocateFiles = strings.EqualFold(v, "true")
	}
	if v := values["min.cleanable.dirty.ratio"]; v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("topic config min.cleanable.dirty.ratio=%q: %w", v, err)
		}
		if err == nil {
			c.MinCleanableDirtyRatio = f
		}
	}
	// The log treats zero as "default"; Kafka's zero means "nothing kept", which the smallest positive value gives.
	if c.RetentionBytes == 0 {
		c.RetentionBytes = 1
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = 1
	}
	if values["delete.retention.ms"] == "0" {
		c.DeleteRetentionMs = 1
	}
	if f, err := strconv.ParseFloat(values["min.cleanable.dirty.ratio"], 64); err == nil && f == 0 {
		c.MinCleanableDirtyRatio = 1e-9 // any dirty byte makes the log cleanable
	}
	return c, firstErr
}

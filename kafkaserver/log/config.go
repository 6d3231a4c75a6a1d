package log

import (
	"math"
	"strings"
)

// Config holds the topic-level log settings (Kafka's LogConfig), with Kafka 2.8's defaults from
// DefaultConfig. A zero field means the default (so retention.bytes=0 or retention.ms=0 must be
// given as 1).
type Config struct {
	SegmentBytes                    int64  // segment.bytes
	SegmentMs                       int64  // segment.ms
	SegmentJitterMs                 int64  // segment.jitter.ms
	IndexIntervalBytes              int32  // index.interval.bytes
	MaxIndexSize                    int32  // segment.index.bytes
	RetentionBytes                  int64  // retention.bytes (-1: unlimited)
	RetentionMs                     int64  // retention.ms (-1: unlimited)
	FlushMessages                   int64  // flush.messages
	FlushMs                         int64  // flush.ms
	CleanupPolicy                   string // cleanup.policy: delete, compact or compact,delete
	MessageTimestampType            string // message.timestamp.type: CreateTime or LogAppendTime
	MessageTimestampDifferenceMaxMs int64  // message.timestamp.difference.max.ms (<= 0: unlimited)
	MaxMessageBytes                 int32  // max.message.bytes
	PreallocateFiles                bool   // preallocate
	DeleteRetentionMs               int64  // delete.retention.ms: how long tombstones survive compaction
	MinCompactionLagMs              int64  // min.compaction.lag.ms
	MaxCompactionLagMs              int64  // max.compaction.lag.ms (<= 0: default, Long.MAX_VALUE)
	MinCleanableDirtyRatio          float64
	MinInsyncReplicas               int32 // min.insync.replicas: acks=all appends need this many in the ISR
	// MessageFormat is message.format.version reduced to the record format appends are stored in (Kafka's
	// LogConfig.messageFormatVersion.recordVersion); the zero value is the default, v2 record batches.
	MessageFormat MessageFormat
	// CompressionType is compression.type: "producer" (or empty) keeps the producer's codec, "uncompressed",
	// "gzip", "snappy", "lz4" or "zstd" store appends with that codec, rebuilding batches that differ.
	CompressionType string
	// DownConversionDisabled is message.downconversion.enable=false: a consumer's Fetch v0-v3 of records that need
	// down-conversion gets UNSUPPORTED_VERSION for the partition.
	DownConversionDisabled bool
}

// targetCodec is the codec appends are stored with when the producer sent source (Kafka's
// BrokerCompressionCodec.getTargetCompressionCodec).
func (c *Config) targetCodec(source int8) int8 {
	switch strings.ToLower(c.CompressionType) {
	case "uncompressed":
		return CodecNone
	case "gzip":
		return CodecGzip
	case "snappy":
		return CodecSnappy
	case "lz4":
		return CodecLZ4
	case "zstd":
		return CodecZstd
	}
	return source
}

// MessageFormat is the record format (magic) a log stores, from message.format.version. Its zero value means the
// default, FormatV2, so a Config filled in part keeps Kafka 2.8's default.
type MessageFormat int8

// The message formats of message.format.version: 0.8.x and 0.9.0 store magic 0 messages, 0.10.x magic 1
// messages, 0.11.0 and later v2 record batches.
const (
	FormatDefault MessageFormat = iota // v2 record batches
	FormatV0                           // magic 0 messages (0.8.0 - 0.9.0)
	FormatV1                           // magic 1 messages (0.10.0 - 0.10.2)
	FormatV2                           // v2 record batches (0.11.0 and later)
)

// FormatForMagic is the MessageFormat that stores magic m (0, 1 or 2).
func FormatForMagic(m int8) MessageFormat {
	switch m {
	case 0:
		return FormatV0
	case 1:
		return FormatV1
	}
	return FormatV2
}

// Magic is the record version appends are stored in: 0, 1 or 2.
func (f MessageFormat) Magic() int8 {
	switch f {
	case FormatV0:
		return 0
	case FormatV1:
		return 1
	}
	return 2
}

// RecordVersion is the magic the log stores new appends in (message.format.version's record version).
func (c *Config) RecordVersion() int8 { return c.MessageFormat.Magic() }

// DefaultConfig returns Kafka 2.8's defaults (KafkaConfig.Defaults / LogConfig).
func DefaultConfig() Config {
	return Config{
		SegmentBytes:                    1 << 30,
		SegmentMs:                       7 * 24 * 3600 * 1000,
		IndexIntervalBytes:              4096,
		MaxIndexSize:                    10 << 20,
		RetentionBytes:                  -1,
		RetentionMs:                     7 * 24 * 3600 * 1000,
		FlushMessages:                   math.MaxInt64,
		FlushMs:                         math.MaxInt64,
		CleanupPolicy:                   "delete",
		MessageTimestampType:            "CreateTime",
		MessageTimestampDifferenceMaxMs: math.MaxInt64,
		MaxMessageBytes:                 1048588,
		DeleteRetentionMs:               24 * 3600 * 1000,
		MaxCompactionLagMs:              math.MaxInt64,
		MinCleanableDirtyRatio:          0.5,
		MinInsyncReplicas:               1,
	}
}

// normalized fills zero values with defaults so a partially filled Config still works.
func (c Config) normalized() Config {
	d := DefaultConfig()
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = d.SegmentBytes
	}
	if c.SegmentMs <= 0 {
		c.SegmentMs = d.SegmentMs
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = d.IndexIntervalBytes
	}
	if c.MaxIndexSize <= 0 {
		c.MaxIndexSize = d.MaxIndexSize
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = d.RetentionBytes
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = d.RetentionMs
	}
	if c.FlushMessages <= 0 {
		c.FlushMessages = d.FlushMessages
	}
	if c.FlushMs <= 0 {
		c.FlushMs = d.FlushMs
	}
	if c.MinInsyncReplicas <= 0 {
		c.MinInsyncReplicas = d.MinInsyncReplicas
	}
	if c.CleanupPolicy == "" {
		c.CleanupPolicy = d.CleanupPolicy
	}
	if c.MessageTimestampType == "" {
		c.MessageTimestampType = d.MessageTimestampType
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.DeleteRetentionMs <= 0 {
		c.DeleteRetentionMs = d.DeleteRetentionMs
	}
	if c.MaxCompactionLagMs <= 0 {
		c.MaxCompactionLagMs = d.MaxCompactionLagMs
	}
	if c.MinCleanableDirtyRatio <= 0 {
		c.MinCleanableDirtyRatio = d.MinCleanableDirtyRatio
	}
	return c
}

func (c Config) hasPolicy(p string) bool {
	for _, s := range strings.Split(c.CleanupPolicy, ",") {
		if strings.TrimSpace(s) == p {
			return true
		}
	}
	return false
}

func (c *Config) isCompacted() bool { return c.hasPolicy("compact") }
func (c *Config) isDelete() bool    { return c.hasPolicy("delete") }

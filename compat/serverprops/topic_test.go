package serverprops

import (
	"errors"
	"reflect"
	"testing"
)

func TestTopicDefaults(t *testing.T) {
	want := map[string]string{
		"segment.bytes":                           "1073741824",
		"segment.ms":                              "604800000",
		"segment.jitter.ms":                       "0",
		"segment.index.bytes":                     "10485760",
		"flush.messages":                          "9223372036854775807",
		"flush.ms":                                "9223372036854775807",
		"retention.bytes":                         "-1",
		"retention.ms":                            "604800000",
		"max.message.bytes":                       "1048588",
		"index.interval.bytes":                    "4096",
		"delete.retention.ms":                     "86400000",
		"min.compaction.lag.ms":                   "0",
		"max.compaction.lag.ms":                   "9223372036854775807",
		"file.delete.delay.ms":                    "60000",
		"min.cleanable.dirty.ratio":               "0.5",
		"cleanup.policy":                          "delete",
		"unclean.leader.election.enable":          "false",
		"min.insync.replicas":                     "1",
		"compression.type":                        "producer",
		"preallocate":                             "false",
		"message.format.version":                  "2.8-IV1",
		"message.timestamp.type":                  "CreateTime",
		"message.timestamp.difference.max.ms":     "9223372036854775807",
		"message.downconversion.enable":           "true",
		"leader.replication.throttled.replicas":   "",
		"follower.replication.throttled.replicas": "",
	}
	got := load(t, map[string]string{}).TopicDefaults()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TopicDefaults =\n%v\nwant\n%v", got, want)
	}
	// Every topic config is covered, and Kafka's static topic defaults equal a default broker's.
	if len(got) != len(topicDefs) {
		t.Errorf("%d defaults for %d topic configs", len(got), len(topicDefs))
	}
	for _, d := range topicDefs {
		if got[d.name] != *d.dflt {
			t.Errorf("%s: broker default %q, LogConfig default %q", d.name, got[d.name], *d.dflt)
		}
	}

	c := load(t, map[string]string{LogRetentionMinutes: "10", LogRollHours: "1", LogCleanupPolicy: "compact, delete",
		LogFlushSchedulerIntervalMs: "2000", MessageMaxBytes: "2000000", LogMessageFormatVersion: "2.1",
		CompressionType: "LZ4", LogCleanerMinCleanableRatio: "0.25", LogRetentionBytes: "1000"})
	got = c.TopicDefaults()
	for k, w := range map[string]string{"retention.ms": "600000", "segment.ms": "3600000",
		"cleanup.policy": "compact,delete", "flush.ms": "2000", "max.message.bytes": "2000000",
		"message.format.version": "2.1-IV2", "compression.type": "LZ4", "min.cleanable.dirty.ratio": "0.25",
		"retention.bytes": "1000"} {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
	if b, ok := TopicConfigSynonym("retention.ms"); !ok || b != "log.retention.ms" {
		t.Errorf("TopicConfigSynonym(retention.ms) = %q %v", b, ok)
	}
	if _, ok := TopicConfigSynonym("leader.replication.throttled.replicas"); ok {
		t.Errorf("throttled replicas have no broker synonym")
	}
}

func TestValidateTopicConfig(t *testing.T) {
	for _, ok := range []map[string]string{
		nil,
		{"cleanup.policy": "compact,delete"},
		{"cleanup.policy": "compact, delete", "retention.ms": "-1", "retention.bytes": "-5"},
		{"min.cleanable.dirty.ratio": "1", "segment.bytes": "14", "message.format.version": "0.10.0"},
		{"leader.replication.throttled.replicas": "*", "follower.replication.throttled.replicas": "0:1, 1:2"},
		{"compression.type": "zstd", "message.timestamp.type": "LogAppendTime", "preallocate": "TRUE"},
		{"min.compaction.lag.ms": "100", "max.compaction.lag.ms": "100"},
		{"cleanup.policy": ""},
	} {
		if err := ValidateTopicConfig(ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	for _, tc := range []struct {
		cfg map[string]string
		key string
		msg string
	}{
		{map[string]string{"retention.dayz": "1"}, "retention.dayz", "Unknown topic config name: retention.dayz"},
		{map[string]string{"log.retention.ms": "1"}, "log.retention.ms", "Unknown topic config name: log.retention.ms"},
		{map[string]string{"retention.ms": "1d"}, "retention.ms",
			"Invalid value 1d for configuration retention.ms: Not a number of type LONG"},
		{map[string]string{"retention.ms": "-2"}, "retention.ms",
			"Invalid value -2 for configuration retention.ms: Value must be at least -1"},
		{map[string]string{"segment.bytes": "13"}, "segment.bytes",
			"Invalid value 13 for configuration segment.bytes: Value must be at least 14"},
		{map[string]string{"min.insync.replicas": "0"}, "min.insync.replicas",
			"Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"},
		{map[string]string{"min.cleanable.dirty.ratio": "1.5"}, "min.cleanable.dirty.ratio",
			"Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"},
		{map[string]string{"cleanup.policy": "compact,remove"}, "cleanup.policy",
			"Invalid value remove for configuration cleanup.policy: String must be one of: compact, delete"},
		{map[string]string{"compression.type": "GZIP"}, "compression.type",
			"Invalid value GZIP for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{map[string]string{"unclean.leader.election.enable": "1"}, "unclean.leader.election.enable",
			"Invalid value 1 for configuration unclean.leader.election.enable: Expected value to be either true or false"},
		{map[string]string{"message.format.version": "4.0"}, "message.format.version",
			"Invalid value 4.0 for configuration message.format.version: Version `4.0` is not a valid version"},
		{map[string]string{"leader.replication.throttled.replicas": "0-1"}, "leader.replication.throttled.replicas",
			"Invalid value [0-1] for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."},
		{map[string]string{"max.compaction.lag.ms": "0"}, "max.compaction.lag.ms",
			"Invalid value 0 for configuration max.compaction.lag.ms: Value must be at least 1"},
		{map[string]string{"min.compaction.lag.ms": "200", "max.compaction.lag.ms": "100"}, "min.compaction.lag.ms",
			"conflict topic config setting min.compaction.lag.ms (200) > max.compaction.lag.ms (100)"},
		{map[string]string{"max.message.bytes": "-1"}, "max.message.bytes",
			"Invalid value -1 for configuration max.message.bytes: Value must be at least 0"},
	} {
		err := ValidateTopicConfig(tc.cfg)
		var ie *InvalidConfigError
		if !errors.As(err, &ie) {
			t.Errorf("%v: error %v, want InvalidConfigError", tc.cfg, err)
			continue
		}
		if ie.Key != tc.key || ie.Message != tc.msg || ie.ErrorCode() != 40 {
			t.Errorf("%v:\n got %q %q\nwant %q %q", tc.cfg, ie.Key, ie.Message, tc.key, tc.msg)
		}
	}
	vals, err := ParseTopicConfig(map[string]string{"retention.ms": " 1000 ", "cleanup.policy": "compact"})
	if err != nil || vals["retention.ms"] != int64(1000) || !reflect.DeepEqual(vals["cleanup.policy"], []string{"compact"}) ||
		vals["segment.bytes"] != int32(1<<30) {
		t.Errorf("ParseTopicConfig = %v, %v", vals, err)
	}
	if TopicConfigType("retention.ms") != TypeLong || TopicConfigType("nope") != TypeUnknown {
		t.Errorf("TopicConfigType")
	}
	if n := TopicConfigNames(); len(n) != 26 || n[0] != "cleanup.policy" {
		t.Errorf("TopicConfigNames = %q", n)
	}
}

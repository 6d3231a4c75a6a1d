package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The request meters count as Kafka's ReplicaManager and KafkaApis do: every partition in the totals, bytes and
// messages only of successful appends, only unexpected errors as failed, a follower's bytes as replication bytes of
// all topics; a deleted topic's meters go while the all-topics ones keep their counts; partitions of unknown topics
// are not counted and add no series.
func TestTopicStats(t *testing.T) {
	s := NewTopicStats()
	s.Produced("a", OK, 100, 3)
	s.Produced("a", Refused, 50, 0) // e.g. not the leader
	s.Produced("b", Failed, 70, 0)
	s.FetchRead("a", OK)
	s.FetchRead("a", Refused)
	s.FetchRead("b", Failed)
	s.BytesOut("a", false, 40)
	s.BytesOut("a", true, 90)
	s.ReplicationIn(25)
	s.Converted("a", false, 3)
	s.Converted("a", true, 4)
	s.Converted("a", true, 0)
	s.RemoveTopic("b")
	s.Produced("made-up", Unknown, 10, 0)
	s.FetchRead("made-up", Unknown)

	const want = `
# HELP kafka_server_brokertopicmetrics_bytesin_total Record bytes of produce requests appended.
# TYPE kafka_server_brokertopicmetrics_bytesin_total counter
kafka_server_brokertopicmetrics_bytesin_total{topic=""} 100
kafka_server_brokertopicmetrics_bytesin_total{topic="a"} 100
# HELP kafka_server_brokertopicmetrics_bytesout_total Record bytes sent to consumers.
# TYPE kafka_server_brokertopicmetrics_bytesout_total counter
kafka_server_brokertopicmetrics_bytesout_total{topic=""} 40
kafka_server_brokertopicmetrics_bytesout_total{topic="a"} 40
# HELP kafka_server_brokertopicmetrics_failedfetchrequests_total Partitions of fetch requests that failed.
# TYPE kafka_server_brokertopicmetrics_failedfetchrequests_total counter
kafka_server_brokertopicmetrics_failedfetchrequests_total{topic=""} 1
kafka_server_brokertopicmetrics_failedfetchrequests_total{topic="a"} 0
# HELP kafka_server_brokertopicmetrics_failedproducerequests_total Partitions of produce requests that failed.
# TYPE kafka_server_brokertopicmetrics_failedproducerequests_total counter
kafka_server_brokertopicmetrics_failedproducerequests_total{topic=""} 1
kafka_server_brokertopicmetrics_failedproducerequests_total{topic="a"} 0
# HELP kafka_server_brokertopicmetrics_messagesin_total Messages appended from produce requests.
# TYPE kafka_server_brokertopicmetrics_messagesin_total counter
kafka_server_brokertopicmetrics_messagesin_total{topic=""} 3
kafka_server_brokertopicmetrics_messagesin_total{topic="a"} 3
# HELP kafka_server_brokertopicmetrics_replicationbytesin_total Record bytes a follower appended from its leaders.
# TYPE kafka_server_brokertopicmetrics_replicationbytesin_total counter
kafka_server_brokertopicmetrics_replicationbytesin_total 25
# HELP kafka_server_brokertopicmetrics_replicationbytesout_total Record bytes a leader sent its followers.
# TYPE kafka_server_brokertopicmetrics_replicationbytesout_total counter
kafka_server_brokertopicmetrics_replicationbytesout_total 90
# HELP kafka_server_brokertopicmetrics_totalfetchrequests_total Partitions of fetch requests, consumers' and followers'.
# TYPE kafka_server_brokertopicmetrics_totalfetchrequests_total counter
kafka_server_brokertopicmetrics_totalfetchrequests_total{topic=""} 3
kafka_server_brokertopicmetrics_totalfetchrequests_total{topic="a"} 2
# HELP kafka_server_brokertopicmetrics_producemessageconversions_total Records of produce requests converted to the log's format or codec.
# TYPE kafka_server_brokertopicmetrics_producemessageconversions_total counter
kafka_server_brokertopicmetrics_producemessageconversions_total{topic=""} 3
kafka_server_brokertopicmetrics_producemessageconversions_total{topic="a"} 3
# HELP kafka_server_brokertopicmetrics_fetchmessageconversions_total Records down-converted for old fetchers.
# TYPE kafka_server_brokertopicmetrics_fetchmessageconversions_total counter
kafka_server_brokertopicmetrics_fetchmessageconversions_total{topic=""} 4
kafka_server_brokertopicmetrics_fetchmessageconversions_total{topic="a"} 4
# HELP kafka_server_brokertopicmetrics_totalproducerequests_total Partitions of produce requests.
# TYPE kafka_server_brokertopicmetrics_totalproducerequests_total counter
kafka_server_brokertopicmetrics_totalproducerequests_total{topic=""} 3
kafka_server_brokertopicmetrics_totalproducerequests_total{topic="a"} 2
`
	if err := testutil.CollectAndCompare(s, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// Each source is read once per scrape and its gauges reported as read; a missing source reports nothing.
func TestSources(t *testing.T) {
	reads := 0
	src := Sources{
		Replicas: func() Replicas {
			reads++
			return Replicas{PartitionCount: 4, LeaderCount: 2, UnderReplicatedPartitions: 1, UnderMinIsrPartitionCount: 1, IsrShrinks: 3, IsrExpands: 2}
		},
		Quotas: func() Quotas { return Quotas{LeaderReplicationByteRate: 1.5} },
	}
	const want = `
# HELP kafka_server_leaderreplication_byte_rate Throttled replication bytes per second sent as leader.
# TYPE kafka_server_leaderreplication_byte_rate gauge
kafka_server_leaderreplication_byte_rate 1.5
# HELP kafka_server_followerreplication_byte_rate Throttled replication bytes per second fetched as follower.
# TYPE kafka_server_followerreplication_byte_rate gauge
kafka_server_followerreplication_byte_rate 0
# HELP kafka_server_replicamanager_isrshrinks_total ISR shrinks of partitions led here.
# TYPE kafka_server_replicamanager_isrshrinks_total counter
kafka_server_replicamanager_isrshrinks_total 3
# HELP kafka_server_replicamanager_underreplicatedpartitions Partitions led here whose ISR lacks a replica.
# TYPE kafka_server_replicamanager_underreplicatedpartitions gauge
kafka_server_replicamanager_underreplicatedpartitions 1
# HELP kafka_server_replicamanager_partitioncount Partitions this broker hosts.
# TYPE kafka_server_replicamanager_partitioncount gauge
kafka_server_replicamanager_partitioncount 4
`
	if err := testutil.CollectAndCompare(src, strings.NewReader(want), "kafka_server_leaderreplication_byte_rate",
		"kafka_server_followerreplication_byte_rate", "kafka_server_replicamanager_isrshrinks_total",
		"kafka_server_replicamanager_underreplicatedpartitions", "kafka_server_replicamanager_partitioncount",
		"kafka_controller_kafkacontroller_activecontrollercount"); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Fatalf("replicas read %d times in one scrape", reads)
	}
	if n := testutil.CollectAndCount(src, "kafka_controller_kafkacontroller_activecontrollercount"); n != 0 {
		t.Fatalf("%d controller gauges without a controller source", n)
	}
}

// The log gauges under the JMX exporter's names: each log's with its topic and partition, LogManager's per log dir
// and in all, and the cleaner's computed as Kafka 2.8 computes them (maxima over the threads' last cleanings,
// truncated where Kafka makes them Ints: the buffer utilization before it is scaled to percent).
func TestLogSources(t *testing.T) {
	src := Sources{
		Logs: func() []Log {
			return []Log{{Topic: "a", Partition: 3, Size: 4096, NumLogSegments: 2, LogStartOffset: 10, LogEndOffset: 99}}
		},
		LogDirs: func() []LogDir { return []LogDir{{Path: "/d1"}, {Path: "/d2"}} },
		Cleaner: func() Cleaner {
			return Cleaner{
				Threads: []CleanerThread{
					{BytesRead: 1000, BytesWritten: 333, BufferUtilization: 0.9, CleanTimeMs: 2500, MaxCompactionDelayMs: 4999},
					{BytesRead: 500, BytesWritten: 500, BufferUtilization: 0.2, CleanTimeMs: 900, MaxCompactionDelayMs: 100},
				},
				MaxDirtyRatio: 0.756, TimeSinceLastRunMs: 1234, IoBytes: 4321,
				Dirs: []CleanerDir{{Path: "/d1", UncleanablePartitions: 2, UncleanableBytes: 777}, {Path: "/d2"}},
			}
		},
	}
	const want = `
# HELP kafka_log_log_size Bytes of a partition log's segments.
# TYPE kafka_log_log_size gauge
kafka_log_log_size{partition="3",topic="a"} 4096
# HELP kafka_log_log_numlogsegments Segments of a partition log.
# TYPE kafka_log_log_numlogsegments gauge
kafka_log_log_numlogsegments{partition="3",topic="a"} 2
# HELP kafka_log_log_logstartoffset First offset of a partition log.
# TYPE kafka_log_log_logstartoffset gauge
kafka_log_log_logstartoffset{partition="3",topic="a"} 10
# HELP kafka_log_log_logendoffset Offset the next record of a partition log gets.
# TYPE kafka_log_log_logendoffset gauge
kafka_log_log_logendoffset{partition="3",topic="a"} 99
# HELP kafka_log_logmanager_offlinelogdirectorycount Log dirs offline.
# TYPE kafka_log_logmanager_offlinelogdirectorycount gauge
kafka_log_logmanager_offlinelogdirectorycount 0
# HELP kafka_log_logmanager_logdirectoryoffline 1 when the log dir is offline, else 0.
# TYPE kafka_log_logmanager_logdirectoryoffline gauge
kafka_log_logmanager_logdirectoryoffline{logDirectory="/d1"} 0
kafka_log_logmanager_logdirectoryoffline{logDirectory="/d2"} 0
# HELP kafka_log_logcleaner_max_buffer_utilization_percent Largest share of the offset map used by the threads' last cleanings, made 0 or 1 before scaling to percent, as Kafka 2.8 does.
# TYPE kafka_log_logcleaner_max_buffer_utilization_percent gauge
kafka_log_logcleaner_max_buffer_utilization_percent 0
# HELP kafka_log_logcleaner_cleaner_recopy_percent Bytes written over bytes read by the threads' last cleanings, in percent.
# TYPE kafka_log_logcleaner_cleaner_recopy_percent gauge
kafka_log_logcleaner_cleaner_recopy_percent 55
# HELP kafka_log_logcleaner_max_clean_time_secs Longest of the threads' last cleanings, in whole seconds.
# TYPE kafka_log_logcleaner_max_clean_time_secs gauge
kafka_log_logcleaner_max_clean_time_secs 2
# HELP kafka_log_logcleaner_max_compaction_delay_secs Longest time a log had been due for cleaning by max.compaction.lag.ms at the threads' last choices, in whole seconds.
# TYPE kafka_log_logcleaner_max_compaction_delay_secs gauge
kafka_log_logcleaner_max_compaction_delay_secs 4
# HELP kafka_log_logcleaner_deadthreadcount Cleaner threads that died.
# TYPE kafka_log_logcleaner_deadthreadcount gauge
kafka_log_logcleaner_deadthreadcount 0
# HELP kafka_log_logcleanermanager_max_dirty_percent Cleanable share of the dirtiest compacted log at the last look for a log to clean, in percent.
# TYPE kafka_log_logcleanermanager_max_dirty_percent gauge
kafka_log_logcleanermanager_max_dirty_percent 75
# HELP kafka_log_logcleanermanager_time_since_last_run_ms Time since the cleaner last looked for a log to clean, in ms.
# TYPE kafka_log_logcleanermanager_time_since_last_run_ms gauge
kafka_log_logcleanermanager_time_since_last_run_ms 1234
# HELP kafka_utils_throttler_cleaner_io_total Bytes the log cleaner read and wrote (its throttler's meter).
# TYPE kafka_utils_throttler_cleaner_io_total counter
kafka_utils_throttler_cleaner_io_total 4321
# HELP kafka_log_logcleanermanager_uncleanable_partitions_count Partitions of the log dir whose cleaning failed.
# TYPE kafka_log_logcleanermanager_uncleanable_partitions_count gauge
kafka_log_logcleanermanager_uncleanable_partitions_count{logDirectory="/d1"} 2
kafka_log_logcleanermanager_uncleanable_partitions_count{logDirectory="/d2"} 0
# HELP kafka_log_logcleanermanager_uncleanable_bytes Cleanable bytes of the log dir's partitions whose cleaning failed.
# TYPE kafka_log_logcleanermanager_uncleanable_bytes gauge
kafka_log_logcleanermanager_uncleanable_bytes{logDirectory="/d1"} 777
kafka_log_logcleanermanager_uncleanable_bytes{logDirectory="/d2"} 0
`
	if err := testutil.CollectAndCompare(src, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	// A full offset map is the one utilization Kafka 2.8 reports as other than 0.
	full := Sources{Cleaner: func() Cleaner { return Cleaner{Threads: []CleanerThread{{BufferUtilization: 1}}} }}
	const wantFull = `
# HELP kafka_log_logcleaner_max_buffer_utilization_percent Largest share of the offset map used by the threads' last cleanings, made 0 or 1 before scaling to percent, as Kafka 2.8 does.
# TYPE kafka_log_logcleaner_max_buffer_utilization_percent gauge
kafka_log_logcleaner_max_buffer_utilization_percent 100
`
	if err := testutil.CollectAndCompare(full, strings.NewReader(wantFull), "kafka_log_logcleaner_max_buffer_utilization_percent"); err != nil {
		t.Fatal(err)
	}
	// Without a cleaner (log.cleaner.enable=false) there are no cleaner gauges.
	if n := testutil.CollectAndCount(Sources{LogDirs: src.LogDirs}, "kafka_log_logcleaner_deadthreadcount",
		"kafka_log_logcleanermanager_time_since_last_run_ms", "kafka_log_logcleanermanager_uncleanable_bytes",
		"kafka_utils_throttler_cleaner_io_total"); n != 0 {
		t.Fatalf("%d cleaner gauges without a cleaner", n)
	}
}

// TestFutureLogs checks that a future log's gauges come with is_future="true" next to its current log's, in the
// same metric families, when both collectors are in one registry (as the broker registers them).
func TestFutureLogs(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Sources{Logs: func() []Log {
		return []Log{{Topic: "a", Partition: 3, Size: 4096, NumLogSegments: 2, LogStartOffset: 10, LogEndOffset: 99}}
	}})
	reg.MustRegister(FutureLogs(func() []Log {
		return []Log{{Topic: "a", Partition: 3, Size: 1024, NumLogSegments: 1, LogStartOffset: 10, LogEndOffset: 40}}
	}))
	const want = `
# HELP kafka_log_log_size Bytes of a partition log's segments.
# TYPE kafka_log_log_size gauge
kafka_log_log_size{partition="3",topic="a"} 4096
kafka_log_log_size{is_future="true",partition="3",topic="a"} 1024
# HELP kafka_log_log_numlogsegments Segments of a partition log.
# TYPE kafka_log_log_numlogsegments gauge
kafka_log_log_numlogsegments{partition="3",topic="a"} 2
kafka_log_log_numlogsegments{is_future="true",partition="3",topic="a"} 1
# HELP kafka_log_log_logstartoffset First offset of a partition log.
# TYPE kafka_log_log_logstartoffset gauge
kafka_log_log_logstartoffset{partition="3",topic="a"} 10
kafka_log_log_logstartoffset{is_future="true",partition="3",topic="a"} 10
# HELP kafka_log_log_logendoffset Offset the next record of a partition log gets.
# TYPE kafka_log_log_logendoffset gauge
kafka_log_log_logendoffset{partition="3",topic="a"} 99
kafka_log_log_logendoffset{is_future="true",partition="3",topic="a"} 40
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kafka_log_log_size", "kafka_log_log_numlogsegments",
		"kafka_log_log_logstartoffset", "kafka_log_log_logendoffset"); err != nil {
		t.Fatal(err)
	}
}

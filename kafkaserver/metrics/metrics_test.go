package metrics

import (
	"strings"
	"testing"

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

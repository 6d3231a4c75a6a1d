package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zkafka/zkafka/kafkaserver/connquota"
)

// Replicas are ReplicaManager's gauges and ISR change meters.
type Replicas struct {
	PartitionCount            int // partitions hosted, as leader or follower
	LeaderCount               int
	UnderReplicatedPartitions int // led here, with an ISR smaller than the replica set
	UnderMinIsrPartitionCount int // led here, with an ISR below min.insync.replicas
	AtMinIsrPartitionCount    int // led here, with an ISR of exactly min.insync.replicas
	IsrShrinks, IsrExpands    int64
}

// Controller are KafkaController's gauges; all zero on a broker that is not the controller, as in Kafka.
type Controller struct {
	ActiveControllerCount  int
	OfflinePartitionsCount int // partitions without a live leader, outside topics being deleted
	GlobalTopicCount       int
	GlobalPartitionCount   int
	TopicsToDeleteCount    int
	// PreferredReplicaImbalanceCount counts partitions not led by their preferred (first) replica.
	PreferredReplicaImbalanceCount int
}

// Quotas are the replication quotas' measured rates (ReplicationQuotaManager's byte-rate), bytes per second, and
// the request quota's exempt-request-time (the time of requests no request quota applies to, in percent of a
// thread).
type Quotas struct {
	LeaderReplicationByteRate, FollowerReplicationByteRate float64
	RequestExemptTime                                      float64
}

// Sources reads the broker's state at each scrape; a nil source reports nothing.
type Sources struct {
	Replicas   func() Replicas
	Controller func() Controller
	Quotas     func() Quotas
	// ClientQuotas lists the live client quota sensors.
	ClientQuotas func() []ClientQuota
	// Logs lists the partition logs; a deleted one is gone from the list and so are its series.
	Logs    func() []Log
	LogDirs func() []LogDir
	// Cleaner is nil without a log cleaner (log.cleaner.enable=false), which has no gauges in Kafka either.
	Cleaner func() Cleaner
	// LogFlushes are the segment flushes of every log (LogFlushStats).
	LogFlushes func() Timer
	// ConnectionQuotas are the listeners' connection rate sensors.
	ConnectionQuotas func() connquota.Stats
}

// field is one metric read from a source's value of type T.
type field[T any] struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	get  func(*T) float64
}

func gauge[T any](name, help string, get func(*T) float64) field[T] {
	return field[T]{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, get}
}

func counter[T any](name, help string, get func(*T) float64) field[T] {
	return field[T]{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, get}
}

var (
	replicaFields = []field[Replicas]{
		gauge("kafka_server_replicamanager_partitioncount", "Partitions this broker hosts.",
			func(r *Replicas) float64 { return float64(r.PartitionCount) }),
		gauge("kafka_server_replicamanager_leadercount", "Partitions this broker leads.",
			func(r *Replicas) float64 { return float64(r.LeaderCount) }),
		gauge("kafka_server_replicamanager_underreplicatedpartitions", "Partitions led here whose ISR lacks a replica.",
			func(r *Replicas) float64 { return float64(r.UnderReplicatedPartitions) }),
		gauge("kafka_server_replicamanager_underminisrpartitioncount", "Partitions led here whose ISR is below min.insync.replicas.",
			func(r *Replicas) float64 { return float64(r.UnderMinIsrPartitionCount) }),
		gauge("kafka_server_replicamanager_atminisrpartitioncount", "Partitions led here whose ISR is at min.insync.replicas.",
			func(r *Replicas) float64 { return float64(r.AtMinIsrPartitionCount) }),
		counter("kafka_server_replicamanager_isrshrinks_total", "ISR shrinks of partitions led here.",
			func(r *Replicas) float64 { return float64(r.IsrShrinks) }),
		counter("kafka_server_replicamanager_isrexpands_total", "ISR expansions of partitions led here.",
			func(r *Replicas) float64 { return float64(r.IsrExpands) }),
	}
	controllerFields = []field[Controller]{
		gauge("kafka_controller_kafkacontroller_activecontrollercount", "1 on the controller, 0 elsewhere.",
			func(c *Controller) float64 { return float64(c.ActiveControllerCount) }),
		gauge("kafka_controller_kafkacontroller_offlinepartitionscount", "Partitions without a live leader.",
			func(c *Controller) float64 { return float64(c.OfflinePartitionsCount) }),
		gauge("kafka_controller_kafkacontroller_preferredreplicaimbalancecount", "Partitions not led by their preferred replica.",
			func(c *Controller) float64 { return float64(c.PreferredReplicaImbalanceCount) }),
		gauge("kafka_controller_kafkacontroller_globaltopiccount", "Topics in the cluster.",
			func(c *Controller) float64 { return float64(c.GlobalTopicCount) }),
		gauge("kafka_controller_kafkacontroller_globalpartitioncount", "Partitions in the cluster.",
			func(c *Controller) float64 { return float64(c.GlobalPartitionCount) }),
		gauge("kafka_controller_kafkacontroller_topicstodeletecount", "Topics queued for deletion.",
			func(c *Controller) float64 { return float64(c.TopicsToDeleteCount) }),
	}
	quotaFields = []field[Quotas]{
		gauge("kafka_server_leaderreplication_byte_rate", "Throttled replication bytes per second sent as leader.",
			func(q *Quotas) float64 { return q.LeaderReplicationByteRate }),
		gauge("kafka_server_followerreplication_byte_rate", "Throttled replication bytes per second fetched as follower.",
			func(q *Quotas) float64 { return q.FollowerReplicationByteRate }),
		gauge("kafka_server_request_exempt_request_time", "Time of requests exempt from the request quota, in percent of a thread.",
			func(q *Quotas) float64 { return q.RequestExemptTime }),
	}
)

func describe[T any](ch chan<- *prometheus.Desc, fs []field[T]) {
	for _, f := range fs {
		ch <- f.desc
	}
}

// collect reads the source once (nothing if it is nil) and reports every field of what it read.
func collect[T any](ch chan<- prometheus.Metric, read func() T, fs []field[T]) {
	if read == nil {
		return
	}
	v := read()
	for _, f := range fs {
		ch <- prometheus.MustNewConstMetric(f.desc, f.kind, f.get(&v))
	}
}

// Describe implements prometheus.Collector.
func (s Sources) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, replicaFields)
	describe(ch, controllerFields)
	describe(ch, quotaFields)
	describeClientQuotas(ch)
	describeLogs(ch)
	describeConnQuotas(ch)
}

// Collect implements prometheus.Collector: each source is read once per scrape.
func (s Sources) Collect(ch chan<- prometheus.Metric) {
	collect(ch, s.Replicas, replicaFields)
	collect(ch, s.Controller, controllerFields)
	collect(ch, s.Quotas, quotaFields)
	collectClientQuotas(ch, s.ClientQuotas)
	collectLogs(ch, s.Logs)
	collectLogDirs(ch, s.LogDirs)
	collectCleaner(ch, s.Cleaner)
	collectLogFlushes(ch, s.LogFlushes)
	collectConnQuotas(ch, s.ConnectionQuotas)
}

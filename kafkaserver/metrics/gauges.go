package metrics

import "github.com/prometheus/client_golang/prometheus"

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

// Quotas are the replication quotas' measured rates (ReplicationQuotaManager's byte-rate), bytes per second.
type Quotas struct {
	LeaderReplicationByteRate, FollowerReplicationByteRate float64
}

// Sources reads the broker's state at each scrape; a nil source reports nothing.
type Sources struct {
	Replicas   func() Replicas
	Controller func() Controller
	Quotas     func() Quotas
}

type gauge struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(r *Replicas, c *Controller, q *Quotas) float64
}

func newGauge(name, help string, kind prometheus.ValueType, value func(*Replicas, *Controller, *Quotas) float64) gauge {
	return gauge{prometheus.NewDesc(name, help, nil, nil), kind, value}
}

var (
	replicaGauges = []gauge{
		newGauge("kafka_server_replicamanager_partitioncount", "Partitions this broker hosts.", prometheus.GaugeValue,
			func(r *Replicas, _ *Controller, _ *Quotas) float64 { return float64(r.PartitionCount) }),
		newGauge("kafka_server_replicamanager_leadercount", "Partitions this broker leads.", prometheus.GaugeValue,
			func(r *Replicas, _ *Controller, _ *Quotas) float64 { return float64(r.LeaderCount) }),
		newGauge("kafka_server_replicamanager_underreplicatedpartitions", "Partitions led here whose ISR lacks a replica.", prometheus.GaugeValue,
			func(r *Replicas, _ *Controller, _ *Quotas) float64 { return float64(r.UnderReplicatedPartitions) }),
		newGauge("kafka_server_replicamanager_underminisrpartitioncount", "Partitions led here whose ISR is below min.insync.replicas.", prometheus.GaugeValue,
			func(r *Replicas, _ *Controller, _ *Quotas) float64 { return float64(r.UnderMinIsrPartitionCount) }),
		newGauge("kafka_server_replicamanager_atminisrpartitioncount", "Partitions led here whose ISR is at min.insync.replicas.", prometheus.GaugeValue,
			func(r *Replicas, _ *Controller, _ *Quotas) float64 { return float64(r.AtMinIsrPartitionCount) }),
		newGauge("kafka_server_replicamanager_isrshrinks_total", "ISR shrinks of partitions led here.", prometheus.CounterValue,
			func(r *Replicas, _ *Controller, _ *Quotas) float64 { return float64(r.IsrShrinks) }),
		newGauge("kafka_server_replicamanager_isrexpands_total", "ISR expansions of partitions led here.", prometheus.CounterValue,
			func(r *Replicas, _ *Controller, _ *Quotas) float64 { return float64(r.IsrExpands) }),
	}
	controllerGauges = []gauge{
		newGauge("kafka_controller_kafkacontroller_activecontrollercount", "1 on the controller, 0 elsewhere.", prometheus.GaugeValue,
			func(_ *Replicas, c *Controller, _ *Quotas) float64 { return float64(c.ActiveControllerCount) }),
		newGauge("kafka_controller_kafkacontroller_offlinepartitionscount", "Partitions without a live leader.", prometheus.GaugeValue,
			func(_ *Replicas, c *Controller, _ *Quotas) float64 { return float64(c.OfflinePartitionsCount) }),
		newGauge("kafka_controller_kafkacontroller_globaltopiccount", "Topics in the cluster.", prometheus.GaugeValue,
			func(_ *Replicas, c *Controller, _ *Quotas) float64 { return float64(c.GlobalTopicCount) }),
		newGauge("kafka_controller_kafkacontroller_globalpartitioncount", "Partitions in the cluster.", prometheus.GaugeValue,
			func(_ *Replicas, c *Controller, _ *Quotas) float64 { return float64(c.GlobalPartitionCount) }),
		newGauge("kafka_controller_kafkacontroller_preferredreplicaimbalancecount", "Partitions not led by their preferred replica.", prometheus.GaugeValue,
			func(_ *Replicas, c *Controller, _ *Quotas) float64 { return float64(c.PreferredReplicaImbalanceCount) }),
		newGauge("kafka_controller_kafkacontroller_topicstodeletecount", "Topics queued for deletion.", prometheus.GaugeValue,
			func(_ *Replicas, c *Controller, _ *Quotas) float64 { return float64(c.TopicsToDeleteCount) }),
	}
	quotaGauges = []gauge{
		newGauge("kafka_server_leaderreplication_byte_rate", "Throttled replication bytes per second sent as leader.", prometheus.GaugeValue,
			func(_ *Replicas, _ *Controller, q *Quotas) float64 { return q.LeaderReplicationByteRate }),
		newGauge("kafka_server_followerreplication_byte_rate", "Throttled replication bytes per second fetched as follower.", prometheus.GaugeValue,
			func(_ *Replicas, _ *Controller, q *Quotas) float64 { return q.FollowerReplicationByteRate }),
	}
)

// Describe implements prometheus.Collector.
func (s Sources) Describe(ch chan<- *prometheus.Desc) {
	for _, gs := range [][]gauge{replicaGauges, controllerGauges, quotaGauges} {
		for _, g := range gs {
			ch <- g.desc
		}
	}
}

// Collect implements prometheus.Collector: each source is read once per scrape.
func (s Sources) Collect(ch chan<- prometheus.Metric) {
	var (
		r Replicas
		c Controller
		q Quotas
	)
	emit := func(gs []gauge) {
		for _, g := range gs {
			ch <- prometheus.MustNewConstMetric(g.desc, g.kind, g.value(&r, &c, &q))
		}
	}
	if s.Replicas != nil {
		r = s.Replicas()
		emit(replicaGauges)
	}
	if s.Controller != nil {
		c = s.Controller()
		emit(controllerGauges)
	}
	if s.Quotas != nil {
		q = s.Quotas()
		emit(quotaGauges)
	}
}

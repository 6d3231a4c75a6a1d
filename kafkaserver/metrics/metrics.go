// Package metrics holds the broker's Prometheus metrics: what Kafka 2.8 reports over JMX (BrokerTopicMetrics,
// ReplicaManager, KafkaController, the replication quotas, the logs and their cleaner), under the names the
// Prometheus JMX exporter gives those beans with Kafka's usual rules (kafka_<domain>_<type>_<name> in lower case,
// with characters other than letters, digits and underscores made underscores; a meter's Count becomes a counter
// named ..._total; a bean's other tags become labels, such as a per-topic meter's topic).
package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// TopicStats counts what Kafka's BrokerTopicStats meters count, per topic and over all topics. Safe for
// concurrent use.
type TopicStats struct {
	mu     sync.RWMutex
	topics map[string]*topicCounters
	all    topicCounters

	replicationBytesIn, replicationBytesOut atomic.Int64 // all topics only, as Kafka
}

type topicCounters struct {
	messagesIn, bytesIn, bytesOut atomic.Int64
	totalProduce, failedProduce   atomic.Int64
	totalFetch, failedFetch       atomic.Int64
	// Records converted to another format or codec (ProduceMessageConversionsPerSec, FetchMessageConversionsPerSec).
	produceConversions, fetchConversions atomic.Int64
}

// Outcome is how one partition of a produce or fetch request ended, as Kafka's request meters see it.
type Outcome int8

const (
	OK Outcome = iota
	// Refused is an error Kafka does not count as a failed request (not the leader, a fenced or unknown leader
	// epoch, an offset out of range, records too large or corrupt): the client's doing, not the broker's.
	Refused
	// Failed is any other error (FailedProduceRequestsPerSec, FailedFetchRequestsPerSec).
	Failed
	// Unknown is a partition of a topic the broker does not know: not counted at all, as KafkaApis answers those
	// before its ReplicaManager sees them (and a client naming made-up topics adds no series).
	Unknown
)

// NewTopicStats returns empty counters.
func NewTopicStats() *TopicStats { return &TopicStats{topics: map[string]*topicCounters{}} }

func (s *TopicStats) topic(name string) *topicCounters {
	s.mu.RLock()
	c := s.topics[name]
	s.mu.RUnlock()
	if c != nil {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c = s.topics[name]; c == nil {
		c = &topicCounters{}
		s.topics[name] = c
	}
	return c
}

// both applies f to the topic's counters and to the all-topics counters.
func (s *TopicStats) both(topic string, f func(*topicCounters)) {
	f(s.topic(topic))
	f(&s.all)
}

// Produced counts one partition of a produce request (ReplicaManager.appendToLocalLog): on success the request's
// record bytes and the messages appended.
func (s *TopicStats) Produced(topic string, o Outcome, bytes, messages int64) {
	if o == Unknown {
		return
	}
	s.both(topic, func(c *topicCounters) {
		c.totalProduce.Add(1)
		switch o {
		case OK:
			c.bytesIn.Add(bytes)
			c.messagesIn.Add(messages)
		case Failed:
			c.failedProduce.Add(1)
		}
	})
}

// FetchRead counts one partition of a fetch request, a consumer's or a follower's (ReplicaManager.fetchMessages).
func (s *TopicStats) FetchRead(topic string, o Outcome) {
	if o == Unknown {
		return
	}
	s.both(topic, func(c *topicCounters) {
		c.totalFetch.Add(1)
		if o == Failed {
			c.failedFetch.Add(1)
		}
	})
}

// BytesOut counts the record bytes of one partition of a fetch response (BrokerTopicStats.updateBytesOut): a
// consumer's per topic, a follower's as replication bytes of all topics.
func (s *TopicStats) BytesOut(topic string, follower bool, bytes int64) {
	if follower {
		s.replicationBytesOut.Add(bytes)
		return
	}
	s.both(topic, func(c *topicCounters) { c.bytesOut.Add(bytes) })
}

// Converted counts the records of one partition of a produce or fetch rewritten into another format or codec
// (KafkaApis.updateRecordConversionStats).
func (s *TopicStats) Converted(topic string, fetch bool, records int64) {
	if records <= 0 {
		return
	}
	s.both(topic, func(c *topicCounters) {
		if fetch {
			c.fetchConversions.Add(records)
		} else {
			c.produceConversions.Add(records)
		}
	})
}

// ReplicationIn counts record bytes a follower appended from its leader.
func (s *TopicStats) ReplicationIn(bytes int64) { s.replicationBytesIn.Add(bytes) }

// RemoveTopic drops a deleted topic's counters (BrokerTopicStats.removeMetrics); the all-topics ones keep counting.
func (s *TopicStats) RemoveTopic(topic string) {
	s.mu.Lock()
	delete(s.topics, topic)
	s.mu.Unlock()
}

// Meter names of BrokerTopicMetrics, without "PerSec", as the exporter's rule strips it.
var topicMeters = []struct {
	name, help string
	value      func(*topicCounters) int64
}{
	{"messagesin", "Messages appended from produce requests.", func(c *topicCounters) int64 { return c.messagesIn.Load() }},
	{"bytesin", "Record bytes of produce requests appended.", func(c *topicCounters) int64 { return c.bytesIn.Load() }},
	{"bytesout", "Record bytes sent to consumers.", func(c *topicCounters) int64 { return c.bytesOut.Load() }},
	{"totalproducerequests", "Partitions of produce requests.", func(c *topicCounters) int64 { return c.totalProduce.Load() }},
	{"failedproducerequests", "Partitions of produce requests that failed.", func(c *topicCounters) int64 { return c.failedProduce.Load() }},
	{"totalfetchrequests", "Partitions of fetch requests, consumers' and followers'.", func(c *topicCounters) int64 { return c.totalFetch.Load() }},
	{"failedfetchrequests", "Partitions of fetch requests that failed.", func(c *topicCounters) int64 { return c.failedFetch.Load() }},
	{"producemessageconversions", "Records of produce requests converted to the log's format or codec.", func(c *topicCounters) int64 { return c.produceConversions.Load() }},
	{"fetchmessageconversions", "Records down-converted for old fetchers.", func(c *topicCounters) int64 { return c.fetchConversions.Load() }},
}

var (
	topicDescs = func() []*prometheus.Desc {
		ds := make([]*prometheus.Desc, len(topicMeters))
		for i, m := range topicMeters {
			// The all-topics meter has no topic: an empty label, which Prometheus treats as an absent one.
			ds[i] = prometheus.NewDesc("kafka_server_brokertopicmetrics_"+m.name+"_total", m.help, []string{"topic"}, nil)
		}
		return ds
	}()
	descReplicationBytesIn = prometheus.NewDesc("kafka_server_brokertopicmetrics_replicationbytesin_total",
		"Record bytes a follower appended from its leaders.", nil, nil)
	descReplicationBytesOut = prometheus.NewDesc("kafka_server_brokertopicmetrics_replicationbytesout_total",
		"Record bytes a leader sent its followers.", nil, nil)
)

// Describe implements prometheus.Collector.
func (s *TopicStats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range topicDescs {
		ch <- d
	}
	ch <- descReplicationBytesIn
	ch <- descReplicationBytesOut
}

// Collect implements prometheus.Collector.
func (s *TopicStats) Collect(ch chan<- prometheus.Metric) {
	emit := func(topic string, c *topicCounters) {
		for i, m := range topicMeters {
			ch <- prometheus.MustNewConstMetric(topicDescs[i], prometheus.CounterValue, float64(m.value(c)), topic)
		}
	}
	emit("", &s.all)
	s.mu.RLock()
	for name, c := range s.topics {
		emit(name, c)
	}
	s.mu.RUnlock()
	ch <- prometheus.MustNewConstMetric(descReplicationBytesIn, prometheus.CounterValue, float64(s.replicationBytesIn.Load()))
	ch <- prometheus.MustNewConstMetric(descReplicationBytesOut, prometheus.CounterValue, float64(s.replicationBytesOut.Load()))
}

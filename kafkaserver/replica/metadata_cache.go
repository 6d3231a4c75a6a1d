package replica

import (
	"slices"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// LeaderDuringDelete is the leader id UpdateMetadata carries for partitions of topics being deleted.
const LeaderDuringDelete int32 = -2

// Endpoint is one listener of a live broker.
type Endpoint struct {
	Listener         string
	Host             string
	Port             int32
	SecurityProtocol int16
}

// BrokerMeta is a live broker as the controller described it.
type BrokerMeta struct {
	ID        int32
	Rack      *string
	Endpoints []Endpoint
}

// Endpoint returns the broker's endpoint for a listener.
func (b BrokerMeta) Endpoint(listener string) (Endpoint, bool) {
	for _, e := range b.Endpoints {
		if e.Listener == listener {
			return e, true
		}
	}
	return Endpoint{}, false
}

// PartitionMeta is one partition's state in the cache.
type PartitionMeta struct {
	Partition       int32
	Leader          int32
	LeaderEpoch     int32
	ISR             []int32
	Replicas        []int32
	OfflineReplicas []int32
	ZkVersion       int32
}

// TopicMeta is a topic in the cache.
type TopicMeta struct {
	Name       string
	ID         [16]byte
	Partitions map[int32]PartitionMeta
}

// SortedPartitions returns the partitions ordered by id.
func (t *TopicMeta) SortedPartitions() []PartitionMeta {
	out := make([]PartitionMeta, 0, len(t.Partitions))
	for _, p := range t.Partitions {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Partition < out[j].Partition })
	return out
}

// MetadataCache is what this broker knows of the cluster, learnt only from the controller's UpdateMetadata
// requests (Kafka's ZkMetadataCache).
type MetadataCache struct {
	mu           sync.RWMutex
	controllerID int32
	brokers      map[int32]BrokerMeta
	topics       map[string]*TopicMeta
	changed      chan struct{}
}

// NewMetadataCache returns an empty cache.
func NewMetadataCache() *MetadataCache {
	return &MetadataCache{controllerID: -1, brokers: map[int32]BrokerMeta{}, topics: map[string]*TopicMeta{},
		changed: make(chan struct{})}
}

// Changed returns a channel closed at the next update.
func (c *MetadataCache) Changed() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

// Update applies an UpdateMetadata request of any version (ZkMetadataCache.updateMetadata): the live brokers are
// replaced, partition states are upserted and partitions with leader LeaderDuringDelete are removed. It returns
// those deleted partitions (cached or not, as Kafka does) for the group coordinator.
func (c *MetadataCache) Update(req *kmsg.UpdateMetadataRequest) (deleted []klog.TopicPartition) {
	brokers := make(map[int32]BrokerMeta, len(req.LiveBrokers))
	for _, b := range req.LiveBrokers {
		bm := BrokerMeta{ID: b.ID, Rack: b.Rack}
		if req.Version == 0 {
			bm.Endpoints = []Endpoint{{Listener: "PLAINTEXT", Host: b.Host, Port: b.Port}}
		}
		for _, e := range b.Endpoints {
			name := e.ListenerName
			if req.Version < 3 {
				name = securityProtocolName(e.SecurityProtocol)
			}
			bm.Endpoints = append(bm.Endpoints, Endpoint{Listener: name, Host: e.Host, Port: e.Port, SecurityProtocol: e.SecurityProtocol})
		}
		brokers[b.ID] = bm
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.controllerID = req.ControllerID
	c.brokers = brokers
	apply := func(topic string, id [16]byte, ps *kmsg.UpdateMetadataRequestTopicPartition) {
		t := c.topics[topic]
		if ps.Leader == LeaderDuringDelete {
			deleted = append(deleted, klog.TopicPartition{Topic: topic, Partition: ps.Partition})
			if t != nil {
				delete(t.Partitions, ps.Partition)
				if len(t.Partitions) == 0 {
					delete(c.topics, topic)
				}
			}
			return
		}
		if t == nil {
			t = &TopicMeta{Name: topic, Partitions: map[int32]PartitionMeta{}}
			c.topics[topic] = t
		}
		if id != ([16]byte{}) {
			t.ID = id
		}
		t.Partitions[ps.Partition] = PartitionMeta{
			Partition: ps.Partition, Leader: ps.Leader, LeaderEpoch: ps.LeaderEpoch, ISR: slices.Clone(ps.ISR),
			Replicas: slices.Clone(ps.Replicas), OfflineReplicas: slices.Clone(ps.OfflineReplicas), ZkVersion: ps.ZKVersion,
		}
	}
	for i := range req.PartitionStates {
		apply(req.PartitionStates[i].Topic, [16]byte{}, &req.PartitionStates[i])
	}
	for i := range req.TopicStates {
		ts := &req.TopicStates[i]
		for j := range ts.PartitionStates {
			apply(ts.Topic, ts.TopicID, &ts.PartitionStates[j])
		}
	}
	close(c.changed)
	c.changed = make(chan struct{})
	return deleted
}

func securityProtocolName(id int16) string {
	switch id {
	case 0:
		return "PLAINTEXT"
	case 1:
		return "SSL"
	case 2:
		return "SASL_PLAINTEXT"
	case 3:
		return "SASL_SSL"
	}
	return "UNKNOWN"
}

// ControllerID is the controller's broker id, -1 when unknown.
func (c *MetadataCache) ControllerID() int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.controllerID
}

// AliveBrokers returns the live brokers ordered by id.
func (c *MetadataCache) AliveBrokers() []BrokerMeta {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]BrokerMeta, 0, len(c.brokers))
	for _, b := range c.brokers {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Broker returns a live broker.
func (c *MetadataCache) Broker(id int32) (BrokerMeta, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	b, ok := c.brokers[id]
	return b, ok
}

// Topic returns a copy of a topic's metadata.
func (c *MetadataCache) Topic(name string) (TopicMeta, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.topics[name]
	if !ok {
		return TopicMeta{}, false
	}
	cp := TopicMeta{Name: t.Name, ID: t.ID, Partitions: make(map[int32]PartitionMeta, len(t.Partitions))}
	for k, v := range t.Partitions {
		cp.Partitions[k] = v
	}
	return cp, true
}

// Topics lists the cached topics, sorted.
func (c *MetadataCache) Topics() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.topics))
	for n := range c.topics {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// HasPartition reports whether the cache knows a partition.
func (c *MetadataCache) HasPartition(topic string, partition int32) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.topics[topic]
	if !ok {
		return false
	}
	_, ok = t.Partitions[partition]
	return ok
}

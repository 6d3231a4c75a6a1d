package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/metrics"
	"github.com/zkafka/zkafka/kafkaserver/quota"
)

// Internal topics clients may not produce to (Topic.isInternal).
const (
	GroupMetadataTopic    = "__consumer_offsets"
	TransactionStateTopic = "__transaction_state"
)

// IsInternal reports whether topic is one of Kafka's internal topics.
func IsInternal(topic string) bool {
	return topic == GroupMetadataTopic || topic == TransactionStateTopic
}

// ErrNotEnoughReplicasAfterAppend is returned by WaitReplicated when the ISR shrank below min.insync.replicas
// while an acks=all produce waited.
var ErrNotEnoughReplicasAfterAppend = kerr.NotEnoughReplicasAfterAppend

// Config configures a Manager.
type Config struct {
	BrokerID int32
	Logs     *klog.Manager
	// TopicConfig returns a topic's log configuration (broker defaults under /config/topics/<t> overrides).
	TopicConfig func(topic string) (klog.Config, error)
	// MinInsyncReplicas, if set, returns min.insync.replicas for a topic; nil means the partition log's config
	// (which topic config changes update, as Kafka's LogConfig), so that an acks=all produce reads no ZooKeeper.
	MinInsyncReplicas func(topic string) int32
	// OnLeadershipChange, if set, hears of every partition this broker starts or stops leading (the
	// coordinators load and unload their partitions of the internal topics on it), in order.
	OnLeadershipChange func(tp klog.TopicPartition, leader bool)
	Logger             *slog.Logger
	// OnPartitionsDeleted, if set, hears of the partitions an UpdateMetadata removed because their topic is being
	// deleted (the group coordinator drops their committed offsets, as KafkaApis.handleUpdateMetadataRequest does).
	OnPartitionsDeleted func(tps []klog.TopicPartition)
	// QuotaWindows and QuotaWindowMs are replication.quota.window.num and .size.seconds (in ms): how the
	// replication throttles measure their rates. Zero means Kafka's defaults, 11 windows of a second.
	QuotaWindows  int
	QuotaWindowMs int64
	// MoveQuotaWindows and MoveQuotaWindowMs are alter.log.dirs.replication.quota.window.num and .size.seconds
	// (in ms), for the throttle of copies between log dirs; zero means 11 windows of a second.
	MoveQuotaWindows  int
	MoveQuotaWindowMs int64
	// Stats counts the record bytes this broker appends as a follower (ReplicationBytesInPerSec); nil counts into
	// a value of its own.
	Stats *metrics.TopicStats
}

// Manager is the replica manager (Kafka's ReplicaManager): the partitions this broker hosts and their state.
type Manager struct {
	cfg    Config
	logger *slog.Logger
	cache  *MetadataCache

	leaderQuota, followerQuota *quota.Replication

	mu              sync.RWMutex
	controllerEpoch int32
	brokerEpoch     int64
	partitions      map[klog.TopicPartition]*Partition

	sigMu   sync.Mutex
	changed chan struct{} // closed (and replaced) on any append or high watermark change: wakes long polls

	// Replication (fetcher.go, isr.go): the fetchers of the partitions this broker follows, by leader and fetcher
	// id, and the ISR changes this broker proposes as leader.
	fetchMu        sync.Mutex
	fetchCfg       FetcherConfig   // set once by StartFetchers
	numFetchers    int32           // num.replica.fetchers, live (ResizeFetchers)
	fetchCtx       context.Context // nil until StartFetchers
	fetchers       map[FetcherKey]*fetcher
	pendingFollows map[klog.TopicPartition]follow // follows decided before StartFetchers
	fetchWG        sync.WaitGroup
	fetchStopped   bool          // Close ran
	isrCh          chan struct{} // pokes runIsr

	// Log dir moves (move.go): the copies into future logs, the threads running them (ReplicaAlterLogDirsManager's,
	// by id) and their throttle; moveMu orders the changes (Kafka's replicaStateChangeLock for
	// alterReplicaLogDirs) and comes before a thread's lock.
	moveMu      sync.Mutex
	moves       map[klog.TopicPartition]*move
	moveThreads map[int32]*moveThread
	moveQuota   *quota.Replication

	isrShrinks, isrExpands atomic.Int64 // ISR changes applied as leader (IsrShrinksPerSec, IsrExpandsPerSec)
}

// NewManager returns a Manager over cfg.Logs with an empty metadata cache.
func NewManager(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stats == nil {
		cfg.Stats = metrics.NewTopicStats()
	}
	if cfg.QuotaWindows <= 0 {
		cfg.QuotaWindows = 11
	}
	if cfg.QuotaWindowMs <= 0 {
		cfg.QuotaWindowMs = 1000
	}
	if cfg.MoveQuotaWindows <= 0 {
		cfg.MoveQuotaWindows = 11
	}
	if cfg.MoveQuotaWindowMs <= 0 {
		cfg.MoveQuotaWindowMs = 1000
	}
	return &Manager{
		cfg: cfg, logger: cfg.Logger, cache: NewMetadataCache(), controllerEpoch: -1, brokerEpoch: -1,
		partitions: map[klog.TopicPartition]*Partition{}, changed: make(chan struct{}), isrCh: make(chan struct{}, 1),
		leaderQuota:   quota.NewReplication(cfg.QuotaWindows, cfg.QuotaWindowMs),
		followerQuota: quota.NewReplication(cfg.QuotaWindows, cfg.QuotaWindowMs),
		moveQuota:     quota.NewReplication(cfg.MoveQuotaWindows, cfg.MoveQuotaWindowMs),
		moves:         map[klog.TopicPartition]*move{},
		moveThreads:   map[int32]*moveThread{},
	}
}

// LeaderQuota is the throttle on what this broker sends, as leader, to followers not in the ISR
// (leader.replication.throttled.rate and .replicas; Kafka's quotas.leader).
func (m *Manager) LeaderQuota() *quota.Replication { return m.leaderQuota }

// FollowerQuota is the throttle on what this broker fetches, as follower, while not in the ISR
// (follower.replication.throttled.rate and .replicas; Kafka's quotas.follower).
func (m *Manager) FollowerQuota() *quota.Replication { return m.followerQuota }

// Cache is the metadata cache UpdateMetadata feeds.
func (m *Manager) Cache() *MetadataCache { return m.cache }

// BrokerID is this broker's id.
func (m *Manager) BrokerID() int32 { return m.cfg.BrokerID }

// SetBrokerEpoch records the czxid of this broker's registration; control requests carrying an older epoch are
// rejected with STALE_BROKER_EPOCH.
func (m *Manager) SetBrokerEpoch(e int64) {
	m.mu.Lock()
	m.brokerEpoch = e
	m.mu.Unlock()
}

// Changed returns a channel closed at the next append or high watermark change on any partition.
func (m *Manager) Changed() <-chan struct{} {
	m.sigMu.Lock()
	defer m.sigMu.Unlock()
	return m.changed
}

func (m *Manager) signal() {
	m.sigMu.Lock()
	close(m.changed)
	m.changed = make(chan struct{})
	m.sigMu.Unlock()
}

// checkControlLocked fences stale controllers and stale broker epochs (KafkaApis.isBrokerEpochStale).
func (m *Manager) checkControlLocked(controllerEpoch int32, brokerEpoch int64) error {
	if controllerEpoch < m.controllerEpoch {
		return kerr.StaleControllerEpoch
	}
	if brokerEpoch != -1 && brokerEpoch < m.brokerEpoch {
		return kerr.StaleBrokerEpoch
	}
	return nil
}

// lookup returns a hosted partition, or the error Kafka's getPartitionOrError gives: NOT_LEADER_OR_FOLLOWER when the
// cluster knows the partition, UNKNOWN_TOPIC_OR_PARTITION otherwise.
func (m *Manager) lookup(topic string, partition int32) (*Partition, error) {
	tp := klog.TopicPartition{Topic: topic, Partition: partition}
	m.mu.RLock()
	p := m.partitions[tp]
	m.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	if m.cache.HasPartition(topic, partition) {
		return nil, kerr.NotLeaderForPartition
	}
	return nil, kerr.UnknownTopicOrPartition
}

// Partition returns a hosted partition.
func (m *Manager) Partition(topic string, partition int32) (*Partition, error) {
	return m.lookup(topic, partition)
}

// Partitions returns every hosted partition.
func (m *Manager) Partitions() []*Partition {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Partition, 0, len(m.partitions))
	for _, p := range m.partitions {
		out = append(out, p)
	}
	return out
}

// partitionState is the version-independent form of one LeaderAndIsr partition state.
type partitionState struct {
	topic   string
	topicID [16]byte
	st      *kmsg.LeaderAndISRRequestTopicPartition
}

// BecomeLeaderOrFollower applies a LeaderAndIsr request (ReplicaManager.becomeLeaderOrFollower): partitions whose
// leader epoch is newer than ours become leader or follower; logs are created as needed.
func (m *Manager) BecomeLeaderOrFollower(req *kmsg.LeaderAndISRRequest) *kmsg.LeaderAndISRResponse {
	resp := req.ResponseKind().(*kmsg.LeaderAndISRResponse)
	resp.Version = req.Version
	var states []partitionState
	for i := range req.PartitionStates {
		states = append(states, partitionState{topic: req.PartitionStates[i].Topic, st: &req.PartitionStates[i]})
	}
	for i := range req.TopicStates {
		ts := &req.TopicStates[i]
		for j := range ts.PartitionStates {
			states = append(states, partitionState{topic: ts.Topic, topicID: ts.TopicID, st: &ts.PartitionStates[j]})
		}
	}
	errs := make([]int16, len(states))

	m.mu.Lock()
	if err := m.checkControlLocked(req.ControllerEpoch, req.BrokerEpoch); err != nil {
		m.mu.Unlock()
		resp.ErrorCode = err.(*kerr.Error).Code
		m.logger.Warn("ignoring LeaderAndIsr", "controller", req.ControllerID, "controller_epoch", req.ControllerEpoch, "err", err)
		return fillLeaderAndIsrResponse(resp, states, errs)
	}
	m.controllerEpoch = req.ControllerEpoch
	m.mu.Unlock()

	for i, ps := range states {
		leader, err := m.applyPartitionState(req.ControllerEpoch, ps)
		if err == nil {
			m.resumeMove(klog.TopicPartition{Topic: ps.topic, Partition: ps.st.Partition})
		}
		if err == nil && m.cfg.OnLeadershipChange != nil {
			m.cfg.OnLeadershipChange(klog.TopicPartition{Topic: ps.topic, Partition: ps.st.Partition}, leader)
		}
		if err != nil {
			var ke *kerr.Error
			if errors.As(err, &ke) {
				errs[i] = ke.Code
			} else {
				errs[i] = kerr.KafkaStorageError.Code
			}
			m.logger.Warn("LeaderAndIsr partition not applied", "topic", ps.topic, "partition", ps.st.Partition, "err", err)
		}
	}
	m.signal()
	return fillLeaderAndIsrResponse(resp, states, errs)
}

func fillLeaderAndIsrResponse(resp *kmsg.LeaderAndISRResponse, states []partitionState, errs []int16) *kmsg.LeaderAndISRResponse {
	if resp.Version < 5 {
		for i, ps := range states {
			rp := kmsg.NewLeaderAndISRResponseTopicPartition()
			rp.Topic, rp.Partition, rp.ErrorCode = ps.topic, ps.st.Partition, errs[i]
			resp.Partitions = append(resp.Partitions, rp)
		}
		return resp
	}
	idx := map[[16]byte]int{}
	for i, ps := range states {
		j, ok := idx[ps.topicID]
		if !ok {
			t := kmsg.NewLeaderAndISRResponseTopic()
			t.TopicID = ps.topicID
			resp.Topics = append(resp.Topics, t)
			j = len(resp.Topics) - 1
			idx[ps.topicID] = j
		}
		rp := kmsg.NewLeaderAndISRResponseTopicPartition()
		rp.Partition, rp.ErrorCode = ps.st.Partition, errs[i]
		resp.Topics[j].Partitions = append(resp.Topics[j].Partitions, rp)
	}
	return resp
}

func (m *Manager) applyPartitionState(controllerEpoch int32, ps partitionState) (bool, error) {
	st := ps.st
	tp := klog.TopicPartition{Topic: ps.topic, Partition: st.Partition}
	if !slices.Contains(st.Replicas, m.cfg.BrokerID) {
		return false, kerr.UnknownTopicOrPartition
	}
	m.mu.Lock()
	p := m.partitions[tp]
	m.mu.Unlock()
	if p != nil {
		p.mu.Lock()
		cur := p.leaderEpoch
		p.mu.Unlock()
		if st.LeaderEpoch <= cur {
			// Kafka 2.8 answers an equal or older epoch with STALE_CONTROLLER_EPOCH and leaves the partition alone.
			return false, kerr.StaleControllerEpoch
		}
	} else {
		cfg, err := m.cfg.TopicConfig(ps.topic)
		if err != nil {
			return false, fmt.Errorf("config of %s: %w", ps.topic, err)
		}
		l, err := m.cfg.Logs.GetOrCreate(ps.topic, st.Partition, ps.topicID, cfg)
		if err != nil {
			return false, fmt.Errorf("open log %s: %w", tp, err)
		}
		// Logs loaded at start-up got the broker defaults; the topic's overrides apply from here.
		l.SetConfig(cfg)
		m.mu.Lock()
		if p = m.partitions[tp]; p == nil {
			p = newPartition(tp, l)
			m.partitions[tp] = p
		}
		m.mu.Unlock()
	}
	if ps.topicID != ([16]byte{}) {
		if id, ok := p.log.TopicID(); !ok || id != ps.topicID {
			if err := p.log.SetTopicID(ps.topicID); err != nil {
				return false, fmt.Errorf("topic id of %s: %w", tp, err)
			}
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.controllerEpoch = controllerEpoch
	p.leaderEpoch = st.LeaderEpoch
	p.partitionEpoch = st.ZKVersion
	p.isr = slices.Clone(st.ISR)
	p.replicas = slices.Clone(st.Replicas)
	p.leader = st.Leader
	if st.Leader == m.cfg.BrokerID {
		// makeLeader: the new epoch starts at our log end; followers' positions are unknown until they fetch.
		if p.log.LatestEpoch() < st.LeaderEpoch {
			if err := p.log.AssignEpochStartOffset(st.LeaderEpoch, p.log.LogEndOffset()); err != nil {
				return false, fmt.Errorf("leader epoch of %s: %w", tp, err)
			}
		}
		p.becomeLeaderLocked(m.cfg.BrokerID, time.Now())
		p.maybeIncrementHWLocked(m.cfg.BrokerID)
		m.unfollow(tp)
		m.logger.Info("became leader", "partition", tp.String(), "leader_epoch", st.LeaderEpoch, "isr", st.ISR)
	} else {
		// makeFollower: the fetcher truncates the log to where it agrees with the new leader's, then fetches.
		p.followers = nil
		p.pendingIsr = false
		m.follow(tp, st.Leader, st.LeaderEpoch)
		m.logger.Info("became follower", "partition", tp.String(), "leader", st.Leader, "leader_epoch", st.LeaderEpoch)
	}
	p.signalLocked()
	return st.Leader == m.cfg.BrokerID, nil
}

// UpdateMetadata applies an UpdateMetadata request to the metadata cache.
func (m *Manager) UpdateMetadata(req *kmsg.UpdateMetadataRequest) *kmsg.UpdateMetadataResponse {
	resp := req.ResponseKind().(*kmsg.UpdateMetadataResponse)
	resp.Version = req.Version
	m.mu.Lock()
	if err := m.checkControlLocked(req.ControllerEpoch, req.BrokerEpoch); err != nil {
		m.mu.Unlock()
		resp.ErrorCode = err.(*kerr.Error).Code
		return resp
	}
	m.controllerEpoch = req.ControllerEpoch
	m.mu.Unlock()
	deleted := m.cache.Update(req)
	m.signal()
	if len(deleted) > 0 && m.cfg.OnPartitionsDeleted != nil {
		m.cfg.OnPartitionsDeleted(deleted)
	}
	return resp
}

// StopReplicas applies a StopReplica request: the partitions stop being served and, when asked, their logs are
// deleted.
func (m *Manager) StopReplicas(req *kmsg.StopReplicaRequest) *kmsg.StopReplicaResponse {
	resp := req.ResponseKind().(*kmsg.StopReplicaResponse)
	resp.Version = req.Version
	type stop struct {
		tp     klog.TopicPartition
		epoch  int32
		delete bool
	}
	var stops []stop
	for _, t := range req.Topics {
		switch {
		case req.Version == 0:
			stops = append(stops, stop{klog.TopicPartition{Topic: t.Topic, Partition: t.Partition}, -1, req.DeletePartitions})
		case req.Version <= 2:
			for _, p := range t.Partitions {
				stops = append(stops, stop{klog.TopicPartition{Topic: t.Topic, Partition: p}, -1, req.DeletePartitions})
			}
		default:
			for _, ps := range t.PartitionStates {
				stops = append(stops, stop{klog.TopicPartition{Topic: t.Topic, Partition: ps.Partition}, ps.LeaderEpoch, ps.Delete})
			}
		}
	}
	m.mu.Lock()
	if err := m.checkControlLocked(req.ControllerEpoch, req.BrokerEpoch); err != nil {
		m.mu.Unlock()
		resp.ErrorCode = err.(*kerr.Error).Code
		return resp
	}
	m.controllerEpoch = req.ControllerEpoch
	m.mu.Unlock()

	for _, s := range stops {
		rp := kmsg.NewStopReplicaResponsePartition()
		rp.Topic, rp.Partition = s.tp.Topic, s.tp.Partition
		err := m.stopReplica(s.tp, s.epoch, s.delete)
		if err == nil && m.cfg.OnLeadershipChange != nil {
			m.cfg.OnLeadershipChange(s.tp, false)
		}
		if err != nil {
			var ke *kerr.Error
			if errors.As(err, &ke) {
				rp.ErrorCode = ke.Code
			} else {
				rp.ErrorCode = kerr.KafkaStorageError.Code
			}
			m.logger.Warn("StopReplica failed", "partition", s.tp.String(), "err", err)
		}
		resp.Partitions = append(resp.Partitions, rp)
	}
	m.signal()
	return resp
}

// hostsTopicLocked reports whether any partition of topic is still hosted here.
func (m *Manager) hostsTopicLocked(topic string) bool {
	for tp := range m.partitions {
		if tp.Topic == topic {
			return true
		}
	}
	return false
}

// Leader epoch sentinels of StopReplica v3 (LeaderAndIsr.EpochDuringDelete, NoEpoch).
const (
	epochDuringDelete int32 = -2
	noEpoch           int32 = -1
)

func (m *Manager) stopReplica(tp klog.TopicPartition, epoch int32, del bool) error {
	m.mu.Lock()
	p := m.partitions[tp]
	if p != nil {
		p.mu.Lock()
		cur := p.leaderEpoch
		p.mu.Unlock()
		if epoch != epochDuringDelete && epoch != noEpoch && epoch < cur {
			m.mu.Unlock()
			return kerr.FencedLeaderEpoch
		}
		delete(m.partitions, tp)
	}
	if del && !m.hostsTopicLocked(tp.Topic) {
		m.cfg.Stats.RemoveTopic(tp.Topic) // maybeRemoveTopicMetrics
	}
	m.mu.Unlock()
	m.unfollow(tp)
	m.stopMove(tp) // the future log stays unless the partition is deleted (Delete removes both)
	if p != nil {
		p.mu.Lock()
		p.leader = -1
		p.signalLocked()
		p.mu.Unlock()
	}
	if del {
		if _, ok := m.cfg.Logs.Get(tp.Topic, tp.Partition); ok {
			if err := m.cfg.Logs.Delete(tp.Topic, tp.Partition); err != nil {
				return fmt.Errorf("delete log %s: %w", tp, err)
			}
		}
	}
	return nil
}

// Append appends a produce request's records to a partition this broker leads (Partition.appendRecordsToLeader).
// With acks=-1 it first checks the ISR against min.insync.replicas; the caller then waits with WaitReplicated.
func (m *Manager) Append(topic string, partition int32, records []byte, acks int16) (klog.AppendInfo, error) {
	return m.AppendWith(topic, partition, records, acks, nil)
}

// AppendWith is Append with the log's conversion buffer (old message formats) taken from alloc.
func (m *Manager) AppendWith(topic string, partition int32, records []byte, acks int16, alloc klog.Alloc) (klog.AppendInfo, error) {
	return m.appendLeader(topic, partition, acks == -1, func(p *Partition) (klog.AppendInfo, error) {
		return p.log.AppendAsLeaderWith(records, p.leaderEpoch, alloc)
	})
}

// AppendAsCoordinator appends the group or transaction coordinator's records to a partition of its internal topic
// that this broker leads (klog.Log.AppendAsCoordinator), as an acks=all append: refused below
// min.insync.replicas. The caller waits for replication with WaitReplicated.
func (m *Manager) AppendAsCoordinator(topic string, partition int32, records []byte) (klog.AppendInfo, error) {
	return m.appendLeader(topic, partition, true, func(p *Partition) (klog.AppendInfo, error) {
		return p.log.AppendAsCoordinator(records, p.leaderEpoch)
	})
}

// appendLeader runs an append on a partition this broker leads (an acks=all one refused below
// min.insync.replicas), then moves the high watermark and wakes the waiting reads.
func (m *Manager) appendLeader(topic string, partition int32, acksAll bool, appendFn func(p *Partition) (klog.AppendInfo, error)) (klog.AppendInfo, error) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return klog.AppendInfo{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leader != m.cfg.BrokerID {
		return klog.AppendInfo{}, kerr.NotLeaderForPartition
	}
	if acksAll && int32(len(p.isr)) < m.minISR(p) {
		return klog.AppendInfo{}, kerr.NotEnoughReplicas
	}
	info, err := appendFn(p)
	if err != nil {
		return info, err
	}
	p.maybeIncrementHWLocked(m.cfg.BrokerID)
	m.signal()
	return info, nil
}

// AppendTxnMarker writes a transaction's commit or abort marker to a partition this broker leads, as the
// coordinator's WriteTxnMarkers append does (acks=all, AppendOrigin.Coordinator; klog.Log.AppendTxnMarker has the
// producer and coordinator epoch checks). The caller waits for replication with WaitReplicated.
func (m *Manager) AppendTxnMarker(topic string, partition int32, producerID int64, producerEpoch int16, coordinatorEpoch int32, commit bool) (klog.AppendInfo, error) {
	return m.appendLeader(topic, partition, true, func(p *Partition) (klog.AppendInfo, error) {
		return p.log.AppendTxnMarker(producerID, producerEpoch, coordinatorEpoch, commit, p.leaderEpoch)
	})
}

// Metrics returns ReplicaManager's gauges and ISR change counts, read now.
func (m *Manager) Metrics() metrics.Replicas {
	r := metrics.Replicas{IsrShrinks: m.isrShrinks.Load(), IsrExpands: m.isrExpands.Load()}
	for _, p := range m.Partitions() {
		r.PartitionCount++
		p.mu.Lock()
		leader, isr, replicas := p.leader == m.cfg.BrokerID, len(p.isr), len(p.replicas)
		p.mu.Unlock()
		if !leader {
			continue
		}
		r.LeaderCount++
		if isr < replicas {
			r.UnderReplicatedPartitions++
		}
		switch minISR := int(m.minISR(p)); {
		case isr < minISR:
			r.UnderMinIsrPartitionCount++
		case isr == minISR:
			r.AtMinIsrPartitionCount++
		}
	}
	return r
}

func (m *Manager) minISR(p *Partition) int32 {
	if m.cfg.MinInsyncReplicas == nil {
		return p.log.Config().MinInsyncReplicas
	}
	return m.cfg.MinInsyncReplicas(p.TP.Topic)
}

// WaitReplicated blocks until the partition's high watermark reaches offset (every ISR member has the records), as
// the produce purgatory does for acks=all. ctx's deadline is the request timeout.
func (m *Manager) WaitReplicated(ctx context.Context, topic string, partition int32, offset int64) error {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return err
	}
	for {
		p.mu.Lock()
		hw, ch := p.log.HighWatermark(), p.hwChanged
		leader, isr := p.leader, len(p.isr)
		p.mu.Unlock()
		if leader != m.cfg.BrokerID {
			return kerr.NotLeaderForPartition
		}
		if hw >= offset {
			if int32(isr) < m.minISR(p) {
				return ErrNotEnoughReplicasAfterAppend
			}
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return kerr.RequestTimedOut
		}
	}
}

// ReadParams are one partition's fetch parameters.
type ReadParams struct {
	Offset             int64
	MaxBytes           int32
	MinOneMessage      bool
	ReplicaID          int32 // -1 consumers; >= 0 follower brokers
	CurrentLeaderEpoch int32 // -1 when the client does not know it
	ReadCommitted      bool
	LastFetchedEpoch   *int32     // a follower's (Fetch v12+): the epoch of the last batch it holds; nil when not sent
	Alloc              klog.Alloc // where the records are read into; nil allocates
}

// ReadResult is what a read of one partition found: the log's records and offsets, or, for a follower whose log
// diverges from the leader's, no records and where to truncate to.
type ReadResult struct {
	klog.ReadResult
	Diverging *EpochEndOffset
	// Throttled: a follower outside the ISR reads a throttled partition while the leader's replication quota is
	// exceeded, and gets no records (ReplicaManager.shouldLeaderThrottle).
	Throttled bool
}

// EpochEndOffset is a leader epoch and the offset where it ends in the leader's log: for a follower whose last
// fetched epoch the leader's log does not continue (Kafka's divergingEpoch), the largest epoch up to it the leader
// has and that epoch's end, below which the two logs agree.
type EpochEndOffset struct {
	Epoch     int32
	EndOffset int64
}

// Read serves one partition of a Fetch: leaders only; consumers see up to the high watermark, read_committed ones
// up to the last stable offset with the aborted transactions overlapping what they read (ReadResult.AbortedTxns),
// followers up to the log end, and a follower's fetch offset advances its position and perhaps the high watermark.
// The records are Kafka's slice of the segment (klog.Log.ReadSlice): a partial batch may end them.
func (m *Manager) Read(topic string, partition int32, rp ReadParams) (ReadResult, error) {
	p, maxOffset, div, err := m.readStart(topic, partition, rp)
	if err != nil || div.Diverging != nil || div.Throttled {
		return div, err
	}
	res, err := p.log.ReadSlice(rp.Offset, rp.MaxBytes, maxOffset, rp.committed(), rp.MinOneMessage, rp.Alloc)
	return ReadResult{ReadResult: res}, err
}

// committed reports whether the read is a read_committed consumer's (FetchTxnCommitted); a follower reads to the
// log end whatever its isolation level.
func (rp ReadParams) committed() bool { return rp.ReadCommitted && rp.ReplicaID < 0 }

// ReadRegion is Read that may answer with a region of a segment file instead of the records' bytes
// (klog.Log.ReadRegion): when they are at least minLen bytes and no batch has a magic above maxMagic. The caller
// owns the region's file.
func (m *Manager) ReadRegion(topic string, partition int32, rp ReadParams, maxMagic int8, minLen int) (ReadResult, *klog.Region, error) {
	p, maxOffset, div, err := m.readStart(topic, partition, rp)
	if err != nil || div.Diverging != nil || div.Throttled {
		return div, nil, err
	}
	var (
		res    klog.ReadResult
		region *klog.Region
	)
	if rp.committed() {
		res, region, err = p.log.ReadRegionCommitted(rp.Offset, rp.MaxBytes, rp.MinOneMessage, maxMagic, minLen, rp.Alloc)
	} else {
		res, region, err = p.log.ReadRegion(rp.Offset, rp.MaxBytes, maxOffset, rp.MinOneMessage, maxMagic, minLen, rp.Alloc)
	}
	return ReadResult{ReadResult: res}, region, err
}

// readStart is the part of a read before the log: the leader check, the check of a follower's last fetched epoch
// (a diverging result ends the read), the follower's position, the leader's replication throttle (a throttled
// result ends the read too), and the offset below which the reader may read.
func (m *Manager) readStart(topic string, partition int32, rp ReadParams) (*Partition, int64, ReadResult, error) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return nil, 0, ReadResult{}, err
	}
	p.mu.Lock()
	if err := p.leaderLocked(m.cfg.BrokerID, rp.CurrentLeaderEpoch); err != nil {
		p.mu.Unlock()
		return nil, 0, ReadResult{}, err
	}
	if rp.LastFetchedEpoch != nil {
		div, err := p.divergingLocked(rp.Offset, *rp.LastFetchedEpoch)
		if err != nil || div.Diverging != nil {
			// The follower's position is not taken from a diverging fetch (ReplicaManager.updateFollowerFetchState).
			p.mu.Unlock()
			return nil, 0, div, err
		}
	}
	maxOffset := p.log.HighWatermark()
	if rp.ReplicaID >= 0 {
		maxOffset = -1
		if p.followers != nil && slices.Contains(p.replicas, rp.ReplicaID) {
			p.followerFetchedLocked(rp.ReplicaID, rp.Offset, time.Now())
			if p.maybeIncrementHWLocked(m.cfg.BrokerID) {
				defer m.signal()
			}
			if p.maybeExpandIsrLocked(m.cfg.BrokerID, rp.ReplicaID) {
				defer m.pokeIsr()
			}
		}
		if !slices.Contains(p.isr, rp.ReplicaID) && m.leaderQuota.Throttled(topic, partition) &&
			m.leaderQuota.Exceeded(time.Now().UnixMilli()) {
			res := ReadResult{ReadResult: p.log.Offsets(), Throttled: true}
			p.mu.Unlock()
			return nil, 0, res, nil
		}
	}
	p.mu.Unlock()
	return p, maxOffset, ReadResult{}, nil
}

// divergingLocked is Partition.readRecords' check of the epoch of the last batch a fetcher holds (Fetch v12+): if the
// leader's log does not have that epoch up to the fetch offset, the answer is no records and the leader's epoch and
// end offset to truncate to; an epoch the leader cannot place, or an offset below its log start, is out of range.
func (p *Partition) divergingLocked(offset int64, lastFetched int32) (ReadResult, error) {
	epoch, end := p.log.EndOffsetForEpoch(lastFetched)
	if epoch < 0 || end < 0 || offset < p.log.LogStartOffset() {
		return ReadResult{}, klog.ErrOffsetOutOfRange
	}
	if epoch >= lastFetched && end >= offset {
		return ReadResult{}, nil
	}
	return ReadResult{ReadResult: p.log.Offsets(), Diverging: &EpochEndOffset{Epoch: epoch, EndOffset: end}}, nil
}

// ListOffset answers one partition of ListOffsets (Partition.fetchOffsetForTimestamp): the offset and timestamp
// for ts (-1 latest, -2 earliest, else the first record at or after ts) and the leader epoch of that offset.
// found is false when no such record is visible. What a consumer (replicaID -1) sees ends at the high watermark, or
// the last stable offset with readCommitted; others (followers, the debugging consumer -2) have no isolation level
// and see the whole log, as KafkaApis passes none for them.
func (m *Manager) ListOffset(topic string, partition int32, ts int64, replicaID int32, readCommitted bool, currentLeaderEpoch int32) (offset, timestamp int64, epoch int32, found bool, err error) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return -1, -1, -1, false, err
	}
	p.mu.Lock()
	// Debugging consumers (-2) may read from followers.
	if replicaID != -2 {
		if err := p.leaderLocked(m.cfg.BrokerID, currentLeaderEpoch); err != nil {
			p.mu.Unlock()
			return -1, -1, -1, false, err
		}
	} else if err := checkEpoch(currentLeaderEpoch, p.leaderEpoch); err != nil {
		p.mu.Unlock()
		return -1, -1, -1, false, err
	}
	leaderEpoch := p.leaderEpoch
	hw := p.log.HighWatermark()
	consumer := replicaID == -1
	var lastFetchable int64
	switch {
	case !consumer:
		lastFetchable = p.log.LogEndOffset()
	case readCommitted:
		lastFetchable = p.log.LastStableOffset()
	default:
		lastFetchable = hw
	}
	// A new leader whose high watermark is still below its epoch start cannot answer a consumer yet: not the latest
	// offset, nor a timestamp it finds nothing visible for.
	lagging := false
	if consumer {
		for _, e := range p.log.EpochEntries() {
			if e.Epoch == leaderEpoch && hw < e.StartOffset {
				lagging = true
			}
		}
	}
	p.mu.Unlock()
	switch ts {
	case klog.LatestTimestamp:
		if lagging {
			return -1, -1, -1, false, kerr.OffsetNotAvailable
		}
		return lastFetchable, -1, leaderEpoch, true, nil
	case klog.EarliestTimestamp:
		off := p.log.LogStartOffset()
		return off, -1, epochForOffset(p.log.EpochEntries(), off), true, nil
	}
	off, t, ok := p.log.OffsetForTimestamp(ts)
	if !ok || off >= lastFetchable {
		if lagging {
			return -1, -1, -1, false, kerr.OffsetNotAvailable
		}
		return -1, -1, -1, false, nil
	}
	return off, t, epochForOffset(p.log.EpochEntries(), off), true, nil
}

// LegacyListOffsets answers ListOffsets v0 as Kafka's Partition.legacyFetchOffsetsForTimestamp: offsets from the
// log's segment list (klog.Log.LegacyOffsetsBefore), read on the leader unless the caller is a debugging consumer
// (-2); a consumer (-1) sees none past the high watermark, the high watermark in their place.
func (m *Manager) LegacyListOffsets(topic string, partition int32, ts int64, maxNum int32, replicaID int32) ([]int64, error) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return nil, err
	}
	if replicaID != -2 {
		p.mu.Lock()
		err := p.leaderLocked(m.cfg.BrokerID, -1)
		p.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	offsets, err := p.log.LegacyOffsetsBefore(ts, maxNum)
	if err != nil || replicaID != -1 {
		return offsets, err
	}
	hw := p.log.HighWatermark()
	if !slices.ContainsFunc(offsets, func(o int64) bool { return o > hw }) {
		return offsets, nil
	}
	kept := []int64{hw}
	for i, o := range offsets {
		if o <= hw {
			kept = append(kept, offsets[i:]...)
			break
		}
	}
	return kept, nil
}

func epochForOffset(es []klog.EpochEntry, off int64) int32 {
	epoch := int32(-1)
	for _, e := range es {
		if e.StartOffset <= off {
			epoch = e.Epoch
		}
	}
	return epoch
}

// Close stops the fetchers and forgets every partition (the logs belong to the log manager, which the caller
// closes).
func (m *Manager) Close() {
	m.stopFetchers()
	m.mu.Lock()
	for tp, p := range m.partitions {
		p.mu.Lock()
		p.leader = -1
		p.signalLocked()
		p.mu.Unlock()
		delete(m.partitions, tp)
	}
	m.mu.Unlock()
	m.signal()
}

// ControllerEpochOf is the epoch of the controller whose LeaderAndIsr last set the partition's state here (what a
// leader writes into the partition's state znode when it changes the ISR itself, below IBP 2.7-IV2).
func (m *Manager) ControllerEpochOf(topic string, partition int32) (int32, error) {
	p, err := m.lookup(topic, partition)
	if err != nil {
		return -1, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.controllerEpoch, nil
}

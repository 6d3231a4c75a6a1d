// Package txn is Kafka 2.8's transaction coordinator: the state of every transactional id whose
// __transaction_state partition this broker leads, the InitProducerId, AddPartitionsToTxn and EndTxn APIs, the
// commit and abort markers sent to the partitions of a transaction, and the timeouts that abort a forgotten
// transaction or expire an idle transactional id.
//
// Every change is written to __transaction_state before it applies (a pending transition, as
// TransactionMetadata keeps it): the log append happens outside the coordinator's lock, then the change is applied
// if the partition is still led in the same coordinator epoch. Time comes from Config.Now, so tests drive it.
package txn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
)

// Config holds the broker settings the coordinator uses, with Kafka's names in the comments.
type Config struct {
	NumPartitions           int32 // transaction.state.log.num.partitions
	MaxTimeoutMs            int32 // transaction.max.timeout.ms
	IDExpirationMs          int64 // transactional.id.expiration.ms
	AbortTimedOutIntervalMs int64 // transaction.abort.timed.out.transaction.cleanup.interval.ms
	RemoveExpiredIntervalMs int64 // transaction.remove.expired.transaction.cleanup.interval.ms
	// RetryBackoff is how long markers that could not be written wait before they are sent again.
	RetryBackoff time.Duration
	// Now is the clock in Unix milliseconds; nil uses the wall clock.
	Now func() int64
}

// DefaultConfig is Kafka 2.8's defaults.
func DefaultConfig() Config {
	return Config{NumPartitions: 50, MaxTimeoutMs: 900000, IDExpirationMs: 7 * 24 * 3600 * 1000,
		AbortTimedOutIntervalMs: 10000, RemoveExpiredIntervalMs: 3600000, RetryBackoff: 100 * time.Millisecond}
}

// ProducerIDs hands out producer ids never used before in the cluster (*group.ProducerIDManager).
type ProducerIDs interface {
	Generate() (int64, error)
}

// Leaders tells where a transaction's partitions are led: exists is false for a partition the metadata does not
// have (its topic deleted: no marker is needed), broker is -1 while it has no live leader.
type Leaders interface {
	Leader(topic string, partition int32) (broker int32, exists bool)
}

// MarkerSender sends WriteTxnMarkers to a broker (this one included) and returns its answer.
type MarkerSender interface {
	WriteTxnMarkers(ctx context.Context, broker int32, req *kmsg.WriteTxnMarkersRequest) (*kmsg.WriteTxnMarkersResponse, error)
}

// TopicName is the transaction log's topic.
const TopicName = "__transaction_state"

var (
	// errFenced is PRODUCER_FENCED from an epoch check inside a transition.
	errFenced = kerr.ProducerFenced
	// errDone answers a request that repeats one already done (an EndTxn of a completed transaction).
	errDone = &kerr.Error{Message: "NONE"}
)

type ownedPartition struct {
	epoch int32 // the coordinator epoch: the partition's leader epoch when it was loaded
	txns  map[string]*metadata
}

// Coordinator is one broker's transaction coordinator. Safe for concurrent use.
type Coordinator struct {
	cfg     Config
	log     coordlog.Log
	ids     ProducerIDs
	leaders Leaders
	send    MarkerSender
	logger  *slog.Logger

	mu      sync.Mutex
	active  bool
	owned   map[int32]*ownedPartition
	loading map[int32]int32 // partition → coordinator epoch being loaded
	jobs    map[string]*markerJob
	wake    chan struct{}

	lastAbortCheck, lastExpiry int64
}

// New returns a coordinator that owns no partitions yet.
func New(cfg Config, log coordlog.Log, ids ProducerIDs, leaders Leaders, send MarkerSender, logger *slog.Logger) *Coordinator {
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 100 * time.Millisecond
	}
	now := cfg.Now()
	return &Coordinator{cfg: cfg, log: log, ids: ids, leaders: leaders, send: send, logger: logger, active: true,
		owned: map[int32]*ownedPartition{}, loading: map[int32]int32{}, jobs: map[string]*markerJob{},
		wake: make(chan struct{}, 1), lastAbortCheck: now, lastExpiry: now}
}

// PartitionFor is the __transaction_state partition of a transactional id.
func (c *Coordinator) PartitionFor(id string) int32 {
	return coordlog.PartitionFor(id, c.cfg.NumPartitions)
}

// lookup finds id's metadata and the coordinator epoch (getTransactionState); m is nil when the id is unknown.
func (c *Coordinator) lookup(id string) (int32, *metadata, *kerr.Error) {
	if !c.active {
		return 0, nil, kerr.CoordinatorNotAvailable
	}
	p := c.PartitionFor(id)
	if _, ok := c.loading[p]; ok {
		return 0, nil, kerr.CoordinatorLoadInProgress
	}
	o, ok := c.owned[p]
	if !ok {
		return 0, nil, kerr.NotCoordinator
	}
	return o.epoch, o.txns[id], nil
}

// appendCode maps a failed append as appendTransactionToLog does.
func appendCode(err error) *kerr.Error {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return kerr.UnknownServerError
	}
	switch ke {
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut:
		return kerr.CoordinatorNotAvailable
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator
	case kerr.MessageTooLarge, kerr.RecordListTooLarge:
		return kerr.UnknownServerError
	}
	return ke
}

// write appends a prepared transition for id and applies it if the coordinator epoch has not moved meanwhile. On
// failure the pending transition is dropped, unless keep says the caller retries it.
func (c *Coordinator) write(id string, epoch int32, t transit, keep func(*kerr.Error) bool) *kerr.Error {
	c.mu.Lock()
	e, m, code := c.lookup(id)
	switch {
	case code != nil:
		c.mu.Unlock()
		return code
	case m == nil:
		c.mu.Unlock()
		return kerr.NotCoordinator
	case e != epoch:
		c.mu.Unlock()
		return kerr.NotCoordinator
	}
	c.mu.Unlock()

	batch := coordlog.EncodeBatch(c.cfg.Now(), coordlog.Producer{}, []coordlog.Record{{Key: encodeKey(id), Value: encodeValue(t)}})
	_, err := c.log.Append(c.PartitionFor(id), batch)

	c.mu.Lock()
	defer c.mu.Unlock()
	e, m, code = c.lookup(id)
	if err != nil {
		code := appendCode(err)
		c.logger.Info("appending to the transaction log failed", "transactional_id", id, "state", t.state, "err", err)
		if m != nil && e == epoch && (keep == nil || !keep(code)) {
			m.hasPending = false
		}
		return code
	}
	switch {
	case code != nil:
		return code
	case m == nil || e != epoch:
		return kerr.NotCoordinator
	}
	if err := m.complete(t); err != nil {
		c.logger.Error("transaction state transition failed", "err", err)
		return kerr.UnknownServerError
	}
	return nil
}

// ---- InitProducerId ----

// InitProducerID is handleInitProducerId for a transactional id: a producer id and a bumped epoch, fencing
// earlier producers of the id. expectedPID/expectedEpoch are the request's (-1 when not sent, KIP-360).
func (c *Coordinator) InitProducerID(id string, timeoutMs int32, expectedPID int64, expectedEpoch int16) (int64, int16, *kerr.Error) {
	switch {
	case id == "":
		return -1, -1, kerr.InvalidRequest
	case timeoutMs <= 0 || timeoutMs > c.cfg.MaxTimeoutMs:
		return -1, -1, kerr.InvalidTransactionTimeout
	}
	c.mu.Lock()
	epoch, m, code := c.lookup(id)
	if code != nil {
		c.mu.Unlock()
		return -1, -1, code
	}
	if m == nil {
		pid, err := c.ids.Generate()
		if err != nil {
			c.mu.Unlock()
			c.logger.Warn("producer id allocation failed", "err", err)
			return -1, -1, kerr.UnknownServerError
		}
		m = &metadata{id: id, producerID: pid, lastProducerID: noProducerID, epoch: noProducerEpoch,
			lastEpoch: noProducerEpoch, timeoutMs: timeoutMs, state: Empty, partitions: partitionSet{}, startMs: -1,
			lastUpdateMs: c.cfg.Now()}
		c.owned[c.PartitionFor(id)].txns[id] = m
	}
	t, code := c.prepareInit(m, timeoutMs, expectedPID, expectedEpoch)
	c.mu.Unlock()
	if code != nil {
		return -1, -1, code
	}
	if t.state == PrepareEpochFence {
		// An ongoing transaction is aborted first; the producer retries and then gets the epoch after.
		if code := c.endTxn(id, t.producerID, t.epoch, false, false); code != nil {
			return -1, -1, code
		}
		return -1, -1, kerr.ConcurrentTransactions
	}
	if code := c.write(id, epoch, t, nil); code != nil {
		c.logger.Info("returning error to InitProducerId", "transactional_id", id, "err", code.Message)
		return -1, -1, code
	}
	c.logger.Info("initialized transactional id", "transactional_id", id, "producer_id", t.producerID,
		"producer_epoch", t.epoch, "partition", fmt.Sprintf("%s-%d", TopicName, c.PartitionFor(id)))
	return t.producerID, t.epoch, nil
}

// prepareInit is prepareInitProducerIdTransit.
func (c *Coordinator) prepareInit(m *metadata, timeoutMs int32, expectedPID int64, expectedEpoch int16) (transit, *kerr.Error) {
	expected := expectedPID >= 0
	if m.hasPending {
		return transit{}, kerr.ConcurrentTransactions
	}
	if expected && !(m.epoch == noProducerEpoch || expectedPID == m.producerID ||
		(expectedPID == m.lastProducerID && epochExhausted(expectedEpoch))) {
		return transit{}, kerr.ProducerFenced
	}
	var (
		t   transit
		err error
	)
	switch m.state {
	case PrepareAbort, PrepareCommit:
		return transit{}, kerr.ConcurrentTransactions
	case CompleteAbort, CompleteCommit, Empty:
		if epochExhausted(m.epoch) && (!expected || expectedEpoch == m.epoch) {
			pid, gerr := c.ids.Generate()
			if gerr != nil {
				c.logger.Warn("producer id allocation failed", "err", gerr)
				return transit{}, kerr.UnknownServerError
			}
			t, err = m.prepareRotation(pid, timeoutMs, c.cfg.Now(), expected)
		} else {
			var exp *int16
			if expected {
				exp = &expectedEpoch
			}
			t, err = m.prepareIncrementEpoch(timeoutMs, exp, c.cfg.Now())
		}
	case Ongoing:
		t, err = m.prepareFence()
	default:
		err = fmt.Errorf("transactional id %s is in state %s", m.id, m.state)
	}
	if err == errFenced {
		return transit{}, kerr.ProducerFenced
	}
	if err != nil {
		c.logger.Error("InitProducerId transition", "err", err)
		return transit{}, kerr.UnknownServerError
	}
	return t, nil
}

// ---- AddPartitionsToTxn, AddOffsetsToTxn ----

// AddPartitions is handleAddPartitionsToTransaction: the partitions join the ongoing transaction (which starts
// with the first of them).
func (c *Coordinator) AddPartitions(id string, pid int64, epoch int16, tps []TopicPartition) *kerr.Error {
	if id == "" {
		return kerr.InvalidRequest
	}
	c.mu.Lock()
	ce, m, code := c.lookup(id)
	var t transit
	switch {
	case code != nil:
	case m == nil || m.producerID != pid:
		code = kerr.InvalidProducerIDMapping
	case m.epoch != epoch:
		code = kerr.ProducerFenced
	case m.hasPending, m.state == PrepareCommit, m.state == PrepareAbort:
		code = kerr.ConcurrentTransactions
	case m.state == Ongoing && m.partitions.containsAll(tps):
		c.mu.Unlock()
		return nil
	default:
		var err error
		if t, err = m.prepareAddPartitions(tps, c.cfg.Now()); err != nil {
			c.logger.Error("AddPartitionsToTxn transition", "err", err)
			code = kerr.UnknownServerError
		}
	}
	c.mu.Unlock()
	if code != nil {
		return code
	}
	return c.write(id, ce, t, nil)
}

// ---- EndTxn ----

// EndTxn is handleEndTransaction: the transaction is prepared to commit or abort in the log, the client is
// answered, and the markers go out.
func (c *Coordinator) EndTxn(id string, pid int64, epoch int16, commit bool) *kerr.Error {
	return c.endTxn(id, pid, epoch, commit, true)
}

func (c *Coordinator) endTxn(id string, pid int64, epoch int16, commit, fromClient bool) *kerr.Error {
	if id == "" {
		return kerr.InvalidRequest
	}
	c.mu.Lock()
	ce, m, code := c.lookup(id)
	var (
		t     transit
		fence bool
	)
	switch {
	case code != nil:
	case m == nil || m.producerID != pid:
		code = kerr.InvalidProducerIDMapping
	case (fromClient && epoch != m.epoch) || epoch < m.epoch:
		// Clients must send the current epoch; the coordinator's own aborts carry a bumped one.
		code = kerr.ProducerFenced
	case m.hasPending && m.pending != PrepareEpochFence:
		code = kerr.ConcurrentTransactions
	default:
		t, fence, code = c.prepareEnd(m, epoch, commit)
	}
	if code != nil && m != nil && m.hasPending && m.pending == PrepareEpochFence && !fromClient {
		// The fence never reaches the log: let later requests in.
		m.hasPending = false
	}
	c.mu.Unlock()
	if code != nil {
		if code == errDone {
			return nil
		}
		return code
	}
	if code := c.write(id, ce, t, nil); code != nil {
		if fence {
			c.mu.Lock()
			if e, m, lc := c.lookup(id); lc == nil && m != nil && e == ce {
				m.failedEpochFence = true
				c.logger.Warn("writing an epoch fence failed: the bumped epoch was not returned to the client",
					"transactional_id", id, "producer_epoch", t.epoch, "err", code.Message)
			}
			c.mu.Unlock()
		}
		return code
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, m, code := c.lookup(id)
	switch {
	case code != nil:
		return code
	case m == nil || e != ce:
		return kerr.NotCoordinator
	case m.producerID != pid:
		return kerr.InvalidProducerIDMapping
	case m.epoch != epoch:
		return kerr.ProducerFenced
	case m.hasPending:
		return kerr.ConcurrentTransactions
	case m.state != PrepareCommit && m.state != PrepareAbort, (m.state == PrepareCommit) != commit:
		return kerr.InvalidTxnState
	}
	done, err := m.prepareComplete(c.cfg.Now())
	if err != nil {
		c.logger.Error("EndTxn completion", "err", err)
		return kerr.UnknownServerError
	}
	c.addJob(m, ce, done)
	return nil
}

// prepareEnd picks EndTxn's transition by the current state; NoError means the request is already done.
func (c *Coordinator) prepareEnd(m *metadata, epoch int16, commit bool) (transit, bool, *kerr.Error) {
	invalid := func() (transit, bool, *kerr.Error) {
		c.logger.Debug("transaction marker result does not fit the state", "transactional_id", m.id, "state", m.state, "commit", commit)
		return transit{}, false, kerr.InvalidTxnState
	}
	switch m.state {
	case Ongoing:
		next := PrepareAbort
		if commit {
			next = PrepareCommit
		}
		fence := false
		if next == PrepareAbort && m.hasPending && m.pending == PrepareEpochFence {
			// The epoch fence's abort: its bumped epoch is written with PrepareAbort.
			fence = true
			m.hasPending = false
			m.epoch, m.lastEpoch = epoch, noProducerEpoch
		}
		t, err := m.prepareEnd(next, c.cfg.Now())
		if err != nil {
			c.logger.Error("EndTxn transition", "err", err)
			return transit{}, false, kerr.UnknownServerError
		}
		return t, fence, nil
	case CompleteCommit:
		if commit {
			return transit{}, false, errDone
		}
		return invalid()
	case CompleteAbort:
		if !commit {
			return transit{}, false, errDone
		}
		return invalid()
	case PrepareCommit:
		if commit {
			return transit{}, false, kerr.ConcurrentTransactions
		}
		return invalid()
	case PrepareAbort:
		if !commit {
			return transit{}, false, kerr.ConcurrentTransactions
		}
		return invalid()
	case Empty:
		return invalid()
	}
	c.logger.Error("transactional id in an impossible state", "transactional_id", m.id, "state", m.state)
	return transit{}, false, kerr.UnknownServerError
}

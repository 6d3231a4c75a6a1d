package txn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// markerJob is a transaction between its prepare record and its complete record: the markers still to be written
// and the completion prepared for when they are (TransactionMarkerChannelManager's queues and PendingCompleteTxn).
type markerJob struct {
	id         string
	coordEpoch int32
	commit     bool
	pid        int64
	epoch      int16
	remaining  partitionSet
	done       transit
}

func (c *Coordinator) addJob(m *metadata, coordEpoch int32, done transit) {
	j := &markerJob{id: m.id, coordEpoch: coordEpoch, commit: m.state == PrepareCommit, pid: m.producerID,
		epoch: m.epoch, remaining: partitionSet{}, done: done}
	for tp := range m.partitions {
		j.remaining[tp] = struct{}{}
	}
	c.jobs[m.id] = j
	c.signal()
}

func (c *Coordinator) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Run sends markers, retries them, and runs the periodic aborts of timed-out transactions and the expiry of idle
// transactional ids, until ctx ends.
func (c *Coordinator) Run(ctx context.Context) {
	t := time.NewTicker(c.cfg.RetryBackoff)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-t.C:
		}
		c.Step(ctx)
	}
}

// Step does one round of Run's work: markers sent and answered, completions written, and the periodic checks
// that are due.
func (c *Coordinator) Step(ctx context.Context) {
	c.sendMarkers(ctx)
	c.writeCompletions()
	now := c.cfg.Now()
	c.mu.Lock()
	abort := c.cfg.AbortTimedOutIntervalMs > 0 && now-c.lastAbortCheck >= c.cfg.AbortTimedOutIntervalMs
	if abort {
		c.lastAbortCheck = now
	}
	expire := c.cfg.RemoveExpiredIntervalMs > 0 && now-c.lastExpiry >= c.cfg.RemoveExpiredIntervalMs
	if expire {
		c.lastExpiry = now
	}
	c.mu.Unlock()
	if abort {
		c.AbortTimedOut()
	}
	if expire {
		c.RemoveExpired()
	}
}

// current says whether a job still belongs to this coordinator: its partition led in the same epoch, its
// transaction still prepared.
func (c *Coordinator) currentLocked(j *markerJob) (*metadata, bool) {
	e, m, code := c.lookup(j.id)
	if code != nil || m == nil || e != j.coordEpoch {
		return nil, false
	}
	return m, true
}

type markerTarget struct {
	job *markerJob
	tps []TopicPartition
}

// sendMarkers writes the markers of every job to the leaders of its partitions, one request per broker.
func (c *Coordinator) sendMarkers(ctx context.Context) {
	c.mu.Lock()
	byBroker := map[int32][]markerTarget{}
	for _, id := range slices.Sorted(maps.Keys(c.jobs)) {
		j := c.jobs[id]
		m, ok := c.currentLocked(j)
		if !ok {
			c.logger.Info("no longer the coordinator of the transaction: its markers are not sent", "transactional_id", id)
			delete(c.jobs, id)
			continue
		}
		targets := map[int32][]TopicPartition{}
		for _, tp := range j.remaining.sorted() {
			broker, exists := c.leaders.Leader(tp.Topic, tp.Partition)
			switch {
			case !exists:
				// The partition is gone (its topic deleted): nothing to mark.
				c.logger.Info("partition of a transaction no longer exists: no marker written", "transactional_id", id, "partition", tp)
				delete(j.remaining, tp)
				delete(m.partitions, tp)
			case broker >= 0:
				targets[broker] = append(targets[broker], tp)
			}
		}
		for b, tps := range targets {
			byBroker[b] = append(byBroker[b], markerTarget{job: j, tps: tps})
		}
	}
	c.mu.Unlock()
	for _, b := range slices.Sorted(maps.Keys(byBroker)) {
		c.sendTo(ctx, b, byBroker[b])
	}
}

func (c *Coordinator) sendTo(ctx context.Context, broker int32, targets []markerTarget) {
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	for _, t := range targets {
		mk := kmsg.NewWriteTxnMarkersRequestMarker()
		mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = t.job.pid, t.job.epoch, t.job.commit, t.job.coordEpoch
		for _, tp := range t.tps {
			if n := len(mk.Topics); n == 0 || mk.Topics[n-1].Topic != tp.Topic {
				mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
				mt.Topic = tp.Topic
				mk.Topics = append(mk.Topics, mt)
			}
			mt := &mk.Topics[len(mk.Topics)-1]
			mt.Partitions = append(mt.Partitions, tp.Partition)
		}
		req.Markers = append(req.Markers, mk)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	resp, err := c.send.WriteTxnMarkers(sctx, broker, req)
	cancel()
	if err != nil {
		c.logger.Debug("sending transaction markers failed, retrying", "broker", broker, "err", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range targets {
		c.applyMarkerResult(t, resp)
	}
}

// applyMarkerResult is TransactionMarkerRequestCompletionHandler for one transaction's partitions on one broker.
func (c *Coordinator) applyMarkerResult(t markerTarget, resp *kmsg.WriteTxnMarkersResponse) {
	j := t.job
	if c.jobs[j.id] != j {
		return
	}
	m, ok := c.currentLocked(j)
	if !ok {
		c.logger.Info("coordinator epoch changed: markers of the transaction are no longer sent", "transactional_id", j.id)
		delete(c.jobs, j.id)
		return
	}
	codes := map[TopicPartition]int16{}
	for _, mr := range resp.Markers {
		if mr.ProducerID != j.pid {
			continue
		}
		for _, rt := range mr.Topics {
			for _, rp := range rt.Partitions {
				codes[TopicPartition{rt.Topic, rp.Partition}] = rp.ErrorCode
			}
		}
	}
	for _, tp := range t.tps {
		code, ok := codes[tp]
		if !ok {
			continue // not answered: sent again
		}
		switch err := kerr.ErrorForCode(code); err {
		case nil, kerr.UnsupportedForMessageFormat, kerr.UnsupportedVersion:
			// Written, or never to be written there (a log in an old message format).
			delete(j.remaining, tp)
			delete(m.partitions, tp)
		case kerr.InvalidProducerEpoch, kerr.TransactionCoordinatorFenced:
			c.logger.Info("transaction markers permanently refused: no more are sent", "transactional_id", j.id,
				"partition", tp, "err", err)
			delete(c.jobs, j.id)
			return
		case kerr.UnknownTopicOrPartition, kerr.NotLeaderForPartition, kerr.NotEnoughReplicas,
			kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut, kerr.KafkaStorageError:
			c.logger.Info("writing a transaction marker failed, retrying", "transactional_id", j.id, "partition", tp, "err", err)
		default:
			c.logger.Error("unexpected error writing a transaction marker, retrying", "transactional_id", j.id,
				"partition", tp, "err", err)
		}
	}
}

// writeCompletions writes CompleteCommit or CompleteAbort for every job whose markers are all written
// (maybeWriteTxnCompletion); a coordinator that is not available yet tries again later.
func (c *Coordinator) writeCompletions() {
	c.mu.Lock()
	var ready []*markerJob
	for _, id := range slices.Sorted(maps.Keys(c.jobs)) {
		if j := c.jobs[id]; len(j.remaining) == 0 {
			ready = append(ready, j)
		}
	}
	c.mu.Unlock()
	for _, j := range ready {
		// Only a coordinator that lost the partition gives up; any other failure is tried again (Kafka retries
		// COORDINATOR_NOT_AVAILABLE and treats the rest as a bug).
		retry := func(code *kerr.Error) bool { return code != kerr.NotCoordinator }
		code := c.write(j.id, j.coordEpoch, j.done, retry)
		c.mu.Lock()
		if (code == nil || !retry(code)) && c.jobs[j.id] == j {
			delete(c.jobs, j.id)
		}
		c.mu.Unlock()
		switch {
		case code == nil:
			c.logger.Debug("transaction completed", "transactional_id", j.id, "commit", j.commit)
		case retry(code):
			c.logger.Info("completing the transaction failed, retrying", "transactional_id", j.id, "err", code.Message)
		default:
			c.logger.Info("no longer the coordinator: the transaction is completed by the next one", "transactional_id", j.id)
		}
	}
}

// ---- loading and unloading partitions ----

// BecomeCoordinator loads a __transaction_state partition this broker now leads at leader epoch coordEpoch,
// replaying it from the start; transactions found prepared get their markers sent again.
func (c *Coordinator) BecomeCoordinator(partition, coordEpoch int32) error {
	c.mu.Lock()
	c.loading[partition] = coordEpoch
	c.dropJobsLocked(partition)
	c.mu.Unlock()

	txns := map[string]*metadata{}
	err := c.log.ReadAll(partition, func(b []byte) error { return replay(b, txns) })
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.loading[partition]; !ok || e != coordEpoch {
		return nil // resigned or reloaded meanwhile
	}
	delete(c.loading, partition)
	if err != nil {
		return err
	}
	c.owned[partition] = &ownedPartition{epoch: coordEpoch, txns: txns}
	now := c.cfg.Now()
	for _, id := range slices.Sorted(maps.Keys(txns)) {
		m := txns[id]
		if m.state != PrepareCommit && m.state != PrepareAbort {
			continue
		}
		done, err := m.prepareComplete(now)
		if err != nil {
			c.logger.Error("completing a loaded transaction", "err", err)
			continue
		}
		c.addJob(m, coordEpoch, done)
	}
	c.logger.Info("loaded transaction metadata", "partition", partition, "coordinator_epoch", coordEpoch, "transactions", len(txns))
	return nil
}

// ResignCoordinator forgets a partition this broker no longer leads.
func (c *Coordinator) ResignCoordinator(partition int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.loading, partition)
	delete(c.owned, partition)
	c.dropJobsLocked(partition)
}

func (c *Coordinator) dropJobsLocked(partition int32) {
	for id := range c.jobs {
		if c.PartitionFor(id) == partition {
			delete(c.jobs, id)
		}
	}
}

// Shutdown stops the coordinator: later requests get COORDINATOR_NOT_AVAILABLE.
func (c *Coordinator) Shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active = false
	c.owned, c.loading, c.jobs = map[int32]*ownedPartition{}, map[int32]int32{}, map[string]*markerJob{}
}

// ---- timeouts ----

// AbortTimedOut aborts every ongoing transaction older than its timeout, fencing its producer with a bumped epoch
// (abortTimedOutTransactions).
func (c *Coordinator) AbortTimedOut() {
	now := c.cfg.Now()
	type victim struct {
		id    string
		pid   int64
		epoch int16
	}
	var vs []victim
	c.mu.Lock()
	for _, p := range slices.Sorted(maps.Keys(c.owned)) {
		for _, id := range slices.Sorted(maps.Keys(c.owned[p].txns)) {
			m := c.owned[p].txns[id]
			if !m.hasPending && m.state == Ongoing && m.startMs+int64(m.timeoutMs) < now {
				vs = append(vs, victim{id, m.producerID, m.epoch})
			}
		}
	}
	c.mu.Unlock()
	for _, v := range vs {
		c.mu.Lock()
		_, m, code := c.lookup(v.id)
		if code != nil || m == nil || m.producerID != v.pid || m.hasPending {
			c.mu.Unlock()
			continue
		}
		t, err := m.prepareFence()
		c.mu.Unlock()
		if err != nil {
			c.logger.Error("fencing a timed-out transaction", "err", err)
			continue
		}
		switch code := c.endTxn(v.id, t.producerID, t.epoch, false, false); code {
		case nil:
			c.logger.Info("rolled back a timed-out transaction", "transactional_id", v.id)
		case kerr.InvalidProducerIDMapping, kerr.ProducerFenced, kerr.ConcurrentTransactions:
			c.logger.Debug("rollback of a timed-out transaction cancelled", "transactional_id", v.id, "err", code.Message)
		default:
			c.logger.Warn("rollback of a timed-out transaction failed", "transactional_id", v.id, "err", code.Message)
		}
	}
}

// RemoveExpired writes tombstones for transactional ids idle longer than transactional.id.expiration.ms whose last
// transaction is complete, and forgets them (removeExpiredTransactionalIds).
func (c *Coordinator) RemoveExpired() {
	now := c.cfg.Now()
	type dead struct {
		id    string
		epoch int16
		t     transit
	}
	c.mu.Lock()
	parts := slices.Sorted(maps.Keys(c.owned))
	work := map[int32][]dead{}
	epochs := map[int32]int32{}
	for _, p := range parts {
		o := c.owned[p]
		epochs[p] = o.epoch
		for _, id := range slices.Sorted(maps.Keys(o.txns)) {
			m := o.txns[id]
			if m.hasPending || !m.state.expirable() || m.lastUpdateMs > now-c.cfg.IDExpirationMs {
				continue
			}
			t, err := m.prepareDead()
			if err != nil {
				c.logger.Error("expiring a transactional id", "err", err)
				continue
			}
			work[p] = append(work[p], dead{id, m.epoch, t})
		}
	}
	c.mu.Unlock()
	for _, p := range parts {
		ds := work[p]
		if len(ds) == 0 {
			continue
		}
		var recs []coordlog.Record
		for _, d := range ds {
			recs = append(recs, coordlog.Record{Key: encodeKey(d.id)})
		}
		_, err := c.log.Append(p, coordlog.EncodeBatch(now, coordlog.Producer{}, recs))
		c.mu.Lock()
		for _, d := range ds {
			e, m, code := c.lookup(d.id)
			if code != nil || m == nil {
				continue
			}
			if err == nil && e == epochs[p] && m.hasPending && m.pending == Dead && m.epoch == d.epoch {
				delete(c.owned[p].txns, d.id)
				continue
			}
			c.logger.Warn("expired transactional id not removed", "transactional_id", d.id, "err", errString(err))
			m.hasPending = false
		}
		c.mu.Unlock()
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// replay applies one read of __transaction_state to txns: the last value per transactional id wins, a tombstone
// removes it.
func replay(p []byte, txns map[string]*metadata) error {
	return coordlog.SplitBatches(p, func(info coordlog.BatchInfo, e []byte) error {
		if info.Control {
			return nil
		}
		recs, err := klog.DecodeRecords(e)
		if err != nil {
			return fmt.Errorf("batch at offset %d: %w", info.BaseOffset, err)
		}
		for _, r := range recs {
			if err := replayRecord(r.Key, r.Value, txns); err != nil {
				return fmt.Errorf("record at offset %d: %w", r.Offset, err)
			}
		}
		return nil
	})
}

func replayRecord(key, value []byte, txns map[string]*metadata) error {
	{
		if key == nil {
			return errors.New("transaction state log's key should not be null")
		}
		id, err := decodeKey(key)
		if err != nil {
			return err
		}
		m, err := decodeValue(id, value)
		if err != nil {
			return err
		}
		if m == nil {
			delete(txns, id)
			return nil
		}
		txns[id] = m
		return nil
	}
}

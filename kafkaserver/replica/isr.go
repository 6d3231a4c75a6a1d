package replica

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// followerState is what a leader knows of one follower's fetches (Kafka's Replica).
type followerState struct {
	leo          int64     // the follower's last fetch offset; -1 before its first fetch in this leader epoch
	caughtUp     time.Time // the last time the follower had everything the leader had (lastCaughtUpTimeMs)
	lastFetch    time.Time
	lastFetchLEO int64 // the leader's log end at the follower's previous fetch
}

// becomeLeaderLocked resets the followers' states for a new leader epoch, which starts at the log end: the ISR's
// members count as caught up now (Partition.makeLeader), the others as never; no follower has fetched yet.
func (p *Partition) becomeLeaderLocked(self int32, now time.Time) {
	p.epochStart = p.log.LogEndOffset()
	p.followers = map[int32]*followerState{}
	for _, r := range p.replicas {
		if r == self {
			continue
		}
		fs := &followerState{leo: -1, lastFetchLEO: -1}
		if slices.Contains(p.isr, r) {
			fs.caughtUp = now
		}
		p.followers[r] = fs
	}
	p.pendingIsr = false
}

// followerFetchedLocked records a follower's fetch at offset (Replica.updateFetchState): it is caught up when it
// asked for the leader's log end, or for at least what the leader had at its previous fetch (then it was caught
// up as of that fetch).
func (p *Partition) followerFetchedLocked(id int32, offset int64, now time.Time) {
	fs := p.followers[id]
	if fs == nil {
		fs = &followerState{lastFetchLEO: -1}
		p.followers[id] = fs
	}
	fs.leo = offset
	leo := p.log.LogEndOffset()
	switch {
	case offset >= leo:
		fs.caughtUp = now
	case fs.lastFetchLEO >= 0 && offset >= fs.lastFetchLEO:
		fs.caughtUp = fs.lastFetch
	}
	fs.lastFetch, fs.lastFetchLEO = now, leo
}

// maybeExpandIsrLocked proposes adding follower id to the ISR once it holds everything up to the high watermark
// and the current leader epoch's start (Partition.maybeExpandIsr). It reports whether a proposal was made.
func (p *Partition) maybeExpandIsrLocked(self, id int32) bool {
	if p.pendingIsr || p.leader != self || slices.Contains(p.isr, id) || !slices.Contains(p.replicas, id) {
		return false
	}
	if fs := p.followers[id]; fs == nil || fs.leo < p.log.HighWatermark() || fs.leo < p.epochStart {
		return false
	}
	p.proposeIsrLocked(append(slices.Clone(p.isr), id))
	return true
}

// maybeShrinkIsrLocked proposes dropping the ISR followers that have not caught up within lagMax
// (Partition.maybeShrinkIsr).
func (p *Partition) maybeShrinkIsrLocked(self int32, now time.Time, lagMax time.Duration) bool {
	if p.pendingIsr || p.leader != self {
		return false
	}
	keep := make([]int32, 0, len(p.isr))
	for _, r := range p.isr {
		if fs := p.followers[r]; r != self && (fs == nil || now.Sub(fs.caughtUp) > lagMax) {
			continue
		}
		keep = append(keep, r)
	}
	if len(keep) == len(p.isr) {
		return false
	}
	p.proposeIsrLocked(keep)
	return true
}

func (p *Partition) proposeIsrLocked(isr []int32) {
	slices.Sort(isr)
	p.pendingIsr = true
	p.proposedIsr = isr
}

// pokeIsr wakes the ISR sender.
func (m *Manager) pokeIsr() {
	if m.isrCh == nil {
		return
	}
	select {
	case m.isrCh <- struct{}{}:
	default:
	}
}

// runIsr sends the ISR changes this broker proposes as leader to the controller with AlterIsr (AlterIsrManager), and
// checks every replica.lag.time.max.ms / 2 for followers to drop (the isr-expiration task).
func (m *Manager) runIsr(ctx context.Context) {
	defer m.fetchWG.Done()
	lagMax := m.fetchCfg.LagTimeMax
	if lagMax <= 0 {
		lagMax = 30 * time.Second
	}
	expire := time.NewTicker(lagMax / 2)
	defer expire.Stop()
	retry := time.NewTicker(max(m.fetchCfg.Backoff, 100*time.Millisecond))
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.isrCh:
		case now := <-expire.C:
			for _, p := range m.Partitions() {
				p.mu.Lock()
				p.maybeShrinkIsrLocked(m.cfg.BrokerID, now, lagMax)
				p.mu.Unlock()
			}
		case <-retry.C:
		}
		m.sendIsrChanges(ctx)
	}
}

// sendIsrChanges sends every pending proposal in one AlterIsr request and applies the answer. A proposal whose
// request failed stays pending and goes again at the next retry tick.
func (m *Manager) sendIsrChanges(ctx context.Context) {
	if m.fetchCfg.AlterIsr == nil {
		return
	}
	req := kmsg.NewPtrAlterPartitionRequest()
	req.BrokerID = m.cfg.BrokerID
	m.mu.RLock()
	req.BrokerEpoch = m.brokerEpoch
	m.mu.RUnlock()
	byTopic := map[string]int{}
	for _, p := range m.Partitions() {
		p.mu.Lock()
		if p.pendingIsr && p.leader == m.cfg.BrokerID {
			i, ok := byTopic[p.TP.Topic]
			if !ok {
				t := kmsg.NewAlterPartitionRequestTopic()
				t.Topic = p.TP.Topic
				req.Topics = append(req.Topics, t)
				i = len(req.Topics) - 1
				byTopic[p.TP.Topic] = i
			}
			rp := kmsg.NewAlterPartitionRequestTopicPartition()
			rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch = p.TP.Partition, p.leaderEpoch, p.partitionEpoch
			rp.NewISR = slices.Clone(p.proposedIsr)
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		}
		p.mu.Unlock()
	}
	if len(req.Topics) == 0 {
		return
	}
	resp, err := m.fetchCfg.AlterIsr(ctx, req)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		if ctx.Err() == nil {
			m.logger.Warn("AlterIsr failed; retrying", "err", err)
		}
		return
	}
	changed := false
	for _, t := range resp.Topics {
		for _, rp := range t.Partitions {
			p, err := m.lookup(t.Topic, rp.Partition)
			if err != nil {
				continue
			}
			p.mu.Lock()
			switch err := kerr.ErrorForCode(rp.ErrorCode); {
			case err == nil:
				if rp.LeaderEpoch == p.leaderEpoch && p.leader == m.cfg.BrokerID {
					// Kafka marks the meter of the change it proposed (PendingShrinkIsr, PendingExpandIsr).
					if len(p.proposedIsr) < len(p.isr) {
						m.isrShrinks.Add(1)
					} else {
						m.isrExpands.Add(1)
					}
					p.isr = slices.Clone(rp.ISR)
					p.partitionEpoch = rp.PartitionEpoch
					p.pendingIsr = false
					m.logger.Info("ISR updated", "partition", p.TP.String(), "isr", p.isr, "partition_epoch", p.partitionEpoch)
					p.maybeIncrementHWLocked(m.cfg.BrokerID)
					p.signalLocked()
					changed = true
				}
			case errors.Is(err, kerr.InvalidUpdateVersion), errors.Is(err, kerr.FencedLeaderEpoch), errors.Is(err, kerr.UnknownTopicOrPartition):
				// Our view is stale: a LeaderAndIsr with the controller's state is on its way (AlterIsrManager).
				m.logger.Info("AlterIsr refused; waiting for the controller's state", "partition", p.TP.String(), "err", err)
				p.pendingIsr = false
			default:
				m.logger.Warn("AlterIsr failed for partition; retrying", "partition", p.TP.String(), "err", err)
			}
			p.mu.Unlock()
		}
	}
	if changed {
		m.signal()
	}
}

// Package group is Kafka 2.8's group coordinator: group membership (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup), committed offsets, and their persistence on __consumer_offsets.
//
// Coordinator is a deterministic core: time only advances through Tick, every API takes a kmsg
// request and answers with a kmsg response through a callback (JoinGroup and SyncGroup may answer
// later, on another call or a Tick), and records go to __consumer_offsets through a coordlog.Log.
// Callbacks run after the coordinator's lock is released, in the order the core produced them.
package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
)

// Config holds the broker settings the coordinator uses, with Kafka's names in the comments.
type Config struct {
	NumPartitions                   int32 // offsets.topic.num.partitions
	MinSessionTimeoutMs             int32 // group.min.session.timeout.ms
	MaxSessionTimeoutMs             int32 // group.max.session.timeout.ms
	InitialRebalanceDelayMs         int32 // group.initial.rebalance.delay.ms
	MaxGroupSize                    int   // group.max.size
	OffsetsRetentionMs              int64 // offsets.retention.minutes * 60000
	OffsetsRetentionCheckIntervalMs int64 // offsets.retention.check.interval.ms
	MaxMetadataSize                 int   // offset.metadata.max.bytes
}

// DefaultConfig is Kafka 2.8's defaults.
func DefaultConfig() Config {
	return Config{NumPartitions: 50, MinSessionTimeoutMs: 6000, MaxSessionTimeoutMs: 1800000,
		InitialRebalanceDelayMs: 3000, MaxGroupSize: int(^uint32(0) >> 1), OffsetsRetentionMs: 7 * 24 * 3600 * 1000,
		OffsetsRetentionCheckIntervalMs: 600000, MaxMetadataSize: 4096}
}

// newMemberJoinTimeoutMs bounds how long a brand-new member may wait in a rebalance (Kafka's
// GroupCoordinator.NewMemberJoinTimeoutMs).
const newMemberJoinTimeoutMs = 5 * 60 * 1000

// Coordinator is the group coordinator of one broker. Safe for concurrent use.
type Coordinator struct {
	cfg    Config
	olog   coordlog.Log
	zk     ZKOffsets
	logger *slog.Logger
	newID  func() string

	mu          sync.Mutex
	now         int64
	active      bool
	owned       map[int32]bool
	groups      map[string]*group
	nextCleanup int64
	out         []func()
}

// New returns a coordinator that owns no partitions yet. zk may be nil (v0 offset APIs then fail
// with UNKNOWN_SERVER_ERROR). newID makes the random part of member ids (Kafka uses a UUID);
// tests pass a counter.
func New(cfg Config, olog coordlog.Log, zk ZKOffsets, newID func() string, logger *slog.Logger) *Coordinator {
	if logger == nil {
		logger = slog.Default()
	}
	return &Coordinator{cfg: cfg, olog: olog, zk: zk, logger: logger, newID: newID, active: true,
		owned: map[int32]bool{}, groups: map[string]*group{}}
}

// Now is the coordinator's current time in Unix milliseconds (the last Tick).
func (c *Coordinator) Now() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Coordinator) lock() { c.mu.Lock() }

// unlock releases the lock, then delivers the responses the core produced meanwhile.
func (c *Coordinator) unlock() {
	out := c.out
	c.out = nil
	c.mu.Unlock()
	for _, f := range out {
		f()
	}
}

func (c *Coordinator) emit(f func()) { c.out = append(c.out, f) }

// Shutdown stops the coordinator: every waiting JoinGroup/SyncGroup is answered
// NOT_COORDINATOR and later calls get COORDINATOR_NOT_AVAILABLE.
func (c *Coordinator) Shutdown() {
	c.lock()
	defer c.unlock()
	c.active = false
	for _, g := range c.sortedGroups() {
		c.unloadGroup(g)
	}
	c.owned = map[int32]bool{}
}

// errCode is the Kafka error code of a group-status check, 0 if the coordinator may serve groupID.
func (c *Coordinator) groupStatus(groupID string, allowEmpty bool) int16 {
	if !allowEmpty && groupID == "" {
		return kerr.InvalidGroupID.Code
	}
	if !c.active {
		return kerr.CoordinatorNotAvailable.Code
	}
	if !c.owned[coordlog.PartitionFor(groupID, c.cfg.NumPartitions)] {
		return kerr.NotCoordinator.Code
	}
	return 0
}

// appendCode maps a __consumer_offsets append failure as GroupMetadataManager does for group writes.
func appendCode(err error, offsets bool) int16 {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return kerr.CoordinatorNotAvailable.Code
	}
	switch ke {
	case kerr.UnknownTopicOrPartition, kerr.NotEnoughReplicas, kerr.NotEnoughReplicasAfterAppend, kerr.RequestTimedOut:
		return kerr.CoordinatorNotAvailable.Code
	case kerr.NotLeaderForPartition, kerr.KafkaStorageError:
		return kerr.NotCoordinator.Code
	case kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidFetchSize:
		if offsets {
			return kerr.InvalidCommitOffsetSize.Code
		}
		return kerr.UnknownServerError.Code
	}
	return ke.Code
}

// storeGroup writes the group's metadata record (value v3) with the given assignment.
func (c *Coordinator) storeGroup(g *group, assignment map[string][]byte) error {
	v := kmsg.GroupMetadataValue{Version: 3, Generation: g.generation, Protocol: g.protocol,
		CurrentStateTimestamp: g.stateTS}
	if g.protocolType != nil {
		v.ProtocolType = *g.protocolType
	}
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	for _, m := range g.allMembers() {
		mv := kmsg.GroupMetadataValueMember{MemberID: m.id, InstanceID: m.instanceID, ClientID: m.clientID,
			ClientHost: m.clientHost, RebalanceTimeoutMillis: m.rebalanceTimeout, SessionTimeoutMillis: m.sessionTimeout,
			Assignment: assignment[m.id]}
		if g.protocol != nil {
			mv.Subscription = m.metadata(*g.protocol)
		}
		if mv.Subscription == nil {
			mv.Subscription = []byte{}
		}
		if mv.Assignment == nil {
			mv.Assignment = []byte{}
		}
		v.Members = append(v.Members, mv)
	}
	batch := coordlog.EncodeBatch(c.now, coordlog.Producer{}, []coordlog.Record{{Key: groupKey(g.id), Value: v.AppendTo(nil)}})
	if _, err := c.olog.Append(g.partition, batch); err != nil {
		return fmt.Errorf("store group %q: %w", g.id, err)
	}
	return nil
}

func (c *Coordinator) sortedGroups() []*group {
	out := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// ---- heartbeats and delayed joins ----

func (c *Coordinator) scheduleHeartbeat(m *member, timeoutMs int64) {
	m.deadline = c.now + timeoutMs
}

// Tick advances time to now (Unix ms; earlier values are ignored) and fires what is due: session
// and join timeouts, delayed rebalances and the periodic offsets expiration.
func (c *Coordinator) Tick(now int64) {
	c.lock()
	defer c.unlock()
	if now > c.now {
		c.now = now
	}
	if c.nextCleanup == 0 {
		c.nextCleanup = c.now + c.cfg.OffsetsRetentionCheckIntervalMs
	}
	for _, g := range c.sortedGroups() {
		c.tickGroup(g)
	}
	if c.now >= c.nextCleanup {
		c.nextCleanup = c.now + c.cfg.OffsetsRetentionCheckIntervalMs
		c.cleanupExpired()
	}
}

func (c *Coordinator) tickGroup(g *group) {
	pend := make([]string, 0, len(g.pending))
	for id, dl := range g.pending {
		if dl <= c.now {
			pend = append(pend, id)
		}
	}
	sort.Strings(pend)
	for _, id := range pend {
		c.removePending(g, id)
	}
	for _, m := range g.allMembers() {
		// A removal above may have completed a rebalance that dropped m already.
		if g.state == Dead || g.members[m.id] != m || m.deadline == 0 || m.deadline > c.now {
			continue
		}
		m.deadline = 0
		// Members in a rebalance satisfy the heartbeat until it completes; new ones do not.
		if !m.isNew && (m.awaitingJoin() || m.awaitingSync()) {
			continue
		}
		c.logger.Info("member session expired", "group", g.id, "member", m.id)
		c.removeMemberAndUpdate(g, m)
	}
	for j := g.join; j != nil && j.deadline <= c.now; j = g.join {
		if j.initial && g.newAdded && j.remaining != 0 {
			// Extend from the old deadline, so coarse ticks fire as Kafka's timer would.
			g.newAdded = false
			d := min(int64(c.cfg.InitialRebalanceDelayMs), j.remaining)
			g.join = &delayedJoin{initial: true, deadline: j.deadline + d, delay: d, remaining: max(j.remaining-d, 0)}
		} else {
			c.completeJoin(g)
		}
	}
}

func (c *Coordinator) removePending(g *group, id string) {
	delete(g.pending, id)
	if g.state == PreparingRebalance {
		c.tryCompleteJoin(g)
	}
}

func (c *Coordinator) rebalanceTimeout(g *group) int64 {
	var t int32
	for _, m := range g.members {
		t = max(t, m.rebalanceTimeout)
	}
	return int64(t)
}

func (c *Coordinator) maybePrepareRebalance(g *group) {
	if g.canRebalance() {
		c.prepareRebalance(g)
	}
}

func (c *Coordinator) prepareRebalance(g *group) {
	if g.state == CompletingRebalance {
		c.resetAndPropagateAssignmentError(g, kerr.RebalanceInProgress.Code)
	}
	if g.state == Empty {
		d := int64(c.cfg.InitialRebalanceDelayMs)
		g.join = &delayedJoin{initial: true, deadline: c.now + d, delay: d, remaining: max(c.rebalanceTimeout(g)-d, 0)}
	} else {
		g.join = &delayedJoin{deadline: c.now + c.rebalanceTimeout(g)}
	}
	g.transition(PreparingRebalance, c.now)
	c.tryCompleteJoin(g)
}

func (c *Coordinator) tryCompleteJoin(g *group) {
	if g.join != nil && !g.join.initial && g.hasAllJoined() {
		c.completeJoin(g)
	}
}

// completeJoin is GroupCoordinator.onCompleteJoin.
func (c *Coordinator) completeJoin(g *group) {
	g.join = nil
	for _, m := range g.allMembers() {
		if !m.awaitingJoin() && m.instanceID == nil {
			g.remove(m.id)
		}
	}
	if g.state == Dead {
		return
	}
	if !g.maybeElectNewJoinedLeader() && len(g.members) > 0 {
		// Nobody rejoined yet; wait another rebalance timeout for session expiry to clear them out.
		g.join = &delayedJoin{deadline: c.now + c.rebalanceTimeout(g)}
		return
	}
	g.initNextGeneration(c.now)
	if g.state == Empty {
		if err := c.storeGroup(g, nil); err != nil {
			c.logger.Warn("failed to write empty group metadata", "group", g.id, "err", err)
		}
		return
	}
	for _, m := range g.allMembers() {
		resp := c.joinSuccess(g, m, g.leader)
		if m.id == g.leader {
			for _, o := range g.allMembers() {
				resp.Members = append(resp.Members, kmsg.JoinGroupResponseMember{MemberID: o.id, InstanceID: o.instanceID,
					ProtocolMetadata: o.metadata(*g.protocol)})
			}
		}
		c.invokeJoin(g, m, resp)
		c.scheduleHeartbeat(m, int64(m.sessionTimeout))
		m.isNew = false
	}
}

func (c *Coordinator) joinSuccess(g *group, m *member, leader string) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = m.joinVersion
	resp.Generation = g.generation
	resp.ProtocolType = g.protocolType
	resp.Protocol = g.protocol
	resp.LeaderID = leader
	resp.MemberID = m.id
	return resp
}

func (c *Coordinator) invokeJoin(g *group, m *member, resp *kmsg.JoinGroupResponse) {
	cb := m.joinCB
	if cb == nil {
		return
	}
	resp.Version = m.joinVersion
	m.joinCB = nil
	g.awaiting--
	c.emit(func() { cb(resp) })
}

func (c *Coordinator) propagateAssignment(g *group, code int16) {
	for _, m := range g.allMembers() {
		if cb := m.syncCB; cb != nil {
			resp := kmsg.NewPtrSyncGroupResponse()
			resp.Version = m.syncVersion
			resp.ErrorCode = code
			resp.ProtocolType, resp.Protocol = g.protocolType, g.protocol
			resp.MemberAssignment = m.assignment
			if resp.MemberAssignment == nil {
				resp.MemberAssignment = []byte{}
			}
			m.syncCB = nil
			c.emit(func() { cb(resp) })
		}
		c.scheduleHeartbeat(m, int64(m.sessionTimeout))
	}
}

func (c *Coordinator) resetAndPropagateAssignmentError(g *group, code int16) {
	for _, m := range g.members {
		m.assignment = nil
	}
	c.propagateAssignment(g, code)
}

// removeMemberAndUpdate answers a waiting JoinGroup with UNKNOWN_MEMBER_ID, drops the member and
// rebalances the rest.
func (c *Coordinator) removeMemberAndUpdate(g *group, m *member) {
	if m.awaitingJoin() {
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode = kerr.UnknownMemberID.Code
		resp.Generation = -1
		resp.MemberID = m.id
		c.invokeJoin(g, m, resp)
	}
	g.remove(m.id)
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	switch g.state {
	case Stable, CompletingRebalance:
		c.maybePrepareRebalance(g)
	case PreparingRebalance:
		c.tryCompleteJoin(g)
	}
}

// unloadGroup forgets a group whose partition moved away, answering its waiters NOT_COORDINATOR.
func (c *Coordinator) unloadGroup(g *group) {
	for _, m := range g.allMembers() {
		if m.awaitingJoin() {
			resp := kmsg.NewPtrJoinGroupResponse()
			resp.ErrorCode = kerr.NotCoordinator.Code
			resp.Generation = -1
			resp.MemberID = m.id
			c.invokeJoin(g, m, resp)
		}
		if cb := m.syncCB; cb != nil {
			resp := kmsg.NewPtrSyncGroupResponse()
			resp.Version = m.syncVersion
			resp.ErrorCode = kerr.NotCoordinator.Code
			m.syncCB = nil
			c.emit(func() { cb(resp) })
		}
	}
	g.state = Dead
	delete(c.groups, g.id)
}

// Run is the thin runtime: it ticks the coordinator with clock every interval until ctx ends.
// Handlers that want exact commit timestamps may also Tick just before forwarding a request.
func (c *Coordinator) Run(ctx context.Context, interval time.Duration, clock func() time.Time) {
	t := time.NewTicker(interval)
	defer t.Stop()
	c.Tick(clock().UnixMilli())
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Tick(clock().UnixMilli())
		}
	}
}

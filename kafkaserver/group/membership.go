package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/coordlog"
)

func joinError(req *kmsg.JoinGroupRequest, memberID string, code int16) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.ErrorCode = code
	resp.Generation = -1
	resp.MemberID = memberID
	return resp
}

// JoinGroup handles a JoinGroup request (v0..v7). cb gets the response, possibly after later
// calls or Ticks complete the rebalance. clientID and clientHost come from the request header and
// the connection (Kafka writes the host as "/" + address).
func (c *Coordinator) JoinGroup(req *kmsg.JoinGroupRequest, clientID, clientHost string, cb func(*kmsg.JoinGroupResponse)) {
	c.lock()
	defer c.unlock()
	fail := func(code int16) {
		resp := joinError(req, req.MemberID, code)
		c.emit(func() { cb(resp) })
	}
	if code := c.groupStatus(req.Group, false); code != 0 {
		fail(code)
		return
	}
	if req.SessionTimeoutMillis < c.cfg.MinSessionTimeoutMs || req.SessionTimeoutMillis > c.cfg.MaxSessionTimeoutMs {
		fail(kerr.InvalidSessionTimeout.Code)
		return
	}
	rebalance := req.RebalanceTimeoutMillis
	if req.Version == 0 {
		rebalance = req.SessionTimeoutMillis // v0 has no rebalance timeout
	}
	ps := make([]protocol, len(req.Protocols))
	for i, p := range req.Protocols {
		ps[i] = protocol{name: p.Name, metadata: p.Metadata}
	}
	unknown := req.MemberID == ""
	g := c.groups[req.Group]
	if g == nil {
		if !unknown {
			fail(kerr.UnknownMemberID.Code)
			return
		}
		g = newGroup(req.Group, coordlog.PartitionFor(req.Group, c.cfg.NumPartitions), c.now)
		c.groups[req.Group] = g
	}
	if _, ok := g.members[req.MemberID]; !ok && len(g.members) >= c.cfg.MaxGroupSize {
		fail(kerr.GroupMaxSizeReached.Code)
		return
	}
	j := joinArgs{req: req, clientID: clientID, clientHost: clientHost, rebalance: rebalance, protocols: ps, cb: cb}
	if unknown {
		c.joinUnknown(g, j)
	} else {
		c.joinKnown(g, j)
	}
	if g.state == PreparingRebalance {
		c.tryCompleteJoin(g)
	}
}

type joinArgs struct {
	req                  *kmsg.JoinGroupRequest
	clientID, clientHost string
	rebalance            int32
	protocols            []protocol
	cb                   func(*kmsg.JoinGroupResponse)
}

func (c *Coordinator) reply(j joinArgs, resp *kmsg.JoinGroupResponse) {
	resp.Version = j.req.Version
	c.emit(func() { j.cb(resp) })
}

func (c *Coordinator) joinUnknown(g *group, j joinArgs) {
	if g.state == Dead {
		c.reply(j, joinError(j.req, "", kerr.CoordinatorNotAvailable.Code))
		return
	}
	if !g.supportsProtocols(j.req.ProtocolType, j.protocols) {
		c.reply(j, joinError(j.req, "", kerr.InconsistentGroupProtocol.Code))
		return
	}
	newID := j.clientID + "-" + c.newID()
	if inst := j.req.InstanceID; inst != nil {
		if old, ok := g.static[*inst]; ok {
			c.updateStaticMember(g, old, newID, j)
		} else {
			c.addMemberAndRebalance(g, newID, j)
		}
		return
	}
	if j.req.Version >= 4 {
		// KIP-394: hand out the id first; the member must rejoin with it within the session timeout.
		g.pending[newID] = c.now + int64(j.req.SessionTimeoutMillis)
		c.reply(j, joinError(j.req, newID, kerr.MemberIDRequired.Code))
		return
	}
	c.addMemberAndRebalance(g, newID, j)
}

func (c *Coordinator) addMemberAndRebalance(g *group, id string, j joinArgs) {
	m := &member{id: id, instanceID: j.req.InstanceID, clientID: j.clientID, clientHost: j.clientHost,
		rebalanceTimeout: j.rebalance, sessionTimeout: j.req.SessionTimeoutMillis, protocolType: j.req.ProtocolType,
		protocols: j.protocols, isNew: true}
	if g.state == PreparingRebalance && g.generation == 0 {
		g.newAdded = true
	}
	g.add(m, j.cb, j.req.Version)
	c.scheduleHeartbeat(m, newMemberJoinTimeoutMs)
	c.maybePrepareRebalance(g)
}

// updateStaticMember is a known group.instance.id rejoining with an empty member id: the new id
// replaces (fences) the old one.
func (c *Coordinator) updateStaticMember(g *group, oldID, newID string, j joinArgs) {
	prevLeader := g.leader
	m := g.replaceInstance(oldID, newID, *j.req.InstanceID)
	oldProtocols := m.protocols
	oldCB, oldVer := m.joinCB, m.joinVersion
	if oldCB != nil {
		// The fenced member's pending join is answered so that its connection is not left hanging.
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode = kerr.FencedInstanceID.Code
		resp.Generation = -1
		resp.MemberID = oldID
		c.invokeJoin(g, m, resp)
	}
	c.scheduleHeartbeat(m, int64(m.sessionTimeout))
	g.updateMember(m, j.protocols, j.cb, j.req.Version)
	switch g.state {
	case Stable:
		if g.protocol != nil && *g.protocol == g.selectProtocol() {
			assignment := map[string][]byte{}
			for _, o := range g.allMembers() {
				assignment[o.id] = o.assignment
			}
			if err := c.storeGroup(g, assignment); err != nil {
				g.replaceInstance(newID, oldID, *j.req.InstanceID)
				g.updateMember(m, oldProtocols, nil, oldVer)
				c.reply(j, joinError(j.req, "", appendCode(err, false)))
				return
			}
			// The old leader id is returned so the current leader does not assign in a stable group.
			c.invokeJoin(g, m, c.joinSuccess(g, m, prevLeader))
			return
		}
		c.maybePrepareRebalance(g)
	case CompletingRebalance:
		c.prepareRebalance(g)
	}
}

func (c *Coordinator) joinKnown(g *group, j joinArgs) {
	id := j.req.MemberID
	if g.state == Dead {
		c.reply(j, joinError(j.req, id, kerr.CoordinatorNotAvailable.Code))
		return
	}
	if !g.supportsProtocols(j.req.ProtocolType, j.protocols) {
		c.reply(j, joinError(j.req, id, kerr.InconsistentGroupProtocol.Code))
		return
	}
	if _, ok := g.pending[id]; ok {
		if j.req.InstanceID != nil {
			c.reply(j, joinError(j.req, id, kerr.UnknownMemberID.Code))
			return
		}
		c.addMemberAndRebalance(g, id, j)
		return
	}
	if code := c.validateMember(g, id, j.req.InstanceID); code != 0 {
		c.reply(j, joinError(j.req, id, code))
		return
	}
	m := g.members[id]
	switch g.state {
	case PreparingRebalance:
		c.updateMemberAndRebalance(g, m, j)
	case CompletingRebalance:
		if m.matches(j.protocols) {
			// A retried join of the current generation gets the same answer again.
			resp := c.joinSuccess(g, m, g.leader)
			if id == g.leader {
				for _, o := range g.allMembers() {
					resp.Members = append(resp.Members, kmsg.JoinGroupResponseMember{MemberID: o.id,
						InstanceID: o.instanceID, ProtocolMetadata: o.metadata(*g.protocol)})
				}
			}
			c.reply(j, resp)
		} else {
			c.updateMemberAndRebalance(g, m, j)
		}
	case Stable:
		if id == g.leader || !m.matches(j.protocols) {
			c.updateMemberAndRebalance(g, m, j)
		} else {
			c.reply(j, c.joinSuccess(g, m, g.leader))
		}
	default:
		c.reply(j, joinError(j.req, id, kerr.UnknownMemberID.Code))
	}
}

func (c *Coordinator) updateMemberAndRebalance(g *group, m *member, j joinArgs) {
	if m.joinCB != nil {
		// A duplicate join replaces the earlier one, which is told to rejoin.
		resp := joinError(j.req, m.id, kerr.RebalanceInProgress.Code)
		c.invokeJoin(g, m, resp)
	}
	g.updateMember(m, j.protocols, j.cb, j.req.Version)
	c.maybePrepareRebalance(g)
}

// validateMember is GroupCoordinator.validateCurrentMember.
func (c *Coordinator) validateMember(g *group, id string, instanceID *string) int16 {
	if g.fenced(id, instanceID) {
		return kerr.FencedInstanceID.Code
	}
	if _, ok := g.members[id]; !ok {
		return kerr.UnknownMemberID.Code
	}
	if instanceID != nil {
		if _, ok := g.static[*instanceID]; !ok {
			return kerr.UnknownMemberID.Code
		}
	}
	return 0
}

// SyncGroup handles a SyncGroup request (v0..v5); the leader's assignment is persisted before
// anyone is answered.
func (c *Coordinator) SyncGroup(req *kmsg.SyncGroupRequest, cb func(*kmsg.SyncGroupResponse)) {
	c.lock()
	defer c.unlock()
	fail := func(code int16) {
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = code
		resp.MemberAssignment = []byte{}
		c.emit(func() { cb(resp) })
	}
	if code := c.groupStatus(req.Group, false); code != 0 {
		fail(code)
		return
	}
	g := c.groups[req.Group]
	switch {
	case g == nil:
		fail(kerr.UnknownMemberID.Code)
		return
	case g.state == Dead:
		fail(kerr.CoordinatorNotAvailable.Code)
		return
	case g.fenced(req.MemberID, req.InstanceID):
		fail(kerr.FencedInstanceID.Code)
		return
	case g.members[req.MemberID] == nil:
		fail(kerr.UnknownMemberID.Code)
		return
	case req.Generation != g.generation:
		fail(kerr.IllegalGeneration.Code)
		return
	case req.ProtocolType != nil && (g.protocolType == nil || *g.protocolType != *req.ProtocolType),
		req.Protocol != nil && (g.protocol == nil || *g.protocol != *req.Protocol):
		fail(kerr.InconsistentGroupProtocol.Code)
		return
	}
	m := g.members[req.MemberID]
	switch g.state {
	case Empty:
		fail(kerr.UnknownMemberID.Code)
	case PreparingRebalance:
		fail(kerr.RebalanceInProgress.Code)
	case CompletingRebalance:
		if m.syncCB != nil {
			// A retried sync supersedes the previous one.
			old := m.syncCB
			resp := kmsg.NewPtrSyncGroupResponse()
			resp.Version = m.syncVersion
			resp.ErrorCode = kerr.RebalanceInProgress.Code
			c.emit(func() { old(resp) })
		}
		m.syncCB, m.syncVersion = cb, req.Version
		if req.MemberID != g.leader {
			return
		}
		assignment := map[string][]byte{}
		for _, a := range req.GroupAssignment {
			assignment[a.MemberID] = a.MemberAssignment
		}
		for _, o := range g.allMembers() {
			if _, ok := assignment[o.id]; !ok {
				assignment[o.id] = []byte{}
			}
		}
		if err := c.storeGroup(g, assignment); err != nil {
			c.logger.Warn("failed to store group assignment", "group", g.id, "err", err)
			c.resetAndPropagateAssignmentError(g, appendCode(err, false))
			c.maybePrepareRebalance(g)
			return
		}
		for _, o := range g.allMembers() {
			o.assignment = assignment[o.id]
		}
		c.propagateAssignment(g, 0)
		g.transition(Stable, c.now)
	case Stable:
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ProtocolType, resp.Protocol = g.protocolType, g.protocol
		resp.MemberAssignment = m.assignment
		if resp.MemberAssignment == nil {
			resp.MemberAssignment = []byte{}
		}
		c.emit(func() { cb(resp) })
		c.scheduleHeartbeat(m, int64(m.sessionTimeout))
	}
}

// Heartbeat handles a Heartbeat request (v0..v4).
func (c *Coordinator) Heartbeat(req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.ErrorCode = c.heartbeat(req)
	return resp
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) int16 {
	if code := c.groupStatus(req.Group, false); code != 0 {
		return code
	}
	g := c.groups[req.Group]
	switch {
	case g == nil:
		return kerr.UnknownMemberID.Code
	case g.state == Dead:
		return kerr.CoordinatorNotAvailable.Code
	case g.fenced(req.MemberID, req.InstanceID):
		return kerr.FencedInstanceID.Code
	case g.members[req.MemberID] == nil:
		return kerr.UnknownMemberID.Code
	case req.Generation != g.generation:
		return kerr.IllegalGeneration.Code
	}
	m := g.members[req.MemberID]
	switch g.state {
	case Empty:
		return kerr.UnknownMemberID.Code
	case PreparingRebalance:
		c.scheduleHeartbeat(m, int64(m.sessionTimeout))
		return kerr.RebalanceInProgress.Code
	default:
		c.scheduleHeartbeat(m, int64(m.sessionTimeout))
		return 0
	}
}

// LeaveGroup handles a LeaveGroup request: one member (v0..v2) or a batch, possibly by
// group.instance.id alone (v3+).
func (c *Coordinator) LeaveGroup(req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	c.lock()
	defer c.unlock()
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	if code := c.groupStatus(req.Group, false); code != 0 {
		resp.ErrorCode = code
		return resp
	}
	g := c.groups[req.Group]
	if g != nil && g.state == Dead {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	for _, l := range leaving {
		r := kmsg.LeaveGroupResponseMember{MemberID: l.MemberID, InstanceID: l.InstanceID}
		switch {
		case g == nil:
			r.ErrorCode = kerr.UnknownMemberID.Code
		case l.MemberID == "":
			if l.InstanceID == nil || g.static[*l.InstanceID] == "" {
				r.ErrorCode = kerr.UnknownMemberID.Code
			} else {
				c.removeMemberAndUpdate(g, g.members[g.static[*l.InstanceID]])
			}
		default:
			if _, ok := g.pending[l.MemberID]; ok {
				c.removePending(g, l.MemberID)
			} else if code := c.validateMember(g, l.MemberID, l.InstanceID); code != 0 {
				r.ErrorCode = code
			} else {
				c.removeMemberAndUpdate(g, g.members[l.MemberID])
			}
		}
		resp.Members = append(resp.Members, r)
	}
	if req.Version < 3 {
		resp.ErrorCode = resp.Members[0].ErrorCode
		resp.Members = nil
	}
	return resp
}

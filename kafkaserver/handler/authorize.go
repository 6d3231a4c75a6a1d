package handler

import (
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kwire"
)

// The checks below are Kafka 2.8's AuthHelper: without an authorizer (no authorizer.class.name) everything is
// allowed.

// aclRequest is the authorizer's view of a request: its connection's principal and client address.
func aclRequest(rc *kwire.RequestContext) acl.Request {
	req := acl.Request{API: rc.Header.APIKey}
	if rc.Conn == nil {
		return req
	}
	req.Principal = rc.Conn.Principal().String()
	if a, ok := rc.Conn.RemoteAddr().(*net.TCPAddr); ok {
		req.Host = a.IP.String()
	} else if a := rc.Conn.RemoteAddr(); a != nil {
		host, _, err := net.SplitHostPort(a.String())
		if err == nil {
			req.Host = host
		}
	}
	return req
}

// authorize is AuthHelper.authorize: op on one resource, logged either way.
func (h *Handlers) authorize(rc *kwire.RequestContext, op acl.Operation, rt acl.ResourceType, name string) bool {
	if h.cfg.Authorizer == nil {
		return true
	}
	act := acl.Action{Operation: op, Resource: acl.Literal(rt, name), LogIfAllowed: true, LogIfDenied: true}
	return h.cfg.Authorizer.Authorize(aclRequest(rc), []acl.Action{act})[0]
}

// authorizeCluster is authorize on the cluster resource (authorizeClusterOperation without the throw).
func (h *Handlers) authorizeCluster(rc *kwire.RequestContext, op acl.Operation) bool {
	return h.authorize(rc, op, kmsg.ACLResourceTypeCluster, acl.ClusterName)
}

// authorizedNames is AuthHelper.filterByAuthorized: the names among names the principal may do op on. logIfDenied
// false is for listings that only filter (a regex subscription, ListGroups), where a denial is not an attempt.
func (h *Handlers) authorizedNames(rc *kwire.RequestContext, op acl.Operation, rt acl.ResourceType, names []string,
	logIfDenied bool) map[string]bool {
	out := make(map[string]bool, len(names))
	if h.cfg.Authorizer == nil {
		for _, n := range names {
			out[n] = true
		}
		return out
	}
	var acts []acl.Action
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			acts = append(acts, acl.Action{Operation: op, Resource: acl.Literal(rt, n), LogIfAllowed: true, LogIfDenied: logIfDenied})
		}
	}
	for i, ok := range h.cfg.Authorizer.Authorize(aclRequest(rc), acts) {
		if ok {
			out[acts[i].Resource.Name] = true
		}
	}
	return out
}

// authorizedOperations is AuthHelper.authorizedOperations: the bit set of the resource type's supported
// operations the principal may do on the resource (nothing logged).
func (h *Handlers) authorizedOperations(rc *kwire.RequestContext, rt acl.ResourceType, name string) int32 {
	ops := acl.SupportedOperations(rt)
	if h.cfg.Authorizer == nil {
		return acl.OperationBits(ops)
	}
	acts := make([]acl.Action, len(ops))
	for i, op := range ops {
		acts[i] = acl.Action{Operation: op, Resource: acl.Literal(rt, name)}
	}
	var allowed []acl.Operation
	for i, ok := range h.cfg.Authorizer.Authorize(aclRequest(rc), acts) {
		if ok {
			allowed = append(allowed, ops[i])
		}
	}
	return acl.OperationBits(allowed)
}

// authorizeByResourceType is AuthHelper.authorizeByResourceType.
func (h *Handlers) authorizeByResourceType(rc *kwire.RequestContext, op acl.Operation, rt acl.ResourceType) bool {
	if h.cfg.Authorizer == nil {
		return true
	}
	return h.cfg.Authorizer.AuthorizeByResourceType(aclRequest(rc), op, rt)
}

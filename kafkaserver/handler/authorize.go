package handler

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/javanet"
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
	// Kafka matches an ACL's host with the client's InetAddress.getHostAddress.
	req.Host = javanet.RemoteAddressText(rc.Conn.RemoteAddr())
	return req
}

// authorize is AuthHelper.authorize: op on one resource, logged either way.
func (h *Handlers) authorize(rc *kwire.RequestContext, op acl.Operation, rt acl.ResourceType, name string) bool {
	return h.authorizeLogged(rc, op, rt, name, true)
}

// authorizeQuietly is authorize with logIfDenied false: Kafka's checks whose denial only picks another path (CREATE
// on the cluster before CREATE per topic, IDEMPOTENT_WRITE before WRITE on any topic, CLUSTER_ACTION before
// DESCRIBE per topic).
func (h *Handlers) authorizeQuietly(rc *kwire.RequestContext, op acl.Operation, rt acl.ResourceType, name string) bool {
	return h.authorizeLogged(rc, op, rt, name, false)
}

func (h *Handlers) authorizeLogged(rc *kwire.RequestContext, op acl.Operation, rt acl.ResourceType, name string,
	logIfDenied bool) bool {
	if h.cfg.Authorizer == nil {
		return true
	}
	act := acl.Action{Operation: op, Resource: acl.Literal(rt, name), LogIfAllowed: true, LogIfDenied: logIfDenied}
	return h.cfg.Authorizer.Authorize(aclRequest(rc), []acl.Action{act})[0]
}

// authorizeCluster is authorize on the cluster resource (authorizeClusterOperation without the throw).
func (h *Handlers) authorizeCluster(rc *kwire.RequestContext, op acl.Operation) bool {
	return h.authorize(rc, op, kmsg.ACLResourceTypeCluster, acl.ClusterName)
}

// authorizedNames is AuthHelper.filterByAuthorized: the names among names the principal may do op on. logIfDenied
// false is for listings that only filter (Metadata's all-topics listing), where a denial is not an attempt.
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

// unauthorizedNames is the other side of authorizedNames: the names among names the principal may not do op on,
// nil when there are none; without an authorizer it costs nothing, for the produce and fetch paths.
func (h *Handlers) unauthorizedNames(rc *kwire.RequestContext, op acl.Operation, rt acl.ResourceType, names []string,
	logIfDenied bool) map[string]bool {
	if h.cfg.Authorizer == nil {
		return nil
	}
	allowed := h.authorizedNames(rc, op, rt, names, logIfDenied)
	var out map[string]bool
	for _, n := range names {
		if !allowed[n] {
			if out == nil {
				out = map[string]bool{}
			}
			out[n] = true
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

// splitAuthorized is AuthHelper.partitionSeqByAuthorized over names already authorized: the items whose name
// allowed holds, then the others, each in the request's order.
func splitAuthorized[T any](items []T, allowed map[string]bool, name func(T) string) (in, out []T) {
	for _, it := range items {
		if allowed[name(it)] {
			in = append(in, it)
		} else {
			out = append(out, it)
		}
	}
	return in, out
}

// authFailedMessage is Errors.message() of an authorization error, which responses with a message field carry: the
// wording of Kafka's exceptions, not kerr's.
func authFailedMessage(e *kerr.Error) *string {
	var msg string
	switch e {
	case kerr.TopicAuthorizationFailed:
		msg = "Topic authorization failed."
	case kerr.GroupAuthorizationFailed:
		msg = "Group authorization failed."
	case kerr.ClusterAuthorizationFailed:
		msg = "Cluster authorization failed."
	case kerr.TransactionalIDAuthorizationFailed:
		msg = "Transactional Id authorization failed."
	default:
		msg = e.Message
	}
	return &msg
}

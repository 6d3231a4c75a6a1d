package handler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kwire"
)

// The ACL APIs are served with or without an authorizer: without one they answer SECURITY_DISABLED, as Kafka.
func (h *Handlers) registerACLs(mux *kwire.Mux) {
	mux.Handle(kmsg.DescribeACLs.Int16(), 0, 2, h.describeACLs)
	mux.Handle(kmsg.CreateACLs.Int16(), 0, 2, h.createACLs)
	mux.Handle(kmsg.DeleteACLs.Int16(), 0, 2, h.deleteACLs)
}

const (
	noAuthorizerMessage    = "No Authorizer is configured on the broker"
	notAuthorizedMessage   = "Request is not authorized."
	maxKnownOperation      = int8(kmsg.ACLOperationIdempotentWrite)
	maxKnownResourceType   = int8(kmsg.ACLResourceTypeDelegationToken)
	maxKnownPatternType    = int8(kmsg.ACLResourcePatternTypePrefixed)
	maxKnownPermissionType = int8(kmsg.ACLPermissionTypeAllow)
)

// known maps a code Kafka 2.8 does not know to UNKNOWN (0), as the enums' fromCode.
func known[T ~int8](v T, max int8) T {
	if int8(v) < 0 || int8(v) > max {
		return 0
	}
	return v
}

func aclFilter(rt kmsg.ACLResourceType, name *string, pt kmsg.ACLResourcePatternType, principal, host *string,
	op kmsg.ACLOperation, perm kmsg.ACLPermissionType) acl.Filter {
	return acl.Filter{
		Pattern: acl.PatternFilter{Type: known(rt, maxKnownResourceType), Name: name, PatternType: known(pt, maxKnownPatternType)},
		Entry: acl.EntryFilter{Principal: principal, Host: host, Operation: known(op, maxKnownOperation),
			Permission: known(perm, maxKnownPermissionType)},
	}
}

// describeACLs is handleDescribeAcls: CLUSTER DESCRIBE, then the authorizer's bindings that match the filter,
// grouped by resource pattern. A filter with an UNKNOWN element does not parse in Kafka: the connection closes.
func (h *Handlers) describeACLs(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeACLsRequest)
	if !ok {
		return nil, fmt.Errorf("describeACLs: unexpected %T", r)
	}
	f := aclFilter(req.ResourceType, req.ResourceName, req.ResourcePatternType, req.Principal, req.Host, req.Operation,
		req.PermissionType)
	if f.Unknown() {
		return nil, fmt.Errorf("DescribeAclsRequest contains UNKNOWN elements")
	}
	resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
	resp.Version = req.Version
	fail := func(err *kerr.Error, msg string) (kmsg.Response, error) {
		resp.ErrorCode, resp.ErrorMessage = err.Code, &msg
		return resp, nil
	}
	if !h.authorizeCluster(rc, kmsg.ACLOperationDescribe) {
		return fail(kerr.ClusterAuthorizationFailed, notAuthorizedMessage)
	}
	if h.cfg.Authorizer == nil {
		return fail(kerr.SecurityDisabled, noAuthorizerMessage)
	}
	bindings := h.cfg.Authorizer.ACLs(f)
	byPattern := map[acl.Pattern][]acl.Entry{}
	for _, b := range bindings {
		byPattern[b.Pattern] = append(byPattern[b.Pattern], b.Entry)
	}
	patterns := make([]acl.Pattern, 0, len(byPattern))
	for p := range byPattern {
		patterns = append(patterns, p)
	}
	slices.SortFunc(patterns, func(a, b acl.Pattern) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.PatternType, b.PatternType), cmp.Compare(a.Name, b.Name))
	})
	for _, p := range patterns {
		res := kmsg.NewDescribeACLsResponseResource()
		res.ResourceType, res.ResourceName, res.ResourcePatternType = p.Type, p.Name, p.PatternType
		for _, e := range byPattern[p] {
			a := kmsg.NewDescribeACLsResponseResourceACL()
			a.Principal, a.Host, a.Operation, a.PermissionType = e.Principal, e.Host, e.Operation, e.Permission
			res.ACLs = append(res.ACLs, a)
		}
		resp.Resources = append(resp.Resources, res)
	}
	return resp, nil
}

// createACLs is handleCreateAcls: CLUSTER ALTER, then each creation checked (the cluster resource is only
// kafka-cluster; a name must not be empty) and written by the authorizer.
func (h *Handlers) createACLs(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.CreateACLsRequest)
	if !ok {
		return nil, fmt.Errorf("createACLs: unexpected %T", r)
	}
	bindings := make([]acl.Binding, len(req.Creations))
	for i, c := range req.Creations {
		bindings[i] = acl.Binding{
			Pattern: acl.Pattern{Type: known(c.ResourceType, maxKnownResourceType), Name: c.ResourceName,
				PatternType: known(c.ResourcePatternType, maxKnownPatternType)},
			Entry: acl.Entry{Principal: c.Principal, Host: c.Host, Operation: known(c.Operation, maxKnownOperation),
				Permission: known(c.PermissionType, maxKnownPermissionType)},
		}
		if bindings[i].Unknown() {
			return nil, fmt.Errorf("CreatableAcls contain unknown elements")
		}
	}
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	resp.Version = req.Version
	results := make([]kmsg.CreateACLsResponseResult, len(bindings))
	for i := range results {
		results[i] = kmsg.NewCreateACLsResponseResult()
	}
	resp.Results = results
	if code, msg, refused := h.aclChangeRefused(rc); refused {
		for i := range results {
			results[i].ErrorCode, results[i].ErrorMessage = code, &msg
		}
		return resp, nil
	}
	var valid []acl.Binding
	var validIdx []int
	for i, b := range bindings {
		var msg string
		switch {
		case b.Pattern.Type == kmsg.ACLResourceTypeCluster && b.Pattern.Name != acl.ClusterName:
			msg = "The only valid name for the CLUSTER resource is " + acl.ClusterName
		case b.Pattern.Name == "":
			msg = "Invalid empty resource name"
		}
		if msg != "" {
			results[i].ErrorCode, results[i].ErrorMessage = kerr.InvalidRequest.Code, &msg
			continue
		}
		valid = append(valid, b)
		validIdx = append(validIdx, i)
	}
	for j, err := range h.cfg.Authorizer.CreateACLs(valid) {
		if err != nil {
			setACLError(&results[validIdx[j]].ErrorCode, &results[validIdx[j]].ErrorMessage, err)
		}
	}
	return resp, nil
}

// aclChangeRefused is what CreateAcls and DeleteAcls check first, for every entry of the request: CLUSTER ALTER,
// then an authorizer to change.
func (h *Handlers) aclChangeRefused(rc *kwire.RequestContext) (code int16, msg string, refused bool) {
	switch {
	case !h.authorizeCluster(rc, kmsg.ACLOperationAlter):
		return kerr.ClusterAuthorizationFailed.Code, notAuthorizedMessage, true
	case h.cfg.Authorizer == nil:
		return kerr.SecurityDisabled.Code, noAuthorizerMessage + ".", true
	}
	return 0, "", false
}

// setACLError is ApiError.fromThrowable for the authorizer's errors: a refused binding is INVALID_REQUEST
// ("Failed to create ACL" wrapping the cause), anything else (ZooKeeper) UNKNOWN_SERVER_ERROR.
func setACLError(code *int16, msg **string, err error) {
	m := err.Error()
	*code = kerr.UnknownServerError.Code
	if errors.Is(err, acl.ErrInvalidBinding) || errors.Is(err, acl.ErrPrefixedUnsupported) {
		*code, m = kerr.InvalidRequest.Code, "Failed to create ACL"
	}
	*msg = &m
}

// deleteACLs is handleDeleteAcls: CLUSTER ALTER, then each filter's matching bindings removed by the authorizer
// and listed in its result.
func (h *Handlers) deleteACLs(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DeleteACLsRequest)
	if !ok {
		return nil, fmt.Errorf("deleteACLs: unexpected %T", r)
	}
	filters := make([]acl.Filter, len(req.Filters))
	for i, f := range req.Filters {
		filters[i] = aclFilter(f.ResourceType, f.ResourceName, f.ResourcePatternType, f.Principal, f.Host, f.Operation,
			f.PermissionType)
		if filters[i].Unknown() {
			return nil, fmt.Errorf("Filters contain UNKNOWN elements")
		}
	}
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	resp.Version = req.Version
	results := make([]kmsg.DeleteACLsResponseResult, len(filters))
	for i := range results {
		results[i] = kmsg.NewDeleteACLsResponseResult()
	}
	resp.Results = results
	if code, msg, refused := h.aclChangeRefused(rc); refused {
		for i := range results {
			results[i].ErrorCode, results[i].ErrorMessage = code, &msg
		}
		return resp, nil
	}
	for i, deleted := range h.cfg.Authorizer.DeleteACLs(filters) {
		for _, d := range deleted {
			m := kmsg.NewDeleteACLsResponseResultMatchingACL()
			m.ResourceType, m.ResourceName, m.ResourcePatternType = d.Binding.Pattern.Type, d.Binding.Pattern.Name,
				d.Binding.Pattern.PatternType
			m.Principal, m.Host = d.Binding.Entry.Principal, d.Binding.Entry.Host
			m.Operation, m.PermissionType = d.Binding.Entry.Operation, d.Binding.Entry.Permission
			if d.Err != nil {
				setACLError(&m.ErrorCode, &m.ErrorMessage, d.Err)
			}
			results[i].MatchingACLs = append(results[i].MatchingACLs, m)
		}
	}
	return resp, nil
}

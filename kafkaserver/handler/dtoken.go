package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/dtoken"
	"github.com/zkafka/zkafka/kwire"
)

// registerDelegationTokens adds KIP-48's four APIs at Kafka 2.8's versions. They are served whether or not tokens
// are enabled: without a secret key they answer DELEGATION_TOKEN_AUTH_DISABLED, as Kafka.
func (h *Handlers) registerDelegationTokens(mux *kwire.Mux) {
	mux.Handle(kmsg.CreateDelegationToken.Int16(), 0, 2, h.createDelegationToken)
	mux.Handle(kmsg.RenewDelegationToken.Int16(), 0, 2, h.renewDelegationToken)
	mux.Handle(kmsg.ExpireDelegationToken.Int16(), 0, 2, h.expireDelegationToken)
	mux.Handle(kmsg.DescribeDelegationToken.Int16(), 0, 2, h.describeDelegationToken)
}

// allowTokenRequests is KafkaApis.allowTokenRequests: no token requests from token-authenticated connections,
// PLAINTEXT listeners, or SSL listeners without a client certificate.
func (h *Handlers) allowTokenRequests(rc *kwire.RequestContext) bool {
	if rc.Conn == nil {
		return false
	}
	p := rc.Conn.Principal()
	if p.TokenAuthenticated {
		return false
	}
	switch h.securityProtocol(rc.Conn.ListenerName()) {
	case serverprops.Plaintext:
		return false
	case serverprops.SSL:
		return !(p.Type == "User" && p.Name == "ANONYMOUS")
	}
	return true
}

// securityProtocol is the protocol of a listener ("" when unknown); listeners added live are in the live config.
func (h *Handlers) securityProtocol(listener string) string {
	for _, l := range h.liveProps().Listeners {
		if l.Name == listener {
			return l.SecurityProtocol
		}
	}
	return ""
}

// tokenErrorCode maps a token manager error to its code; other errors are the broker's (UNKNOWN_SERVER_ERROR).
func (h *Handlers) tokenErrorCode(op string, err error) int16 {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	h.logger.Error(op+" failed", "err", err)
	return kerr.UnknownServerError.Code
}

// createDelegationToken is handleCreateTokenRequest: the token's owner is the requester; renewers must be users.
func (h *Handlers) createDelegationToken(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.CreateDelegationTokenRequest)
	if !ok {
		return nil, fmt.Errorf("createDelegationToken: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.CreateDelegationTokenResponse)
	p := principalOf(rc)
	resp.PrincipalType, resp.PrincipalName = p.Type, p.Name
	resp.IssueTimestamp, resp.ExpiryTimestamp, resp.MaxTimestamp = -1, -1, -1
	resp.HMAC = []byte{}
	if !h.allowTokenRequests(rc) {
		resp.ErrorCode = kerr.DelegationTokenRequestNotAllowed.Code
		return resp, nil
	}
	renewers := make([]string, 0, len(req.Renewers))
	for _, rn := range req.Renewers {
		if rn.PrincipalType != "User" {
			resp.ErrorCode = kerr.InvalidPrincipalType.Code
			return resp, nil
		}
		renewers = append(renewers, rn.PrincipalType+":"+rn.PrincipalName)
	}
	t, err := h.cfg.Tokens.Create(p.String(), renewers, req.MaxLifetimeMillis)
	if err != nil {
		resp.ErrorCode = h.tokenErrorCode("create delegation token", err)
		return resp, nil
	}
	resp.IssueTimestamp, resp.ExpiryTimestamp, resp.MaxTimestamp = t.IssueTimestamp, t.ExpiryTimestamp, t.MaxTimestamp
	resp.TokenID, resp.HMAC = t.TokenID, t.HMAC
	return resp, nil
}

// principalOf is the request's principal (User:ANONYMOUS without a connection).
func principalOf(rc *kwire.RequestContext) kwire.Principal {
	if rc.Conn == nil {
		return kwire.Principal{Type: "User", Name: "ANONYMOUS"}
	}
	return rc.Conn.Principal()
}

// renewDelegationToken is handleRenewTokenRequest.
func (h *Handlers) renewDelegationToken(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.RenewDelegationTokenRequest)
	if !ok {
		return nil, fmt.Errorf("renewDelegationToken: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.RenewDelegationTokenResponse)
	resp.ExpiryTimestamp, resp.ErrorCode = h.changeToken(rc, "renew delegation token", h.cfg.Tokens.Renew, req.HMAC, req.RenewTimeMillis)
	return resp, nil
}

// expireDelegationToken is handleExpireTokenRequest.
func (h *Handlers) expireDelegationToken(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.ExpireDelegationTokenRequest)
	if !ok {
		return nil, fmt.Errorf("expireDelegationToken: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.ExpireDelegationTokenResponse)
	resp.ExpiryTimestamp, resp.ErrorCode = h.changeToken(rc, "expire delegation token", h.cfg.Tokens.Expire, req.HMAC, req.ExpiryPeriodMillis)
	return resp, nil
}

// changeToken runs a renewal or expiry for the requester: the new expiry timestamp (-1 when refused) and the code.
func (h *Handlers) changeToken(rc *kwire.RequestContext, op string, change func(string, []byte, int64) (int64, error),
	hmac []byte, periodMs int64) (int64, int16) {
	if !h.allowTokenRequests(rc) {
		return -1, kerr.DelegationTokenRequestNotAllowed.Code
	}
	ts, err := change(principalOf(rc).String(), hmac, periodMs)
	if err != nil {
		return ts, h.tokenErrorCode(op, err)
	}
	return ts, 0
}

// describeDelegationToken is handleDescribeTokensRequest: a null owner list asks for every token, an empty one for
// none; a token is listed when it matches an owner filter (as owner or renewer) and the requester owns or renews
// it or may DESCRIBE it (filterToken).
func (h *Handlers) describeDelegationToken(_ context.Context, rc *kwire.RequestContext, r kmsg.Request) (kmsg.Response, error) {
	req, ok := r.(*kmsg.DescribeDelegationTokenRequest)
	if !ok {
		return nil, fmt.Errorf("describeDelegationToken: unexpected %T", r)
	}
	resp := req.ResponseKind().(*kmsg.DescribeDelegationTokenResponse)
	switch {
	case !h.allowTokenRequests(rc):
		resp.ErrorCode = kerr.DelegationTokenRequestNotAllowed.Code
		return resp, nil
	case !h.cfg.Tokens.Enabled():
		resp.ErrorCode = kerr.DelegationTokenAuthDisabled.Code
		return resp, nil
	case req.Owners != nil && len(req.Owners) == 0:
		return resp, nil
	}
	requester := principalOf(rc).String()
	var owners []string
	for _, o := range req.Owners {
		owners = append(owners, o.PrincipalType+":"+o.PrincipalName)
	}
	for _, t := range h.cfg.Tokens.Tokens(func(i dtoken.Info) bool {
		return h.tokenVisible(rc, requester, req.Owners != nil, owners, i)
	}) {
		d := kmsg.NewDescribeDelegationTokenResponseTokenDetail()
		d.PrincipalType, d.PrincipalName = splitPrincipal(t.Owner)
		d.IssueTimestamp, d.ExpiryTimestamp, d.MaxTimestamp = t.IssueTimestamp, t.ExpiryTimestamp, t.MaxTimestamp
		d.TokenID, d.HMAC = t.TokenID, t.HMAC
		for _, rn := range t.Renewers {
			dr := kmsg.NewDescribeDelegationTokenResponseTokenDetailRenewer()
			dr.PrincipalType, dr.PrincipalName = splitPrincipal(rn)
			d.Renewers = append(d.Renewers, dr)
		}
		resp.TokenDetails = append(resp.TokenDetails, d)
	}
	return resp, nil
}

// tokenVisible is DelegationTokenManager.filterToken.
func (h *Handlers) tokenVisible(rc *kwire.RequestContext, requester string, filtered bool, owners []string, i dtoken.Info) bool {
	if filtered {
		match := false
		for _, o := range owners {
			if i.OwnerOrRenewer(o) {
				match = true
				break
			}
		}
		if !match {
			return false
		}
	}
	if i.OwnerOrRenewer(requester) {
		return true
	}
	return h.authorize(rc, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeDelegationToken, i.TokenID)
}

// splitPrincipal splits "Type:name" (SecurityUtils.parseKafkaPrincipal).
func splitPrincipal(p string) (typ, name string) {
	typ, name, _ = strings.Cut(p, ":")
	return typ, name
}

package handler

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/kafkaserver/dtoken"
)

// TestDelegationTokenHandlers: the token APIs over a real token manager and authorizer: renewer types, owner and
// renewer checks, and DescribeDelegationToken's owner filter and DESCRIBE authorization (filterToken).
func TestDelegationTokenHandlers(t *testing.T) {
	e := newAuthEnv(t)
	const bob, carol = "User:bob", "User:carol"

	// Without a manager (no secret key) every API is disabled.
	off := e.unauthorized()
	if r := call[*kmsg.CreateDelegationTokenResponse](t, off.createDelegationToken, alice, kmsg.NewPtrCreateDelegationTokenRequest()); r.ErrorCode != kerr.DelegationTokenAuthDisabled.Code || r.PrincipalName != "alice" || r.MaxTimestamp != -1 {
		t.Fatalf("disabled create: %+v", r)
	}
	if r := call[*kmsg.DescribeDelegationTokenResponse](t, off.describeDelegationToken, alice, kmsg.NewPtrDescribeDelegationTokenRequest()); r.ErrorCode != kerr.DelegationTokenAuthDisabled.Code {
		t.Fatalf("disabled describe: %+v", r)
	}

	m := dtoken.New(dtoken.Config{SecretKey: "k", MaxLifetime: time.Hour, ExpiryTime: time.Minute, CheckInterval: time.Hour},
		e.cfg.ZK, slog.New(slog.DiscardHandler))
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	e.cfg.Tokens = m
	h := e.handlers(t)

	create := kmsg.NewPtrCreateDelegationTokenRequest()
	rn := kmsg.NewCreateDelegationTokenRequestRenewer()
	rn.PrincipalType, rn.PrincipalName = "Group", "g"
	create.Renewers = append(create.Renewers, rn)
	if r := call[*kmsg.CreateDelegationTokenResponse](t, h.createDelegationToken, bob, create); r.ErrorCode != kerr.InvalidPrincipalType.Code {
		t.Fatalf("group renewer: %+v", r)
	}
	create.Renewers[0].PrincipalType, create.Renewers[0].PrincipalName = "User", "carol"
	create.MaxLifetimeMillis = 2 * time.Hour.Milliseconds() // capped at the configured hour
	tok := call[*kmsg.CreateDelegationTokenResponse](t, h.createDelegationToken, bob, create)
	if tok.ErrorCode != 0 || tok.MaxTimestamp-tok.IssueTimestamp != time.Hour.Milliseconds() ||
		tok.ExpiryTimestamp-tok.IssueTimestamp != time.Minute.Milliseconds() {
		t.Fatalf("create: %+v", tok)
	}

	renew := kmsg.NewPtrRenewDelegationTokenRequest()
	renew.HMAC, renew.RenewTimeMillis = tok.HMAC, -1
	if r := call[*kmsg.RenewDelegationTokenResponse](t, h.renewDelegationToken, alice, renew); r.ErrorCode != kerr.DelegationTokenOwnerMismatch.Code || r.ExpiryTimestamp != -1 {
		t.Fatalf("alice's renew: %+v", r)
	}
	if r := call[*kmsg.RenewDelegationTokenResponse](t, h.renewDelegationToken, carol, renew); r.ErrorCode != 0 || r.ExpiryTimestamp > tok.MaxTimestamp {
		t.Fatalf("carol's renew: %+v", r)
	}

	describe := func(principal string, owners ...string) []string {
		t.Helper()
		req := kmsg.NewPtrDescribeDelegationTokenRequest()
		if owners != nil {
			req.Owners = []kmsg.DescribeDelegationTokenRequestOwner{}
		}
		for _, o := range owners {
			ro := kmsg.NewDescribeDelegationTokenRequestOwner()
			ro.PrincipalType, ro.PrincipalName = splitPrincipal(o)
			req.Owners = append(req.Owners, ro)
		}
		r := call[*kmsg.DescribeDelegationTokenResponse](t, h.describeDelegationToken, principal, req)
		if r.ErrorCode != 0 {
			t.Fatalf("describe: %v", kerr.ErrorForCode(r.ErrorCode))
		}
		var ids []string
		for _, d := range r.TokenDetails {
			ids = append(ids, d.TokenID)
		}
		return ids
	}
	mine := []string{tok.TokenID}
	for _, c := range []struct {
		what, principal string
		owners          []string
		want            []string
	}{
		{"owner", bob, nil, mine},
		{"renewer", carol, nil, mine},
		{"other", alice, nil, nil},
		{"super user", admin, nil, mine},
		{"empty owner list", bob, []string{}, nil},
		{"owner filter on the renewer", admin, []string{carol}, mine},
		{"owner filter on another", bob, []string{alice}, nil},
	} {
		if got := describe(c.principal, c.owners...); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.what, got, c.want)
		}
	}
	granted := e.handlers(t, allow(kmsg.ACLResourceTypeDelegationToken, tok.TokenID, kmsg.ACLOperationDescribe))
	h = granted
	if got := describe(alice); !slices.Equal(got, mine) {
		t.Errorf("alice with DESCRIBE: %v", got)
	}

	// A token-authenticated connection may do none of it.
	rc := rcAs(bob, renew)
	p := rc.Conn.Principal()
	p.TokenAuthenticated = true
	rc.Conn.SetPrincipal(p)
	resp, err := h.renewDelegationToken(t.Context(), rc, renew)
	if err != nil || resp.(*kmsg.RenewDelegationTokenResponse).ErrorCode != kerr.DelegationTokenRequestNotAllowed.Code {
		t.Fatalf("token connection: %+v %v", resp, err)
	}

	expire := kmsg.NewPtrExpireDelegationTokenRequest()
	expire.HMAC, expire.ExpiryPeriodMillis = tok.HMAC, -1
	if r := call[*kmsg.ExpireDelegationTokenResponse](t, h.expireDelegationToken, bob, expire); r.ErrorCode != 0 {
		t.Fatalf("expire: %+v", r)
	}
	if r := call[*kmsg.ExpireDelegationTokenResponse](t, h.expireDelegationToken, bob, expire); r.ErrorCode != kerr.DelegationTokenNotFound.Code {
		t.Fatalf("expire twice: %+v", r)
	}
}

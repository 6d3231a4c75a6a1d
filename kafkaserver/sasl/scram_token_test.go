package sasl

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// tokenTable is a token cache of one token, for the server's TokenCredentials.
type tokenTable struct {
	id, owner string
	expiry    time.Time
	creds     map[string]ScramCredential
}

func (tt tokenTable) TokenCredential(mechanism, tokenID string) (ScramCredential, string, time.Time, bool) {
	if tokenID != tt.id {
		return ScramCredential{}, "", time.Time{}, false
	}
	c, ok := tt.creds[mechanism]
	return c, tt.owner, tt.expiry, ok
}

// TestScramTokenLogin: with tokenauth=true the username is a token id and the session belongs to the token's
// owner; unknown tokens fail with Kafka's message, and a token id is no user name without the extension.
func TestScramTokenLogin(t *testing.T) {
	const pwd = "aG1hYw=="
	tt := tokenTable{id: "tok1", owner: "User:alice", expiry: time.UnixMilli(1234), creds: map[string]ScramCredential{}}
	for _, mech := range []string{MechanismScramSHA256, MechanismScramSHA512} {
		c, err := NewScramCredential(mech, pwd, []byte("salt"), ScramMinIterations)
		if err != nil {
			t.Fatal(err)
		}
		tt.creds[mech] = c
	}
	for _, sha512 := range []bool{false, true} {
		mech := MechanismScramSHA256
		m := scram.Auth{User: "tok1", Pass: pwd, IsToken: true}.AsSha256Mechanism()
		if sha512 {
			mech, m = MechanismScramSHA512, scram.Auth{User: "tok1", Pass: pwd, IsToken: true}.AsSha512Mechanism()
		}
		s, _ := NewScram(mech, NewCredentials())
		srv := s.WithTokens(tt).NewServer()
		if err := exchange(t, srv, m); err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
		if srv.AuthorizationID() != "alice" || !srv.(*scramServer).TokenAuthenticated() {
			t.Fatalf("%s: authorized as %q, token %v", mech, srv.AuthorizationID(), srv.(*scramServer).TokenAuthenticated())
		}
		if exp, ok := srv.(*scramServer).CredentialExpiry(); !ok || exp.UnixMilli() != 1234 {
			t.Fatalf("%s: credential expiry %v %v", mech, exp, ok)
		}
	}
	s, _ := NewScram(MechanismScramSHA256, NewCredentials())
	s.WithTokens(tt)
	err := exchange(t, s.NewServer(), scram.Auth{User: "tok2", Pass: pwd, IsToken: true}.AsSha256Mechanism())
	if err == nil || !strings.Contains(err.Error(), "Token Authentication failed: Invalid tokenId : tok2") {
		t.Fatalf("unknown token: %v", err)
	}
	if err := exchange(t, s.NewServer(), scram.Auth{User: "tok1", Pass: "wrong", IsToken: true}.AsSha256Mechanism()); err == nil {
		t.Fatal("wrong token password accepted")
	}
	srv := s.NewServer()
	if err := exchange(t, srv, scram.Auth{User: "tok1", Pass: pwd}.AsSha256Mechanism()); err == nil {
		t.Fatal("a token id logged in as a user")
	}
	// Without a token cache every token login fails.
	plain, _ := NewScram(MechanismScramSHA256, NewCredentials())
	if err := exchange(t, plain.NewServer(), scram.Auth{User: "tok1", Pass: pwd, IsToken: true}.AsSha256Mechanism()); err == nil {
		t.Fatal("token login without a token cache")
	}
}

package kwire

import (
	"testing"
	"time"
)

// expiringServer is a finished SASL exchange whose credential expires at exp (a delegation token login).
type expiringServer struct {
	exp time.Time
	ok  bool
}

func (expiringServer) Evaluate([]byte) ([]byte, bool, error) { return nil, true, nil }
func (expiringServer) AuthorizationID() string               { return "alice" }
func (e expiringServer) CredentialExpiry() (time.Time, bool) { return e.exp, e.ok }

// TestSessionLifetime: calcCompletionTimesAndReturnSessionLifetimeMs with Kafka's connections.max.reauth.ms
// always present (0 by default): a token's expiry only shortens a configured re-authentication interval.
func TestSessionLifetime(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, c := range []struct {
		what      string
		maxReauth time.Duration
		srv       SASLServer
		want      time.Duration
	}{
		{"no reauth, no expiry", 0, expiringServer{}, 0},
		{"no reauth, token", 0, expiringServer{now.Add(time.Minute), true}, 0},
		{"reauth, no token", time.Hour, expiringServer{}, time.Hour},
		{"reauth, token sooner", time.Hour, expiringServer{now.Add(time.Minute), true}, time.Minute},
		{"reauth, token later", time.Minute, expiringServer{now.Add(time.Hour), true}, time.Minute},
		{"reauth, token expired", time.Minute, expiringServer{now.Add(-time.Hour), true}, 0},
	} {
		if got := sessionLifetime(c.maxReauth, c.srv, now); got != c.want {
			t.Errorf("%s: %v, want %v", c.what, got, c.want)
		}
	}
}

package dtoken

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/zkserver/zktest"
)

// startZK runs zkserver in this process and returns a client of it.
func startZK(t *testing.T) *zkmeta.Client {
	t.Helper()
	srv := zktest.Start(t, "", nil)
	c, err := zkmeta.Connect(srv.Addr().String(), 10*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestManagers: two brokers' managers on one ZooKeeper: a token made by one is loaded by a manager started later
// and reaches a running one through the change notifications, with SCRAM credentials of the HMAC for both
// mechanisms; the expiry check removes expired tokens only while its broker is the controller.
func TestManagers(t *testing.T) {
	zc := startZK(t)
	cfg := Config{SecretKey: "secret", MaxLifetime: time.Hour, ExpiryTime: time.Minute, CheckInterval: 50 * time.Millisecond}
	quiet := slog.New(slog.DiscardHandler)
	m1, m2 := New(cfg, zc, quiet), New(cfg, zc, quiet)
	if err := m1.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = m1.Watch(ctx) }()
	old, err := m1.Create("User:alice", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = m2.Watch(ctx) }()
	if _, owner, _, ok := m2.TokenCredential(sasl.MechanismScramSHA512, old.TokenID); !ok || owner != "User:alice" {
		t.Fatalf("loaded at start: %q %v", owner, ok)
	}
	fresh, err := m1.Create("User:bob", []string{"User:alice"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the notification", func() bool { _, _, _, ok := m2.TokenCredential(sasl.MechanismScramSHA256, fresh.TokenID); return ok })
	cred, _, exp, _ := m2.TokenCredential(sasl.MechanismScramSHA256, fresh.TokenID)
	if exp.UnixMilli() != fresh.ExpiryTimestamp || cred.Iterations != 4096 {
		t.Fatalf("credential %+v, expiry %v", cred, exp)
	}
	// The HMAC is the token's password: a credential derived from it with the same salt matches.
	pwd := sasl.ScramCredential{}
	if pwd, err = sasl.NewScramCredential(sasl.MechanismScramSHA256, b64(HMAC(fresh.TokenID, "secret")), cred.Salt, 4096); err != nil || string(pwd.StoredKey) != string(cred.StoredKey) {
		t.Fatalf("credential not derived from the HMAC: %v", err)
	}

	// Renewed by alice (a renewer) on m2: m1 sees the new expiry.
	newExp, err := m2.Renew("User:alice", fresh.HMAC, 1000)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the renewal", func() bool {
		_, _, exp, _ := m1.TokenCredential(sasl.MechanismScramSHA256, fresh.TokenID)
		return exp.UnixMilli() == newExp
	})
	if _, err := m1.Renew("User:carol", fresh.HMAC, 1000); !errors.Is(err, kerr.DelegationTokenOwnerMismatch) {
		t.Fatalf("carol: %v", err)
	}

	// Expired, then removed by the expiry check of the controller only.
	expiry, err := m1.Expire("User:bob", fresh.HMAC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The expiry timestamp is now: a token is expired once the clock has passed it.
	waitFor(t, "the clock to pass the expiry", func() bool { return time.Now().UnixMilli() > expiry })
	if _, err := m1.Renew("User:bob", fresh.HMAC, 1000); !errors.Is(err, kerr.DelegationTokenExpired) {
		t.Fatalf("renew an expired token: %v", err)
	}
	var active atomic.Bool
	go m2.RunExpiry(ctx, active.Load)
	var calls atomic.Int32
	go m1.RunExpiry(ctx, func() bool { calls.Add(1); return false })
	waitFor(t, "a few expiry polls", func() bool { return calls.Load() > 3 })
	if ok, _ := zc.PathExists(TokenPath(fresh.TokenID)); !ok {
		t.Fatal("a broker that is not the controller removed a token")
	}
	active.Store(true)
	waitFor(t, "the expiry check", func() bool {
		ok, err := zc.PathExists(TokenPath(fresh.TokenID))
		return err == nil && !ok
	})
	waitFor(t, "the removal on the other broker", func() bool {
		_, _, _, ok := m1.TokenCredential(sasl.MechanismScramSHA256, fresh.TokenID)
		return !ok
	})
	if _, _, _, ok := m1.TokenCredential(sasl.MechanismScramSHA256, old.TokenID); !ok {
		t.Fatal("the unexpired token went too")
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

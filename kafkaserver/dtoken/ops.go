package dtoken

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// newTokenID is CoreUtils.generateUuidAsBase64: a random (version 4) UUID in unpadded URL-safe base64.
func newTokenID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return base64.RawURLEncoding.EncodeToString(u[:]), nil
}

// Create is createToken: owner is the requester; a maxLifetimeMs of 0 or less takes the configured maximum.
func (m *Manager) Create(owner string, renewers []string, maxLifetimeMs int64) (Token, error) {
	if !m.Enabled() {
		return Token{}, kerr.DelegationTokenAuthDisabled
	}
	m.lock.Lock()
	defer m.lock.Unlock()
	id, err := newTokenID()
	if err != nil {
		return Token{}, err
	}
	now := m.now().UnixMilli()
	maxLife := m.cfg.MaxLifetime.Milliseconds()
	if maxLifetimeMs > 0 {
		maxLife = min(maxLifetimeMs, maxLife)
	}
	maxTs := now + maxLife
	t := Token{Info: Info{TokenID: id, Owner: owner, Renewers: renewers, IssueTimestamp: now, MaxTimestamp: maxTs,
		ExpiryTimestamp: min(maxTs, now+m.cfg.ExpiryTime.Milliseconds())}, HMAC: HMAC(id, m.cfg.SecretKey)}
	if err := m.store(t); err != nil {
		return Token{}, err
	}
	m.logger.Info(fmt.Sprintf("Created a delegation token: %s for owner: %s", id, owner))
	return t, nil
}

// Renew is renewToken: a negative period takes delegation.token.expiry.time.ms; it returns the new expiry.
func (m *Manager) Renew(principal string, hmacBytes []byte, periodMs int64) (int64, error) {
	return m.change(principal, hmacBytes, func(t *Token, now int64) (int64, bool) {
		if periodMs < 0 {
			periodMs = m.cfg.ExpiryTime.Milliseconds()
		}
		t.ExpiryTimestamp = min(t.MaxTimestamp, now+periodMs)
		return t.ExpiryTimestamp, true
	})
}

// Expire is expireToken: a negative period removes the token now, another sets its expiry that far ahead.
func (m *Manager) Expire(principal string, hmacBytes []byte, periodMs int64) (int64, error) {
	return m.change(principal, hmacBytes, func(t *Token, now int64) (int64, bool) {
		if periodMs < 0 {
			return now, false
		}
		t.ExpiryTimestamp = min(t.MaxTimestamp, now+periodMs)
		return t.ExpiryTimestamp, true
	})
}

// change runs the checks renew and expire share, then apply; keep false removes the token.
func (m *Manager) change(principal string, hmacBytes []byte, apply func(t *Token, now int64) (int64, bool)) (int64, error) {
	if !m.Enabled() {
		return errorTimestamp, kerr.DelegationTokenAuthDisabled
	}
	m.lock.Lock()
	defer m.lock.Unlock()
	t, ok := m.byHMACLocked(hmacBytes)
	if !ok {
		return errorTimestamp, kerr.DelegationTokenNotFound
	}
	now := m.now().UnixMilli()
	if !t.OwnerOrRenewer(principal) {
		return errorTimestamp, kerr.DelegationTokenOwnerMismatch
	}
	if t.expired(now) {
		return errorTimestamp, kerr.DelegationTokenExpired
	}
	ts, keep := apply(&t, now)
	if !keep {
		if err := m.remove(t.TokenID); err != nil {
			return errorTimestamp, err
		}
		m.logger.Info(fmt.Sprintf("Token expired for token: %s for owner: %s", t.TokenID, t.Owner))
		return ts, nil
	}
	if err := m.store(t); err != nil {
		return errorTimestamp, err
	}
	return ts, nil
}

// ExpireTokens is expireTokens: every token past its expiry or maximum time is removed.
func (m *Manager) ExpireTokens() error {
	if !m.Enabled() {
		return nil
	}
	m.lock.Lock()
	defer m.lock.Unlock()
	var errs []error
	for _, t := range m.Tokens(func(Info) bool { return true }) {
		if t.expired(m.now().UnixMilli()) {
			m.logger.Info(fmt.Sprintf("Delegation token expired for token: %s for owner: %s", t.TokenID, t.Owner))
			errs = append(errs, m.remove(t.TokenID))
		}
	}
	return errors.Join(errs...)
}

// activationPoll is how often RunExpiry looks whether this broker became the controller.
const activationPoll = time.Second

// RunExpiry is the controller's delete-expired-tokens task until ctx ends: while active reports this broker the
// controller, ExpireTokens runs at once (within activationPoll of the activation, as KafkaController schedules it
// without delay on becoming active) and then every check interval; it stops when the broker resigns.
func (m *Manager) RunExpiry(ctx context.Context, active func() bool) {
	if !m.Enabled() {
		return
	}
	tick := time.NewTicker(min(m.cfg.CheckInterval, activationPoll))
	defer tick.Stop()
	var next time.Time // zero while not the controller
	for {
		if !active() {
			next = time.Time{}
		} else if now := m.now(); next.IsZero() || !now.Before(next) {
			if err := m.ExpireTokens(); err != nil {
				m.logger.Error("delete-expired-tokens", "err", err)
			}
			next = now.Add(m.cfg.CheckInterval)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

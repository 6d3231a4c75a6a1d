package dtoken

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// Token is DelegationToken: the information and its HMAC (the token's password).
type Token struct {
	Info
	HMAC []byte
}

type cached struct {
	tok   Token
	creds map[string]sasl.ScramCredential // per SCRAM mechanism, derived from the HMAC
}

// Manager is DelegationTokenManager with DelegationTokenCache. Safe for concurrent use.
type Manager struct {
	cfg    Config
	zk     *zkmeta.Client
	logger *slog.Logger
	now    func() time.Time

	// lock serializes the operations and notification handling, as the manager's lock.
	lock sync.Mutex

	mu     sync.RWMutex
	byID   map[string]*cached
	byHMAC map[string]string // base64 HMAC to token id
}

// New returns a manager; Start loads the cache and Watch keeps it current.
func New(cfg Config, zc *zkmeta.Client, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.Default()
	}
	return &Manager{cfg: cfg, zk: zc, logger: logger, now: time.Now, byID: map[string]*cached{}, byHMAC: map[string]string{}}
}

// Enabled reports whether tokens are on (a secret key is set).
func (m *Manager) Enabled() bool { return m != nil && m.cfg.Enabled() }

// HMAC is DelegationTokenManager.createHmac: HmacSHA512 of the token id keyed by the secret key.
func HMAC(tokenID, secretKey string) []byte {
	mac := hmac.New(sha512.New, []byte(secretKey))
	mac.Write([]byte(tokenID))
	return mac.Sum(nil)
}

// Start is DelegationTokenManager.startup without the listener: the paths made and every stored token loaded.
func (m *Manager) Start() error {
	if !m.Enabled() {
		return nil
	}
	for _, p := range []string{ChangesPath, TokensPath} {
		if err := m.zk.MakeSurePersistentPathExists(p); err != nil {
			return fmt.Errorf("delegation token paths: %w", err)
		}
	}
	m.lock.Lock()
	defer m.lock.Unlock()
	ids, err := m.zk.GetChildren(TokensPath)
	if err != nil {
		return fmt.Errorf("load delegation tokens: %w", err)
	}
	m.logger.Info(fmt.Sprintf("Loading the token cache. Total token count: %d", len(ids)))
	for _, id := range ids {
		if err := m.refresh(id); err != nil {
			m.logger.Error("Error while getting Token for tokenId: "+id, "err", err)
		}
	}
	return nil
}

// Watch runs the token change listener until ctx ends: every notification rereads its token.
func (m *Manager) Watch(ctx context.Context) error {
	if !m.Enabled() {
		return nil
	}
	l := &zkmeta.NotificationListener{ZK: m.zk, Path: ChangesPath, Prefix: ChangeSeqPrefix, Logger: m.logger,
		Handle: func(data []byte) error {
			m.lock.Lock()
			defer m.lock.Unlock()
			return m.refresh(string(data))
		}}
	return l.Run(ctx)
}

// refresh rereads one token from ZooKeeper into the cache, or drops it when gone. Callers hold lock.
func (m *Manager) refresh(id string) error {
	data, st, err := m.zk.GetDataAndStat(TokenPath(id))
	if err != nil {
		return fmt.Errorf("token %s: %w", id, err)
	}
	if st == nil || len(data) == 0 {
		m.removeCache(id)
		return nil
	}
	info, err := DecodeInfo(data)
	if err != nil {
		return fmt.Errorf("token %s: %w", id, err)
	}
	return m.updateCache(Token{Info: info, HMAC: HMAC(id, m.cfg.SecretKey)})
}

// updateCache stores a token with fresh SCRAM credentials for both mechanisms (prepareScramCredentials).
func (m *Manager) updateCache(t Token) error {
	pwd := base64.StdEncoding.EncodeToString(t.HMAC)
	creds := map[string]sasl.ScramCredential{}
	for _, mech := range []string{sasl.MechanismScramSHA256, sasl.MechanismScramSHA512} {
		salt := make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return fmt.Errorf("token credential salt: %w", err)
		}
		c, err := sasl.NewScramCredential(mech, pwd, salt, scramMinIteration)
		if err != nil {
			return fmt.Errorf("token %s credential: %w", t.TokenID, err)
		}
		creds[mech] = c
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byID[t.TokenID] = &cached{tok: t, creds: creds}
	m.byHMAC[pwd] = t.TokenID
	return nil
}

func (m *Manager) removeCache(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.byID[id]; ok {
		delete(m.byHMAC, base64.StdEncoding.EncodeToString(c.tok.HMAC))
		delete(m.byID, id)
	}
}

// TokenCredential is what ScramServerCallbackHandler asks the token cache: the token's credential for a
// mechanism and its owner.
func (m *Manager) TokenCredential(mechanism, tokenID string) (sasl.ScramCredential, string, time.Time, bool) {
	if m == nil {
		return sasl.ScramCredential{}, "", time.Time{}, false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.byID[tokenID]
	if !ok {
		return sasl.ScramCredential{}, "", time.Time{}, false
	}
	cred, ok := c.creds[mechanism]
	return cred, c.tok.Owner, time.UnixMilli(c.tok.ExpiryTimestamp), ok
}

func (m *Manager) byHMACLocked(hmacBytes []byte) (Token, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.byHMAC[base64.StdEncoding.EncodeToString(hmacBytes)]
	if !ok {
		return Token{}, false
	}
	t := m.byID[id].tok
	t.Renewers = append([]string(nil), t.Renewers...)
	return t, true
}

// Tokens returns the cached tokens keep accepts (getTokens).
func (m *Manager) Tokens(keep func(Info) bool) []Token {
	m.mu.RLock()
	all := make([]Token, 0, len(m.byID))
	for _, c := range m.byID {
		all = append(all, c.tok)
	}
	m.mu.RUnlock()
	var out []Token
	for _, t := range all {
		if keep(t.Info) {
			out = append(out, t)
		}
	}
	return out
}

// store is updateToken: the znode written, the cache updated and the other brokers notified.
func (m *Manager) store(t Token) error {
	path := TokenPath(t.TokenID)
	data := EncodeInfo(t.Info)
	if _, err := m.zk.Set(path, data, -1); err != nil {
		if !errors.Is(err, zk.ErrNoNode) {
			return fmt.Errorf("store token %s: %w", t.TokenID, err)
		}
		if err := m.zk.CreateRecursive(path, data, false); err != nil {
			return fmt.Errorf("store token %s: %w", t.TokenID, err)
		}
	}
	if err := m.updateCache(t); err != nil {
		return err
	}
	return m.notify(t.TokenID)
}

func (m *Manager) notify(id string) error {
	if _, err := m.zk.Create(ChangesPath+"/"+ChangeSeqPrefix, []byte(id), zk.FlagSequence); err != nil {
		return fmt.Errorf("token change notification: %w", err)
	}
	return nil
}

// remove is removeToken.
func (m *Manager) remove(id string) error {
	if err := m.zk.Delete(TokenPath(id), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("delete token %s: %w", id, err)
	}
	m.removeCache(id)
	return m.notify(id)
}

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

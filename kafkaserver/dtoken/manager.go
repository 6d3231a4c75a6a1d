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

package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkafka/zkafka/kwire"
)

// The SCRAM mechanisms (RFC 5802 / 7677) Kafka implements; their credentials live in ZooKeeper under
// /config/users/<user>, one config key per mechanism.
const (
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// ScramMinIterations is ScramMechanism.minIterations for both mechanisms.
const ScramMinIterations = 4096

// scramHash is the hash function of a SCRAM mechanism, nil when the name is not one.
func scramHash(mechanism string) func() hash.Hash {
	switch mechanism {
	case MechanismScramSHA256:
		return sha256.New
	case MechanismScramSHA512:
		return sha512.New
	}
	return nil
}

// IsScram reports whether mechanism is one of the SCRAM mechanisms.
func IsScram(mechanism string) bool { return scramHash(mechanism) != nil }

// ScramCredential is what a broker keeps of a SCRAM password (ScramCredential): never the password itself.
type ScramCredential struct {
	Salt, StoredKey, ServerKey []byte
	Iterations                 int
}

// String is ScramCredentialUtils.credentialToString, the value stored in ZooKeeper.
func (c ScramCredential) String() string {
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("salt=%s,stored_key=%s,server_key=%s,iterations=%d",
		enc(c.Salt), enc(c.StoredKey), enc(c.ServerKey), c.Iterations)
}

// ParseScramCredential is ScramCredentialUtils.credentialFromString: exactly the four keys.
func ParseScramCredential(s string) (ScramCredential, error) {
	props := map[string]string{}
	for _, tok := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return ScramCredential{}, fmt.Errorf("invalid credential property %q", tok)
		}
		props[k] = v
	}
	if len(props) != 4 || props["salt"] == "" || props["stored_key"] == "" || props["server_key"] == "" || props["iterations"] == "" {
		return ScramCredential{}, errors.New("credentials must contain salt, stored_key, server_key and iterations")
	}
	var c ScramCredential
	for _, f := range []struct {
		key string
		dst *[]byte
	}{{"salt", &c.Salt}, {"stored_key", &c.StoredKey}, {"server_key", &c.ServerKey}} {
		b, err := base64.StdEncoding.DecodeString(props[f.key])
		if err != nil {
			return ScramCredential{}, fmt.Errorf("credential %s: %w", f.key, err)
		}
		*f.dst = b
	}
	n, err := strconv.Atoi(props["iterations"])
	if err != nil {
		return ScramCredential{}, fmt.Errorf("credential iterations: %w", err)
	}
	c.Iterations = n
	return c, nil
}

// NewScramCredential derives the credential of password (ScramFormatter.generateCredential).
func NewScramCredential(mechanism, password string, salt []byte, iterations int) (ScramCredential, error) {
	h := scramHash(mechanism)
	if h == nil {
		return ScramCredential{}, fmt.Errorf("unknown SCRAM mechanism %s", mechanism)
	}
	salted, err := pbkdf2.Key(h, password, salt, iterations, h().Size())
	if err != nil {
		return ScramCredential{}, err
	}
	return ScramCredentialFromSalted(mechanism, salt, salted, iterations)
}

// ScramCredentialFromSalted derives the stored and server keys of a salted password, which is what
// AlterUserScramCredentials carries.
func ScramCredentialFromSalted(mechanism string, salt, salted []byte, iterations int) (ScramCredential, error) {
	h := scramHash(mechanism)
	if h == nil {
		return ScramCredential{}, fmt.Errorf("unknown SCRAM mechanism %s", mechanism)
	}
	sum := func(b []byte) []byte { d := h(); d.Write(b); return d.Sum(nil) }
	return ScramCredential{
		Salt:       salt,
		StoredKey:  sum(hmacOf(h, salted, []byte("Client Key"))),
		ServerKey:  hmacOf(h, salted, []byte("Server Key")),
		Iterations: iterations,
	}, nil
}

func hmacOf(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

// Credentials is the broker's SCRAM credential cache (CredentialCache): per enabled mechanism, the users'
// credentials as /config/users holds them. Safe for concurrent use.
type Credentials struct {
	mu    sync.RWMutex
	mechs map[string]map[string]ScramCredential
}

// NewCredentials makes an empty cache for both SCRAM mechanisms, as KafkaServer's CredentialProvider always has.
func NewCredentials() *Credentials {
	return &Credentials{mechs: map[string]map[string]ScramCredential{
		MechanismScramSHA256: {}, MechanismScramSHA512: {},
	}}
}

// Update replaces a user's credentials by those of its config (CredentialProvider.updateCredentials): a mechanism
// missing from config, or whose value does not parse, leaves the user without a credential for it.
func (c *Credentials) Update(user string, config map[string]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for mech, users := range c.mechs {
		v, ok := config[mech]
		if !ok {
			delete(users, user)
			continue
		}
		cred, err := ParseScramCredential(v)
		if err != nil {
			delete(users, user)
			errs = append(errs, fmt.Errorf("%s credential of user %s: %w", mech, user, err))
			continue
		}
		users[user] = cred
	}
	return errors.Join(errs...)
}

// Get returns a user's credential for a mechanism.
func (c *Credentials) Get(mechanism, user string) (ScramCredential, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cred, ok := c.mechs[mechanism][user]
	return cred, ok
}

// Character classes of ScramMessages' grammar (RFC 5802 section 7, as Kafka's patterns write it).
const (
	scramSaslName  = `(?:[\x01-\x2B\x2D-\x3C\x3E-\x7F]|=2C|=3D)+`
	scramValue     = `[\x01-\x2B\x2D-\x7F]+`
	scramPrintable = `[\x21-\x2B\x2D-\x7E]+`
	scramBase64    = `(?:[a-zA-Z0-9/+]{4})*(?:[a-zA-Z0-9/+]{3}=|[a-zA-Z0-9/+]{2}==)?`
	scramExts      = `(?:,[A-Za-z]+=` + scramValue + `)*`
)

var (
	clientFirstRE = regexp.MustCompile(`^n,(?:a=(` + scramSaslName + `))?,(?:m=` + scramValue + `,)?n=(` + scramSaslName +
		`),r=(` + scramPrintable + `)(` + scramExts + `)$`)
	clientFinalRE = regexp.MustCompile(`^c=(` + scramBase64 + `),r=(` + scramPrintable + `)` + scramExts + `,p=(` + scramBase64 + `)$`)
)

// TokenCredentials is the delegation token cache as ScramServerCallbackHandler asks it: a token's SCRAM
// credential and its owner ("User:name").
type TokenCredentials interface {
	TokenCredential(mechanism, tokenID string) (cred ScramCredential, owner string, expiry time.Time, ok bool)
}

// Scram authenticates SCRAM-SHA-256 or SCRAM-SHA-512 logins against the credential cache (ScramSaslServer with
// ScramServerCallbackHandler), and delegation tokens (the tokenauth=true extension) against the token cache.
type Scram struct {
	mechanism string
	creds     *Credentials
	tokens    TokenCredentials       // nil: token logins fail
	newNonce  func() (string, error) // randomNonce; tests replay fixed exchanges
}

// WithTokens makes the mechanism accept delegation tokens from tokens.
func (s *Scram) WithTokens(tokens TokenCredentials) *Scram { s.tokens = tokens; return s }

// NewScram returns the server side of a SCRAM mechanism.
func NewScram(mechanism string, creds *Credentials) (*Scram, error) {
	if !IsScram(mechanism) {
		return nil, fmt.Errorf("unknown SCRAM mechanism %s", mechanism)
	}
	return &Scram{mechanism: mechanism, creds: creds, newNonce: randomNonce}, nil
}

// NewServer starts one exchange.
func (s *Scram) NewServer() kwire.SASLServer { return &scramServer{s: s, h: scramHash(s.mechanism)} }

type scramServer struct {
	s    *Scram
	h    func() hash.Hash
	step int // 0: expecting client-first, 1: client-final, 2: done or failed
	user string
	// authzID is the session's user: the SCRAM user, or a token's owner.
	authzID     string
	token       bool
	tokenExpiry time.Time // the token's expiry timestamp
	cred        ScramCredential
	// The parts of the auth message: client-first-bare and server-first.
	clientFirstBare, serverFirst string
}

// errInvalid is a SaslException: the client is told only that its credentials were invalid.
var errInvalid = errors.New("invalid SCRAM exchange")

func (s *scramServer) Evaluate(token []byte) ([]byte, bool, error) {
	step := s.step
	s.step = 2 // a failure ends the exchange; success sets the next step
	switch step {
	case 0:
		return s.first(string(token))
	case 1:
		return s.final(string(token))
	}
	return nil, false, fmt.Errorf("%w: unexpected token after the exchange ended", errInvalid)
}

func (s *scramServer) first(msg string) ([]byte, bool, error) {
	m := clientFirstRE.FindStringSubmatch(msg)
	if m == nil {
		return nil, false, fmt.Errorf("%w: invalid SCRAM client first message format", errInvalid)
	}
	authzid, saslName, clientNonce, exts := m[1], m[2], m[3], m[4]
	user := scramUsername(saslName)
	cred, authzID, ok := s.credential(user, tokenAuth(exts))
	if authzID == "" {
		return nil, false, fmt.Errorf("%w: Token Authentication failed: Invalid tokenId : %s", errInvalid, user)
	}
	if !ok {
		return nil, false, fmt.Errorf("%w: Authentication failed: Invalid user credentials", errInvalid)
	}
	if authzid != "" && authzid != user {
		return nil, false, &kwire.AuthenticationError{
			Message: "Authentication failed: Client requested an authorization id that is different from username"}
	}
	if cred.Iterations < ScramMinIterations {
		return nil, false, fmt.Errorf("%w: Iterations %d is less than the minimum %d for %s", errInvalid,
			cred.Iterations, ScramMinIterations, s.s.mechanism)
	}
	serverNonce, err := s.s.newNonce()
	if err != nil {
		return nil, false, err
	}
	s.user, s.authzID, s.cred = user, authzID, cred
	s.clientFirstBare = "n=" + saslName + ",r=" + clientNonce + exts
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", clientNonce+serverNonce, base64.StdEncoding.EncodeToString(cred.Salt), cred.Iterations)
	s.step = 1
	return []byte(s.serverFirst), false, nil
}

func (s *scramServer) final(msg string) ([]byte, bool, error) {
	m := clientFinalRE.FindStringSubmatch(msg)
	if m == nil {
		return nil, false, fmt.Errorf("%w: invalid SCRAM client final message format", errInvalid)
	}
	channel, nonce, proofB64 := m[1], m[2], m[3]
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil {
		return nil, false, fmt.Errorf("%w: Invalid client credentials", errInvalid)
	}
	// The nonce is not compared with the one sent, as ScramSaslServer does not: the proof signs the nonce the
	// client sent together with our server-first message, and librdkafka 2.0 (Debian's kcat) puts its own nonce
	// once more before the combined one.
	// The auth message signs the final message without its proof (and extensions), as ScramFormatter rebuilds it.
	auth := []byte(s.clientFirstBare + "," + s.serverFirst + ",c=" + channel + ",r=" + nonce)
	sig := hmacOf(s.h, s.cred.StoredKey, auth)
	if len(proof) != len(sig) {
		return nil, false, fmt.Errorf("%w: Invalid client credentials", errInvalid)
	}
	clientKey := make([]byte, len(sig))
	for i := range sig {
		clientKey[i] = sig[i] ^ proof[i]
	}
	d := s.h()
	d.Write(clientKey)
	if subtle.ConstantTimeCompare(d.Sum(nil), s.cred.StoredKey) != 1 {
		return nil, false, fmt.Errorf("%w: Invalid client credentials", errInvalid)
	}
	serverSig := hmacOf(s.h, s.cred.ServerKey, auth)
	s.cred = ScramCredential{}
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), true, nil
}

func (s *scramServer) AuthorizationID() string { return s.authzID }

// TokenAuthenticated reports a delegation token login (ScramSaslServer's tokenauth negotiated property).
func (s *scramServer) TokenAuthenticated() bool { return s.token }

// CredentialExpiry is the token's expiry timestamp for a token login (the session lifetime's bound).
func (s *scramServer) CredentialExpiry() (time.Time, bool) { return s.tokenExpiry, s.token }

// tokenAuth is ScramExtensions.tokenAuthenticated: the tokenauth extension set to true (case-insensitively).
func tokenAuth(exts string) bool {
	for _, e := range strings.Split(strings.TrimPrefix(exts, ","), ",") {
		if k, v, ok := strings.Cut(e, "="); ok && k == "tokenauth" && strings.EqualFold(v, "true") {
			return true
		}
	}
	return false
}

// credential is ScramServerCallbackHandler: a user's credential, or with token a token's and its owner's name
// (authzID empty for an unknown token).
func (s *scramServer) credential(user string, token bool) (cred ScramCredential, authzID string, ok bool) {
	if !token {
		cred, ok = s.s.creds.Get(s.s.mechanism, user)
		return cred, user, ok
	}
	if s.s.tokens == nil {
		return ScramCredential{}, "", false
	}
	cred, owner, expiry, ok := s.s.tokens.TokenCredential(s.s.mechanism, user)
	if owner == "" {
		return ScramCredential{}, "", false
	}
	s.token, s.tokenExpiry = true, expiry
	// The owner is "User:name"; the session's principal is built from the name, as DelegationTokenCache.owner.
	_, name, found := strings.Cut(owner, ":")
	if !found {
		name = owner
	}
	return cred, name, ok
}

// scramUsername is ScramFormatter.username; the grammar already allows no other '=' than the two escapes.
func scramUsername(saslName string) string {
	return strings.NewReplacer("=2C", ",", "=3D", "=").Replace(saslName)
}

// randomNonce is ScramFormatter.secureRandomString: 130 random bits in base 36.
func randomNonce() (string, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 130))
	if err != nil {
		return "", fmt.Errorf("scram nonce: %w", err)
	}
	return n.Text(36), nil
}

// Package acl implements ZooKeeper's auth schemes and permission checks as
// Apache ZooKeeper 3.8 does: digest (with the super digest), ip, world:anyone, x509 and sasl when registered
// and the "auth" pseudo-scheme, plus ACL validation for create and setACL.
package acl

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/zkafka/zkafka/jute"
)

// Config holds the server's auth settings.
type Config struct {
	// SuperDigest is zookeeper.DigestAuthenticationProvider.superDigest
	// ("super:D/InIHSb7yEEbrWz8b9l71RjZJU="); a digest auth that produces it
	// also gets the super id, which passes every ACL. Empty = none.
	SuperDigest string
	// SkipACL is zookeeper.skipACL=yes.
	SkipACL bool
	// DigestAuthEnabled is zookeeper.DigestAuthenticationProvider.enabled
	// (Apache's default is true; see DefaultConfig).
	DigestAuthEnabled bool
	// IPv6 accepts IPv6 ip ACLs, as Apache releases after 3.8 do
	// (zkafka.acl.ipv6). Off, an IPv6 ip ACL is InvalidACL, as in 3.8.
	IPv6 bool
	// ExtraSchemes names further registered providers (x509, sasl) whose ids a
	// connection may carry: any id is valid (x509: a distinguished name),
	// matching is equality, and they count as authenticated for "auth"
	// expansion.
	ExtraSchemes []string
	// LetAnySaslUserDoX is zookeeper.letAnySaslUserDoX: a sasl ACL entry with this id is met by any sasl id.
	// nil = not set.
	LetAnySaslUserDoX *string
	// Ensemble is EnsembleAuthenticationProvider, registered when not nil: its scheme, "ensemble", checks the name
	// of the ensemble a client means to reach instead of authenticating it, and is valid in no ACL.
	Ensemble *Ensemble
}

// Ensemble holds the ensemble's names, zookeeper.ensembleAuthName's comma-separated list (nil when not set).
type Ensemble struct{ Names []string }

// EnsembleCheck is EnsembleAuthenticationProvider's answer to an "ensemble" auth packet.
type EnsembleCheck int

const (
	// EnsembleSkip: an empty name, or no names configured; the packet succeeds (ensemble_auth_skip).
	EnsembleSkip EnsembleCheck = iota
	// EnsembleSuccess: one of the ensemble's names (ensemble_auth_success).
	EnsembleSuccess
	// EnsembleFail: another name; the server closes the connection unanswered, so that the client tries another
	// server (ensemble_auth_fail).
	EnsembleFail
)

// NewEnsemble reads zookeeper.ensembleAuthName's value as the provider does: split at commas, each name trimmed.
func NewEnsemble(namesCSV string) *Ensemble {
	e := &Ensemble{}
	for n := range strings.SplitSeq(namesCSV, ",") {
		e.Names = append(e.Names, strings.TrimFunc(n, func(r rune) bool { return r <= ' ' })) // String.trim
	}
	return e
}

// CheckEnsemble answers an "ensemble" auth packet (the scheme must be registered).
func (c *Checker) CheckEnsemble(auth []byte) EnsembleCheck {
	switch {
	case len(auth) == 0 || c.cfg.Ensemble == nil || c.cfg.Ensemble.Names == nil:
		return EnsembleSkip
	case slices.Contains(c.cfg.Ensemble.Names, string(auth)):
		return EnsembleSuccess
	}
	return EnsembleFail
}

// DefaultConfig is Apache's default: digest enabled, no super digest.
func DefaultConfig() Config { return Config{DigestAuthEnabled: true} }

// Checker authenticates auth packets and checks permissions.
type Checker struct {
	cfg Config
}

// NewChecker returns a checker for c.
func NewChecker(c Config) *Checker {
	c.ExtraSchemes = slices.Clone(c.ExtraSchemes)
	return &Checker{cfg: c}
}

// Authenticate handles an AuthPacket and returns the ids to add to the
// connection, or ErrAuthFailed (the caller replies and closes the connection).
// digest: super (when the digest equals SuperDigest) then the digest id, in
// Apache's order. ip: nothing to add, since every connection already carries
// its ip id (IPID), which is all Apache's ip provider would add. Other
// schemes, and a null digest payload (a Java NPE there), fail.
func (c *Checker) Authenticate(scheme string, auth []byte) ([]jute.Id, jute.Err) {
	switch {
	case scheme == "ip":
		return nil, jute.ErrOK
	case scheme == "digest" && c.cfg.DigestAuthEnabled:
		if auth == nil {
			return nil, jute.ErrAuthFailed
		}
		d := GenerateDigest(javaString(auth))
		ids := make([]jute.Id, 0, 2)
		if c.cfg.SuperDigest != "" && d == c.cfg.SuperDigest {
			ids = append(ids, jute.Id{Scheme: "super", ID: ""})
		}
		return append(ids, jute.Id{Scheme: "digest", ID: d}), jute.ErrOK
	}
	return nil, jute.ErrAuthFailed
}

// Registered reports whether scheme has a registered auth provider.
func (c *Checker) Registered(scheme string) bool {
	reg, _ := c.provider(scheme)
	return reg
}

// provider reports whether scheme has a registered provider (super, world and
// auth do not: they are handled inline), and whether it is authenticated.
func (c *Checker) provider(scheme string) (registered, authenticated bool) {
	switch scheme {
	case "ip":
		return true, false
	case "digest":
		return c.cfg.DigestAuthEnabled, true
	case "ensemble":
		return c.cfg.Ensemble != nil, false
	}
	if slices.Contains(c.cfg.ExtraSchemes, scheme) {
		return true, true
	}
	return false, false
}

func (c *Checker) valid(id jute.Id) bool {
	switch id.Scheme {
	case "ip":
		return IPValid(id.ID, c.cfg.IPv6)
	case "digest":
		return c.cfg.DigestAuthEnabled && digestValid(id.ID)
	case "x509":
		return slices.Contains(c.cfg.ExtraSchemes, id.Scheme) && x500Valid(id.ID)
	case "sasl":
		return slices.Contains(c.cfg.ExtraSchemes, id.Scheme) && saslValid(id.ID)
	}
	return slices.Contains(c.cfg.ExtraSchemes, id.Scheme)
}

func (c *Checker) matches(scheme, callerID, aclID string) bool {
	switch scheme {
	case "ip":
		return ipMatches(aclID, callerID, c.cfg.IPv6)
	case "sasl":
		// SASLAuthenticationProvider.matches: a sasl id "super" meets every sasl entry.
		return callerID == "super" || callerID == aclID ||
			(c.cfg.LetAnySaslUserDoX != nil && aclID == *c.cfg.LetAnySaslUserDoX)
	}
	return callerID == aclID
}

// Check is ZooKeeperServer.checkACL: true if ids may do perm on a node with
// acl. An ACL entry applies if it grants any of perm's bits (getACL asks for
// READ|ADMIN and either will do).
func (c *Checker) Check(acl []jute.ACL, perm int32, ids []jute.Id) bool {
	if c.cfg.SkipACL || len(acl) == 0 {
		return true
	}
	for _, id := range ids {
		if id.Scheme == "super" {
			return true
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID.Scheme == "world" && a.ID.ID == "anyone" {
			return true
		}
		if reg, _ := c.provider(a.ID.Scheme); !reg {
			continue
		}
		for _, id := range ids {
			if id.Scheme == a.ID.Scheme && c.matches(id.Scheme, id.ID, a.ID.ID) {
				return true
			}
		}
	}
	return false
}

// FixupACL is PrepRequestProcessor.fixupACL for create and setACL: duplicates
// are dropped (first kept), then each entry is checked in order. world:anyone
// passes; "auth" (whatever its id) becomes one entry per authenticated id of
// the caller, in the caller's order (digest and extra schemes; not ip, not
// super), InvalidACL if there is none; any other entry needs a registered
// scheme and a valid id. An empty list is InvalidACL. As in Apache, entries
// produced by "auth" expansion are not deduplicated again.
func (c *Checker) FixupACL(acl []jute.ACL, ids []jute.Id) ([]jute.ACL, jute.Err) {
	uniq := make([]jute.ACL, 0, len(acl))
	for _, a := range acl {
		if !slices.Contains(uniq, a) {
			uniq = append(uniq, a)
		}
	}
	if len(uniq) == 0 {
		return nil, jute.ErrInvalidACL
	}
	out := make([]jute.ACL, 0, len(uniq))
	for _, a := range uniq {
		switch {
		case a.ID.Scheme == "world" && a.ID.ID == "anyone":
			out = append(out, a)
		case a.ID.Scheme == "auth":
			n := len(out)
			for _, id := range ids {
				if _, authed := c.provider(id.Scheme); authed {
					out = append(out, jute.ACL{Perms: a.Perms, ID: id})
				}
			}
			if len(out) == n {
				return nil, jute.ErrInvalidACL
			}
		default:
			if !c.valid(a.ID) {
				return nil, jute.ErrInvalidACL
			}
			out = append(out, a)
		}
	}
	return out, jute.ErrOK
}

// MaskDigests returns acl with every digest id's text from its first ':' to
// the end of that line replaced by ":x", as getACL answers a caller without
// ADMIN (Java's replaceAll(":.*", ":x"), whose '.' stops at line ends).
func MaskDigests(acl []jute.ACL) []jute.ACL {
	out := make([]jute.ACL, len(acl))
	for i, a := range acl {
		if a.ID.Scheme == "digest" {
			a.ID.ID = maskDigest(a.ID.ID)
		}
		out[i] = a
	}
	return out
}

func maskDigest(s string) string {
	if !strings.Contains(s, ":") {
		return s
	}
	var sb strings.Builder
	for {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			sb.WriteString(s)
			return sb.String()
		}
		sb.WriteString(s[:i])
		sb.WriteString(":x")
		s = s[i:]
		end := strings.IndexFunc(s, isJavaLineTerminator)
		if end < 0 {
			return sb.String()
		}
		s = s[end:]
		// the terminator itself is kept; scanning resumes after it
		_, n := utf8.DecodeRuneInString(s)
		sb.WriteString(s[:n])
		s = s[n:]
	}
}

// isJavaLineTerminator lists what java.util.regex's '.' does not match.
func isJavaLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
}

// ClientInfo answers whoAmI (AuthUtil.getClientInfos): one (scheme, user) per
// id in the given order; the user is the digest's name, the ip address, the id
// itself for other providers, and "" for super, which has no provider.
func ClientInfo(ids []jute.Id) []jute.ClientInfo {
	out := make([]jute.ClientInfo, 0, len(ids))
	for _, id := range ids {
		user := id.ID
		switch id.Scheme {
		case "digest":
			user = digestUser(id.ID)
		case "super":
			user = ""
		}
		out = append(out, jute.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return out
}

package sasl

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DIGEST-MD5 (RFC 2831) as the JDK's server runs it for ZooKeeper: created with a protocol and a server name
// ("zookeeper" and "zk-sasl-md5" for clients, "zookeeper-quorum" and "zk-quorum-sasl-md5" between quorum peers)
// and no properties, so the one realm is the server name, qop is auth only (no integrity or privacy layer), and
// values are UTF-8.
const (
	ClientProtocol   = "zookeeper"
	ClientServerName = "zk-sasl-md5"
	QuorumProtocol   = "zookeeper-quorum"
	QuorumServerName = "zk-quorum-sasl-md5"
	// maxDigestResponse is the JDK's limit on a digest-response.
	maxDigestResponse = 4096
)

// DigestServer is one connection's DIGEST-MD5 negotiation: the first client token (empty) gets the challenge,
// the second (the digest-response) is verified and answered with rspauth; after that it is complete.
type DigestServer struct {
	protocol, serverName string
	password             func(user string) (string, bool)
	rand                 io.Reader
	step                 int
	nonce                string
	// user is the authentication id; authzid what the client asked to act as (the user when it did not say).
	user, authzid string
}

// NewDigestServer starts a negotiation for protocol and serverName, checking users' responses with the passwords
// password gives (false: no such user); nonces come from random (nil: crypto/rand).
func NewDigestServer(protocol, serverName string, password func(user string) (string, bool),
	random io.Reader) *DigestServer {
	if random == nil {
		random = rand.Reader
	}
	return &DigestServer{protocol: protocol, serverName: serverName, password: password, rand: random}
}

// Complete reports whether the client has authenticated.
func (s *DigestServer) Complete() bool { return s.step == 2 }

// User is the authenticated user; Authzid the id it asked to act as (the user when it did not say).
func (s *DigestServer) User() string    { return s.user }
func (s *DigestServer) Authzid() string { return s.authzid }

// Evaluate takes one client token and returns the server's.
func (s *DigestServer) Evaluate(token []byte) ([]byte, error) {
	switch s.step {
	case 0:
		// The JDK ignores an initial response (DIGEST-MD5 has none).
		b := make([]byte, 30)
		if _, err := io.ReadFull(s.rand, b); err != nil {
			return nil, fmt.Errorf("DIGEST-MD5: nonce: %w", err)
		}
		s.nonce = base64.StdEncoding.EncodeToString(b)
		s.step = 1
		return fmt.Appendf(nil, `realm="%s",nonce="%s",charset=utf-8,algorithm=md5-sess`, s.serverName, s.nonce), nil
	case 1:
		if len(token) > maxDigestResponse {
			s.step = -1
			return nil, fmt.Errorf("DIGEST-MD5: Invalid digest response length. Got:  %d Expected < %d", len(token), maxDigestResponse)
		}
		rsp, err := s.verify(token)
		if err != nil {
			s.step = -1
			return nil, err
		}
		s.step = 2
		return rsp, nil
	}
	return nil, errors.New("DIGEST-MD5: Server at illegal state")
}

// directiveSet names the directives a parse keeps (any other is ignored, as the JDK does); true marks one that may
// come more than once, of which the first is kept.
type directiveSet map[string]bool

// responseKeys are the digest-response directives the server reads.
var responseKeys = directiveSet{
	"username": false, "realm": false, "nonce": false, "cnonce": false, "nc": false, "qop": false,
	"digest-uri": false, "response": false, "maxbuf": false, "charset": false, "cipher": false, "authzid": false,
}

// challengeKeys are the digest-challenge directives the client reads; a server may offer several realms.
var challengeKeys = directiveSet{
	"realm": true, "nonce": false, "qop": false, "stale": false, "maxbuf": false, "charset": false,
	"algorithm": false, "cipher": false,
}

// verify checks a digest-response in the order of the JDK's DigestMD5Server.validateClientResponse.
func (s *DigestServer) verify(token []byte) ([]byte, error) {
	d, err := parseDirectives(token, responseKeys)
	if err != nil {
		return nil, err
	}
	violation := func(format string, a ...any) error {
		return fmt.Errorf("DIGEST-MD5: digest response format violation. "+format, a...)
	}
	if v, ok := d["charset"]; ok && v != "utf-8" {
		return nil, violation("Incompatible charset value: %s", v)
	}
	if v, ok := d["maxbuf"]; ok {
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			return nil, fmt.Errorf("DIGEST-MD5: maxbuf: %w", err)
		}
	}
	user, ok := d["username"]
	if !ok {
		return nil, violation("Missing username.")
	}
	realm := d["realm"]
	if realm != s.serverName {
		return nil, violation("Nonexistent realm: %s", realm)
	}
	nonce, ok := d["nonce"]
	if !ok {
		return nil, violation("Missing nonce.")
	}
	if nonce != s.nonce {
		return nil, violation("Mismatched nonce.")
	}
	cnonce, ok := d["cnonce"]
	if !ok {
		return nil, violation("Missing cnonce.")
	}
	if nc, ok := d["nc"]; ok {
		if n, err := strconv.ParseInt(nc, 16, 32); err != nil || n != 1 {
			return nil, violation("Nonce count does not match: %s", nc)
		}
	}
	qop := "auth"
	if v, ok := d["qop"]; ok {
		qop = v
	}
	switch qop {
	case "auth":
	case "auth-int", "auth-conf":
		return nil, fmt.Errorf("DIGEST-MD5: server does not support qop: %s", qop)
	default:
		return nil, violation("Invalid QOP: %s", qop)
	}
	uri, ok := d["digest-uri"]
	want := s.protocol + "/" + s.serverName
	if !ok || !strings.EqualFold(uri, want) {
		if !ok {
			uri = "null"
		}
		return nil, violation("Mismatched URI: %s; expecting: %s", uri, want)
	}
	response, ok := d["response"]
	if !ok {
		return nil, violation("Missing response.")
	}
	authzid, hasAuthzid := d["authzid"]
	pw, ok := s.password(user)
	if !ok {
		return nil, fmt.Errorf("DIGEST-MD5: cannot acquire password for %s in realm : %s", user, realm)
	}
	var az *string
	if hasAuthzid {
		az = &authzid
	}
	h := digestValues{user: user, realm: realm, password: pw, nonce: s.nonce, cnonce: cnonce, qop: qop, uri: uri, authzid: az}
	expected := h.response("AUTHENTICATE")
	if subtle.ConstantTimeCompare([]byte(response), []byte(expected)) != 1 {
		return nil, violation("Mismatched response.")
	}
	s.user, s.authzid = user, user
	if hasAuthzid {
		s.authzid = authzid
	}
	return []byte("rspauth=" + h.response("")), nil
}

// digestValues are the inputs of RFC 2831's response-value (md5-sess, nonce count 1).
type digestValues struct {
	user, realm, password, nonce, cnonce, qop, uri string
	authzid                                        *string
}

// response is the response-value for method: "AUTHENTICATE" for the client's, "" for the server's rspauth.
func (v digestValues) response(method string) string {
	// A user name, realm or password whose characters all fit ISO 8859-1 is hashed in it, as RFC 2831 and the JDK
	// have it; only others are hashed as UTF-8.
	inner := md5.Sum(bytes.Join([][]byte{latin1OrUTF8(v.user), latin1OrUTF8(v.realm), latin1OrUTF8(v.password)}, []byte(":")))
	a1 := append(inner[:], ":"+v.nonce+":"+v.cnonce...)
	if v.authzid != nil {
		a1 = append(a1, ":"+*v.authzid...)
	}
	a2 := md5.Sum([]byte(method + ":" + v.uri))
	ha1 := md5.Sum(a1)
	kd := md5.Sum([]byte(hex.EncodeToString(ha1[:]) + ":" + v.nonce + ":00000001:" + v.cnonce + ":" + v.qop + ":" + hex.EncodeToString(a2[:])))
	return hex.EncodeToString(kd[:])
}

// latin1OrUTF8 is the JDK's stringToByte_8859_1 with UTF-8 in use: ISO 8859-1 when every character fits it.
func latin1OrUTF8(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return []byte(s)
		}
		out = append(out, byte(r))
	}
	return out
}

// parseDirectives reads a comma-separated list of key=value or key="quoted value" (backslash escapes the next
// character), keys case-insensitive, values decoded as UTF-8 (malformed bytes become U+FFFD, as Java's decoder
// makes them), keeping the keys of known. A known key given twice is an error unless it may repeat.
func parseDirectives(b []byte, known directiveSet) (map[string]string, error) {
	s := strings.ToValidUTF8(string(b), string(utf8.RuneError))
	out := map[string]string{}
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == ',') {
			i++
		}
	}
	for skip(); i < len(s); skip() {
		j := strings.IndexByte(s[i:], '=')
		if j < 0 {
			return nil, errors.New("DIGEST-MD5: Directive key contains a ',':" + s[i:])
		}
		key := strings.ToLower(strings.TrimSpace(s[i : i+j]))
		i += j + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				i++
				if c == '\\' && i < len(s) {
					val.WriteByte(s[i])
					i++
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("DIGEST-MD5: Unmatched quote found for directive: %s with value: %s", key, val.String())
			}
		} else {
			k := strings.IndexByte(s[i:], ',')
			if k < 0 {
				k = len(s) - i
			}
			val.WriteString(strings.TrimSpace(s[i : i+k]))
			i += k
		}
		repeatable, ok := known[key]
		if !ok {
			continue
		}
		if _, dup := out[key]; !dup {
			out[key] = val.String()
		} else if !repeatable {
			return nil, fmt.Errorf("DIGEST-MD5: Directive %s must occur at most once", key)
		}
	}
	return out, nil
}

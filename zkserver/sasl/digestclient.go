package sasl

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DigestClient is the client side of DIGEST-MD5 as the JDK's client runs it for ZooKeeper's DigestLoginModule
// logins: the authorization id is the user name, the realm the one the server offers, qop auth, UTF-8.
type DigestClient struct {
	user, password, protocol, serverName string
	rand                                 io.Reader
	step                                 int
	rspauth                              string // the server's proof the client expects back
}

// NewDigestClient starts a negotiation as user with password against protocol/serverName; cnonces come from
// random (nil: crypto/rand).
func NewDigestClient(user, password, protocol, serverName string, random io.Reader) *DigestClient {
	if random == nil {
		random = rand.Reader
	}
	return &DigestClient{user: user, password: password, protocol: protocol, serverName: serverName, rand: random}
}

// Complete reports whether the server has proved it knows the password too.
func (c *DigestClient) Complete() bool { return c.step == 2 }

// Step takes the server's challenge and returns the digest-response; then takes the server's rspauth, checks it,
// and is done, with nothing more to send.
func (c *DigestClient) Step(challenge []byte) (resp []byte, done bool, err error) {
	switch c.step {
	case 0:
		d, err := parseDirectives(challenge, challengeKeys)
		if err != nil {
			return nil, false, err
		}
		if d["algorithm"] != "md5-sess" {
			return nil, false, errors.New("DIGEST-MD5: Digest-challenge format violation: algorithm must be md5-sess")
		}
		if qop, ok := d["qop"]; ok && !containsToken(qop, "auth") {
			return nil, false, fmt.Errorf("DIGEST-MD5: No common protection layer between client and server (%s)", qop)
		}
		nonce, ok := d["nonce"]
		if !ok {
			return nil, false, errors.New("DIGEST-MD5: Digest-challenge format violation: nonce missing")
		}
		b := make([]byte, 30)
		if _, err := io.ReadFull(c.rand, b); err != nil {
			return nil, false, fmt.Errorf("DIGEST-MD5: cnonce: %w", err)
		}
		cnonce := base64.StdEncoding.EncodeToString(b)
		realm := d["realm"]
		uri := c.protocol + "/" + c.serverName
		v := digestValues{user: c.user, realm: realm, password: c.password, nonce: nonce, cnonce: cnonce,
			qop: "auth", uri: uri, authzid: &c.user}
		c.rspauth = v.response("")
		c.step = 1
		var w strings.Builder
		w.WriteString("charset=utf-8,username=" + quote(c.user))
		if realm != "" {
			w.WriteString(",realm=" + quote(realm))
		}
		w.WriteString(",nonce=" + quote(nonce) + ",nc=00000001,cnonce=" + quote(cnonce) + ",digest-uri=" + quote(uri) +
			",maxbuf=65536,response=" + v.response("AUTHENTICATE") + ",qop=auth,authzid=" + quote(c.user))
		return []byte(w.String()), false, nil
	case 1:
		got, ok := strings.CutPrefix(string(challenge), "rspauth=")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(c.rspauth)) != 1 {
			c.step = -1
			return nil, false, errors.New("DIGEST-MD5: Mismatched response-auth")
		}
		c.step = 2
		return nil, true, nil
	}
	return nil, false, errors.New("DIGEST-MD5: Client at illegal state")
}

func containsToken(list, tok string) bool {
	for t := range strings.SplitSeq(list, ",") {
		if strings.TrimSpace(t) == tok {
			return true
		}
	}
	return false
}

// quote writes a quoted-string, escaping '"' and '\'.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

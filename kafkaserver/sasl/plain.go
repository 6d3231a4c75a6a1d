// Package sasl implements the broker side of SASL authentication as Kafka 2.8 does it: the PLAIN mechanism with
// users from the JAAS configuration (PlainLoginModule's user_<name>="password" options), SCRAM-SHA-256 and
// SCRAM-SHA-512 with credentials from ZooKeeper's /config/users, OAUTHBEARER with Kafka's unsecured JWS tokens,
// and the per-listener setup that kwire runs the exchange with.
package sasl

import (
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/kwire"
)

// MechanismPlain is the PLAIN mechanism's name.
const MechanismPlain = "PLAIN"

// PlainLoginModule is the login module class whose user_<name> options list PLAIN users.
const PlainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule"

// Plain checks PLAIN credentials (RFC 4616) against a fixed user table (PlainServerCallbackHandler).
type Plain struct {
	users map[string]string
}

// NewPlain returns a PLAIN authenticator for users (name -> password).
func NewPlain(users map[string]string) *Plain {
	u := make(map[string]string, len(users))
	for k, v := range users {
		u[k] = v
	}
	return &Plain{users: u}
}

// PlainFromJaas takes the users from the user_<name> options of the PlainLoginModule entries of a JAAS login
// context; the first entry that names a user wins, as JaasContext.configEntryOption.
func PlainFromJaas(mods []jaas.LoginModule) *Plain {
	users := map[string]string{}
	for _, m := range mods {
		if m.Class != PlainLoginModule {
			continue
		}
		for k, v := range m.Options {
			if name, ok := strings.CutPrefix(k, "user_"); ok {
				if _, seen := users[name]; !seen {
					users[name] = v
				}
			}
		}
	}
	return &Plain{users: users}
}

// Authenticate checks one PLAIN message, authzid NUL authcid NUL passwd, and returns the authenticated user.
// Failures are *kwire.AuthenticationError with PlainSaslServer's messages (which the client sees).
func (p *Plain) Authenticate(msg []byte) (string, error) {
	// Java decodes the bytes as UTF-8, replacing malformed bytes; []rune does the same per byte.
	s := string([]rune(string(msg)))
	// PlainSaslServer.extractTokens looks for at most four tokens.
	tokens := strings.SplitN(s, "\x00", 4)
	if len(tokens) != 3 {
		return "", &kwire.AuthenticationError{Message: fmt.Sprintf(
			"Invalid SASL/PLAIN response: expected 3 tokens, got %d", len(tokens))}
	}
	authzid, user, pass := tokens[0], tokens[1], tokens[2]
	if user == "" {
		return "", &kwire.AuthenticationError{Message: "Authentication failed: username not specified"}
	}
	if pass == "" {
		return "", &kwire.AuthenticationError{Message: "Authentication failed: password not specified"}
	}
	want, ok := p.users[user]
	if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(want)) != 1 {
		return "", &kwire.AuthenticationError{Message: "Authentication failed: Invalid username or password"}
	}
	if authzid != "" && authzid != user {
		return "", &kwire.AuthenticationError{Message: "Authentication failed: Client requested an authorization id that is different from username"}
	}
	return user, nil
}

// NewServer starts one exchange; PLAIN completes with the client's first token.
func (p *Plain) NewServer() kwire.SASLServer { return &plainServer{p: p} }

type plainServer struct {
	p    *Plain
	user string
}

func (s *plainServer) Evaluate(token []byte) ([]byte, bool, error) {
	user, err := s.p.Authenticate(token)
	if err != nil {
		return nil, false, err
	}
	s.user = user
	return []byte{}, true, nil
}

func (s *plainServer) AuthorizationID() string { return s.user }

// Package quorumauth is SASL between quorum peers (quorum.auth.*): a server that dials another's election port, and
// a follower or observer that connects to its leader, first authenticates with DIGEST-MD5 in QuorumAuthPackets, as
// Apache's SaslQuorumAuthLearner; the server it reaches checks it as SaslQuorumAuthServer does.
package quorumauth

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/sasl"
)

// The QuorumAuthPacket's magic and statuses. Apache writes the magic as -0xa0dbcafecafe1234L, meant to be
// negative; the hex literal is itself a negative long, so the value is positive.
const (
	magic            int64 = 0x5f2435013501edcc
	statusInProgress int32 = 0
	statusSuccess    int32 = 1
	statusError      int32 = -1
	// maxRetries bounds the server's rounds of challenges, as SaslQuorumAuthServer's MAX_RETRIES.
	maxRetries = 5
	// maxToken bounds a token read; DIGEST-MD5's are well under it.
	maxToken = 64 << 10
)

// Config is a server's quorum SASL set-up (quorum.auth.enableSasl). A nil *Config neither authenticates nor
// checks: Apache's NullQuorumAuthLearner and NullQuorumAuthServer.
type Config struct {
	// LearnerRequire is quorum.auth.learnerRequireSasl: authenticate when dialing. Without it nothing is sent.
	LearnerRequire bool
	// ServerRequire is quorum.auth.serverRequireSasl: refuse peers that do not authenticate, or fail to.
	ServerRequire bool
	// User and Password are the learner login's (the QuorumLearner section's DigestLoginModule).
	User, Password string
	// Users are the server section's user_<name> passwords.
	Users map[string]string
	// AuthzHosts are the ensemble's host names: an authorization id of the form service/host@realm must name one.
	AuthzHosts map[string]bool
	Rand       io.Reader // nonces; nil is crypto/rand
	Logger     *slog.Logger
}

func (c *Config) log() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Learn authenticates to the peer at remote, reading its packets from r and writing to w. It returns at once
// without quorum.auth.learnerRequireSasl. It reads no byte past the last auth packet.
func (c *Config) Learn(r io.Reader, w io.Writer, remote string) error {
	if c == nil || !c.LearnerRequire {
		return nil
	}
	cl := sasl.NewDigestClient(c.User, c.Password, sasl.QuorumProtocol, sasl.QuorumServerName, c.Rand)
	// DIGEST-MD5 has no initial response: the first packet carries an empty token.
	if err := writePacket(w, statusInProgress, []byte{}); err != nil {
		return err
	}
	status, token, err := readPacket(r)
	if err != nil {
		return err
	}
	for !cl.Complete() {
		switch status {
		case statusSuccess:
			if rsp, err := cl.Step(token); err != nil {
				return fmt.Errorf("quorum SASL with %s: %w", remote, err)
			} else if rsp != nil {
				return errors.New("quorum SASL: protocol error: attempting to send response after completion")
			}
		case statusInProgress:
			rsp, err := cl.Step(token)
			if err != nil {
				return fmt.Errorf("quorum SASL with %s: %w", remote, err)
			}
			if err := writePacket(w, statusInProgress, rsp); err != nil {
				return err
			}
			if status, token, err = readPacket(r); err != nil {
				return err
			}
		default:
			return fmt.Errorf("quorum SASL: authentication failed against server addr: %s", remote)
		}
	}
	if status != statusSuccess {
		return fmt.Errorf("quorum SASL: authentication failed against server addr: %s, status %d", remote, status)
	}
	c.log().Info("completed quorum SASL authentication", "server", remote)
	return nil
}

// Serve checks a peer that connected from remote, reading from br and writing to w. A peer whose next packet is
// not an auth packet passes unless quorum.auth.serverRequireSasl; so does one that fails, with a warning. An error
// means the connection must close.
func (c *Config) Serve(br *bufio.Reader, w io.Writer, remote string) error {
	if c == nil {
		return nil
	}
	// A peer that sends fewer than 8 bytes before it closes or the caller's deadline passes is one not
	// authenticating, as for Apache's nextPacketIsAuth, whose read fails then.
	if head, err := br.Peek(8); err != nil || int64(binary.BigEndian.Uint64(head)) != magic {
		if c.ServerRequire {
			return errors.New("quorum SASL: learner not trying to authenticate and authentication is required")
		}
		return nil
	}
	err := c.exchange(br, w, remote)
	if err == nil {
		c.log().Info("completed quorum SASL authentication", "learner", remote)
		return nil
	}
	if c.ServerRequire {
		c.log().Error("quorum SASL: learner failed to authenticate", "learner", remote, "err", err)
		return fmt.Errorf("failed to authenticate using SASL: %w", err)
	}
	c.log().Warn("quorum SASL: learner failed to authenticate; keeping its connection as "+
		"quorum.auth.serverRequireSasl is false", "learner", remote, "err", err)
	return nil
}

// exchange runs the server's side from the learner's first packet on; a failure is told to the learner.
func (c *Config) exchange(br *bufio.Reader, w io.Writer, remote string) (err error) {
	sent := false
	defer func() {
		if err != nil && sent {
			_ = writePacket(w, statusError, []byte{})
		}
	}()
	_, token, err := readPacket(br)
	if err != nil {
		return err
	}
	sent = true // from here on the learner waits for an answer
	srv := sasl.NewDigestServer(sasl.QuorumProtocol, sasl.QuorumServerName, c.password, c.Rand)
	var challenge []byte
	for tries := 0; !srv.Complete(); {
		if challenge, err = srv.Evaluate(token); err != nil {
			return err
		}
		if srv.Complete() {
			break
		}
		if tries++; tries > maxRetries {
			return fmt.Errorf("retries=%d exceeded", tries)
		}
		if err := writePacket(w, statusInProgress, challenge); err != nil {
			return err
		}
		if _, token, err = readPacket(br); err != nil {
			return err
		}
	}
	if err := c.authorize(srv.User(), srv.Authzid()); err != nil {
		return err
	}
	sent = false // the success packet is the answer
	return writePacket(w, statusSuccess, challenge)
}

// authorize is SaslQuorumServerCallbackHandler's check: the authorization id is the authenticated user, and when it
// reads service/host@realm, host is a member of the ensemble.
func (c *Config) authorize(user, authzid string) error {
	if user != authzid {
		return fmt.Errorf("DIGEST-MD5: %s is not authorized to act as %s", user, authzid)
	}
	parts := strings.FieldsFunc(authzid, func(r rune) bool { return r == '/' || r == '@' })
	if len(parts) == 3 && !c.AuthzHosts[parts[1]] {
		return fmt.Errorf("SASL authorization completed, %s is not authorized to connect", parts[1])
	}
	return nil
}

func (c *Config) password(user string) (string, bool) {
	pw, ok := c.Users[user]
	return pw, ok
}

func writePacket(w io.Writer, status int32, token []byte) error {
	_, err := w.Write(jute.Marshal(&jute.QuorumAuthPacket{Magic: magic, Status: status, Token: token}))
	return err
}

// readPacket reads one QuorumAuthPacket: its status and token.
func readPacket(r io.Reader) (int32, []byte, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, fmt.Errorf("read quorum auth packet: %w", err)
	}
	if m := int64(binary.BigEndian.Uint64(hdr[:])); m != magic {
		return 0, nil, fmt.Errorf("read quorum auth packet: magic %#x", m)
	}
	status := int32(binary.BigEndian.Uint32(hdr[8:]))
	n := int32(binary.BigEndian.Uint32(hdr[12:]))
	if n > maxToken {
		return 0, nil, fmt.Errorf("read quorum auth packet: token of %d bytes", n)
	}
	if n < 0 {
		return status, nil, nil
	}
	token := make([]byte, n)
	if _, err := io.ReadFull(r, token); err != nil {
		return 0, nil, fmt.Errorf("read quorum auth packet: %w", err)
	}
	return status, token, nil
}

// Package quorumauth is SASL between quorum peers (quorum.auth.*): a server that dials another's election port, and
// a follower or observer that connects to its leader, first authenticates with DIGEST-MD5 or Kerberos (GSSAPI) in
// QuorumAuthPackets, as Apache's SaslQuorumAuthLearner; the server it reaches checks it as SaslQuorumAuthServer does.
package quorumauth

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/jcmturner/gokrb5/v8/client"

	"github.com/zkafka/zkafka/compat/kerberos"
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
	// ServicePrincipal is quorum.auth.kerberos.servicePrincipal, the service a Kerberos learner logs in to.
	ServicePrincipal string
	learnerKrb       *client.Client     // the learner's Kerberos login (a Krb5LoginModule section), nil: DIGEST-MD5
	serverKrb        *kerberos.Acceptor // the server's, nil: DIGEST-MD5
	Rand             io.Reader          // nonces; nil is crypto/rand
	Logger           *slog.Logger
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
	mech, token, err := c.learner(remote)
	if err != nil {
		return fmt.Errorf("quorum SASL with %s: %w", remote, err)
	}
	// DIGEST-MD5 has no initial response: its first packet carries an empty token; GSSAPI's carries the AP-REQ.
	if err := writePacket(w, statusInProgress, token); err != nil {
		return err
	}
	status, token, err := readPacket(r)
	if err != nil {
		return err
	}
	for complete := false; !complete; {
		switch status {
		case statusSuccess:
			rsp, done, err := mech.Step(token)
			if err != nil {
				return fmt.Errorf("quorum SASL with %s: %w", remote, err)
			}
			if rsp != nil {
				return errors.New("quorum SASL: protocol error: attempting to send response after completion")
			}
			if !done {
				return fmt.Errorf("quorum SASL: authentication against server addr %s ended before the mechanism", remote)
			}
			complete = true
		case statusInProgress:
			rsp, done, err := mech.Step(token)
			if err != nil {
				return fmt.Errorf("quorum SASL with %s: %w", remote, err)
			}
			if err := writePacket(w, statusInProgress, rsp); err != nil {
				return err
			}
			if status, token, err = readPacket(r); err != nil {
				return err
			}
			complete = done
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

// mechanism is one side of a SASL exchange: each token in, the next one out, done once complete.
type mechanism interface {
	Step(token []byte) (out []byte, done bool, err error)
}

// learner starts the learner's mechanism and returns its first token. A Kerberos learner asks for a ticket to
// quorum.auth.kerberos.servicePrincipal, its host _HOST replaced by the peer's (SecurityUtils.getServerPrincipal).
func (c *Config) learner(remote string) (mechanism, []byte, error) {
	if c.learnerKrb == nil {
		return sasl.NewDigestClient(c.User, c.Password, sasl.QuorumProtocol, sasl.QuorumServerName, c.Rand), []byte{}, nil
	}
	service, host, _ := strings.Cut(c.ServicePrincipal, "/")
	if parts := strings.Split(c.ServicePrincipal, "/"); len(parts) == 2 && parts[1] == "_HOST" {
		h, _, err := net.SplitHostPort(remote)
		if err != nil {
			h = remote
		}
		host = strings.ToLower(h)
	}
	host, _, _ = strings.Cut(host, "@")
	sc, first, err := kerberos.StartSASL(context.Background(), nil, c.learnerKrb, service, host, "")
	if err != nil {
		return nil, nil, err
	}
	return sc, first, nil
}

type digestServer struct{ s *sasl.DigestServer }

func (d digestServer) Step(tok []byte) ([]byte, bool, error) {
	ch, err := d.s.Evaluate(tok)
	return ch, d.s.Complete(), err
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
	var (
		srv           mechanism
		peer, authzid func() string
		challenge     []byte
		done          bool
	)
	if c.serverKrb != nil {
		ks := c.serverKrb.NewSASLServer()
		srv, peer, authzid = ks, ks.Peer, ks.AuthzID
	} else {
		ds := sasl.NewDigestServer(sasl.QuorumProtocol, sasl.QuorumServerName, c.password, c.Rand)
		srv, peer, authzid = digestServer{ds}, ds.User, ds.Authzid
	}
	for tries := 0; ; {
		if challenge, done, err = srv.Step(token); err != nil {
			return err
		}
		if done {
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
	if err := c.authorize(peer(), authzid()); err != nil {
		return err
	}
	sent = false // the success packet is the answer
	return writePacket(w, statusSuccess, challenge)
}

// authorize is SaslQuorumServerCallbackHandler's check: the authorization id is the authenticated user, and when it
// reads service/host@realm, host is a member of the ensemble.
func (c *Config) authorize(user, authzid string) error {
	if user != authzid {
		return fmt.Errorf("%s is not authorized to act as %s", user, authzid)
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

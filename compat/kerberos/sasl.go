package kerberos

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// SASL GSSAPI security layers (RFC 4752 3.3). Kafka and ZooKeeper leave javax.security.sasl.qop at "auth", so
// the JDK's server offers only "no security layer".
const (
	layerNone = 0x01
	// offerMaxBuffer is the maximum message size the JDK's server states in its offer (its default receive
	// buffer); without a security layer nothing uses it.
	offerMaxBuffer = 65536
)

// SASLServer is the server side of one SASL GSSAPI exchange as the JDK's GssKrb5Server runs it: the context
// tokens, then a wrapped offer of security layers, then the client's wrapped choice and authorization id.
type SASLServer struct {
	acc     *Acceptor
	ctx     *Context
	stage   int
	authzid string
	done    bool
}

// NewSASLServer starts one client's exchange.
func (a *Acceptor) NewSASLServer() *SASLServer { return &SASLServer{acc: a} }

// Step evaluates one client response and returns the next challenge; done once the client is authenticated.
func (s *SASLServer) Step(resp []byte) (challenge []byte, done bool, err error) {
	if s.done {
		return nil, false, errors.New("SASL GSSAPI authentication already complete")
	}
	switch s.stage {
	case 0:
		ctx, rep, err := s.acc.Accept(resp)
		if err != nil {
			return nil, false, err
		}
		s.ctx = ctx
		if rep != nil {
			s.stage = 1
			return rep, false, nil
		}
		// No AP-REP to send: the offer goes at once, as GssKrb5Server does.
		return s.offer()
	case 1:
		if len(resp) != 0 {
			return nil, false, errors.New("SASL GSSAPI: expecting an empty token after the AP-REP")
		}
		return s.offer()
	default:
		p, err := s.ctx.Unwrap(resp)
		if err != nil {
			return nil, false, fmt.Errorf("SASL GSSAPI: final handshake: %w", err)
		}
		if len(p) < 4 {
			return nil, false, errors.New("SASL GSSAPI: final handshake token too short")
		}
		if p[0] != layerNone {
			return nil, false, fmt.Errorf("SASL GSSAPI: client selected unsupported protection %#x", p[0])
		}
		s.authzid = string(p[4:])
		s.done = true
		return nil, true, nil
	}
}

func (s *SASLServer) offer() ([]byte, bool, error) {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], offerMaxBuffer)
	p[0] = layerNone
	tok, err := s.ctx.Wrap(p[:])
	if err != nil {
		return nil, false, fmt.Errorf("SASL GSSAPI: %w", err)
	}
	s.stage = 2
	return tok, false, nil
}

// Peer is the authenticated client principal ("name[/instance]@REALM").
func (s *SASLServer) Peer() string {
	if s.ctx == nil {
		return ""
	}
	return s.ctx.Peer
}

// AuthzID is the authorization id the client asked for; when it asked for none, the peer, whom the JDK's server
// then authorizes as itself.
func (s *SASLServer) AuthzID() string {
	if s.authzid == "" {
		return s.Peer()
	}
	return s.authzid
}

// SASLClient is the client side of one SASL GSSAPI exchange, as the JDK's GssKrb5Client runs it.
type SASLClient struct {
	in      *Initiator
	ctx     *Context
	authzid string
	offer   []byte
	done    bool
}

// NewSASLClient starts an exchange with a context from Initiate; first is Initiate's token, sent first.
func NewSASLClient(in *Initiator, authzid string) *SASLClient {
	c := &SASLClient{in: in, authzid: authzid}
	if in.Established() {
		c.ctx = in.Context()
	}
	return c
}

// Step answers one server challenge; done once the exchange is complete (nothing more to send).
func (c *SASLClient) Step(challenge []byte) (resp []byte, done bool, err error) {
	if c.done {
		return nil, false, errors.New("SASL GSSAPI authentication already complete")
	}
	if c.ctx == nil {
		ctx, err := c.in.Finish(challenge)
		if err != nil {
			return nil, false, err
		}
		c.ctx = ctx
		return []byte{}, false, nil
	}
	p, err := c.ctx.Unwrap(challenge)
	if err != nil {
		return nil, false, fmt.Errorf("SASL GSSAPI: security layer offer: %w", err)
	}
	if len(p) != 4 {
		return nil, false, fmt.Errorf("SASL GSSAPI: security layer offer of %d bytes", len(p))
	}
	if p[0]&layerNone == 0 {
		return nil, false, fmt.Errorf("SASL GSSAPI: server offers no plain layer (%#x)", p[0])
	}
	c.offer = p
	out := append([]byte{layerNone, 0, 0, 0}, c.authzid...)
	tok, err := c.ctx.Wrap(out)
	if err != nil {
		return nil, false, fmt.Errorf("SASL GSSAPI: %w", err)
	}
	c.done = true
	return tok, true, nil
}

// Offer is the server's unwrapped security layer offer (layers byte, then the 3-byte maximum size).
func (c *SASLClient) Offer() []byte { return c.offer }

package kwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	keySaslHandshake    int16 = 17
	keySaslAuthenticate int16 = 36

	// DefaultSASLMaxReceiveSize is sasl.server.max.receive.size: the largest frame read before authentication.
	DefaultSASLMaxReceiveSize int32 = 524288
	// minReauthInterval: Kafka ignores a re-authentication that starts within a second of the previous one.
	minReauthInterval = time.Second
)

// mechanismGSSAPI is the mechanism Kafka assumes for a client whose first packet is not a Kafka request.
const mechanismGSSAPI = "GSSAPI"

// SASLServer is one server side of a SASL exchange (javax.security.sasl.SaslServer).
type SASLServer interface {
	// Evaluate consumes one client token and returns the server's token; done reports a completed, successful
	// exchange. An *AuthenticationError's message is sent to the client; any other error is reported to the
	// client as invalid credentials without detail.
	Evaluate(token []byte) (challenge []byte, done bool, err error)
	// AuthorizationID is the authenticated user once the exchange is done.
	AuthorizationID() string
}

// tokenAuthenticator is a SASLServer that may have logged in with a delegation token.
type tokenAuthenticator interface {
	TokenAuthenticated() bool
}

// principalFailer is a SASLServer whose successful exchange may leave no principal (GSSAPI with no
// sasl.kerberos.principal.to.local.rules rule for the client): Kafka then closes the connection at its first
// request, without an answer.
type principalFailer interface {
	PrincipalError() error
}

// credentialExpirer is a SASLServer whose credential may expire (a delegation token): ok false when it does not
// (SaslInternalConfigs.CREDENTIAL_LIFETIME_MS_SASL_NEGOTIATED_PROPERTY_KEY null).
type credentialExpirer interface {
	CredentialExpiry() (expiry time.Time, ok bool)
}

// AuthenticationError is Kafka's SaslAuthenticationException: a failed authentication whose message the client
// may see.
type AuthenticationError struct {
	Message string
	Err     error
}

func (e *AuthenticationError) Error() string { return e.Message }
func (e *AuthenticationError) Unwrap() error { return e.Err }

// SASLConfig makes a listener a SASL listener (SASL_PLAINTEXT): a connection must authenticate with SaslHandshake
// and then raw tokens (handshake v0) or SaslAuthenticate requests (handshake v1) before any other request; only
// ApiVersions may come first. Anything else closes the connection, as Kafka's SaslServerAuthenticator does.
type SASLConfig struct {
	// Mechanisms is the listener's sasl.enabled.mechanisms, in the order SaslHandshake responses list them.
	Mechanisms []string
	// NewServer starts an exchange for an enabled mechanism; nil means the mechanism is not implemented and the
	// client gets UNSUPPORTED_SASL_MECHANISM.
	NewServer func(mechanism string) SASLServer
	// MaxReauth is connections.max.reauth.ms per mechanism; a positive value is sent as the session lifetime,
	// allows re-authentication (KIP-368) and closes connections whose session expired.
	MaxReauth map[string]time.Duration
	// FailedAuthenticationDelay is failed.authentication.delay.ms: a failed authentication is answered and closed
	// only after it.
	FailedAuthenticationDelay time.Duration
	// MaxReceiveSize is sasl.server.max.receive.size; 0 means DefaultSASLMaxReceiveSize.
	MaxReceiveSize int32
}

type saslState int

const (
	saslInitial       saslState = iota // ApiVersions or SaslHandshake
	saslHandshakeOnly                  // after ApiVersions: SaslHandshake
	saslAuthenticate                   // tokens: raw (handshake v0) or SaslAuthenticate (v1)
	saslComplete
	saslReauthBadMechanism // re-authentication asked for another mechanism: the next token fails
)

// authState is a connection's SASL progress. Only the reader goroutine touches it.
type authState struct {
	cfg         *SASLConfig
	state       saslState
	headers     bool // SaslAuthenticate requests rather than raw tokens
	mechanism   string
	server      SASLServer
	reauth      bool // re-authenticating an authenticated connection
	badMechMsg  string
	expiry      time.Time     // zero: the session does not expire
	lifetime    time.Duration // the session lifetime sent in SaslAuthenticate; 0: none
	reauthStart time.Time
	supportsV1  bool
	// principalErr: the exchange succeeded but the client has no principal; its first request closes it.
	principalErr error
}

func (a *authState) authenticated() bool { return a == nil || a.state == saslComplete }

// maxFrame is the frame size limit: sasl.server.max.receive.size until authenticated.
func (c *conn) maxFrame() int32 {
	if c.auth.authenticated() {
		return c.s.cfg.MaxRequestBytes
	}
	if n := c.auth.cfg.MaxReceiveSize; n > 0 {
		return n
	}
	return DefaultSASLMaxReceiveSize
}

// authFrame reports whether frame belongs to the SASL exchange and, if so, handles it. It returns the reader's
// verdict (false: stop reading).
func (c *conn) authFrame(frame []byte) (handled, keepReading bool) {
	a := c.auth
	if a == nil {
		return false, true
	}
	if a.state == saslComplete {
		if a.principalErr != nil {
			c.log.Error("closing socket because of error", "err", a.principalErr)
			c.cancel()
			return true, false
		}
		if len(frame) < 2 || int16(binary.BigEndian.Uint16(frame)) != keySaslHandshake {
			if !a.expiry.IsZero() && time.Now().After(a.expiry) {
				c.log.Debug("disconnecting expired channel")
				c.cancel()
				return true, false
			}
			return false, true
		}
		// SocketServer: a SaslHandshake on an authenticated connection starts re-authentication when the session
		// has a lifetime and the last re-authentication started at least a second ago; otherwise it is an
		// ordinary request (answered ILLEGAL_SASL_STATE).
		now := time.Now()
		if a.expiry.IsZero() || (!a.reauthStart.IsZero() && now.Sub(a.reauthStart) < minReauthInterval) {
			if !a.expiry.IsZero() && now.After(a.expiry) {
				c.cancel()
				return true, false
			}
			return false, true
		}
		a.reauthStart = now
		a.reauth = true
		a.state = saslInitial
		a.server = nil
	}
	return true, c.handleAuthFrame(frame)
}

func (c *conn) handleAuthFrame(frame []byte) bool {
	a := c.auth
	switch a.state {
	case saslReauthBadMechanism:
		return c.authFailed(nil, &AuthenticationError{Message: a.badMechMsg})
	case saslAuthenticate:
		if !a.headers {
			return c.rawToken(frame)
		}
	}
	if len(frame) < 4 {
		return c.firstPacketNotKafka(frame, fmt.Errorf("error parsing request header: %w", errShortHeader))
	}
	h := RequestHeader{
		APIKey:     int16(binary.BigEndian.Uint16(frame[0:2])),
		APIVersion: int16(binary.BigEndian.Uint16(frame[2:4])),
	}
	req := kmsg.RequestForKey(h.APIKey)
	if req == nil {
		return c.firstPacketNotKafka(frame, fmt.Errorf("unknown API key %d", h.APIKey))
	}
	req.SetVersion(h.APIVersion)
	body, err := parseRequestHeader(frame, &h, req.IsFlexible())
	if err != nil {
		return c.firstPacketNotKafka(frame, fmt.Errorf("error parsing request header, api key %d: %w", h.APIKey, err))
	}
	if a.state == saslAuthenticate {
		return c.saslAuthenticate(h, req, body)
	}
	if h.APIKey != keyApiVersions && h.APIKey != keySaslHandshake {
		return c.authFailed(nil, &AuthenticationError{Message: fmt.Sprintf(
			"Unexpected Kafka request of type %s during SASL handshake.", apiName(h.APIKey))})
	}
	rc := &RequestContext{Conn: c.pub, Header: h, RequestSize: len(frame)}
	vr, ok := c.s.versions[h.APIKey]
	supported := ok && h.APIVersion >= vr[0] && h.APIVersion <= vr[1]
	if h.APIKey == keyApiVersions {
		if a.state != saslInitial || a.reauth {
			return c.protocolError(fmt.Errorf("unexpected ApiVersions request received during SASL authentication state %d", a.state))
		}
		p := c.apiVersions(rc, h, req, body, supported)
		if p == nil {
			return false
		}
		if p.resp.(*kmsg.ApiVersionsResponse).ErrorCode == 0 {
			a.state = saslHandshakeOnly
		}
		return c.enqueue(p)
	}

	// SaslHandshake
	if !supported {
		return c.protocolError(c.requestError(h, fmt.Errorf("unsupported version %d", h.APIVersion)))
	}
	if err := req.ReadFrom(body); err != nil {
		return c.protocolError(c.requestError(h, err))
	}
	c.s.metrics.countRequest(h.APIKey)
	hs := req.(*kmsg.SASLHandshakeRequest)
	a.headers = h.APIVersion >= 1
	resp := kmsg.NewPtrSASLHandshakeResponse()
	resp.SupportedMechanisms = slices.Clone(a.cfg.Mechanisms)
	p := c.donePending(rc, resp, h.APIVersion, false)
	var srv SASLServer
	if slices.Contains(a.cfg.Mechanisms, hs.Mechanism) && a.cfg.NewServer != nil {
		srv = a.cfg.NewServer(hs.Mechanism)
	}
	if srv == nil {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return c.authFailed(p, &AuthenticationError{Message: "Unsupported SASL mechanism " + hs.Mechanism})
	}
	if !c.enqueue(p) {
		return false
	}
	if a.reauth && hs.Mechanism != a.mechanism {
		a.badMechMsg = fmt.Sprintf("SASL mechanism '%s' requested by client is not supported for re-authentication of mechanism '%s'",
			hs.Mechanism, a.mechanism)
		a.state = saslReauthBadMechanism
		return true
	}
	a.mechanism, a.server, a.state = hs.Mechanism, srv, saslAuthenticate
	return true
}

// firstPacketNotKafka: Kafka treats an unparseable first packet as a GSSAPI token from a 0.9 client, which sends
// its tokens without SaslHandshake.
func (c *conn) firstPacketNotKafka(frame []byte, err error) bool {
	a := c.auth
	if a.state != saslInitial || a.reauth {
		return c.protocolError(err)
	}
	if !slices.Contains(a.cfg.Mechanisms, mechanismGSSAPI) {
		return c.authFailed(nil, &AuthenticationError{
			Message: "Exception handling first SASL packet from client, GSSAPI is not supported by server", Err: err})
	}
	var srv SASLServer
	if a.cfg.NewServer != nil {
		srv = a.cfg.NewServer(mechanismGSSAPI)
	}
	if srv == nil {
		return c.protocolError(fmt.Errorf("first client packet is not a SASL mechanism request and GSSAPI is not implemented: %w", err))
	}
	c.log.Debug("first client packet is not a SASL mechanism request, using default mechanism GSSAPI")
	a.mechanism, a.server, a.state, a.headers = mechanismGSSAPI, srv, saslAuthenticate, false
	return c.rawToken(frame)
}

// rawToken handles a token after SaslHandshake v0: size-prefixed bytes in, size-prefixed bytes out.
func (c *conn) rawToken(token []byte) bool {
	a := c.auth
	challenge, done, err := a.server.Evaluate(token)
	if err == nil && done {
		err = c.completeAuth()
	}
	if err != nil {
		var ae *AuthenticationError
		if !errors.As(err, &ae) {
			// A raw-token client gets no message either way; the connection just closes.
			ae = &AuthenticationError{Message: c.invalidCredentials(), Err: err}
		}
		return c.authFailed(nil, ae)
	}
	if challenge == nil {
		// As Kafka: a null challenge (GSSAPI's last step) is not sent at all.
		return true
	}
	rc := &RequestContext{Conn: c.pub, Header: RequestHeader{APIKey: -1}, RequestSize: len(token)}
	return c.enqueue(&pending{rc: rc, done: closedChan, raw: challenge})
}

func (c *conn) saslAuthenticate(h RequestHeader, req kmsg.Request, body []byte) bool {
	a := c.auth
	if err := req.ReadFrom(body); err != nil {
		return c.protocolError(c.requestError(h, err))
	}
	rc := &RequestContext{Conn: c.pub, Header: h, RequestSize: len(body)}
	if h.APIKey != keySaslAuthenticate {
		// Kafka answers with that request's error response (ILLEGAL_SASL_STATE) and closes; kmsg has no generic
		// way to build one, so the connection just closes.
		return c.authFailed(nil, &AuthenticationError{Message: fmt.Sprintf(
			"Unexpected Kafka request of type %s during SASL authentication.", apiName(h.APIKey))})
	}
	vr := c.s.versions[keySaslAuthenticate]
	if h.APIVersion < vr[0] || h.APIVersion > vr[1] {
		return c.protocolError(fmt.Errorf("Version %d is not supported for apiKey SASL_AUTHENTICATE", h.APIVersion))
	}
	c.s.metrics.countRequest(h.APIKey)
	if h.APIVersion > 0 {
		a.supportsV1 = true
	}
	ar := req.(*kmsg.SASLAuthenticateRequest)
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	p := c.donePending(rc, resp, h.APIVersion, req.IsFlexible())
	challenge, done, err := a.server.Evaluate(ar.SASLAuthBytes)
	if err == nil && done {
		err = c.completeAuth()
	}
	if err != nil {
		var ae *AuthenticationError
		if !errors.As(err, &ae) {
			// Kafka does not pass a SaslException's text on: it may tell whether the user exists.
			ae = &AuthenticationError{Message: c.invalidCredentials(), Err: err}
		}
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr(ae.Message)
		return c.authFailed(p, ae)
	}
	if challenge == nil {
		challenge = []byte{}
	}
	resp.SASLAuthBytes = challenge
	if done {
		resp.SessionLifetimeMillis = a.lifetime.Milliseconds()
	}
	return c.enqueue(p)
}

func (c *conn) invalidCredentials() string {
	what := "authentication"
	if c.auth.reauth {
		what = "re-authentication"
	}
	return fmt.Sprintf("Authentication failed during %s due to invalid credentials with SASL mechanism %s", what, c.auth.mechanism)
}

// completeAuth sets the principal (and session expiry) after a successful exchange.
func (c *conn) completeAuth() error {
	a := c.auth
	p := Principal{Type: "User", Name: a.server.AuthorizationID()}
	if pf, ok := a.server.(principalFailer); ok {
		a.principalErr = pf.PrincipalError()
	}
	if ta, ok := a.server.(tokenAuthenticator); ok {
		p.TokenAuthenticated = ta.TokenAuthenticated()
	}
	if a.reauth {
		// KafkaPrincipal.equals compares the type and name only.
		if prev := c.pub.Principal(); prev.Type != p.Type || prev.Name != p.Name {
			return &AuthenticationError{Message: fmt.Sprintf("Cannot change principals during re-authentication from %s.%s: %s.%s",
				prev.Type, prev.Name, p.Type, p.Name)}
		}
	}
	c.pub.SetPrincipal(p)
	a.state = saslComplete
	a.reauth = false
	now := time.Now()
	a.expiry, a.lifetime = time.Time{}, sessionLifetime(a.cfg.MaxReauth[a.mechanism], a.server, now)
	if a.lifetime > 0 {
		a.expiry = now.Add(a.lifetime)
	}
	c.log.Debug("authenticated", "mechanism", a.mechanism, "principal", p.String())
	return nil
}

// sessionLifetime is SaslServerAuthenticator.calcCompletionTimesAndReturnSessionLifetimeMs: connections.max.reauth.ms,
// bounded by the credential's expiry when it has one. Kafka always has a value for the mechanism (0 by default),
// and min(expiry, 0) is 0: a token's expiry limits a session only when re-authentication is configured.
func sessionLifetime(maxReauth time.Duration, srv SASLServer, now time.Time) time.Duration {
	if maxReauth <= 0 {
		return 0
	}
	if ce, ok := srv.(credentialExpirer); ok {
		if exp, ok := ce.CredentialExpiry(); ok {
			return max(min(exp.Sub(now), maxReauth), 0)
		}
	}
	return maxReauth
}

// authFailed closes the connection after a failed authentication, first sending p (if any). As Kafka, both wait
// failed.authentication.delay.ms to slow down password guessing.
func (c *conn) authFailed(p *pending, err *AuthenticationError) bool {
	c.s.metrics.FailedAuthentications.Add(1)
	c.log.Info(fmt.Sprintf("Failed authentication with %s (%s)", c.pub.remote, err.Message))
	if d := c.auth.cfg.FailedAuthenticationDelay; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.ctx.Done():
			return false
		}
	}
	if p == nil {
		c.queue <- &pending{closeErr: err, closeLevel: slog.LevelDebug}
		return false
	}
	p.rc.CloseAfterResponse()
	c.enqueue(p)
	return false
}

var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// donePending is a response that needs no handler.
func (c *conn) donePending(rc *RequestContext, resp kmsg.Response, version int16, flexible bool) *pending {
	return &pending{rc: rc, done: closedChan, resp: resp, version: version, hv: responseHeaderVersion(rc.Header.APIKey, flexible)}
}

// illegalSaslState is KafkaApis' answer to SaslHandshake and SaslAuthenticate on an authenticated connection or
// a listener without SASL.
func illegalSaslState(key int16) kmsg.Response {
	if key == keySaslHandshake {
		resp := kmsg.NewPtrSASLHandshakeResponse()
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp
	}
	resp := kmsg.NewPtrSASLAuthenticateResponse()
	resp.ErrorCode = kerr.IllegalSaslState.Code
	resp.ErrorMessage = kmsg.StringPtr("SaslAuthenticate request received after successful authentication")
	return resp
}

// apiName is ApiKeys' enum name as Kafka prints it (SASL_HANDSHAKE, METADATA, ...).
func apiName(key int16) string {
	name := kmsg.NameForKey(key)
	var out []byte
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 'A' && ch <= 'Z' && i > 0 {
			prev := name[i-1]
			nextLower := i+1 < len(name) && name[i+1] >= 'a' && name[i+1] <= 'z'
			if (prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z' && nextLower) {
				out = append(out, '_')
			}
		}
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		out = append(out, ch)
	}
	return string(out)
}

// Package sasl is the server side of ZooKeeper's SASL authentication (opcode 102): the exchange a client runs
// right after connecting, DIGEST-MD5 with the users of the JAAS "Server" section or GSSAPI (Kerberos) with its
// Krb5LoginModule login, and the ids it gives the connection (sasl:<name>, and super for zookeeper.superUser), as
// ZooKeeperServer.processSasl and SaslServerCallbackHandler do.
package sasl

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/kerbname"
	"github.com/zkafka/zkafka/jute"
)

// Config is the server's SASL set-up.
type Config struct {
	// Users are the DigestLoginModule user_<name>="<password>" options of the login context.
	Users map[string]string
	// SuperPassword, when set, is zookeeper.SASLAuthenticationProvider.superPassword: the password of the user
	// "super" (who must still be listed in Users).
	SuperPassword *string
	// SuperUsers are the values of zookeeper.superUser and zookeeper.superUser.<anything>: these names also get
	// the super id.
	SuperUsers []string
	// RemoveHost and RemoveRealm are zookeeper.kerberos.removeHostFromPrincipal / removeRealmFromPrincipal.
	RemoveHost, RemoveRealm bool
	// DefaultRealm is the realm ZooKeeper's default auth_to_local rule maps to the short name (the Kerberos
	// configuration's default realm; "" when there is none).
	DefaultRealm string
	// Names are the zookeeper.security.auth_to_local rules the authorized id's short name comes from; nil is
	// DEFAULT with DefaultRealm.
	Names *kerbname.ShortNamer
	// NamesErr is set when those rules do not parse. Apache starts anyway: its KerberosName class then fails to
	// initialize at first use, so every authentication fails.
	NamesErr error
	// AllowFailed is zookeeper.allowSaslFailedClients: a failed client keeps its connection, without ids.
	AllowFailed bool
	// Required is set when the server enforces sasl authentication (zookeeper.sessionRequireClientSASLAuth, or
	// sasl among zookeeper.enforce.auth.schemes): a failure then answers SessionClosedRequireAuth.
	Required bool
	// Kerberos, when set, serves GSSAPI for its service principal (a Krb5LoginModule server section) instead of
	// DIGEST-MD5.
	Kerberos *kerberos.Acceptor
	// KerberosErr is set when the Kerberos login gives no SASL server (see kerberosLogin): every SASL request is
	// then answered OK with no token and no id, as Apache's processSasl does when it catches the resulting
	// NullPointerException.
	KerberosErr error
	// Rand makes nonces; nil is crypto/rand.
	Rand   io.Reader
	Logger *slog.Logger
}

// Exchange is one connection's SASL negotiation.
type Exchange struct {
	cfg *Config
	srv mechanism
}

// mechanism is a SASL server mechanism: DIGEST-MD5 or GSSAPI.
type mechanism interface {
	// evaluate answers one client token; user and authzid are set once the client is authenticated.
	evaluate(token []byte) (rsp []byte, user, authzid string, done bool, err error)
}

// NewExchange starts a connection's negotiation.
func (c *Config) NewExchange() *Exchange {
	switch {
	case c.KerberosErr != nil:
		return &Exchange{cfg: c}
	case c.Kerberos != nil:
		return &Exchange{cfg: c, srv: gssapi{c.Kerberos.NewSASLServer()}}
	}
	return &Exchange{cfg: c, srv: digest{NewDigestServer(ClientProtocol, ClientServerName, c.password, c.Rand)}}
}

type digest struct{ *DigestServer }

func (d digest) evaluate(token []byte) ([]byte, string, string, bool, error) {
	rsp, err := d.Evaluate(token)
	if err != nil || !d.Complete() {
		return rsp, "", "", false, err
	}
	return rsp, d.user, d.authzid, true, nil
}

type gssapi struct{ *kerberos.SASLServer }

// evaluate: the JDK's GSSAPI server returns no token on the last step (a null SetSASLResponse token).
func (g gssapi) evaluate(token []byte) ([]byte, string, string, bool, error) {
	rsp, done, err := g.Step(token)
	if err != nil || !done {
		return rsp, "", "", false, err
	}
	return nil, g.Peer(), g.AuthzID(), true, nil
}

// password is SaslServerCallbackHandler's: the super password for "super" when one is set, else the user's.
func (c *Config) password(user string) (string, bool) {
	pw, ok := c.Users[user]
	if !ok {
		return "", false
	}
	if user == "super" && c.SuperPassword != nil {
		return *c.SuperPassword, true
	}
	return pw, true
}

// Outcome is what the server answers a SASL request with.
type Outcome struct {
	// Token is the server's SASL token (nil: none).
	Token []byte
	// IDs are the auth ids the connection gains (when the client has authenticated).
	IDs []jute.Id
	// Err, when not ErrOK, is the error answered before the connection closes.
	Err jute.Err
}

// Step evaluates one client token.
func (e *Exchange) Step(token []byte, remote string) Outcome {
	log := e.cfg.logger()
	if e.srv == nil {
		log.Error("cnxn.saslServer is null: cnxn object did not initialize its saslServer properly", "remote", remote)
		return Outcome{}
	}
	rsp, user, authzid, done, err := e.srv.evaluate(token)
	var ids []jute.Id
	if err == nil && done {
		var id string
		if id, err = e.cfg.authorizedID(user, authzid); err == nil {
			log.Info("adding SASL authorization", "authorizationID", id, "remote", remote)
			ids = append(ids, jute.Id{Scheme: "sasl", ID: id})
			if id != "" && slices.Contains(e.cfg.SuperUsers, id) {
				log.Info("authenticated as super user", "id", id, "remote", remote)
				ids = append(ids, jute.Id{Scheme: "super", ID: ""})
			}
		}
	}
	if err != nil {
		log.Warn("client failed to SASL authenticate", "remote", remote, "err", err)
		switch {
		case e.cfg.AllowFailed && !e.cfg.Required:
			log.Warn("maintaining client connection despite SASL authentication failure", "remote", remote)
			return Outcome{}
		case e.cfg.Required:
			return Outcome{Err: jute.ErrSessionClosedRequireAuth}
		}
		return Outcome{Err: jute.ErrAuthFailed}
	}
	return Outcome{Token: rsp, IDs: ids}
}

// authorizedID is SaslServerCallbackHandler.handleAuthorizeCallback's authorized id for an authenticated user:
// its short name under the auth_to_local rules, then /host and @realm when the name has them, unless removed.
// When the rules map no name (NoMatchingRule, BadFormatString: IOExceptions, which Apache logs) the id stays the
// client's authorization id (its authzid, else the user name). Anything else Apache throws out of the handler,
// leaving the client without an answer; we fail its authentication.
func (c *Config) authorizedID(user, authzid string) (string, error) {
	if c.NamesErr != nil {
		return "", fmt.Errorf("authorize %q: %w", user, c.NamesErr)
	}
	k, err := kerbname.Parse(user)
	if err != nil {
		return "", fmt.Errorf("authorize %q: %w", user, err)
	}
	names := c.Names
	if names == nil {
		if names, err = kerbname.NewZooKeeperShortNamer(c.DefaultRealm, "DEFAULT"); err != nil {
			return "", fmt.Errorf("authorize %q: %w", user, err)
		}
	}
	id, err := names.ShortNameOf(k)
	if err != nil {
		var ke *kerbname.Error
		if errors.As(err, &ke) && ke.Checked() {
			c.logger().Error("failed to set name based on Kerberos authentication rules", "user", user, "err", err)
			return authzid, nil
		}
		return "", fmt.Errorf("authorize %q: %w", user, err)
	}
	if k.HasHost && !c.RemoveHost {
		id += "/" + k.Host
	}
	if k.HasRealm && !c.RemoveRealm {
		id += "@" + k.Realm
	}
	return id, nil
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

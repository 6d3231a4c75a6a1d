// Package sasl is the server side of ZooKeeper's SASL authentication (opcode 102): the DIGEST-MD5 exchange a
// client runs right after connecting, with the users of the JAAS "Server" section, and the ids it gives the
// connection (sasl:<name>, and super for zookeeper.superUser), as ZooKeeperServer.processSasl and
// SaslServerCallbackHandler do.
package sasl

import (
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
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
	// DefaultRealm is the realm ZooKeeper's default auth_to_local rule maps to the short name
	// (java.security.krb5.realm; "" when there is no Kerberos configuration, as here).
	DefaultRealm string
	// AllowFailed is zookeeper.allowSaslFailedClients: a failed client keeps its connection, without ids.
	AllowFailed bool
	// Required is set when the server enforces sasl authentication (zookeeper.sessionRequireClientSASLAuth, or
	// sasl among zookeeper.enforce.auth.schemes): a failure then answers SessionClosedRequireAuth.
	Required bool
	// Rand makes nonces; nil is crypto/rand.
	Rand   io.Reader
	Logger *slog.Logger
}

// Exchange is one connection's SASL negotiation.
type Exchange struct {
	cfg *Config
	srv *DigestServer
}

// NewExchange starts a connection's negotiation.
func (c *Config) NewExchange() *Exchange {
	return &Exchange{cfg: c, srv: NewDigestServer(ClientProtocol, ClientServerName, c.password, c.Rand)}
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
	log := e.cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	rsp, err := e.srv.Evaluate(token)
	var ids []jute.Id
	if err == nil && e.srv.Complete() {
		var id string
		if id, err = e.cfg.authorizedID(e.srv.user, e.srv.authzid); err == nil {
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

// authorizedID is SaslServerCallbackHandler's authorized id for an authenticated user: the user's short name
// under ZooKeeper's DEFAULT auth_to_local rule, then /host and @realm unless removed. A name no rule maps keeps
// the client's authorization id (its authzid, else the user name).
func (c *Config) authorizedID(user, authzid string) (string, error) {
	k, err := acl.ParseKerberosName(user)
	if err != nil {
		// Apache's handler throws here and the client is left without an answer; we fail its authentication.
		return "", fmt.Errorf("authorize %q: %w", user, err)
	}
	if k.Realm == nil {
		return user, nil
	}
	if *k.Realm != c.DefaultRealm {
		return authzid, nil
	}
	id := k.Service
	if k.Host != nil && !c.RemoveHost {
		id += "/" + *k.Host
	}
	if !c.RemoveRealm {
		id += "@" + *k.Realm
	}
	return id, nil
}

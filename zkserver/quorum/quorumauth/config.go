package quorumauth

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver/sasl"
)

// FromZooCfg is the quorum SASL set-up of zoo.cfg's quorum.auth.* keys; nil without quorum.auth.enableSasl. As
// QuorumPeer does, it needs both login contexts in the JAAS file of -Djava.security.auth.login.config whether or
// not either side requires SASL: the learner's and the server's, each DIGEST-MD5 (DigestLoginModule: username and
// password; user_<name> passwords) or Kerberos (Krb5LoginModule with a keytab, logged in with the KDC at once as
// Apache's Login does).
func FromZooCfg(zc *zoocfg.Config, log *slog.Logger) (*Config, error) {
	if !zc.QuorumSASLEnabled {
		return nil, nil
	}
	path := zc.Props["java.security.auth.login.config"]
	if path == "" {
		return nil, errors.New("quorum.auth.enableSasl needs a JAAS file: set -Djava.security.auth.login.config")
	}
	f, err := jaas.LoadFile(path, zc.Props)
	if err != nil {
		return nil, err
	}
	section := func(name string) ([]jaas.LoginModule, error) {
		mods := f.Contexts[name]
		if len(mods) == 0 {
			return nil, fmt.Errorf("SASL-authentication failed because the specified JAAS configuration section "+
				"'%s' could not be found", name)
		}
		for _, m := range mods {
			if m.Class != sasl.DigestLoginModule && m.Class != kerberos.LoginModule {
				return nil, fmt.Errorf("JAAS section %s of %s: login module %s is not supported between quorum "+
					"peers, only DIGEST-MD5 (%s) and Kerberos (%s)", name, path, m.Class, sasl.DigestLoginModule,
					kerberos.LoginModule)
			}
		}
		return mods, nil
	}
	learner, err := section(zc.QuorumLearnerLoginContext)
	if err != nil {
		return nil, err
	}
	server, err := section(zc.QuorumServerLoginContext)
	if err != nil {
		return nil, err
	}
	c := &Config{LearnerRequire: zc.QuorumLearnerRequireSASL, ServerRequire: zc.QuorumServerRequireSASL,
		Users: map[string]string{}, AuthzHosts: map[string]bool{}, ServicePrincipal: zc.QuorumServicePrincipal,
		Logger: log}
	if learner[0].Class == kerberos.LoginModule {
		// A learner is an initiator whatever its isInitiator option: it needs its ticket-granting ticket.
		login, err := kerberos.FromJAAS(learner[0], zc.Props)
		if err == nil {
			c.learnerKrb, err = login.Client()
		}
		if err != nil {
			return nil, fmt.Errorf("JAAS section %s: %w", zc.QuorumLearnerLoginContext, err)
		}
	} else {
		// The login's credentials are the first module's (DigestLoginModule puts them in the subject).
		c.User, c.Password = learner[0].Options["username"], learner[0].Options["password"]
	}
	if server[0].Class == kerberos.LoginModule {
		login, err := kerberos.FromJAAS(server[0], zc.Props)
		if err == nil {
			_, err = login.StartLogin()
		}
		if err == nil {
			c.serverKrb, err = login.Acceptor()
		}
		if err != nil {
			return nil, fmt.Errorf("JAAS section %s: %w", zc.QuorumServerLoginContext, err)
		}
	}
	for _, m := range server {
		for k, v := range m.Options {
			if user, ok := strings.CutPrefix(k, "user_"); ok {
				c.Users[user] = v
			}
		}
	}
	for _, s := range zc.Servers {
		c.AuthzHosts[s.Host()] = true
	}
	return c, nil
}

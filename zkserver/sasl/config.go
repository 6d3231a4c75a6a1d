package sasl

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerbname"
	"github.com/zkafka/zkafka/compat/zoocfg"
)

const (
	// DigestLoginModule is the login module of a DIGEST-MD5 server section (its user_<name> options are the users).
	DigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"
	// ProviderClass is the auth provider class that registers the sasl ACL scheme.
	ProviderClass   = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
	krb5LoginModule = "com.sun.security.auth.module.Krb5LoginModule"
	superUserProp   = "zookeeper.superUser"
	authToLocalProp = "zookeeper.security.auth_to_local"
)

// FromZooCfg is the SASL set-up ServerCnxnFactory.configureSaslLogin finds: the login context named by
// zookeeper.sasl.serverconfig ("Server") in the JAAS file of -Djava.security.auth.login.config. nil, and no
// error, when no file is named or it has no such context (Apache then runs without SASL too). A file that cannot
// be read fails, as it fails Apache's start. Only DIGEST-MD5 is served: a Kerberos section (GSSAPI) is refused.
func FromZooCfg(zc *zoocfg.Config, logger *slog.Logger) (*Config, error) {
	path := zc.Props["java.security.auth.login.config"]
	if path == "" {
		return nil, nil
	}
	section := "Server"
	if v, ok := zc.Props["zookeeper.sasl.serverconfig"]; ok {
		section = v
	}
	f, err := jaas.LoadFile(path, zc.Props)
	if err != nil {
		return nil, fmt.Errorf("No JAAS configuration section named '%s' was found in '%s': %w", section, path, err)
	}
	mods, ok := f.Contexts[section]
	if !ok {
		return nil, nil
	}
	c := &Config{Users: map[string]string{}, Logger: logger}
	for _, m := range mods {
		switch m.Class {
		case DigestLoginModule:
		case krb5LoginModule:
			return nil, fmt.Errorf("JAAS section %s of %s: Kerberos (GSSAPI) is not supported, only DIGEST-MD5 (%s)",
				section, path, DigestLoginModule)
		default:
			return nil, fmt.Errorf("JAAS section %s of %s: login module %s is not supported, only %s", section, path,
				m.Class, DigestLoginModule)
		}
		for k, v := range m.Options {
			if user, ok := strings.CutPrefix(k, "user_"); ok {
				c.Users[user] = v
			}
		}
	}
	if v, ok := zc.Props["zookeeper.SASLAuthenticationProvider.superPassword"]; ok {
		c.SuperPassword = &v
	}
	for k, v := range zc.Props {
		if rest, ok := strings.CutPrefix(k, superUserProp); ok && (rest == "" || rest[0] == '.') {
			c.SuperUsers = append(c.SuperUsers, v)
		}
	}
	slices.Sort(c.SuperUsers)
	c.RemoveHost = zc.Props["zookeeper.kerberos.removeHostFromPrincipal"] == "true"
	c.RemoveRealm = zc.Props["zookeeper.kerberos.removeRealmFromPrincipal"] == "true"
	c.DefaultRealm = zc.Props["java.security.krb5.realm"]
	c.AllowFailed = strings.EqualFold(zc.Props["zookeeper.allowSaslFailedClients"], "true")
	rules := "DEFAULT"
	if v, ok := zc.Props[authToLocalProp]; ok {
		rules = v
	}
	if c.Names, c.NamesErr = kerbname.NewZooKeeperShortNamer(c.DefaultRealm, rules); c.NamesErr != nil {
		c.NamesErr = fmt.Errorf("%s: %w", authToLocalProp, c.NamesErr)
		// Not fatal, as in Apache, which only fails when KerberosName is first used.
		c.logger().Error("Kerberos principal name mapping is broken: every SASL authentication will fail",
			"err", c.NamesErr)
	}
	return c, nil
}

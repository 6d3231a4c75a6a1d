package sasl

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/kerbname"
	"github.com/zkafka/zkafka/compat/zoocfg"
)

const (
	// DigestLoginModule is the login module of a DIGEST-MD5 server section (its user_<name> options are the users).
	DigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"
	// ProviderClass is the auth provider class that registers the sasl ACL scheme.
	ProviderClass   = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
	superUserProp   = "zookeeper.superUser"
	authToLocalProp = "zookeeper.security.auth_to_local"
)

// FromZooCfg is the SASL set-up ServerCnxnFactory.configureSaslLogin finds: the login context named by
// zookeeper.sasl.serverconfig ("Server") in the JAAS file of -Djava.security.auth.login.config. nil, and no
// error, when no file is named or it has no such context (Apache then runs without SASL too). A file that cannot
// be read fails, as it fails Apache's start. A section with a Krb5LoginModule serves GSSAPI (see kerberosLogin),
// else DIGEST-MD5 with the DigestLoginModule users.
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
		case kerberos.LoginModule:
			if c.Kerberos != nil || c.KerberosErr != nil {
				continue // the subject's first principal names the service
			}
			if err := c.kerberosLogin(m, zc.Props); err != nil {
				return nil, fmt.Errorf("JAAS section %s of %s: %w", section, path, err)
			}
			continue
		default:
			return nil, fmt.Errorf("JAAS section %s of %s: login module %s is not supported, only %s and %s", section,
				path, m.Class, DigestLoginModule, kerberos.LoginModule)
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
	c.DefaultRealm = defaultRealm(zc.Props)
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

// kerberosLogin is the Krb5LoginModule login Apache's Login runs at start: a keytab that lacks the principal, or a
// KDC that refuses it, stops the start (LoginException); with isInitiator=false the JDK's module neither asks the
// KDC nor looks in the keytab then, so neither do we. The service name and host come from the principal as
// SecurityUtils.createSaslServer splits it; Apache's split of a principal without '/' throws, is logged, and leaves
// every connection without a SASL server (KerberosErr). Without storeKey=true the subject holds no keys: the JDK's
// server then fails every client's first token (no key to decrypt the AP-REQ).
func (c *Config) kerberosLogin(m jaas.LoginModule, props map[string]string) error {
	login, err := kerberos.FromJAAS(m, props)
	if err != nil {
		return fmt.Errorf("Could not configure server because SASL configuration did not allow the ZooKeeper "+
			"server to authenticate itself properly: %w", err)
	}
	if _, err := login.StartLogin(); err != nil {
		return fmt.Errorf("Could not configure server because SASL configuration did not allow the ZooKeeper "+
			"server to authenticate itself properly: %w", err)
	}
	name, _, _ := strings.Cut(login.Principal, "@")
	if !strings.Contains(name, "/") {
		c.KerberosErr = fmt.Errorf("server principal name/hostname determination error: %s has no '/'", login.Principal)
		c.logger().Error("no SASL server: clients cannot authenticate", "err", c.KerberosErr)
		return nil
	}
	if !strings.EqualFold(m.Options["storeKey"], "true") {
		c.logger().Warn("the Kerberos login keeps no keys (storeKey is not true): every SASL authentication will fail",
			"principal", login.Principal)
		c.Kerberos = kerberos.NewAcceptor(keytab.New(), login.Principal)
		return nil
	}
	c.Kerberos, err = login.Acceptor()
	return err
}

// defaultRealm is the realm of ZooKeeper's KerberosName: the JDK's default realm (java.security.krb5.realm with
// java.security.krb5.kdc, else the default_realm of the Kerberos configuration file), "" when the JDK finds
// none or its configuration is broken (KerberosName then falls back to "").
func defaultRealm(props map[string]string) string {
	kc, err := kerberos.LoadConfig(props)
	if err == nil {
		return kc.LibDefaults.DefaultRealm
	}
	// The JDK reads a missing file as an empty configuration: the properties still count.
	realm, kdc := props["java.security.krb5.realm"], props["java.security.krb5.kdc"]
	if _, serr := os.Stat(props["java.security.krb5.conf"]); serr != nil && realm != "" && kdc != "" {
		return realm
	}
	return ""
}

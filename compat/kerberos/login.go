package kerberos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/javanet"
)

// LoginModule is the JAAS login module of a Kerberos login.
const LoginModule = "com.sun.security.auth.module.Krb5LoginModule"

// LoadConfig reads the Kerberos configuration the JDK would: the file named by java.security.krb5.conf, else
// /etc/krb5.conf, with java.security.krb5.realm and java.security.krb5.kdc (set together) overriding its
// default realm and that realm's KDC. props are the JVM's -D options.
func LoadConfig(props map[string]string) (*config.Config, error) {
	path := props["java.security.krb5.conf"]
	if path == "" {
		path = "/etc/krb5.conf"
	}
	var cfg *config.Config
	if _, err := os.Stat(path); err == nil {
		text, err := ReadConfigFile(path)
		if err == nil {
			cfg, err = ParseConfig(text)
		}
		if err != nil {
			return nil, fmt.Errorf("load Kerberos configuration %s: %w", path, err)
		}
	} else if props["java.security.krb5.conf"] != "" {
		return nil, fmt.Errorf("Kerberos configuration %s: %w", path, err)
	} else {
		cfg = config.New()
	}
	realm, kdc := props["java.security.krb5.realm"], props["java.security.krb5.kdc"]
	if (realm == "") != (kdc == "") {
		return nil, errors.New("java.security.krb5.realm and java.security.krb5.kdc must be set together")
	}
	if realm != "" {
		cfg.LibDefaults.DefaultRealm = realm
		found := false
		for i := range cfg.Realms {
			if cfg.Realms[i].Realm == realm {
				cfg.Realms[i].KDC = strings.Split(kdc, ":")[:1]
				found = true
			}
		}
		if !found {
			cfg.Realms = append(cfg.Realms, config.Realm{Realm: realm, KDC: []string{kdc}})
		}
	}
	return cfg, nil
}

// Login is a Krb5LoginModule section: whose keys or tickets a process uses.
type Login struct {
	// Principal is the module's principal with the default realm added when it has none; "*" for any.
	Principal string
	// Keytab holds the keys (useKeyTab=true); nil otherwise.
	Keytab *keytab.Keytab
	// TicketCache is the credential cache to read (useTicketCache=true); "" otherwise.
	TicketCache string
	conf        *config.Config
	initiator   bool // isInitiator (default true): the JDK's module gets a ticket-granting ticket at login
}

// FromJAAS reads a Krb5LoginModule's options as the JDK's module does, with the Kerberos configuration of
// props. A server must log in with a keytab; a client may use its ticket cache instead.
func FromJAAS(m jaas.LoginModule, props map[string]string) (*Login, error) {
	if m.Class != LoginModule {
		return nil, fmt.Errorf("login module %s is not %s", m.Class, LoginModule)
	}
	conf, err := LoadConfig(props)
	if err != nil {
		return nil, err
	}
	l := &Login{Principal: m.Options["principal"], conf: conf,
		initiator: !strings.EqualFold(m.Options["isInitiator"], "false")}
	if l.Principal != "" && l.Principal != "*" && !strings.Contains(l.Principal, "@") {
		if conf.LibDefaults.DefaultRealm == "" {
			return nil, fmt.Errorf("principal %s has no realm and the Kerberos configuration no default_realm", l.Principal)
		}
		l.Principal += "@" + conf.LibDefaults.DefaultRealm
	}
	if strings.EqualFold(m.Options["useKeyTab"], "true") {
		path := m.Options["keyTab"]
		if path == "" {
			path = conf.LibDefaults.DefaultKeytabName
		}
		path = strings.TrimPrefix(path, "FILE:")
		kt, err := keytab.Load(path)
		if err != nil {
			return nil, fmt.Errorf("Krb5LoginModule: keyTab %s: %w", path, err)
		}
		if l.Principal == "" {
			return nil, errors.New("Krb5LoginModule: useKeyTab needs a principal")
		}
		// The JDK's module looks for the principal's keys at login only as an initiator; an acceptor's keys
		// are looked up when a client comes.
		if l.initiator && l.Principal != "*" && !hasPrincipal(kt, l.Principal) {
			return nil, fmt.Errorf("Krb5LoginModule: Unable to obtain password from user: keyTab %s has no key for %s",
				path, l.Principal)
		}
		l.Keytab = kt
		return l, nil
	}
	if strings.EqualFold(m.Options["useTicketCache"], "true") {
		l.TicketCache = m.Options["ticketCache"]
		if l.TicketCache == "" {
			l.TicketCache = defaultCCache()
		}
		return l, nil
	}
	// Without a keytab or a cache the JDK's module would prompt, and a server has no one to prompt.
	return nil, errors.New("Krb5LoginModule: Unable to obtain password from user (neither useKeyTab nor useTicketCache)")
}

// FromContext reads the first Krb5LoginModule of a JAAS login context (FromJAAS).
func FromContext(mods []jaas.LoginModule, props map[string]string) (*Login, error) {
	for _, m := range mods {
		if m.Class == LoginModule {
			return FromJAAS(m, props)
		}
	}
	return nil, fmt.Errorf("GSSAPI needs a %s login module in the JAAS context", LoginModule)
}

// StartLogin is the KDC login the JDK's module runs at login: a client with a ticket-granting ticket, or nil
// (and no error) with isInitiator=false. A KDC that refuses the login fails it.
func (l *Login) StartLogin() (*client.Client, error) {
	if !l.initiator {
		return nil, nil
	}
	return l.Client()
}

// Realm is the Kerberos configuration's default realm.
func (l *Login) Realm() string { return l.conf.LibDefaults.DefaultRealm }

// Acceptor accepts contexts with the login's keys, for its principal.
func (l *Login) Acceptor() (*Acceptor, error) {
	if l.Keytab == nil {
		return nil, errors.New("a Kerberos server needs useKeyTab=true and a keyTab")
	}
	return NewAcceptor(l.Keytab, l.Principal), nil
}

// Client is a KDC client for the login: with its keytab, or its ticket cache.
func (l *Login) Client() (*client.Client, error) {
	settings := []func(*client.Settings){client.DisablePAFXFAST(true)}
	if l.Keytab != nil {
		pn, realm := splitPrincipal(l.Principal)
		cl := client.NewWithKeytab(pn.PrincipalNameString(), realm, l.Keytab, l.conf, settings...)
		if err := cl.Login(); err != nil {
			return nil, fmt.Errorf("Kerberos login as %s: %w", l.Principal, err)
		}
		return cl, nil
	}
	cc, err := credentials.LoadCCache(l.TicketCache)
	if err != nil {
		return nil, fmt.Errorf("Kerberos ticket cache %s: %w", l.TicketCache, err)
	}
	cl, err := client.NewFromCCache(cc, l.conf, settings...)
	if err != nil {
		return nil, fmt.Errorf("Kerberos ticket cache %s: %w", l.TicketCache, err)
	}
	return cl, nil
}

// StartSASL logs cl in to service/host (a host-based service name, as the JDK forms it: ServiceHostName, with
// names looked up through r, nil for the system's) and returns the SASL client and its first token. The ticket is
// asked from the realm the JDK names the service in (ServiceRealm), through the client's realm's KDC and its
// cross-realm ticket-granting ticket when the realms differ.
func StartSASL(ctx context.Context, r javanet.Resolver, cl *client.Client, service, host, authzid string) (*SASLClient, []byte, error) {
	host = ServiceHostName(ctx, r, cl.Config, host)
	realm := ServiceRealm(cl.Config, host)
	if realm == "" {
		return nil, nil, fmt.Errorf("service ticket for %s/%s: %w", service, host, errNoDefaultRealm)
	}
	tkt, key, err := inRealm(cl, host, realm).GetServiceTicket(service + "/" + host)
	if err != nil {
		return nil, nil, fmt.Errorf("service ticket for %s/%s@%s: %w", service, host, realm, err)
	}
	in, first, err := Initiate(cl.Credentials.CName(), cl.Credentials.Domain(), tkt, key, true)
	if err != nil {
		return nil, nil, err
	}
	return NewSASLClient(in, authzid), first, nil
}

// ServiceRealm is the realm the JDK names a host-based service of host in (PrincipalName for KRB_NT_SRV_HST, host
// as ServiceHostName gives it): the [domain_realm] entry of the host, else of its domains from the longest, each
// as ".domain" then "domain" (keys as written: an upper-case key never matches the lower-cased host), else the
// default realm; "" without one (the JDK then fails: it looks realms up in DNS only for its default realm, with
// dns_lookup_realm, which we do not). Neither zookeeper.server.realm nor a realm in zookeeper.server.principal
// plays a part: ZooKeeper's client hands GSSAPI only the service and host names.
func ServiceRealm(conf *config.Config, host string) string {
	if r, ok := conf.DomainRealm[host]; ok {
		return r
	}
	for i := 1; i < len(host)-1; i++ {
		if host[i] != '.' {
			continue
		}
		if r, ok := conf.DomainRealm[host[i:]]; ok {
			return r
		}
		if r, ok := conf.DomainRealm[host[i+1:]]; ok {
			return r
		}
	}
	return conf.LibDefaults.DefaultRealm
}

// inRealm is cl asking for host's services in realm: gokrb5 would pick the realm by its own rules (no "domain"
// entries, and the client's realm rather than the default one when nothing maps). The copy shares cl's
// credentials, sessions and ticket cache; only its configuration maps host to realm.
func inRealm(cl *client.Client, host, realm string) *client.Client {
	conf := *cl.Config
	conf.DomainRealm = config.DomainRealm{host: realm}
	c := *cl
	c.Config = &conf
	return &c
}

// ServiceHost is the host a Java client names a service by, as InetAddress.getHostName gives it for the address
// it connects to ("host:port" or a host): a host name as it is, an IP address by its canonical name
// (javanet.CanonicalHostName with the system's resolver; the address when it has none).
func ServiceHost(ctx context.Context, address string) string {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	if ip := net.ParseIP(host); ip != nil {
		return javanet.CanonicalHostName(ctx, nil, ip)
	}
	return host
}

func splitPrincipal(p string) (types.PrincipalName, string) {
	name, realm, _ := strings.Cut(p, "@")
	return types.NewPrincipalName(1, name), realm
}

func hasPrincipal(kt *keytab.Keytab, principal string) bool {
	for _, e := range kt.Entries {
		if e.Principal.Realm != "" && strings.Join(e.Principal.Components, "/")+"@"+e.Principal.Realm == principal {
			return true
		}
	}
	return false
}

// defaultCCache is MIT's default credential cache: $KRB5CCNAME, else /tmp/krb5cc_<uid>.
func defaultCCache() string {
	if v := os.Getenv("KRB5CCNAME"); v != "" {
		return strings.TrimPrefix(v, "FILE:")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("krb5cc_%d", os.Getuid()))
}

package serverprops

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zkafka/zkafka/compat/jaas"
)

// ZkLoginContext is the JAAS section the ZooKeeper client logs in with (zookeeper.sasl.clientconfig, else
// "Client").
func ZkLoginContext(jvm map[string]string) string {
	if v, ok := jvm["zookeeper.sasl.clientconfig"]; ok {
		return v
	}
	return "Client"
}

// ZkLogin is how the ZooKeeper client logs in to ZooKeeper: with a user name and password (DIGEST-MD5), or with
// Kerberos (GSSAPI) when Krb5 is the context's Krb5LoginModule.
type ZkLogin struct {
	User, Password string
	Krb5           *jaas.LoginModule
}

// ZkSaslLogin is JaasUtils.isZkSaslEnabled with the login it finds: nil when the JAAS file has no ZooKeeper client
// login context (or no file is named); an error when it has one but zookeeper.sasl.client is false, or when the
// context is neither a digest login nor a Kerberos one.
func ZkSaslLogin(jvm map[string]string) (*ZkLogin, error) {
	path := jvm[JavaLoginConfig]
	if path == "" {
		return nil, nil
	}
	f, err := jaas.LoadFile(path, jvm)
	if err != nil {
		return nil, fmt.Errorf("Exception while loading Zookeeper JAAS login context %s: %w", ZkSecuritySysConfig(jvm), err)
	}
	section := ZkLoginContext(jvm)
	mods, found := f.Contexts[section]
	enabled := true
	if v, ok := jvm["zookeeper.sasl.client"]; ok {
		enabled = strings.EqualFold(v, "true")
	}
	if found && !enabled {
		return nil, errors.New("Exception while determining if ZooKeeper is secure " + ZkSecuritySysConfig(jvm))
	}
	if !found {
		return nil, nil
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("JAAS file %s has no %s section", path, section)
	}
	m := mods[0]
	if m.Class == krb5LoginModule {
		return &ZkLogin{Krb5: &m}, nil
	}
	if !zkDigestModules[m.Class] {
		return nil, fmt.Errorf("JAAS section %s of %s: login module %s is not supported for ZooKeeper, only "+
			"DIGEST-MD5 logins (org.apache.zookeeper.server.auth.DigestLoginModule with username and password) "+
			"and Kerberos (%s)", section, path, m.Class, krb5LoginModule)
	}
	return &ZkLogin{User: m.Options["username"], Password: m.Options["password"]}, nil
}

// ZkSecuritySysConfig is JaasUtils.zkSecuritySysConfigString.
func ZkSecuritySysConfig(jvm map[string]string) string {
	get := func(k string) string {
		if v, ok := jvm[k]; ok {
			return v
		}
		return "null"
	}
	return fmt.Sprintf("[%s=%s, %s=%s, %s=%s]", JavaLoginConfig, get(JavaLoginConfig),
		"zookeeper.sasl.client", get("zookeeper.sasl.client"), "zookeeper.sasl.clientconfig", get("zookeeper.sasl.clientconfig"))
}

const krb5LoginModule = "com.sun.security.auth.module.Krb5LoginModule"

// Login modules whose subject holds a user name and a password, which ZooKeeper's client then uses for DIGEST-MD5
// (SecurityUtils.createSaslClient with no principals: the first public and private credentials).
var zkDigestModules = map[string]bool{
	"org.apache.zookeeper.server.auth.DigestLoginModule":      true,
	"org.apache.kafka.common.security.plain.PlainLoginModule": true,
}

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

// ZkSaslEnabled is JaasUtils.isZkSaslEnabled: the JAAS file has the ZooKeeper client's login context; an error
// when it has but zookeeper.sasl.client is false.
func ZkSaslEnabled(jvm map[string]string) (bool, error) {
	path := jvm[JavaLoginConfig]
	if path == "" {
		return false, nil
	}
	f, err := jaas.LoadFile(path, jvm)
	if err != nil {
		return false, fmt.Errorf("Exception while loading Zookeeper JAAS login context %s: %w", ZkSecuritySysConfig(jvm), err)
	}
	_, found := f.Contexts[ZkLoginContext(jvm)]
	enabled := true
	if v, ok := jvm["zookeeper.sasl.client"]; ok {
		enabled = strings.EqualFold(v, "true")
	}
	if found && !enabled {
		return false, errors.New("Exception while determining if ZooKeeper is secure " + ZkSecuritySysConfig(jvm))
	}
	return found, nil
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

// Login modules whose subject holds a user name and a password, which ZooKeeper's client then uses for DIGEST-MD5
// (SecurityUtils.createSaslClient with no principals: the first public and private credentials).
var zkDigestModules = map[string]bool{
	"org.apache.zookeeper.server.auth.DigestLoginModule":      true,
	"org.apache.kafka.common.security.plain.PlainLoginModule": true,
}

// ZkSaslLogin is the user name and password the ZooKeeper client's JAAS section logs in with. Only the digest
// logins are read; a Kerberos login (Krb5LoginModule) is an error.
func ZkSaslLogin(jvm map[string]string) (user, password string, err error) {
	path := jvm[JavaLoginConfig]
	f, err := jaas.LoadFile(path, jvm)
	if err != nil {
		return "", "", fmt.Errorf("Exception while loading Zookeeper JAAS login context %s: %w", ZkSecuritySysConfig(jvm), err)
	}
	section := ZkLoginContext(jvm)
	mods := f.Contexts[section]
	if len(mods) == 0 {
		return "", "", fmt.Errorf("JAAS file %s has no %s section", path, section)
	}
	m := mods[0]
	if !zkDigestModules[m.Class] {
		return "", "", fmt.Errorf("JAAS section %s of %s: login module %s is not supported for ZooKeeper, only "+
			"DIGEST-MD5 logins (org.apache.zookeeper.server.auth.DigestLoginModule with username and password)",
			section, path, m.Class)
	}
	return m.Options["username"], m.Options["password"], nil
}

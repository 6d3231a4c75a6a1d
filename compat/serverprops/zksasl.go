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

package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/zkafka/zkafka/compat/jaas"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/tlsconf"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// zkSecurity returns the options of the broker's ZooKeeper client: TLS (zookeeper.ssl.client.enable) and secure
// ACLs (zookeeper.set.acl), checked as KafkaServer.initZkClient checks them. SASL to ZooKeeper (a JAAS Client
// section) is not supported: with zookeeper.set.acl it would be the broker's identity, so the broker does not
// start; without, it connects unauthenticated and says so.
func zkSecurity(cfg *serverprops.Config, jvm map[string]string, log *slog.Logger) ([]zkmeta.Option, error) {
	var opts []zkmeta.Option
	z := cfg.ZkClientTLS(jvm)
	if z.Enabled {
		tc, err := tlsconf.ZooKeeper(z)
		if err != nil {
			return nil, fmt.Errorf("zookeeper TLS: %w", err)
		}
		opts = append(opts, zkmeta.WithTLS(tc))
	}
	sasl, err := zkSaslEnabled(jvm)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.ZookeeperSetACL && !sasl && !z.ClientAuthReady():
		return nil, fmt.Errorf("%s is true, but ZooKeeper client TLS configuration identifying at least "+
			"zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, and zookeeper.ssl.keystore.location was not "+
			"present and the verification of the JAAS login file failed %s", serverprops.ZkSetACL, zkSecuritySysConfig(jvm))
	case sasl && cfg.ZookeeperSetACL && !z.ClientAuthReady():
		return nil, fmt.Errorf("%s is true with a JAAS %s section: SASL authentication to ZooKeeper is not supported, "+
			"use TLS client authentication (zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, zookeeper.ssl.keystore.location)",
			serverprops.ZkSetACL, zkLoginContext(jvm))
	case sasl:
		log.Warn("SASL authentication to ZooKeeper is not supported: the broker's ZooKeeper session does not authenticate with the JAAS section",
			"section", zkLoginContext(jvm))
	}
	if cfg.ZookeeperSetACL {
		opts = append(opts, zkmeta.WithSecureACLs())
	}
	return opts, nil
}

func zkLoginContext(jvm map[string]string) string {
	if v, ok := jvm["zookeeper.sasl.clientconfig"]; ok {
		return v
	}
	return "Client"
}

// zkSaslEnabled is JaasUtils.isZkSaslEnabled: the JAAS file has the ZooKeeper client's login context; an error
// when it has but zookeeper.sasl.client is false.
func zkSaslEnabled(jvm map[string]string) (bool, error) {
	path := jvm[serverprops.JavaLoginConfig]
	if path == "" {
		return false, nil
	}
	f, err := jaas.LoadFile(path, jvm)
	if err != nil {
		return false, fmt.Errorf("Exception while loading Zookeeper JAAS login context %s: %w", zkSecuritySysConfig(jvm), err)
	}
	_, found := f.Contexts[zkLoginContext(jvm)]
	enabled := true
	if v, ok := jvm["zookeeper.sasl.client"]; ok {
		enabled = strings.EqualFold(v, "true")
	}
	if found && !enabled {
		return false, errors.New("Exception while determining if ZooKeeper is secure " + zkSecuritySysConfig(jvm))
	}
	return found, nil
}

// zkSecuritySysConfig is JaasUtils.zkSecuritySysConfigString.
func zkSecuritySysConfig(jvm map[string]string) string {
	get := func(k string) string {
		if v, ok := jvm[k]; ok {
			return v
		}
		return "null"
	}
	return fmt.Sprintf("[%s=%s, %s=%s, %s=%s]", serverprops.JavaLoginConfig, get(serverprops.JavaLoginConfig),
		"zookeeper.sasl.client", get("zookeeper.sasl.client"), "zookeeper.sasl.clientconfig", get("zookeeper.sasl.clientconfig"))
}

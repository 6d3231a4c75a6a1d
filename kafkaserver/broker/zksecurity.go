package broker

import (
	"fmt"
	"log/slog"

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
	sasl, err := serverprops.ZkSaslEnabled(jvm)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.ZookeeperSetACL && !sasl && !z.ClientAuthReady():
		return nil, fmt.Errorf("%s is true, but ZooKeeper client TLS configuration identifying at least "+
			"zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, and zookeeper.ssl.keystore.location was not "+
			"present and the verification of the JAAS login file failed %s", serverprops.ZkSetACL, serverprops.ZkSecuritySysConfig(jvm))
	case sasl && cfg.ZookeeperSetACL && !z.ClientAuthReady():
		return nil, fmt.Errorf("%s is true with a JAAS %s section: SASL authentication to ZooKeeper is not supported, "+
			"use TLS client authentication (zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, zookeeper.ssl.keystore.location)",
			serverprops.ZkSetACL, serverprops.ZkLoginContext(jvm))
	case sasl:
		log.Warn("SASL authentication to ZooKeeper is not supported: the broker's ZooKeeper session does not authenticate with the JAAS section",
			"section", serverprops.ZkLoginContext(jvm))
	}
	if cfg.ZookeeperSetACL {
		opts = append(opts, zkmeta.WithSecureACLs())
	}
	return opts, nil
}

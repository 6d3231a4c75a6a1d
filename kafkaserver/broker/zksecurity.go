package broker

import (
	"fmt"
	"log/slog"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/tlsconf"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// zkSecurity returns the options of a ZooKeeper client of the broker's: TLS as z says (the broker's
// zookeeper.ssl.* settings, or the authorizer's), SASL (a JAAS Client section: DIGEST-MD5 with its user name and
// password, or Kerberos) and secure ACLs (zookeeper.set.acl), checked as KafkaServer.initZkClient checks them.
func zkSecurity(cfg *serverprops.Config, z serverprops.ZkClientTLS, jvm map[string]string, log *slog.Logger) ([]zkmeta.Option, error) {
	var opts []zkmeta.Option
	if z.Enabled {
		tc, err := tlsconf.ZooKeeper(z)
		if err != nil {
			return nil, fmt.Errorf("zookeeper TLS: %w", err)
		}
		opts = append(opts, zkmeta.WithTLS(tc))
	}
	login, err := serverprops.ZkSaslLogin(jvm)
	if err != nil {
		return nil, err
	}
	if cfg.ZookeeperSetACL && login == nil && !cfg.ZkClientTLS(jvm).ClientAuthReady() {
		return nil, fmt.Errorf("%s is true, but ZooKeeper client TLS configuration identifying at least "+
			"zookeeper.ssl.client.enable, zookeeper.clientCnxnSocket, and zookeeper.ssl.keystore.location was not "+
			"present and the verification of the JAAS login file failed %s", serverprops.ZkSetACL, serverprops.ZkSecuritySysConfig(jvm))
	}
	if login != nil {
		o, err := zkmeta.SASLOption(login, jvm)
		if err != nil {
			return nil, err
		}
		log.Info("ZooKeeper client logs in with SASL", "section", serverprops.ZkLoginContext(jvm),
			"kerberos", login.Krb5 != nil, "user", login.User)
		opts = append(opts, o)
	}
	if cfg.ZookeeperSetACL {
		opts = append(opts, zkmeta.WithSecureACLs())
	}
	return opts, nil
}

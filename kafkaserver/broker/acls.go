package broker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/acl"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// The authorizer classes Kafka 2.8 ships, both the ZooKeeper-backed AclAuthorizer (SimpleAclAuthorizer is its
// deprecated predecessor over the same znodes).
var authorizerClasses = map[string]bool{
	"kafka.security.authorizer.AclAuthorizer": true,
	"kafka.security.auth.SimpleAclAuthorizer": true,
}

// ibp20iv1 is the first inter.broker.protocol.version that stores prefixed ACLs (KAFKA_2_0_IV1).
var ibp20iv1, _ = serverprops.ParseAPIVersion("2.0-IV1")

// AclAuthorizer's own keys (plugin configs, read from server.properties as they are).
const (
	superUsersKey        = "super.users"
	allowEveryoneKey     = "allow.everyone.if.no.acl.found"
	authorizerZKURL      = "authorizer.zookeeper.url"
	authorizerZKSession  = "authorizer.zookeeper.session.timeout.ms"
	authorizerZKConnTime = "authorizer.zookeeper.connection.timeout.ms"
)

// checkAuthorizerClass refuses an authorizer.class.name we do not have before anything starts, as KafkaConfig
// loads the class when it is made.
func checkAuthorizerClass(cfg *serverprops.Config) error {
	if class := strings.TrimSpace(cfg.AuthorizerClassName); class != "" && !authorizerClasses[class] {
		return fmt.Errorf("authorizer.class.name: java.lang.ClassNotFoundException: %s", class)
	}
	return nil
}

// startAuthorizer configures and starts authorizer.class.name as KafkaServer does before its listeners take
// requests: the ACL paths made, the change listeners started, then the cache loaded (AclAuthorizer.configure).
// Without a class it returns nil (every request allowed). The ACLs are read through the broker's ZooKeeper client
// zc unless authorizer.zookeeper.url or the authorizer's own TLS settings ask for a client of its own.
func (b *Broker) startAuthorizer(ctx context.Context, cfg *serverprops.Config, zc *zkmeta.Client) (*acl.Authorizer, error) {
	if strings.TrimSpace(cfg.AuthorizerClassName) == "" {
		return nil, nil
	}
	supers, err := acl.ParseSuperUsers(cfg.Raw[superUsersKey])
	if err != nil {
		return nil, err
	}
	logger := b.loggers.Logger("kafka.authorizer.logger").With("broker", b.brokerID)
	ztls, overlaid, err := cfg.AuthorizerZkClientTLS(b.jvm)
	if err != nil {
		return nil, err
	}
	if url := cfg.Raw[authorizerZKURL]; url != "" || overlaid {
		if url == "" {
			url = cfg.ZookeeperConnect
		}
		zkOpts, err := zkSecurity(cfg, ztls, b.jvm, b.logger)
		if err != nil {
			return nil, fmt.Errorf("authorizer's zookeeper client: %w", err)
		}
		session, err := msOr(cfg.Raw[authorizerZKSession], cfg.ZookeeperSessionTimeoutMs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", authorizerZKSession, err)
		}
		connect, err := msOr(cfg.Raw[authorizerZKConnTime], cfg.ZookeeperConnectionTimeoutMs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", authorizerZKConnTime, err)
		}
		if zc, err = zkmeta.Connect(url, session, b.loggers.Logger("kafka.security.authorizer.AclAuthorizer"),
			append(zkOpts, zkmeta.WithConnectTimeout(connect))...); err != nil {
			return nil, fmt.Errorf("connect to the authorizer's zookeeper %s: %w", url, err)
		}
		b.aclZK = zc
	}
	store := &acl.ZKStore{ZK: zc, Logger: logger}
	if err := store.CreatePaths(); err != nil {
		return nil, err
	}
	a := acl.New(acl.Config{SuperUsers: supers, Store: store, Logger: logger,
		// Scala's String.toBoolean: true or false in any case; anything else fails the start.
		AllowEveryoneIfNoACLFound: strings.EqualFold(cfg.Raw[allowEveryoneKey], "true"),
		ExtendedACLs:              cfg.InterBrokerProtocolVersion.ID >= ibp20iv1.ID,
	})
	if v := cfg.Raw[allowEveryoneKey]; v != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
		return nil, fmt.Errorf("%s: For input string: %q", allowEveryoneKey, v)
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := store.Watch(ctx, a); err != nil && ctx.Err() == nil {
			b.logger.Error("ACL change listeners stopped", "err", err)
		}
	}()
	if err := a.Load(); err != nil {
		return nil, err
	}
	return a, nil
}

// msOr reads a millisecond count, or takes def when unset.
func msOr(v string, def int32) (time.Duration, error) {
	if v == "" {
		return time.Duration(def) * time.Millisecond, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Millisecond, nil
}

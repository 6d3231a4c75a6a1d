// Package broker assembles a Kafka broker in ZooKeeper mode the way KafkaServer.startup does: ZooKeeper session
// and top-level paths, cluster id, broker id, log dirs, listeners, broker registration, the controller runtime,
// and the background tasks (checkpoints, retention, flushes).
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/javahash"
	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/connquota"
	"github.com/zkafka/zkafka/kafkaserver/controller"
	"github.com/zkafka/zkafka/kafkaserver/dtoken"
	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	"github.com/zkafka/zkafka/kafkaserver/features"
	"github.com/zkafka/zkafka/kafkaserver/group"
	"github.com/zkafka/zkafka/kafkaserver/handler"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/loggers"
	"github.com/zkafka/zkafka/kafkaserver/metrics"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/sasl"
	"github.com/zkafka/zkafka/kafkaserver/tlsconf"
	"github.com/zkafka/zkafka/kafkaserver/txn"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
	"github.com/zkafka/zkafka/kwire"
)

// serverLogger names the broker's own logger, Kafka's for KafkaServer.
const serverLogger = "kafka.server.KafkaServer"

// ibp27 is the first inter.broker.protocol.version that registers brokers with version 5 JSON.
var ibp27, _ = serverprops.ParseAPIVersion("2.7-IV0")

// ibp27iv1 is the first inter.broker.protocol.version whose followers truncate on fetch (Kafka's
// isTruncationOnFetchSupported).
var ibp27iv1, _ = serverprops.ParseAPIVersion("2.7-IV1")

// Broker is one running Kafka broker.
type Broker struct {
	cfg     *serverprops.Config
	logger  *slog.Logger      // kafka.server.KafkaServer
	loggers *loggers.Registry // every named logger, the BROKER_LOGGER configs

	zk       *zkmeta.Client
	features *features.Cache // the finalized features (ApiVersions v3)
	fatal    <-chan error    // the feature listener's fatal error; nil without one
	aclZK    *zkmeta.Client  // the authorizer's own, with authorizer.zookeeper.url
	logs     *klog.Manager
	rm       *replica.Manager
	handlers *handler.Handlers
	// servers are the running listeners by name; dynamic listeners updates add and remove them.
	servers   map[string]*kwire.Server
	serversMu sync.Mutex
	mux       *kwire.Mux        // the request handlers every listener serves
	jvm       map[string]string // the JVM system properties from KAFKA_OPTS
	// reqMetrics are the listeners' RequestMetrics, broker-wide as Kafka's are.
	reqMetrics *kwire.RequestMetrics
	stats      *metrics.TopicStats // BrokerTopicMetrics
	// metricsSrv serves /metrics at metricsAddr when zkafka.metrics.address is set.
	metricsSrv  *http.Server
	metricsAddr net.Addr
	zkIsr       zkIsr // ISR changes below IBP 2.7-IV2
	api         *API
	ctrl        *controller.Controller
	dyn         *dynconfig.Manager
	stores      *listenerStores // the listeners' TLS stores, replaced by dynamic configs
	quotas      *quota.ClientQuotas
	connQuotas  *connquota.Quotas // the listeners' connection limits (SocketServer's ConnectionQuotas)
	creds       *sasl.Credentials // SCRAM credentials from /config/users
	tokens      *dtoken.Manager   // delegation tokens (KIP-48)
	group       *group.Coordinator
	// txn is the transaction coordinator.
	txn *txn.Coordinator
	// groupEvents carries __consumer_offsets and __transaction_state leadership changes to the coordinators' loader.
	groupEvents chan coordinatorEvent
	brokerID    int32
	clusterID   string
	// epoch is the czxid of this broker's registration, sent with ControlledShutdown.
	epoch   atomic.Int64
	started atomic.Bool

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New returns a broker for cfg; Start brings it up.
func New(cfg *serverprops.Config, logger *slog.Logger) *Broker {
	if logger == nil {
		logger = slog.Default()
	}
	reg := loggers.New(logger.Handler())
	// The parents of the broker's loggers, so that one level set on them reaches all (Kafka's log4j.properties
	// names them too).
	reg.Logger("kafka")
	reg.Logger("org.apache.kafka")
	b := &Broker{cfg: cfg, loggers: reg, logger: reg.Logger(serverLogger), servers: map[string]*kwire.Server{},
		reqMetrics: kwire.NewRequestMetrics()}
	b.zkIsr.b = b
	return b
}

// named is a logger of the registry, tagged with the broker id.
func (b *Broker) named(name string) *slog.Logger {
	return b.loggers.Logger(name).With("broker", b.brokerID)
}

// ID is the broker id (known after Start).
func (b *Broker) ID() int32 { return b.brokerID }

// ClusterID is the cluster id (known after Start).
func (b *Broker) ClusterID() string { return b.clusterID }

// Replicas is the broker's replica manager.
func (b *Broker) Replicas() *replica.Manager { return b.rm }

// ZK is the broker's ZooKeeper client.
func (b *Broker) ZK() *zkmeta.Client { return b.zk }

// API is the controller's view of the brokers (local calls for this broker, network for the others).
func (b *Broker) API() *API { return b.api }

// Controller is the controller runtime racing for /controller in this broker.
func (b *Broker) Controller() *controller.Controller { return b.ctrl }

// Addr returns the bound address of a listener.
func (b *Broker) Addr(listener string) net.Addr {
	if s := b.server(listener); s != nil {
		return s.Addr()
	}
	return nil
}

// Start performs KafkaServer.startup. On error everything started so far is stopped.
func (b *Broker) Start(ctx context.Context) error {
	if err := b.start(ctx); err != nil {
		_ = b.Close()
		return err
	}
	return nil
}

func (b *Broker) start(ctx context.Context) error {
	cfg := b.cfg
	if err := checkAuthorizerClass(cfg); err != nil {
		return err
	}
	// The JVM's system properties, as Kafka's scripts pass them in KAFKA_OPTS (the JAAS file, ZooKeeper's client TLS).
	jvm := serverprops.JVMSystemProperties(os.Getenv("KAFKA_OPTS"))
	b.jvm = jvm
	sessionTimeout := time.Duration(cfg.ZookeeperSessionTimeoutMs) * time.Millisecond
	zkOpts, err := zkSecurity(cfg, cfg.ZkClientTLS(jvm), jvm, b.logger)
	if err != nil {
		return err
	}
	zc, err := zkmeta.Connect(cfg.ZookeeperConnect, sessionTimeout, b.loggers.Logger("kafka.zookeeper.ZooKeeperClient"),
		append(zkOpts, zkmeta.WithConnectTimeout(time.Duration(cfg.ZookeeperConnectionTimeoutMs)*time.Millisecond))...)
	if err != nil {
		return fmt.Errorf("connect to zookeeper %s: %w", cfg.ZookeeperConnect, err)
	}
	b.zk = zc
	if err := zc.CreateTopLevelPaths(); err != nil {
		return fmt.Errorf("create top-level paths: %w", err)
	}
	if b.clusterID, err = zc.GetOrCreateClusterID(); err != nil {
		return fmt.Errorf("cluster id: %w", err)
	}
	if b.brokerID, err = b.resolveBrokerID(); err != nil {
		return err
	}
	b.logger = b.logger.With("broker", b.brokerID)
	named := b.named
	b.quotas = newClientQuotas(cfg)
	b.creds = sasl.NewCredentials()
	// Dynamic broker configs from ZooKeeper apply from the start (DynamicBrokerConfig.initialize); a bad set is
	// logged and skipped, as Kafka does.
	b.stores = &listenerStores{servers: map[string]*tlsconf.Dynamic{}, interBroker: cfg.InterBrokerListenerName,
		logf: named("kafka.network.SocketServer").Info}
	b.dyn = dynconfig.New(dynconfig.Config{ZK: zc, BrokerID: b.brokerID, Static: cfg, Logger: named("kafka.server.DynamicConfigManager"),
		OnBrokerChange: func(prev, next *serverprops.Config) {
			if next.NumReplicaFetchers != prev.NumReplicaFetchers {
				b.rm.ResizeFetchers(next.NumReplicaFetchers)
			}
			b.applyThrottleRates(next)
			b.applyConnLimits(next)
			b.reconfigureListeners(prev, next)
			b.reconfigureCleaner(prev, next)
		},
		OnTopicChange:  b.setThrottledReplicas,
		OnQuotaChange:  b.quotas.Apply,
		OnUserChange:   b.creds.Update,
		OnIPChange:     b.applyIPQuota,
		Reconfigurable: reconfigurables{b},
	})
	if err := b.dyn.LoadBrokerConfigs(); err != nil {
		b.logger.Error("dynamic broker configs not applied", "err", err)
	}
	cfg = b.dyn.Current()
	// The listeners' TLS comes from the config with the dynamic configs applied (a key store replaced by an
	// update stays replaced across restarts); a bad store fails the start, as Kafka's SocketServer does.
	listenerTLSs := map[string]listenerTLS{}
	for _, l := range cfg.Listeners {
		if listenerTLSs[l.Name], err = newListenerTLS(cfg, l); err != nil {
			return err
		}
	}
	if b.connQuotas, err = newConnQuotas(cfg, named("kafka.network.ConnectionQuotas")); err != nil {
		return err
	}

	defaults, err := replica.LogConfig(cfg.TopicDefaults())
	if err != nil {
		return fmt.Errorf("log defaults: %w", err)
	}
	if b.logs, err = klog.OpenManager(cfg.LogDirs, b.brokerID, b.clusterID, defaults, named("kafka.log.LogManager")); err != nil {
		return fmt.Errorf("open log dirs: %w", err)
	}
	// Loaded logs forget producers idle past transactional.id.expiration.ms now, as Kafka's log load skips them,
	// and keep that limit for truncations before the first periodic check.
	b.logs.RemoveExpiredProducers(time.Now(), int64(cfg.TransactionalIDExpirationMs))
	cleanerCfg := cleanerConfig(cfg)
	cleanerCfg.Logger = named("kafka.log.LogCleaner")
	if err := b.logs.StartCleaner(cleanerCfg); err != nil {
		return fmt.Errorf("start log cleaner: %w", err)
	}
	// Loaded logs take their topic's overrides now, as LogManager gets them from ZooKeeper at startup.
	if err := b.dyn.SetLogs(b.logs); err != nil {
		b.logger.Warn("topic configs of loaded logs", "err", err)
	}
	b.groupEvents = make(chan coordinatorEvent, 1024)
	qWindows, _ := cfg.Int("replication.quota.window.num")
	qWindowSecs, _ := cfg.Int("replication.quota.window.size.seconds")
	mWindows, _ := cfg.Int("alter.log.dirs.replication.quota.window.num")
	mWindowSecs, _ := cfg.Int("alter.log.dirs.replication.quota.window.size.seconds")
	b.stats = metrics.NewTopicStats()
	b.rm = replica.NewManager(replica.Config{
		BrokerID: b.brokerID, Logs: b.logs, Logger: named("kafka.server.ReplicaManager"), OnLeadershipChange: b.onLeadershipChange,
		// The log config holds min.insync.replicas too: acks=all reads it there, not in ZooKeeper.
		TopicConfig: b.dyn.LogConfig, OnPartitionsDeleted: b.onPartitionsDeleted,
		QuotaWindows: int(qWindows), QuotaWindowMs: int64(qWindowSecs) * 1000, Stats: b.stats,
		MoveQuotaWindows: int(mWindows), MoveQuotaWindowMs: int64(mWindowSecs) * 1000,
	})
	b.applyThrottleRates(cfg)
	if err := b.loadThrottledReplicas(); err != nil {
		b.logger.Warn("replication throttles not loaded", "err", err)
	}
	if err := b.dyn.LoadQuotas(); err != nil {
		b.logger.Warn("client quotas not all loaded", "err", err)
	}
	gcfg := group.DefaultConfig()
	gcfg.NumPartitions = cfg.OffsetsTopicPartitions
	gcfg.MinSessionTimeoutMs, gcfg.MaxSessionTimeoutMs = cfg.GroupMinSessionTimeoutMs, cfg.GroupMaxSessionTimeoutMs
	gcfg.InitialRebalanceDelayMs, gcfg.MaxGroupSize = cfg.GroupInitialRebalanceDelayMs, int(cfg.GroupMaxSize)
	gcfg.OffsetsRetentionMs = int64(cfg.OffsetsRetentionMinutes) * 60000
	gcfg.OffsetsRetentionCheckIntervalMs = cfg.OffsetsRetentionCheckIntervalMs
	gcfg.MaxMetadataSize = int(cfg.OffsetMetadataMaxBytes)
	b.group = group.New(gcfg, &internalLog{rm: b.rm, topic: replica.GroupMetadataTopic,
		timeout: time.Duration(cfg.OffsetsCommitTimeoutMs) * time.Millisecond},
		zc, newMemberID, named("kafka.coordinator.group.GroupCoordinator"))
	// The controller runtime exists before the listeners (its admin APIs are served there); it runs after the
	// broker registers.
	var apiOpts []kgo.Opt
	ibSASL, err := interBrokerSASL(cfg, jvm)
	if err != nil {
		return err
	}
	if ibSASL != nil {
		apiOpts = append(apiOpts, kgo.SASL(ibSASL))
	}
	if serverprops.UsesTLS(cfg.InterBrokerSecurityProtocol) {
		if b.stores.client, err = tlsconf.NewClientTLS(cfg.ListenerSSL(cfg.InterBrokerListenerName)); err != nil {
			return fmt.Errorf("inter-broker listener %s: %w", cfg.InterBrokerListenerName, err)
		}
		apiOpts = append(apiOpts, kgo.Dialer(b.stores.client.Dial))
	}
	b.api = newAPI(b.brokerID, b.rm, zc, cfg.InterBrokerListenerName, named("kafka.controller.ControllerChannelManager"), apiOpts...)
	b.ctrl = controller.New(zc, controller.Config{
		BrokerID: b.brokerID, DeleteTopicEnable: cfg.DeleteTopicEnable, UncleanLeaderElection: cfg.UncleanLeaderElection,
		InterBrokerListener: cfg.InterBrokerListenerName,
	}, b.api, named("kafka.controller.KafkaController"))
	// Kafka's transaction coordinator claims its first producer id block at startup.
	producerIDs := group.NewProducerIDManager(b.brokerID, zc, named("kafka.coordinator.transaction.ProducerIdManager"))
	if err := producerIDs.Init(); err != nil {
		return err
	}
	b.txn = b.newTxnCoordinator(cfg, producerIDs, named("kafka.coordinator.transaction.TransactionCoordinator"))
	// Background work runs until Close; the authorizer's change listeners start before the listeners take requests.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	// Feature versioning (KIP-584) from inter.broker.protocol.version 2.7-IV0: the finalized features are read
	// before the broker registers, and a set it cannot run with stops it, as Kafka's FinalizedFeatureChangeListener.
	b.features = features.NewCache(features.Supported())
	versioning := cfg.InterBrokerProtocolVersion.ID >= ibp27.ID
	if versioning {
		if b.fatal, err = features.Listen(rctx, zc, b.features, named("kafka.server.FinalizedFeatureChangeListener")); err != nil {
			return fmt.Errorf("finalized features: %w", err)
		}
	}
	fv := features.NewVersioning(zc, b.features, versioning, time.Duration(cfg.ZookeeperConnectionTimeoutMs)*time.Millisecond,
		named("kafka.controller.KafkaController"))
	b.ctrl.OnFailover(fv.SetUp)
	authz, err := b.startAuthorizer(rctx, cfg, zc)
	if err != nil {
		return err
	}
	// The token cache is loaded before the listeners take logins, as KafkaServer starts the token manager first.
	b.tokens = dtoken.New(dtoken.ConfigFrom(cfg), zc, named("kafka.server.DelegationTokenManager"))
	if err := b.tokens.Start(); err != nil {
		return err
	}
	b.handlers = handler.New(handler.Config{
		BrokerID: b.brokerID, ClusterID: b.clusterID, Props: cfg, ZK: zc, Replicas: b.rm, Logger: named("kafka.server.KafkaApis"), Group: b.group,
		Seed: uint64(time.Now().UnixNano()), Controller: b.ctrl, DynConfig: b.dyn, ProducerIDs: producerIDs, Txn: b.txn,
		Loggers: b.loggers, Stats: b.stats, Quotas: b.quotas, Authorizer: authz, Features: fv, Tokens: b.tokens,
	})
	b.mux = kwire.NewMux()
	b.handlers.Register(b.mux)
	for _, l := range cfg.Listeners {
		if err := b.startListener(cfg, l, listenerTLSs[l.Name]); err != nil {
			return err
		}
	}

	if addr := cfg.Raw[serverprops.MetricsAddress]; addr != "" {
		if err := b.serveMetrics(addr); err != nil {
			return err
		}
	}

	info, err := b.brokerInfo()
	if err != nil {
		return err
	}
	epoch, err := zc.RegisterBroker(info)
	if err != nil {
		return err // names the broker already
	}
	b.rm.SetBrokerEpoch(epoch)
	b.epoch.Store(epoch)
	b.logger.Info("registered broker", "epoch", epoch, "endpoints", len(info.Endpoints))
	b.startBackground(rctx)
	b.rm.StartFetchers(rctx, replica.FetcherConfig{
		SendFor: b.api.fetcherSend, MaxWaitMs: cfg.ReplicaFetchWaitMaxMs, MinBytes: cfg.ReplicaFetchMinBytes,
		ResponseMaxBytes: cfg.ReplicaFetchResponseMaxBytes, PartitionMaxBytes: cfg.ReplicaFetchMaxBytes,
		Backoff:             time.Duration(cfg.ReplicaFetchBackoffMs) * time.Millisecond,
		LagTimeMax:          time.Duration(cfg.ReplicaLagTimeMaxMs) * time.Millisecond,
		AlterIsr:            b.alterIsr,
		TruncateOnFetch:     cfg.InterBrokerProtocolVersion.ID >= ibp27iv1.ID,
		NumFetchers:         cfg.NumReplicaFetchers,
		AlterLogDirsThreads: cfg.NumReplicaAlterLogDirsThreads,
	})
	if cfg.InterBrokerProtocolVersion.ID < ibp27iv2.ID {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.zkIsr.run(rctx)
		}()
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := b.dyn.Run(rctx); err != nil && rctx.Err() == nil {
			b.logger.Error("config change listener stopped", "err", err)
		}
	}()
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		if err := b.tokens.Watch(rctx); err != nil && rctx.Err() == nil {
			b.logger.Error("token change listener stopped", "err", err)
		}
	}()
	go func() {
		defer b.wg.Done()
		b.tokens.RunExpiry(rctx, func() bool { active, _ := b.ctrl.Active(); return active })
	}()
	b.wg.Add(3)
	go b.runGroupLoader(rctx)
	go func() {
		defer b.wg.Done()
		b.group.Run(rctx, 100*time.Millisecond, time.Now)
	}()
	go func() {
		defer b.wg.Done()
		b.txn.Run(rctx)
	}()
	// Every ZK-mode broker races for /controller; the winner drives all brokers (this one through b.api).
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := b.ctrl.Run(rctx); err != nil {
			b.logger.Error("controller stopped", "err", err)
		}
	}()
	b.started.Store(true)
	b.logger.Info("started", "cluster_id", b.clusterID)
	return nil
}

// finalizedFeatures puts the finalized features and their epoch in an ApiVersions answer (v3 carries them), as
// KafkaApis.handleApiVersionsRequest does when its feature cache holds some; the supported features stay empty.
func (b *Broker) finalizedFeatures(_ *kwire.RequestContext, resp *kmsg.ApiVersionsResponse) {
	fs, epoch, ok := b.features.Get()
	if !ok {
		return
	}
	resp.FinalizedFeaturesEpoch = epoch
	for _, n := range javahash.HashMapOrder(slices.Sorted(maps.Keys(fs))) {
		f := kmsg.NewApiVersionsResponseFinalizedFeature()
		f.Name, f.MinVersionLevel, f.MaxVersionLevel = n, fs[n].MinLevel, fs[n].MaxLevel
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, f)
	}
}

// Fatal reports an error that stops a Kafka broker (an incompatible finalized feature set): the caller closes the
// broker and exits with status 1, as Kafka's FatalExitError.
func (b *Broker) Fatal() <-chan error { return b.fatal }

// alterIsr delivers this broker's ISR changes to the controller: the one in this broker, or another broker's over
// the inter-broker listener.
func (b *Broker) alterIsr(ctx context.Context, req *kmsg.AlterPartitionRequest) (*kmsg.AlterPartitionResponse, error) {
	if b.cfg.InterBrokerProtocolVersion.ID < ibp27iv2.ID {
		return b.zkIsr.alter(req)
	}
	id := b.rm.Cache().ControllerID()
	if id == b.brokerID {
		return b.ctrl.AlterIsr(ctx, req)
	}
	if id < 0 {
		return nil, errors.New("no controller known")
	}
	resp, err := b.api.send(ctx, id, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.AlterPartitionResponse), nil
}

// resolveBrokerID is KafkaServer.getOrGenerateBrokerId: the configured id, else the one in meta.properties,
// else a generated one.
func (b *Broker) resolveBrokerID() (int32, error) {
	id := b.cfg.BrokerID
	stored := int32(-1)
	for _, d := range b.cfg.LogDirs {
		mp, ok, err := klog.ReadMetaProperties(filepath.Join(d, klog.MetaPropertiesFile))
		if err != nil {
			return -1, fmt.Errorf("read meta.properties in %s: %w", d, err)
		}
		if ok {
			stored = mp.BrokerID
			break
		}
	}
	switch {
	case id >= 0:
		return id, nil // OpenManager checks it against meta.properties
	case stored >= 0:
		return stored, nil
	case b.cfg.BrokerIDGenerationEnable:
		gen, err := b.zk.GenerateBrokerID(b.cfg.ReservedBrokerMaxID)
		if err != nil {
			return -1, fmt.Errorf("generate broker id: %w", err)
		}
		return gen, nil
	}
	return -1, errors.New("broker.id is -1, none is stored in meta.properties and broker.id.generation.enable is false")
}

// brokerInfo builds the /brokers/ids/<id> registration from the current advertised.listeners (a dynamic update
// may have changed them); an empty host is the canonical host name and port 0 the port actually bound, as Kafka
// does.
func (b *Broker) brokerInfo() (zkmeta.BrokerInfo, error) {
	info := zkmeta.BrokerInfo{ID: b.brokerID, Version: 4, JMXPort: -1, Timestamp: time.Now().UnixMilli(),
		Rack: b.cfg.Rack, Features: map[string]zkmeta.VersionRange{}}
	if b.cfg.InterBrokerProtocolVersion.ID >= ibp27.ID {
		info.Version = 5
	}
	for _, l := range b.dyn.Current().AdvertisedListeners {
		host, port := l.Host, l.Port
		if host == "" {
			h, err := os.Hostname()
			if err != nil {
				return info, fmt.Errorf("host name for %s: %w", l.Name, err)
			}
			host = h
		}
		if port == 0 {
			port = b.boundPort(l.Name)
		}
		info.Endpoints = append(info.Endpoints, zkmeta.EndPoint{Listener: l.Name, Host: host, Port: port, SecurityProtocol: l.SecurityProtocol})
	}
	return info, nil
}

// topicConfig is the topic's full config: broker defaults under the /config/topics/<t> overrides.
func (b *Broker) topicConfig(topic string) (map[string]string, error) {
	return b.dyn.TopicConfig(topic)
}

// startBackground runs the log manager's and replica manager's scheduled tasks and re-registers the broker when
// the ZooKeeper session is replaced.
func (b *Broker) startBackground(ctx context.Context) {
	every := func(name string, ms int64, f func(now time.Time) error) {
		// Long.MAX_VALUE (Kafka's "never") does not fit a Duration.
		if ms <= 0 || ms > int64(24*365*time.Hour/time.Millisecond) {
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			t := time.NewTicker(time.Duration(ms) * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case now := <-t.C:
					if err := f(now); err != nil {
						b.logger.Warn("background task failed", "task", name, "err", err)
					}
				}
			}
		}()
	}
	cfg := b.cfg
	every("highwatermark-checkpoint", min(cfg.ReplicaHighWatermarkCheckpointMs, cfg.LogFlushOffsetCheckpointIntervalMs),
		func(time.Time) error { return b.logs.Checkpoint() })
	every("kafka-log-retention", cfg.LogRetentionCheckIntervalMs, func(now time.Time) error {
		_, err := b.logs.EnforceRetention(now)
		return err
	})
	every("kafka-log-flusher", cfg.LogFlushSchedulerIntervalMs, b.logs.FlushDirty)
	every("PeriodicProducerExpirationCheck", klog.ProducerIDExpirationCheckIntervalMs, func(now time.Time) error {
		b.logs.RemoveExpiredProducers(now, int64(cfg.TransactionalIDExpirationMs))
		return nil
	})

	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		events := b.zk.SessionEvents()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				if ev.Kind != zkmeta.SessionNewSession {
					continue
				}
				info, err := b.brokerInfo()
				if err == nil {
					var epoch int64
					if epoch, err = b.zk.RegisterBroker(info); err == nil {
						b.rm.SetBrokerEpoch(epoch)
						b.epoch.Store(epoch)
						b.logger.Info("re-registered broker after session expiry", "epoch", epoch)
					}
				}
				if err != nil {
					b.logger.Error("re-registering broker failed", "err", err)
				}
			}
		}
	}()
}

// Close shuts the broker down as KafkaServer.shutdown: listeners, background tasks, replica manager, logs (final
// checkpoints and the clean-shutdown marker), then the ZooKeeper session (its ephemeral registration goes with it).
// A started broker first asks the controller to move leadership away (controlledShutdown).
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.controlledShutdown()
		b.closeMetrics()
		errs := []error{b.closeListeners()}
		if b.txn != nil {
			b.txn.Shutdown()
		}
		if b.group != nil {
			b.group.Shutdown()
		}
		if b.cancel != nil {
			b.cancel()
		}
		b.wg.Wait()
		if b.api != nil {
			b.api.close()
		}
		if b.rm != nil {
			b.rm.Close()
		}
		if b.logs != nil {
			if err := b.logs.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close logs: %w", err))
			}
		}
		if b.zk != nil {
			b.zk.Close()
		}
		if b.aclZK != nil {
			b.aclZK.Close()
		}
		b.closeErr = errors.Join(errs...)
		b.logger.Info("shut down", "err", b.closeErr)
	})
	return b.closeErr
}

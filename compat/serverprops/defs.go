package serverprops

// Type is a config value type. The numbers are DescribeConfigs' ConfigType ids (KIP-569), so a Type can be put
// on the wire as is.
type Type int8

// Config types.
const (
	TypeUnknown  Type = 0
	TypeBoolean  Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3
	TypeShort    Type = 4
	TypeLong     Type = 5
	TypeDouble   Type = 6
	TypeList     Type = 7
	TypeClass    Type = 8
	TypePassword Type = 9
)

func (t Type) String() string {
	switch t {
	case TypeBoolean:
		return "BOOLEAN"
	case TypeString:
		return "STRING"
	case TypeInt:
		return "INT"
	case TypeShort:
		return "SHORT"
	case TypeLong:
		return "LONG"
	case TypeDouble:
		return "DOUBLE"
	case TypeList:
		return "LIST"
	case TypeClass:
		return "CLASS"
	case TypePassword:
		return "PASSWORD"
	}
	return "UNKNOWN"
}

// def is one entry of a ConfigDef: name, type, default (nil means Java null) and validator.
type def struct {
	name     string
	typ      Type
	dflt     *string
	valid    validator
	internal bool // defineInternal: not listed by DescribeConfigs unless set
}

func d(name string, typ Type, dflt string, v validator) def {
	return def{name: name, typ: typ, dflt: &dflt, valid: v}
}

// dn defines a config whose default is null.
func dn(name string, typ Type, v validator) def {
	return def{name: name, typ: typ, valid: v}
}

func internal(x def) def { x.internal = true; return x }

// Broker config names used by the typed fields and the cross-field checks.
const (
	ZkConnect                       = "zookeeper.connect"
	ZkSessionTimeoutMs              = "zookeeper.session.timeout.ms"
	ZkConnectionTimeoutMs           = "zookeeper.connection.timeout.ms"
	ZkSyncTimeMs                    = "zookeeper.sync.time.ms"
	ZkSetACL                        = "zookeeper.set.acl"
	ZkMaxInFlightRequests           = "zookeeper.max.in.flight.requests"
	BrokerIDGenerationEnable        = "broker.id.generation.enable"
	ReservedBrokerMaxID             = "reserved.broker.max.id"
	BrokerIDProp                    = "broker.id"
	MessageMaxBytes                 = "message.max.bytes"
	NumNetworkThreads               = "num.network.threads"
	NumIoThreads                    = "num.io.threads"
	NumReplicaAlterLogDirsThreads   = "num.replica.alter.log.dirs.threads"
	BackgroundThreads               = "background.threads"
	QueuedMaxRequests               = "queued.max.requests"
	QueuedMaxRequestBytes           = "queued.max.request.bytes"
	RequestTimeoutMs                = "request.timeout.ms"
	ProcessRoles                    = "process.roles"
	NodeID                          = "node.id"
	AuthorizerClassName             = "authorizer.class.name"
	Port                            = "port"
	HostName                        = "host.name"
	ListenersProp                   = "listeners"
	AdvertisedHostName              = "advertised.host.name"
	AdvertisedPort                  = "advertised.port"
	AdvertisedListenersProp         = "advertised.listeners"
	ListenerSecurityProtocolMapProp = "listener.security.protocol.map"
	ControlPlaneListenerName        = "control.plane.listener.name"
	ControllerListenerNames         = "controller.listener.names"
	SocketSendBufferBytes           = "socket.send.buffer.bytes"
	SocketReceiveBufferBytes        = "socket.receive.buffer.bytes"
	SocketRequestMaxBytes           = "socket.request.max.bytes"
	MaxConnectionsPerIP             = "max.connections.per.ip"
	MaxConnectionsPerIPOverrides    = "max.connections.per.ip.overrides"
	MaxConnections                  = "max.connections"
	ConnectionsMaxIdleMs            = "connections.max.idle.ms"
	FailedAuthenticationDelayMs     = "connection.failed.authentication.delay.ms"
	BrokerRack                      = "broker.rack"
	NumPartitions                   = "num.partitions"
	LogDirProp                      = "log.dir"
	LogDirsProp                     = "log.dirs"
	LogSegmentBytes                 = "log.segment.bytes"
	LogRollMs                       = "log.roll.ms"
	LogRollHours                    = "log.roll.hours"
	LogRollJitterMs                 = "log.roll.jitter.ms"
	LogRollJitterHours              = "log.roll.jitter.hours"
	LogRetentionMs                  = "log.retention.ms"
	LogRetentionMinutes             = "log.retention.minutes"
	LogRetentionHours               = "log.retention.hours"
	LogRetentionBytes               = "log.retention.bytes"
	LogRetentionCheckIntervalMs     = "log.retention.check.interval.ms"
	LogCleanupPolicy                = "log.cleanup.policy"
	LogCleanerThreads               = "log.cleaner.threads"
	LogCleanerIoMaxBytesPerSecond   = "log.cleaner.io.max.bytes.per.second"
	LogCleanerDedupeBufferSize      = "log.cleaner.dedupe.buffer.size"
	LogCleanerIoBufferSize          = "log.cleaner.io.buffer.size"
	LogCleanerIoBufferLoadFactor    = "log.cleaner.io.buffer.load.factor"
	LogCleanerBackoffMs             = "log.cleaner.backoff.ms"
	LogCleanerMinCleanableRatio     = "log.cleaner.min.cleanable.ratio"
	LogCleanerEnable                = "log.cleaner.enable"
	LogCleanerDeleteRetentionMs     = "log.cleaner.delete.retention.ms"
	LogCleanerMinCompactionLagMs    = "log.cleaner.min.compaction.lag.ms"
	LogCleanerMaxCompactionLagMs    = "log.cleaner.max.compaction.lag.ms"
	LogIndexSizeMaxBytes            = "log.index.size.max.bytes"
	LogIndexIntervalBytes           = "log.index.interval.bytes"
	LogFlushIntervalMessages        = "log.flush.interval.messages"
	LogSegmentDeleteDelayMs         = "log.segment.delete.delay.ms"
	LogFlushSchedulerIntervalMs     = "log.flush.scheduler.interval.ms"
	LogFlushIntervalMs              = "log.flush.interval.ms"
	LogFlushOffsetCheckpointMs      = "log.flush.offset.checkpoint.interval.ms"
	LogFlushStartOffsetCheckpointMs = "log.flush.start.offset.checkpoint.interval.ms"
	LogPreallocate                  = "log.preallocate"
	NumRecoveryThreadsPerDataDir    = "num.recovery.threads.per.data.dir"
	AutoCreateTopicsEnable          = "auto.create.topics.enable"
	MinInsyncReplicas               = "min.insync.replicas"
	LogMessageFormatVersion         = "log.message.format.version"
	LogMessageTimestampType         = "log.message.timestamp.type"
	LogMessageTimestampDiffMaxMs    = "log.message.timestamp.difference.max.ms"
	LogMessageDownConversionEnable  = "log.message.downconversion.enable"
	DefaultReplicationFactor        = "default.replication.factor"
	ReplicaLagTimeMaxMs             = "replica.lag.time.max.ms"
	ReplicaSocketTimeoutMs          = "replica.socket.timeout.ms"
	ReplicaFetchMaxBytes            = "replica.fetch.max.bytes"
	ReplicaFetchWaitMaxMs           = "replica.fetch.wait.max.ms"
	ReplicaFetchMinBytes            = "replica.fetch.min.bytes"
	ReplicaFetchResponseMaxBytes    = "replica.fetch.response.max.bytes"
	ReplicaFetchBackoffMs           = "replica.fetch.backoff.ms"
	NumReplicaFetchers              = "num.replica.fetchers"
	ReplicaHighWatermarkCheckpoint  = "replica.high.watermark.checkpoint.interval.ms"
	ControllerSocketTimeoutMs       = "controller.socket.timeout.ms"
	AutoLeaderRebalanceEnable       = "auto.leader.rebalance.enable"
	LeaderImbalancePerBrokerPct     = "leader.imbalance.per.broker.percentage"
	LeaderImbalanceCheckIntervalSec = "leader.imbalance.check.interval.seconds"
	UncleanLeaderElectionEnable     = "unclean.leader.election.enable"
	InterBrokerSecurityProtocol     = "security.inter.broker.protocol"
	InterBrokerProtocolVersion      = "inter.broker.protocol.version"
	InterBrokerListenerNameProp     = "inter.broker.listener.name"
	ControlledShutdownMaxRetries    = "controlled.shutdown.max.retries"
	ControlledShutdownRetryBackoff  = "controlled.shutdown.retry.backoff.ms"
	ControlledShutdownEnable        = "controlled.shutdown.enable"
	GroupMinSessionTimeoutMs        = "group.min.session.timeout.ms"
	GroupMaxSessionTimeoutMs        = "group.max.session.timeout.ms"
	GroupInitialRebalanceDelayMs    = "group.initial.rebalance.delay.ms"
	GroupMaxSize                    = "group.max.size"
	OffsetMetadataMaxBytes          = "offset.metadata.max.bytes"
	OffsetsLoadBufferSize           = "offsets.load.buffer.size"
	OffsetsTopicReplicationFactor   = "offsets.topic.replication.factor"
	OffsetsTopicNumPartitions       = "offsets.topic.num.partitions"
	OffsetsTopicSegmentBytes        = "offsets.topic.segment.bytes"
	OffsetsTopicCompressionCodec    = "offsets.topic.compression.codec"
	OffsetsRetentionMinutes         = "offsets.retention.minutes"
	OffsetsRetentionCheckIntervalMs = "offsets.retention.check.interval.ms"
	OffsetsCommitTimeoutMs          = "offsets.commit.timeout.ms"
	OffsetsCommitRequiredAcks       = "offsets.commit.required.acks"
	DeleteTopicEnable               = "delete.topic.enable"
	CompressionType                 = "compression.type"
	TransactionalIDExpirationMs     = "transactional.id.expiration.ms"
	TransactionMaxTimeoutMs         = "transaction.max.timeout.ms"
	TransactionStateLogMinISR       = "transaction.state.log.min.isr"
	TransactionStateLogLoadBuffer   = "transaction.state.log.load.buffer.size"
	TransactionStateLogPartitions   = "transaction.state.log.num.partitions"
	TransactionStateLogSegmentBytes = "transaction.state.log.segment.bytes"
	TransactionStateLogReplication  = "transaction.state.log.replication.factor"
	TransactionAbortTimedOutMs      = "transaction.abort.timed.out.transaction.cleanup.interval.ms"
	TransactionRemoveExpiredMs      = "transaction.remove.expired.transaction.cleanup.interval.ms"
	MaxIncrementalFetchSessionSlots = "max.incremental.fetch.session.cache.slots"
	FetchMaxBytes                   = "fetch.max.bytes"
	MetricReporters                 = "metric.reporters"
	SaslMechanismInterBroker        = "sasl.mechanism.inter.broker.protocol"
	SaslEnabledMechanisms           = "sasl.enabled.mechanisms"
	ConnectionsMaxReauthMs          = "connections.max.reauth.ms"
	SaslKerberosServiceName         = "sasl.kerberos.service.name"
	// SaslKerberosPrincipalToLocalRules maps Kerberos principals to short names (KerberosShortNamer).
	SaslKerberosPrincipalToLocalRules = "sasl.kerberos.principal.to.local.rules"
)

// brokerDefs is KafkaConfig.configDef of Kafka 2.8, in definition order (ConfigDef.parse reports the first bad
// key in this order).
var brokerDefs = []def{
	// ZooKeeper
	dn(ZkConnect, TypeString, nil),
	d(ZkSessionTimeoutMs, TypeInt, "18000", nil),
	dn(ZkConnectionTimeoutMs, TypeInt, nil),
	d(ZkSyncTimeMs, TypeInt, "2000", nil),
	d(ZkSetACL, TypeBoolean, "false", nil),
	d(ZkMaxInFlightRequests, TypeInt, "10", atLeast(1)),
	d("zookeeper.ssl.client.enable", TypeBoolean, "false", nil),
	dn("zookeeper.clientCnxnSocket", TypeString, nil),
	dn("zookeeper.ssl.keystore.location", TypeString, nil),
	dn("zookeeper.ssl.keystore.password", TypePassword, nil),
	dn("zookeeper.ssl.keystore.type", TypeString, nil),
	dn("zookeeper.ssl.truststore.location", TypeString, nil),
	dn("zookeeper.ssl.truststore.password", TypePassword, nil),
	dn("zookeeper.ssl.truststore.type", TypeString, nil),
	d("zookeeper.ssl.protocol", TypeString, "TLSv1.2", nil),
	dn("zookeeper.ssl.enabled.protocols", TypeList, nil),
	dn("zookeeper.ssl.cipher.suites", TypeList, nil),
	d("zookeeper.ssl.endpoint.identification.algorithm", TypeString, "HTTPS", nil),
	d("zookeeper.ssl.crl.enable", TypeBoolean, "false", nil),
	d("zookeeper.ssl.ocsp.enable", TypeBoolean, "false", nil),

	// General
	d(BrokerIDGenerationEnable, TypeBoolean, "true", nil),
	d(ReservedBrokerMaxID, TypeInt, "1000", atLeast(0)),
	d(BrokerIDProp, TypeInt, "-1", nil),
	d(MessageMaxBytes, TypeInt, "1048588", atLeast(0)),
	d(NumNetworkThreads, TypeInt, "3", atLeast(1)),
	d(NumIoThreads, TypeInt, "8", atLeast(1)),
	dn(NumReplicaAlterLogDirsThreads, TypeInt, nil),
	d(BackgroundThreads, TypeInt, "10", atLeast(1)),
	d(QueuedMaxRequests, TypeInt, "500", atLeast(1)),
	d(QueuedMaxRequestBytes, TypeLong, "-1", nil),
	d(RequestTimeoutMs, TypeInt, "30000", nil),
	d("socket.connection.setup.timeout.ms", TypeLong, "10000", nil),
	d("socket.connection.setup.timeout.max.ms", TypeLong, "30000", nil),

	// KRaft (internal in 2.8)
	internal(d(ProcessRoles, TypeList, "", validList("broker", "controller"))),
	internal(d(NodeID, TypeInt, "-1", nil)),
	internal(d("initial.broker.registration.timeout.ms", TypeInt, "60000", nil)),
	internal(d("broker.heartbeat.interval.ms", TypeInt, "2000", nil)),
	internal(d("broker.session.timeout.ms", TypeInt, "9000", nil)),
	internal(dn("metadata.log.dir", TypeString, nil)),
	internal(dn(ControllerListenerNames, TypeString, nil)),
	internal(d("sasl.mechanism.controller.protocol", TypeString, "GSSAPI", nil)),

	// Authorizer
	d(AuthorizerClassName, TypeString, "", nil),

	// Socket server
	d(Port, TypeInt, "9092", nil),
	d(HostName, TypeString, "", nil),
	dn(ListenersProp, TypeString, nil),
	dn(AdvertisedHostName, TypeString, nil),
	dn(AdvertisedPort, TypeInt, nil),
	dn(AdvertisedListenersProp, TypeString, nil),
	d(ListenerSecurityProtocolMapProp, TypeString, DefaultListenerSecurityProtocolMap, nil),
	dn(ControlPlaneListenerName, TypeString, nil),
	d(SocketSendBufferBytes, TypeInt, "102400", nil),
	d(SocketReceiveBufferBytes, TypeInt, "102400", nil),
	d(SocketRequestMaxBytes, TypeInt, "104857600", atLeast(1)),
	d(MaxConnectionsPerIP, TypeInt, "2147483647", atLeast(0)),
	d(MaxConnectionsPerIPOverrides, TypeString, "", nil),
	d(MaxConnections, TypeInt, "2147483647", atLeast(0)),
	d("max.connection.creation.rate", TypeInt, "2147483647", atLeast(0)),
	d(ConnectionsMaxIdleMs, TypeLong, "600000", nil),
	d(FailedAuthenticationDelayMs, TypeInt, "100", atLeast(0)),

	// Rack
	dn(BrokerRack, TypeString, nil),

	// Log
	d(NumPartitions, TypeInt, "1", atLeast(1)),
	d(LogDirProp, TypeString, "/tmp/kafka-logs", nil),
	dn(LogDirsProp, TypeString, nil),
	d(LogSegmentBytes, TypeInt, "1073741824", atLeast(14)), // LegacyRecord.RECORD_OVERHEAD_V0
	dn(LogRollMs, TypeLong, nil),
	d(LogRollHours, TypeInt, "168", atLeast(1)),
	dn(LogRollJitterMs, TypeLong, nil),
	d(LogRollJitterHours, TypeInt, "0", atLeast(0)),
	dn(LogRetentionMs, TypeLong, nil),
	dn(LogRetentionMinutes, TypeInt, nil),
	d(LogRetentionHours, TypeInt, "168", nil),
	d(LogRetentionBytes, TypeLong, "-1", nil),
	d(LogRetentionCheckIntervalMs, TypeLong, "300000", atLeast(1)),
	d(LogCleanupPolicy, TypeList, "delete", validList("compact", "delete")),
	d(LogCleanerThreads, TypeInt, "1", atLeast(0)),
	d(LogCleanerIoMaxBytesPerSecond, TypeDouble, "1.7976931348623157E308", nil),
	d(LogCleanerDedupeBufferSize, TypeLong, "134217728", nil),
	d(LogCleanerIoBufferSize, TypeInt, "524288", atLeast(0)),
	d(LogCleanerIoBufferLoadFactor, TypeDouble, "0.9", nil),
	d(LogCleanerBackoffMs, TypeLong, "15000", atLeast(0)),
	d(LogCleanerMinCleanableRatio, TypeDouble, "0.5", nil),
	d(LogCleanerEnable, TypeBoolean, "true", nil),
	d(LogCleanerDeleteRetentionMs, TypeLong, "86400000", nil),
	d(LogCleanerMinCompactionLagMs, TypeLong, "0", nil),
	d(LogCleanerMaxCompactionLagMs, TypeLong, "9223372036854775807", nil),
	d(LogIndexSizeMaxBytes, TypeInt, "10485760", atLeast(4)),
	d(LogIndexIntervalBytes, TypeInt, "4096", atLeast(0)),
	d(LogFlushIntervalMessages, TypeLong, "9223372036854775807", atLeast(1)),
	d(LogSegmentDeleteDelayMs, TypeLong, "60000", atLeast(0)),
	d(LogFlushSchedulerIntervalMs, TypeLong, "9223372036854775807", nil),
	dn(LogFlushIntervalMs, TypeLong, nil),
	d(LogFlushOffsetCheckpointMs, TypeInt, "60000", atLeast(0)),
	d(LogFlushStartOffsetCheckpointMs, TypeInt, "60000", atLeast(0)),
	d(LogPreallocate, TypeBoolean, "false", nil),
	d(NumRecoveryThreadsPerDataDir, TypeInt, "1", atLeast(1)),
	d(AutoCreateTopicsEnable, TypeBoolean, "true", nil),
	d(MinInsyncReplicas, TypeInt, "1", atLeast(1)),
	d(LogMessageFormatVersion, TypeString, LatestAPIVersion, apiVersionValidator{}),
	d(LogMessageTimestampType, TypeString, "CreateTime", validString("CreateTime", "LogAppendTime")),
	d(LogMessageTimestampDiffMaxMs, TypeLong, "9223372036854775807", nil),
	dn("create.topic.policy.class.name", TypeClass, nil),
	dn("alter.config.policy.class.name", TypeClass, nil),
	d(LogMessageDownConversionEnable, TypeBoolean, "true", nil),

	// Replication
	d(ControllerSocketTimeoutMs, TypeInt, "30000", nil),
	d(DefaultReplicationFactor, TypeInt, "1", nil),
	d(ReplicaLagTimeMaxMs, TypeLong, "30000", nil),
	d(ReplicaSocketTimeoutMs, TypeInt, "30000", nil),
	d("replica.socket.receive.buffer.bytes", TypeInt, "65536", nil),
	d(ReplicaFetchMaxBytes, TypeInt, "1048576", atLeast(0)),
	d(ReplicaFetchWaitMaxMs, TypeInt, "500", nil),
	d(ReplicaFetchBackoffMs, TypeInt, "1000", atLeast(0)),
	d(ReplicaFetchMinBytes, TypeInt, "1", nil),
	d(ReplicaFetchResponseMaxBytes, TypeInt, "10485760", atLeast(0)),
	d(NumReplicaFetchers, TypeInt, "1", nil),
	d(ReplicaHighWatermarkCheckpoint, TypeLong, "5000", nil),
	d("fetch.purgatory.purge.interval.requests", TypeInt, "1000", nil),
	d("producer.purgatory.purge.interval.requests", TypeInt, "1000", nil),
	d("delete.records.purgatory.purge.interval.requests", TypeInt, "1", nil),
	d(AutoLeaderRebalanceEnable, TypeBoolean, "true", nil),
	d(LeaderImbalancePerBrokerPct, TypeInt, "10", nil),
	d(LeaderImbalanceCheckIntervalSec, TypeLong, "300", nil),
	d(UncleanLeaderElectionEnable, TypeBoolean, "false", nil),
	d(InterBrokerSecurityProtocol, TypeString, "PLAINTEXT", nil),
	d(InterBrokerProtocolVersion, TypeString, LatestAPIVersion, apiVersionValidator{}),
	dn(InterBrokerListenerNameProp, TypeString, nil),
	dn("replica.selector.class", TypeString, nil),

	// Controlled shutdown
	d(ControlledShutdownMaxRetries, TypeInt, "3", nil),
	d(ControlledShutdownRetryBackoff, TypeLong, "5000", nil),
	d(ControlledShutdownEnable, TypeBoolean, "true", nil),

	// Group coordinator
	d(GroupMinSessionTimeoutMs, TypeInt, "6000", nil),
	d(GroupMaxSessionTimeoutMs, TypeInt, "1800000", nil),
	d(GroupInitialRebalanceDelayMs, TypeInt, "3000", nil),
	d(GroupMaxSize, TypeInt, "2147483647", atLeast(1)),

	// Offset management
	d(OffsetMetadataMaxBytes, TypeInt, "4096", nil),
	d(OffsetsLoadBufferSize, TypeInt, "5242880", atLeast(1)),
	d(OffsetsTopicReplicationFactor, TypeShort, "3", atLeast(1)),
	d(OffsetsTopicNumPartitions, TypeInt, "50", atLeast(1)),
	d(OffsetsTopicSegmentBytes, TypeInt, "104857600", atLeast(1)),
	d(OffsetsTopicCompressionCodec, TypeInt, "0", nil),
	d(OffsetsRetentionMinutes, TypeInt, "10080", atLeast(1)),
	d(OffsetsRetentionCheckIntervalMs, TypeLong, "600000", atLeast(1)),
	d(OffsetsCommitTimeoutMs, TypeInt, "5000", atLeast(1)),
	d(OffsetsCommitRequiredAcks, TypeShort, "-1", nil),
	d(DeleteTopicEnable, TypeBoolean, "true", nil),
	d(CompressionType, TypeString, "producer", nil),

	// Transactions
	d(TransactionalIDExpirationMs, TypeInt, "604800000", atLeast(1)),
	d(TransactionMaxTimeoutMs, TypeInt, "900000", atLeast(1)),
	d(TransactionStateLogMinISR, TypeInt, "2", atLeast(1)),
	d(TransactionStateLogLoadBuffer, TypeInt, "5242880", atLeast(1)),
	d(TransactionStateLogReplication, TypeShort, "3", atLeast(1)),
	d(TransactionStateLogPartitions, TypeInt, "50", atLeast(1)),
	d(TransactionStateLogSegmentBytes, TypeInt, "104857600", atLeast(1)),
	d(TransactionAbortTimedOutMs, TypeInt, "10000", atLeast(1)),
	d(TransactionRemoveExpiredMs, TypeInt, "3600000", atLeast(1)),

	// Fetch
	d(MaxIncrementalFetchSessionSlots, TypeInt, "1000", atLeast(0)),
	d(FetchMaxBytes, TypeInt, "57671680", atLeast(1024)),

	// Metrics
	d("metrics.num.samples", TypeInt, "2", atLeast(1)),
	d("metrics.sample.window.ms", TypeLong, "30000", atLeast(1)),
	d(MetricReporters, TypeList, "", nil),
	d("metrics.recording.level", TypeString, "INFO", nil),
	d("kafka.metrics.reporters", TypeList, "", nil),
	d("kafka.metrics.polling.interval.secs", TypeInt, "10", atLeast(1)),

	// Quotas
	d("quota.producer.default", TypeLong, "9223372036854775807", atLeast(1)),
	d("quota.consumer.default", TypeLong, "9223372036854775807", atLeast(1)),
	d("quota.window.num", TypeInt, "11", atLeast(1)),
	d("replication.quota.window.num", TypeInt, "11", atLeast(1)),
	d("alter.log.dirs.replication.quota.window.num", TypeInt, "11", atLeast(1)),
	d("controller.quota.window.num", TypeInt, "11", atLeast(1)),
	d("quota.window.size.seconds", TypeInt, "1", atLeast(1)),
	d("replication.quota.window.size.seconds", TypeInt, "1", atLeast(1)),
	d("alter.log.dirs.replication.quota.window.size.seconds", TypeInt, "1", atLeast(1)),
	d("controller.quota.window.size.seconds", TypeInt, "1", atLeast(1)),
	dn("client.quota.callback.class", TypeClass, nil),

	// General security
	d(ConnectionsMaxReauthMs, TypeLong, "0", nil),
	d("sasl.server.max.receive.size", TypeInt, "524288", nil),
	dn("security.providers", TypeString, nil),

	// SSL (defaults as on a Java 11+ JVM: TLSv1.3 available, SunX509 and PKIX factories)
	dn("principal.builder.class", TypeClass, nil),
	d("ssl.protocol", TypeString, "TLSv1.3", nil),
	dn("ssl.provider", TypeString, nil),
	d("ssl.enabled.protocols", TypeList, "TLSv1.2,TLSv1.3", nil),
	d("ssl.keystore.type", TypeString, "JKS", nil),
	dn("ssl.keystore.location", TypeString, nil),
	dn("ssl.keystore.password", TypePassword, nil),
	dn("ssl.key.password", TypePassword, nil),
	dn("ssl.keystore.key", TypePassword, nil),
	dn("ssl.keystore.certificate.chain", TypePassword, nil),
	d("ssl.truststore.type", TypeString, "JKS", nil),
	dn("ssl.truststore.location", TypeString, nil),
	dn("ssl.truststore.password", TypePassword, nil),
	dn("ssl.truststore.certificates", TypePassword, nil),
	d("ssl.keymanager.algorithm", TypeString, "SunX509", nil),
	d("ssl.trustmanager.algorithm", TypeString, "PKIX", nil),
	d("ssl.endpoint.identification.algorithm", TypeString, "https", nil),
	dn("ssl.secure.random.implementation", TypeString, nil),
	d("ssl.client.auth", TypeString, "none", validString("required", "requested", "none")),
	d("ssl.cipher.suites", TypeList, "", nil),
	d("ssl.principal.mapping.rules", TypeString, "DEFAULT", nil),
	dn("ssl.engine.factory.class", TypeClass, nil),

	// SASL
	d(SaslMechanismInterBroker, TypeString, "GSSAPI", nil),
	dn("sasl.jaas.config", TypePassword, nil),
	d(SaslEnabledMechanisms, TypeList, "GSSAPI", nil),
	dn("sasl.server.callback.handler.class", TypeClass, nil),
	dn("sasl.client.callback.handler.class", TypeClass, nil),
	dn("sasl.login.class", TypeClass, nil),
	dn("sasl.login.callback.handler.class", TypeClass, nil),
	dn(SaslKerberosServiceName, TypeString, nil),
	d("sasl.kerberos.kinit.cmd", TypeString, "/usr/bin/kinit", nil),
	d("sasl.kerberos.ticket.renew.window.factor", TypeDouble, "0.8", nil),
	d("sasl.kerberos.ticket.renew.jitter", TypeDouble, "0.05", nil),
	d("sasl.kerberos.min.time.before.relogin", TypeLong, "60000", nil),
	d(SaslKerberosPrincipalToLocalRules, TypeList, "DEFAULT", nil),
	d("sasl.login.refresh.window.factor", TypeDouble, "0.8", nil),
	d("sasl.login.refresh.window.jitter", TypeDouble, "0.05", nil),
	d("sasl.login.refresh.min.period.seconds", TypeShort, "60", nil),
	d("sasl.login.refresh.buffer.seconds", TypeShort, "300", nil),

	// Delegation tokens
	dn("delegation.token.master.key", TypePassword, nil),
	dn("delegation.token.secret.key", TypePassword, nil),
	d("delegation.token.max.lifetime.ms", TypeLong, "604800000", atLeast(1)),
	d("delegation.token.expiry.time.ms", TypeLong, "86400000", atLeast(1)),
	d("delegation.token.expiry.check.interval.ms", TypeLong, "3600000", atLeast(1)),

	// Password encoder for dynamic configs
	dn("password.encoder.secret", TypePassword, nil),
	dn("password.encoder.old.secret", TypePassword, nil),
	dn("password.encoder.keyfactory.algorithm", TypeString, nil),
	d("password.encoder.cipher.algorithm", TypeString, "AES/CBC/PKCS5Padding", nil),
	d("password.encoder.key.length", TypeInt, "128", atLeast(8)),
	d("password.encoder.iterations", TypeInt, "4096", atLeast(1024)),

	// Raft quorum (internal in 2.8)
	internal(d("controller.quorum.voters", TypeList, "", nil)),
	internal(d("controller.quorum.election.timeout.ms", TypeInt, "1000", nil)),
	internal(d("controller.quorum.fetch.timeout.ms", TypeInt, "2000", nil)),
	internal(d("controller.quorum.election.backoff.max.ms", TypeInt, "1000", nil)),
	internal(d("controller.quorum.append.linger.ms", TypeInt, "25", nil)),
	internal(d("controller.quorum.request.timeout.ms", TypeInt, "2000", nil)),
	internal(d("controller.quorum.retry.backoff.ms", TypeInt, "20", nil)),
}

// DefaultListenerSecurityProtocolMap is listener.security.protocol.map's default: every security protocol is
// also a listener name.
const DefaultListenerSecurityProtocolMap = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"

var brokerDefIndex = indexDefs(brokerDefs)

func indexDefs(defs []def) map[string]*def {
	m := make(map[string]*def, len(defs))
	for i := range defs {
		if _, dup := m[defs[i].name]; dup {
			panic("serverprops: config " + defs[i].name + " is defined twice")
		}
		m[defs[i].name] = &defs[i]
	}
	return m
}

// MetricsAddress is zkafka's own key: the host:port where the broker serves its metrics in Prometheus' text format
// at /metrics (Kafka reports them over JMX); empty (the default) serves none.
const MetricsAddress = "zkafka.metrics.address"

// zkafkaKeys are the keys zkafka adds; DescribeConfigs does not list them, as Kafka knows none of them.
var zkafkaKeys = map[string]bool{MetricsAddress: true}

// pluginKeys are read by pluggable classes that Kafka ships (AclAuthorizer), not by KafkaConfig; they are
// expected in server.properties, so no unknown-key warning is given for them.
var pluginKeys = func() map[string]bool {
	m := map[string]bool{
		"super.users":                                 true,
		"allow.everyone.if.no.acl.found":              true,
		"authorizer.zookeeper.url":                    true,
		"authorizer.zookeeper.connection.timeout.ms":  true,
		"authorizer.zookeeper.session.timeout.ms":     true,
		"authorizer.zookeeper.max.in.flight.requests": true,
	}
	// AclAuthorizer's overlays of its own ZooKeeper client's TLS: authorizer.zookeeper.ssl.* and the socket class.
	for k := range zkTLSSystemProperty {
		m[authorizerPrefix+k] = true
	}
	return m
}()

// dynamicConfigs is DynamicBrokerConfig.AllDynamicConfigs of Kafka 2.8: the broker configs that can be
// updated through AlterConfigs and so are not read-only in DescribeConfigs.
var dynamicConfigs = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		// SslConfigs.RECONFIGURABLE_CONFIGS
		"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
		"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.password",
		"ssl.keystore.certificate.chain", "ssl.keystore.key", "ssl.truststore.certificates",
		// LogCleaner.ReconfigurableConfigs
		LogCleanerThreads, LogCleanerDedupeBufferSize, LogCleanerIoBufferLoadFactor, LogCleanerIoBufferSize,
		MessageMaxBytes, LogCleanerIoMaxBytesPerSecond, LogCleanerBackoffMs,
		// DynamicThreadPool.ReconfigurableConfigs
		NumIoThreads, NumNetworkThreads, NumReplicaFetchers, NumRecoveryThreadsPerDataDir, BackgroundThreads,
		MetricReporters,
		// DynamicListenerConfig.ReconfigurableConfigs
		AdvertisedListenersProp, ListenersProp, ListenerSecurityProtocolMapProp,
		"principal.builder.class", "ssl.protocol", "ssl.provider", "ssl.cipher.suites", "ssl.enabled.protocols",
		"ssl.keymanager.algorithm", "ssl.trustmanager.algorithm", "ssl.endpoint.identification.algorithm",
		"ssl.secure.random.implementation", "ssl.client.auth", "ssl.engine.factory.class",
		SaslMechanismInterBroker, "sasl.jaas.config", SaslEnabledMechanisms, "sasl.kerberos.service.name",
		"sasl.kerberos.kinit.cmd", "sasl.kerberos.ticket.renew.window.factor", "sasl.kerberos.ticket.renew.jitter",
		"sasl.kerberos.min.time.before.relogin", "sasl.kerberos.principal.to.local.rules",
		"sasl.login.refresh.window.factor", "sasl.login.refresh.window.jitter",
		"sasl.login.refresh.min.period.seconds", "sasl.login.refresh.buffer.seconds",
		MaxConnections, "max.connection.creation.rate",
		// SocketServer.ReconfigurableConfigs
		MaxConnectionsPerIP, MaxConnectionsPerIPOverrides,
	} {
		m[n] = true
	}
	// DynamicLogConfig.ReconfigurableConfigs: every broker synonym of a topic config but the message format.
	for _, s := range topicSynonyms {
		if s.broker != LogMessageFormatVersion {
			m[s.broker] = true
		}
	}
	return m
}()

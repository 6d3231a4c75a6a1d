// Package serverprops loads a Kafka 2.8 broker's server.properties: Kafka's key names, types, defaults and
// validation (KafkaConfig, LogConfig and the ConfigDef they are built on), the synonyms between broker and
// topic configs, topic-config validation and the data DescribeConfigs reports.
package serverprops

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"

	"github.com/zkafka/zkafka/compat/zoocfg"
)

// Config is a validated broker configuration. Typed fields hold what the broker reads; every other config is
// reachable through Int, Long, Short, Double, Bool, String and List by its Kafka name.
type Config struct {
	BrokerID                 int32 // -1: generate one from ZooKeeper
	BrokerIDGenerationEnable bool
	ReservedBrokerMaxID      int32
	Rack                     string

	Listeners                   []Listener
	AdvertisedListeners         []Listener
	ListenerSecurityProtocolMap map[string]string // listener name -> security protocol
	InterBrokerListenerName     string
	InterBrokerSecurityProtocol string
	ControlPlaneListenerName    string // "" when unset
	InterBrokerProtocolVersion  APIVersion

	LogDirs                      []string
	ZookeeperConnect             string
	ZookeeperSessionTimeoutMs    int32
	ZookeeperConnectionTimeoutMs int32 // defaults to the session timeout
	ZookeeperSetACL              bool
	ZookeeperMaxInFlightRequests int32

	NumPartitions            int32
	DefaultReplicationFactor int32
	AutoCreateTopicsEnable   bool
	DeleteTopicEnable        bool
	MinInsyncReplicas        int32
	UncleanLeaderElection    bool
	CompressionType          string

	OffsetsTopicPartitions          int32
	OffsetsTopicReplicationFactor   int16
	OffsetsTopicSegmentBytes        int32
	OffsetsTopicCompressionCodec    int32
	OffsetsRetentionMinutes         int32
	OffsetsRetentionCheckIntervalMs int64
	OffsetsCommitTimeoutMs          int32
	OffsetsCommitRequiredAcks       int16
	OffsetsLoadBufferSize           int32
	OffsetMetadataMaxBytes          int32

	TransactionStateLogPartitions         int32
	TransactionStateLogReplicationFactor  int16
	TransactionStateLogSegmentBytes       int32
	TransactionStateLogMinISR             int32
	TransactionStateLogLoadBufferSize     int32
	TransactionMaxTimeoutMs               int32
	TransactionalIDExpirationMs           int32
	TransactionAbortTimedOutIntervalMs    int32
	TransactionRemoveExpiredIntervalMs    int32
	MaxIncrementalFetchSessionCacheSlots  int32
	FetchMaxBytes                         int32
	GroupMinSessionTimeoutMs              int32
	GroupMaxSessionTimeoutMs              int32
	GroupInitialRebalanceDelayMs          int32
	GroupMaxSize                          int32
	ReplicaLagTimeMaxMs                   int64
	ReplicaFetchWaitMaxMs                 int32
	ReplicaFetchMinBytes                  int32
	ReplicaFetchMaxBytes                  int32
	ReplicaFetchResponseMaxBytes          int32
	ReplicaFetchBackoffMs                 int32
	ReplicaSocketTimeoutMs                int32
	ReplicaHighWatermarkCheckpointMs      int64
	NumReplicaFetchers                    int32
	ControllerSocketTimeoutMs             int32
	AutoLeaderRebalanceEnable             bool
	LeaderImbalancePerBrokerPercentage    int32
	LeaderImbalanceCheckIntervalSeconds   int64
	ControlledShutdownEnable              bool
	ControlledShutdownMaxRetries          int32
	ControlledShutdownRetryBackoffMs      int64
	MessageMaxBytes                       int32
	SocketRequestMaxBytes                 int32
	SocketSendBufferBytes                 int32
	SocketReceiveBufferBytes              int32
	QueuedMaxRequests                     int32
	QueuedMaxRequestBytes                 int64
	RequestTimeoutMs                      int32
	ConnectionsMaxIdleMs                  int64
	MaxConnections                        int32
	MaxConnectionsPerIP                   int32
	MaxConnectionsPerIPOverrides          map[string]int32
	FailedAuthenticationDelayMs           int32
	NumNetworkThreads                     int32 // hints: goroutines are not pooled the way Kafka's threads are
	NumIoThreads                          int32
	BackgroundThreads                     int32
	NumRecoveryThreadsPerDataDir          int32
	NumReplicaAlterLogDirsThreads         int32 // defaults to len(LogDirs)
	AuthorizerClassName                   string
	SaslEnabledMechanisms                 []string
	SaslMechanismInterBrokerProtocol      string
	LogMessageFormatVersion               APIVersion
	LogMessageTimestampType               string // CreateTime or LogAppendTime
	LogMessageTimestampDifferenceMaxMs    int64
	LogMessageDownConversionEnable        bool
	LogSegmentBytes                       int32
	LogRollMs                             int64 // log.roll.ms, else log.roll.hours
	LogRollJitterMs                       int64 // log.roll.jitter.ms, else log.roll.jitter.hours
	LogRetentionMs                        int64 // log.retention.ms > minutes > hours; any negative is -1
	LogRetentionBytes                     int64
	LogRetentionCheckIntervalMs           int64
	LogCleanupPolicy                      []string
	LogCleanerEnable                      bool
	LogCleanerThreads                     int32
	LogCleanerDedupeBufferSize            int64
	LogCleanerIoBufferSize                int32
	LogCleanerIoBufferLoadFactor          float64
	LogCleanerIoMaxBytesPerSecond         float64
	LogCleanerBackoffMs                   int64
	LogCleanerMinCleanableRatio           float64
	LogCleanerDeleteRetentionMs           int64
	LogCleanerMinCompactionLagMs          int64
	LogCleanerMaxCompactionLagMs          int64
	LogFlushIntervalMessages              int64
	LogFlushIntervalMs                    int64 // log.flush.interval.ms, else log.flush.scheduler.interval.ms
	LogFlushSchedulerIntervalMs           int64
	LogFlushOffsetCheckpointIntervalMs    int64
	LogFlushStartOffsetCheckpointInterval int64
	LogSegmentDeleteDelayMs               int64
	LogIndexIntervalBytes                 int32
	LogIndexSizeMaxBytes                  int32
	LogPreallocate                        bool

	// Raw holds every resulting value as a string: the given keys as given, every defined config as Kafka
	// renders its parsed value (lists joined with ","). Null values are absent. Passwords are in clear.
	Raw map[string]string
	// Unknown lists the given keys that no Kafka 2.8 broker config defines (sorted); each was warned about.
	Unknown []string

	vals       map[string]any    // parsed value of every defined config (nil for null)
	static     map[string]string // server.properties plus --override (Kafka's originals)
	dynDefault map[string]string // dynamic cluster-wide defaults (/config/brokers/<default>)
	dynBroker  map[string]string // dynamic per-broker configs (/config/brokers/<id>)
	logger     *slog.Logger
}

// Load reads server.properties at path and applies overrides ("k=v" as given to --override; they win over the
// file, as in kafka.Kafka.getPropsFromArgs).
func Load(path string, overrides []string, logger *slog.Logger) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	c, err := Read(f, overrides, logger)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return c, nil
}

// Read is Load for an open properties stream.
func Read(r io.Reader, overrides []string, logger *slog.Logger) (*Config, error) {
	props, err := zoocfg.ParseProperties(r)
	if err != nil {
		return nil, err
	}
	return FromProperties(props, overrides, logger)
}

// FromProperties builds a Config from parsed properties (the last of duplicate keys wins, as in
// java.util.Properties) and --override arguments.
func FromProperties(props []zoocfg.Property, overrides []string, logger *slog.Logger) (*Config, error) {
	m := make(map[string]string, len(props))
	for _, p := range props {
		m[p.Key] = p.Value
	}
	return FromMap(m, overrides, logger)
}

// FromMap builds a Config from a key/value map and --override arguments.
func FromMap(props map[string]string, overrides []string, logger *slog.Logger) (*Config, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	static := maps.Clone(props)
	if static == nil {
		static = map[string]string{}
	}
	for _, o := range overrides {
		// CommandLineUtils.parseKeyValueArgs: split at the first '='; a missing value means "".
		k, v, _ := strings.Cut(o, "=")
		static[k] = v
	}
	c, err := build(static, nil, nil, logger)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(static)) {
		if knownKey(k) {
			continue
		}
		c.Unknown = append(c.Unknown, k)
		logger.Warn("unknown broker config, ignored", "key", k, "value", loggable(k, static[k]))
	}
	return c, nil
}

// knownKey reports whether a key is a broker config, a per-listener override of one, or read by a plugin.
func knownKey(k string) bool {
	if _, ok := brokerDefIndex[k]; ok {
		return true
	}
	if pluginKeys[k] || zkafkaKeys[k] {
		return true
	}
	return strings.HasPrefix(k, "listener.name.")
}

// loggable hides values that may be secrets (KafkaConfig.loggableValue: unknown types count as sensitive).
func loggable(k, v string) string {
	if sensitive(brokerConfigType(k)) {
		return "[hidden]"
	}
	return v
}

// WithDynamic returns the configuration with dynamic broker configs from ZooKeeper applied over the static
// ones: per-broker (/config/brokers/<id>) over cluster defaults (/config/brokers/<default>) over
// server.properties. As DynamicBrokerConfig.fromPersistentProps, it drops with a warning the broker configs that
// cannot be updated dynamically, SSL store configs without a listener prefix and, at the default level, the
// per-broker-only ones; everything else stays, custom keys and the replication throttle rates included (Kafka
// keeps them and DescribeConfigs lists them). Passwords must already be decoded.
func (c *Config) WithDynamic(perBroker, clusterDefault map[string]string) (*Config, error) {
	keep := func(src map[string]string, what string, perBrokerLevel bool) map[string]string {
		out := map[string]string{}
		for _, k := range slices.Sorted(maps.Keys(src)) {
			switch {
			case brokerDefIndex[k] != nil && !dynamicConfigs[k]:
				c.logger.Warn("non-dynamic broker config in ZooKeeper ignored", "source", what, "key", k)
			case sslReconfigurable[k]:
				c.logger.Warn("security config in ZooKeeper without a listener prefix ignored", "source", what, "key", k)
			case !perBrokerLevel && PerBrokerOnly(k):
				c.logger.Warn("per-broker config at the default cluster level ignored", "source", what, "key", k)
			default:
				out[k] = src[k]
			}
		}
		return out
	}
	nc, err := build(c.static, keep(clusterDefault, "cluster default", false), keep(perBroker, "broker", true), c.logger)
	if err != nil {
		return nil, fmt.Errorf("dynamic broker configs: %w", err)
	}
	nc.Unknown = c.Unknown
	return nc, nil
}

// sslReconfigurable is SslConfigs.RECONFIGURABLE_CONFIGS (DynamicSecurityConfigs): dynamic only per listener.
var sslReconfigurable = map[string]bool{
	"ssl.keystore.type": true, "ssl.keystore.location": true, "ssl.keystore.password": true, "ssl.key.password": true,
	"ssl.truststore.type": true, "ssl.truststore.location": true, "ssl.truststore.password": true,
	"ssl.keystore.certificate.chain": true, "ssl.keystore.key": true, "ssl.truststore.certificates": true,
}

// listenerReconfigurable is DynamicListenerConfig.ReconfigurableConfigs of Kafka 2.8.
var listenerReconfigurable = map[string]bool{
	AdvertisedListenersProp: true, ListenersProp: true, ListenerSecurityProtocolMapProp: true,
	"principal.builder.class": true, "ssl.protocol": true, "ssl.provider": true, "ssl.cipher.suites": true,
	"ssl.enabled.protocols": true, "ssl.keymanager.algorithm": true, "ssl.trustmanager.algorithm": true,
	"ssl.endpoint.identification.algorithm": true, "ssl.secure.random.implementation": true,
	"ssl.client.auth": true, "ssl.engine.factory.class": true, SaslMechanismInterBroker: true,
	"sasl.jaas.config": true, SaslEnabledMechanisms: true, "sasl.kerberos.service.name": true,
	"sasl.kerberos.kinit.cmd": true, "sasl.kerberos.ticket.renew.window.factor": true,
	"sasl.kerberos.ticket.renew.jitter": true, "sasl.kerberos.min.time.before.relogin": true,
	"sasl.kerberos.principal.to.local.rules": true, "sasl.login.refresh.window.factor": true,
	"sasl.login.refresh.window.jitter": true, "sasl.login.refresh.min.period.seconds": true,
	"sasl.login.refresh.buffer.seconds": true, MaxConnections: true, "max.connection.creation.rate": true,
}

// SSLReconfigurable reports whether k is one of SslConfigs.RECONFIGURABLE_CONFIGS (the key and trust store
// configs), which may change dynamically only per listener.
func SSLReconfigurable(k string) bool { return sslReconfigurable[k] }

// ClusterLevelListenerConfig reports whether k is a listener config that may be set cluster-wide even with a
// listener prefix (the connection limits, SocketServer.ListenerReconfigurableConfigs).
func ClusterLevelListenerConfig(k string) bool {
	return k == MaxConnections || k == "max.connection.creation.rate"
}

// PerBrokerOnly is DynamicBrokerConfig.perBrokerConfigs: configs that make no sense at the <default> level
// (listener overrides but the connection limits, security and listener configs).
func PerBrokerOnly(k string) bool {
	if suffix, ok := ListenerSuffix(k); ok {
		return !ClusterLevelListenerConfig(suffix)
	}
	return (sslReconfigurable[k] || listenerReconfigurable[k]) && !ClusterLevelListenerConfig(k)
}

// ListenerSuffix is what follows listener.name.<l>. in a listener override; ok is false for other names.
func ListenerSuffix(k string) (string, bool) {
	if m := listenerConfigRE.FindStringSubmatch(k); m != nil {
		return m[1], true
	}
	return "", false
}

var listenerConfigRE = regexp.MustCompile(`^listener\.name\.[^.]*\.(.*)$`)

// listenerMechanismConfigs may be given per listener and SASL mechanism: listener.name.<l>.<mech>.<config>.
var listenerMechanismConfigs = []string{"sasl.jaas.config", "sasl.login.callback.handler.class", "sasl.login.class",
	"sasl.server.callback.handler.class", ConnectionsMaxReauthMs}

// ListenerBaseName is the base config of a listener override's suffix, past a SASL mechanism's prefix
// (DynamicBrokerConfig.brokerConfigSynonyms).
func ListenerBaseName(base string) string {
	for _, m := range listenerMechanismConfigs {
		if strings.HasSuffix(base, m) {
			return m
		}
	}
	return base
}

func build(static, dynDefault, dynBroker map[string]string, logger *slog.Logger) (*Config, error) {
	eff := maps.Clone(static)
	maps.Copy(eff, dynDefault)
	maps.Copy(eff, dynBroker)
	vals, err := parseDefs(brokerDefs, eff)
	if err != nil {
		return nil, err
	}
	c := &Config{vals: vals, static: static, dynDefault: dynDefault, dynBroker: dynBroker, logger: logger}
	if roles := c.List(ProcessRoles); len(roles) > 0 {
		return nil, &ConfigError{Key: ProcessRoles, Message: "process.roles is set (KRaft mode): " +
			"only ZooKeeper mode is supported"}
	}
	if err := c.fill(eff); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	c.Raw = map[string]string{}
	for k, v := range eff {
		c.Raw[k] = v
	}
	for _, dd := range brokerDefs {
		if s, ok := convertToString(vals[dd.name]); ok && (!dd.internal || hasKey(eff, dd.name)) {
			c.Raw[dd.name] = s
		}
	}
	return c, nil
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// Typed access to any broker config by name. They panic on a name or type that is not Kafka's, which is a
// programming error.

// Int returns an INT config; ok is false when its value is null.
func (c *Config) Int(name string) (int32, bool) { v, ok := c.get(name, TypeInt).(int32); return v, ok }

// Short returns a SHORT config.
func (c *Config) Short(name string) int16 { v, _ := c.get(name, TypeShort).(int16); return v }

// Long returns a LONG config; ok is false when its value is null.
func (c *Config) Long(name string) (int64, bool) {
	v, ok := c.get(name, TypeLong).(int64)
	return v, ok
}

// Double returns a DOUBLE config.
func (c *Config) Double(name string) float64 { v, _ := c.get(name, TypeDouble).(float64); return v }

// Bool returns a BOOLEAN config.
func (c *Config) Bool(name string) bool { v, _ := c.get(name, TypeBoolean).(bool); return v }

// String returns a STRING, PASSWORD or CLASS config ("" for null).
func (c *Config) String(name string) string { v, _ := c.get(name, TypeString).(string); return v }

// List returns a LIST config (nil for null).
func (c *Config) List(name string) []string { v, _ := c.get(name, TypeList).([]string); return v }

func (c *Config) get(name string, want Type) any {
	dd, ok := brokerDefIndex[name]
	if !ok {
		panic("serverprops: unknown broker config " + name)
	}
	t := dd.typ
	if t == TypePassword || t == TypeClass {
		t = TypeString
	}
	if t != want {
		panic(fmt.Sprintf("serverprops: %s is %v, not %v", name, dd.typ, want))
	}
	return c.vals[name]
}

func (c *Config) i32(name string) int32 { v, _ := c.Int(name); return v }
func (c *Config) i64(name string) int64 { v, _ := c.Long(name); return v }

// ThrottleRate is a replication throttle rate (leader.replication.throttled.rate, follower.replication.throttled.rate)
// in bytes per second as Kafka 2.8's BrokerConfigHandler reads it: from this broker's own dynamic level only (a
// cluster-default value is stored and described but not applied), Long.MaxValue (no throttle) when unset.
func (c *Config) ThrottleRate(name string) int64 {
	if v, ok := c.dynBroker[name]; ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n
		}
	}
	return math.MaxInt64
}

func (c *Config) fill(eff map[string]string) error {
	c.BrokerID = c.i32(BrokerIDProp)
	c.BrokerIDGenerationEnable = c.Bool(BrokerIDGenerationEnable)
	c.ReservedBrokerMaxID = c.i32(ReservedBrokerMaxID)
	c.Rack = c.String(BrokerRack)
	c.ZookeeperConnect = c.String(ZkConnect)
	c.ZookeeperSessionTimeoutMs = c.i32(ZkSessionTimeoutMs)
	c.ZookeeperConnectionTimeoutMs = c.ZookeeperSessionTimeoutMs
	if v, ok := c.Int(ZkConnectionTimeoutMs); ok {
		c.ZookeeperConnectionTimeoutMs = v
	}
	c.ZookeeperSetACL = c.Bool(ZkSetACL)
	c.ZookeeperMaxInFlightRequests = c.i32(ZkMaxInFlightRequests)

	dirs := c.String(LogDirProp)
	if c.vals[LogDirsProp] != nil {
		dirs = c.String(LogDirsProp)
	}
	c.LogDirs = parseCsvList(dirs)

	c.NumPartitions = c.i32(NumPartitions)
	c.DefaultReplicationFactor = c.i32(DefaultReplicationFactor)
	c.AutoCreateTopicsEnable = c.Bool(AutoCreateTopicsEnable)
	c.DeleteTopicEnable = c.Bool(DeleteTopicEnable)
	c.MinInsyncReplicas = c.i32(MinInsyncReplicas)
	c.UncleanLeaderElection = c.Bool(UncleanLeaderElectionEnable)
	c.CompressionType = c.String(CompressionType)

	c.OffsetsTopicPartitions = c.i32(OffsetsTopicNumPartitions)
	c.OffsetsTopicReplicationFactor = c.Short(OffsetsTopicReplicationFactor)
	c.OffsetsTopicSegmentBytes = c.i32(OffsetsTopicSegmentBytes)
	c.OffsetsTopicCompressionCodec = c.i32(OffsetsTopicCompressionCodec)
	if c.OffsetsTopicCompressionCodec < 0 || c.OffsetsTopicCompressionCodec > 4 {
		// CompressionCodec.getCompressionCodec: none, gzip, snappy, lz4, zstd.
		return &ConfigError{Key: OffsetsTopicCompressionCodec,
			Message: fmt.Sprintf("%d is an unknown compression codec", c.OffsetsTopicCompressionCodec)}
	}
	c.OffsetsRetentionMinutes = c.i32(OffsetsRetentionMinutes)
	c.OffsetsRetentionCheckIntervalMs = c.i64(OffsetsRetentionCheckIntervalMs)
	c.OffsetsCommitTimeoutMs = c.i32(OffsetsCommitTimeoutMs)
	c.OffsetsCommitRequiredAcks = c.Short(OffsetsCommitRequiredAcks)
	c.OffsetsLoadBufferSize = c.i32(OffsetsLoadBufferSize)
	c.OffsetMetadataMaxBytes = c.i32(OffsetMetadataMaxBytes)

	c.TransactionStateLogPartitions = c.i32(TransactionStateLogPartitions)
	c.TransactionStateLogReplicationFactor = c.Short(TransactionStateLogReplication)
	c.TransactionStateLogSegmentBytes = c.i32(TransactionStateLogSegmentBytes)
	c.TransactionStateLogMinISR = c.i32(TransactionStateLogMinISR)
	c.TransactionStateLogLoadBufferSize = c.i32(TransactionStateLogLoadBuffer)
	c.TransactionMaxTimeoutMs = c.i32(TransactionMaxTimeoutMs)
	c.TransactionalIDExpirationMs = c.i32(TransactionalIDExpirationMs)
	c.TransactionAbortTimedOutIntervalMs = c.i32(TransactionAbortTimedOutMs)
	c.TransactionRemoveExpiredIntervalMs = c.i32(TransactionRemoveExpiredMs)
	c.MaxIncrementalFetchSessionCacheSlots = c.i32(MaxIncrementalFetchSessionSlots)
	c.FetchMaxBytes = c.i32(FetchMaxBytes)

	c.GroupMinSessionTimeoutMs = c.i32(GroupMinSessionTimeoutMs)
	c.GroupMaxSessionTimeoutMs = c.i32(GroupMaxSessionTimeoutMs)
	c.GroupInitialRebalanceDelayMs = c.i32(GroupInitialRebalanceDelayMs)
	c.GroupMaxSize = c.i32(GroupMaxSize)

	c.ReplicaLagTimeMaxMs = c.i64(ReplicaLagTimeMaxMs)
	c.ReplicaFetchWaitMaxMs = c.i32(ReplicaFetchWaitMaxMs)
	c.ReplicaFetchMinBytes = c.i32(ReplicaFetchMinBytes)
	c.ReplicaFetchMaxBytes = c.i32(ReplicaFetchMaxBytes)
	c.ReplicaFetchResponseMaxBytes = c.i32(ReplicaFetchResponseMaxBytes)
	c.ReplicaFetchBackoffMs = c.i32(ReplicaFetchBackoffMs)
	c.ReplicaSocketTimeoutMs = c.i32(ReplicaSocketTimeoutMs)
	c.ReplicaHighWatermarkCheckpointMs = c.i64(ReplicaHighWatermarkCheckpoint)
	c.NumReplicaFetchers = c.i32(NumReplicaFetchers)
	c.ControllerSocketTimeoutMs = c.i32(ControllerSocketTimeoutMs)
	c.AutoLeaderRebalanceEnable = c.Bool(AutoLeaderRebalanceEnable)
	c.LeaderImbalancePerBrokerPercentage = c.i32(LeaderImbalancePerBrokerPct)
	c.LeaderImbalanceCheckIntervalSeconds = c.i64(LeaderImbalanceCheckIntervalSec)
	c.ControlledShutdownEnable = c.Bool(ControlledShutdownEnable)
	c.ControlledShutdownMaxRetries = c.i32(ControlledShutdownMaxRetries)
	c.ControlledShutdownRetryBackoffMs = c.i64(ControlledShutdownRetryBackoff)

	c.MessageMaxBytes = c.i32(MessageMaxBytes)
	c.SocketRequestMaxBytes = c.i32(SocketRequestMaxBytes)
	c.SocketSendBufferBytes = c.i32(SocketSendBufferBytes)
	c.SocketReceiveBufferBytes = c.i32(SocketReceiveBufferBytes)
	c.QueuedMaxRequests = c.i32(QueuedMaxRequests)
	c.QueuedMaxRequestBytes = c.i64(QueuedMaxRequestBytes)
	c.RequestTimeoutMs = c.i32(RequestTimeoutMs)
	c.ConnectionsMaxIdleMs = c.i64(ConnectionsMaxIdleMs)
	c.MaxConnections = c.i32(MaxConnections)
	c.MaxConnectionsPerIP = c.i32(MaxConnectionsPerIP)
	c.FailedAuthenticationDelayMs = c.i32(FailedAuthenticationDelayMs)
	overrides, err := parseCsvMap(c.String(MaxConnectionsPerIPOverrides))
	if err == nil {
		c.MaxConnectionsPerIPOverrides = map[string]int32{}
		for _, kv := range overrides {
			n, perr := strconv.ParseInt(kv[1], 10, 32)
			if perr != nil {
				err = fmt.Errorf("For input string: \"%s\"", kv[1])
				break
			}
			c.MaxConnectionsPerIPOverrides[kv[0]] = int32(n)
		}
	}
	if err != nil {
		return &ConfigError{Key: MaxConnectionsPerIPOverrides, Message: fmt.Sprintf(
			"Error parsing configuration property '%s': %s", MaxConnectionsPerIPOverrides, err.Error())}
	}

	c.NumNetworkThreads = c.i32(NumNetworkThreads)
	c.NumIoThreads = c.i32(NumIoThreads)
	c.BackgroundThreads = c.i32(BackgroundThreads)
	c.NumRecoveryThreadsPerDataDir = c.i32(NumRecoveryThreadsPerDataDir)
	c.NumReplicaAlterLogDirsThreads = int32(len(c.LogDirs))
	if v, ok := c.Int(NumReplicaAlterLogDirsThreads); ok {
		c.NumReplicaAlterLogDirsThreads = v
	}
	c.AuthorizerClassName = c.String(AuthorizerClassName)
	c.SaslEnabledMechanisms = c.List(SaslEnabledMechanisms)
	c.SaslMechanismInterBrokerProtocol = c.String(SaslMechanismInterBroker)

	c.InterBrokerProtocolVersion, _ = ParseAPIVersion(c.String(InterBrokerProtocolVersion))
	c.LogMessageFormatVersion, _ = ParseAPIVersion(c.String(LogMessageFormatVersion))
	c.LogMessageTimestampType = c.String(LogMessageTimestampType)
	c.LogMessageTimestampDifferenceMaxMs = c.i64(LogMessageTimestampDiffMaxMs)
	c.LogMessageDownConversionEnable = c.Bool(LogMessageDownConversionEnable)

	const hourMs, minuteMs = int64(3600000), int64(60000)
	c.LogSegmentBytes = c.i32(LogSegmentBytes)
	c.LogRollMs = int64(c.i32(LogRollHours)) * hourMs
	if v, ok := c.Long(LogRollMs); ok {
		c.LogRollMs = v
	}
	c.LogRollJitterMs = int64(c.i32(LogRollJitterHours)) * hourMs
	if v, ok := c.Long(LogRollJitterMs); ok {
		c.LogRollJitterMs = v
	}
	// KafkaConfig.logRetentionTimeMillis: ms, else minutes, else hours; any negative means unlimited (-1).
	c.LogRetentionMs = int64(c.i32(LogRetentionHours)) * hourMs
	if v, ok := c.Int(LogRetentionMinutes); ok {
		c.LogRetentionMs = int64(v) * minuteMs
	}
	if v, ok := c.Long(LogRetentionMs); ok {
		c.LogRetentionMs = v
	}
	if c.LogRetentionMs < 0 {
		c.LogRetentionMs = -1
	}
	c.LogRetentionBytes = c.i64(LogRetentionBytes)
	c.LogRetentionCheckIntervalMs = c.i64(LogRetentionCheckIntervalMs)
	c.LogCleanupPolicy = c.List(LogCleanupPolicy)
	c.LogCleanerEnable = c.Bool(LogCleanerEnable)
	c.LogCleanerThreads = c.i32(LogCleanerThreads)
	c.LogCleanerDedupeBufferSize = c.i64(LogCleanerDedupeBufferSize)
	c.LogCleanerIoBufferSize = c.i32(LogCleanerIoBufferSize)
	c.LogCleanerIoBufferLoadFactor = c.Double(LogCleanerIoBufferLoadFactor)
	c.LogCleanerIoMaxBytesPerSecond = c.Double(LogCleanerIoMaxBytesPerSecond)
	c.LogCleanerBackoffMs = c.i64(LogCleanerBackoffMs)
	c.LogCleanerMinCleanableRatio = c.Double(LogCleanerMinCleanableRatio)
	c.LogCleanerDeleteRetentionMs = c.i64(LogCleanerDeleteRetentionMs)
	c.LogCleanerMinCompactionLagMs = c.i64(LogCleanerMinCompactionLagMs)
	c.LogCleanerMaxCompactionLagMs = c.i64(LogCleanerMaxCompactionLagMs)
	c.LogFlushIntervalMessages = c.i64(LogFlushIntervalMessages)
	c.LogFlushSchedulerIntervalMs = c.i64(LogFlushSchedulerIntervalMs)
	c.LogFlushIntervalMs = c.LogFlushSchedulerIntervalMs
	if v, ok := c.Long(LogFlushIntervalMs); ok {
		c.LogFlushIntervalMs = v
	}
	c.LogFlushOffsetCheckpointIntervalMs = int64(c.i32(LogFlushOffsetCheckpointMs))
	c.LogFlushStartOffsetCheckpointInterval = int64(c.i32(LogFlushStartOffsetCheckpointMs))
	c.LogSegmentDeleteDelayMs = c.i64(LogSegmentDeleteDelayMs)
	c.LogIndexIntervalBytes = c.i32(LogIndexIntervalBytes)
	c.LogIndexSizeMaxBytes = c.i32(LogIndexSizeMaxBytes)
	c.LogPreallocate = c.Bool(LogPreallocate)
	return c.fillListeners(eff)
}

func (c *Config) fillListeners(eff map[string]string) error {
	pm, err := ParseSecurityProtocolMap(c.String(ListenerSecurityProtocolMapProp))
	if err != nil {
		return err
	}
	c.ListenerSecurityProtocolMap = pm

	if c.vals[ListenersProp] != nil {
		c.Listeners, err = ParseListeners(ListenersProp, c.String(ListenersProp), pm, true)
	} else {
		// No listeners: the deprecated host.name and port, PLAINTEXT://:9092 by default.
		c.Listeners, err = ParseListeners(ListenersProp,
			fmt.Sprintf("PLAINTEXT://%s:%d", c.String(HostName), c.i32(Port)), pm, true)
	}
	if err != nil {
		return err
	}

	controllerNames := strings.Split(c.String(ControllerListenerNames), ",")
	switch {
	case c.vals[AdvertisedListenersProp] != nil:
		c.AdvertisedListeners, err = ParseListeners(AdvertisedListenersProp, c.String(AdvertisedListenersProp), pm, false)
	case c.vals[AdvertisedHostName] != nil || c.vals[AdvertisedPort] != nil:
		host := c.String(HostName)
		if c.vals[AdvertisedHostName] != nil {
			host = c.String(AdvertisedHostName)
		}
		port := c.i32(Port)
		if v, ok := c.Int(AdvertisedPort); ok {
			port = v
		}
		c.AdvertisedListeners, err = ParseListeners(AdvertisedListenersProp,
			fmt.Sprintf("PLAINTEXT://%s:%d", host, port), pm, false)
	default:
		for _, l := range c.Listeners {
			if !slices.Contains(controllerNames, l.Name) {
				c.AdvertisedListeners = append(c.AdvertisedListeners, l)
			}
		}
	}
	if err != nil {
		return err
	}

	// getInterBrokerListenerNameAndSecurityProtocol
	if c.vals[InterBrokerListenerNameProp] != nil {
		if hasKey(eff, InterBrokerSecurityProtocol) {
			return &ConfigError{Key: InterBrokerListenerNameProp, Message: fmt.Sprintf(
				"Only one of %s and %s should be set.", InterBrokerListenerNameProp, InterBrokerSecurityProtocol)}
		}
		name := strings.ToUpper(c.String(InterBrokerListenerNameProp))
		proto, ok := pm[name]
		if !ok {
			return &ConfigError{Key: InterBrokerListenerNameProp, Message: fmt.Sprintf(
				"Listener with name %s defined in %s not found in %s.", name, InterBrokerListenerNameProp,
				ListenerSecurityProtocolMapProp)}
		}
		c.InterBrokerListenerName, c.InterBrokerSecurityProtocol = name, proto
	} else {
		proto, err := securityProtocol(c.String(InterBrokerSecurityProtocol), InterBrokerSecurityProtocol)
		if err != nil {
			return err
		}
		c.InterBrokerListenerName, c.InterBrokerSecurityProtocol = proto, proto
	}
	if c.vals[ControlPlaneListenerName] != nil {
		name := strings.ToUpper(c.String(ControlPlaneListenerName))
		if _, ok := pm[name]; !ok {
			return &ConfigError{Key: ControlPlaneListenerName, Message: fmt.Sprintf(
				"Listener with %s defined in %s not found in %s.", name, ControlPlaneListenerName,
				ListenerSecurityProtocolMapProp)}
		}
		c.ControlPlaneListenerName = name
	}
	return nil
}

var validHostChars = regexp.MustCompile(`^[0-9a-zA-Z\-%._:]*$`)

// validate is KafkaConfig.validateValues (ZooKeeper mode).
func (c *Config) validate() error {
	if c.vals[ZkConnect] == nil {
		return &ConfigError{Key: ZkConnect, Message: "Missing required configuration `zookeeper.connect` " +
			"which has no default value."}
	}
	if c.BrokerIDGenerationEnable {
		if c.BrokerID < -1 || c.BrokerID > c.ReservedBrokerMaxID {
			return requirement(BrokerIDProp, "broker.id must be greater than or equal to -1 and not greater "+
				"than reserved.broker.max.id")
		}
	} else if c.BrokerID < 0 {
		return requirement(BrokerIDProp, "broker.id must be greater than or equal to 0")
	}
	if c.LogRollMs < 1 {
		return requirement(LogRollMs, "log.roll.ms must be greater than or equal to 1")
	}
	if c.LogRollJitterMs < 0 {
		return requirement(LogRollJitterMs, "log.roll.jitter.ms must be greater than or equal to 0")
	}
	if c.LogRetentionMs < 1 && c.LogRetentionMs != -1 {
		return requirement(LogRetentionMs, "log.retention.ms must be unlimited (-1) or, greater than or equal to 1")
	}
	if len(c.LogDirs) == 0 {
		return requirement(LogDirsProp, "At least one log directory must be defined via log.dirs or log.dir.")
	}
	if c.LogCleanerThreads == 0 {
		return &ConfigError{Key: LogCleanerThreads, Message: "/ by zero"} // Kafka divides by the thread count
	}
	if c.LogCleanerDedupeBufferSize/int64(c.LogCleanerThreads) <= 1024*1024 {
		return requirement(LogCleanerDedupeBufferSize,
			"log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread.")
	}
	if c.ReplicaFetchWaitMaxMs > c.ReplicaSocketTimeoutMs {
		return requirement(ReplicaSocketTimeoutMs, "replica.socket.timeout.ms should always be at least "+
			"replica.fetch.wait.max.ms to prevent unnecessary socket timeouts")
	}
	if int64(c.ReplicaFetchWaitMaxMs) > c.ReplicaLagTimeMaxMs {
		return requirement(ReplicaFetchWaitMaxMs, "replica.fetch.wait.max.ms should always be less than or "+
			"equal to replica.lag.time.max.ms to prevent frequent changes in ISR")
	}
	if c.OffsetsCommitRequiredAcks < -1 || c.OffsetsCommitRequiredAcks > c.OffsetsTopicReplicationFactor {
		return requirement(OffsetsCommitRequiredAcks, "offsets.commit.required.acks must be greater or equal "+
			"-1 and less or equal to offsets.topic.replication.factor")
	}
	if !slices.Contains(brokerCompressionTypes, strings.ToLower(c.CompressionType)) {
		return requirement(CompressionType, "compression.type : "+c.CompressionType+" is not valid. Valid "+
			"options are "+strings.Join(brokerCompressionTypes, ","))
	}

	advertised := listenerNames(c.AdvertisedListeners)
	if !slices.Contains(advertised, c.InterBrokerListenerName) {
		return requirement(InterBrokerListenerNameProp, fmt.Sprintf("%s must be a listener name defined in %s. "+
			"The valid options based on currently configured listeners are %s", InterBrokerListenerNameProp,
			AdvertisedListenersProp, strings.Join(advertised, ",")))
	}
	bound := listenerNames(c.Listeners)
	for _, n := range advertised {
		if !slices.Contains(bound, n) {
			return requirement(AdvertisedListenersProp, fmt.Sprintf("%s listener names must be equal to or a "+
				"subset of the ones defined in %s. Found %s. The valid options based on the current "+
				"configuration are %s", AdvertisedListenersProp, ListenersProp, strings.Join(advertised, ","),
				strings.Join(bound, ",")))
		}
	}
	for _, l := range c.AdvertisedListeners {
		if l.Host == "0.0.0.0" {
			return requirement(AdvertisedListenersProp, AdvertisedListenersProp+" cannot use the nonroutable "+
				"meta-address 0.0.0.0. Use a routable IP address.")
		}
	}
	if cp := c.ControlPlaneListenerName; cp != "" {
		if !slices.Contains(advertised, cp) {
			return requirement(ControlPlaneListenerName, fmt.Sprintf("%s must be a listener name defined in %s. "+
				"The valid options based on currently configured listeners are %s", ControlPlaneListenerName,
				AdvertisedListenersProp, strings.Join(advertised, ",")))
		}
		if cp == c.InterBrokerListenerName {
			return requirement(ControlPlaneListenerName, fmt.Sprintf("%s, when defined, should have a different "+
				"value from the inter broker listener name. Currently they both have the value %s",
				ControlPlaneListenerName, cp))
		}
	}

	if c.InterBrokerProtocolVersion.RecordVersion < c.LogMessageFormatVersion.RecordVersion {
		return requirement(LogMessageFormatVersion, fmt.Sprintf("log.message.format.version %s can only be "+
			"used when inter.broker.protocol.version is set to version %s or higher",
			c.String(LogMessageFormatVersion), minVersionForRecord(c.LogMessageFormatVersion.RecordVersion).Short))
	}
	if c.OffsetsTopicCompressionCodec == 4 && c.InterBrokerProtocolVersion.RecordVersion < 2 {
		return requirement(OffsetsTopicCompressionCodec, "offsets.topic.compression.codec zstd can only be "+
			"used when inter.broker.protocol.version is set to version 2.1 or higher")
	}
	if p := c.InterBrokerSecurityProtocol; p == SaslPlaintext || p == SaslSSL {
		handshake := c.InterBrokerProtocolVersion.ID >= apiVersionMap["0.10.0-IV1"].ID
		if !handshake && c.SaslMechanismInterBrokerProtocol != "GSSAPI" {
			return requirement(SaslMechanismInterBroker, "Only GSSAPI mechanism is supported for inter-broker "+
				"communication with SASL when inter.broker.protocol.version is set to "+
				c.String(InterBrokerProtocolVersion))
		}
		if !slices.Contains(c.listenerList(c.InterBrokerListenerName, SaslEnabledMechanisms), c.SaslMechanismInterBrokerProtocol) {
			return requirement(SaslMechanismInterBroker, SaslMechanismInterBroker+" must be included in "+
				SaslEnabledMechanisms+" when SASL is used for inter-broker communication")
		}
	}
	if c.QueuedMaxRequestBytes > 0 && c.QueuedMaxRequestBytes < int64(c.SocketRequestMaxBytes) {
		return requirement(QueuedMaxRequestBytes, QueuedMaxRequestBytes+" must be larger or equal to "+
			SocketRequestMaxBytes)
	}
	if c.MaxConnectionsPerIP == 0 && len(c.MaxConnectionsPerIPOverrides) == 0 {
		return requirement(MaxConnectionsPerIP, MaxConnectionsPerIP+" can be set to zero only if "+
			MaxConnectionsPerIPOverrides+" property is set.")
	}
	var bad []string
	for _, k := range slices.Sorted(maps.Keys(c.MaxConnectionsPerIPOverrides)) {
		if !validHostChars.MatchString(k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		return &ConfigError{Key: MaxConnectionsPerIPOverrides, Message: MaxConnectionsPerIPOverrides +
			" contains invalid addresses : " + strings.Join(bad, ",")}
	}
	if c.ConnectionsMaxIdleMs >= 0 && int64(c.FailedAuthenticationDelayMs) >= c.ConnectionsMaxIdleMs {
		return requirement(FailedAuthenticationDelayMs, fmt.Sprintf("%s=%d should always be less than %s=%d to "+
			"prevent failed authentication responses from timing out", FailedAuthenticationDelayMs,
			c.FailedAuthenticationDelayMs, ConnectionsMaxIdleMs, c.ConnectionsMaxIdleMs))
	}
	return nil
}

// listenerList is a LIST config as seen by one listener: listener.name.<l>.<config> over the base config
// (valuesWithPrefixOverride).
func (c *Config) listenerList(listener, name string) []string {
	key := ConfigPrefix(listener) + name
	for _, m := range []map[string]string{c.dynBroker, c.dynDefault, c.static} {
		if v, ok := m[key]; ok {
			l, err := parseType(key, v, TypeList)
			if err == nil {
				return l.([]string)
			}
		}
	}
	return c.List(name)
}

// ListenerConfig returns a config as one listener sees it: listener.name.<lower-case listener>.<name> when set,
// else the broker-wide value (as Kafka's valuesWithPrefixOverride).
func (c *Config) ListenerConfig(listener, name string) (string, bool) {
	key := ConfigPrefix(listener) + name
	for _, m := range []map[string]string{c.dynBroker, c.dynDefault, c.static} {
		if v, ok := m[key]; ok {
			return javastr.Trim(v), true
		}
	}
	return convertToString(c.vals[name])
}

func listenerNames(ls []Listener) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

// Listener returns the listener with the given name.
func (c *Config) Listener(name string) (Listener, bool) {
	for _, l := range c.Listeners {
		if l.Name == name {
			return l, true
		}
	}
	return Listener{}, false
}

// AdvertisedListener returns the advertised listener with the given name.
func (c *Config) AdvertisedListener(name string) (Listener, bool) {
	for _, l := range c.AdvertisedListeners {
		if l.Name == name {
			return l, true
		}
	}
	return Listener{}, false
}

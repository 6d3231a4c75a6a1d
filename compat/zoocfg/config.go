package zoocfg

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javastr"
)

// Defaults, as in Apache ZooKeeper 3.8.
const (
	DefaultTickTime       = 3000
	DefaultMaxClientCnxns = 60
	DefaultSnapCount      = 100000
	// DefaultSnapshotWriteRateMBps paces periodic snapshots (see storage.SnapshotOptions.WriteRate). Set/s on
	// the 2-core dev machine after 450k creates: unpaced 17.2k, 25 MB/s 25.2k, 32 MB/s 26.2k, 50 MB/s 23.6k,
	// 100 MB/s 21.9k; a 400 MB snapshot then takes about 13 s.
	DefaultSnapshotWriteRateMBps  = 32
	DefaultSnapSizeLimitInKb      = 4194304 // 4 GiB
	DefaultPreAllocSizeKB         = 65536
	DefaultGlobalOutstandingLimit = 1000
	DefaultJuteMaxBuffer          = 0xfffff
	DefaultLargeRequestMaxBytes   = 100 * 1024 * 1024
	DefaultResponseCacheSize      = 400
	DefaultAdminServerAddress     = "0.0.0.0"
	DefaultAdminServerPort        = 8080
	DefaultAdminCommandURL        = "/commands"
	DefaultAdminIdleTimeoutMs     = 30000
	DefaultAdminHTTPVersion       = 11
	DefaultMetricsProvider        = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider"
	PrometheusMetricsProvider     = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
	DefaultMetricsHTTPHost        = "0.0.0.0"
	DefaultMetricsHTTPPort        = 7000
	DefaultContainerCheckInterval = 60000
	DefaultContainerMaxPerMinute  = 10000
	DefaultCnxTimeoutMs           = 5000
	MinSnapRetainCount            = 3
	// UnsetServerID is MyID when dataDir/myid does not exist.
	UnsetServerID = -1
	x509Provider  = "org.apache.zookeeper.server.auth.X509AuthenticationProvider"
)

// FourLetterWords returns every word FourLetterCommands knows; "*" in the whitelist enables exactly these
// ("telnet close" is the name of the telnet break sequence).
func FourLetterWords() []string {
	return []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srst", "srvr",
		"stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash", "telnet close"}
}

// Config is a loaded ZooKeeper server configuration. Field names follow the zoo.cfg keys / system properties.
type Config struct {
	// Path is the zoo.cfg path (empty when built with FromProperties).
	Path string
	// Properties are the zoo.cfg entries in file order, duplicates included.
	Properties []Property
	// DynamicProperties are the entries of the dynamicConfigFile, if any (plus the version taken from its name).
	DynamicProperties []Property
	// Props are the resulting system properties: -D flags, then every zoo.cfg key QuorumPeerConfig does not
	// consume as "zookeeper."+key (overriding the flag, as System.setProperty does), then our zkafka.* keys.
	Props map[string]string

	// zoo.cfg keys (QuorumPeerConfig)
	TickTime                      int
	InitLimit                     int
	SyncLimit                     int
	ConnectToLearnerMasterLimit   int // 0 in the file means initLimit, resolved here
	DataDir                       string
	DataLogDir                    string
	ClientPort                    int    // 0: not set (possibly from server.<myid> ;clientPort)
	ClientPortAddress             string // empty: all addresses
	SecureClientPort              int
	SecureClientPortAddress       string
	ObserverMasterPort            int
	ClientPortListenBacklog       int // -1: OS default
	MaxClientCnxns                int
	MinSessionTimeout             int
	MaxSessionTimeout             int
	ElectionAlg                   int
	QuorumListenOnAllIPs          bool
	PeerType                      Role
	SyncEnabled                   bool
	DynamicConfigFile             string
	ConfigVersion                 int64 // the quorum config version (hex in files); 0 if none
	Servers                       []Server
	Groups                        map[int64][]int64 // hierarchical quorums: group id -> server ids
	Weights                       map[int64]int64   // hierarchical quorums: server id -> weight
	MultiAddressEnabled           bool
	StandaloneEnabled             bool
	ReconfigEnabled               bool
	AutopurgeSnapRetainCount      int
	AutopurgePurgeInterval        int // hours, 0 = disabled
	LocalSessionsEnabled          bool
	LocalSessionsUpgradingEnabled bool
	SSLQuorum                     bool
	PortUnification               bool
	SSLQuorumReloadCertFiles      bool
	QuorumSASLEnabled             bool
	QuorumServerRequireSASL       bool
	QuorumLearnerRequireSASL      bool
	// QuorumLearnerLoginContext and QuorumServerLoginContext name the JAAS sections of quorum SASL
	// (quorum.auth.learner.saslLoginContext, default QuorumLearner; quorum.auth.server.saslLoginContext,
	// QuorumServer).
	QuorumLearnerLoginContext, QuorumServerLoginContext string
	// QuorumServicePrincipal is quorum.auth.kerberos.servicePrincipal: the principal a learner asks a Kerberos
	// ticket for (default zkquorum/localhost; a host of _HOST is the peer's).
	QuorumServicePrincipal   string
	MetricsProviderClassName string
	MetricsProviderConfig    map[string]string // metricsProvider.<k> keys, prefix stripped
	MetricsHTTPHost          string
	MetricsHTTPPort          int

	// MyID is the first line of dataDir/myid, UnsetServerID when the file is absent.
	MyID int64
	// NextQuorumVerifier is the config in zoo.cfg.dynamic.next (with a dynamicConfigFile): one a reconfig
	// proposed and did not commit before the server stopped, QuorumPeerConfig's lastSeenQuorumVerifier.
	NextQuorumVerifier *QuorumVerifier

	// system properties
	SnapCount              int
	SnapSizeLimitInKb      int64 // <= 0 disables the size trigger
	PreAllocSizeKB         int64
	ForceSync              bool
	GlobalOutstandingLimit int
	// LargeRequestThreshold (-1: off) and LargeRequestMaxBytes are zookeeper.largeRequestThreshold and
	// zookeeper.largeRequestMaxBytes, checked as ZooKeeperServer's setters check them.
	LargeRequestThreshold int
	LargeRequestMaxBytes  int
	// ResponseCacheSize and ChildrenResponseCacheSize are zookeeper.maxResponseCacheSize and
	// zookeeper.maxGetChildrenResponseCacheSize (Integer.getInteger, default 400).
	ResponseCacheSize, ChildrenResponseCacheSize int
	// SessionlessCnxnTimeoutMs is zookeeper.nio.sessionlessCnxnTimeout (Integer.getInteger, default 10000): how
	// long NIOServerCnxnFactory keeps a connection that sends no connect request. 0 with Netty's factory
	// (serverCnxnFactory), which has no such expiry.
	SessionlessCnxnTimeoutMs int
	// The RequestThrottler's system properties: zookeeper.request_throttle_max_requests (0: no limit),
	// request_throttle_stall_time (ms), request_throttle_drop_stale, throttled_op_wait_time (ms, 0: off),
	// request_stale_connection_check and request_stale_latency_check.
	RequestThrottleMaxRequests      int
	RequestThrottleStallTimeMs      int
	RequestThrottleDropStale        bool
	ThrottledOpWaitTimeMs           int
	RequestStaleConnectionCheck     bool
	RequestStaleLatencyCheck        bool
	JuteMaxBuffer                   int
	MaxCnxns                        int // zookeeper.maxCnxns, 0 = unlimited
	CnxTimeoutMs                    int
	ObserverElectionDelayMs         int64 // zookeeper.observer.election.DelayMs: an observer's random wait bound
	ObserverReconnectDelayMs        int64 // zookeeper.observer.reconnectDelayMs: an observer's random wait before it reconnects
	ObserverMasterSizeLimit         int   // zookeeper.observerMaster.sizeLimit: bytes of INFORMs a follower keeps for observers
	LeaderConnectDelayDuringRetryMs int   // zookeeper.leaderConnectDelayDuringRetryMs: a learner's wait between tries to reach its leader
	LeaderAckLoggingFrequency       int   // zookeeper.leader.ackLoggingFrequency: the leader's ack_latency takes zxids that are multiples of it (<= 0: none)
	LeaderMaxTimeToWaitForEpochMs   int   // zookeeper.leader.maxTimeToWaitForEpoch: a leader waiting longer for the new epoch quits when a voter goes LOOKING (< 0: never)
	FourLetterWordWhitelist         map[string]bool
	AdminEnableServer               bool
	AdminServerAddress              string
	AdminServerPort                 int
	AdminCommandURL                 string
	AdminIdleTimeoutMs              int

	// AdminForceHTTPS and AdminPortUnification are admin.forceHttps (HTTPS only) and admin.portUnification (HTTPS
	// and HTTP on one port), with the ssl.quorum.* key and trust stores, as JettyAdminServer; AdminHTTPVersion is
	// admin.httpVersion (11: HTTP/1.1, the only one served).
	AdminForceHTTPS, AdminPortUnification bool
	AdminHTTPVersion                      int

	ExtendedTypesEnabled            bool
	EnforceQuota                    bool // zookeeper.enforceQuota
	Emulate353TTLNodes              bool
	SuperDigest                     string
	DigestAuthEnabled               bool
	SkipACL                         bool
	DigestEnabled                   bool
	ContainerCheckIntervalMs        int
	ContainerMaxPerMinute           int
	ContainerMaxNeverUsedIntervalMs int64
	ReadOnlyModeEnabled             bool
	SnapshotTrustEmpty              bool
	SnapshotCompressionMethod       string // "", "gz" or "snappy"
	DataDirAutocreate               bool
	AuthProviders                   map[string]string // zookeeper.authProvider.<N> -> class name
	SrvrLegacyDateFormat            bool              // zkafka.srvrLegacyDateFormat
	SnapshotWriteRateMBps           int               // zkafka.snapshot.writeRateMBps (0: no cap)

	// The connection throttle's (BlueThrottle's) system properties, zookeeper.connection_throttle_*: tokens
	// (0: off), fill_time (ms), fill_count, freeze_time (ms, -1: no random drops), drop_increase,
	// drop_decrease, decrease_ratio, weight_enabled, and the global, local and renew session weights as
	// BlueThrottle corrects them.
	ConnThrottleTokens, ConnThrottleFillTimeMs, ConnThrottleFillCount, ConnThrottleFreezeTimeMs int
	ConnThrottleDropIncrease, ConnThrottleDropDecrease, ConnThrottleDecreaseRatio               float64
	ConnThrottleWeighted                                                                        bool
	ConnThrottleGlobalWeight, ConnThrottleLocalWeight, ConnThrottleRenewWeight                  int
}

// Standalone reports whether Apache would run ZooKeeperServerMain rather than a quorum peer: no voting
// server.N line, or exactly one with standaloneEnabled=true (QuorumPeerConfig.isDistributed negated).
func (c *Config) Standalone() bool {
	voting := 0
	for _, s := range c.Servers {
		if s.Role == RoleParticipant {
			voting++
		}
	}
	return c.StandaloneEnabled && voting <= 1
}

// Server returns the server.N entry with the given id.
func (c *Config) Server(id int64) (Server, bool) {
	for _, s := range c.Servers {
		if s.ID == id {
			return s, true
		}
	}
	return Server{}, false
}

// FourLetterWordAllowed reports whether 4lw word may run (FourLetterCommands.isEnabled).
func (c *Config) FourLetterWordAllowed(word string) bool { return c.FourLetterWordWhitelist[word] }

// PrometheusEnabled reports whether Apache's Prometheus metrics provider is configured.
func (c *Config) PrometheusEnabled() bool {
	return c.MetricsProviderClassName == PrometheusMetricsProvider
}

// DataDirVersion is the snapshot directory, dataDir/version-2.
func (c *Config) DataDirVersion() string { return filepath.Join(c.DataDir, "version-2") }

// LogDirVersion is the transaction log directory, dataLogDir/version-2.
func (c *Config) LogDirVersion() string { return filepath.Join(c.DataLogDir, "version-2") }

// Load reads the zoo.cfg at path, its dynamicConfigFile, dataDir/myid, and the system properties in jvmFlags
// (callers pass os.Getenv("SERVER_JVMFLAGS")+" "+os.Getenv("JVMFLAGS")).
func Load(path string, jvmFlags string, logger *slog.Logger) (*Config, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("error processing %s: %w", path, err)
	}
	defer f.Close()
	props, err := ParseProperties(f)
	if err != nil {
		return nil, fmt.Errorf("error processing %s: %w", path, err)
	}
	c, err := FromProperties(props, ParseJVMFlags(jvmFlags), logger)
	if err != nil {
		return nil, fmt.Errorf("error processing %s: %w", path, err)
	}
	c.Path = path
	if c.DynamicConfigFile != "" {
		if c.NextQuorumVerifier, err = readNextDynamicFile(NextDynamicFileName(path), c.MultiAddressEnabled, logger); err != nil {
			return nil, fmt.Errorf("error processing %s: %w", path, err)
		}
	}
	return c, nil
}

// dedupe keeps the last value of each key (Properties is a Hashtable) in the order of last occurrence.
func dedupe(props []Property) []Property {
	last := make(map[string]int, len(props))
	for i, p := range props {
		last[p.Key] = i
	}
	out := make([]Property, 0, len(last))
	for i, p := range props {
		if last[p.Key] == i {
			out = append(out, p)
		}
	}
	return out
}

// FromProperties builds a Config from parsed zoo.cfg entries and -D system properties. It reads
// dataDir/myid and the dynamicConfigFile from disk, as QuorumPeerConfig does.
func FromProperties(props []Property, sysProps map[string]string, logger *slog.Logger) (*Config, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Config{
		Properties:                props,
		Props:                     maps.Clone(sysProps),
		TickTime:                  DefaultTickTime,
		MaxClientCnxns:            DefaultMaxClientCnxns,
		MinSessionTimeout:         -1,
		MaxSessionTimeout:         -1,
		ClientPortListenBacklog:   -1,
		ElectionAlg:               3,
		PeerType:                  RoleParticipant,
		SyncEnabled:               true,
		StandaloneEnabled:         true,
		AutopurgeSnapRetainCount:  MinSnapRetainCount,
		MetricsProviderClassName:  DefaultMetricsProvider,
		MetricsProviderConfig:     map[string]string{},
		MyID:                      UnsetServerID,
		QuorumLearnerLoginContext: "QuorumLearner",
		QuorumServerLoginContext:  "QuorumServer",
		QuorumServicePrincipal:    "zkquorum/localhost",
	}
	if c.Props == nil {
		c.Props = map[string]string{}
	}
	p := &parser{c: c, log: logger}
	uniq := dedupe(props)
	hasDynamic := false
	for _, pr := range uniq {
		if javastr.Trim(pr.Key) == "dynamicConfigFile" {
			hasDynamic = true
		}
	}
	var dataDirSet, dataLogDirSet, multiSet bool
	for _, pr := range uniq {
		key, value := javastr.Trim(pr.Key), javastr.Trim(pr.Value)
		switch key {
		case "dataDir":
			c.DataDir, dataDirSet = value, true
			p.warnRelative(key, value)
		case "dataLogDir":
			c.DataLogDir, dataLogDirSet = value, true
			p.warnRelative(key, value)
		case "clientPort":
			c.ClientPort = p.parseInt(key, value)
		case "clientPortAddress":
			c.ClientPortAddress = value
		case "localSessionsEnabled":
			c.LocalSessionsEnabled = p.parseBool(key, value)
		case "localSessionsUpgradingEnabled":
			c.LocalSessionsUpgradingEnabled = p.parseBool(key, value)
		case "secureClientPort":
			c.SecureClientPort = p.parseInt(key, value)
		case "secureClientPortAddress":
			c.SecureClientPortAddress = value
		case "observerMasterPort":
			c.ObserverMasterPort = p.parseInt(key, value)
		case "clientPortListenBacklog":
			c.ClientPortListenBacklog = p.parseInt(key, value)
		case "tickTime":
			c.TickTime = p.parseInt(key, value)
		case "maxClientCnxns":
			c.MaxClientCnxns = p.parseInt(key, value)
		case "minSessionTimeout":
			c.MinSessionTimeout = p.parseInt(key, value)
		case "maxSessionTimeout":
			c.MaxSessionTimeout = p.parseInt(key, value)
		case "initLimit":
			c.InitLimit = p.parseInt(key, value)
		case "syncLimit":
			c.SyncLimit = p.parseInt(key, value)
		case "connectToLearnerMasterLimit":
			c.ConnectToLearnerMasterLimit = p.parseInt(key, value)
		case "electionAlg":
			c.ElectionAlg = p.parseInt(key, value)
			if p.err == nil && c.ElectionAlg != 3 {
				p.fail(fmt.Errorf("Invalid electionAlg value. Only 3 is supported."))
			}
		case "quorumListenOnAllIPs":
			c.QuorumListenOnAllIPs = p.parseBool(key, value)
		case "peerType":
			p.peerType = Role(strings.ToLower(value))
			if p.peerType != RoleObserver && p.peerType != RoleParticipant {
				p.fail(fmt.Errorf("Unrecognised peertype: %s", value))
			}
		case "syncEnabled":
			c.SyncEnabled = p.parseBool(key, value)
		case "dynamicConfigFile":
			c.DynamicConfigFile = value
		case "autopurge.snapRetainCount":
			c.AutopurgeSnapRetainCount = p.parseInt(key, value)
		case "autopurge.purgeInterval":
			c.AutopurgePurgeInterval = p.parseInt(key, value)
		case "standaloneEnabled":
			c.StandaloneEnabled = p.parseBool(key, value)
		case "reconfigEnabled":
			c.ReconfigEnabled = p.parseBool(key, value)
		case "sslQuorum":
			c.SSLQuorum = p.parseBool(key, value)
		case "portUnification":
			c.PortUnification = p.parseBool(key, value)
		case "sslQuorumReloadCertFiles":
			c.SSLQuorumReloadCertFiles = p.parseBool(key, value)
		case "jvm.pause.monitor", "multiAddress.reachabilityCheckEnabled":
			p.parseBool(key, value)
		case "quorum.auth.enableSasl":
			c.QuorumSASLEnabled = p.parseBool(key, value)
		case "quorum.auth.serverRequireSasl":
			c.QuorumServerRequireSASL = p.parseBool(key, value)
		case "quorum.auth.learnerRequireSasl":
			c.QuorumLearnerRequireSASL = p.parseBool(key, value)
		case "quorum.cnxn.threads.size", "multiAddress.reachabilityCheckTimeoutMs":
			p.parseInt(key, value)
		case "jvm.pause.info-threshold.ms", "jvm.pause.warn-threshold.ms", "jvm.pause.sleep.time.ms":
			p.parseLong(key, value)
		case "quorum.auth.learner.saslLoginContext":
			c.QuorumLearnerLoginContext = value
		case "quorum.auth.server.saslLoginContext":
			c.QuorumServerLoginContext = value
		case "quorum.auth.kerberos.servicePrincipal":
			c.QuorumServicePrincipal = value
		case "oraclePath":
			// Accepted: the oracle is not implemented by zkafka.
		case "metricsProvider.className":
			c.MetricsProviderClassName = value
		case "multiAddress.enabled":
			c.MultiAddressEnabled, multiSet = p.parseBool(key, value), true
		default:
			switch {
			case strings.HasPrefix(key, "metricsProvider."):
				c.MetricsProviderConfig[key[len("metricsProvider."):]] = value
			case hasDynamic && (strings.HasPrefix(key, "server.") || strings.HasPrefix(key, "group") ||
				strings.HasPrefix(key, "weight")):
				p.fail(fmt.Errorf("parameter: %s must be in a separate dynamic config file", key))
			case strings.HasPrefix(key, "zkafka."):
				// Ours: kept under its own name so -Dzkafka.x and zoo.cfg zkafka.x mean the same thing.
				if !zkafkaKeys[key] {
					logger.Warn("unknown zkafka configuration key", "key", key)
				}
				c.Props[key] = value
			default:
				p.warnUnknown(key, !hasDynamic)
				c.Props["zookeeper."+key] = value
			}
		}
		if p.err != nil {
			return nil, p.err
		}
	}

	if c.QuorumServerRequireSASL && !c.QuorumSASLEnabled {
		return nil, errors.New("quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl")
	}
	if c.QuorumLearnerRequireSASL && !c.QuorumSASLEnabled {
		return nil, errors.New("quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl")
	}
	if c.QuorumServerRequireSASL && !c.QuorumLearnerRequireSASL {
		return nil, errors.New("quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl")
	}
	if c.AutopurgeSnapRetainCount < MinSnapRetainCount {
		logger.Warn("invalid autopurge.snapRetainCount, using the minimum",
			"value", c.AutopurgeSnapRetainCount, "using", MinSnapRetainCount)
		c.AutopurgeSnapRetainCount = MinSnapRetainCount
	}
	if !dataDirSet {
		return nil, errors.New("dataDir is not set")
	}
	if !dataLogDirSet {
		c.DataLogDir = c.DataDir
	}
	if c.ClientPort == 0 && c.ClientPortAddress != "" {
		return nil, errors.New("clientPortAddress is set but clientPort is not set")
	}
	if c.SecureClientPort == 0 && c.SecureClientPortAddress != "" {
		return nil, errors.New("secureClientPortAddress is set but secureClientPort is not set")
	}
	if c.ObserverMasterPort < 0 {
		c.ObserverMasterPort = 0
	}
	if c.TickTime == 0 {
		return nil, errors.New("tickTime is not set")
	}
	if c.MinSessionTimeout == -1 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if c.MaxSessionTimeout == -1 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		return nil, fmt.Errorf("minSessionTimeout must not be larger than maxSessionTimeout (%d > %d)",
			c.MinSessionTimeout, c.MaxSessionTimeout)
	}
	switch c.MetricsProviderClassName {
	case DefaultMetricsProvider, PrometheusMetricsProvider:
	default:
		return nil, fmt.Errorf("metricsProvider.className: metrics provider class was not found: %s",
			c.MetricsProviderClassName)
	}
	c.MetricsHTTPHost, c.MetricsHTTPPort = DefaultMetricsHTTPHost, DefaultMetricsHTTPPort
	if c.PrometheusEnabled() {
		if h, ok := c.MetricsProviderConfig["httpHost"]; ok {
			c.MetricsHTTPHost = h
		}
		if v, ok := c.MetricsProviderConfig["httpPort"]; ok {
			c.MetricsHTTPPort = p.parseInt("metricsProvider.httpPort", v)
		}
		if p.err != nil {
			return nil, p.err
		}
	}
	if c.ConnectToLearnerMasterLimit == 0 {
		c.ConnectToLearnerMasterLimit = c.InitLimit
	}
	// QuorumServer accepts '|' address lists only with the system property (checked on 3.8.0: the zoo.cfg key
	// alone is not enough); the zoo.cfg key, when present, only overrides the runtime switch.
	sysMulti := p.sysBool("zookeeper.multiAddress.enabled", false)
	if !multiSet {
		c.MultiAddressEnabled = sysMulti
	}

	if err := p.setupQuorum(uniq, sysMulti); err != nil {
		return nil, err
	}
	if c.SecureClientPort != 0 {
		if err := p.configureSSLAuth(); err != nil {
			return nil, err
		}
	} else if javaBool(c.Props["zookeeper.client.portUnification"]) && c.Props["zookeeper.serverCnxnFactory"] == NettyFactory {
		// NettyServerCnxnFactory's constructor: without an auth provider, unification is turned off, not the server.
		if err := p.configureSSLAuth(); err != nil {
			p.log.Error("unable to set up SslAuthProvider, turning off client port unification", "err", err)
			c.Props["zookeeper.client.portUnification"] = "false"
		}
	}
	p.readSystemProperties()
	return c, nil
}

// parser carries the first error of a parse, so the long key switch stays flat.
type parser struct {
	c        *Config
	log      *slog.Logger
	err      error
	peerType Role // as written in zoo.cfg; the servers list decides
}

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// parseInt is Integer.parseInt: optional sign, decimal digits, 32-bit range.
func (p *parser) parseInt(key, value string) int {
	v, err := strconv.ParseInt(value, 10, 32)
	if err != nil {
		p.fail(fmt.Errorf("%s: %q is not a valid integer", key, value))
		return 0
	}
	return int(v)
}

func (p *parser) parseLong(key, value string) int64 {
	v, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		p.fail(fmt.Errorf("%s: %q is not a valid long", key, value))
		return 0
	}
	return v
}

// parseBool is QuorumPeerConfig.parseBoolean: only true/false, any case.
func (p *parser) parseBool(key, value string) bool {
	switch {
	case strings.EqualFold(value, "true"):
		return true
	case strings.EqualFold(value, "false"):
		return false
	}
	p.fail(fmt.Errorf("Invalid option %s for %s. Choose 'true' or 'false.'", value, key))
	return false
}

// warnRelative mirrors VerifyingFileFactory.warnForRelativePath.
func (p *parser) warnRelative(key, path string) {
	if !filepath.IsAbs(path) && !strings.HasPrefix(path, "./") && !strings.HasPrefix(path, "../") {
		p.log.Warn("path is relative to the working directory; prepend ./ to indicate that you're sure",
			"key", key, "path", path)
	}
}

// warnUnknown reports a zoo.cfg key that falls through to "zookeeper."+key but that neither Apache nor we
// read. Membership keys (server.N, group.N, weight.N, version) are consumed by the quorum parser when no
// dynamicConfigFile is set, so they are not unknown then.
func (p *parser) warnUnknown(key string, membershipInline bool) {
	if membershipInline && (strings.HasPrefix(key, "server.") || strings.HasPrefix(key, "group") ||
		strings.HasPrefix(key, "weight") || key == "version") {
		return
	}
	switch {
	case knownZooKeeperSysProp(key):
	case key == "jute.maxbuffer":
		// Apache ignores this line (it becomes zookeeper.jute.maxbuffer); we honour it, see readSystemProperties.
	case bareSysProps[key]:
		p.log.Warn("zoo.cfg key is ignored, as in Apache: it is a JVM system property; pass -D"+key+"=... in "+
			"SERVER_JVMFLAGS or JVMFLAGS", "key", key)
	default:
		p.log.Warn("unknown configuration key, kept as system property zookeeper."+key, "key", key)
	}
}

// setupQuorum does parseDynamicConfig + setupMyId + setupClientPort + setupPeerType + checkValidity.
func (p *parser) setupQuorum(uniq []Property, multiAddress bool) error {
	c := p.c
	membership := uniq
	if c.DynamicConfigFile != "" {
		dyn, err := readDynamicFile(c.DynamicConfigFile)
		if err != nil {
			return err
		}
		c.DynamicProperties = dyn
		membership = dedupe(dyn)
	}
	q, err := parseQuorum(membership, c.DynamicConfigFile != "", multiAddress, p.log)
	if err != nil {
		return err
	}
	c.Servers, c.Groups, c.Weights, c.ConfigVersion = q.servers, q.groups, q.weights, q.version
	if err := checkMembers(q.voting(), len(q.servers)-q.voting(), c.StandaloneEnabled, p.log); err != nil {
		return err
	}

	if err := p.readMyID(); err != nil {
		return err
	}
	if c.MyID != UnsetServerID {
		if s, ok := c.Server(c.MyID); ok && s.ClientPort != 0 {
			if c.ClientPort != 0 {
				static := c.ClientPortAddress
				if isWildcard(static) {
					if c.ClientPort != s.ClientPort {
						return p.clientAddrConflict(s)
					}
				} else if static != s.ClientHost || c.ClientPort != s.ClientPort {
					return p.clientAddrConflict(s)
				}
			}
			c.ClientPort, c.ClientPortAddress = s.ClientPort, s.ClientHost
			if isWildcard(s.ClientHost) {
				c.ClientPortAddress = ""
			}
		}
	}
	role := RoleParticipant
	if s, ok := c.Server(c.MyID); ok && s.Role == RoleObserver {
		role = RoleObserver
	}
	if p.peerType != "" && p.peerType != role {
		p.log.Warn("Peer type from servers list doesn't match peerType. Defaulting to servers list.",
			"servers", role, "peerType", p.peerType)
	}
	c.PeerType = role
	if !c.Standalone() {
		if c.InitLimit == 0 {
			return errors.New("initLimit is not set")
		}
		if c.SyncLimit == 0 {
			return errors.New("syncLimit is not set")
		}
		if c.MyID == UnsetServerID {
			return errors.New("myid file is missing")
		}
	}
	return nil
}

func (p *parser) clientAddrConflict(s Server) error {
	static := p.c.ClientPortAddress
	if static == "" {
		static = "0.0.0.0"
	}
	return fmt.Errorf("client address for this server (id = %d) in static config file is %s:%d is different "+
		"from client address found in dynamic file: %s:%d", p.c.MyID, static, p.c.ClientPort,
		s.ClientHost, s.ClientPort)
}

func isWildcard(host string) bool {
	switch host {
	case "", "0.0.0.0", "::", "0:0:0:0:0:0:0:0":
		return true
	}
	return false
}

// readMyID is setupMyId: the first line of dataDir/myid parsed with Long.parseLong; no file, no id.
func (p *parser) readMyID() error {
	path := filepath.Join(p.c.DataDir, "myid")
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read myid: %w", err)
	}
	if len(data) == 0 {
		// BufferedReader.readLine returns null on an empty file.
		return errors.New("serverid null is not a number")
	}
	line := string(data)
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	id, err := strconv.ParseInt(line, 10, 64)
	if err != nil {
		return fmt.Errorf("serverid %s is not a number", line)
	}
	p.c.MyID = id
	return nil
}

// configureSSLAuth is QuorumPeerConfig.configureSSLAuth: TLS clients need an auth provider for the scheme.
func (p *parser) configureSSLAuth() error {
	scheme := "x509"
	if v, ok := p.c.Props["zookeeper.ssl.authProvider"]; ok {
		scheme = v
	}
	key := "zookeeper.authProvider." + scheme
	if _, ok := p.c.Props[key]; ok {
		return nil
	}
	if scheme != "x509" {
		return fmt.Errorf("No auth provider configured for the SSL authentication scheme '%s'.", scheme)
	}
	p.c.Props[key] = x509Provider
	return nil
}

// javaBool is Boolean.parseBoolean / Boolean.getBoolean.
func javaBool(v string) bool { return strings.EqualFold(v, "true") }

// javaDecode is Integer.decode / Long.decode: sign, then 0x/0X/# hex, leading 0 octal, else decimal.
func javaDecode(s string, bits int) (int64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	neg := false
	rest := s
	if rest[0] == '-' || rest[0] == '+' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(rest, "0x"), strings.HasPrefix(rest, "0X"):
		base, rest = 16, rest[2:]
	case strings.HasPrefix(rest, "#"):
		base, rest = 16, rest[1:]
	case strings.HasPrefix(rest, "0") && len(rest) > 1:
		base, rest = 8, rest[1:]
	}
	if rest == "" || rest[0] == '-' || rest[0] == '+' {
		return 0, errors.New("bad number")
	}
	if neg {
		rest = "-" + rest
	}
	return strconv.ParseInt(rest, base, bits)
}

// sysInt is Integer.getInteger(name, def): an unparsable value silently means the default in Java; we warn.
func (p *parser) sysInt(name string, def int) int {
	v, ok := p.c.Props[name]
	if !ok {
		return def
	}
	n, err := javaDecode(v, 32)
	if err != nil {
		p.log.Warn("system property is not a valid integer, using the default", "property", name,
			"value", v, "default", def)
		return def
	}
	return int(n)
}

// sysLong is Long.getLong(name, def).
func (p *parser) sysLong(name string, def int64) int64 {
	v, ok := p.c.Props[name]
	if !ok {
		return def
	}
	n, err := javaDecode(v, 64)
	if err != nil {
		p.log.Warn("system property is not a valid long, using the default", "property", name,
			"value", v, "default", def)
		return def
	}
	return n
}

func (p *parser) sysBool(name string, def bool) bool {
	v, ok := p.c.Props[name]
	if !ok {
		return def
	}
	return javaBool(v)
}

// sysDouble is BlueThrottle's getDoubleProp (Double.parseDouble of the property, else def). Java fails to start
// on an unparsable value; we warn and keep the default.
func (p *parser) sysDouble(name string, def float64) float64 {
	v, ok := p.c.Props[name]
	if !ok {
		return def
	}
	t := strings.TrimSpace(v)
	if n := len(t); n > 0 && strings.ContainsRune("fFdD", rune(t[n-1])) { // Java's float/double suffix
		t = t[:n-1]
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		p.log.Warn("system property is not a valid number, using the default", "property", name,
			"value", v, "default", def)
		return def
	}
	return f
}

// readConnThrottle reads the connection throttle's properties as BlueThrottle's static initializer does,
// including its corrections of the session weights.
func (p *parser) readConnThrottle() {
	c := p.c
	const prefix = "zookeeper.connection_throttle_"
	c.ConnThrottleTokens = p.sysInt(prefix+"tokens", 0)
	c.ConnThrottleFillTimeMs = p.sysInt(prefix+"fill_time", 1)
	c.ConnThrottleFillCount = p.sysInt(prefix+"fill_count", 1)
	c.ConnThrottleFreezeTimeMs = p.sysInt(prefix+"freeze_time", -1)
	c.ConnThrottleDropIncrease = p.sysDouble(prefix+"drop_increase", 0.02)
	c.ConnThrottleDropDecrease = p.sysDouble(prefix+"drop_decrease", 0.002)
	c.ConnThrottleDecreaseRatio = p.sysDouble(prefix+"decrease_ratio", 0)
	c.ConnThrottleWeighted = p.sysBool(prefix+"weight_enabled", false)
	global := p.sysInt(prefix+"global_session_weight", 3)
	local := p.sysInt(prefix+"local_session_weight", 1)
	renew := p.sysInt(prefix+"renew_session_weight", 2)
	c.ConnThrottleGlobalWeight = p.sessionWeight("global", global, 3, local)
	c.ConnThrottleLocalWeight = local
	if local <= 0 {
		p.log.Warn("invalid local session weight: it should be larger than 0", "weight", local)
		c.ConnThrottleLocalWeight = 1
	}
	c.ConnThrottleRenewWeight = p.sessionWeight("renew", renew, 2, local)
}

// sessionWeight is BlueThrottle's correction of the global or renew session weight w: its default def when not
// positive, else at least the local weight as configured.
func (p *parser) sessionWeight(kind string, w, def, local int) int {
	switch {
	case w <= 0:
		p.log.Warn("invalid "+kind+" session weight: it should be larger than 0", "weight", w)
		return def
	case w < local:
		p.log.Warn("the "+kind+" session weight is less than the local session weight; using the local one",
			kind, w, "local", local)
		return local
	}
	return w
}

func (p *parser) sysString(name, def string) string {
	if v, ok := p.c.Props[name]; ok {
		return v
	}
	return def
}

// readSystemProperties resolves every setting that Apache reads from System properties, with the reader's
// own parsing rules (each one noted where it differs from a plain boolean/integer).
func (p *parser) readSystemProperties() {
	c := p.c
	c.SnapCount = p.sysInt("zookeeper.snapCount", DefaultSnapCount)
	if c.SnapCount < 2 {
		p.log.Warn("SnapCount should be 2 or more. Now, snapCount is reset to 2", "snapCount", c.SnapCount)
		c.SnapCount = 2
	}
	c.SnapSizeLimitInKb = p.sysLong("zookeeper.snapSizeLimitInKb", DefaultSnapSizeLimitInKb)
	c.PreAllocSizeKB = DefaultPreAllocSizeKB
	if v, ok := c.Props["zookeeper.preAllocSize"]; ok { // FilePadding: Long.parseLong, KB
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			c.PreAllocSizeKB = n
		} else {
			p.log.Warn(v + " is not a valid value for preAllocSize")
		}
	}
	c.ForceSync = p.sysString("zookeeper.forceSync", "yes") != "no"
	c.GlobalOutstandingLimit = p.sysInt("zookeeper.globalOutstandingLimit", DefaultGlobalOutstandingLimit)
	c.LargeRequestMaxBytes = DefaultLargeRequestMaxBytes
	if n := p.sysInt("zookeeper.largeRequestMaxBytes", DefaultLargeRequestMaxBytes); n > 0 {
		c.LargeRequestMaxBytes = n
	} else {
		p.log.Warn("invalid max bytes for all large requests: it should be a positive number; the max bytes stay "+
			"at the default", "largeRequestMaxBytes", n, "default", DefaultLargeRequestMaxBytes)
	}
	c.RequestThrottleMaxRequests = p.sysInt("zookeeper.request_throttle_max_requests", 0)
	c.RequestThrottleStallTimeMs = p.sysInt("zookeeper.request_throttle_stall_time", 100)
	c.RequestThrottleDropStale = p.sysBool("zookeeper.request_throttle_drop_stale", true)
	c.ThrottledOpWaitTimeMs = p.sysInt("zookeeper.throttled_op_wait_time", 0)
	c.RequestStaleConnectionCheck = p.sysBool("zookeeper.request_stale_connection_check", true)
	c.RequestStaleLatencyCheck = p.sysBool("zookeeper.request_stale_latency_check", false)
	c.LargeRequestThreshold = p.sysInt("zookeeper.largeRequestThreshold", -1)
	p.readConnThrottle()
	if c.LargeRequestThreshold == 0 || c.LargeRequestThreshold < -1 {
		p.log.Warn("invalid large request threshold: it should be -1 or positive; setting it to -1",
			"largeRequestThreshold", c.LargeRequestThreshold)
		c.LargeRequestThreshold = -1
	}
	// jute.maxbuffer is a bare JVM property; a zoo.cfg line (zookeeper.jute.maxbuffer) is honoured too, the
	// -D flag winning when both are given, since that is the one Apache uses.
	c.JuteMaxBuffer = DefaultJuteMaxBuffer
	if _, ok := c.Props["jute.maxbuffer"]; ok {
		c.JuteMaxBuffer = p.sysInt("jute.maxbuffer", DefaultJuteMaxBuffer)
	} else if _, ok := c.Props["zookeeper.jute.maxbuffer"]; ok {
		c.JuteMaxBuffer = p.sysInt("zookeeper.jute.maxbuffer", DefaultJuteMaxBuffer)
	}
	c.MaxCnxns = p.sysInt("zookeeper.maxCnxns", 0)
	c.ResponseCacheSize = p.sysInt("zookeeper.maxResponseCacheSize", DefaultResponseCacheSize)
	if c.Props["zookeeper.serverCnxnFactory"] != NettyFactory {
		c.SessionlessCnxnTimeoutMs = max(p.sysInt("zookeeper.nio.sessionlessCnxnTimeout", 10000), 0)
	}
	c.ChildrenResponseCacheSize = p.sysInt("zookeeper.maxGetChildrenResponseCacheSize", DefaultResponseCacheSize)
	c.CnxTimeoutMs = p.sysInt("zookeeper.cnxTimeout", DefaultCnxTimeoutMs)
	c.ObserverElectionDelayMs = p.sysLong("zookeeper.observer.election.DelayMs", 200)
	c.ObserverReconnectDelayMs = p.sysLong("zookeeper.observer.reconnectDelayMs", 0)
	c.ObserverMasterSizeLimit = p.sysInt("zookeeper.observerMaster.sizeLimit", 32<<20)
	c.LeaderConnectDelayDuringRetryMs = p.sysInt("zookeeper.leaderConnectDelayDuringRetryMs", 100)
	c.LeaderAckLoggingFrequency = p.sysInt("zookeeper.leader.ackLoggingFrequency", 1000)
	c.LeaderMaxTimeToWaitForEpochMs = p.sysInt("zookeeper.leader.maxTimeToWaitForEpoch", -1)

	// FourLetterCommands.isEnabled: comma list, trimmed, "*" = all known words, srvr always, isro with
	// readonlymode.enabled exactly "true".
	wl := map[string]bool{}
	if v, ok := c.Props["zookeeper.4lw.commands.whitelist"]; ok {
		for _, w := range strings.Split(v, ",") {
			w = javastr.Trim(w)
			if w == "*" {
				for _, k := range FourLetterWords() {
					wl[k] = true
				}
				break
			}
			if w != "" {
				wl[w] = true
			}
		}
	}
	if p.sysString("readonlymode.enabled", "false") == "true" {
		wl["isro"] = true
	}
	wl["srvr"] = true
	c.FourLetterWordWhitelist = wl

	// AdminServerFactory: enabled unless the property is exactly "false".
	c.AdminEnableServer = p.sysString("zookeeper.admin.enableServer", "") != "false"
	c.AdminServerAddress = p.sysString("zookeeper.admin.serverAddress", DefaultAdminServerAddress)
	c.AdminServerPort = p.sysInt("zookeeper.admin.serverPort", DefaultAdminServerPort)
	c.AdminCommandURL = p.sysString("zookeeper.admin.commandURL", DefaultAdminCommandURL)
	c.AdminIdleTimeoutMs = p.sysInt("zookeeper.admin.idleTimeout", DefaultAdminIdleTimeoutMs)
	c.AdminForceHTTPS = p.sysBool("zookeeper.admin.forceHttps", false)
	c.AdminPortUnification = p.sysBool("zookeeper.admin.portUnification", false)
	c.AdminHTTPVersion = p.sysInt("zookeeper.admin.httpVersion", DefaultAdminHTTPVersion)

	c.ExtendedTypesEnabled = p.sysBool("zookeeper.extendedTypesEnabled", false)
	c.EnforceQuota = p.sysBool("zookeeper.enforceQuota", false)
	c.Emulate353TTLNodes = p.sysBool("zookeeper.emulate353TTLNodes", false)
	c.SuperDigest = p.sysString("zookeeper.DigestAuthenticationProvider.superDigest", "")
	c.DigestAuthEnabled = p.sysBool("zookeeper.DigestAuthenticationProvider.enabled", true)
	c.SkipACL = p.sysString("zookeeper.skipACL", "no") == "yes"
	c.DigestEnabled = p.sysBool("zookeeper.digest.enabled", true)
	c.ContainerCheckIntervalMs = p.sysInt("znode.container.checkIntervalMs", DefaultContainerCheckInterval)
	c.ContainerMaxPerMinute = p.sysInt("znode.container.maxPerMinute", DefaultContainerMaxPerMinute)
	c.ContainerMaxNeverUsedIntervalMs = p.sysLong("znode.container.maxNeverUsedIntervalMs", 0)
	c.ReadOnlyModeEnabled = p.sysBool("readonlymode.enabled", false)
	c.SnapshotTrustEmpty = p.sysBool("zookeeper.snapshot.trust.empty", false)
	c.SnapshotCompressionMethod = p.sysString("zookeeper.snapshot.compression.method", "")
	c.DataDirAutocreate = p.sysBool("zookeeper.datadir.autocreate", true)
	c.SrvrLegacyDateFormat = p.sysBool("zkafka.srvrLegacyDateFormat", false)
	c.SnapshotWriteRateMBps = p.sysInt("zkafka.snapshot.writeRateMBps", DefaultSnapshotWriteRateMBps)

	c.AuthProviders = map[string]string{}
	for k, v := range c.Props {
		if n, ok := strings.CutPrefix(k, "zookeeper.authProvider."); ok && n != "" {
			c.AuthProviders[n] = v
		}
	}
}

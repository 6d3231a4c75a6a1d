package serverprops

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func load(t *testing.T, props map[string]string, overrides ...string) *Config {
	t.Helper()
	if _, ok := props[ZkConnect]; !ok {
		props[ZkConnect] = "localhost:2181"
	}
	c, err := FromMap(props, overrides, nil)
	if err != nil {
		t.Fatalf("FromMap(%v): %v", props, err)
	}
	return c
}

func loadErr(t *testing.T, props map[string]string, overrides ...string) *ConfigError {
	t.Helper()
	if _, ok := props[ZkConnect]; !ok {
		props[ZkConnect] = "localhost:2181"
	}
	c, err := FromMap(props, overrides, nil)
	if err == nil {
		t.Fatalf("FromMap(%v) = %+v, want error", props, c.Raw)
	}
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *ConfigError", err, err)
	}
	return ce
}

func TestDefaults(t *testing.T) {
	c := load(t, map[string]string{})
	got := map[string]any{
		"BrokerID":                      c.BrokerID,
		"BrokerIDGenerationEnable":      c.BrokerIDGenerationEnable,
		"ReservedBrokerMaxID":           c.ReservedBrokerMaxID,
		"LogDirs":                       c.LogDirs,
		"ZookeeperSessionTimeoutMs":     c.ZookeeperSessionTimeoutMs,
		"ZookeeperConnectionTimeoutMs":  c.ZookeeperConnectionTimeoutMs,
		"NumPartitions":                 c.NumPartitions,
		"DefaultReplicationFactor":      c.DefaultReplicationFactor,
		"OffsetsTopicPartitions":        c.OffsetsTopicPartitions,
		"OffsetsTopicReplicationFactor": c.OffsetsTopicReplicationFactor,
		"OffsetsRetentionMinutes":       c.OffsetsRetentionMinutes,
		"OffsetsTopicSegmentBytes":      c.OffsetsTopicSegmentBytes,
		"OffsetsCommitRequiredAcks":     c.OffsetsCommitRequiredAcks,
		"TransactionStateLogPartitions": c.TransactionStateLogPartitions,
		"TransactionStateLogRF":         c.TransactionStateLogReplicationFactor,
		"TransactionStateLogMinISR":     c.TransactionStateLogMinISR,
		"TransactionStateLogSegment":    c.TransactionStateLogSegmentBytes,
		"TransactionMaxTimeoutMs":       c.TransactionMaxTimeoutMs,
		"AutoCreateTopicsEnable":        c.AutoCreateTopicsEnable,
		"DeleteTopicEnable":             c.DeleteTopicEnable,
		"MessageMaxBytes":               c.MessageMaxBytes,
		"SocketRequestMaxBytes":         c.SocketRequestMaxBytes,
		"ReplicaLagTimeMaxMs":           c.ReplicaLagTimeMaxMs,
		"MinInsyncReplicas":             c.MinInsyncReplicas,
		"UncleanLeaderElection":         c.UncleanLeaderElection,
		"GroupMinSessionTimeoutMs":      c.GroupMinSessionTimeoutMs,
		"GroupMaxSessionTimeoutMs":      c.GroupMaxSessionTimeoutMs,
		"GroupInitialRebalanceDelayMs":  c.GroupInitialRebalanceDelayMs,
		"LogSegmentBytes":               c.LogSegmentBytes,
		"LogRollMs":                     c.LogRollMs,
		"LogRollJitterMs":               c.LogRollJitterMs,
		"LogRetentionMs":                c.LogRetentionMs,
		"LogRetentionBytes":             c.LogRetentionBytes,
		"LogRetentionCheckIntervalMs":   c.LogRetentionCheckIntervalMs,
		"LogCleanupPolicy":              c.LogCleanupPolicy,
		"LogCleanerEnable":              c.LogCleanerEnable,
		"LogCleanerMinCleanableRatio":   c.LogCleanerMinCleanableRatio,
		"LogCleanerDeleteRetentionMs":   c.LogCleanerDeleteRetentionMs,
		"LogFlushIntervalMessages":      c.LogFlushIntervalMessages,
		"LogFlushIntervalMs":            c.LogFlushIntervalMs,
		"LogFlushSchedulerIntervalMs":   c.LogFlushSchedulerIntervalMs,
		"LogIndexIntervalBytes":         c.LogIndexIntervalBytes,
		"LogIndexSizeMaxBytes":          c.LogIndexSizeMaxBytes,
		"LogSegmentDeleteDelayMs":       c.LogSegmentDeleteDelayMs,
		"LogMessageTimestampType":       c.LogMessageTimestampType,
		"LogPreallocate":                c.LogPreallocate,
		"LogMessageFormatVersion":       c.LogMessageFormatVersion.Version,
		"InterBrokerProtocolVersion":    c.InterBrokerProtocolVersion.Version,
		"NumNetworkThreads":             c.NumNetworkThreads,
		"NumIoThreads":                  c.NumIoThreads,
		"NumReplicaAlterLogDirsThreads": c.NumReplicaAlterLogDirsThreads,
		"SaslEnabledMechanisms":         c.SaslEnabledMechanisms,
		"CompressionType":               c.CompressionType,
		"InterBrokerListenerName":       c.InterBrokerListenerName,
		"Listeners":                     c.Listeners,
		"AdvertisedListeners":           c.AdvertisedListeners,
		"MaxConnectionsPerIP":           c.MaxConnectionsPerIP,
		"FetchMaxBytes":                 c.FetchMaxBytes,
		"Unknown":                       len(c.Unknown),
	}
	plaintext := []Listener{{Name: "PLAINTEXT", Host: "", Port: 9092, SecurityProtocol: "PLAINTEXT"}}
	want := map[string]any{
		"BrokerID":                      int32(-1),
		"BrokerIDGenerationEnable":      true,
		"ReservedBrokerMaxID":           int32(1000),
		"LogDirs":                       []string{"/tmp/kafka-logs"},
		"ZookeeperSessionTimeoutMs":     int32(18000),
		"ZookeeperConnectionTimeoutMs":  int32(18000),
		"NumPartitions":                 int32(1),
		"DefaultReplicationFactor":      int32(1),
		"OffsetsTopicPartitions":        int32(50),
		"OffsetsTopicReplicationFactor": int16(3),
		"OffsetsRetentionMinutes":       int32(10080),
		"OffsetsTopicSegmentBytes":      int32(104857600),
		"OffsetsCommitRequiredAcks":     int16(-1),
		"TransactionStateLogPartitions": int32(50),
		"TransactionStateLogRF":         int16(3),
		"TransactionStateLogMinISR":     int32(2),
		"TransactionStateLogSegment":    int32(104857600),
		"TransactionMaxTimeoutMs":       int32(900000),
		"AutoCreateTopicsEnable":        true,
		"DeleteTopicEnable":             true,
		"MessageMaxBytes":               int32(1048588),
		"SocketRequestMaxBytes":         int32(104857600),
		"ReplicaLagTimeMaxMs":           int64(30000),
		"MinInsyncReplicas":             int32(1),
		"UncleanLeaderElection":         false,
		"GroupMinSessionTimeoutMs":      int32(6000),
		"GroupMaxSessionTimeoutMs":      int32(1800000),
		"GroupInitialRebalanceDelayMs":  int32(3000),
		"LogSegmentBytes":               int32(1 << 30),
		"LogRollMs":                     int64(168 * 3600000),
		"LogRollJitterMs":               int64(0),
		"LogRetentionMs":                int64(168 * 3600000),
		"LogRetentionBytes":             int64(-1),
		"LogRetentionCheckIntervalMs":   int64(300000),
		"LogCleanupPolicy":              []string{"delete"},
		"LogCleanerEnable":              true,
		"LogCleanerMinCleanableRatio":   0.5,
		"LogCleanerDeleteRetentionMs":   int64(86400000),
		"LogFlushIntervalMessages":      int64(math.MaxInt64),
		"LogFlushIntervalMs":            int64(math.MaxInt64),
		"LogFlushSchedulerIntervalMs":   int64(math.MaxInt64),
		"LogIndexIntervalBytes":         int32(4096),
		"LogIndexSizeMaxBytes":          int32(10485760),
		"LogSegmentDeleteDelayMs":       int64(60000),
		"LogMessageTimestampType":       "CreateTime",
		"LogPreallocate":                false,
		"LogMessageFormatVersion":       "2.8-IV1",
		"InterBrokerProtocolVersion":    "2.8-IV1",
		"NumNetworkThreads":             int32(3),
		"NumIoThreads":                  int32(8),
		"NumReplicaAlterLogDirsThreads": int32(1),
		"SaslEnabledMechanisms":         []string{"GSSAPI"},
		"CompressionType":               "producer",
		"InterBrokerListenerName":       "PLAINTEXT",
		"Listeners":                     plaintext,
		"AdvertisedListeners":           plaintext,
		"MaxConnectionsPerIP":           int32(math.MaxInt32),
		"FetchMaxBytes":                 int32(55 << 20),
		"Unknown":                       0,
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
	if v, ok := c.Raw[LogCleanerIoMaxBytesPerSecond]; !ok || v != "1.7976931348623157E308" {
		t.Errorf("Raw[%s] = %q", LogCleanerIoMaxBytesPerSecond, v)
	}
	if v := c.Raw[ListenerSecurityProtocolMapProp]; v != DefaultListenerSecurityProtocolMap {
		t.Errorf("Raw[listener.security.protocol.map] = %q", v)
	}
	if _, ok := c.Raw[LogRetentionMs]; ok {
		t.Errorf("Raw has log.retention.ms although it is null")
	}
	if _, ok := c.Raw[ProcessRoles]; ok {
		t.Errorf("Raw has the internal process.roles")
	}
}

func TestRetentionAndRollPrecedence(t *testing.T) {
	const h, m = int64(3600000), int64(60000)
	for _, tc := range []struct {
		props map[string]string
		want  int64
	}{
		{map[string]string{LogRetentionHours: "24"}, 24 * h},
		{map[string]string{LogRetentionHours: "24", LogRetentionMinutes: "30"}, 30 * m},
		{map[string]string{LogRetentionHours: "24", LogRetentionMinutes: "30", LogRetentionMs: "1234"}, 1234},
		{map[string]string{LogRetentionMinutes: "30", LogRetentionMs: "1234"}, 1234},
		{map[string]string{LogRetentionMs: "-1"}, -1},
		{map[string]string{LogRetentionMs: "-5"}, -1},
		{map[string]string{LogRetentionHours: "-1"}, -1},
		{map[string]string{LogRetentionMinutes: "-1", LogRetentionHours: "5"}, -1},
	} {
		if got := load(t, tc.props).LogRetentionMs; got != tc.want {
			t.Errorf("%v: LogRetentionMs = %d, want %d", tc.props, got, tc.want)
		}
	}
	for _, tc := range []struct {
		props             map[string]string
		roll, jitter      int64
		flush, flushSched int64
	}{
		{map[string]string{}, 168 * h, 0, math.MaxInt64, math.MaxInt64},
		{map[string]string{LogRollHours: "1", LogRollJitterHours: "2"}, h, 2 * h, math.MaxInt64, math.MaxInt64},
		{map[string]string{LogRollHours: "1", LogRollMs: "500", LogRollJitterHours: "2", LogRollJitterMs: "7"},
			500, 7, math.MaxInt64, math.MaxInt64},
		{map[string]string{LogFlushSchedulerIntervalMs: "3000"}, 168 * h, 0, 3000, 3000},
		{map[string]string{LogFlushSchedulerIntervalMs: "3000", LogFlushIntervalMs: "1000"}, 168 * h, 0, 1000, 3000},
	} {
		c := load(t, tc.props)
		if c.LogRollMs != tc.roll || c.LogRollJitterMs != tc.jitter || c.LogFlushIntervalMs != tc.flush ||
			c.LogFlushSchedulerIntervalMs != tc.flushSched {
			t.Errorf("%v: roll %d jitter %d flush %d sched %d, want %d %d %d %d", tc.props, c.LogRollMs,
				c.LogRollJitterMs, c.LogFlushIntervalMs, c.LogFlushSchedulerIntervalMs, tc.roll, tc.jitter,
				tc.flush, tc.flushSched)
		}
	}
	// Invalid combinations KafkaConfig.validateValues rejects.
	for _, tc := range []struct {
		props map[string]string
		key   string
	}{
		{map[string]string{LogRetentionMs: "0"}, LogRetentionMs},
		{map[string]string{LogRetentionMinutes: "0"}, LogRetentionMs},
		{map[string]string{LogRollMs: "0"}, LogRollMs},
		{map[string]string{LogRollHours: "0"}, LogRollHours}, // atLeast(1)
		{map[string]string{LogRollJitterMs: "-1"}, LogRollJitterMs},
	} {
		if e := loadErr(t, tc.props); e.Key != tc.key {
			t.Errorf("%v: error key %q (%s), want %q", tc.props, e.Key, e.Message, tc.key)
		}
	}
}

func TestOverridesAndDuplicates(t *testing.T) {
	c := load(t, map[string]string{NumPartitions: "3", BrokerIDProp: "1"}, "num.partitions=7", "broker.id=2",
		"log.dirs=/a, /b ,/c", "broker.rack=r=1")
	if c.NumPartitions != 7 || c.BrokerID != 2 || c.Rack != "r=1" {
		t.Errorf("overrides lost: partitions %d broker %d", c.NumPartitions, c.BrokerID)
	}
	if !reflect.DeepEqual(c.LogDirs, []string{"/a", "/b", "/c"}) {
		t.Errorf("LogDirs = %q", c.LogDirs)
	}
	if c.NumReplicaAlterLogDirsThreads != 3 {
		t.Errorf("NumReplicaAlterLogDirsThreads = %d, want len(log.dirs)", c.NumReplicaAlterLogDirsThreads)
	}
	// An override without '=' sets the empty string: rack "" is an empty (not null) value.
	c = load(t, map[string]string{}, "broker.rack")
	if v, ok := c.Raw[BrokerRack]; !ok || v != "" {
		t.Errorf("broker.rack from bare override = %q, %v", v, ok)
	}
	if e := loadErr(t, map[string]string{}, "num.partitions"); e.Key != NumPartitions {
		t.Errorf("bare num.partitions override: %v", e)
	}
	// zoocfg semantics: last duplicate wins, values trimmed by ConfigDef.
	cfg, err := Read(strings.NewReader("zookeeper.connect=zk:2181/kafka\nnum.partitions=2\nnum.partitions = 4  \n"),
		nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NumPartitions != 4 || cfg.ZookeeperConnect != "zk:2181/kafka" {
		t.Errorf("NumPartitions %d ZookeeperConnect %q", cfg.NumPartitions, cfg.ZookeeperConnect)
	}
	if cfg.ZookeeperConnectionTimeoutMs != 18000 {
		t.Errorf("connection timeout default = %d, want the session timeout", cfg.ZookeeperConnectionTimeoutMs)
	}
}

func TestListeners(t *testing.T) {
	for _, tc := range []struct {
		name        string
		props       map[string]string
		listeners   []Listener
		advertised  []Listener
		interBroker string
	}{
		{"empty host", map[string]string{ListenersProp: "PLAINTEXT://:9092"},
			[]Listener{{"PLAINTEXT", "", 9092, Plaintext}}, []Listener{{"PLAINTEXT", "", 9092, Plaintext}}, "PLAINTEXT"},
		{"wildcard bind, routable advertised",
			map[string]string{ListenersProp: "PLAINTEXT://0.0.0.0:9092", AdvertisedListenersProp: "PLAINTEXT://broker1:9092"},
			[]Listener{{"PLAINTEXT", "0.0.0.0", 9092, Plaintext}}, []Listener{{"PLAINTEXT", "broker1", 9092, Plaintext}},
			"PLAINTEXT"},
		{"ipv6", map[string]string{ListenersProp: "PLAINTEXT://[::1]:9092,SSL://[fe80::1%eth0]:9093"},
			[]Listener{{"PLAINTEXT", "::1", 9092, Plaintext}, {"SSL", "fe80::1%eth0", 9093, SSL}},
			[]Listener{{"PLAINTEXT", "::1", 9092, Plaintext}, {"SSL", "fe80::1%eth0", 9093, SSL}}, "PLAINTEXT"},
		{"lower-case names are normalised", map[string]string{ListenersProp: "plaintext://localhost:9092"},
			[]Listener{{"PLAINTEXT", "localhost", 9092, Plaintext}}, []Listener{{"PLAINTEXT", "localhost", 9092, Plaintext}},
			"PLAINTEXT"},
		{"custom names with map", map[string]string{
			ListenersProp:                   "INTERNAL://:9092, EXTERNAL://:9093",
			AdvertisedListenersProp:         "INTERNAL://10.0.0.1:9092,EXTERNAL://kafka.example.com:19093",
			ListenerSecurityProtocolMapProp: "INTERNAL:PLAINTEXT, external:sasl_ssl",
			InterBrokerListenerNameProp:     "internal",
			SaslEnabledMechanisms:           "PLAIN"},
			[]Listener{{"INTERNAL", "", 9092, Plaintext}, {"EXTERNAL", "", 9093, SaslSSL}},
			[]Listener{{"INTERNAL", "10.0.0.1", 9092, Plaintext}, {"EXTERNAL", "kafka.example.com", 19093, SaslSSL}},
			"INTERNAL"},
		{"deprecated host.name and port", map[string]string{HostName: "h1", Port: "9999"},
			[]Listener{{"PLAINTEXT", "h1", 9999, Plaintext}}, []Listener{{"PLAINTEXT", "h1", 9999, Plaintext}}, "PLAINTEXT"},
		{"deprecated advertised.host.name", map[string]string{AdvertisedHostName: "adv", Port: "9999"},
			[]Listener{{"PLAINTEXT", "", 9999, Plaintext}}, []Listener{{"PLAINTEXT", "adv", 9999, Plaintext}}, "PLAINTEXT"},
		{"port 0 may repeat", map[string]string{ListenersProp: "PLAINTEXT://:0,SSL://:0"},
			[]Listener{{"PLAINTEXT", "", 0, Plaintext}, {"SSL", "", 0, SSL}},
			[]Listener{{"PLAINTEXT", "", 0, Plaintext}, {"SSL", "", 0, SSL}}, "PLAINTEXT"},
		{"inter broker by security protocol", map[string]string{ListenersProp: "PLAINTEXT://:9092,SSL://:9093",
			InterBrokerSecurityProtocol: "ssl"},
			[]Listener{{"PLAINTEXT", "", 9092, Plaintext}, {"SSL", "", 9093, SSL}},
			[]Listener{{"PLAINTEXT", "", 9092, Plaintext}, {"SSL", "", 9093, SSL}}, "SSL"},
	} {
		c := load(t, tc.props)
		if !reflect.DeepEqual(c.Listeners, tc.listeners) {
			t.Errorf("%s: Listeners = %+v, want %+v", tc.name, c.Listeners, tc.listeners)
		}
		if !reflect.DeepEqual(c.AdvertisedListeners, tc.advertised) {
			t.Errorf("%s: AdvertisedListeners = %+v, want %+v", tc.name, c.AdvertisedListeners, tc.advertised)
		}
		if c.InterBrokerListenerName != tc.interBroker {
			t.Errorf("%s: InterBrokerListenerName = %q, want %q", tc.name, c.InterBrokerListenerName, tc.interBroker)
		}
	}

	l := Listener{Name: "PLAINTEXT", Host: "::1", Port: 9092}
	if l.String() != "PLAINTEXT://[::1]:9092" || l.Address() != "[::1]:9092" {
		t.Errorf("String %q Address %q", l.String(), l.Address())
	}
	if s := (Listener{Name: "SSL", Port: 1}).String(); s != "SSL://:1" {
		t.Errorf("String = %q", s)
	}
	if a := (Listener{Name: "SSL", Port: 1}).Address(); a != ":1" {
		t.Errorf("Address = %q", a)
	}
	if ConfigPrefix("SASL_SSL") != "listener.name.sasl_ssl." {
		t.Errorf("ConfigPrefix = %q", ConfigPrefix("SASL_SSL"))
	}
}

func TestListenerErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props map[string]string
		key   string
		msg   string
	}{
		{"no scheme", map[string]string{ListenersProp: "localhost:9092"}, ListenersProp,
			"Error creating broker listeners from 'localhost:9092': Unable to parse localhost:9092 to a broker endpoint"},
		{"no protocol for name", map[string]string{ListenersProp: "CLIENT://:9092"}, ListenersProp,
			"Error creating broker listeners from 'CLIENT://:9092': No security protocol defined for listener CLIENT"},
		{"duplicate name", map[string]string{ListenersProp: "PLAINTEXT://:9092,PLAINTEXT://:9093"}, ListenersProp,
			"requirement failed: Each listener must have a different name, listeners: PLAINTEXT://:9092,PLAINTEXT://:9093"},
		{"duplicate port", map[string]string{ListenersProp: "PLAINTEXT://:9092,SSL://:9092"}, ListenersProp,
			"requirement failed: Each listener must have a different port, listeners: PLAINTEXT://:9092,SSL://:9092"},
		{"advertised wildcard", map[string]string{ListenersProp: "PLAINTEXT://0.0.0.0:9092"}, AdvertisedListenersProp,
			"requirement failed: advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address."},
		{"bad protocol in map", map[string]string{ListenerSecurityProtocolMapProp: "PLAINTEXT:PLAINTEXT,X:TLS"},
			ListenerSecurityProtocolMapProp, "Invalid security protocol `TLS` defined in listener.security.protocol.map"},
		{"map entry without colon", map[string]string{ListenerSecurityProtocolMapProp: "PLAINTEXT"},
			ListenerSecurityProtocolMapProp, "Error parsing configuration property 'listener.security.protocol.map': begin 0, end -1, length 9"},
		{"both inter-broker settings", map[string]string{InterBrokerListenerNameProp: "PLAINTEXT",
			InterBrokerSecurityProtocol: "PLAINTEXT"}, InterBrokerListenerNameProp,
			"Only one of inter.broker.listener.name and security.inter.broker.protocol should be set."},
		{"inter-broker name unmapped", map[string]string{InterBrokerListenerNameProp: "REPLICATION"},
			InterBrokerListenerNameProp,
			"Listener with name REPLICATION defined in inter.broker.listener.name not found in listener.security.protocol.map."},
		{"inter-broker not advertised", map[string]string{InterBrokerSecurityProtocol: "SSL"}, InterBrokerListenerNameProp,
			"requirement failed: inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are PLAINTEXT"},
		{"advertised not bound", map[string]string{AdvertisedListenersProp: "PLAINTEXT://h:9092,SSL://h:9093"},
			AdvertisedListenersProp, "requirement failed: advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found PLAINTEXT,SSL. The valid options based on the current configuration are PLAINTEXT"},
		{"bad inter-broker protocol", map[string]string{InterBrokerSecurityProtocol: "TLS"}, InterBrokerSecurityProtocol,
			"Invalid security protocol `TLS` defined in security.inter.broker.protocol"},
		{"control plane = inter broker", map[string]string{ControlPlaneListenerName: "plaintext"}, ControlPlaneListenerName,
			"requirement failed: control.plane.listener.name, when defined, should have a different value from the inter broker listener name. Currently they both have the value PLAINTEXT"},
		{"sasl mechanism not enabled", map[string]string{ListenersProp: "SASL_PLAINTEXT://:9092",
			InterBrokerSecurityProtocol: "SASL_PLAINTEXT", SaslMechanismInterBroker: "PLAIN"}, SaslMechanismInterBroker,
			"requirement failed: sasl.mechanism.inter.broker.protocol must be included in sasl.enabled.mechanisms when SASL is used for inter-broker communication"},
	} {
		e := loadErr(t, tc.props)
		if e.Key != tc.key || e.Message != tc.msg {
			t.Errorf("%s:\n got %q %q\nwant %q %q", tc.name, e.Key, e.Message, tc.key, tc.msg)
		}
	}
	// The per-listener override satisfies the SASL check.
	load(t, map[string]string{ListenersProp: "SASL_PLAINTEXT://:9092", InterBrokerSecurityProtocol: "SASL_PLAINTEXT",
		SaslMechanismInterBroker: "PLAIN", "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256"})
}

func TestValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		props map[string]string
		key   string
		msg   string
	}{
		{map[string]string{NumPartitions: "abc"}, NumPartitions,
			"Invalid value abc for configuration num.partitions: Not a number of type INT"},
		{map[string]string{NumPartitions: "0"}, NumPartitions,
			"Invalid value 0 for configuration num.partitions: Value must be at least 1"},
		{map[string]string{NumPartitions: "2147483648"}, NumPartitions,
			"Invalid value 2147483648 for configuration num.partitions: Not a number of type INT"},
		{map[string]string{OffsetsTopicReplicationFactor: "40000"}, OffsetsTopicReplicationFactor,
			"Invalid value 40000 for configuration offsets.topic.replication.factor: Not a number of type SHORT"},
		{map[string]string{LogRetentionBytes: "1.5"}, LogRetentionBytes,
			"Invalid value 1.5 for configuration log.retention.bytes: Not a number of type LONG"},
		{map[string]string{AutoCreateTopicsEnable: "yes"}, AutoCreateTopicsEnable,
			"Invalid value yes for configuration auto.create.topics.enable: Expected value to be either true or false"},
		{map[string]string{LogCleanerMinCleanableRatio: "half"}, LogCleanerMinCleanableRatio,
			"Invalid value half for configuration log.cleaner.min.cleanable.ratio: Not a number of type DOUBLE"},
		{map[string]string{LogCleanupPolicy: "delete,archive"}, LogCleanupPolicy,
			"Invalid value archive for configuration log.cleanup.policy: String must be one of: compact, delete"},
		{map[string]string{LogMessageTimestampType: "createtime"}, LogMessageTimestampType,
			"Invalid value createtime for configuration log.message.timestamp.type: String must be one of: CreateTime, LogAppendTime"},
		{map[string]string{InterBrokerProtocolVersion: "3.0"}, InterBrokerProtocolVersion,
			"Invalid value 3.0 for configuration inter.broker.protocol.version: Version `3.0` is not a valid version"},
		{map[string]string{"ssl.client.auth": "always"}, "ssl.client.auth",
			"Invalid value always for configuration ssl.client.auth: String must be one of: required, requested, none"},
		{map[string]string{ZkConnect: ""}, "", ""}, // placeholder replaced below
		{map[string]string{BrokerIDProp: "1001"}, BrokerIDProp,
			"requirement failed: broker.id must be greater than or equal to -1 and not greater than reserved.broker.max.id"},
		{map[string]string{BrokerIDProp: "-1", BrokerIDGenerationEnable: "false"}, BrokerIDProp,
			"requirement failed: broker.id must be greater than or equal to 0"},
		{map[string]string{CompressionType: "brotli"}, CompressionType,
			"requirement failed: compression.type : brotli is not valid. Valid options are uncompressed,zstd,lz4,snappy,gzip,producer"},
		{map[string]string{InterBrokerProtocolVersion: "0.10.2", LogMessageFormatVersion: "0.11.0"}, LogMessageFormatVersion,
			"requirement failed: log.message.format.version 0.11.0 can only be used when inter.broker.protocol.version is set to version 0.11.0 or higher"},
		{map[string]string{ReplicaFetchWaitMaxMs: "40000"}, ReplicaSocketTimeoutMs,
			"requirement failed: replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts"},
		{map[string]string{OffsetsCommitRequiredAcks: "4"}, OffsetsCommitRequiredAcks,
			"requirement failed: offsets.commit.required.acks must be greater or equal -1 and less or equal to offsets.topic.replication.factor"},
		{map[string]string{LogCleanerDedupeBufferSize: "1048576"}, LogCleanerDedupeBufferSize,
			"requirement failed: log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread."},
		{map[string]string{LogDirsProp: " , "}, LogDirsProp,
			"requirement failed: At least one log directory must be defined via log.dirs or log.dir."},
		{map[string]string{QueuedMaxRequestBytes: "1000"}, QueuedMaxRequestBytes,
			"requirement failed: queued.max.request.bytes must be larger or equal to socket.request.max.bytes"},
		{map[string]string{MaxConnectionsPerIP: "0"}, MaxConnectionsPerIP,
			"requirement failed: max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is set."},
		{map[string]string{MaxConnectionsPerIPOverrides: "host1:x"}, MaxConnectionsPerIPOverrides,
			"Error parsing configuration property 'max.connections.per.ip.overrides': For input string: \"x\""},
		{map[string]string{MaxConnectionsPerIPOverrides: "bad host:5"}, MaxConnectionsPerIPOverrides,
			"max.connections.per.ip.overrides contains invalid addresses : bad host"},
		{map[string]string{OffsetsTopicCompressionCodec: "7"}, OffsetsTopicCompressionCodec,
			"7 is an unknown compression codec"},
		{map[string]string{ProcessRoles: "broker"}, ProcessRoles, ""},
		{map[string]string{ConnectionsMaxIdleMs: "100"}, FailedAuthenticationDelayMs,
			"requirement failed: connection.failed.authentication.delay.ms=100 should always be less than connections.max.idle.ms=100 to prevent failed authentication responses from timing out"},
	} {
		if tc.key == "" {
			continue
		}
		e := loadErr(t, tc.props)
		if e.Key != tc.key || (tc.msg != "" && e.Message != tc.msg) {
			t.Errorf("%v:\n got %q %q\nwant %q %q", tc.props, e.Key, e.Message, tc.key, tc.msg)
		}
		if !strings.Contains(e.Error(), tc.key) && tc.key != OffsetsTopicCompressionCodec && tc.key != LogDirsProp {
			t.Errorf("%v: error %q does not name the key", tc.props, e.Error())
		}
	}
	_, err := FromMap(map[string]string{}, nil, nil)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != ZkConnect ||
		ce.Message != "Missing required configuration `zookeeper.connect` which has no default value." {
		t.Errorf("missing zookeeper.connect: %v", err)
	}
	// Valid edge values.
	c := load(t, map[string]string{MaxConnectionsPerIP: "0", MaxConnectionsPerIPOverrides: "127.0.0.1:5, ::1:7 ,h-1:0",
		InterBrokerProtocolVersion: "0.10.2.1", LogMessageFormatVersion: "0.10.0", CompressionType: "GZIP",
		LogCleanerMinCleanableRatio: " 0.75 ", AutoCreateTopicsEnable: "FALSE"})
	if want := map[string]int32{"127.0.0.1": 5, "::1": 7, "h-1": 0}; !reflect.DeepEqual(c.MaxConnectionsPerIPOverrides, want) {
		t.Errorf("MaxConnectionsPerIPOverrides = %v", c.MaxConnectionsPerIPOverrides)
	}
	if c.InterBrokerProtocolVersion.Version != "0.10.2-IV0" || c.LogMessageFormatVersion.Version != "0.10.0-IV1" {
		t.Errorf("versions %v %v", c.InterBrokerProtocolVersion, c.LogMessageFormatVersion)
	}
	if c.LogCleanerMinCleanableRatio != 0.75 || c.AutoCreateTopicsEnable {
		t.Errorf("ratio %v auto-create %v", c.LogCleanerMinCleanableRatio, c.AutoCreateTopicsEnable)
	}
}

func TestUnknownKeyWarning(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	c, err := FromMap(map[string]string{ZkConnect: "zk:2181", "log.retention.dayz": "7", "super.users": "User:admin",
		"listener.name.sasl_ssl.plain.sasl.jaas.config": "secret", "my.secret": "hunter2"}, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"log.retention.dayz", "my.secret"}; !reflect.DeepEqual(c.Unknown, want) {
		t.Errorf("Unknown = %q, want %q", c.Unknown, want)
	}
	out := buf.String()
	if !strings.Contains(out, "log.retention.dayz") || !strings.Contains(out, "level=WARN") {
		t.Errorf("no warning for the unknown key in %q", out)
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("unknown key's value (maybe a secret) was logged: %q", out)
	}
	if strings.Contains(out, "super.users") || strings.Contains(out, "jaas") {
		t.Errorf("warned about a known key: %q", out)
	}
	if c.Raw["log.retention.dayz"] != "7" {
		t.Errorf("unknown key not kept in Raw")
	}
}

func TestKafka091ServerProperties(t *testing.T) {
	var buf bytes.Buffer
	c, err := Load(filepath.Join("testdata", "kafka-0.9.0.1-server.properties"), nil,
		slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 || len(c.Unknown) != 0 {
		t.Errorf("warnings for a stock file: %s %q", buf.String(), c.Unknown)
	}
	if c.BrokerID != 0 || c.ZookeeperConnect != "localhost:2181" || c.ZookeeperConnectionTimeoutMs != 6000 ||
		c.ZookeeperSessionTimeoutMs != 18000 || !reflect.DeepEqual(c.LogDirs, []string{"/tmp/kafka-logs"}) ||
		c.LogRetentionMs != 168*3600000 || c.LogSegmentBytes != 1<<30 || c.NumIoThreads != 8 ||
		len(c.Listeners) != 1 || c.Listeners[0] != (Listener{"PLAINTEXT", "", 9092, Plaintext}) {
		t.Errorf("unexpected config: %+v", c)
	}
	if _, err := Load(filepath.Join("testdata", "missing.properties"), nil, nil); err == nil {
		t.Errorf("missing file loaded")
	}
}

func TestJavaFormatting(t *testing.T) {
	for s, want := range map[string]float64{"1d": 1, "2.5F": 2.5, ".5": 0.5, "1e3": 1000, "-Infinity": math.Inf(-1)} {
		v, err := parseType("x", s, TypeDouble)
		if err != nil || v.(float64) != want {
			t.Errorf("parse %q = %v, %v", s, v, err)
		}
	}
	for _, s := range []string{"inf", "0x10", "1_0", ""} {
		if _, err := parseType("x", s, TypeDouble); err == nil {
			t.Errorf("parse %q: no error", s)
		}
	}
	v, _ := parseType("l", " a , b,, c ,", TypeList)
	if !reflect.DeepEqual(v, []string{"a", "b", "", "c", ""}) {
		t.Errorf("list = %q", v)
	}
}

func TestAPIVersion(t *testing.T) {
	for s, want := range map[string]string{"2.8": "2.8-IV1", "2.8.0": "2.8-IV1", "2.8-IV0": "2.8-IV0",
		"0.10.0": "0.10.0-IV1", "0.10.0-IV0": "0.10.0-IV0", "0.9.0.1": "0.9.0", "0.8.2.x": "0.8.2", "1.0": "1.0-IV0",
		"2.1": "2.1-IV2"} {
		v, err := ParseAPIVersion(s)
		if err != nil || v.Version != want {
			t.Errorf("ParseAPIVersion(%q) = %v, %v; want %s", s, v, err, want)
		}
	}
	for _, s := range []string{"2", "3.0", "0.10", "", "2.9"} {
		if _, err := ParseAPIVersion(s); err == nil {
			t.Errorf("ParseAPIVersion(%q) accepted", s)
		}
	}
}

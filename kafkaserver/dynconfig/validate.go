// Package dynconfig holds a broker's dynamic configuration as Kafka 2.8's DynamicConfigManager and
// DynamicBrokerConfig do in ZooKeeper mode: validation of topic and broker config alterations (LogConfig,
// DynamicBrokerConfig.validate, ZkAdminManager.prepareIncrementalConfigs), the broker config with
// /config/brokers/<id> and /config/brokers/<default> applied, and the listener on /config/changes that applies
// new topic and broker configs live.
package dynconfig

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/serverprops"
)

// Kafka error codes the alterations fail with.
const (
	codeInvalidConfig  int16 = 40 // InvalidConfigurationException
	codeInvalidRequest int16 = 42 // InvalidRequestException (also every ConfigException, see ZkAdminManager)
)

// Error is a rejected alteration: Kafka's error code and the message a Java broker sends with it.
type Error struct {
	Code    int16
	Message string
}

func (e *Error) Error() string { return e.Message }

// ErrorCode is the Kafka error code.
func (e *Error) ErrorCode() int16 { return e.Code }

func invalidRequest(format string, args ...any) *Error {
	return &Error{Code: codeInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

// Resource names a config resource as org.apache.kafka.common.config.ConfigResource.toString does, for the
// "Invalid config value for resource ..." messages.
type Resource struct {
	Type string // TOPIC or BROKER
	Name string
}

func (r Resource) String() string {
	return "ConfigResource(type=" + r.Type + ", name='" + r.Name + "')"
}

// ConfigException is what ZkAdminManager makes of a ConfigException or IllegalArgumentException: INVALID_REQUEST
// with the resource in the message.
func ConfigException(r Resource, msg string) *Error {
	return invalidRequest("Invalid config value for resource %s: %s", r, msg)
}

// scalaSet renders names as Scala's Set.toString (sorted, as the order of a Scala set is not meaningful).
func scalaSet(names []string) string {
	slices.Sort(names)
	return "Set(" + strings.Join(names, ", ") + ")"
}

// ValidateTopic checks a topic's complete new override set as AdminZkClient.validateTopicConfig does: unknown
// names and a min/max compaction lag conflict are INVALID_CONFIG (InvalidConfigurationException); values that do
// not parse or are out of range are INVALID_REQUEST (ConfigException, wrapped by ZkAdminManager).
func ValidateTopic(topic string, overrides map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		if serverprops.TopicConfigType(k) == serverprops.TypeUnknown {
			return &Error{Code: codeInvalidConfig, Message: "Unknown topic config name: " + k}
		}
	}
	_, err := serverprops.ParseTopicConfig(overrides)
	if err == nil {
		return nil
	}
	var ice *serverprops.InvalidConfigError
	if !errors.As(err, &ice) {
		return fmt.Errorf("validate topic config: %w", err)
	}
	if strings.HasPrefix(ice.Message, "conflict topic config setting") {
		return &Error{Code: codeInvalidConfig, Message: ice.Message}
	}
	return ConfigException(Resource{"TOPIC", topic}, ice.Message)
}

// Throttle rates are DynamicConfig.Broker's own definitions: not KafkaConfig configs, but dynamic ones.
const (
	LeaderReplicationThrottledRate         = "leader.replication.throttled.rate"
	FollowerReplicationThrottledRate       = "follower.replication.throttled.rate"
	ReplicaAlterLogDirsIoMaxBytesPerSecond = "replica.alter.log.dirs.io.max.bytes.per.second"
)

var throttleRates = map[string]bool{LeaderReplicationThrottledRate: true, FollowerReplicationThrottledRate: true,
	ReplicaAlterLogDirsIoMaxBytesPerSecond: true}

// brokerKey is what the validation needs to know of one broker config name.
type brokerKey struct {
	typ     serverprops.Type
	dynamic bool
	dflt    string // Kafka's static default as a string ("" when null)
}

// brokerKeys is KafkaConfig.configKeys as seen through DescribeConfigs of cfg: every non-internal broker config
// with its type, whether it may be updated dynamically (not read-only) and its default.
func brokerKeys(cfg *serverprops.Config) map[string]brokerKey {
	out := map[string]brokerKey{}
	for _, e := range cfg.Describe() {
		if _, override := serverprops.ListenerSuffix(e.Name); e.Type == serverprops.TypeUnknown || override {
			continue // not a KafkaConfig name: a custom key or a listener override
		}
		k := brokerKey{typ: e.Type, dynamic: !e.ReadOnly}
		for _, s := range e.Synonyms {
			if s.Source == serverprops.SourceDefaultConfig && s.Name == e.Name && s.Value != nil {
				k.dflt = *s.Value
			}
		}
		out[e.Name] = k
	}
	for n := range throttleRates {
		out[n] = brokerKey{typ: serverprops.TypeLong, dynamic: true, dflt: strconv.FormatInt(1<<63-1, 10)}
	}
	return out
}

// errPasswordEncoder refuses to store a dynamic password config without password.encoder.secret to encrypt it.
const errPasswordEncoder = "Password encoder secret not configured"

// BrokerLevels are the two dynamic levels as stored in ZooKeeper.
type BrokerLevels struct {
	PerBroker map[string]string // /config/brokers/<id>
	Default   map[string]string // /config/brokers/<default>
}

// ValidateBroker checks the complete new config set of one dynamic level as DynamicBrokerConfig.validate does:
// only dynamic configs, SSL store configs only per listener, values of the right type, the resulting broker
// config valid, and per-broker-only configs not at the <default> level. cfg is the broker's current config,
// levels the other level's current contents; resource names the target (name "" for the cluster default).
// reconfigure, when set, must take the resulting config too (Kafka's reconfigurables' validateReconfiguration).
func ValidateBroker(cfg *serverprops.Config, levels BrokerLevels, props map[string]string, resourceName string,
	reconfigure func(next *serverprops.Config) error) error {
	res := Resource{"BROKER", resourceName}
	perBroker := resourceName != ""
	keys := brokerKeys(cfg)
	names := slices.Sorted(maps.Keys(props))

	var nonDynamic, unprefixed, brokerOnly []string
	for _, n := range names {
		if k, ok := keys[n]; ok && !k.dynamic {
			nonDynamic = append(nonDynamic, n)
		}
		if serverprops.SSLReconfigurable(n) {
			unprefixed = append(unprefixed, n)
		}
		if serverprops.PerBrokerOnly(n) {
			brokerOnly = append(brokerOnly, n)
		}
	}
	if len(nonDynamic) > 0 {
		return ConfigException(res, "Cannot update these configs dynamically: "+scalaSet(nonDynamic))
	}
	if len(unprefixed) > 0 {
		return ConfigException(res, "These security configs can be dynamically updated only per-listener "+
			"using the listener prefix: "+scalaSet(unprefixed))
	}
	for _, n := range names {
		base := n
		if suffix, ok := serverprops.ListenerSuffix(n); ok {
			base = serverprops.ListenerBaseName(suffix)
		}
		if _, ok := keys[base]; !ok {
			continue // custom configs are allowed (DynamicConfig.Broker.validate with customPropsAllowed)
		}
		if throttleRates[base] {
			if msg := checkLongAtLeast0(base, props[n]); msg != "" {
				return ConfigException(res, msg)
			}
		}
	}
	// The resulting config must be valid: the type errors of the given keys as they are, anything else as
	// processReconfiguration reports it.
	newLevels := BrokerLevels{PerBroker: levels.PerBroker, Default: props}
	if perBroker {
		newLevels = BrokerLevels{PerBroker: props, Default: levels.Default}
	}
	next, err := cfg.WithDynamic(newLevels.PerBroker, newLevels.Default)
	if err != nil {
		var ce *serverprops.ConfigError
		if errors.As(err, &ce) && given(props, ce.Key) {
			return ConfigException(res, ce.Message)
		}
		return ConfigException(res, "Invalid dynamic configuration")
	}
	if !threadCountsValid(cfg, next) {
		return ConfigException(res, "Invalid dynamic configuration")
	}
	if !listenersChangeValid(cfg, next) {
		return ConfigException(res, "Invalid dynamic configuration")
	}
	if reconfigure != nil {
		if err := reconfigure(next); err != nil {
			return ConfigException(res, "Invalid dynamic configuration")
		}
	}
	if !perBroker && len(brokerOnly) > 0 {
		return ConfigException(res, "Cannot update these configs at default cluster level, broker id must be "+
			"specified: "+scalaSet(brokerOnly))
	}
	return nil
}

// ListenersChanged tells whether next changes the listeners or what the broker advertises (listeners,
// advertised.listeners, listener.security.protocol.map).
func ListenersChanged(cur, next *serverprops.Config) bool {
	return KeysChanged(cur, next, "listeners", "advertised.listeners", "listener.security.protocol.map")
}

// KeysChanged is DynamicBrokerConfig.needsReconfiguration: whether next gives any of keys another value than cur.
func KeysChanged(cur, next *serverprops.Config, keys ...string) bool {
	for _, k := range keys {
		if cur.Raw[k] != next.Raw[k] {
			return true
		}
	}
	return false
}

// listenersChangeValid is DynamicListenerConfig.validateReconfiguration, run when listeners, advertised.listeners
// or listener.security.protocol.map change: advertised listeners among the listeners, every listener in the
// protocol map, a listener kept with its security protocol and its listener.name.<l>.* configs (bar the SSL
// stores and the connection limits, reconfigurable on their own), the inter-broker listener advertised. Kafka
// gives the reason in its log only.
func listenersChangeValid(cur, next *serverprops.Config) bool {
	if !ListenersChanged(cur, next) {
		return true
	}
	names := map[string]string{} // listener name -> protocol, for the next listeners
	for _, l := range next.Listeners {
		names[l.Name] = l.SecurityProtocol
		if _, ok := next.ListenerSecurityProtocolMap[l.Name]; !ok {
			return false
		}
	}
	advertised := false
	for _, l := range next.AdvertisedListeners {
		if _, ok := names[l.Name]; !ok {
			return false
		}
		advertised = advertised || l.Name == next.InterBrokerListenerName
	}
	if !advertised {
		return false
	}
	immutable := func(c *serverprops.Config, name string) map[string]string {
		prefix := "listener.name." + strings.ToLower(name) + "."
		out := map[string]string{}
		for k, v := range c.Raw {
			if rest, ok := strings.CutPrefix(k, prefix); ok && !serverprops.SSLReconfigurable(rest) &&
				!serverprops.ClusterLevelListenerConfig(rest) {
				out[k] = v
			}
		}
		return out
	}
	for _, l := range cur.Listeners {
		proto, kept := names[l.Name]
		if !kept {
			continue
		}
		if proto != l.SecurityProtocol || !maps.Equal(immutable(cur, l.Name), immutable(next, l.Name)) {
			return false
		}
	}
	return true
}

// threadCountsValid is DynamicThreadPool.validateReconfiguration: a thread count that changes must stay at least 1,
// at least half and at most double its current value (Kafka reports the reason in its log only; the answer says
// "Invalid dynamic configuration").
func threadCountsValid(cur, next *serverprops.Config) bool {
	counts := func(c *serverprops.Config) []int32 {
		return []int32{c.NumIoThreads, c.NumNetworkThreads, c.NumReplicaFetchers, c.NumRecoveryThreadsPerDataDir,
			c.BackgroundThreads}
	}
	for i, old := range counts(cur) {
		v := counts(next)[i]
		if v != old && (v <= 0 || v < old/2 || v > old*2) {
			return false
		}
	}
	return true
}

// given reports whether key, or a listener override of it, is among props.
func given(props map[string]string, key string) bool {
	for n := range props {
		if n == key {
			return true
		}
		if suffix, ok := serverprops.ListenerSuffix(n); ok && suffix == key {
			return true
		}
	}
	return false
}

// checkLongAtLeast0 is ConfigDef's LONG parse with Range.atLeast(0), returning ConfigException's text.
func checkLongAtLeast0(name, v string) string {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return fmt.Sprintf("Invalid value %s for configuration %s: Not a number of type LONG", v, name)
	}
	if n < 0 {
		return fmt.Sprintf("Invalid value %d for configuration %s: Value must be at least 0", n, name)
	}
	return ""
}

// OpType is an IncrementalAlterConfigs operation.
type OpType int8

// Operations, with their wire ids.
const (
	OpSet      OpType = 0
	OpDelete   OpType = 1
	OpAppend   OpType = 2
	OpSubtract OpType = 3
)

func (o OpType) String() string {
	switch o {
	case OpSet:
		return "SET"
	case OpDelete:
		return "DELETE"
	case OpAppend:
		return "APPEND"
	case OpSubtract:
		return "SUBTRACT"
	}
	return "UNKNOWN"
}

// Op is one IncrementalAlterConfigs entry.
type Op struct {
	Name  string
	Op    OpType
	Value *string
}

// CheckOps is the request-level validation of IncrementalAlterConfigs: no key twice, a value for every
// operation but DELETE.
func CheckOps(ops []Op) error {
	count := map[string]int{}
	for _, o := range ops {
		count[o.Name]++
	}
	var dup []string
	for n, c := range count {
		if c > 1 {
			dup = append(dup, n)
		}
	}
	if len(dup) > 0 {
		slices.Sort(dup)
		return invalidRequest("Error due to duplicate config keys : %s", strings.Join(dup, ","))
	}
	var nulls []string
	for _, o := range ops {
		if o.Value == nil && o.Op != OpDelete {
			nulls = append(nulls, o.Op.String()+":"+o.Name)
		}
	}
	if len(nulls) > 0 {
		return invalidRequest("Null value not supported for : %s", strings.Join(nulls, ","))
	}
	for _, o := range ops {
		if o.Op < OpSet || o.Op > OpSubtract {
			return invalidRequest("Unknown alter config operation %d for config key: %s", o.Op, o.Name)
		}
	}
	return nil
}

// ListKind tells ApplyOps whether a config is a LIST and its default; known is false for a name the resource
// type does not define.
type ListKind func(name string) (isList bool, dflt string, known bool)

// TopicListKind is ListKind for topic configs (LogConfig.configKeys).
func TopicListKind(name string) (bool, string, bool) {
	typ := serverprops.TopicConfigType(name)
	if typ == serverprops.TypeUnknown {
		return false, "", false
	}
	if typ != serverprops.TypeList {
		return false, "", true
	}
	vals, err := serverprops.ParseTopicConfig(nil)
	if err != nil {
		return true, "", true
	}
	l, _ := vals[name].([]string)
	return true, strings.Join(l, ","), true
}

// BrokerListKind is ListKind for broker configs (KafkaConfig.configKeys) as cfg describes them.
func BrokerListKind(cfg *serverprops.Config) ListKind {
	keys := brokerKeys(cfg)
	return func(name string) (bool, string, bool) {
		k, ok := keys[name]
		if !ok {
			return false, "", false
		}
		return k.typ == serverprops.TypeList, k.dflt, true
	}
}

// ApplyOps is ZkAdminManager.prepareIncrementalConfigs: apply ops to props in place. APPEND and SUBTRACT start
// from the current value, else the default, split at commas; SUBTRACT removes the first occurrence of each
// value. Unlike Kafka 2.8, an empty starting value is an empty list (Kafka's String.split gives [""] and so a
// leading comma).
func ApplyOps(props map[string]string, ops []Op, kind ListKind) error {
	for _, o := range ops {
		switch o.Op {
		case OpSet:
			props[o.Name] = *o.Value
		case OpDelete:
			delete(props, o.Name)
		case OpAppend, OpSubtract:
			isList, dflt, known := kind(o.Name)
			if !known {
				// Kafka 2.8 fails here with a NoSuchElementException (UNKNOWN_SERVER_ERROR); it means this.
				return &Error{Code: codeInvalidConfig, Message: "Unknown topic config name: " + o.Name}
			}
			if !isList {
				verb := "append"
				if o.Op == OpSubtract {
					verb = "subtract"
				}
				return invalidRequest("Config value %s is not allowed for config key: %s", verb, o.Name)
			}
			old, ok := props[o.Name]
			if !ok {
				old = dflt
			}
			list := splitList(old)
			if o.Op == OpAppend {
				list = append(list, splitList(*o.Value)...)
			} else {
				for _, v := range splitList(*o.Value) {
					if i := slices.Index(list, v); i >= 0 {
						list = slices.Delete(list, i, i+1)
					}
				}
			}
			props[o.Name] = strings.Join(list, ",")
		}
	}
	return nil
}

// splitList is String.split(","): trailing empty strings dropped; an empty string is an empty list.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

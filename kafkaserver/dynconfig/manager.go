package dynconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/compat/serverprops"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/quota"
	"github.com/zkafka/zkafka/kafkaserver/replica"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// DefaultEntity is ConfigEntityName.Default, the znode name of cluster-wide defaults.
const DefaultEntity = "<default>"

// DefaultChangeExpiration is DynamicConfigManager's changeExpirationMs: processed notifications older than this
// are deleted.
const DefaultChangeExpiration = zkmeta.DefaultChangeExpiration

// Logs is the part of the log manager whose configs the manager updates (*klog.Manager).
type Logs interface {
	All() map[klog.TopicPartition]*klog.Log
}

// Config configures a Manager.
type Config struct {
	ZK       *zkmeta.Client
	BrokerID int32
	// Static is the broker's configuration from server.properties and --override.
	Static *serverprops.Config
	// Logs receives live topic config changes; nil until the log manager exists (SetLogs).
	Logs Logs
	// ChangeExpiration defaults to DefaultChangeExpiration.
	ChangeExpiration time.Duration
	// Now defaults to time.Now; tests set it to age notifications.
	Now    func() time.Time
	Logger *slog.Logger
	// OnBrokerChange, when set, is told of each live change of this broker's config (not the load at start), for
	// the settings applied outside the logs (num.replica.fetchers).
	OnBrokerChange func(prev, next *serverprops.Config)
	// OnTopicChange, when set, is told of each topic config change with the topic's config, whether this broker
	// hosts the topic or not, for the settings applied outside the logs (the replication throttles' replicas).
	OnTopicChange func(topic string, config map[string]string)
	// OnQuotaChange, when set, gets each client quota entity's config at LoadQuotas and on each change (an empty
	// config when the entity's znode is gone).
	OnQuotaChange func(e quota.Entity, config map[string]string) error
	// OnUserChange, when set, gets each user's config (/config/users/<user>, the user name desanitized) at
	// LoadQuotas and on each change, for the SCRAM credentials it holds (UserConfigHandler's credential update).
	OnUserChange func(user string, config map[string]string) error
	// OnIPChange, when set, gets each IP entity's config (/config/ips/<ip> or <default>: the connection creation
	// rate quota) at LoadQuotas and on each change (an empty config when the znode is gone), as IpConfigHandler.
	OnIPChange func(ip string, config map[string]string) error
	// Reconfigurable, when set, checks new broker configs as Kafka's listener reconfigurables do (the listeners'
	// SSL stores); nil takes every valid config.
	Reconfigurable Reconfigurable
}

// Reconfigurable is what a broker config change must get past before it is taken: Kafka's Reconfigurable
// validation, and the reload of store files changed in place (DynamicBrokerConfig.reloadUpdatedFilesWithoutConfigChange).
type Reconfigurable interface {
	// ValidateReconfiguration refuses a new config the broker cannot take.
	ValidateReconfiguration(next *serverprops.Config) error
	// ReloadFiles rebuilds what reads files named by configs next leaves unchanged, if the files changed.
	ReloadFiles(next *serverprops.Config) error
}

// Manager holds the broker's current dynamic configuration and applies config change notifications: Kafka's
// DynamicBrokerConfig plus DynamicConfigManager with its TopicConfigHandler and BrokerConfigHandler.
type Manager struct {
	cfg     Config
	logger  *slog.Logger
	current atomic.Pointer[serverprops.Config]
	logs    atomic.Value // Logs

	passwords []string // the dynamic broker configs of type PASSWORD (DynamicBrokerConfig.DynamicPasswordConfigs)
	// encoder encrypts password configs for ZooKeeper with password.encoder.secret (nil without one);
	// oldEncoder decodes with password.encoder.old.secret, to encode again with the new secret at start.
	encoder, oldEncoder *PasswordEncoder

	// mu serializes applying changes (the listener, LoadBrokerConfigs and SetLogs).
	mu       sync.Mutex
	listener *zkmeta.NotificationListener // of /config/changes
}

// New returns a manager whose current config is cfg.Static until LoadBrokerConfigs.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ChangeExpiration <= 0 {
		cfg.ChangeExpiration = DefaultChangeExpiration
	}
	m := &Manager{cfg: cfg, logger: cfg.Logger.With("component", "dynamic-config")}
	for n, k := range brokerKeys(cfg.Static) {
		if k.typ == serverprops.TypePassword && k.dynamic {
			m.passwords = append(m.passwords, n)
		}
	}
	if secret, ok := cfg.Static.Raw["password.encoder.secret"]; ok {
		m.encoder = NewPasswordEncoder(secret, cfg.Static)
	}
	if secret, ok := cfg.Static.Raw["password.encoder.old.secret"]; ok {
		m.oldEncoder = NewPasswordEncoder(secret, cfg.Static)
	}
	m.current.Store(cfg.Static)
	if cfg.Logs != nil {
		m.logs.Store(holder{cfg.Logs})
	}
	m.listener = &zkmeta.NotificationListener{ZK: cfg.ZK, Path: zkmeta.ConfigChangesPath, Prefix: zkmeta.ConfigChangeSeqPrefix,
		Handle: m.handleNotification, Expiration: cfg.ChangeExpiration, Now: cfg.Now, Logger: m.logger}
	return m
}

type holder struct{ Logs }

// SetLogs attaches the log manager (it opens after the dynamic broker configs are loaded, which give its
// defaults) and brings every log's config up to date.
func (m *Manager) SetLogs(l Logs) error {
	m.logs.Store(holder{l})
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applyAllLogs()
}

// Current is the broker config with the dynamic broker configs applied.
func (m *Manager) Current() *serverprops.Config { return m.current.Load() }

// LastExecuted is the sequence number of the last config change notification processed (-1 before any).
func (m *Manager) LastExecuted() int64 { return m.listener.LastExecuted() }

// LoadBrokerConfigs reads /config/brokers/<default> and /config/brokers/<id> and makes them current, as
// DynamicBrokerConfig.initialize does at startup. With password.encoder.old.secret, passwords it decodes are
// encoded with password.encoder.secret and written back first (maybeReEncodePasswords).
func (m *Manager) LoadBrokerConfigs() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.reEncodePasswords(); err != nil {
		return err
	}
	return m.reloadBroker(false)
}

// reEncodePasswords is DynamicBrokerConfig.maybeReEncodePasswords: the old secret's passwords in this broker's
// znode encoded again with the current secret; those it does not decode are left as they are (the old secret may
// simply not have been removed yet). Kafka writes the znode back even when nothing changed.
func (m *Manager) reEncodePasswords() error {
	if m.oldEncoder == nil {
		return nil
	}
	id := strconv.Itoa(int(m.cfg.BrokerID))
	props, err := m.cfg.ZK.GetEntityConfigs(zkmeta.ConfigTypeBroker, id)
	if err != nil {
		return fmt.Errorf("broker %d configs: %w", m.cfg.BrokerID, err)
	}
	if !slices.ContainsFunc(slices.Collect(maps.Keys(props)), m.IsPassword) {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if !m.IsPassword(k) {
			continue
		}
		plain, err := m.oldEncoder.Decode(props[k])
		if err != nil {
			m.logger.Debug("dynamic password config could not be decoded using old secret, new secret will be used", "key", k)
			continue
		}
		if m.encoder == nil {
			return fmt.Errorf("re-encode %s: %s", k, errPasswordEncoder)
		}
		if props[k], err = m.encoder.Encode(plain); err != nil {
			return fmt.Errorf("re-encode %s: %w", k, err)
		}
	}
	if err := m.cfg.ZK.SetOrCreateEntityConfigs(zkmeta.ConfigTypeBroker, id, props); err != nil {
		return fmt.Errorf("write broker %d configs: %w", m.cfg.BrokerID, err)
	}
	if _, err := m.cfg.ZK.CreateConfigChangeNotification(zkmeta.ConfigTypeBroker + "/" + id); err != nil {
		return fmt.Errorf("config change notification for broker %d: %w", m.cfg.BrokerID, err)
	}
	return nil
}

// IsPassword is DynamicBrokerConfig.isPasswordConfig: a name ending in a dynamic password config's name (so
// listener-prefixed ones too).
func (m *Manager) IsPassword(name string) bool {
	return slices.ContainsFunc(m.passwords, func(p string) bool { return strings.HasSuffix(name, p) })
}

// FromPersistent is DynamicBrokerConfig.fromPersistentProps for the passwords: each decoded with the secret, or
// left out with an error logged when it cannot be.
func (m *Manager) FromPersistent(props map[string]string) map[string]string {
	out := make(map[string]string, len(props))
	for k, v := range props {
		if !m.IsPassword(k) {
			out[k] = v
			continue
		}
		if m.encoder == nil {
			m.logger.Error("dynamic password config could not be decoded, ignoring", "key", k, "err", errPasswordEncoder)
			continue
		}
		plain, err := m.encoder.Decode(v)
		if err != nil {
			m.logger.Error("dynamic password config could not be decoded, ignoring", "key", k, "err", err)
			continue
		}
		out[k] = plain
	}
	return out
}

// ToPersistent is DynamicBrokerConfig.toPersistentProps: props as written to ZooKeeper, each password encrypted
// with the secret. Passwords are per-broker configs, and need password.encoder.secret.
func (m *Manager) ToPersistent(props map[string]string, perBroker bool) (map[string]string, error) {
	out := make(map[string]string, len(props))
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := props[k]
		if m.IsPassword(k) {
			if !perBroker {
				return nil, errors.New("Password config can be defined only at broker level")
			}
			if m.encoder == nil {
				return nil, errors.New(errPasswordEncoder)
			}
			var err error
			if v, err = m.encoder.Encode(v); err != nil {
				return nil, fmt.Errorf("encode %s: %w", k, err)
			}
		}
		out[k] = v
	}
	return out, nil
}

// ValidateBroker is the package's ValidateBroker against the current config, with the broker's reconfigurables.
func (m *Manager) ValidateBroker(levels BrokerLevels, props map[string]string, resourceName string) error {
	var check func(*serverprops.Config) error
	if m.cfg.Reconfigurable != nil {
		// The answer says only "Invalid dynamic configuration", as Kafka's; the reason goes to the log.
		check = func(next *serverprops.Config) error {
			err := m.cfg.Reconfigurable.ValidateReconfiguration(next)
			if err != nil {
				m.logger.Info("dynamic broker config refused", "err", err)
			}
			return err
		}
	}
	return ValidateBroker(m.Current(), levels, props, resourceName, check)
}

// ReloadFiles is DynamicBrokerConfig.reloadUpdatedFilesWithoutConfigChange for a validated per-broker update:
// store files changed in place are read again though the configs naming them stay the same.
func (m *Manager) ReloadFiles(levels BrokerLevels, props map[string]string) error {
	if m.cfg.Reconfigurable == nil {
		return nil
	}
	next, err := m.cfg.Static.WithDynamic(props, levels.Default)
	if err != nil {
		return fmt.Errorf("reload files: %w", err)
	}
	return m.cfg.Reconfigurable.ReloadFiles(next)
}

// BrokerLevels reads both dynamic levels of this broker from ZooKeeper.
func (m *Manager) BrokerLevels() (BrokerLevels, error) {
	per, err := m.cfg.ZK.GetEntityConfigs(zkmeta.ConfigTypeBroker, strconv.Itoa(int(m.cfg.BrokerID)))
	if err != nil {
		return BrokerLevels{}, fmt.Errorf("broker %d configs: %w", m.cfg.BrokerID, err)
	}
	def, err := m.cfg.ZK.GetEntityConfigs(zkmeta.ConfigTypeBroker, DefaultEntity)
	if err != nil {
		return BrokerLevels{}, fmt.Errorf("default broker configs: %w", err)
	}
	return BrokerLevels{PerBroker: per, Default: def}, nil
}

// reloadBroker makes the dynamic levels in ZooKeeper current. live says a running broker takes them: then, as in
// DynamicBrokerConfig.processReconfiguration once the reconfigurables are registered, thread counts must also
// pass DynamicThreadPool's check (they may have been written to ZooKeeper without AlterConfigs' validation).
func (m *Manager) reloadBroker(live bool) error {
	lv, err := m.BrokerLevels()
	if err != nil {
		return err
	}
	next, err := m.cfg.Static.WithDynamic(m.FromPersistent(lv.PerBroker), m.FromPersistent(lv.Default))
	if err != nil {
		// DynamicBrokerConfig keeps the previous config when the new one does not validate.
		return fmt.Errorf("apply dynamic broker configs: %w", err)
	}
	if live && !threadCountsValid(m.current.Load(), next) {
		return errors.New("apply dynamic broker configs: a thread count changes to less than 1, less than half or more than double its current value")
	}
	if live && m.cfg.Reconfigurable != nil {
		if err := m.cfg.Reconfigurable.ValidateReconfiguration(next); err != nil {
			return fmt.Errorf("apply dynamic broker configs: %w", err)
		}
	}
	m.current.Store(next)
	return nil
}

// TopicConfig is the topic's full config: the current broker defaults under its /config/topics/<t> overrides.
func (m *Manager) TopicConfig(topic string) (map[string]string, error) {
	vals := m.Current().TopicDefaults()
	overrides, err := m.cfg.ZK.GetEntityConfigs(zkmeta.ConfigTypeTopic, topic)
	if err != nil {
		return nil, fmt.Errorf("topic configs of %s: %w", topic, err)
	}
	maps.Copy(vals, overrides)
	return vals, nil
}

// LogConfig is TopicConfig as the log's Config.
func (m *Manager) LogConfig(topic string) (klog.Config, error) {
	vals, err := m.TopicConfig(topic)
	if err != nil {
		return klog.Config{}, err
	}
	return replica.LogConfig(vals)
}

func (m *Manager) currentLogs() Logs {
	h, _ := m.logs.Load().(holder)
	return h.Logs
}

// applyTopic is TopicConfigHandler.processConfigChanges: the topic's logs on this broker take the new config.
func (m *Manager) applyTopic(topic string) error {
	var mine []*klog.Log
	if logs := m.currentLogs(); logs != nil {
		for tp, l := range logs.All() {
			if tp.Topic == topic {
				mine = append(mine, l)
			}
		}
	}
	if len(mine) == 0 && m.cfg.OnTopicChange == nil {
		return nil
	}
	// One read of the topic's config serves the hook and the logs.
	config, err := m.TopicConfig(topic)
	if err != nil {
		return err
	}
	if m.cfg.OnTopicChange != nil {
		m.cfg.OnTopicChange(topic, config)
	}
	if len(mine) == 0 {
		return nil
	}
	lc, err := replica.LogConfig(config)
	if err != nil {
		return err
	}
	for _, l := range mine {
		l.SetConfig(lc)
	}
	m.logger.Info("applied topic config", "topic", topic, "partitions", len(mine))
	return nil
}

// applyAllLogs gives every log its topic's config under the current defaults (DynamicLogConfig.reconfigure).
func (m *Manager) applyAllLogs() error {
	logs := m.currentLogs()
	if logs == nil {
		return nil
	}
	byTopic := map[string][]*klog.Log{}
	for tp, l := range logs.All() {
		byTopic[tp.Topic] = append(byTopic[tp.Topic], l)
	}
	var errs []error
	for _, t := range slices.Sorted(maps.Keys(byTopic)) {
		lc, err := m.LogConfig(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range byTopic[t] {
			l.SetConfig(lc)
		}
	}
	return errors.Join(errs...)
}

// applyBroker is BrokerConfigHandler.processConfigChanges for this broker or the cluster default.
func (m *Manager) applyBroker(name string) error {
	if name != DefaultEntity && name != strconv.Itoa(int(m.cfg.BrokerID)) {
		return nil
	}
	prev := m.current.Load()
	if err := m.reloadBroker(true); err != nil {
		return err
	}
	m.logger.Info("applied dynamic broker config", "entity", name)
	if m.cfg.OnBrokerChange != nil {
		m.cfg.OnBrokerChange(prev, m.current.Load())
	}
	return m.applyAllLogs()
}

// Apply re-reads one entity's config and applies it ("topics", "foo"; "brokers", "1" or "<default>"; "clients",
// "app"; "users", "alice" or "alice/clients/app"; "ips", "10.0.0.1" or "<default>").
func (m *Manager) Apply(entityType, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch entityType {
	case zkmeta.ConfigTypeTopic:
		return m.applyTopic(name)
	case zkmeta.ConfigTypeBroker:
		return m.applyBroker(name)
	case zkmeta.ConfigTypeClient, zkmeta.ConfigTypeUser:
		return m.applyQuota(entityType, name)
	case zkmeta.ConfigTypeIP:
		return m.applyIP(name)
	}
	return fmt.Errorf("unknown config entity type %q", entityType)
}

// changeData is a config change notification: version 1 (entity_type, entity_name; Kafka 0.9 to 1.x tools) or
// version 2 (entity_path).
type changeData struct {
	Version    *int    `json:"version"`
	EntityType *string `json:"entity_type"`
	EntityName *string `json:"entity_name"`
	EntityPath *string `json:"entity_path"`
}

// ParseChange returns the entity a notification names, as ConfigChangedNotificationHandler does.
func ParseChange(data []byte) (entityType, name string, err error) {
	var d changeData
	if err := json.Unmarshal(data, &d); err != nil {
		return "", "", fmt.Errorf("config change notification %q is not JSON: %w", data, err)
	}
	if d.Version == nil {
		return "", "", fmt.Errorf("config change notification %q has no version", data)
	}
	switch *d.Version {
	case 1:
		if d.EntityType == nil || (*d.EntityType != zkmeta.ConfigTypeTopic && *d.EntityType != zkmeta.ConfigTypeClient) {
			return "", "", fmt.Errorf("version 1 config change notification must have 'entity_type' set to "+
				"'clients' or 'topics': %s", data)
		}
		if d.EntityName == nil {
			return "", "", fmt.Errorf("version 1 config change notification does not specify 'entity_name': %s", data)
		}
		return *d.EntityType, *d.EntityName, nil
	case 2:
		if d.EntityPath == nil {
			return "", "", fmt.Errorf("version 2 config change notification must specify 'entity_path': %s", data)
		}
		t, n, ok := strings.Cut(*d.EntityPath, "/")
		if !ok || t == "" || n == "" {
			return "", "", fmt.Errorf("invalid entity_path in config change notification: %s", data)
		}
		return t, n, nil
	}
	return "", "", fmt.Errorf("config change notification has unsupported version %d: %s", *d.Version, data)
}

// Run is the /config/changes listener (DynamicConfigManager's ZkNodeChangeNotificationListener). It returns when
// ctx ends or the ZooKeeper client closes.
func (m *Manager) Run(ctx context.Context) error { return m.listener.Run(ctx) }

// ProcessNotifications handles one listing of /config/changes.
func (m *Manager) ProcessNotifications(children []string) { m.listener.Process(children) }

// handleNotification applies the entity one notification names (ConfigChangedNotificationHandler).
func (m *Manager) handleNotification(data []byte) error {
	typ, entity, err := ParseChange(data)
	if err != nil {
		return err
	}
	m.logger.Info("processing config change notification", "entity_type", typ, "entity", entity)
	return m.Apply(typ, entity)
}

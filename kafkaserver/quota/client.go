package quota

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Client quota types (QuotaType): the sensors' group names, which Kafka's metrics carry as type=Produce etc.
const (
	Produce = "Produce"
	Fetch   = "Fetch"
	// ControllerMutation is the controller mutation quota's (KIP-599): partitions created or deleted per second.
	ControllerMutation = "ControllerMutation"
	// Request is the request quota's (KIP-124): the share of a thread's time spent on a client's requests, in
	// percent (200 is two threads' worth).
	Request = "Request"
)

// DefaultEntity is ConfigEntityName.Default: a quota for every user or client id without one of its own.
const DefaultEntity = "<default>"

// Kafka's quota config keys (DynamicConfig.Client) under /config/clients, /config/users and
// /config/users/<user>/clients.
const (
	ProducerByteRate = "producer_byte_rate"
	ConsumerByteRate = "consumer_byte_rate"
	// RequestPercentage (KIP-124) bounds the time spent on a client's requests, in percent of one thread: the
	// handler's time up to its first wait, and the time its response took to encode and write.
	RequestPercentage = "request_percentage"
	// ControllerMutationRate (KIP-599) bounds the partitions a client creates or deletes per second, counted in a
	// token bucket (ClientQuotas.ControllerMutation, see MutationQuota): CreateTopics v6+, CreatePartitions v3+ and
	// DeleteTopics v5+ refuse a topic with THROTTLING_QUOTA_EXCEEDED while the bucket is below zero; older versions
	// are executed and only their responses throttled; automatic topic creation is counted, never throttled.
	ControllerMutationRate = "controller_mutation_rate"
)

// sensorExpiryMs is InactiveSensorExpirationTimeSeconds: a user's or client's sensors go after an hour unused.
const sensorExpiryMs = 3600_000

// The windows of Kafka's default MetricConfig (metrics.num.samples, metrics.sample.window.ms), which the stats
// without a quota of their own use: the throttle-time Avg and the controller mutations' mutation-rate.
const (
	defaultWindows  = 2
	defaultWindowMs = 30_000
)

// Entity names a quota's znode: User is a sanitized user name or DefaultEntity, Client a client id or
// DefaultEntity; an empty field is absent (/config/clients/<c> has no user, /config/users/<u> no client).
type Entity struct {
	User, Client string
}

// String is the entity's path under /config, as Kafka writes it.
func (e Entity) String() string {
	switch {
	case e.User != "" && e.Client != "":
		return "users/" + e.User + "/clients/" + Sanitize(e.Client)
	case e.User != "":
		return "users/" + e.User
	}
	return "clients/" + Sanitize(e.Client)
}

// The quota levels enabled so far (QuotaTypes): they decide which tags a client's sensor has.
const (
	clientIDQuotas = 1 << iota
	userQuotas
	userClientIDQuotas
)

// Tags are a sensor's metric tags: the sanitized user and the client id, either empty when the quota that applies
// is not set at that level.
type Tags struct {
	User, ClientID string
}

// ClientConfig configures a Clients (ClientQuotaManagerConfig).
type ClientConfig struct {
	// Type is Produce, Fetch, Request or ControllerMutation.
	Type string
	// Default is the static client-id quota (quota.producer.default, quota.consumer.default); 0 or Unbounded: none.
	Default float64
	// Windows and WindowMs are quota.window.num and quota.window.size.seconds (controller.quota.window.num and
	// controller.quota.window.size.seconds for ControllerMutation, whose token bucket holds a quota's worth of
	// Windows × WindowMs).
	Windows  int
	WindowMs int64
	// MaxThrottleMs bounds a throttle time (the request quota's is one window: ClientRequestQuotaManager's
	// maxThrottleTimeMs); 0: unbounded.
	MaxThrottleMs int64
}

// Clients is one ClientQuotaManager with its DefaultQuotaCallback: quotas by user, client id or both, a rate
// sensor per user and client id at the level its quota is set, and the throttle time a client over its quota
// must wait. Time comes in as milliseconds on every call.
type Clients struct {
	cfg     ClientConfig
	enabled atomic.Int32 // quota levels enabled; 0: no quotas, nothing recorded

	mu        sync.Mutex
	overrides map[Entity]float64
	sensors   map[Tags]*clientSensor
	lastSweep int64
	// exempt is the request quota's exempt-request-time sensor: the time of requests no quota applies to (cluster
	// actions, followers' fetches, acks=0 produces), measured for the metric only.
	exempt Rate
}

type clientSensor struct {
	rate     Rate
	throttle Avg
	// tokens is the ControllerMutation sensor's token bucket, which its quota is checked against (its rate, the
	// mutation-rate metric, is only measured); nil for the other types.
	tokens     *TokenBucket
	lastRecord int64
}

// NewClients returns a manager with cfg's static default and no dynamic quotas.
func NewClients(cfg ClientConfig) *Clients {
	c := &Clients{cfg: cfg, overrides: map[Entity]float64{}, sensors: map[Tags]*clientSensor{},
		exempt: NewRate(cfg.Windows, cfg.WindowMs)}
	if cfg.Default > 0 && cfg.Default < Unbounded {
		c.enabled.Store(clientIDQuotas)
	} else {
		c.cfg.Default = math.Inf(1)
	}
	return c
}

// Type is the quota type (Produce, Fetch, Request or ControllerMutation).
func (c *Clients) Type() string { return c.cfg.Type }

// Enabled is quotasEnabled: some quota of this type has been set since start (it stays true when all are removed
// again, as in Kafka).
func (c *Clients) Enabled() bool { return c.enabled.Load() != 0 }

// SetQuota is updateQuota: bound (per second) for e, or nil to remove e's quota.
func (c *Clients) SetQuota(e Entity, bound *float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case e.User != "" && e.Client != "":
		c.enabled.Store(c.enabled.Load() | userClientIDQuotas)
	case e.User != "":
		c.enabled.Store(c.enabled.Load() | userQuotas)
	case e.Client != "":
		c.enabled.Store(c.enabled.Load() | clientIDQuotas)
	}
	if bound == nil {
		delete(c.overrides, e)
		return
	}
	c.overrides[e] = *bound
}

// Tags is quotaMetricTags: the sensor a request of principal name user and clientID records into.
func (c *Clients) Tags(user, clientID string) Tags {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tagsLocked(Sanitize(user), clientID)
}

func (c *Clients) tagsLocked(user, clientID string) Tags {
	switch c.enabled.Load() {
	case 0, clientIDQuotas:
		return Tags{ClientID: clientID}
	case userQuotas:
		return Tags{User: user}
	case userClientIDQuotas:
		return Tags{User: user, ClientID: clientID}
	}
	// Several levels: the most specific entity with a quota decides the tags.
	for _, e := range []struct {
		entity Entity
		tags   Tags
	}{
		{Entity{user, clientID}, Tags{user, clientID}},
		{Entity{user, DefaultEntity}, Tags{user, clientID}},
		{Entity{User: user}, Tags{User: user}},
		{Entity{DefaultEntity, clientID}, Tags{user, clientID}},
		{Entity{DefaultEntity, DefaultEntity}, Tags{user, clientID}},
		{Entity{User: DefaultEntity}, Tags{User: user}},
	} {
		if _, ok := c.overrides[e.entity]; ok {
			return e.tags
		}
	}
	return Tags{ClientID: clientID}
}

// limitLocked is DefaultQuotaCallback.quotaLimit for a sensor's tags: +Inf when no quota applies.
func (c *Clients) limitLocked(t Tags) float64 {
	var order []Entity
	switch {
	case t.User != "" && t.ClientID != "":
		order = []Entity{{t.User, t.ClientID}, {t.User, DefaultEntity}, {DefaultEntity, t.ClientID}, {DefaultEntity, DefaultEntity}}
	case t.User != "":
		order = []Entity{{User: t.User}, {User: DefaultEntity}}
	case t.ClientID != "":
		order = []Entity{{Client: t.ClientID}, {Client: DefaultEntity}}
	}
	for _, e := range order {
		if q, ok := c.overrides[e]; ok {
			return q
		}
	}
	if t.User == "" && t.ClientID != "" {
		return c.cfg.Default
	}
	return math.Inf(1)
}

// Quota is the bound that applies to principal name user with clientID (+Inf: none).
func (c *Clients) Quota(user, clientID string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limitLocked(c.tagsLocked(Sanitize(user), clientID))
}

func (c *Clients) sensorLocked(t Tags, nowMs int64) *clientSensor {
	if nowMs-c.lastSweep >= 60_000 {
		c.lastSweep = nowMs
		for k, s := range c.sensors {
			if nowMs-s.lastRecord >= sensorExpiryMs {
				delete(c.sensors, k)
			}
		}
	}
	s := c.sensors[t]
	if s == nil {
		s = &clientSensor{throttle: NewAvg(defaultWindows, defaultWindowMs)}
		if c.cfg.Type == ControllerMutation {
			s.rate, s.tokens = NewRate(defaultWindows, defaultWindowMs), &TokenBucket{}
		} else {
			s.rate = NewRate(c.cfg.Windows, c.cfg.WindowMs)
		}
		c.sensors[t] = s
	}
	s.lastRecord = nowMs
	return s
}

// RecordAndThrottle is maybeRecordAndGetThrottleTimeMs: it records value for the client and returns how long in
// ms it must wait to be back under its quota, 0 when it is under (or no quota of this type was ever set). It is
// for the rate quotas (Produce, Fetch); controller mutations go through a MutationQuota.
func (c *Clients) RecordAndThrottle(user, clientID string, value float64, nowMs int64) int {
	if !c.Enabled() {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tagsLocked(Sanitize(user), clientID)
	s := c.sensorLocked(t, nowMs)
	s.rate.Record(value, nowMs)
	bound := c.limitLocked(t)
	if math.IsInf(bound, 1) {
		return 0
	}
	observed := s.rate.Measure(nowMs)
	if observed <= bound {
		return 0
	}
	// QuotaUtils.throttleTime: the delay X that brings the observed rate O over window W down to the bound T,
	// O*W/(W+X) = T.
	ms := math.Round((observed - bound) / bound * float64(s.rate.WindowSize(nowMs)))
	if c.cfg.MaxThrottleMs > 0 {
		ms = min(ms, float64(c.cfg.MaxThrottleMs))
	}
	return int(min(ms, math.MaxInt32))
}

// RecordExempt counts value into the exempt sensor (recordExempt), once some quota of this type was set.
func (c *Clients) RecordExempt(value float64, nowMs int64) {
	if !c.Enabled() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exempt.Record(value, nowMs)
}

// ExemptRate is the exempt sensor's measured rate (exempt-request-time, in percent).
func (c *Clients) ExemptRate(nowMs int64) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exempt.Measure(nowMs)
}

// Record counts value without checking the quota (recordNoThrottle); a negative value takes back what a throttled
// fetch recorded and did not send (unrecordQuotaSensor).
func (c *Clients) Record(user, clientID string, value float64, nowMs int64) {
	if !c.Enabled() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sensorLocked(c.tagsLocked(Sanitize(user), clientID), nowMs).rate.Record(value, nowMs)
}

// Throttled records a throttle time given to the client (the throttle-time sensor).
func (c *Clients) Throttled(user, clientID string, ms int, nowMs int64) {
	if ms <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sensorLocked(c.tagsLocked(Sanitize(user), clientID), nowMs).throttle.Record(float64(ms), nowMs)
}

// MaxValueInWindow is getMaxValueInQuotaWindow: the most that can be recorded at once without being throttled
// whatever came before (+Inf without a quota). A consumer's fetch is capped to it.
func (c *Clients) MaxValueInWindow(user, clientID string) float64 {
	if !c.Enabled() {
		return math.Inf(1)
	}
	q := c.Quota(user, clientID)
	return q * float64(c.cfg.Windows-1) * float64(c.cfg.WindowMs) / 1000
}

// SensorStats is one sensor's measures, for metrics.
type SensorStats struct {
	Tags
	// Rate is the measured rate (byte-rate; request-time for the Request type, in percent; mutation-rate, partition
	// mutations per second, for ControllerMutation).
	Rate float64
	// Tokens is what is left in a ControllerMutation sensor's token bucket (0 for the other types).
	Tokens float64
	// ThrottleTime is the mean throttle time in ms given over the last minute (NaN: none).
	ThrottleTime float64
}

// Stats lists the live sensors.
func (c *Clients) Stats(nowMs int64) []SensorStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]SensorStats, 0, len(c.sensors))
	for t, s := range c.sensors {
		if nowMs-s.lastRecord >= sensorExpiryMs {
			continue
		}
		st := SensorStats{Tags: t, Rate: s.rate.Measure(nowMs), ThrottleTime: s.throttle.Measure(nowMs)}
		if s.tokens != nil {
			bound, burst := c.bucketLocked(t)
			st.Tokens = s.tokens.Measure(bound, burst, nowMs)
		}
		out = append(out, st)
	}
	return out
}

// Sanitize is Kafka's Sanitizer.sanitize: a user principal or client id made safe as a znode name and metric tag
// (URL encoding of UTF-8 with "%20" for a space and "%2A" for "*").
func Sanitize(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9', ch == '.', ch == '-', ch == '_':
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

// Desanitize is Sanitizer.desanitize (URL decoding, "+" as a space).
func Desanitize(name string) (string, error) {
	s, err := url.QueryUnescape(name)
	if err != nil {
		return "", fmt.Errorf("desanitize %q: %w", name, err)
	}
	return s, nil
}

// ClientQuotas are a broker's client quota managers (QuotaManagers' produce, fetch, request and
// controllerMutation).
type ClientQuotas struct {
	Produce, Fetch, Request, ControllerMutation *Clients
}

// ClientQuotasConfig is what the managers take from server.properties.
type ClientQuotasConfig struct {
	ProducerDefault, ConsumerDefault int64 // quota.producer.default, quota.consumer.default
	Windows                          int   // quota.window.num
	WindowSeconds                    int   // quota.window.size.seconds
	ControllerWindows                int   // controller.quota.window.num
	ControllerWindowSeconds          int   // controller.quota.window.size.seconds
}

// NewClientQuotas returns the managers. The request and controller mutation quotas have no static default (Kafka
// gives them none).
func NewClientQuotas(cfg ClientQuotasConfig) *ClientQuotas {
	windowMs := int64(cfg.WindowSeconds) * 1000
	return &ClientQuotas{
		Produce: NewClients(ClientConfig{Type: Produce, Default: float64(cfg.ProducerDefault), Windows: cfg.Windows, WindowMs: windowMs}),
		Fetch:   NewClients(ClientConfig{Type: Fetch, Default: float64(cfg.ConsumerDefault), Windows: cfg.Windows, WindowMs: windowMs}),
		Request: NewClients(ClientConfig{Type: Request, Windows: cfg.Windows, WindowMs: windowMs, MaxThrottleMs: windowMs}),
		ControllerMutation: NewClients(ClientConfig{Type: ControllerMutation, Windows: cfg.ControllerWindows,
			WindowMs: int64(cfg.ControllerWindowSeconds) * 1000}),
	}
}

// Apply is QuotaConfigHandler.updateQuotaConfig: entity's quotas become those of its config (a key that is absent
// removes that quota), taking effect on the requests that follow. A value that does not parse fails the change
// before anything is applied (Kafka applies the keys before the bad one).
func (q *ClientQuotas) Apply(e Entity, config map[string]string) error {
	type change struct {
		c     *Clients
		bound *float64
	}
	var changes []change
	for _, k := range []struct {
		key     string
		c       *Clients
		integer bool
	}{{ProducerByteRate, q.Produce, true}, {ConsumerByteRate, q.Fetch, true}, {RequestPercentage, q.Request, false},
		{ControllerMutationRate, q.ControllerMutation, false}} {
		v, ok := config[k.key]
		var b *float64
		if ok {
			f, err := parseQuota(v, k.integer)
			if err != nil {
				return fmt.Errorf("quota %s of %s: %w", k.key, e, err)
			}
			b = &f
		}
		changes = append(changes, change{k.c, b})
	}
	for _, ch := range changes {
		ch.c.SetQuota(e, ch.bound)
	}
	return nil
}

// parseQuota reads a byte rate as Java's Long.parseLong (then a double) and a percentage as Double.parseDouble.
func parseQuota(v string, integer bool) (float64, error) {
	if integer {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a long", v)
		}
		return float64(n), nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a double", v)
	}
	return f, nil
}

package zkmeta

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/zkafka/zkafka/compat/javahash"
)

// ErrMalformed marks znode data that does not decode as Kafka would accept it.
var ErrMalformed = errors.New("zkmeta: malformed znode data")

type jsonObj map[string]json.RawMessage

func parseObj(what string, b []byte) (jsonObj, error) {
	var o jsonObj
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&o); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", what, ErrMalformed, err)
	}
	if o == nil {
		return nil, fmt.Errorf("%s: %w: not a JSON object", what, ErrMalformed)
	}
	return o, nil
}

func (o jsonObj) has(k string) bool {
	v, ok := o[k]
	return ok && string(v) != "null"
}

// int64 reads a number; a numeric string is accepted too (Kafka writes some numbers as strings).
func (o jsonObj) int64(k string) (int64, error) {
	v, ok := o[k]
	if !ok {
		return 0, fmt.Errorf("%w: missing %q", ErrMalformed, k)
	}
	s := strings.TrimSpace(string(v))
	if len(s) > 1 && s[0] == '"' {
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, fmt.Errorf("%w: %q: %v", ErrMalformed, k, err)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not an integer: %s", ErrMalformed, k, v)
	}
	return n, nil
}

func (o jsonObj) int32(k string) (int32, error) {
	n, err := o.int64(k)
	if err != nil {
		return 0, err
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, fmt.Errorf("%w: %q out of int range", ErrMalformed, k)
	}
	return int32(n), nil
}

func (o jsonObj) str(k string) (string, error) {
	v, ok := o[k]
	if !ok {
		return "", fmt.Errorf("%w: missing %q", ErrMalformed, k)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("%w: %q is not a string: %s", ErrMalformed, k, v)
	}
	return s, nil
}

func (o jsonObj) ints(k string) ([]int32, error) {
	v, ok := o[k]
	if !ok {
		return nil, fmt.Errorf("%w: missing %q", ErrMalformed, k)
	}
	var xs []int32
	if err := json.Unmarshal(v, &xs); err != nil {
		return nil, fmt.Errorf("%w: %q is not an int array: %v", ErrMalformed, k, err)
	}
	return xs, nil
}

func (o jsonObj) obj(k string) (jsonObj, error) {
	v, ok := o[k]
	if !ok {
		return nil, fmt.Errorf("%w: missing %q", ErrMalformed, k)
	}
	var m jsonObj
	if err := json.Unmarshal(v, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: %q is not an object", ErrMalformed, k)
	}
	return m, nil
}

// ---- Uuid (org.apache.kafka.common.Uuid / cluster ids): 16 bytes shown as unpadded URL-safe base64 ----

// Uuid is Kafka's 128-bit id (topic ids, cluster ids).
type Uuid [16]byte

// ZeroUuid is Kafka's Uuid.ZERO_UUID, meaning "no id".
var ZeroUuid Uuid

func (u Uuid) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// IsZero reports whether u is ZeroUuid.
func (u Uuid) IsZero() bool { return u == ZeroUuid }

// ParseUuid parses the 22-character base64url form.
func ParseUuid(s string) (Uuid, error) {
	var u Uuid
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return u, fmt.Errorf("parse uuid %q: %w", s, ErrMalformed)
	}
	copy(u[:], b)
	return u, nil
}

// NewUuid returns a random (version 4) id, as Uuid.randomUuid and CoreUtils.generateUuidAsBase64 do. Ids whose
// text starts with '-' are skipped, as later Kafka releases do, so they never look like command-line flags.
func NewUuid() (Uuid, error) {
	for {
		var u Uuid
		if _, err := rand.Read(u[:]); err != nil {
			return u, fmt.Errorf("random uuid: %w", err)
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		if !u.IsZero() && u.String()[0] != '-' {
			return u, nil
		}
	}
}

// ---- /controller ----

// ControllerInfo is the /controller znode (ControllerZNode). Version 2 (3.4+ KRaft migration) adds
// kraftControllerEpoch; ZK controllers write version 1.
type ControllerInfo struct {
	Version              int
	BrokerID             int32
	Timestamp            int64 // ms; stored as a string
	KRaftControllerEpoch int32 // -1 unless written by a KRaft controller (version 2)
}

// Encode writes {"version":1,"brokerid":N,"timestamp":"ms"} (a Scala Map3: insertion order).
func (c ControllerInfo) Encode() []byte {
	var w jw
	keys := []string{"version", "brokerid", "timestamp"}
	if c.Version >= 2 {
		keys = append(keys, "kraftControllerEpoch")
	}
	ver := c.Version
	if ver == 0 {
		ver = 1
	}
	w.object(keys, func(k string) {
		switch k {
		case "version":
			w.int(int64(ver))
		case "brokerid":
			w.int(int64(c.BrokerID))
		case "timestamp":
			w.str(strconv.FormatInt(c.Timestamp, 10))
		case "kraftControllerEpoch":
			w.int(int64(c.KRaftControllerEpoch))
		}
	})
	return w.b
}

// DecodeControllerInfo parses /controller. Only brokerid is required, as in Kafka.
func DecodeControllerInfo(b []byte) (ControllerInfo, error) {
	c := ControllerInfo{Version: 1, KRaftControllerEpoch: -1}
	o, err := parseObj("controller", b)
	if err != nil {
		return c, err
	}
	if c.BrokerID, err = o.int32("brokerid"); err != nil {
		return c, fmt.Errorf("controller: %w", err)
	}
	if o.has("version") {
		v, _ := o.int32("version")
		c.Version = int(v)
	}
	if o.has("timestamp") {
		c.Timestamp, _ = o.int64("timestamp")
	}
	if o.has("kraftControllerEpoch") {
		c.KRaftControllerEpoch, _ = o.int32("kraftControllerEpoch")
	}
	return c, nil
}

// EncodeControllerEpoch is /controller_epoch's data: a bare decimal string.
func EncodeControllerEpoch(epoch int32) []byte { return []byte(strconv.FormatInt(int64(epoch), 10)) }

// DecodeControllerEpoch parses /controller_epoch.
func DecodeControllerEpoch(b []byte) (int32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("controller_epoch %q: %w", b, ErrMalformed)
	}
	return int32(n), nil
}

// ---- /cluster/id ----

// EncodeClusterID writes {"version":"1","id":"..."} (version is a string in Kafka).
func EncodeClusterID(id string) []byte {
	var w jw
	w.object([]string{"version", "id"}, func(k string) {
		if k == "version" {
			w.str("1")
		} else {
			w.str(id)
		}
	})
	return w.b
}

// DecodeClusterID returns the "id" member.
func DecodeClusterID(b []byte) (string, error) {
	o, err := parseObj("cluster id", b)
	if err != nil {
		return "", err
	}
	id, err := o.str("id")
	if err != nil {
		return "", fmt.Errorf("cluster id: %w", err)
	}
	return id, nil
}

// ---- /brokers/ids/<id> ----

// EndPoint is one advertised listener.
type EndPoint struct {
	Listener         string // listener name, e.g. PLAINTEXT, CLIENT
	Host             string
	Port             int32
	SecurityProtocol string // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
}

// ConnectionString is Kafka's EndPoint.connectionString: NAME://host:port (IPv6 hosts in brackets).
func (e EndPoint) ConnectionString() string {
	return e.Listener + "://" + net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port)))
}

var endpointRe = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)`)

// ParseEndPoint parses NAME://host:port as EndPoint.createEndPoint; protocols maps listener names to security
// protocols (nil: the listener name is the protocol, as for pre-0.10.2 registrations).
func ParseEndPoint(s string, protocols map[string]string) (EndPoint, error) {
	m := endpointRe.FindStringSubmatch(s)
	if m == nil {
		return EndPoint{}, fmt.Errorf("endpoint %q: %w", s, ErrMalformed)
	}
	port, err := strconv.ParseInt(m[3], 10, 32)
	if err != nil {
		return EndPoint{}, fmt.Errorf("endpoint %q port: %w", s, ErrMalformed)
	}
	e := EndPoint{Listener: m[1], Host: m[2], Port: int32(port), SecurityProtocol: m[1]}
	if protocols != nil {
		p, ok := protocols[m[1]]
		if !ok {
			return e, fmt.Errorf("endpoint %q: no security protocol for listener %s: %w", s, m[1], ErrMalformed)
		}
		e.SecurityProtocol = p
	}
	return e, nil
}

// VersionRange is a supported feature range ({"min_version":a,"max_version":b}).
type VersionRange struct{ Min, Max int16 }

// BrokerInfo is /brokers/ids/<id> (BrokerIdZNode), versions 1..5.
type BrokerInfo struct {
	ID        int32 // from the path, not the JSON
	Version   int   // 5 for IBP >= 2.7, 4 for >= 0.10.0, else 2
	JMXPort   int32 // -1 when unset
	Timestamp int64 // registration time in ms (a string in JSON)
	Endpoints []EndPoint
	Rack      string // "" = none
	Features  map[string]VersionRange
	// Epoch is the broker epoch: czxid of the znode (filled in by reads, not encoded).
	Epoch int64
}

// Encode writes the registration as BrokerIdZNode.encode does. The compat host/port are the first PLAINTEXT
// endpoint's, else null/-1.
func (b BrokerInfo) Encode() []byte {
	ver := b.Version
	if ver == 0 {
		ver = 5
	}
	var host *string
	port := int32(-1)
	for _, e := range b.Endpoints {
		if e.SecurityProtocol == "PLAINTEXT" {
			h := e.Host
			host, port = &h, e.Port
			break
		}
	}
	keys := []string{"version", "host", "port", "endpoints", "jmx_port", "timestamp"}
	if b.Rack != "" && ver >= 3 {
		keys = append(keys, "rack")
	}
	if ver >= 4 {
		keys = append(keys, "listener_security_protocol_map")
	}
	if ver >= 5 {
		keys = append(keys, "features")
	}
	var w jw
	w.object(scalaMutableOrder(keys, scalaMutableFromLen(6)), func(k string) {
		switch k {
		case "version":
			w.int(int64(ver))
		case "host":
			if host == nil {
				w.raw("null")
			} else {
				w.str(*host)
			}
		case "port":
			w.int(int64(port))
		case "endpoints":
			w.raw("[")
			for i, e := range b.Endpoints {
				if i > 0 {
					w.raw(",")
				}
				w.str(e.ConnectionString())
			}
			w.raw("]")
		case "jmx_port":
			w.int(int64(b.JMXPort))
		case "timestamp":
			w.str(strconv.FormatInt(b.Timestamp, 10))
		case "rack":
			w.str(b.Rack)
		case "listener_security_protocol_map":
			// advertisedEndpoints.map(...).toMap: a Scala immutable Map in endpoint order.
			names := make([]string, 0, len(b.Endpoints))
			proto := map[string]string{}
			for _, e := range b.Endpoints {
				names = append(names, e.Listener)
				if _, ok := proto[e.Listener]; !ok {
					proto[e.Listener] = e.SecurityProtocol
				}
			}
			w.object(scalaImmutableOrder(names), func(n string) { w.str(proto[n]) })
		case "features":
			// Features.toMap collects into a java.util.HashMap; each range is a LinkedHashMap min, max.
			names := make([]string, 0, len(b.Features))
			for n := range b.Features {
				names = append(names, n)
			}
			sort.Strings(names)
			w.object(javahash.HashMapOrder(names), func(n string) {
				r := b.Features[n]
				w.object([]string{"min_version", "max_version"}, func(k string) {
					if k == "min_version" {
						w.int(int64(r.Min))
					} else {
						w.int(int64(r.Max))
					}
				})
			})
		}
	})
	return w.b
}

// DecodeBrokerInfo parses a registration of any version (1..5) as BrokerIdZNode.decode does.
func DecodeBrokerInfo(id int32, data []byte) (BrokerInfo, error) {
	b := BrokerInfo{ID: id}
	o, err := parseObj(fmt.Sprintf("broker %d registration", id), data)
	if err != nil {
		return b, err
	}
	wrap := func(err error) error { return fmt.Errorf("broker %d registration: %w", id, err) }
	v, err := o.int32("version")
	if err != nil {
		return b, wrap(err)
	}
	b.Version = int(v)
	if b.JMXPort, err = o.int32("jmx_port"); err != nil {
		return b, wrap(err)
	}
	if o.has("timestamp") {
		b.Timestamp, _ = o.int64("timestamp")
	}
	switch {
	case b.Version < 1:
		return b, wrap(fmt.Errorf("%w: unsupported version %d", ErrMalformed, b.Version))
	case b.Version == 1:
		host, err := o.str("host")
		if err != nil {
			return b, wrap(err)
		}
		port, err := o.int32("port")
		if err != nil {
			return b, wrap(err)
		}
		b.Endpoints = []EndPoint{{Listener: "PLAINTEXT", Host: host, Port: port, SecurityProtocol: "PLAINTEXT"}}
	default:
		var protocols map[string]string
		if o.has("listener_security_protocol_map") {
			if err := json.Unmarshal(o["listener_security_protocol_map"], &protocols); err != nil {
				return b, wrap(fmt.Errorf("%w: listener_security_protocol_map: %v", ErrMalformed, err))
			}
		}
		var eps []string
		if err := json.Unmarshal(o["endpoints"], &eps); err != nil {
			return b, wrap(fmt.Errorf("%w: endpoints: %v", ErrMalformed, err))
		}
		for _, s := range eps {
			e, err := ParseEndPoint(s, protocols)
			if err != nil {
				return b, wrap(err)
			}
			b.Endpoints = append(b.Endpoints, e)
		}
	}
	if o.has("rack") {
		if b.Rack, err = o.str("rack"); err != nil {
			return b, wrap(err)
		}
	}
	if o.has("features") {
		var fs map[string]map[string]int16
		if err := json.Unmarshal(o["features"], &fs); err != nil {
			return b, wrap(fmt.Errorf("%w: features: %v", ErrMalformed, err))
		}
		b.Features = map[string]VersionRange{}
		for n, r := range fs {
			b.Features[n] = VersionRange{Min: r["min_version"], Max: r["max_version"]}
		}
	}
	return b, nil
}

// ---- /brokers/topics/<t> ----

// ReplicaAssignment is one partition's replicas (preferred order) and, during a KIP-455 reassignment, the
// replicas being added and removed.
type ReplicaAssignment struct {
	Replicas, Adding, Removing []int32
}

// TopicAssignment is /brokers/topics/<t> (TopicZNode), versions 1..3.
type TopicAssignment struct {
	Version    int // as read; Encode always writes 3, as 2.8 does
	Partitions map[int32]ReplicaAssignment
	TopicID    Uuid // ZeroUuid = absent
}

// Encode writes the version 3 JSON exactly as TopicZNode.encode (Scala mutable maps, so hash order).
func (t TopicAssignment) Encode() []byte {
	parts := make([]int32, 0, len(t.Partitions))
	for p := range t.Partitions {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	var all, adding, removing []string
	lists := map[string]map[string][]int32{"partitions": {}, "adding_replicas": {}, "removing_replicas": {}}
	for _, p := range parts {
		ra := t.Partitions[p]
		k := strconv.Itoa(int(p))
		all = append(all, k)
		lists["partitions"][k] = ra.Replicas
		if len(ra.Adding) > 0 {
			adding = append(adding, k)
			lists["adding_replicas"][k] = ra.Adding
		}
		if len(ra.Removing) > 0 {
			removing = append(removing, k)
			lists["removing_replicas"][k] = ra.Removing
		}
	}
	order := map[string][]string{"partitions": all, "adding_replicas": adding, "removing_replicas": removing}
	keys := []string{"version", "partitions", "adding_replicas", "removing_replicas"}
	if !t.TopicID.IsZero() {
		keys = append(keys, "topic_id")
	}
	var w jw
	w.object(scalaMutableOrder(keys, scalaMutableFromLen(4)), func(k string) {
		switch k {
		case "version":
			w.int(3)
		case "topic_id":
			w.str(t.TopicID.String())
		default:
			m := lists[k]
			w.object(scalaMutableOrder(order[k], scalaMutableFromLen(0)), func(p string) {
				reps := m[p]
				if reps == nil {
					reps = []int32{}
				}
				w.ints(reps)
			})
		}
	})
	return w.b
}

// DecodeTopicAssignment parses any topic znode version (missing maps are empty, as in Kafka).
func DecodeTopicAssignment(topic string, b []byte) (TopicAssignment, error) {
	t := TopicAssignment{Partitions: map[int32]ReplicaAssignment{}}
	o, err := parseObj("topic "+topic, b)
	if err != nil {
		return t, err
	}
	wrap := func(err error) error { return fmt.Errorf("topic %s: %w", topic, err) }
	if o.has("version") {
		v, err := o.int32("version")
		if err != nil {
			return t, wrap(err)
		}
		t.Version = int(v)
	}
	if o.has("topic_id") {
		s, err := o.str("topic_id")
		if err != nil {
			return t, wrap(err)
		}
		if t.TopicID, err = ParseUuid(s); err != nil {
			return t, wrap(err)
		}
	}
	maps := map[string]map[string][]int32{}
	for _, k := range []string{"partitions", "adding_replicas", "removing_replicas"} {
		if !o.has(k) {
			continue
		}
		var m map[string][]int32
		if err := json.Unmarshal(o[k], &m); err != nil {
			return t, wrap(fmt.Errorf("%w: %s: %v", ErrMalformed, k, err))
		}
		maps[k] = m
	}
	for ps, reps := range maps["partitions"] {
		p, err := strconv.ParseInt(ps, 10, 32)
		if err != nil {
			return t, wrap(fmt.Errorf("%w: partition %q", ErrMalformed, ps))
		}
		if reps == nil {
			reps = []int32{}
		}
		t.Partitions[int32(p)] = ReplicaAssignment{Replicas: reps, Adding: maps["adding_replicas"][ps], Removing: maps["removing_replicas"][ps]}
	}
	return t, nil
}

// ---- /brokers/topics/<t>/partitions/<p>/state ----

// PartitionState is a partition's leader and ISR (TopicPartitionStateZNode) plus the znode's zkVersion.
type PartitionState struct {
	Leader          int32 // -1: no leader
	LeaderEpoch     int32
	ISR             []int32
	ControllerEpoch int32
	// LeaderRecoveryState is 1 (RECOVERING) only after an unclean election on 3.2+; 0 is omitted.
	LeaderRecoveryState int8
	// ZkVersion is the state znode's stat version (the "partition epoch"); filled by reads, not encoded.
	ZkVersion int32
}

// Encode writes {"controller_epoch":..,"leader":..,"version":1,"leader_epoch":..,"isr":[..]} (a five-entry Scala
// immutable HashMap, whose order this is).
func (s PartitionState) Encode() []byte {
	keys := []string{"version", "leader", "leader_epoch", "controller_epoch", "isr"}
	if s.LeaderRecoveryState != 0 {
		keys = append(keys, "leader_recovery_state")
	}
	var w jw
	w.object(scalaImmutableOrder(keys), func(k string) {
		switch k {
		case "version":
			w.int(1)
		case "leader":
			w.int(int64(s.Leader))
		case "leader_epoch":
			w.int(int64(s.LeaderEpoch))
		case "controller_epoch":
			w.int(int64(s.ControllerEpoch))
		case "isr":
			isr := s.ISR
			if isr == nil {
				isr = []int32{}
			}
			w.ints(isr)
		case "leader_recovery_state":
			w.int(int64(s.LeaderRecoveryState))
		}
	})
	return w.b
}

// DecodePartitionState parses a state znode; zkVersion comes from its stat.
func DecodePartitionState(b []byte, zkVersion int32) (PartitionState, error) {
	s := PartitionState{ZkVersion: zkVersion}
	o, err := parseObj("partition state", b)
	if err != nil {
		return s, err
	}
	wrap := func(err error) error { return fmt.Errorf("partition state: %w", err) }
	if s.Leader, err = o.int32("leader"); err != nil {
		return s, wrap(err)
	}
	if s.LeaderEpoch, err = o.int32("leader_epoch"); err != nil {
		return s, wrap(err)
	}
	if s.ISR, err = o.ints("isr"); err != nil {
		return s, wrap(err)
	}
	if s.ControllerEpoch, err = o.int32("controller_epoch"); err != nil {
		return s, wrap(err)
	}
	if o.has("leader_recovery_state") {
		v, err := o.int32("leader_recovery_state")
		if err != nil {
			return s, wrap(err)
		}
		s.LeaderRecoveryState = int8(v)
	}
	if s.ISR == nil {
		s.ISR = []int32{}
	}
	return s, nil
}

// ---- /config/<type>/<name> ----

// EncodeEntityConfig writes {"version":1,"config":{...}}. The config is a java.util.Properties in Kafka; its
// order is that of Java 9+ (ConcurrentHashMap-backed) Properties filled in sorted key order.
func EncodeEntityConfig(config map[string]string) []byte {
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var w jw
	w.object([]string{"version", "config"}, func(k string) {
		if k == "version" {
			w.int(1)
			return
		}
		w.object(javaPropertiesOrder(keys), func(ck string) { w.str(config[ck]) })
	})
	return w.b
}

// DecodeEntityConfig returns the "config" map; absent or odd data yields an empty map, as in Kafka. Values that are
// not strings are kept in their JSON text.
func DecodeEntityConfig(b []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(b) == 0 {
		return out, nil
	}
	o, err := parseObj("entity config", b)
	if err != nil {
		return out, err
	}
	if !o.has("config") {
		return out, nil
	}
	cfg, err := o.obj("config")
	if err != nil {
		return out, fmt.Errorf("entity config: %w", err)
	}
	for k, v := range cfg {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
		} else {
			out[k] = string(v)
		}
	}
	return out, nil
}

// ---- /config/changes/config_change_N ----

// EncodeConfigChange writes the version 2 notification {"version":2,"entity_path":"topics/foo"}.
func EncodeConfigChange(entityPath string) []byte {
	var w jw
	w.object([]string{"version", "entity_path"}, func(k string) {
		if k == "version" {
			w.int(2)
		} else {
			w.str(entityPath)
		}
	})
	return w.b
}

// DecodeConfigChange returns the entity path of a version 1 ({"entity_type","entity_name"}) or version 2
// notification.
func DecodeConfigChange(b []byte) (string, error) {
	o, err := parseObj("config change", b)
	if err != nil {
		return "", err
	}
	v, err := o.int32("version")
	if err != nil {
		return "", fmt.Errorf("config change: %w", err)
	}
	switch v {
	case 1:
		t, err := o.str("entity_type")
		if err != nil {
			return "", fmt.Errorf("config change: %w", err)
		}
		n, err := o.str("entity_name")
		if err != nil {
			return "", fmt.Errorf("config change: %w", err)
		}
		return t + "/" + n, nil
	case 2:
		p, err := o.str("entity_path")
		if err != nil {
			return "", fmt.Errorf("config change: %w", err)
		}
		return p, nil
	default:
		return "", fmt.Errorf("config change: %w: version %d", ErrMalformed, v)
	}
}

// ---- partition lists: preferred election, ISR changes, reassignment ----

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "-" + strconv.Itoa(int(tp.Partition)) }

// encodePartitionList writes {"version":1,"partitions":[{"topic":..,"partition":..},...]} in the given order (Kafka
// iterates a Scala Set there, so its order is not reproducible; readers never depend on it).
func encodePartitionList(ps []TopicPartition) []byte {
	var w jw
	w.object([]string{"version", "partitions"}, func(k string) {
		if k == "version" {
			w.int(1)
			return
		}
		w.raw("[")
		for i, tp := range ps {
			if i > 0 {
				w.raw(",")
			}
			w.object([]string{"topic", "partition"}, func(k string) {
				if k == "topic" {
					w.str(tp.Topic)
				} else {
					w.int(int64(tp.Partition))
				}
			})
		}
		w.raw("]")
	})
	return w.b
}

func decodePartitionList(what string, b []byte) ([]TopicPartition, error) {
	var doc struct {
		Partitions []struct {
			Topic     *string `json:"topic"`
			Partition *int32  `json:"partition"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", what, ErrMalformed, err)
	}
	out := make([]TopicPartition, 0, len(doc.Partitions))
	for _, p := range doc.Partitions {
		if p.Topic == nil || p.Partition == nil {
			return nil, fmt.Errorf("%s: %w: entry without topic or partition", what, ErrMalformed)
		}
		out = append(out, TopicPartition{*p.Topic, *p.Partition})
	}
	return out, nil
}

// EncodePreferredReplicaElection writes /admin/preferred_replica_election.
func EncodePreferredReplicaElection(ps []TopicPartition) []byte { return encodePartitionList(ps) }

// DecodePreferredReplicaElection parses /admin/preferred_replica_election.
func DecodePreferredReplicaElection(b []byte) ([]TopicPartition, error) {
	return decodePartitionList("preferred replica election", b)
}

// EncodeIsrChangeNotification writes an isr_change_ notification (version 1).
func EncodeIsrChangeNotification(ps []TopicPartition) []byte { return encodePartitionList(ps) }

// DecodeIsrChangeNotification parses an isr_change_ notification.
func DecodeIsrChangeNotification(b []byte) ([]TopicPartition, error) {
	return decodePartitionList("isr change notification", b)
}

// PartitionReassignment is one entry of /admin/reassign_partitions.
type PartitionReassignment struct {
	Topic     string
	Partition int32
	Replicas  []int32
}

// EncodeReassignPartitions writes {"version":1,"partitions":[{"topic":..,"partition":..,"replicas":[..]}]} (Jackson
// bean order of LegacyPartitionAssignment / ReplicaAssignment).
func EncodeReassignPartitions(rs []PartitionReassignment) []byte {
	var w jw
	w.object([]string{"version", "partitions"}, func(k string) {
		if k == "version" {
			w.int(1)
			return
		}
		w.raw("[")
		for i, r := range rs {
			if i > 0 {
				w.raw(",")
			}
			w.object([]string{"topic", "partition", "replicas"}, func(k string) {
				switch k {
				case "topic":
					w.str(r.Topic)
				case "partition":
					w.int(int64(r.Partition))
				default:
					reps := r.Replicas
					if reps == nil {
						reps = []int32{}
					}
					w.ints(reps)
				}
			})
		}
		w.raw("]")
	})
	return w.b
}

// DecodeReassignPartitions parses /admin/reassign_partitions; extra members (e.g. the tool's "log_dirs") are
// ignored.
func DecodeReassignPartitions(b []byte) ([]PartitionReassignment, error) {
	var doc struct {
		Partitions []struct {
			Topic     string  `json:"topic"`
			Partition int32   `json:"partition"`
			Replicas  []int32 `json:"replicas"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("reassign partitions: %w: %v", ErrMalformed, err)
	}
	out := make([]PartitionReassignment, 0, len(doc.Partitions))
	for _, p := range doc.Partitions {
		out = append(out, PartitionReassignment{p.Topic, p.Partition, p.Replicas})
	}
	return out, nil
}

// ---- /log_dir_event_notification/log_dir_event_N ----

// LogDirFailureEvent is the only log dir event type.
const LogDirFailureEvent = 1

// EncodeLogDirEvent writes {"version":1,"broker":N,"event":1}.
func EncodeLogDirEvent(brokerID int32) []byte {
	var w jw
	w.object([]string{"version", "broker", "event"}, func(k string) {
		switch k {
		case "version":
			w.int(1)
		case "broker":
			w.int(int64(brokerID))
		default:
			w.int(LogDirFailureEvent)
		}
	})
	return w.b
}

// DecodeLogDirEvent returns the broker id of a log dir event.
func DecodeLogDirEvent(b []byte) (int32, error) {
	o, err := parseObj("log dir event", b)
	if err != nil {
		return 0, err
	}
	id, err := o.int32("broker")
	if err != nil {
		return 0, fmt.Errorf("log dir event: %w", err)
	}
	return id, nil
}

// ---- /latest_producer_id_block ----

// ProducerIDBlockSize is ProducerIdManager.PidBlockSize.
const ProducerIDBlockSize = 1000

// ProducerIDBlock is a block of producer ids claimed by a broker (bounds inclusive).
type ProducerIDBlock struct {
	BrokerID   int32
	BlockStart int64
	BlockEnd   int64
}

// Encode writes {"version":1,"broker":N,"block_start":"s","block_end":"e"} (bounds as strings).
func (p ProducerIDBlock) Encode() []byte {
	var w jw
	w.object([]string{"version", "broker", "block_start", "block_end"}, func(k string) {
		switch k {
		case "version":
			w.int(1)
		case "broker":
			w.int(int64(p.BrokerID))
		case "block_start":
			w.str(strconv.FormatInt(p.BlockStart, 10))
		default:
			w.str(strconv.FormatInt(p.BlockEnd, 10))
		}
	})
	return w.b
}

// DecodeProducerIDBlock parses /latest_producer_id_block.
func DecodeProducerIDBlock(b []byte) (ProducerIDBlock, error) {
	var p ProducerIDBlock
	o, err := parseObj("producer id block", b)
	if err != nil {
		return p, err
	}
	if p.BrokerID, err = o.int32("broker"); err != nil {
		return p, fmt.Errorf("producer id block: %w", err)
	}
	if p.BlockStart, err = o.int64("block_start"); err != nil {
		return p, fmt.Errorf("producer id block: %w", err)
	}
	if p.BlockEnd, err = o.int64("block_end"); err != nil {
		return p, fmt.Errorf("producer id block: %w", err)
	}
	return p, nil
}

// ---- /consumers/<g>/offsets/<t>/<p> ----

// EncodeConsumerOffset is the plain decimal offset.
func EncodeConsumerOffset(offset int64) []byte { return []byte(strconv.FormatInt(offset, 10)) }

// DecodeConsumerOffset parses a decimal offset.
func DecodeConsumerOffset(b []byte) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("consumer offset %q: %w", b, ErrMalformed)
	}
	return n, nil
}

// ---- /feature ----

// FeatureZNode is /feature (KIP-584): status 1 enabled, 0 disabled; finalized version levels per feature.
type FeatureZNode struct {
	Version  int // 1 (2.8); 2 (3.3+) drops min_version_level
	Status   int
	Features map[string]FinalizedRange
}

// FinalizedRange is a finalized feature range.
type FinalizedRange struct{ MinLevel, MaxLevel int16 }

// Feature status values.
const (
	FeatureDisabled = 0
	FeatureEnabled  = 1
)

// Encode writes version 1 as FeatureZNode.encode (a three-entry Scala mutable map).
func (f FeatureZNode) Encode() []byte {
	names := make([]string, 0, len(f.Features))
	for n := range f.Features {
		names = append(names, n)
	}
	sort.Strings(names)
	var w jw
	w.object(scalaMutableOrder([]string{"version", "status", "features"}, scalaMutableFromLen(3)), func(k string) {
		switch k {
		case "version":
			w.int(1)
		case "status":
			w.int(int64(f.Status))
		default:
			w.object(javahash.HashMapOrder(names), func(n string) {
				r := f.Features[n]
				w.object([]string{"min_version_level", "max_version_level"}, func(k string) {
					if k == "min_version_level" {
						w.int(int64(r.MinLevel))
					} else {
						w.int(int64(r.MaxLevel))
					}
				})
			})
		}
	})
	return w.b
}

// DecodeFeatureZNode parses /feature (versions 1 and 2); status and features are required, as in Kafka.
func DecodeFeatureZNode(b []byte) (FeatureZNode, error) {
	f := FeatureZNode{Features: map[string]FinalizedRange{}}
	o, err := parseObj("feature", b)
	if err != nil {
		return f, err
	}
	v, err := o.int32("version")
	if err != nil || v < 1 {
		return f, fmt.Errorf("feature: %w: bad version", ErrMalformed)
	}
	f.Version = int(v)
	st, err := o.int32("status")
	if err != nil || (st != FeatureDisabled && st != FeatureEnabled) {
		return f, fmt.Errorf("feature: %w: bad status", ErrMalformed)
	}
	f.Status = int(st)
	if !o.has("features") {
		return f, fmt.Errorf("feature: %w: features absent", ErrMalformed)
	}
	var fs map[string]map[string]int16
	if err := json.Unmarshal(o["features"], &fs); err != nil {
		return f, fmt.Errorf("feature: %w: %v", ErrMalformed, err)
	}
	for n, r := range fs {
		f.Features[n] = FinalizedRange{MinLevel: r["min_version_level"], MaxLevel: r["max_version_level"]}
	}
	return f, nil
}

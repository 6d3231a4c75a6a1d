package dynconfig

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/serverprops"
)

func testProps(t *testing.T) *serverprops.Config {
	t.Helper()
	cfg, err := serverprops.FromMap(map[string]string{"broker.id": "1", "zookeeper.connect": "127.0.0.1:2181",
		"log.dirs": t.TempDir()}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func wantErr(t *testing.T, err error, code int16, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want dynconfig error %d %q", err, code, msg)
	}
	if e.Code != code || (msg != "" && e.Message != msg) {
		t.Fatalf("got %d %q, want %d %q", e.Code, e.Message, code, msg)
	}
}

func TestValidateTopic(t *testing.T) {
	if err := ValidateTopic("t", map[string]string{"retention.ms": "1000", "cleanup.policy": "compact,delete"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, ValidateTopic("t", map[string]string{"no.such": "1"}), 40, "Unknown topic config name: no.such")
	wantErr(t, ValidateTopic("t", map[string]string{"retention.ms": "abc"}), 42,
		"Invalid config value for resource ConfigResource(type=TOPIC, name='t'): "+
			"Invalid value abc for configuration retention.ms: Not a number of type LONG")
	wantErr(t, ValidateTopic("t", map[string]string{"segment.bytes": "10"}), 42, "")
	wantErr(t, ValidateTopic("t", map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}), 40, "")
}

func TestValidateBroker(t *testing.T) {
	cfg := testProps(t)
	none := BrokerLevels{}
	ok := func(props map[string]string, name string) {
		t.Helper()
		if err := ValidateBroker(cfg, none, props, name, nil); err != nil {
			t.Fatalf("%v on %q: %v", props, name, err)
		}
	}
	ok(map[string]string{"log.retention.bytes": "1000", "message.max.bytes": "2000"}, "1")
	ok(map[string]string{"log.cleaner.threads": "2"}, "")
	ok(map[string]string{"leader.replication.throttled.rate": "100"}, "")
	ok(map[string]string{"custom.plugin.key": "x"}, "1")
	ok(map[string]string{"listener.name.plaintext.max.connections": "10"}, "")
	// DynamicThreadPool: thread counts move by at most half down or double up, and stay positive.
	ok(map[string]string{"num.replica.fetchers": "2", "num.io.threads": "4", "background.threads": "20"}, "1")
	for _, bad := range []map[string]string{{"num.replica.fetchers": "3"}, {"num.io.threads": "3"},
		{"num.network.threads": "7"}, {"num.replica.fetchers": "0"}, {"num.recovery.threads.per.data.dir": "3"}, {"background.threads": "21"}} {
		wantErr(t, ValidateBroker(cfg, none, bad, "1", nil), 42,
			"Invalid config value for resource ConfigResource(type=BROKER, name='1'): Invalid dynamic configuration")
	}

	wantErr(t, ValidateBroker(cfg, none, map[string]string{"num.partitions": "3", "broker.id": "2"}, "1", nil), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name='1'): "+
			"Cannot update these configs dynamically: Set(broker.id, num.partitions)")
	// Not in DynamicThreadPool in Kafka 2.8: the log dir movers' count is static.
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"num.replica.alter.log.dirs.threads": "2"}, "1", nil), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name='1'): "+
			"Cannot update these configs dynamically: Set(num.replica.alter.log.dirs.threads)")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"ssl.keystore.type": "PKCS12"}, "1", nil), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name='1'): These security configs can be "+
			"dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.type)")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"ssl.client.auth": "required"}, "", nil), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name=''): "+
			"Cannot update these configs at default cluster level, broker id must be specified: Set(ssl.client.auth)")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"log.retention.bytes": "x"}, "1", nil), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name='1'): "+
			"Invalid value x for configuration log.retention.bytes: Not a number of type LONG")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"follower.replication.throttled.rate": "-1"}, "", nil), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name=''): "+
			"Invalid value -1 for configuration follower.replication.throttled.rate: Value must be at least 0")
	// DynamicListenerConfig: a new listener is fine; an existing one keeps its protocol and its own configs.
	lcfg, err := serverprops.FromMap(map[string]string{"broker.id": "1", "zookeeper.connect": "127.0.0.1:2181",
		"log.dirs": t.TempDir(), "listeners": "PLAINTEXT://127.0.0.1:9092,INTERNAL://127.0.0.1:9093",
		"listener.security.protocol.map":         "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,SECURE:SSL",
		"listener.name.internal.max.connections": "5", "inter.broker.listener.name": "INTERNAL"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateBroker(lcfg, none, map[string]string{
		"listeners": "PLAINTEXT://127.0.0.1:9092,INTERNAL://127.0.0.1:9093,SECURE://127.0.0.1:9094"}, "1", nil); err != nil {
		t.Errorf("a listener added: %v", err)
	}
	for _, bad := range []map[string]string{
		{"listener.security.protocol.map": "PLAINTEXT:SSL,INTERNAL:PLAINTEXT"},
		{"listeners": "PLAINTEXT://127.0.0.1:9092,INTERNAL://127.0.0.1:9093,SECURE://127.0.0.1:9094",
			"listener.name.internal.sasl.enabled.mechanisms": "PLAIN"},
		{"listeners": "PLAINTEXT://127.0.0.1:9092"},
	} {
		wantErr(t, ValidateBroker(lcfg, none, bad, "1", nil), 42,
			"Invalid config value for resource ConfigResource(type=BROKER, name='1'): Invalid dynamic configuration")
	}
	// Passwords pass validation; storing them needs password.encoder.secret (TestPasswordPersistence).
	ok(map[string]string{"listener.name.plaintext.ssl.keystore.password": "x"}, "1")
	// A reconfigurable's refusal is Kafka's generic answer.
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"listener.name.ssl.ssl.keystore.location": "/x"}, "1",
		func(*serverprops.Config) error { return errors.New("no") }), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name='1'): Invalid dynamic configuration")
}

// TestPasswordPersistence: password configs (listener-prefixed, or the SASL JAAS config) are encrypted for
// ZooKeeper with password.encoder.secret and decoded when read; without the secret, or at the cluster default
// level, Kafka refuses to store them.
func TestPasswordPersistence(t *testing.T) {
	without := New(Config{Static: testProps(t)})
	props := map[string]string{"listener.name.ssl.ssl.keystore.password": "store-pw",
		"listener.name.sasl_ssl.plain.sasl.jaas.config": "jaas", "log.cleaner.threads": "2"}
	if _, err := without.ToPersistent(props, true); err == nil || err.Error() != "Password encoder secret not configured" {
		t.Fatalf("without a secret: %v", err)
	}
	if got := without.FromPersistent(props); len(got) != 1 || got["log.cleaner.threads"] != "2" {
		t.Fatalf("without a secret, passwords must be left out: %v", got)
	}
	cfg, err := serverprops.FromMap(map[string]string{"broker.id": "1", "zookeeper.connect": "127.0.0.1:2181",
		"log.dirs": t.TempDir(), "password.encoder.secret": "s3cret"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Static: cfg})
	for _, name := range []string{"listener.name.ssl.ssl.key.password", "listener.name.x.ssl.truststore.certificates",
		"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config", "custom.ssl.keystore.password"} {
		if !m.IsPassword(name) {
			t.Errorf("%s is a password config", name)
		}
	}
	if m.IsPassword("log.cleaner.threads") || m.IsPassword("delegation.token.secret.key") {
		t.Error("not dynamic password configs")
	}
	if _, err := m.ToPersistent(map[string]string{"custom.ssl.keystore.password": "x"}, false); err == nil ||
		err.Error() != "Password config can be defined only at broker level" {
		t.Fatalf("default level: %v", err)
	}
	stored, err := m.ToPersistent(props, true)
	if err != nil {
		t.Fatal(err)
	}
	if stored["log.cleaner.threads"] != "2" || !strings.Contains(stored["listener.name.ssl.ssl.keystore.password"], "encryptedPassword:") {
		t.Fatalf("stored %v", stored)
	}
	if got := m.FromPersistent(stored); !maps.Equal(got, props) {
		t.Fatalf("read back %v, want %v", got, props)
	}
	if got := without.FromPersistent(stored); len(got) != 1 {
		t.Fatalf("another broker without the secret read %v", got)
	}
}

func TestApplyOps(t *testing.T) {
	s := func(v string) *string { return &v }
	props := map[string]string{"retention.ms": "1", "segment.bytes": "2000"}
	err := ApplyOps(props, []Op{
		{Name: "retention.ms", Op: OpDelete},
		{Name: "segment.ms", Op: OpSet, Value: s("100")},
		{Name: "cleanup.policy", Op: OpAppend, Value: s("compact")},
		{Name: "leader.replication.throttled.replicas", Op: OpAppend, Value: s("0:1,1:1")},
	}, TopicListKind)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"segment.bytes": "2000", "segment.ms": "100", "cleanup.policy": "delete,compact",
		"leader.replication.throttled.replicas": "0:1,1:1"}
	if len(props) != len(want) {
		t.Fatalf("got %v, want %v", props, want)
	}
	for k, v := range want {
		if props[k] != v {
			t.Fatalf("got %v, want %v", props, want)
		}
	}
	if err := ApplyOps(props, []Op{{Name: "cleanup.policy", Op: OpSubtract, Value: s("delete")}}, TopicListKind); err != nil {
		t.Fatal(err)
	}
	if props["cleanup.policy"] != "compact" {
		t.Fatalf("subtract: %v", props)
	}
	wantErr(t, ApplyOps(props, []Op{{Name: "segment.ms", Op: OpAppend, Value: s("1")}}, TopicListKind), 42,
		"Config value append is not allowed for config key: segment.ms")
	wantErr(t, ApplyOps(props, []Op{{Name: "nope", Op: OpSubtract, Value: s("1")}}, TopicListKind), 40, "")

	wantErr(t, CheckOps([]Op{{Name: "a", Op: OpSet, Value: s("1")}, {Name: "a", Op: OpDelete}}), 42,
		"Error due to duplicate config keys : a")
	wantErr(t, CheckOps([]Op{{Name: "a", Op: OpSet}}), 42, "Null value not supported for : SET:a")

	bk := BrokerListKind(testProps(t))
	if isList, dflt, known := bk("log.cleanup.policy"); !isList || !known || dflt != "delete" {
		t.Fatalf("log.cleanup.policy: %v %q %v", isList, dflt, known)
	}
}

func TestParseChange(t *testing.T) {
	for _, c := range []struct {
		data, typ, name string
	}{
		{`{"version":2,"entity_path":"topics/foo"}`, "topics", "foo"},
		{`{"version":2,"entity_path":"users/alice/clients/app"}`, "users", "alice/clients/app"},
		{`{"version":2,"entity_path":"brokers/<default>"}`, "brokers", "<default>"},
		{`{"version":1,"entity_type":"topics","entity_name":"bar"}`, "topics", "bar"},
	} {
		typ, name, err := ParseChange([]byte(c.data))
		if err != nil || typ != c.typ || name != c.name {
			t.Fatalf("%s: %q %q %v", c.data, typ, name, err)
		}
	}
	for _, bad := range []string{`foo`, `{"version":1,"entity_type":"brokers","entity_name":"1"}`,
		`{"version":2}`, `{"version":3,"entity_path":"topics/x"}`} {
		if _, _, err := ParseChange([]byte(bad)); err == nil {
			t.Fatalf("%s: no error", bad)
		}
	}
}

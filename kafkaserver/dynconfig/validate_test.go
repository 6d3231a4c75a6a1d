package dynconfig

import (
	"errors"
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
		if err := ValidateBroker(cfg, none, props, name); err != nil {
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
		wantErr(t, ValidateBroker(cfg, none, bad, "1"), 42,
			"Invalid config value for resource ConfigResource(type=BROKER, name='1'): Invalid dynamic configuration")
	}

	wantErr(t, ValidateBroker(cfg, none, map[string]string{"num.partitions": "3", "broker.id": "2"}, "1"), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name='1'): "+
			"Cannot update these configs dynamically: Set(broker.id, num.partitions)")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"ssl.keystore.type": "PKCS12"}, "1"), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name='1'): These security configs can be "+
			"dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.type)")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"ssl.client.auth": "required"}, ""), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name=''): "+
			"Cannot update these configs at default cluster level, broker id must be specified: Set(ssl.client.auth)")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"log.retention.bytes": "x"}, "1"), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name='1'): "+
			"Invalid value x for configuration log.retention.bytes: Not a number of type LONG")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"follower.replication.throttled.rate": "-1"}, ""), 42,
		"Invalid config value for resource ConfigResource(type=BROKER, name=''): "+
			"Invalid value -1 for configuration follower.replication.throttled.rate: Value must be at least 0")
	wantErr(t, ValidateBroker(cfg, none, map[string]string{"listener.name.plaintext.ssl.keystore.password": "x"}, "1"),
		42, "Invalid config value for resource ConfigResource(type=BROKER, name='1'): Password encoder secret not configured")
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

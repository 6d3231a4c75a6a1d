package serverprops

import (
	"testing"
)

func entries(list []ConfigEntry) map[string]ConfigEntry {
	m := map[string]ConfigEntry{}
	for _, e := range list {
		m[e.Name] = e
	}
	return m
}

func val(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func synString(ss []ConfigSynonym) string {
	out := ""
	for _, s := range ss {
		out += s.Name + "=" + val(s.Value) + "@" + string(rune('0'+s.Source)) + ";"
	}
	return out
}

func TestDescribe(t *testing.T) {
	c := load(t, map[string]string{LogRetentionHours: "100", "ssl.keystore.password": "pw", "custom.thing": "x",
		NumIoThreads: " 4 ", ProcessRoles: ""})
	m := entries(c.Describe())
	for _, tc := range []struct {
		name      string
		value     string
		source    ConfigSource
		sensitive bool
		readOnly  bool
		typ       Type
		synonyms  string
	}{
		// Only log.retention.ms is dynamic (DynamicLogConfig), so the hours synonym is read-only.
		{LogRetentionHours, "100", SourceStaticBrokerConfig, false, true, TypeInt,
			"log.retention.hours=100@4;log.retention.hours=168@5;"},
		// log.retention.ms itself is null; its synonyms before it are dropped, as Kafka does.
		{LogRetentionMs, "<null>", SourceDefaultConfig, false, false, TypeLong, ""},
		{NumIoThreads, "4", SourceStaticBrokerConfig, false, false, TypeInt, "num.io.threads= 4 @4;num.io.threads=8@5;"},
		{"ssl.keystore.password", "<null>", SourceStaticBrokerConfig, true, false, TypePassword,
			"ssl.keystore.password=<null>@4;"},
		{"custom.thing", "<null>", SourceStaticBrokerConfig, true, true, TypeUnknown, "custom.thing=<null>@4;"},
		{ZkConnect, "localhost:2181", SourceStaticBrokerConfig, false, true, TypeString,
			"zookeeper.connect=localhost:2181@4;"},
		{LogCleanupPolicy, "delete", SourceDefaultConfig, false, false, TypeList, "log.cleanup.policy=delete@5;"},
		{BrokerRack, "<null>", SourceDefaultConfig, false, true, TypeString, ""},
		{LogFlushIntervalMs, "<null>", SourceDefaultConfig, false, false, TypeLong, ""},
		{LogFlushSchedulerIntervalMs, "9223372036854775807", SourceDefaultConfig, false, true, TypeLong,
			"log.flush.scheduler.interval.ms=9223372036854775807@5;"},
		{ProcessRoles, "", SourceStaticBrokerConfig, false, true, TypeList, "process.roles=@4;process.roles=@5;"},
	} {
		e, ok := m[tc.name]
		if !ok {
			t.Errorf("%s missing", tc.name)
			continue
		}
		if val(e.Value) != tc.value || e.Source != tc.source || e.IsSensitive != tc.sensitive ||
			e.ReadOnly != tc.readOnly || e.Type != tc.typ || synString(e.Synonyms) != tc.synonyms {
			t.Errorf("%s: got %q src %d sens %v ro %v type %v syn %q\nwant %q src %d sens %v ro %v type %v syn %q",
				tc.name, val(e.Value), e.Source, e.IsSensitive, e.ReadOnly, e.Type, synString(e.Synonyms),
				tc.value, tc.source, tc.sensitive, tc.readOnly, tc.typ, tc.synonyms)
		}
	}
	if _, ok := m["node.id"]; ok {
		t.Errorf("internal config node.id described although unset")
	}

	// Dynamic configs: per-broker over cluster default over static.
	d, err := c.WithDynamic(map[string]string{LogRetentionMs: "5000", "listener.name.external.ssl.keystore.location": "/k"},
		map[string]string{LogRetentionMs: "7000", MessageMaxBytes: "2000000", ZkConnect: "other:2181"})
	if err != nil {
		t.Fatal(err)
	}
	if d.LogRetentionMs != 5000 || d.MessageMaxBytes != 2000000 || d.ZookeeperConnect != "localhost:2181" {
		t.Errorf("dynamic: retention %d max bytes %d zk %q", d.LogRetentionMs, d.MessageMaxBytes, d.ZookeeperConnect)
	}
	if c.LogRetentionMs != 100*3600000 {
		t.Errorf("WithDynamic changed the original")
	}
	m = entries(d.Describe())
	e := m[LogRetentionMs]
	if val(e.Value) != "5000" || e.Source != SourceDynamicBrokerConfig ||
		synString(e.Synonyms) != "log.retention.ms=5000@2;log.retention.ms=7000@3;log.retention.hours=100@4;log.retention.hours=168@5;" {
		t.Errorf("dynamic log.retention.ms: %q %d %q", val(e.Value), e.Source, synString(e.Synonyms))
	}
	if e := m[MessageMaxBytes]; val(e.Value) != "2000000" || e.Source != SourceDynamicDefaultBrokerConfig {
		t.Errorf("message.max.bytes: %q %d", val(e.Value), e.Source)
	}
	if e := m["listener.name.external.ssl.keystore.location"]; val(e.Value) != "/k" || e.Type != TypeString ||
		e.Source != SourceDynamicBrokerConfig || !e.ReadOnly {
		t.Errorf("listener config: %+v", e)
	}
	if v, ok := d.ListenerConfig("EXTERNAL", "ssl.keystore.location"); !ok || v != "/k" {
		t.Errorf("ListenerConfig = %q %v", v, ok)
	}
	if _, ok := d.ListenerConfig("INTERNAL", "ssl.keystore.location"); ok {
		t.Errorf("ListenerConfig for INTERNAL should be null")
	}
	def := entries(d.DescribeDefault())
	if len(def) != 2 || val(def[LogRetentionMs].Value) != "7000" ||
		synString(def[LogRetentionMs].Synonyms) != "log.retention.ms=7000@3;" {
		t.Errorf("DescribeDefault = %+v", def)
	}
	if _, err := c.WithDynamic(map[string]string{NumIoThreads: "0"}, nil); err == nil {
		t.Errorf("invalid dynamic value accepted")
	}
}

func TestDescribeTopic(t *testing.T) {
	c := load(t, map[string]string{LogRetentionMs: "1000", LogSegmentBytes: "2000000"})
	m := entries(c.DescribeTopic(map[string]string{"retention.ms": "5000", "cleanup.policy": "compact"}))
	if len(m) != 26 {
		t.Errorf("%d topic entries", len(m))
	}
	for _, tc := range []struct {
		name, value string
		source      ConfigSource
		synonyms    string
	}{
		{"retention.ms", "5000", SourceTopicConfig, "retention.ms=5000@1;log.retention.ms=1000@4;log.retention.hours=168@5;"},
		{"segment.bytes", "2000000", SourceStaticBrokerConfig, "log.segment.bytes=2000000@4;log.segment.bytes=1073741824@5;"},
		{"cleanup.policy", "compact", SourceTopicConfig, "cleanup.policy=compact@1;log.cleanup.policy=delete@5;"},
		{"segment.ms", "604800000", SourceDefaultConfig, ""},
		{"leader.replication.throttled.replicas", "", SourceDefaultConfig, ""},
	} {
		e := m[tc.name]
		if val(e.Value) != tc.value || e.Source != tc.source || synString(e.Synonyms) != tc.synonyms || e.ReadOnly {
			t.Errorf("%s: %q %d %q, want %q %d %q", tc.name, val(e.Value), e.Source, synString(e.Synonyms),
				tc.value, tc.source, tc.synonyms)
		}
	}
}

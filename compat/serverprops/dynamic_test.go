package serverprops

import "testing"

// WithDynamic keeps what DynamicBrokerConfig.fromPersistentProps keeps: custom keys, the throttle rates and
// listener overrides stay and DescribeConfigs lists them; non-dynamic configs, unprefixed SSL store configs and
// per-broker configs at the default level go.
func TestWithDynamicKeepsCustomAndThrottleKeys(t *testing.T) {
	c := load(t, map[string]string{})
	d, err := c.WithDynamic(map[string]string{
		"leader.replication.throttled.rate": "1000", "my.custom.key": "x", BrokerIDProp: "7",
		"ssl.keystore.location": "/k", "listener.name.plaintext.max.connections": "10",
	}, map[string]string{
		"follower.replication.throttled.rate": "2000", "other.custom": "y", ListenersProp: "PLAINTEXT://:1",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := entries(d.Describe())
	if e := m["leader.replication.throttled.rate"]; val(e.Value) != "1000" || e.Source != SourceDynamicBrokerConfig ||
		e.Type != TypeLong || e.IsSensitive || !e.ReadOnly {
		t.Errorf("leader throttle: %+v", e)
	}
	if e := m["follower.replication.throttled.rate"]; val(e.Value) != "2000" || e.Source != SourceDynamicDefaultBrokerConfig {
		t.Errorf("follower throttle: %+v", e)
	}
	// A key no config defines has no known type: sensitive, so its value is hidden.
	if e, ok := m["my.custom.key"]; !ok || e.Value != nil || !e.IsSensitive || e.Source != SourceDynamicBrokerConfig {
		t.Errorf("custom key: %+v %v", e, ok)
	}
	if _, ok := m["other.custom"]; !ok {
		t.Errorf("default-level custom key dropped")
	}
	if e := m["listener.name.plaintext.max.connections"]; val(e.Value) != "10" {
		t.Errorf("listener override: %+v", e)
	}
	if d.BrokerID == 7 {
		t.Errorf("non-dynamic broker.id applied")
	}
	if e := m["ssl.keystore.location"]; e.Source == SourceDynamicBrokerConfig {
		t.Errorf("unprefixed SSL store config kept: %+v", e)
	}
	if e := m[ListenersProp]; e.Source == SourceDynamicDefaultBrokerConfig {
		t.Errorf("per-broker listeners kept at the default level: %+v", e)
	}
	if len(d.DescribeDefault()) != 2 {
		t.Errorf("DescribeDefault = %+v", d.DescribeDefault())
	}
}

package serverprops

import (
	"maps"
	"slices"
)

// ConfigSource is DescribeConfigs' config source id.
type ConfigSource int8

// Config sources, with the ids of DescribeConfigsResponse.ConfigSource.
const (
	SourceUnknown                    ConfigSource = 0
	SourceTopicConfig                ConfigSource = 1 // DYNAMIC_TOPIC_CONFIG
	SourceDynamicBrokerConfig        ConfigSource = 2
	SourceDynamicDefaultBrokerConfig ConfigSource = 3
	SourceStaticBrokerConfig         ConfigSource = 4
	SourceDefaultConfig              ConfigSource = 5
	SourceDynamicBrokerLoggerConfig  ConfigSource = 6
)

// ConfigSynonym is one definition of a config at some level, highest precedence first.
type ConfigSynonym struct {
	Name   string
	Value  *string // nil for sensitive values
	Source ConfigSource
}

// ConfigEntry is one DescribeConfigs result entry.
type ConfigEntry struct {
	Name        string
	Value       *string // nil for null or sensitive values
	Source      ConfigSource
	IsSensitive bool
	ReadOnly    bool
	Type        Type
	Synonyms    []ConfigSynonym // all of them; send them only when the request asks (IncludeSynonyms)
}

// brokerConfigSynonyms is DynamicBrokerConfig.brokerConfigSynonyms with matchListenerOverride: the names that
// define a broker config, highest precedence first.
func brokerConfigSynonyms(name string) []string {
	switch name {
	case LogRollMs, LogRollHours:
		return []string{LogRollMs, LogRollHours}
	case LogRollJitterMs, LogRollJitterHours:
		return []string{LogRollJitterMs, LogRollJitterHours}
	case LogFlushIntervalMs:
		return []string{LogFlushIntervalMs, LogFlushSchedulerIntervalMs}
	case LogRetentionMs, LogRetentionMinutes, LogRetentionHours:
		return []string{LogRetentionMs, LogRetentionMinutes, LogRetentionHours}
	}
	if m := listenerConfigRE.FindStringSubmatch(name); m != nil {
		return []string{name, ListenerBaseName(m[1])}
	}
	return []string{name}
}

// brokerConfigType is KafkaConfig.configType: a defined config's type, else that of its synonyms.
func brokerConfigType(name string) Type {
	if d, ok := brokerDefIndex[name]; ok {
		return d.typ
	}
	if throttleRates[name] {
		return TypeLong // DynamicConfig.Broker defines them, not KafkaConfig
	}
	for _, n := range brokerConfigSynonyms(name) {
		if d, ok := brokerDefIndex[n]; ok {
			return d.typ
		}
	}
	return TypeUnknown
}

// throttleRates are DynamicConfig.Broker's own configs: leader.replication.throttled.rate,
// follower.replication.throttled.rate and replica.alter.log.dirs.io.max.bytes.per.second (all LONG).
var throttleRates = map[string]bool{"leader.replication.throttled.rate": true,
	"follower.replication.throttled.rate": true, "replica.alter.log.dirs.io.max.bytes.per.second": true}

// sensitive is KafkaConfig.maybeSensitive: passwords, and anything whose type is unknown.
func sensitive(t Type) bool { return t == TypeUnknown || t == TypePassword }

// staticDefaults is the string form of every non-null default (DynamicBrokerConfig.staticDefaultConfigs).
var staticDefaults = func() map[string]string {
	m := map[string]string{}
	for _, d := range brokerDefs {
		if d.dflt == nil {
			continue
		}
		v, _ := parseType(d.name, *d.dflt, d.typ)
		if s, ok := convertToString(v); ok {
			m[d.name] = s
		}
	}
	return m
}()

// synonyms is ConfigHelper.configSynonyms: each synonym found per source, sources in precedence order, then
// everything before the described name itself dropped.
func (c *Config) synonyms(name string, names []string, isSensitive bool) []ConfigSynonym {
	var all []ConfigSynonym
	for _, src := range []struct {
		m   map[string]string
		src ConfigSource
	}{
		{c.dynBroker, SourceDynamicBrokerConfig},
		{c.dynDefault, SourceDynamicDefaultBrokerConfig},
		{c.static, SourceStaticBrokerConfig},
		{staticDefaults, SourceDefaultConfig},
	} {
		for _, n := range names {
			if v, ok := src.m[n]; ok {
				s := ConfigSynonym{Name: n, Source: src.src}
				if !isSensitive {
					s.Value = &v
				}
				all = append(all, s)
			}
		}
	}
	for i, s := range all {
		if s.Name == name {
			return all[i:]
		}
	}
	return nil
}

// describeNames is the key set of allConfigs: the given keys plus every non-internal defined config.
func (c *Config) describeNames(given map[string]string) []string {
	names := map[string]bool{}
	for k := range given {
		names[k] = true
	}
	for _, d := range brokerDefs {
		if !d.internal {
			names[d.name] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}

// Describe lists the broker's configs as DescribeConfigs does for this broker's own resource (name = broker
// id): value, source, sensitivity, read-only flag, type and synonyms, sorted by name.
func (c *Config) Describe() []ConfigEntry {
	given := maps.Clone(c.static)
	maps.Copy(given, c.dynDefault)
	maps.Copy(given, c.dynBroker)
	var out []ConfigEntry
	for _, name := range c.describeNames(given) {
		out = append(out, c.brokerEntry(name, given, true))
	}
	return out
}

// DescribeDefault lists the dynamic cluster-wide defaults, as DescribeConfigs does for the broker resource with
// an empty name.
func (c *Config) DescribeDefault() []ConfigEntry {
	var out []ConfigEntry
	for _, name := range slices.Sorted(maps.Keys(c.dynDefault)) {
		out = append(out, c.brokerEntry(name, c.dynDefault, false))
	}
	return out
}

func (c *Config) brokerEntry(name string, given map[string]string, perBroker bool) ConfigEntry {
	typ := brokerConfigType(name)
	e := ConfigEntry{Name: name, Type: typ, IsSensitive: sensitive(typ), ReadOnly: !dynamicConfigs[name]}
	if !e.IsSensitive {
		// allConfigs is originals ++ nonInternalValues: a defined config shows its parsed value, anything else
		// the string it was given as.
		if d, defined := brokerDefIndex[name]; perBroker && defined && !d.internal {
			if s, ok := convertToString(c.vals[name]); ok {
				e.Value = &s
			}
		} else if v, ok := given[name]; ok {
			e.Value = &v
		}
	}
	for _, s := range c.synonyms(name, brokerConfigSynonyms(name), e.IsSensitive) {
		if perBroker || s.Source == SourceDynamicDefaultBrokerConfig {
			e.Synonyms = append(e.Synonyms, s)
		}
	}
	e.Source = SourceDefaultConfig
	if len(e.Synonyms) > 0 {
		e.Source = e.Synonyms[0].Source
	}
	return e
}

// DescribeTopic lists a topic's configs as DescribeConfigs does for a topic resource: overrides (already
// validated) over this broker's defaults. An overridden config has source DYNAMIC_TOPIC_CONFIG and the
// topic-level value as its first synonym, followed by the broker synonyms.
func (c *Config) DescribeTopic(overrides map[string]string) []ConfigEntry {
	defaults := c.TopicDefaults()
	var out []ConfigEntry
	for _, name := range TopicConfigNames() {
		d := topicDefIndex[name]
		raw, overridden := overrides[name]
		if !overridden {
			raw = defaults[name]
		}
		e := ConfigEntry{Name: name, Type: d.typ, IsSensitive: sensitive(d.typ)}
		if !e.IsSensitive {
			s := raw
			if pv, err := parseType(name, raw, d.typ); err == nil {
				s, _ = convertToString(pv)
			}
			e.Value = &s
		}
		if overridden {
			e.Synonyms = append(e.Synonyms, ConfigSynonym{Name: name, Value: e.Value, Source: SourceTopicConfig})
		}
		if b, ok := TopicConfigSynonym(name); ok {
			e.Synonyms = append(e.Synonyms, c.synonyms(b, brokerConfigSynonyms(b), e.IsSensitive)...)
		}
		e.Source = SourceDefaultConfig
		if len(e.Synonyms) > 0 {
			e.Source = e.Synonyms[0].Source
		}
		out = append(out, e)
	}
	return out
}

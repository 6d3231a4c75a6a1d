package dtoken

import (
	"time"

	"github.com/zkafka/zkafka/compat/serverprops"
)

// Config is KafkaConfig's delegation token settings.
type Config struct {
	// SecretKey is delegation.token.secret.key, or its deprecated alias delegation.token.master.key; empty turns
	// tokens off (tokenAuthEnabled).
	SecretKey string
	// MaxLifetime is delegation.token.max.lifetime.ms (7 days).
	MaxLifetime time.Duration
	// ExpiryTime is delegation.token.expiry.time.ms (1 day): a token's life until renewed.
	ExpiryTime time.Duration
	// CheckInterval is delegation.token.expiry.check.interval.ms (1 hour).
	CheckInterval time.Duration
}

// Enabled is KafkaConfig.tokenAuthEnabled.
func (c Config) Enabled() bool { return c.SecretKey != "" }

// secretKey is KafkaConfig.delegationTokenSecretKey: the new name when set at all (an empty value turns tokens
// off), else the alias.
func secretKey(props *serverprops.Config) string {
	if v, ok := props.Raw["delegation.token.secret.key"]; ok {
		return v
	}
	return props.String("delegation.token.master.key")
}

// ConfigFrom reads the settings from server.properties with Kafka's defaults.
func ConfigFrom(props *serverprops.Config) Config {
	ms := func(name string, dflt int64) time.Duration {
		v, ok := props.Long(name)
		if !ok || v <= 0 {
			v = dflt
		}
		return time.Duration(v) * time.Millisecond
	}
	return Config{
		SecretKey:     secretKey(props),
		MaxLifetime:   ms("delegation.token.max.lifetime.ms", 7*24*3600*1000),
		ExpiryTime:    ms("delegation.token.expiry.time.ms", 24*3600*1000),
		CheckInterval: ms("delegation.token.expiry.check.interval.ms", 3600*1000),
	}
}

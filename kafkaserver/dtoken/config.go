package dtoken

import (
	"cmp"
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
		// KafkaConfig prefers the new name and falls back to the alias.
		SecretKey:     cmp.Or(props.String("delegation.token.secret.key"), props.String("delegation.token.master.key")),
		MaxLifetime:   ms("delegation.token.max.lifetime.ms", 7*24*3600*1000),
		ExpiryTime:    ms("delegation.token.expiry.time.ms", 24*3600*1000),
		CheckInterval: ms("delegation.token.expiry.check.interval.ms", 3600*1000),
	}
}

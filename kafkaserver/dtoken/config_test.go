package dtoken

import (
	"log/slog"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/serverprops"
)

// The secret key as KafkaConfig reads it: the new name wins when given at all, even empty; else the alias.
func TestConfigFrom(t *testing.T) {
	cases := []struct {
		props   map[string]string
		key     string
		enabled bool
	}{
		{map[string]string{}, "", false},
		{map[string]string{"delegation.token.master.key": "m"}, "m", true},
		{map[string]string{"delegation.token.secret.key": "s", "delegation.token.master.key": "m"}, "s", true},
		{map[string]string{"delegation.token.secret.key": "", "delegation.token.master.key": "m"}, "", false},
	}
	for _, c := range cases {
		props := map[string]string{"zookeeper.connect": "127.0.0.1:2181"}
		for k, v := range c.props {
			props[k] = v
		}
		sp, err := serverprops.FromMap(props, nil, slog.Default())
		if err != nil {
			t.Fatal(err)
		}
		cfg := ConfigFrom(sp)
		if cfg.SecretKey != c.key || cfg.Enabled() != c.enabled {
			t.Errorf("%v: key %q enabled %v", c.props, cfg.SecretKey, cfg.Enabled())
		}
		if cfg.MaxLifetime != 7*24*time.Hour || cfg.ExpiryTime != 24*time.Hour || cfg.CheckInterval != time.Hour {
			t.Errorf("%v: defaults %+v", c.props, cfg)
		}
	}
}

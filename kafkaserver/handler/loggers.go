package handler

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/dynconfig"
	"github.com/zkafka/zkafka/kafkaserver/loggers"
)

// describeLoggers is ConfigHelper's BROKER_LOGGER case: every logger and the root with the level it logs at, as
// dynamic broker logger configs (not read-only, no synonyms). Kafka lists them in a hash map's order; by name here.
func describeLoggers(r *loggers.Registry) []serverprops.ConfigEntry {
	levels := r.Levels()
	out := make([]serverprops.ConfigEntry, 0, len(levels))
	for _, name := range slices.Sorted(maps.Keys(levels)) {
		v := levels[name]
		out = append(out, serverprops.ConfigEntry{Name: name, Value: &v, Source: serverprops.SourceDynamicBrokerLoggerConfig})
	}
	return out
}

// alterLoggers is ZkAdminManager's BROKER_LOGGER case of incrementalAlterConfigs: every operation is checked
// (validateLogLevelConfigs) before any applies, and none applies with validateOnly.
func (h *Handlers) alterLoggers(name string, ops []dynconfig.Op, validateOnly bool) error {
	r := h.cfg.Loggers
	resource := dynconfig.Resource{Type: "BROKER_LOGGER", Name: name}
	levels := make([]slog.Level, len(ops))
	for i, o := range ops {
		switch o.Op {
		case dynconfig.OpSet, dynconfig.OpDelete:
			if !r.Exists(o.Name) {
				return dynconfig.ConfigException(resource, fmt.Sprintf("Logger %s does not exist!", o.Name))
			}
		}
		switch o.Op {
		case dynconfig.OpSet:
			l, ok := loggers.ParseLevel(*o.Value) // CheckOps refused a null value for SET
			if !ok {
				return dynconfig.ConfigException(resource, fmt.Sprintf("Cannot set the log level of %s to %s as it is not a "+
					"supported log level. Valid log levels are %s", o.Name, *o.Value, loggers.ValidLevels))
			}
			levels[i] = l
		case dynconfig.OpDelete:
			if o.Name == loggers.Root {
				return &messageError{kerr.InvalidRequest, "Removing the log level of the root logger is not allowed"}
			}
		default:
			return &messageError{kerr.InvalidRequest, fmt.Sprintf(
				"%s operation is not allowed for the BROKER_LOGGER resource", o.Op)}
		}
	}
	if validateOnly {
		return nil
	}
	for i, o := range ops {
		var err error
		if o.Op == dynconfig.OpSet {
			h.logger.Info("updating the log level", "logger", o.Name, "level", *o.Value)
			err = r.Set(o.Name, levels[i])
		} else {
			h.logger.Info("unsetting the log level", "logger", o.Name)
			err = r.Unset(o.Name)
		}
		if err != nil {
			return fmt.Errorf("alter logger %s: %w", o.Name, err)
		}
	}
	return nil
}

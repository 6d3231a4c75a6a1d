// Package loggers holds a broker's named loggers and their levels, as the log4j hierarchy behind Kafka's
// Log4jController does: the BROKER_LOGGER config resource (DescribeConfigs, IncrementalAlterConfigs) lists the
// loggers with their levels and sets or unsets a level while the broker runs.
//
// Names are Kafka's class loggers for the broker's parts (kafka.controller.KafkaController, kafka.log.LogCleaner,
// ...), so that what an operator sets on a Java broker works here. A logger without a level of its own takes
// that of its nearest dotted ancestor that has one, or the root's, as log4j resolves it.
package loggers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Root is the root logger's name in BROKER_LOGGER configs (Log4jController.ROOT_LOGGER).
const Root = "root"

// Log4j's levels on slog's scale: TRACE below DEBUG, FATAL above ERROR (slog leaves room of 4 between levels).
const (
	LevelTrace = slog.LevelDebug - 4
	LevelFatal = slog.LevelError + 4
	levelOff   = slog.Level(1 << 20) // nothing passes: a base handler that takes nothing (tests' discard)
)

// levels are log4j's level names Kafka accepts (LogLevelConfig.VALID_LOG_LEVELS), lowest first.
var levels = []struct {
	name  string
	level slog.Level
}{
	{"TRACE", LevelTrace}, {"DEBUG", slog.LevelDebug}, {"INFO", slog.LevelInfo},
	{"WARN", slog.LevelWarn}, {"ERROR", slog.LevelError}, {"FATAL", LevelFatal},
}

// ParseLevel is the level for one of Kafka's level names; false for any other string (case matters, as in
// Kafka's check).
func ParseLevel(s string) (slog.Level, bool) {
	for _, l := range levels {
		if l.name == s {
			return l.level, true
		}
	}
	return 0, false
}

// LevelName is log4j's name for l: the highest named level at or below it.
func LevelName(l slog.Level) string {
	if l >= levelOff {
		return "OFF"
	}
	name := "ALL"
	for _, n := range levels {
		if l >= n.level {
			name = n.name
		}
	}
	return name
}

// ValidLevels lists the level names as Kafka's error message does: in the iteration order of the Java HashSet
// holding them (16 buckets, by String.hashCode).
const ValidLevels = "TRACE, ERROR, INFO, FATAL, DEBUG, WARN"

// Registry is the set of loggers and their levels. Records go to one base handler; each logger filters by its
// effective level first.
type Registry struct {
	base slog.Handler

	mu        sync.Mutex
	root      slog.Level
	own       map[string]slog.Level     // levels set on a logger itself
	effective map[string]*slog.LevelVar // every logger made, with the level it logs at
}

// New returns a registry writing to base. The root level starts at the lowest level base takes, so the loggers
// log what base's own filter let through before.
func New(base slog.Handler) *Registry {
	root := levelOff
	for _, l := range levels {
		if base.Enabled(context.Background(), l.level) {
			root = l.level
			break
		}
	}
	return &Registry{base: base, root: root, own: map[string]slog.Level{}, effective: map[string]*slog.LevelVar{}}
}

// Logger returns the logger called name, made on first use. Its records carry logger=name.
func (r *Registry) Logger(name string) *slog.Logger {
	r.mu.Lock()
	lv, ok := r.effective[name]
	if !ok {
		lv = new(slog.LevelVar)
		r.effective[name] = lv
		lv.Set(r.resolve(name))
	}
	r.mu.Unlock()
	return slog.New(&handler{next: r.base.WithAttrs([]slog.Attr{slog.String("logger", name)}), level: lv})
}

// Exists tells whether name is a logger (the root always is).
func (r *Registry) Exists(name string) bool {
	if name == Root {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.effective[name]
	return ok
}

// Levels lists every logger and the root with the level each logs at, by name.
func (r *Registry) Levels() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{Root: LevelName(r.root)}
	for name, lv := range r.effective {
		out[name] = LevelName(lv.Level())
	}
	return out
}

// Set gives the logger name (or the root) a level of its own; its descendants without one follow.
func (r *Registry) Set(name string, level slog.Level) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case name == Root:
		r.root = level
	case r.effective[name] != nil:
		r.own[name] = level
	default:
		return fmt.Errorf("logger %s does not exist", name)
	}
	r.refresh()
	return nil
}

// Unset removes the logger's own level: it logs at its ancestors' again. The root's cannot be removed.
func (r *Registry) Unset(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == Root || r.effective[name] == nil {
		return fmt.Errorf("cannot unset the level of logger %s", name)
	}
	delete(r.own, name)
	r.refresh()
	return nil
}

// resolve is the level name logs at: its own, else its nearest dotted ancestor's among the loggers made, else the
// root's (Log4jController.resolveLevel). r.mu is held.
func (r *Registry) resolve(name string) slog.Level {
	for n := name; ; {
		if l, ok := r.own[n]; ok {
			return l
		}
		i := strings.LastIndexByte(n, '.')
		if i <= 0 {
			return r.root
		}
		n = n[:i]
	}
}

// refresh recomputes every logger's level after a change. r.mu is held.
func (r *Registry) refresh() {
	for name, lv := range r.effective {
		lv.Set(r.resolve(name))
	}
}

// handler filters records by its logger's current level, then hands them to the base handler.
type handler struct {
	next  slog.Handler
	level *slog.LevelVar
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error { return h.next.Handle(ctx, rec) }

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{next: h.next.WithAttrs(attrs), level: h.level}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), level: h.level}
}

// ReplaceLevel is a slog.HandlerOptions.ReplaceAttr that prints log4j's names for the levels slog has none for
// (TRACE rather than DEBUG-4, FATAL rather than ERROR+4).
func ReplaceLevel(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 || a.Key != slog.LevelKey {
		return a
	}
	if l, ok := a.Value.Any().(slog.Level); ok && (l == LevelTrace || l == LevelFatal) {
		a.Value = slog.StringValue(LevelName(l))
	}
	return a
}

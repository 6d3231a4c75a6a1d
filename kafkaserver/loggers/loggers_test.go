package loggers

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func newRegistry(t *testing.T, base slog.Level) (*Registry, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	h := slog.NewTextHandler(&out, &slog.HandlerOptions{Level: base, ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(g) == 0 {
			return slog.Attr{}
		}
		return ReplaceLevel(g, a)
	}})
	return New(h), &out
}

func wantLevels(t *testing.T, r *Registry, want map[string]string) {
	t.Helper()
	got := r.Levels()
	for name, level := range want {
		if got[name] != level {
			t.Errorf("%s at %q, want %q (all: %v)", name, got[name], level, got)
		}
	}
}

// TestInheritance: a logger without a level of its own logs at its nearest made ancestor's, else the root's, and
// follows changes to them (Log4jController.resolveLevel).
func TestInheritance(t *testing.T) {
	r, out := newRegistry(t, slog.LevelInfo)
	r.Logger("kafka")
	cleaner := r.Logger("kafka.log.LogCleaner")
	server := r.Logger("kafka.server.KafkaServer")
	other := r.Logger("org.apache.kafka.Authenticator")
	wantLevels(t, r, map[string]string{Root: "INFO", "kafka": "INFO", "kafka.log.LogCleaner": "INFO"})

	cleaner.Debug("hidden")
	if err := r.Set("kafka", slog.LevelDebug); err != nil {
		t.Fatal(err)
	}
	wantLevels(t, r, map[string]string{Root: "INFO", "kafka": "DEBUG", "kafka.log.LogCleaner": "DEBUG",
		"kafka.server.KafkaServer": "DEBUG", "org.apache.kafka.Authenticator": "INFO"})
	cleaner.Debug("shown", "n", 1)
	other.Debug("hidden")
	if err := r.Set("kafka.log.LogCleaner", LevelTrace); err != nil {
		t.Fatal(err)
	}
	if err := r.Set(Root, slog.LevelWarn); err != nil {
		t.Fatal(err)
	}
	wantLevels(t, r, map[string]string{Root: "WARN", "kafka": "DEBUG", "kafka.log.LogCleaner": "TRACE",
		"kafka.server.KafkaServer": "DEBUG", "org.apache.kafka.Authenticator": "WARN"})
	cleaner.Log(t.Context(), LevelTrace, "trace shown")
	other.Info("hidden")
	// Unset: back to the ancestors' level, and to the root's once none has one.
	if err := r.Unset("kafka"); err != nil {
		t.Fatal(err)
	}
	wantLevels(t, r, map[string]string{"kafka": "WARN", "kafka.server.KafkaServer": "WARN", "kafka.log.LogCleaner": "TRACE"})
	server.Info("hidden")
	server.Error("error shown")

	want := "level=DEBUG msg=shown logger=kafka.log.LogCleaner n=1\n" +
		"level=TRACE msg=\"trace shown\" logger=kafka.log.LogCleaner\n" +
		"level=ERROR msg=\"error shown\" logger=kafka.server.KafkaServer\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}

	// Attributes and groups added later keep the logger's level.
	out.Reset()
	cleaner.With("partition", "t-0").WithGroup("g").Log(t.Context(), LevelTrace, "x", "k", "v")
	if got := out.String(); got != "level=TRACE msg=x logger=kafka.log.LogCleaner partition=t-0 g.k=v\n" {
		t.Fatalf("with attrs: %q", got)
	}
}

// TestRootFromBase: the root starts at the lowest level the base handler takes, so nothing logs that did not
// before; a base taking nothing (a discard handler) leaves the root off.
func TestRootFromBase(t *testing.T) {
	r, _ := newRegistry(t, slog.LevelWarn)
	wantLevels(t, r, map[string]string{Root: "WARN"})
	d := New(slog.DiscardHandler)
	wantLevels(t, d, map[string]string{Root: "OFF"})
	if d.Logger("kafka").Enabled(t.Context(), LevelFatal) {
		t.Fatal("a discarding base enabled a logger")
	}
}

func TestSetUnsetErrors(t *testing.T) {
	r, _ := newRegistry(t, slog.LevelInfo)
	r.Logger("kafka.a")
	if r.Exists("kafka") || !r.Exists("kafka.a") || !r.Exists(Root) {
		t.Fatal("Exists")
	}
	// An ancestor never made is no logger: its name cannot be set, and it gives descendants no level.
	if err := r.Set("kafka", slog.LevelDebug); err == nil {
		t.Fatal("set a logger that does not exist")
	}
	if err := r.Unset(Root); err == nil {
		t.Fatal("unset the root")
	}
	if err := r.Unset("nope"); err == nil {
		t.Fatal("unset a logger that does not exist")
	}
	// Unsetting a logger without a level of its own changes nothing (log4j sets null again).
	if err := r.Unset("kafka.a"); err != nil {
		t.Fatal(err)
	}
	wantLevels(t, r, map[string]string{"kafka.a": "INFO"})
}

func TestLevelNames(t *testing.T) {
	for _, name := range strings.Split(ValidLevels, ", ") {
		l, ok := ParseLevel(name)
		if !ok || LevelName(l) != name {
			t.Errorf("%s: %v %v %s", name, l, ok, LevelName(l))
		}
	}
	for _, bad := range []string{"debug", "OFF", "ALL", "", "INFO "} {
		if _, ok := ParseLevel(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
	if LevelName(slog.LevelInfo+1) != "INFO" || LevelName(LevelTrace-1) != "ALL" {
		t.Error("levels between names")
	}
}

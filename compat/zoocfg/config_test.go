package zoocfg

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// recorder is a slog.Handler that keeps records so tests can assert on warnings.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// warnedKeys returns the "key" attribute of every Warn record.
func (r *recorder) warnedKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var keys []string
	for _, rec := range r.recs {
		if rec.Level != slog.LevelWarn {
			continue
		}
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == "key" {
				keys = append(keys, a.Value.String())
			}
			return true
		})
	}
	return keys
}

// build parses cfg (with "DATADIR" replaced by a fresh temp dir) plus flags.
func build(t *testing.T, cfg, flags string) (*Config, *recorder, error) {
	t.Helper()
	dir := t.TempDir()
	return buildIn(t, dir, cfg, flags)
}

func buildIn(t *testing.T, dir, cfg, flags string) (*Config, *recorder, error) {
	t.Helper()
	cfg = strings.ReplaceAll(cfg, "DATADIR", dir)
	props, err := ParseProperties(strings.NewReader(cfg))
	if err != nil {
		t.Fatalf("ParseProperties: %v", err)
	}
	rec := &recorder{}
	c, err := FromProperties(props, ParseJVMFlags(flags), slog.New(rec))
	return c, rec, err
}

func mustBuild(t *testing.T, cfg, flags string) *Config {
	t.Helper()
	c, _, err := build(t, cfg, flags)
	if err != nil {
		t.Fatalf("FromProperties: %v", err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := mustBuild(t, "dataDir=DATADIR\nclientPort=2181\n", "")
	checks := []struct {
		name      string
		got, want any
	}{
		{"TickTime", c.TickTime, 3000},
		{"InitLimit", c.InitLimit, 0},
		{"DataLogDir", c.DataLogDir, c.DataDir},
		{"ClientPort", c.ClientPort, 2181},
		{"ClientPortAddress", c.ClientPortAddress, ""},
		{"SecureClientPort", c.SecureClientPort, 0},
		{"MaxClientCnxns", c.MaxClientCnxns, 60},
		{"MinSessionTimeout", c.MinSessionTimeout, 6000},
		{"MaxSessionTimeout", c.MaxSessionTimeout, 60000},
		{"ClientPortListenBacklog", c.ClientPortListenBacklog, -1},
		{"MyID", c.MyID, int64(-1)},
		{"Standalone", c.Standalone(), true},
		{"StandaloneEnabled", c.StandaloneEnabled, true},
		{"ReconfigEnabled", c.ReconfigEnabled, false},
		{"SnapCount", c.SnapCount, 100000},
		{"SnapSizeLimitInKb", c.SnapSizeLimitInKb, int64(4194304)},
		{"PreAllocSizeKB", c.PreAllocSizeKB, int64(65536)},
		{"ForceSync", c.ForceSync, true},
		{"AutopurgeSnapRetainCount", c.AutopurgeSnapRetainCount, 3},
		{"AutopurgePurgeInterval", c.AutopurgePurgeInterval, 0},
		{"GlobalOutstandingLimit", c.GlobalOutstandingLimit, 1000},
		{"Whitelist", c.FourLetterWordWhitelist, map[string]bool{"srvr": true}},
		{"AdminEnableServer", c.AdminEnableServer, true},
		{"AdminServerAddress", c.AdminServerAddress, "0.0.0.0"},
		{"AdminServerPort", c.AdminServerPort, 8080},
		{"AdminCommandURL", c.AdminCommandURL, "/commands"},
		{"AdminIdleTimeoutMs", c.AdminIdleTimeoutMs, 30000},
		{"AdminForceHTTPS", c.AdminForceHTTPS, false},
		{"AdminPortUnification", c.AdminPortUnification, false},
		{"AdminHTTPVersion", c.AdminHTTPVersion, 11},
		{"MetricsProviderClassName", c.MetricsProviderClassName, DefaultMetricsProvider},
		{"PrometheusEnabled", c.PrometheusEnabled(), false},
		{"MetricsHTTPHost", c.MetricsHTTPHost, "0.0.0.0"},
		{"MetricsHTTPPort", c.MetricsHTTPPort, 7000},
		{"JuteMaxBuffer", c.JuteMaxBuffer, 0xfffff},
		{"ExtendedTypesEnabled", c.ExtendedTypesEnabled, false},
		{"Emulate353TTLNodes", c.Emulate353TTLNodes, false},
		{"SuperDigest", c.SuperDigest, ""},
		{"DigestAuthEnabled", c.DigestAuthEnabled, true},
		{"SkipACL", c.SkipACL, false},
		{"DigestEnabled", c.DigestEnabled, true},
		{"ContainerCheckIntervalMs", c.ContainerCheckIntervalMs, 60000},
		{"ContainerMaxPerMinute", c.ContainerMaxPerMinute, 10000},
		{"ContainerMaxNeverUsedIntervalMs", c.ContainerMaxNeverUsedIntervalMs, int64(0)},
		{"LocalSessionsEnabled", c.LocalSessionsEnabled, false},
		{"LocalSessionsUpgradingEnabled", c.LocalSessionsUpgradingEnabled, false},
		{"ReadOnlyModeEnabled", c.ReadOnlyModeEnabled, false},
		{"SnapshotTrustEmpty", c.SnapshotTrustEmpty, false},
		{"DataDirAutocreate", c.DataDirAutocreate, true},
		{"AuthProviders", c.AuthProviders, map[string]string{}},
		{"SrvrLegacyDateFormat", c.SrvrLegacyDateFormat, false},
		{"PeerType", c.PeerType, RoleParticipant},
		{"Props", c.Props, map[string]string{}},
		{"DataDirVersion", c.DataDirVersion(), filepath.Join(c.DataDir, "version-2")},
		{"LogDirVersion", c.LogDirVersion(), filepath.Join(c.DataDir, "version-2")},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

func TestSystemPropertiesFromFileAndFlags(t *testing.T) {
	cfg := `dataDir=DATADIR
dataLogDir=/var/log/zk
snapCount=5000
preAllocSize=1024
forceSync=no
globalOutstandingLimit=77
admin.enableServer=false
admin.serverPort=9090
admin.serverAddress=127.0.0.1
admin.commandURL=/cmd
extendedTypesEnabled=true
emulate353TTLNodes=TRUE
DigestAuthenticationProvider.superDigest=super:abc=
DigestAuthenticationProvider.enabled=false
skipACL=yes
digest.enabled=false
snapshot.trust.empty=true
authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
localSessionsEnabled=true
localSessionsUpgradingEnabled=true
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpPort=7070
metricsProvider.httpHost=127.0.0.1
zkafka.srvrLegacyDateFormat=true
maxResponseCacheSize=0
admin.portUnification=true
`
	flags := "-Dzookeeper.maxGetChildrenResponseCacheSize=0x20 -Dzookeeper.snapCount=1 -Dreadonlymode.enabled=true -Dznode.container.checkIntervalMs=0x10 " +
		"-Dznode.container.maxPerMinute=5 -Dznode.container.maxNeverUsedIntervalMs=100 -Dzookeeper.snapSizeLimitInKb=12" +
		" -Dzookeeper.leaderConnectDelayDuringRetryMs=250 -Dzookeeper.admin.idleTimeout=5000 -Dzookeeper.admin.forceHttps=TRUE"
	c := mustBuild(t, cfg, flags)
	checks := []struct {
		name      string
		got, want any
	}{
		{"DataLogDir", c.DataLogDir, "/var/log/zk"},
		{"LogDirVersion", c.LogDirVersion(), "/var/log/zk/version-2"},
		{"SnapCount (zoo.cfg overrides -D)", c.SnapCount, 5000},
		{"SnapSizeLimitInKb", c.SnapSizeLimitInKb, int64(12)},
		{"LeaderConnectDelayDuringRetryMs", c.LeaderConnectDelayDuringRetryMs, 250},
		{"PreAllocSizeKB", c.PreAllocSizeKB, int64(1024)},
		{"ForceSync", c.ForceSync, false},
		{"GlobalOutstandingLimit", c.GlobalOutstandingLimit, 77},
		{"ResponseCacheSize", c.ResponseCacheSize, 0},
		{"ChildrenResponseCacheSize", c.ChildrenResponseCacheSize, 32},
		{"AdminEnableServer", c.AdminEnableServer, false},
		{"AdminServerPort", c.AdminServerPort, 9090},
		{"AdminServerAddress", c.AdminServerAddress, "127.0.0.1"},
		{"AdminCommandURL", c.AdminCommandURL, "/cmd"},
		{"AdminIdleTimeoutMs", c.AdminIdleTimeoutMs, 5000},
		{"AdminForceHTTPS", c.AdminForceHTTPS, true},
		{"AdminPortUnification", c.AdminPortUnification, true},
		{"ExtendedTypesEnabled", c.ExtendedTypesEnabled, true},
		{"Emulate353TTLNodes", c.Emulate353TTLNodes, true},
		{"SuperDigest", c.SuperDigest, "super:abc="},
		{"DigestAuthEnabled", c.DigestAuthEnabled, false},
		{"SkipACL", c.SkipACL, true},
		{"DigestEnabled", c.DigestEnabled, false},
		{"SnapshotTrustEmpty", c.SnapshotTrustEmpty, true},
		{"AuthProviders", c.AuthProviders, map[string]string{"1": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"}},
		{"LocalSessionsEnabled", c.LocalSessionsEnabled, true},
		{"LocalSessionsUpgradingEnabled", c.LocalSessionsUpgradingEnabled, true},
		{"PrometheusEnabled", c.PrometheusEnabled(), true},
		{"MetricsHTTPPort", c.MetricsHTTPPort, 7070},
		{"MetricsHTTPHost", c.MetricsHTTPHost, "127.0.0.1"},
		{"SrvrLegacyDateFormat", c.SrvrLegacyDateFormat, true},
		{"ReadOnlyModeEnabled", c.ReadOnlyModeEnabled, true},
		{"ContainerCheckIntervalMs (Integer.decode)", c.ContainerCheckIntervalMs, 16},
		{"ContainerMaxPerMinute", c.ContainerMaxPerMinute, 5},
		{"ContainerMaxNeverUsedIntervalMs", c.ContainerMaxNeverUsedIntervalMs, int64(100)},
		{"Props snapCount", c.Props["zookeeper.snapCount"], "5000"},
		{"Props zkafka", c.Props["zkafka.srvrLegacyDateFormat"], "true"},
		{"Props bare", c.Props["readonlymode.enabled"], "true"},
		{"Whitelist isro", c.FourLetterWordAllowed("isro"), true},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
	if _, ok := c.Props["zookeeper.localSessionsEnabled"]; ok {
		t.Errorf("QuorumPeerConfig keys must not become system properties")
	}
}

func TestSnapCountFloorAndBadSysProp(t *testing.T) {
	c, rec, err := build(t, "dataDir=DATADIR\n", "-Dzookeeper.snapCount=1 -Dzookeeper.globalOutstandingLimit=lots")
	if err != nil {
		t.Fatal(err)
	}
	if c.SnapCount != 2 {
		t.Errorf("SnapCount = %d, want 2", c.SnapCount)
	}
	// Integer.getInteger falls back to the default on garbage; we warn.
	if c.GlobalOutstandingLimit != 1000 {
		t.Errorf("GlobalOutstandingLimit = %d, want 1000", c.GlobalOutstandingLimit)
	}
	if len(rec.recs) < 2 {
		t.Errorf("expected warnings, got %d records", len(rec.recs))
	}
}

// TestConnThrottleProperties: BlueThrottle's properties, from zoo.cfg and -D, with its corrections of the session
// weights (a global or renew weight below the local one becomes the local one; a weight <= 0 its default) and
// Java's number forms (a double's d suffix, Integer.decode's hex).
func TestConnThrottleProperties(t *testing.T) {
	d := mustBuild(t, "dataDir=DATADIR\n", "")
	if d.ConnThrottleTokens != 0 || d.ConnThrottleFillTimeMs != 1 || d.ConnThrottleFillCount != 1 ||
		d.ConnThrottleFreezeTimeMs != -1 || d.ConnThrottleDropIncrease != 0.02 || d.ConnThrottleDropDecrease != 0.002 ||
		d.ConnThrottleDecreaseRatio != 0 || d.ConnThrottleWeighted || d.ConnThrottleGlobalWeight != 3 ||
		d.ConnThrottleLocalWeight != 1 || d.ConnThrottleRenewWeight != 2 {
		t.Fatalf("defaults: %+v", d)
	}
	c, rec, err := build(t, "dataDir=DATADIR\nconnection_throttle_tokens=0x10\nconnection_throttle_drop_increase=0.5d\n",
		"-Dzookeeper.connection_throttle_weight_enabled=true -Dzookeeper.connection_throttle_local_session_weight=4"+
			" -Dzookeeper.connection_throttle_global_session_weight=2 -Dzookeeper.connection_throttle_renew_session_weight=0"+
			" -Dzookeeper.connection_throttle_drop_decrease=lots -Dzookeeper.connection_throttle_freeze_time=30")
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.ConnThrottleTokens, c.ConnThrottleDropIncrease, c.ConnThrottleDropDecrease, c.ConnThrottleFreezeTimeMs,
		c.ConnThrottleWeighted, c.ConnThrottleGlobalWeight, c.ConnThrottleLocalWeight, c.ConnThrottleRenewWeight}
	want := []any{16, 0.5, 0.002, 30, true, 4, 4, 2}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if len(rec.recs) < 3 { // global below local, renew <= 0, drop_decrease not a number
		t.Errorf("expected 3 warnings, got %d records", len(rec.recs))
	}
}

func TestJuteMaxBuffer(t *testing.T) {
	tests := []struct {
		cfg, flags string
		want       int
	}{
		{"", "", 0xfffff},
		{"", "-Djute.maxbuffer=4194304", 4194304},
		{"jute.maxbuffer=2097152\n", "", 2097152},
		{"jute.maxbuffer=2097152\n", "-Djute.maxbuffer=4194304", 4194304},
		{"", "-Djute.maxbuffer=0x200000", 0x200000},
	}
	for _, tt := range tests {
		c := mustBuild(t, "dataDir=DATADIR\n"+tt.cfg, tt.flags)
		if c.JuteMaxBuffer != tt.want {
			t.Errorf("cfg %q flags %q: JuteMaxBuffer = %d, want %d", tt.cfg, tt.flags, c.JuteMaxBuffer, tt.want)
		}
	}
}

func TestSessionTimeouts(t *testing.T) {
	tests := []struct {
		cfg      string
		min, max int
		errSub   string
	}{
		{"", 6000, 60000, ""},
		{"tickTime=2000\n", 4000, 40000, ""},
		{"tickTime=2000\nminSessionTimeout=-1\nmaxSessionTimeout=-1\n", 4000, 40000, ""},
		{"minSessionTimeout=1000\nmaxSessionTimeout=5000\n", 1000, 5000, ""},
		{"minSessionTimeout=10000\n", 10000, 60000, ""},
		{"maxSessionTimeout=1000\n", 0, 0, "minSessionTimeout must not be larger than maxSessionTimeout"},
		{"minSessionTimeout=9000\nmaxSessionTimeout=8000\n", 0, 0, "minSessionTimeout must not be larger"},
		{"tickTime=0\n", 0, 0, "tickTime is not set"},
		{"minSessionTimeout=abc\n", 0, 0, "minSessionTimeout"},
	}
	for _, tt := range tests {
		c, _, err := build(t, "dataDir=DATADIR\n"+tt.cfg, "")
		if tt.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("%q: err = %v, want containing %q", tt.cfg, err, tt.errSub)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.cfg, err)
			continue
		}
		if c.MinSessionTimeout != tt.min || c.MaxSessionTimeout != tt.max {
			t.Errorf("%q: min/max = %d/%d, want %d/%d", tt.cfg, c.MinSessionTimeout, c.MaxSessionTimeout, tt.min, tt.max)
		}
	}
}

func TestFourLetterWhitelist(t *testing.T) {
	tests := []struct {
		cfg, flags string
		allowed    []string
		denied     []string
	}{
		{"", "", []string{"srvr"}, []string{"ruok", "stat", "isro", "mntr"}},
		{"4lw.commands.whitelist=*\n", "", FourLetterWords(), []string{"xyzw"}},
		{"4lw.commands.whitelist= ruok , stat,,\n", "", []string{"ruok", "stat", "srvr"}, []string{"mntr", "isro"}},
		{"4lw.commands.whitelist=ruok\n", "-Dreadonlymode.enabled=true", []string{"ruok", "srvr", "isro"}, []string{"stat"}},
		// FourLetterCommands compares readonlymode.enabled with equals("true").
		{"", "-Dreadonlymode.enabled=TRUE", []string{"srvr"}, []string{"isro"}},
		{"", "-Dzookeeper.4lw.commands.whitelist=mntr,conf", []string{"mntr", "conf", "srvr"}, []string{"ruok"}},
		{"4lw.commands.whitelist=RUOK\n", "", []string{"srvr"}, []string{"ruok"}},
		{"4lw.commands.whitelist=ruok, *\n", "", FourLetterWords(), nil},
	}
	for _, tt := range tests {
		c := mustBuild(t, "dataDir=DATADIR\n"+tt.cfg, tt.flags)
		for _, w := range tt.allowed {
			if !c.FourLetterWordAllowed(w) {
				t.Errorf("cfg %q flags %q: %s should be allowed", tt.cfg, tt.flags, w)
			}
		}
		for _, w := range tt.denied {
			if c.FourLetterWordAllowed(w) {
				t.Errorf("cfg %q flags %q: %s should be denied", tt.cfg, tt.flags, w)
			}
		}
	}
}

func TestServers(t *testing.T) {
	cfg := `dataDir=DATADIR
tickTime=2000
initLimit=10
syncLimit=5
clientPort=2181
server.1=zk1:2888:3888
server.2=zk2:2888:3888:participant;2182
server.3=zk3:2888:3888;10.0.0.3:2183
server.4=[fe80::1]:2888:3888:observer;[::1]:2184
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := buildIn(t, dir, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []Server{
		{ID: 1, Addrs: []HostPort{{"zk1", 2888, 3888}}, Role: RoleParticipant, Raw: "zk1:2888:3888"},
		{ID: 2, Addrs: []HostPort{{"zk2", 2888, 3888}}, Role: RoleParticipant, ClientHost: "0.0.0.0", ClientPort: 2182,
			Raw: "zk2:2888:3888:participant;2182"},
		{ID: 3, Addrs: []HostPort{{"zk3", 2888, 3888}}, Role: RoleParticipant, ClientHost: "10.0.0.3", ClientPort: 2183,
			Raw: "zk3:2888:3888;10.0.0.3:2183"},
		{ID: 4, Addrs: []HostPort{{"fe80::1", 2888, 3888}}, Role: RoleObserver, ClientHost: "::1", ClientPort: 2184,
			Raw: "[fe80::1]:2888:3888:observer;[::1]:2184"},
	}
	if !reflect.DeepEqual(c.Servers, want) {
		t.Fatalf("Servers =\n%#v\nwant\n%#v", c.Servers, want)
	}
	if c.Standalone() {
		t.Error("3 participants must not be standalone")
	}
	if c.MyID != 1 || c.PeerType != RoleParticipant {
		t.Errorf("MyID/PeerType = %d/%s", c.MyID, c.PeerType)
	}
	if got := c.Servers[3].String(); got != "[fe80::1]:2888:3888:observer;[::1]:2184" {
		t.Errorf("String = %q", got)
	}
	if got := c.Servers[0].String(); got != "zk1:2888:3888:participant" {
		t.Errorf("String = %q", got)
	}
	if c.ConnectToLearnerMasterLimit != 10 {
		t.Errorf("ConnectToLearnerMasterLimit = %d, want initLimit", c.ConnectToLearnerMasterLimit)
	}
	// Apache keeps inline server lines as zookeeper.server.N system properties too.
	if c.Props["zookeeper.server.2"] != "zk2:2888:3888:participant;2182" {
		t.Errorf("Props[zookeeper.server.2] = %q", c.Props["zookeeper.server.2"])
	}
}

func TestClientPortFromServerLine(t *testing.T) {
	base := "dataDir=DATADIR\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2;127.0.0.1:2191\nserver.2=b:1:2\nserver.3=c:1:2\n"
	tests := []struct {
		extra    string
		port     int
		addr     string
		errSub   string
		observer bool
	}{
		{"", 2191, "127.0.0.1", "", false},
		{"clientPort=2191\n", 2191, "127.0.0.1", "", false},
		{"clientPort=2000\n", 0, "", "is different from client address", false},
		{"clientPort=2191\nclientPortAddress=10.1.1.1\n", 0, "", "is different from client address", false},
		{"clientPort=2191\nclientPortAddress=127.0.0.1\n", 2191, "127.0.0.1", "", false},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("1"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, _, err := buildIn(t, dir, base+tt.extra, "")
		if tt.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("%q: err = %v, want %q", tt.extra, err, tt.errSub)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.extra, err)
			continue
		}
		if c.ClientPort != tt.port || c.ClientPortAddress != tt.addr {
			t.Errorf("%q: client = %s:%d, want %s:%d", tt.extra, c.ClientPortAddress, c.ClientPort, tt.addr, tt.port)
		}
	}
}

func TestStandaloneRules(t *testing.T) {
	tests := []struct {
		cfg        string
		standalone bool
		errSub     string
	}{
		{"", true, ""},
		{"server.1=a:1:2\n", true, ""},
		{"server.1=a:1:2\nstandaloneEnabled=false\ninitLimit=5\nsyncLimit=2\n", false, ""},
		{"standaloneEnabled=false\n", false, "number of participants should be >0"},
		{"server.1=a:1:2:observer\n", false, "Observers w/o participants"},
		{"server.1=a:1:2\nserver.2=b:1:2:observer\n", false, "Observers w/o quorum"},
		{"server.1=a:1:2\nserver.2=b:1:2\ninitLimit=5\nsyncLimit=2\n", false, ""},
		{"server.1=a:1:2\nserver.2=b:1:2\nsyncLimit=2\n", false, "initLimit is not set"},
		{"server.1=a:1:2\nserver.2=b:1:2\ninitLimit=2\n", false, "syncLimit is not set"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, _, err := buildIn(t, dir, "dataDir=DATADIR\n"+tt.cfg, "")
		if tt.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("%q: err = %v, want %q", tt.cfg, err, tt.errSub)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.cfg, err)
			continue
		}
		if c.Standalone() != tt.standalone {
			t.Errorf("%q: Standalone = %v", tt.cfg, c.Standalone())
		}
	}
	// A quorum config without myid fails like Apache.
	_, _, err := build(t, "dataDir=DATADIR\nserver.1=a:1:2\nserver.2=b:1:2\ninitLimit=5\nsyncLimit=2\n", "")
	if err == nil || !strings.Contains(err.Error(), "myid file is missing") {
		t.Errorf("err = %v, want myid file is missing", err)
	}
}

func TestParseServerErrors(t *testing.T) {
	tests := []struct {
		value, errSub string
		multi         bool
	}{
		{"a:1", "does not have the form", false},
		{"a:1:2:observer:x", "does not have the form", false},
		{"a:1:2;3;4", "does not have the form", false},
		{"a:1:1", "Client and election port must be different", false},
		{"a:x:2", "Address unresolved: a:x", false},
		{"a:1:2 ", "Address unresolved: a:2 ", false}, // Apache does not trim server values
		{"a:1:2:leader", "Unrecognised peertype: leader", false},
		{"a:1:2;b:c:3", "does not have the form", false},
		{"a:1:2;b:port", "Address unresolved: b:port", false},
		{"a:1:70000", "port out of range", false},
		{"[::1:1:2", "has no matching", false},
		{"a:1:2|b:1:2", "Multiple address feature is disabled", false},
		{"a:1:2:observer|b:1:2:participant", "similar roles", true},
	}
	for _, tt := range tests {
		_, err := ParseServer(1, tt.value, tt.multi)
		if err == nil || !strings.Contains(err.Error(), tt.errSub) {
			t.Errorf("%q: err = %v, want %q", tt.value, err, tt.errSub)
		}
	}
	s, err := ParseServer(7, "a:1:2|b:3:4;2181", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Addrs) != 2 || s.Addrs[1] != (HostPort{"b", 3, 4}) || s.ClientPort != 2181 {
		t.Errorf("multi address = %+v", s)
	}
	// Java's split drops the empty part after a trailing ';'.
	s, err = ParseServer(1, "a:1:2;", false)
	if err != nil || s.ClientPort != 0 {
		t.Errorf("trailing ';': %+v, %v", s, err)
	}
	s, err = ParseServer(1, "a:1:2:OBSERVER", false)
	if err != nil || s.Role != RoleObserver {
		t.Errorf("role case: %+v, %v", s, err)
	}
}

func TestMultiAddress(t *testing.T) {
	// Checked on Apache 3.8.0: the zoo.cfg key alone does not let QuorumServer accept '|'.
	_, _, err := build(t, "dataDir=DATADIR\nmultiAddress.enabled=true\nserver.1=a:1:2|b:1:2\n", "")
	if err == nil || !strings.Contains(err.Error(), "Multiple address feature is disabled") {
		t.Errorf("err = %v", err)
	}
	c := mustBuild(t, "dataDir=DATADIR\nserver.1=a:1:2|b:1:2\n", "-Dzookeeper.multiAddress.enabled=true")
	if len(c.Servers) != 1 || len(c.Servers[0].Addrs) != 2 || !c.MultiAddressEnabled {
		t.Fatalf("Servers = %+v", c.Servers)
	}
	c = mustBuild(t, "dataDir=DATADIR\nmultiAddress.enabled=false\nserver.1=a:1:2|b:1:2\n", "-Dzookeeper.multiAddress.enabled=true")
	if c.MultiAddressEnabled {
		t.Error("zoo.cfg multiAddress.enabled overrides the runtime switch")
	}
}

func TestDuplicateServerID(t *testing.T) {
	c := mustBuild(t, "dataDir=DATADIR\nserver.01=a:1:2\nserver.1=b:1:2\n", "")
	if len(c.Servers) != 1 || c.Servers[0].Host() != "b" {
		t.Fatalf("Servers = %+v", c.Servers)
	}
}

func TestMyID(t *testing.T) {
	tests := []struct {
		content string
		want    int64
		errSub  string
	}{
		{"3", 3, ""},
		{"3\n", 3, ""},
		{"3\r\nignored\n", 3, ""},
		{"+12\n", 12, ""},
		{"-1", -1, ""},
		{"9223372036854775807", 9223372036854775807, ""},
		{" 3\n", 0, "serverid  3 is not a number"},
		{"3 \n", 0, "serverid 3  is not a number"},
		{"", 0, "serverid null is not a number"},
		{"\n", 0, "serverid  is not a number"},
		{"0x10", 0, "not a number"},
		{"9223372036854775808", 0, "not a number"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "myid"), []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		c, _, err := buildIn(t, dir, "dataDir=DATADIR\n", "")
		if tt.errSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Errorf("myid %q: err = %v, want %q", tt.content, err, tt.errSub)
			}
			continue
		}
		if err != nil {
			t.Errorf("myid %q: %v", tt.content, err)
			continue
		}
		if c.MyID != tt.want {
			t.Errorf("myid %q: MyID = %d, want %d", tt.content, c.MyID, tt.want)
		}
	}
	// A directory named myid is not a myid file.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "myid"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, _, err := buildIn(t, dir, "dataDir=DATADIR\n", "")
	if err != nil || c.MyID != UnsetServerID {
		t.Errorf("myid dir: %v, %v", c, err)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		cfg, errSub string
	}{
		{"clientPort=2181\n", "dataDir is not set"},
		{"dataDir=DATADIR\nclientPort=21x81\n", "clientPort"},
		{"dataDir=DATADIR\ntickTime=3e3\n", "tickTime"},
		{"dataDir=DATADIR\ninitLimit=99999999999\n", "initLimit"},
		{"dataDir=DATADIR\nstandaloneEnabled=yes\n", "Invalid option yes for standaloneEnabled"},
		{"dataDir=DATADIR\nelectionAlg=1\n", "Only 3 is supported"},
		{"dataDir=DATADIR\npeerType=leader\n", "Unrecognised peertype"},
		{"dataDir=DATADIR\nclientPortAddress=127.0.0.1\n", "clientPortAddress is set but clientPort is not set"},
		{"dataDir=DATADIR\nsecureClientPortAddress=127.0.0.1\n", "secureClientPortAddress is set"},
		{"dataDir=DATADIR\nmetricsProvider.className=com.example.Nope\n", "metrics provider class was not found"},
		{"dataDir=DATADIR\nmetricsProvider.className=" + PrometheusMetricsProvider + "\nmetricsProvider.httpPort=x\n",
			"metricsProvider.httpPort"},
		{"dataDir=DATADIR\nserver.x=a:1:2\n", "server.x"},
		{"dataDir=DATADIR\nserver.1=a:1\n", "server.1"},
		{"dataDir=DATADIR\nquorum.auth.serverRequireSasl=true\n", "quorum.auth.enableSasl is disabled"},
		{"dataDir=DATADIR\nsecureClientPort=2281\n-Dignored=1\n", ""},
		{"dataDir=DATADIR\nversion=xyz\n", "version"},
	}
	for _, tt := range tests {
		_, _, err := build(t, tt.cfg, "")
		if tt.errSub == "" {
			if err != nil {
				t.Errorf("%q: unexpected %v", tt.cfg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.errSub) {
			t.Errorf("%q: err = %v, want containing %q", tt.cfg, err, tt.errSub)
		}
	}
}

func TestSecureClientPortAddsX509Provider(t *testing.T) {
	c := mustBuild(t, "dataDir=DATADIR\nsecureClientPort=2281\n", "")
	if c.AuthProviders["x509"] != x509Provider {
		t.Errorf("AuthProviders = %v", c.AuthProviders)
	}
	_, _, err := build(t, "dataDir=DATADIR\nsecureClientPort=2281\nssl.authProvider=custom\n", "")
	if err == nil || !strings.Contains(err.Error(), "No auth provider configured") {
		t.Errorf("err = %v", err)
	}
	mustBuild(t, "dataDir=DATADIR\nsecureClientPort=2281\nssl.authProvider=custom\nauthProvider.custom=x.Y\n", "")
}

func TestUnknownKeyWarnings(t *testing.T) {
	cfg := `dataDir=DATADIR
clientPort=2181
4lw.commands.whitelist=*
admin.serverPort=9999
ssl.keyStore.location=/k
ssl.quorum.trustStore.type=PKCS12
authProvider.sasl=x
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
jute.maxbuffer=100000
server.1=a:1:2
tickTimee=2000
readonlymode.enabled=true
zkafka.bogus=1
ssl.keyStore.colour=red
`
	c, rec, err := build(t, cfg, "-Dsome.jvm.thing=1")
	if err != nil {
		t.Fatal(err)
	}
	got := rec.warnedKeys()
	want := []string{"tickTimee", "readonlymode.enabled", "zkafka.bogus", "ssl.keyStore.colour"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warned keys = %q, want %q", got, want)
	}
	// Unknown keys still become zookeeper.<key>, as in Apache.
	for _, k := range []string{"zookeeper.tickTimee", "zookeeper.readonlymode.enabled", "zookeeper.ssl.keyStore.colour",
		"zookeeper.admin.serverPort", "zookeeper.jute.maxbuffer", "some.jvm.thing"} {
		if _, ok := c.Props[k]; !ok {
			t.Errorf("Props lacks %s", k)
		}
	}
	if c.ReadOnlyModeEnabled {
		t.Error("readonlymode.enabled in zoo.cfg must be ignored, as in Apache")
	}
	if c.JuteMaxBuffer != 100000 {
		t.Errorf("JuteMaxBuffer = %d", c.JuteMaxBuffer)
	}
}

func TestDynamicConfigFile(t *testing.T) {
	dir := t.TempDir()
	dyn := filepath.Join(dir, "zoo.cfg.dynamic.100000000")
	if err := os.WriteFile(dyn, []byte("server.1=a:2888:3888;2181\nserver.2=b:2888:3888:participant;2181\n"+
		"server.3=c:2888:3888:observer;2181\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := buildIn(t, dir, "dataDir=DATADIR\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\n"+
		"dynamicConfigFile="+dyn+"\n", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Servers) != 3 || c.Servers[2].Role != RoleObserver || c.ConfigVersion != 0x100000000 {
		t.Errorf("Servers = %+v, version %x", c.Servers, c.ConfigVersion)
	}
	want := "server.1=a:2888:3888:participant;0.0.0.0:2181\nserver.2=b:2888:3888:participant;0.0.0.0:2181\n" +
		"server.3=c:2888:3888:observer;0.0.0.0:2181\nversion=100000000"
	if got := c.QuorumConfigText(); got != want {
		t.Errorf("QuorumConfigText:\n%s\nwant\n%s", got, want)
	}
	if c.ClientPort != 2181 || c.MyID != 2 || c.Standalone() || !c.ReconfigEnabled {
		t.Errorf("client %d myid %d standalone %v", c.ClientPort, c.MyID, c.Standalone())
	}
	if _, ok := c.Props["zookeeper.dynamicConfigFile"]; ok {
		t.Error("dynamicConfigFile is a QuorumPeerConfig key")
	}

	// server lines are not allowed in the static file once a dynamic file is named.
	_, _, err = buildIn(t, dir, "dataDir=DATADIR\ndynamicConfigFile="+dyn+"\nserver.4=d:1:2\n", "")
	if err == nil || !strings.Contains(err.Error(), "must be in a separate dynamic config file") {
		t.Errorf("err = %v", err)
	}
	// Only membership keys are allowed in the dynamic file.
	bad := filepath.Join(dir, "bad.dynamic")
	if err := os.WriteFile(bad, []byte("server.1=a:1:2\ntickTime=5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = buildIn(t, dir, "dataDir=DATADIR\ndynamicConfigFile="+bad+"\n", "")
	if err == nil || !strings.Contains(err.Error(), "Unrecognised parameter: tickTime") {
		t.Errorf("err = %v", err)
	}
	withVersion := filepath.Join(dir, "v.dynamic")
	if err := os.WriteFile(withVersion, []byte("server.1=a:1:2\nversion=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = buildIn(t, dir, "dataDir=DATADIR\ndynamicConfigFile="+withVersion+"\n", "")
	if err == nil || !strings.Contains(err.Error(), "shouldn't have version inside") {
		t.Errorf("err = %v", err)
	}
	_, _, err = buildIn(t, dir, "dataDir=DATADIR\ndynamicConfigFile="+filepath.Join(dir, "missing")+"\n", "")
	if err == nil || !strings.Contains(err.Error(), "dynamicConfigFile") {
		t.Errorf("err = %v", err)
	}
}

func TestHierarchical(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, err := buildIn(t, dir, "dataDir=DATADIR\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n"+
		"server.3=c:1:2\ngroup.1=1:2\ngroup.2=3\nweight.1=2\n", "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Groups, map[int64][]int64{1: {1, 2}, 2: {3}}) ||
		!reflect.DeepEqual(c.Weights, map[int64]int64{1: 2, 2: 1, 3: 1}) {
		t.Errorf("groups %v weights %v", c.Groups, c.Weights)
	}
	want := "server.1=a:1:2:participant\nserver.2=b:1:2:participant\nserver.3=c:1:2:participant\n" +
		"group.1=1:2\ngroup.2=3\nweight.1=2\nweight.2=1\nweight.3=1\nversion=0"
	if got := c.QuorumConfigText(); got != want {
		t.Errorf("QuorumConfigText:\n%s\nwant\n%s", got, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "zoo.cfg")
	content := "# sample\ntickTime=2000\ndataDir=" + dir + "\nclientPort : 2181\nfoo.bar = baz \n"
	if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c, err := Load(cfg, "-Dzookeeper.admin.enableServer=false  -Dzkafka.srvrLegacyDateFormat=true",
		slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != cfg || c.TickTime != 2000 || c.ClientPort != 2181 || c.AdminEnableServer || !c.SrvrLegacyDateFormat {
		t.Errorf("Load = %+v", c)
	}
	if c.Props["zookeeper.foo.bar"] != "baz" {
		t.Errorf("value must be trimmed: %q", c.Props["zookeeper.foo.bar"])
	}
	if !strings.Contains(buf.String(), "foo.bar") {
		t.Errorf("missing unknown-key warning in log: %s", buf.String())
	}
	if len(c.Properties) != 4 || c.Properties[3] != (Property{"foo.bar", "baz "}) {
		t.Errorf("Properties = %q", c.Properties)
	}
	if _, err := Load(filepath.Join(dir, "nope.cfg"), "", nil); err == nil {
		t.Error("missing file must fail")
	}
}

func TestRelativeDataDir(t *testing.T) {
	c, rec, err := build(t, "dataDir=data\n", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "data" || c.DataDirVersion() != filepath.Join("data", "version-2") {
		t.Errorf("DataDir = %q", c.DataDir)
	}
	if got := rec.warnedKeys(); !reflect.DeepEqual(got, []string{"dataDir"}) {
		t.Errorf("warnings = %q", got)
	}
}

func TestAutopurge(t *testing.T) {
	c := mustBuild(t, "dataDir=DATADIR\nautopurge.snapRetainCount=1\nautopurge.purgeInterval=24\n", "")
	if c.AutopurgeSnapRetainCount != 3 || c.AutopurgePurgeInterval != 24 {
		t.Errorf("autopurge = %d/%d", c.AutopurgeSnapRetainCount, c.AutopurgePurgeInterval)
	}
	c = mustBuild(t, "dataDir=DATADIR\nautopurge.snapRetainCount=7\n", "")
	if c.AutopurgeSnapRetainCount != 7 {
		t.Errorf("autopurge = %d", c.AutopurgeSnapRetainCount)
	}
}

func TestPeerTypeFollowsServerList(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("3"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, rec, err := buildIn(t, dir, "dataDir=DATADIR\ninitLimit=5\nsyncLimit=2\npeerType=participant\n"+
		"server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer\n", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.PeerType != RoleObserver {
		t.Errorf("PeerType = %s", c.PeerType)
	}
	if len(rec.recs) == 0 {
		t.Error("expected a peer type warning")
	}
}

// The quorum's TLS settings are QuorumX509Util's, under ssl.quorum.* (zoo.cfg lines or -Dzookeeper.ssl.quorum.*),
// apart from the client ports' ssl.*.
func TestQuorumTLS(t *testing.T) {
	c := mustBuild(t, `dataDir=DATADIR
sslQuorum=true
portUnification=true
ssl.keyStore.location=/client.jks
ssl.quorum.keyStore.location=/quorum.p12
ssl.quorum.keyStore.password=kpw
ssl.quorum.trustStore.location=/trust.pem
ssl.quorum.hostnameVerification= false
ssl.quorum.clientAuth=WANT
ssl.quorum.enabledProtocols=TLSv1.3,TLSv1.2
`, "-Dzookeeper.ssl.quorum.ciphersuites=TLS_AES_128_GCM_SHA256")
	if !c.SSLQuorum || !c.PortUnification {
		t.Fatalf("sslQuorum %v, portUnification %v", c.SSLQuorum, c.PortUnification)
	}
	q, err := c.QuorumTLS()
	if err != nil {
		t.Fatal(err)
	}
	want := TLSSettings{KeystoreLocation: "/quorum.p12", KeystorePassword: "kpw", KeystoreType: "PKCS12",
		TruststoreLocation: "/trust.pem", TruststoreType: "PEM", ClientAuth: "want",
		EnabledProtocols: []string{"TLSv1.3", "TLSv1.2"}, CipherSuites: []string{"TLS_AES_128_GCM_SHA256"}}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("QuorumTLS:\n%+v\nwant\n%+v", q, want)
	}
	cl, err := c.ClientTLS()
	if err != nil || cl.KeystoreLocation != "/client.jks" || !cl.HostnameVerification ||
		!reflect.DeepEqual(cl.EnabledProtocols, []string{"TLSv1.2"}) {
		t.Errorf("ClientTLS: %+v %v", cl, err)
	}
}

// ssl.crl and ssl.ocsp are each group's own; OCSP, once a group with a trust store turns it on (Java's JVM-wide
// ocsp.enable), is on for both.
func TestRevocationSettings(t *testing.T) {
	c := mustBuild(t, `dataDir=DATADIR
ssl.crl=true
ssl.trustStore.location=/trust.pem
ssl.quorum.ocsp= true
ssl.quorum.trustStore.location=/trust.pem
`, "")
	cl, err := c.ClientTLS()
	if err != nil || !cl.CRL || cl.OCSP || !cl.OCSPEnabled {
		t.Errorf("ClientTLS: %+v %v", cl, err)
	}
	q, err := c.QuorumTLS()
	if err != nil || q.CRL || !q.OCSP || !q.OCSPEnabled {
		t.Errorf("QuorumTLS: %+v %v", q, err)
	}
	// Without a trust store X509Util never builds the trust manager that would set ocsp.enable.
	c = mustBuild(t, "dataDir=DATADIR\nssl.crl=true\nssl.trustStore.location=/t.pem\n", "-Dzookeeper.ssl.quorum.ocsp=true")
	if cl, err = c.ClientTLS(); err != nil || !cl.CRL || cl.OCSPEnabled {
		t.Errorf("ClientTLS: %+v %v", cl, err)
	}
}

// Load reads zoo.cfg.dynamic.next beside zoo.cfg when a dynamic file is named: a config proposed and not committed
// (lastSeenQuorumVerifier), with the version written in it; none without the file; a server line that does not
// parse stops the start.
func TestNextDynamicConfigFile(t *testing.T) {
	dir := t.TempDir()
	dyn := filepath.Join(dir, "zoo.cfg.dynamic.100000000")
	cfgPath := filepath.Join(dir, "zoo.cfg")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dyn, "server.1=a:2888:3888;2181\nserver.2=b:2888:3888;2181\nserver.3=c:2888:3888;2181\n")
	write(filepath.Join(dir, "myid"), "2\n")
	write(cfgPath, "dataDir="+dir+"\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\ndynamicConfigFile="+dyn+"\n")
	c, err := Load(cfgPath, "", nil)
	if err != nil || c.NextQuorumVerifier != nil {
		t.Fatalf("without a .next file: %v, next %+v", err, c.NextQuorumVerifier)
	}
	write(NextDynamicFileName(cfgPath), "server.1=a:2888:3888;2181\nserver.2=b:2888:3888:observer;2181\n"+
		"server.3=c:2888:3888;2181\nversion=100000004\n")
	c, err = Load(cfgPath, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.NextQuorumVerifier; n == nil || n.Version != 0x100000004 || len(n.Servers) != 3 || n.Servers[1].Role != RoleObserver ||
		c.ConfigVersion != 0x100000000 {
		t.Fatalf("next %+v, active version %x", n, c.ConfigVersion)
	}
	write(NextDynamicFileName(cfgPath), "server.1=a:b:c\n")
	if _, err := Load(cfgPath, "", nil); err == nil {
		t.Fatal("a .next file that does not parse was accepted")
	}
}

// zookeeper.largeRequestThreshold / largeRequestMaxBytes as ZooKeeperServer's setters take them: a zoo.cfg line
// becomes the system property; a threshold of 0 or below -1 turns the throttle off, a max of 0 or less keeps the
// default; both with a warning.
func TestLargeRequestSettings(t *testing.T) {
	for _, c := range []struct {
		cfg, flags      string
		threshold, maxB int
		warnings        int
	}{
		{"", "", -1, 100 << 20, 0},
		{"largeRequestThreshold=4096\n", "-Dzookeeper.largeRequestMaxBytes=65536", 4096, 65536, 0},
		{"", "-Dzookeeper.largeRequestThreshold=0 -Dzookeeper.largeRequestMaxBytes=0", -1, 100 << 20, 2},
		{"", "-Dzookeeper.largeRequestThreshold=-5", -1, 100 << 20, 1},
	} {
		got, rec, err := build(t, "dataDir=DATADIR\n"+c.cfg, c.flags)
		if err != nil {
			t.Fatal(err)
		}
		if got.LargeRequestThreshold != c.threshold || got.LargeRequestMaxBytes != c.maxB || len(rec.recs) != c.warnings {
			t.Errorf("%q %q: threshold %d max %d, %d warnings", c.cfg, c.flags, got.LargeRequestThreshold,
				got.LargeRequestMaxBytes, len(rec.recs))
		}
	}
}

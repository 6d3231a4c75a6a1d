package zkserver

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zkafka/zkafka/compat/keystore"
	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/admin"
	"github.com/zkafka/zkafka/zkserver/connthrottle"
	"github.com/zkafka/zkafka/zkserver/pipeline"
	"github.com/zkafka/zkafka/zkserver/sasl"
)

// ConfigFromZooCfg maps a loaded zoo.cfg (with its JVM properties) to a
// standalone server's Config; four-letter words follow its whitelist.
func ConfigFromZooCfg(zc *zoocfg.Config, logger *slog.Logger) Config {
	warnUnknownAuthProviders(zc, logger)
	opts := admin.Options{Whitelist: zc.FourLetterWordAllowed, LegacySrvrDate: zc.SrvrLegacyDateFormat, Logger: logger}
	return Config{
		ClientAddr: net.JoinHostPort(zc.ClientPortAddress, strconv.Itoa(zc.ClientPort)),
		// A standalone Apache server makes session ids with server id 1
		// (createSessionTrackerServerId) whatever myid says.
		ServerID:                  1,
		TickTime:                  zc.TickTime,
		MinSessionTimeout:         zc.MinSessionTimeout,
		MaxSessionTimeout:         zc.MaxSessionTimeout,
		MaxClientCnxns:            zc.MaxClientCnxns,
		DataDir:                   zc.DataDir,
		DataLogDir:                zc.DataLogDir,
		SnapCount:                 zc.SnapCount,
		SnapWriteRate:             int64(zc.SnapshotWriteRateMBps) << 20,
		SnapCompression:           snapshotCompression(zc.SnapshotCompressionMethod),
		PreAllocSize:              zc.PreAllocSizeKB * 1024,
		ForceSync:                 zc.ForceSync,
		DigestEnabled:             zc.DigestEnabled,
		ExtendedTypes:             zc.ExtendedTypesEnabled,
		Emulate353TTL:             zc.Emulate353TTLNodes,
		ReconfigEnabled:           zc.ReconfigEnabled,
		EnforceQuota:              zc.EnforceQuota,
		JuteMaxBuffer:             zc.JuteMaxBuffer,
		GlobalOutstandingLimit:    &zc.GlobalOutstandingLimit,
		LargeRequestThreshold:     zc.LargeRequestThreshold,
		LargeRequestMaxBytes:      zc.LargeRequestMaxBytes,
		ResponseCacheSize:         &zc.ResponseCacheSize,
		ChildrenResponseCacheSize: &zc.ChildrenResponseCacheSize,
		SessionlessTimeout:        time.Duration(zc.SessionlessCnxnTimeoutMs) * time.Millisecond,
		Throttle: pipeline.ThrottleConfig{
			MaxRequests:          zc.RequestThrottleMaxRequests,
			StallTime:            time.Duration(zc.RequestThrottleStallTimeMs) * time.Millisecond,
			DropStale:            zc.RequestThrottleDropStale,
			ThrottledOpWait:      time.Duration(zc.ThrottledOpWaitTimeMs) * time.Millisecond,
			StaleConnectionCheck: zc.RequestStaleConnectionCheck,
			StaleLatencyCheck:    zc.RequestStaleLatencyCheck,
		},
		ConnThrottle: connthrottle.Config{Tokens: zc.ConnThrottleTokens, FillTime: zc.ConnThrottleFillTimeMs,
			FillCount: zc.ConnThrottleFillCount, FreezeTime: zc.ConnThrottleFreezeTimeMs,
			DropIncrease: zc.ConnThrottleDropIncrease, DropDecrease: zc.ConnThrottleDropDecrease,
			DecreaseRatio: zc.ConnThrottleDecreaseRatio, Weighted: zc.ConnThrottleWeighted,
			GlobalWeight: zc.ConnThrottleGlobalWeight, LocalWeight: zc.ConnThrottleLocalWeight,
			RenewWeight: zc.ConnThrottleRenewWeight},
		SnapRetainCount: zc.AutopurgeSnapRetainCount,
		PurgeInterval:   time.Duration(zc.AutopurgePurgeInterval) * time.Hour,

		ContainerCheckInterval:  time.Duration(zc.ContainerCheckIntervalMs) * time.Millisecond,
		ContainerMaxPerMinute:   zc.ContainerMaxPerMinute,
		ContainerMaxNeverUsedMs: zc.ContainerMaxNeverUsedIntervalMs,

		ACL: acl.Config{SuperDigest: zc.SuperDigest, SkipACL: zc.SkipACL, DigestAuthEnabled: zc.DigestAuthEnabled,
			ExtraSchemes: extraSchemes(zc), LetAnySaslUserDoX: letAnySaslUser(zc), Ensemble: ensembleAuth(zc)},
		FourLetter: func(s *Server, word string, arg int64) (string, bool) {
			return admin.FourLetter(s.Source(), opts, word, arg)
		},
		Logger: logger,
	}
}

type authProviderClass struct{ class, scheme string }

// authProviderClasses are Apache's auth provider classes we have, with the schemes they register (digest and ip
// are registered whether named or not).
var authProviderClasses = []authProviderClass{
	{zoocfg.X509ProviderClass, "x509"}, {sasl.ProviderClass, "sasl"}, {EnsembleProviderClass, "ensemble"},
	{"org.apache.zookeeper.server.auth.DigestAuthenticationProvider", "digest"},
	{"org.apache.zookeeper.server.auth.IPAuthenticationProvider", "ip"},
}

// EnsembleProviderClass is Apache's EnsembleAuthenticationProvider, which registers the "ensemble" scheme.
const EnsembleProviderClass = "org.apache.zookeeper.server.auth.EnsembleAuthenticationProvider"

// providerNamed reports whether an authProvider of zoo.cfg names the class registering scheme.
func providerNamed(zc *zoocfg.Config, scheme string) bool {
	for _, p := range authProviderClasses {
		if p.scheme == scheme && slices.Contains(slices.Collect(maps.Values(zc.AuthProviders)), p.class) {
			return true
		}
	}
	return false
}

// extraSchemes are the schemes of the auth providers zoo.cfg registers that we have: x509 (TLS client
// certificates; registered by a secure client port too) and sasl.
func extraSchemes(zc *zoocfg.Config) []string {
	var out []string
	for _, scheme := range []string{"x509", "sasl"} {
		if providerNamed(zc, scheme) {
			out = append(out, scheme)
		}
	}
	return out
}

// warnUnknownAuthProviders logs the authProvider classes not loaded, as ProviderRegistry logs a class it cannot
// load ("Problems loading") and goes on without it.
func warnUnknownAuthProviders(zc *zoocfg.Config, logger *slog.Logger) {
	if logger == nil {
		return
	}
	for _, n := range slices.Sorted(maps.Keys(zc.AuthProviders)) {
		class := zc.AuthProviders[n]
		if !slices.ContainsFunc(authProviderClasses, func(p authProviderClass) bool { return p.class == class }) {
			logger.Warn("auth provider class not loaded: only Apache's own providers run here", "key",
				"zookeeper.authProvider."+n, "class", class)
		}
	}
}

// ensembleAuth is the ensemble provider when an authProvider names it, with zookeeper.ensembleAuthName's names.
func ensembleAuth(zc *zoocfg.Config) *acl.Ensemble {
	if !providerNamed(zc, "ensemble") {
		return nil
	}
	if v, ok := zc.Props["zookeeper.ensembleAuthName"]; ok {
		return acl.NewEnsemble(v)
	}
	return &acl.Ensemble{}
}

func letAnySaslUser(zc *zoocfg.Config) *string {
	if v, ok := zc.Props["zookeeper.letAnySaslUserDoX"]; ok {
		return &v
	}
	return nil
}

// AuthFromZooCfg sets cfg's SASL login (the JAAS server section) and the schemes the server requires clients to
// authenticate with (AuthenticationHelper): zookeeper.sessionRequireClientSASLAuth=true requires sasl, else
// zookeeper.enforce.auth.enabled=true requires one of zookeeper.enforce.auth.schemes, each of which must have a
// registered provider, as Apache checks at start.
func AuthFromZooCfg(zc *zoocfg.Config, cfg *Config) error {
	sc, err := sasl.FromZooCfg(zc, cfg.Logger)
	if err != nil {
		return err
	}
	cfg.SASL = sc
	cfg.EnforceAuth = nil
	if strings.EqualFold(zc.Props["zookeeper.sessionRequireClientSASLAuth"], "true") {
		cfg.EnforceAuth = []string{"sasl"}
	} else if strings.EqualFold(zc.Props["zookeeper.enforce.auth.enabled"], "true") {
		if v, ok := zc.Props["zookeeper.enforce.auth.schemes"]; ok {
			for _, s := range strings.Split(v, ",") {
				cfg.EnforceAuth = append(cfg.EnforceAuth, strings.TrimSpace(s))
			}
		}
		if len(cfg.EnforceAuth) == 0 {
			return errors.New("zookeeper.enforce.auth.enabled is true zookeeper.enforce.auth.schemes must be configured")
		}
	}
	checker := acl.NewChecker(cfg.ACL)
	for _, s := range cfg.EnforceAuth {
		if !checker.Registered(s) {
			return fmt.Errorf("Authentication scheme %s is not available.", s)
		}
	}
	if sc != nil {
		sc.Required = slices.Contains(cfg.EnforceAuth, "sasl")
	}
	return nil
}

// snapshotCompression is SnapStream.StreamMode.fromString: "gz" or "snappy" in
// any case, anything else a plain snapshot.
func snapshotCompression(method string) string {
	switch m := strings.ToLower(method); m {
	case "gz", "snappy":
		return m
	}
	return ""
}

// AdminHTTPSFromZooCfg is the AdminServer's TLS when admin.forceHttps or admin.portUnification is on (nil
// otherwise), from the ssl.quorum.* key and trust stores as JettyAdminServer loads them: both must load (the trust
// store is read though no client certificate is asked for), else Apache runs without an AdminServer. onInsecure
// counts the plaintext connections of a unified port.
func AdminHTTPSFromZooCfg(zc *zoocfg.Config, onInsecure func()) (*admin.HTTPS, error) {
	if !zc.AdminForceHTTPS && !zc.AdminPortUnification {
		return nil, nil
	}
	t, err := zc.QuorumTLS()
	if err != nil {
		return nil, err
	}
	if t.KeystoreLocation == "" || t.TruststoreLocation == "" {
		return nil, errors.New("set both ssl.quorum.keyStore.location and ssl.quorum.trustStore.location")
	}
	cert, err := keystore.KeyPair(t.KeystoreType, t.KeystoreLocation, t.KeystorePassword, "")
	if err != nil {
		return nil, fmt.Errorf("key store %s: %w", t.KeystoreLocation, err)
	}
	if _, err := keystore.Trusted(t.TruststoreType, t.TruststoreLocation, t.TruststorePassword); err != nil {
		return nil, fmt.Errorf("trust store %s: %w", t.TruststoreLocation, err)
	}
	return &admin.HTTPS{Cert: cert, Unified: !zc.AdminForceHTTPS, OnInsecure: onInsecure}, nil
}

package zkserver

import (
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/admin"
)

// ConfigFromZooCfg maps a loaded zoo.cfg (with its JVM properties) to a
// standalone server's Config; four-letter words follow its whitelist.
func ConfigFromZooCfg(zc *zoocfg.Config, logger *slog.Logger) Config {
	opts := admin.Options{Whitelist: zc.FourLetterWordAllowed, LegacySrvrDate: zc.SrvrLegacyDateFormat, Logger: logger}
	return Config{
		ClientAddr: net.JoinHostPort(zc.ClientPortAddress, strconv.Itoa(zc.ClientPort)),
		// A standalone Apache server makes session ids with server id 1
		// (createSessionTrackerServerId) whatever myid says.
		ServerID:          1,
		TickTime:          zc.TickTime,
		MinSessionTimeout: zc.MinSessionTimeout,
		MaxSessionTimeout: zc.MaxSessionTimeout,
		MaxClientCnxns:    zc.MaxClientCnxns,
		DataDir:           zc.DataDir,
		DataLogDir:        zc.DataLogDir,
		SnapCount:         zc.SnapCount,
		SnapWriteRate:     int64(zc.SnapshotWriteRateMBps) << 20,
		PreAllocSize:      zc.PreAllocSizeKB * 1024,
		ForceSync:         zc.ForceSync,
		DigestEnabled:     zc.DigestEnabled,
		ExtendedTypes:     zc.ExtendedTypesEnabled,
		ReconfigEnabled:   zc.ReconfigEnabled,
		JuteMaxBuffer:     zc.JuteMaxBuffer,
		SnapRetainCount:   zc.AutopurgeSnapRetainCount,
		PurgeInterval:     time.Duration(zc.AutopurgePurgeInterval) * time.Hour,

		ContainerCheckInterval:  time.Duration(zc.ContainerCheckIntervalMs) * time.Millisecond,
		ContainerMaxPerMinute:   zc.ContainerMaxPerMinute,
		ContainerMaxNeverUsedMs: zc.ContainerMaxNeverUsedIntervalMs,

		ACL: acl.Config{SuperDigest: zc.SuperDigest, SkipACL: zc.SkipACL, DigestAuthEnabled: zc.DigestAuthEnabled,
			ExtraSchemes: extraSchemes(zc)},
		FourLetter: func(s *Server, word string, arg int64) (string, bool) {
			return admin.FourLetter(s.Source(), opts, word, arg)
		},
		Logger: logger,
	}
}

// extraSchemes are the schemes of the auth providers zoo.cfg registers that we have: x509 (TLS client
// certificates; registered by a secure client port too).
func extraSchemes(zc *zoocfg.Config) []string {
	for _, class := range zc.AuthProviders {
		if class == zoocfg.X509ProviderClass {
			return []string{"x509"}
		}
	}
	return nil
}

package serverprops

import (
	"fmt"
	"strings"
)

// APIVersion is one of Kafka 2.8's inter.broker.protocol.version / log.message.format.version values
// (kafka.api.ApiVersion).
type APIVersion struct {
	Version       string // canonical, e.g. "2.8-IV1" or "0.9.0"
	Short         string // e.g. "2.8"
	RecordVersion int8   // message format (magic) it implies: 0, 1 or 2
	ID            int    // position in the ordered list; compare IDs to order versions
}

// LatestAPIVersion is Kafka 2.8's default for inter.broker.protocol.version and log.message.format.version.
const LatestAPIVersion = "2.8-IV1"

// apiVersions is ApiVersion.allVersions of Kafka 2.8, in order.
var apiVersions = func() []APIVersion {
	type v struct {
		short, sub string
		rec        int8
	}
	list := []v{
		{"0.8.0", "", 0}, {"0.8.1", "", 0}, {"0.8.2", "", 0}, {"0.9.0", "", 0},
		{"0.10.0", "IV0", 1}, {"0.10.0", "IV1", 1},
		{"0.10.1", "IV0", 1}, {"0.10.1", "IV1", 1}, {"0.10.1", "IV2", 1},
		{"0.10.2", "IV0", 1},
		{"0.11.0", "IV0", 2}, {"0.11.0", "IV1", 2}, {"0.11.0", "IV2", 2},
		{"1.0", "IV0", 2}, {"1.1", "IV0", 2},
		{"2.0", "IV0", 2}, {"2.0", "IV1", 2},
		{"2.1", "IV0", 2}, {"2.1", "IV1", 2}, {"2.1", "IV2", 2},
		{"2.2", "IV0", 2}, {"2.2", "IV1", 2},
		{"2.3", "IV0", 2}, {"2.3", "IV1", 2},
		{"2.4", "IV0", 2}, {"2.4", "IV1", 2},
		{"2.5", "IV0", 2}, {"2.6", "IV0", 2},
		{"2.7", "IV0", 2}, {"2.7", "IV1", 2}, {"2.7", "IV2", 2},
		{"2.8", "IV0", 2}, {"2.8", "IV1", 2},
	}
	out := make([]APIVersion, len(list))
	for i, x := range list {
		ver := x.short
		if x.sub != "" {
			ver += "-" + x.sub
		}
		out[i] = APIVersion{Version: ver, Short: x.short, RecordVersion: x.rec, ID: i}
	}
	return out
}()

// apiVersionMap maps each full version and each short version (to its last sub-version), as ApiVersion does.
var apiVersionMap = func() map[string]APIVersion {
	m := map[string]APIVersion{}
	for _, v := range apiVersions {
		m[v.Version] = v
		m[v.Short] = v // later entries win: the short version means the newest sub-version
	}
	return m
}()

// ParseAPIVersion is ApiVersion.apply: "0.10.0", "0.10.0-IV1", "2.8", "2.8.1" and "0.8.2.x" all resolve; only the
// first three dot-separated segments (two from 1.0 on) count.
func ParseAPIVersion(s string) (APIVersion, error) {
	segs := strings.Split(s, ".")
	n := 2
	if strings.HasPrefix(s, "0.") {
		n = 3
	}
	if len(segs) > n {
		segs = segs[:n]
	}
	if v, ok := apiVersionMap[strings.Join(segs, ".")]; ok {
		return v, nil
	}
	return APIVersion{}, fmt.Errorf("Version `%s` is not a valid version", s)
}

// minVersionForRecord is ApiVersion.minSupportedFor(recordVersion).
func minVersionForRecord(rec int8) APIVersion {
	for _, v := range apiVersions {
		if v.RecordVersion >= rec {
			return v
		}
	}
	return apiVersions[len(apiVersions)-1]
}

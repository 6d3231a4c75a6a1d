package kwire

import (
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// VersionsFrom converts a kversion table (max versions only) to kwire's form. Every key's
// minimum is 0, which holds for all keys of the releases kwire emulates (2.x).
func VersionsFrom(vs *kversion.Versions) map[int16][2]int16 {
	out := make(map[int16][2]int16)
	vs.EachMaxKeyVersion(func(k, v int16) { out[k] = [2]int16{0, v} })
	return out
}

// DefaultVersions is the table of a Kafka 2.8 broker in ZooKeeper mode.
func DefaultVersions() map[int16][2]int16 { return VersionsFrom(kversion.V2_8_0()) }

// effectiveVersions is what a server advertises and accepts: the configured table capped to
// the registered handlers and to kmsg's decoders. ApiVersions is always present.
func effectiveVersions(base map[int16][2]int16, routes map[int16]route) map[int16][2]int16 {
	out := make(map[int16][2]int16)
	capTo := func(key int16, lo, hi int16) {
		if max := kmsg.RequestForKey(key).MaxVersion(); hi > max {
			hi = max
		}
		if lo < 0 {
			lo = 0
		}
		if lo <= hi {
			out[key] = [2]int16{lo, hi}
		}
	}
	for key, r := range routes {
		b, ok := base[key]
		if !ok {
			continue
		}
		capTo(key, max(b[0], r.minV), min(b[1], r.maxV))
	}
	// kwire itself answers the SASL keys that have no handler (authentication, or ILLEGAL_SASL_STATE after it).
	for _, key := range []int16{keySaslHandshake, keySaslAuthenticate} {
		if _, routed := routes[key]; routed {
			continue
		}
		if b, ok := base[key]; ok {
			capTo(key, b[0], b[1])
		}
	}
	av, ok := base[keyApiVersions]
	if !ok {
		av = [2]int16{0, 3}
	}
	capTo(keyApiVersions, av[0], av[1])
	if _, ok := out[keyApiVersions]; !ok {
		out[keyApiVersions] = [2]int16{0, 0}
	}
	return out
}

// softwareNameVersion is Kafka's ApiVersionsRequest SOFTWARE_NAME_VERSION_PATTERN (full match).
var softwareNameVersion = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func validApiVersionsRequest(req *kmsg.ApiVersionsRequest) bool {
	if req.Version < 3 {
		return true
	}
	return softwareNameVersion.MatchString(req.ClientSoftwareName) &&
		softwareNameVersion.MatchString(req.ClientSoftwareVersion)
}

// unsupportedApiVersionsResponse is Kafka's answer to an ApiVersions request newer than it
// knows: a v0 body with UNSUPPORTED_VERSION and only the ApiVersions range (KIP-511), so the
// client can retry with a version both sides speak.
func unsupportedApiVersionsResponse(table map[int16][2]int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	r := table[keyApiVersions]
	resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{
		ApiKey: keyApiVersions, MinVersion: r[0], MaxVersion: r[1],
	})
	return resp
}

// apiVersionsResponse answers a decodable ApiVersions request. An invalid v3+ request (client
// software name/version not matching Kafka's pattern) gets INVALID_REQUEST with no keys.
func apiVersionsResponse(req *kmsg.ApiVersionsRequest, table map[int16][2]int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = req.Version
	if !validApiVersionsRequest(req) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	for _, k := range sortedKeys(table) {
		r := table[k]
		resp.ApiKeys = append(resp.ApiKeys, kmsg.ApiVersionsResponseApiKey{
			ApiKey: k, MinVersion: r[0], MaxVersion: r[1],
		})
	}
	return resp
}

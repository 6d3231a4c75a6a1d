package acl

import (
	"slices"

	"github.com/zkafka/zkafka/compat/javahash"
	"github.com/zkafka/zkafka/jute"
)

// AddAuthInfo adds ids to a connection's auth info and returns it in the
// order Apache's connection would list it. Apache keeps auth info in a
// ConcurrentHashMap-backed set, so whoAmI answers and "auth" ACL expansion
// follow hash-bucket order, not insertion order; keeping the same order keeps
// those answers byte-identical. Duplicates are ignored. have must itself be a
// result of AddAuthInfo (or empty). The order is exact while a connection has
// fewer than 12 ids (the map's first resize); past that it is close.
func AddAuthInfo(have []jute.Id, add ...jute.Id) []jute.Id {
	out := slices.Clone(have)
	for _, id := range add {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	n := 16
	for len(out) >= n-n/4 {
		n *= 2
	}
	// Stable: within a bucket, earlier insertions come first, as in the map's
	// bin lists.
	slices.SortStableFunc(out, func(a, b jute.Id) int {
		return bucket(a, n) - bucket(b, n)
	})
	return out
}

// idHash is the jute-generated Id.hashCode.
func idHash(id jute.Id) int32 {
	r := int32(17)
	r = 37*r + javahash.String(id.Scheme)
	r = 37*r + javahash.String(id.ID)
	return r
}

// bucket is ConcurrentHashMap's bin index for id in a table of n bins.
func bucket(id jute.Id, n int) int {
	h := uint32(idHash(id))
	spread := (h ^ h>>16) & 0x7fffffff
	return int(spread) & (n - 1)
}

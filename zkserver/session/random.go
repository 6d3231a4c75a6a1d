// Package session tracks ZooKeeper sessions exactly as Apache ZooKeeper 3.8
// does: the same session ids, the same passwords (so sessions survive failover
// between Java and Go servers) and the same tickTime expiry buckets.
package session

import "crypto/subtle"

const (
	randMultiplier = 0x5DEECE66D
	randAddend     = 0xB
	randMask       = (1 << 48) - 1
)

// JavaRandom reproduces java.util.Random bit for bit: a 48-bit linear
// congruential generator with Java's seed scrambling. Apache derives session
// passwords from it, so any deviation would reject every Java-made session.
// It is not safe for concurrent use.
type JavaRandom struct {
	seed int64
}

// NewJavaRandom is new java.util.Random(seed).
func NewJavaRandom(seed int64) *JavaRandom {
	return &JavaRandom{seed: (seed ^ randMultiplier) & randMask}
}

// next is Random.next(bits): advance the LCG and return its top bits.
func (r *JavaRandom) next(bits uint) int32 {
	r.seed = (r.seed*randMultiplier + randAddend) & randMask
	return int32(uint64(r.seed) >> (48 - bits))
}

// NextInt is Random.nextInt().
func (r *JavaRandom) NextInt() int32 { return r.next(32) }

// NextIntn is Random.nextInt(bound) (Java 17); bound must be positive.
func (r *JavaRandom) NextIntn(bound int32) int32 {
	if bound <= 0 {
		panic("session: NextIntn bound must be positive")
	}
	rnd := r.next(31)
	m := bound - 1
	if bound&m == 0 {
		return int32((int64(bound) * int64(rnd)) >> 31)
	}
	// Java rejects the top partial range so results stay uniform; the int32
	// overflow test below is the same as Java's.
	for u := rnd; ; u = r.next(31) {
		rnd = u % bound
		if u-rnd+m >= 0 {
			return rnd
		}
	}
}

// NextLong is Random.nextLong(): two 32-bit draws, high first; the low one is
// sign-extended and added, as Java does.
func (r *JavaRandom) NextLong() int64 {
	hi := int64(r.next(32))
	lo := int64(r.next(32))
	return (hi << 32) + lo
}

// NextBytes is Random.nextBytes: each int fills up to four bytes, low byte first.
func (r *JavaRandom) NextBytes(b []byte) {
	for i := 0; i < len(b); {
		v := r.NextInt()
		for n := min(len(b)-i, 4); n > 0; n-- {
			b[i] = byte(v)
			v >>= 8
			i++
		}
	}
}

// superSecret is ZooKeeperServer.superSecret, mixed into every password seed.
const superSecret = 0xB3415C00

// Password returns the 16-byte password Apache gives sessionID
// (ZooKeeperServer.generatePasswd).
func Password(sessionID int64) []byte {
	p := make([]byte, 16)
	NewJavaRandom(sessionID ^ superSecret).NextBytes(p)
	return p
}

// CheckPassword is ZooKeeperServer.checkPasswd: session 0 never matches.
func CheckPassword(sessionID int64, passwd []byte) bool {
	return sessionID != 0 && subtle.ConstantTimeCompare(passwd, Password(sessionID)) == 1
}

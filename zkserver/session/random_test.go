package session

import (
	"encoding/hex"
	"testing"
)

// Vectors printed by OpenJDK 17's java.util.Random (see the report; program
// kept out of the tree): bytes16 = nextBytes(16); int1, int2, long1 = nextInt,
// nextInt, nextLong on a fresh Random; bytes7/after7 = nextBytes(7) then
// nextInt (the unused high byte of the second int is dropped); n100, n1024, n7
// = nextInt(100), nextInt(1024), nextInt(7) on a fresh Random.
var javaVectors = []struct {
	seed            int64
	bytes16         string
	int1, int2      int32
	long1           int64
	bytes7          string
	after7          int32
	n100, n1024, n7 int32
}{
	{seed: 0, bytes16: "60b420bb3851d9d47acb933dbe70399b", int1: -1155484576, int2: -723955400, long1: 4437113781045784766, bytes7: "60b420bb3851d9", after7: 1033096058, n100: 60, n1024: 851, n7: 4},
	{seed: 1, bytes16: "73d51abbd89cb8196f0efb6892f94d68", int1: -1155869325, int2: 431529176, long1: 7564655870752979346, bytes7: "73d51abbd89cb8", after7: 1761283695, n100: 85, n1024: 102, n7: 1},
	{seed: -1, bytes16: "b36cd944c3228770172024039eff4b8c", int1: 1155099827, int2: 1887904451, long1: 226341162490527646, bytes7: "b36cd944c32287", after7: 52699159, n100: 13, n1024: 450, n7: 4},
	{seed: 42, bytes16: "359d41baf78afe0de1bbe7ae28c0450c", int1: -1170105035, int2: 234785527, long1: -5843495416241995736, bytes7: "359d41baf78afe", after7: -1360544799, n100: 30, n1024: 55, n7: 6},
	{seed: 123456789, bytes16: "ab66fea901b568c3c7cafa74b0223f41", int1: -1442945365, int2: -1016548095, long1: 8429272609719263920, bytes7: "ab66fea901b568", after7: 1962592967, n100: 65, n1024: 781, n7: 6},
	{seed: -987654321, bytes16: "7531a2b19c56c29d81cc839a3cc941c2", int1: -1314770571, int2: -1648208228, long1: -7312776516532582084, bytes7: "7531a2b19c56c2", after7: -1702638463, n100: 62, n1024: 631, n7: 1},
	{seed: -9223372036854775808, bytes16: "60b420bb3851d9d47acb933dbe70399b", int1: -1155484576, int2: -723955400, long1: 4437113781045784766, bytes7: "60b420bb3851d9", after7: 1033096058, n100: 60, n1024: 851, n7: 4},
	{seed: 9223372036854775807, bytes16: "b36cd944c3228770172024039eff4b8c", int1: 1155099827, int2: 1887904451, long1: 226341162490527646, bytes7: "b36cd944c32287", after7: 52699159, n100: 13, n1024: 450, n7: 4},
	{seed: 25214903917, bytes16: "000000002d9440004e54a80ac473382d", int1: 0, int2: 4232237, long1: 767956431209526212, bytes7: "000000002d9440", after7: 178803790, n100: 0, n1024: 1, n7: 2},
	{seed: 3007405056, bytes16: "f22acd4a97e69d6d20a49bb638eadb38", int1: 1254959858, int2: 1839064727, long1: -5288452879116670408, bytes7: "f22acd4a97e69d", after7: -1231313888, n100: 29, n1024: 438, n7: 2},
}

// Passwords from new java.util.Random(id ^ 0xB3415C00L).nextBytes(new byte[16]).
var javaPasswords = []struct {
	id int64
	pw string
}{
	{id: 1, pw: "054cc74a37327db215e702e20c73f005"},
	{id: 72057594037927936, pw: "f22acd4a97e69d6d20a49bb638eadb38"},
	{id: 72068861015228416, pw: "1001185a5d0582946ea2ea4b6e45e0d7"},
	{id: 72068861015228417, pw: "2322125afd5061d963e5517742cef4a4"},
	{id: 144115188075856127, pw: "2f63a64b79f85779aff6ae70a223e494"},
	{id: -72037578039623680, pw: "fae18b1fff04a3066806fbaee07225b6"},
	{id: -1, pw: "20f62cb5648dc2d771471c8a2486a9ee"},
	{id: 9223372036854775807, pw: "20f62cb5648dc2d771471c8a2486a9ee"},
}

func TestJavaRandomVectors(t *testing.T) {
	for _, v := range javaVectors {
		b := make([]byte, 16)
		NewJavaRandom(v.seed).NextBytes(b)
		if got := hex.EncodeToString(b); got != v.bytes16 {
			t.Errorf("seed %d: nextBytes(16) = %s, want %s", v.seed, got, v.bytes16)
		}
		r := NewJavaRandom(v.seed)
		if i1, i2, l1 := r.NextInt(), r.NextInt(), r.NextLong(); i1 != v.int1 || i2 != v.int2 || l1 != v.long1 {
			t.Errorf("seed %d: ints %d %d long %d, want %d %d %d", v.seed, i1, i2, l1, v.int1, v.int2, v.long1)
		}
		r = NewJavaRandom(v.seed)
		b7 := make([]byte, 7)
		r.NextBytes(b7)
		if got, after := hex.EncodeToString(b7), r.NextInt(); got != v.bytes7 || after != v.after7 {
			t.Errorf("seed %d: nextBytes(7) %s then %d, want %s then %d", v.seed, got, after, v.bytes7, v.after7)
		}
		r = NewJavaRandom(v.seed)
		if a, b, c := r.NextIntn(100), r.NextIntn(1024), r.NextIntn(7); a != v.n100 || b != v.n1024 || c != v.n7 {
			t.Errorf("seed %d: nextInt(bound) %d %d %d, want %d %d %d", v.seed, a, b, c, v.n100, v.n1024, v.n7)
		}
	}
}

func TestPassword(t *testing.T) {
	for _, v := range javaPasswords {
		got := Password(v.id)
		if hex.EncodeToString(got) != v.pw {
			t.Errorf("Password(%#x) = %x, want %s", v.id, got, v.pw)
		}
		if !CheckPassword(v.id, got) {
			t.Errorf("CheckPassword(%#x) rejected its own password", v.id)
		}
		bad := append([]byte(nil), got...)
		bad[15] ^= 1
		if CheckPassword(v.id, bad) || CheckPassword(v.id, got[:15]) || CheckPassword(v.id, nil) {
			t.Errorf("CheckPassword(%#x) accepted a wrong password", v.id)
		}
	}
	if CheckPassword(0, Password(0)) {
		t.Error("session 0 must never match")
	}
}

func TestNextIntnPanicsOnBadBound(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NextIntn(0) did not panic")
		}
	}()
	NewJavaRandom(1).NextIntn(0)
}

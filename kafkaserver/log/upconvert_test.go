package log

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// refUpConvert is the general path (split, decode every record, re-encode) that upConvertPlain must match.
func refUpConvert(t *testing.T, set []byte, next int64, epoch int32, cfg *Config, now int64) (*validated, error) {
	t.Helper()
	batches, err := splitBatches(set)
	if err != nil {
		t.Fatal(err)
	}
	v := &validated{firstOffset: next, logAppendTime: -1}
	if cfg.MessageTimestampType == "LogAppendTime" {
		v.logAppendTime = now
	}
	return upConvert(batches, next, epoch, CodecNone, cfg, now, v)
}

// TestUpConvertPlainMatchesGeneral checks, over random message sets of uncompressed magic 0/1 messages (null and
// empty keys and values, sizes across varint length boundaries, timestamps before and after the first), that the
// single-pass conversion writes exactly the batch the general path builds, and fails the same way.
func TestUpConvertPlainMatchesGeneral(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	field := func() []byte {
		switch rng.IntN(5) {
		case 0:
			return nil
		case 1:
			return []byte{}
		}
		b := make([]byte, []int{1, 63, 64, 8191, 8192, 20000}[rng.IntN(6)])
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	const now = 1_700_000_000_000
	for i := range 300 {
		cfg := DefaultConfig()
		switch i % 4 {
		case 1:
			cfg.MessageTimestampType = "LogAppendTime"
		case 2:
			cfg.MessageTimestampDifferenceMaxMs = 1000
		case 3:
			cfg.CleanupPolicy = "compact,delete"
		}
		magic := int8(i % 2)
		var set []byte
		for j := range 1 + rng.IntN(40) {
			ts := int64(now) + rng.Int64N(4000) - 2000
			if rng.IntN(10) == 0 {
				ts = -1
			}
			if i%3 == 2 { // mixed magics in one set
				magic = int8(rng.IntN(2))
			}
			set = append(set, legacyMsg(magic, int64(j), 0, ts, field(), field())...)
		}
		next, epoch := rng.Int64N(1<<40), int32(rng.IntN(100))
		if mixedMagic(t, set) {
			// Kafka's validateBatch refuses a set whose messages differ in magic: left to the general path.
			// An earlier message's own error (as Kafka checks batch by batch) may come first.
			if v, _, err := upConvertPlain(set, next, epoch, &cfg, now, nil); v != nil {
				t.Fatalf("case %d: mixed magics handled (%v, %v)", i, v, err)
			}
			if _, err := validateLeader(set, next, epoch, &cfg, now, nil); err == nil {
				t.Fatalf("case %d: mixed magics: %v", i, err)
			}
			continue
		}
		want, wantErr := refUpConvert(t, set, next, epoch, &cfg, now)
		got, ok, gotErr := upConvertPlain(set, next, epoch, &cfg, now, nil)
		if !ok && gotErr == nil {
			t.Fatalf("case %d: plain message set not handled", i)
		}
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && !errors.Is(gotErr, errors.Unwrap(wantErr))) {
			t.Fatalf("case %d: error %v, general path %v", i, gotErr, wantErr)
		}
		if wantErr != nil {
			if wantErr.Error() != gotErr.Error() {
				t.Fatalf("case %d: error %q, general path %q", i, gotErr, wantErr)
			}
			continue
		}
		if !bytes.Equal(got.records, want.records) {
			t.Fatalf("case %d: batch differs from the general path's (%d vs %d bytes)", i, len(got.records), len(want.records))
		}
		if got.firstOffset != want.firstOffset || got.lastOffset != want.lastOffset || got.maxTimestamp != want.maxTimestamp ||
			got.offsetOfMaxTs != want.offsetOfMaxTs || got.numMessages != want.numMessages ||
			got.logAppendTime != want.logAppendTime || !got.converted || len(got.batches) != 1 {
			t.Fatalf("case %d: %+v, general path %+v", i, got, want)
		}
	}
}

// TestUpConvertPlainDeclines checks that what the single pass does not handle is left to the general path.
func TestUpConvertPlainDeclines(t *testing.T) {
	cfg := DefaultConfig()
	good := legacyMsg(1, 0, 0, 5, []byte("k"), []byte("v"))
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1 // CRC mismatch
	inner := legacyMsg(1, 0, 0, 5, nil, []byte("v"))
	z, _ := compress(CodecGzip, inner)
	for name, set := range map[string][]byte{
		"v2":         kbatch(t, 1, CodecNone, kv{"k", "v"}),
		"compressed": legacyMsg(1, 0, CodecGzip, 5, nil, z),
		"bad crc":    append(bytes.Clone(good), bad...),
		"truncated":  good[:len(good)-1],
	} {
		if v, ok, err := upConvertPlain(set, 0, 0, &cfg, 0, nil); ok || err != nil || v != nil {
			t.Fatalf("%s: handled (%v, %v)", name, v, err)
		}
	}
	// Through the log, a corrupt message still gets the general path's error.
	l := openTest(t, filepath.Join(t.TempDir(), "old-0"), testConfig(), newClock())
	defer l.Close()
	if _, err := l.AppendAsLeader(append(bytes.Clone(good), bad...), 0); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt legacy set: %v", err)
	}
}

func mixedMagic(t *testing.T, set []byte) bool {
	t.Helper()
	bs, err := splitBatches(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.magic() != bs[0].magic() {
			return true
		}
	}
	return false
}

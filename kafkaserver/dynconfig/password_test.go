package dynconfig

import (
	"encoding/base64"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/conformance/harness"
)

// encoders are the password.encoder.* settings the tests run with: Kafka's defaults and the other ciphers, key
// factories and key lengths the encoder takes.
func encoders(t *testing.T, secret string) []*PasswordEncoder {
	t.Helper()
	var out []*PasswordEncoder
	for _, extra := range []map[string]string{
		{},
		{"password.encoder.cipher.algorithm": "AES/GCM/NoPadding", "password.encoder.key.length": "256"},
		{"password.encoder.keyfactory.algorithm": "PBKDF2WithHmacSHA1", "password.encoder.iterations": "1024"},
		{"password.encoder.keyfactory.algorithm": "PBKDF2WithHmacSHA256", "password.encoder.key.length": "192"},
	} {
		props := map[string]string{"broker.id": "1", "zookeeper.connect": "127.0.0.1:2181", "log.dirs": t.TempDir(),
			"password.encoder.secret": secret}
		for k, v := range extra {
			props[k] = v
		}
		cfg, err := serverprops.FromMap(props, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, NewPasswordEncoder(secret, cfg))
	}
	return out
}

// passwords include characters outside the BMP: Kafka's passwordLength counts UTF-16 units.
var passwords = []string{"broker-store-pw", "", "pässwörd with , and : and = signs", "emoji \U0001F512 key"}

func TestPasswordEncoderRoundTrip(t *testing.T) {
	for _, e := range encoders(t, "encoder-secret") {
		for _, pw := range passwords {
			enc, err := e.Encode(pw)
			if err != nil {
				t.Fatalf("%s/%s: %v", e.keyFactory, e.cipher, err)
			}
			got, err := e.Decode(enc)
			if err != nil || got != pw {
				t.Fatalf("%s/%s: decoded %q, %v; want %q", e.keyFactory, e.cipher, got, err, pw)
			}
			// The stored parameters decide: an encoder configured otherwise reads it too.
			if got, err := encoders(t, "encoder-secret")[0].Decode(enc); err != nil || got != pw {
				t.Fatalf("%s/%s by the default encoder: %q, %v", e.keyFactory, e.cipher, got, err)
			}
			if _, err := encoders(t, "another-secret")[0].Decode(enc); err == nil {
				t.Fatalf("%s/%s: decoded with the wrong secret", e.keyFactory, e.cipher)
			}
		}
	}
	e := encoders(t, "s")[0]
	enc, err := e.Encode("abc")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"", "garbage", strings.Replace(enc, "passwordLength:3", "passwordLength:4", 1),
		strings.Replace(enc, "salt:", "salt:!", 1), strings.Replace(enc, "iterations:4096", "iterations:x", 1),
		strings.Replace(enc, "PBKDF2WithHmacSHA512", "PBKDF2WithHmacMD5", 1),
	} {
		if got, err := e.Decode(bad); err == nil {
			t.Errorf("%q decoded to %q", bad, got)
		}
	}
	if _, err := e.Decode(strings.Replace(enc, "passwordLength:3", "passwordLength:4", 1)); err == nil ||
		err.Error() != "Password could not be decoded, sanity check of length failed" {
		t.Errorf("length check: %v", err)
	}
}

// TestPasswordEncoderAgainstJava encodes with the JDK's key factories and ciphers and decodes with ours, and the
// other way round: what a Kafka broker stored, ours reads, and the reverse.
func TestPasswordEncoderAgainstJava(t *testing.T) {
	_, err := exec.LookPath("javac")
	harness.NeedOrSkip(t, err)
	dir := t.TempDir()
	if out, err := exec.Command("javac", "-nowarn", "-encoding", "UTF-8", "-d", dir,
		filepath.Join("testdata", "PasswordCodec.java")).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	java := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("java", append([]string{"-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", dir,
			"PasswordCodec"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("java %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	const secret = "shared encoder secret"
	for _, e := range encoders(t, secret) {
		pw := passwords[3]
		fromJava := java("encode", secret, base64.StdEncoding.EncodeToString([]byte(pw)), e.keyFactory, e.cipher,
			strconv.Itoa(e.keyLengthBit), strconv.Itoa(e.iterations))
		if got, err := e.Decode(fromJava); err != nil || got != pw {
			t.Fatalf("%s/%s: Java's %q decoded to %q, %v", e.keyFactory, e.cipher, fromJava, got, err)
		}
		ours, err := e.Encode(pw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := base64.StdEncoding.DecodeString(java("decode", secret, ours))
		if err != nil || string(got) != pw {
			t.Fatalf("%s/%s: Java decoded ours to %q, %v", e.keyFactory, e.cipher, got, err)
		}
	}
}

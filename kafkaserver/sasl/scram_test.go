package sasl

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	kgosasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/zkafka/zkafka/kwire"
)

// TestScramRFC7677 replays RFC 7677's SCRAM-SHA-256 example (user "user", password "pencil") with the RFC's
// server nonce: every message must be byte-for-byte the RFC's.
func TestScramRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	cred, err := NewScramCredential(MechanismScramSHA256, "pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	creds := NewCredentials()
	if err := creds.Update("user", map[string]string{MechanismScramSHA256: cred.String()}); err != nil {
		t.Fatal(err)
	}
	s, _ := NewScram(MechanismScramSHA256, creds)
	s.newNonce = func() (string, error) { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", nil }
	srv := s.NewServer()
	out, done, err := srv.Evaluate([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
	if want := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"; err != nil || done || string(out) != want {
		t.Fatalf("server-first %q, %v, %v; want %q", out, done, err, want)
	}
	out, done, err = srv.Evaluate([]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," +
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	if want := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="; err != nil || !done || string(out) != want {
		t.Fatalf("server-final %q, %v, %v; want %q", out, done, err, want)
	}
	if srv.AuthorizationID() != "user" {
		t.Fatalf("authorized as %q", srv.AuthorizationID())
	}
}

// exchange runs franz-go's SCRAM client against our server and returns the server's error.
func exchange(t *testing.T, srv kwire.SASLServer, m kgosasl.Mechanism) error {
	t.Helper()
	sess, msg, err := m.Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatal(err)
	}
	for {
		out, done, err := srv.Evaluate(msg)
		if err != nil {
			return err
		}
		cdone, next, cerr := sess.Challenge(out)
		if cerr != nil {
			t.Fatalf("client rejected the server: %v", cerr)
		}
		if done {
			if !cdone {
				t.Fatal("server done before the client")
			}
			return nil
		}
		msg = next
	}
}

// TestScramExchanges: both mechanisms log in with franz-go's client; wrong passwords, unknown users, a
// credential for the other mechanism, too few iterations and an authorization id for someone else fail as
// ScramSaslServer fails them (only the last tells the client why).
func TestScramExchanges(t *testing.T) {
	creds := NewCredentials()
	cfg := map[string]string{}
	for _, mech := range []string{MechanismScramSHA256, MechanismScramSHA512} {
		c, err := NewScramCredential(mech, "alice-secret", []byte("salt-"+mech), 4096)
		if err != nil {
			t.Fatal(err)
		}
		cfg[mech] = c.String()
	}
	weak, _ := NewScramCredential(MechanismScramSHA256, "pw", []byte("s"), 1000)
	only512, _ := NewScramCredential(MechanismScramSHA512, "pw", []byte("s"), 4096)
	for user, c := range map[string]map[string]string{
		"alice": cfg, "a,b=c": cfg,
		"weak":    {MechanismScramSHA256: weak.String()},
		"only512": {MechanismScramSHA512: only512.String()},
		"broken":  {MechanismScramSHA256: "salt=abc"},
		// Keys that are not base64 fail the credential, as Base64.getDecoder().decode throws.
		"badkeys": {MechanismScramSHA256: "salt=c2FsdA==,stored_key=not*base64,server_key=c2FsdA==,iterations=4096"},
	} {
		err := creds.Update(user, c)
		if (user == "broken" || user == "badkeys") != (err != nil) {
			t.Fatalf("update %s: %v", user, err)
		}
	}
	server := func(mech string) kwire.SASLServer {
		s, err := NewScram(mech, creds)
		if err != nil {
			t.Fatal(err)
		}
		return s.NewServer()
	}
	for _, mech := range []string{MechanismScramSHA256, MechanismScramSHA512} {
		as := func(a scram.Auth) kgosasl.Mechanism {
			if mech == MechanismScramSHA256 {
				return a.AsSha256Mechanism()
			}
			return a.AsSha512Mechanism()
		}
		for _, user := range []string{"alice", "a,b=c"} {
			srv := server(mech)
			if err := exchange(t, srv, as(scram.Auth{User: user, Pass: "alice-secret"})); err != nil {
				t.Fatalf("%s %s: %v", mech, user, err)
			}
			if srv.AuthorizationID() != user {
				t.Fatalf("%s: authorized as %q, want %q", mech, srv.AuthorizationID(), user)
			}
		}
		for name, a := range map[string]scram.Auth{
			"wrong password": {User: "alice", Pass: "nope"},
			"unknown user":   {User: "mallory", Pass: "alice-secret"},
			"broken":         {User: "broken", Pass: "x"},
			"badkeys":        {User: "badkeys", Pass: "x"},
		} {
			err := exchange(t, server(mech), as(a))
			var ae *kwire.AuthenticationError
			if err == nil || errors.As(err, &ae) {
				t.Errorf("%s %s: %v, want a failure without detail for the client", mech, name, err)
			}
		}
		err := exchange(t, server(mech), as(scram.Auth{User: "alice", Pass: "alice-secret", Zid: "admin"}))
		var ae *kwire.AuthenticationError
		if !errors.As(err, &ae) || ae.Message != "Authentication failed: Client requested an authorization id that is different from username" {
			t.Errorf("%s authzid: %v", mech, err)
		}
	}
	if err := exchange(t, server(MechanismScramSHA256), scram.Auth{User: "weak", Pass: "pw"}.AsSha256Mechanism()); err == nil ||
		!strings.Contains(err.Error(), "Iterations 1000 is less than the minimum 4096 for SCRAM-SHA-256") {
		t.Errorf("weak: %v", err)
	}
	if err := exchange(t, server(MechanismScramSHA256), scram.Auth{User: "only512", Pass: "pw"}.AsSha256Mechanism()); err == nil {
		t.Error("a SCRAM-SHA-512 credential logged in with SCRAM-SHA-256")
	}
	// Removing the user's config removes its credentials.
	if err := creds.Update("alice", nil); err != nil {
		t.Fatal(err)
	}
	if err := exchange(t, server(MechanismScramSHA512), scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha512Mechanism()); err == nil {
		t.Error("alice logged in after her credentials were removed")
	}
	// Malformed messages end the exchange.
	for _, msg := range []string{"", "y,,n=alice,r=abc", "p=tls-unique,,n=alice,r=abc", "n,,n=al=ice,r=abc", "n,,n=alice"} {
		if _, _, err := server(MechanismScramSHA256).Evaluate([]byte(msg)); err == nil {
			t.Errorf("client-first %q accepted", msg)
		}
	}
	// A credential survives its string form.
	c, err := ParseScramCredential(cfg[MechanismScramSHA512])
	if err != nil || c.String() != cfg[MechanismScramSHA512] || c.Iterations != 4096 {
		t.Fatalf("round trip: %v %v", c, err)
	}
}

// TestScramDoubledNonce: librdkafka 2.0 sends its nonce once more before the combined one in client-final;
// ScramSaslServer does not compare nonces, so the login succeeds when the proof signs what was sent.
func TestScramDoubledNonce(t *testing.T) {
	cred, _ := NewScramCredential(MechanismScramSHA256, "pw", []byte("salt"), 4096)
	creds := NewCredentials()
	if err := creds.Update("u", map[string]string{MechanismScramSHA256: cred.String()}); err != nil {
		t.Fatal(err)
	}
	s, _ := NewScram(MechanismScramSHA256, creds)
	s.newNonce = func() (string, error) { return "SRV", nil }
	srv := s.NewServer()
	first, _, err := srv.Evaluate([]byte("n,,n=u,r=CLI"))
	if err != nil {
		t.Fatal(err)
	}
	salted, _ := pbkdf2.Key(sha256.New, "pw", []byte("salt"), 4096, 32)
	clientKey := hmacOf(sha256.New, salted, []byte("Client Key"))
	without := "c=biws,r=CLICLISRV"
	sig := hmacOf(sha256.New, cred.StoredKey, []byte("n=u,r=CLI,"+string(first)+","+without))
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = clientKey[i] ^ sig[i]
	}
	if _, done, err := srv.Evaluate([]byte(without + ",p=" + base64.StdEncoding.EncodeToString(proof))); err != nil || !done {
		t.Fatalf("doubled nonce: %v %v", done, err)
	}
}

package sasl

import (
	"encoding/base64"
	"testing"

	"github.com/zkafka/zkafka/kwire"
)

// FuzzServerTokens (make fuzz) hands a client's SASL tokens to the broker's PLAIN, SCRAM-SHA-256 and OAUTHBEARER
// servers: the first token as the client's first message, the second (SCRAM's client-final) after it. Bad tokens
// must be refused with an error, never a panic.
func FuzzServerTokens(f *testing.F) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	cred, err := NewScramCredential(MechanismScramSHA256, "pencil", salt, 4096)
	if err != nil {
		f.Fatal(err)
	}
	creds := NewCredentials()
	if err := creds.Update("user", map[string]string{MechanismScramSHA256: cred.String()}); err != nil {
		f.Fatal(err)
	}
	scram, err := NewScram(MechanismScramSHA256, creds)
	if err != nil {
		f.Fatal(err)
	}
	const nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	scram.newNonce = func() (string, error) { return nonce, nil }
	plain := NewPlain(map[string]string{"alice": "alice-secret"})
	oauth := newOAuth(nil)

	// RFC 7677's exchange, which the SCRAM server accepts with this nonce.
	f.Add(uint8(1), []byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
		[]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO"+nonce+",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	f.Add(uint8(1), []byte("n,a=user,n=user,r=x,tokenauth=true"), []byte("c=biws,r=x,p="))
	f.Add(uint8(0), []byte("\x00alice\x00alice-secret"), []byte(nil))
	f.Add(uint8(0), []byte("alice\x00alice\x00wrong"), []byte(nil))
	tok := jws(`{"alg":"none"}`, `{"sub":"alice","iat":1699999990,"exp":1700003600.5,"scope":["a","b"]}`)
	f.Add(uint8(2), []byte(initial("alice", tok, "traceId=abc")), []byte{0x01})
	f.Add(uint8(2), []byte("n,,\x01auth=Bearer x.y.z\x01\x01"), []byte{0x01})
	f.Fuzz(func(t *testing.T, mech uint8, first, second []byte) {
		var srv kwire.SASLServer
		switch mech % 3 {
		case 0:
			srv = plain.NewServer()
		case 1:
			srv = scram.NewServer()
		default:
			srv = oauth.NewServer()
		}
		_, done, err := srv.Evaluate(first)
		if err != nil || done {
			return
		}
		_, _, _ = srv.Evaluate(second)
		_ = srv.AuthorizationID()
	})
}

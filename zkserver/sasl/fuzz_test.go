package sasl

import (
	"bytes"
	"testing"
)

// fixedRandom makes nonces repeatable, so that a response recorded in a seed still matches the challenge.
func fixedRandom() *bytes.Reader { return bytes.NewReader(bytes.Repeat([]byte{7}, 1<<10)) }

func fuzzDigestServer() *DigestServer {
	return NewDigestServer(QuorumProtocol, QuorumServerName, func(u string) (string, bool) { return "pw-ø", u == "learner" },
		fixedRandom())
}

// FuzzDigestMD5 (make fuzz) gives the DIGEST-MD5 server arbitrary client responses after its challenge (client
// SASL auth and quorum auth both use it) and the client (a learner's quorum auth) arbitrary challenges and
// rspauth tokens: an error, never a panic.
func FuzzDigestMD5(f *testing.F) {
	srv := fuzzDigestServer()
	challenge, err := srv.Evaluate(nil)
	if err != nil {
		f.Fatal(err)
	}
	cl := NewDigestClient("learner", "pw-ø", QuorumProtocol, QuorumServerName, fixedRandom())
	rsp, _, err := cl.Step(challenge)
	if err != nil {
		f.Fatal(err)
	}
	rspauth, err := srv.Evaluate(rsp)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rsp, challenge, rspauth)
	f.Add([]byte(`username="learner",realm="zk-quorum-sasl-md5",nonce="x",nc=00000001,cnonce="y",digest-uri="zookeeper-quorum/zk-quorum-sasl-md5",response=00,qop=auth,charset=utf-8`),
		[]byte(`realm="a",realm="b",nonce="\"",qop="auth-int,auth",charset=utf-8,algorithm=md5-sess`), []byte("rspauth="))
	f.Add([]byte(`username="a\`), []byte(`nonce=`), []byte(nil))
	f.Fuzz(func(t *testing.T, response, challenge, rspauth []byte) {
		s := fuzzDigestServer()
		if _, err := s.Evaluate(nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Evaluate(response); err == nil && (!s.Complete() || s.User() != "learner") {
			t.Fatalf("accepted %q: complete %v user %q", response, s.Complete(), s.User())
		}
		c := NewDigestClient("learner", "pw-ø", QuorumProtocol, QuorumServerName, fixedRandom())
		if _, done, err := c.Step(challenge); err == nil && !done {
			_, _, _ = c.Step(rspauth)
		}
	})
}

package quorumauth

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
)

func learner(password string) *Config {
	return &Config{LearnerRequire: true, User: "learner", Password: password}
}

func server(require bool) *Config {
	return &Config{ServerRequire: require, Users: map[string]string{"learner": "secret"},
		AuthzHosts: map[string]bool{"zk1.example.com": true}}
}

// run has l authenticate to s over a pipe, then the learner sends "next"; it returns both sides' errors and what
// the server read after the exchange.
func run(t *testing.T, l, s *Config) (learnErr, serveErr error, after string) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	done := make(chan error, 1)
	go func() {
		err := l.Learn(a, a, "server")
		if err == nil {
			_, err = a.Write([]byte("next-msg"))
		}
		done <- err
		a.Close()
	}()
	br := bufio.NewReader(b)
	serveErr = s.Serve(br, b, "learner")
	if serveErr != nil {
		b.Close()
		return <-done, serveErr, ""
	}
	rest, _ := io.ReadAll(br)
	return <-done, nil, string(rest)
}

func TestQuorumAuth(t *testing.T) {
	for _, tc := range []struct {
		name             string
		l, s             *Config
		learnOK, serveOK bool
		after            string
	}{
		{"right password", learner("secret"), server(true), true, true, "next-msg"},
		{"wrong password, required", learner("wrong"), server(true), false, false, ""},
		{"wrong password, not required", learner("wrong"), server(false), false, true, ""},
		{"learner not authenticating, required", &Config{}, server(true), true, false, ""},
		{"learner not authenticating, not required", &Config{}, server(false), true, true, "next-msg"},
		{"no quorum SASL on the learner", nil, server(false), true, true, "next-msg"},
		{"no quorum SASL on the server", learner("secret"), nil, false, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.s == nil {
				// A server without quorum SASL takes the auth packet for its protocol's first message and
				// never answers it; the learner fails when the connection closes.
				a, b := net.Pipe()
				go func() { b.Read(make([]byte, 64)); b.Close() }()
				err := tc.l.Learn(a, a, "server")
				if err == nil {
					t.Fatal("learning from a server without quorum SASL succeeded")
				}
				return
			}
			learnErr, serveErr, after := run(t, tc.l, tc.s)
			if (learnErr == nil) != tc.learnOK || (serveErr == nil) != tc.serveOK {
				t.Fatalf("learn %v, serve %v", learnErr, serveErr)
			}
			if tc.learnOK && tc.serveOK && after != tc.after {
				t.Fatalf("the server read %q after the exchange, want %q", after, tc.after)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	s := server(true)
	for _, tc := range []struct {
		user, authzid string
		ok            bool
	}{
		{"learner", "learner", true},
		{"learner", "other", false},
		{"zk/zk1.example.com@EXAMPLE.COM", "zk/zk1.example.com@EXAMPLE.COM", true},
		{"zk/evil.example.com@EXAMPLE.COM", "zk/evil.example.com@EXAMPLE.COM", false},
	} {
		if err := s.authorize(tc.user, tc.authzid); (err == nil) != tc.ok {
			t.Errorf("authorize(%q, %q) = %v", tc.user, tc.authzid, err)
		}
	}
}

func TestReadPacketBounds(t *testing.T) {
	// A token length past maxToken is refused before anything is allocated.
	hdr := []byte{0x5f, 0x24, 0x35, 0x01, 0x35, 0x01, 0xed, 0xcc, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff}
	if _, _, err := readPacket(strings.NewReader(string(hdr))); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("readPacket: %v", err)
	}
	hdr[0] = 0
	if _, _, err := readPacket(strings.NewReader(string(hdr))); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("readPacket: %v", err)
	}
}

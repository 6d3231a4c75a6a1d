package conn

import (
	"net"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// Rebind moves the client port: the old address refuses, the new one accepts, and a connection made before goes
// on being served.
func TestRebind(t *testing.T) {
	l, _ := listen(t, Config{})
	old := l.Addr().String()
	c1, err := net.Dial("tcp", old)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	next := probe.Addr().String()
	probe.Close()
	if err := l.Rebind(next); err != nil {
		t.Fatal(err)
	}
	if got := l.Addr().String(); got != next {
		t.Fatalf("Addr after Rebind: %s, want %s", got, next)
	}
	if nc, err := net.DialTimeout("tcp", old, time.Second); err == nil {
		nc.Close()
		t.Fatalf("the old address %s still accepts", old)
	}
	for _, c := range []net.Conn{c1, dial(t, next)} {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(frameOf(nil, &jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)})); err != nil {
			t.Fatal(err)
		}
		var resp jute.ConnectResponse
		d := jute.NewDecoder(readReply(t, c))
		if resp.Decode(d); d.Err() != nil || resp.SessionID == 0 {
			t.Fatalf("connect through %s: %+v %v", c.RemoteAddr(), resp, d.Err())
		}
	}
	// A failed rebind leaves no client port, and Close still works.
	if err := l.Rebind("256.0.0.1:1"); err == nil {
		t.Fatal("a rebind to a bad address succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close after a failed rebind: %v", err)
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

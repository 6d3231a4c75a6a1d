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
	// c1's session is set up before the rebind: a connection still in the old socket's accept queue is reset
	// when that socket closes, as Apache's is.
	c1 := dial(t, old)
	connect(t, c1)
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
	// The old connection is still served, and the new address takes sessions.
	if _, err := c1.Write(frameOf(&jute.RequestHeader{Xid: -2, Type: jute.OpPing}, nil)); err != nil {
		t.Fatal(err)
	}
	var hdr jute.ReplyHeader
	d := jute.NewDecoder(readReply(t, c1))
	if hdr.Decode(d); d.Err() != nil || hdr.Xid != -2 || hdr.Err != 0 {
		t.Fatalf("ping through the old connection: %+v %v", hdr, d.Err())
	}
	connect(t, dial(t, next))
	// A failed rebind leaves no client port, and Close still works.
	if err := l.Rebind("256.0.0.1:1"); err == nil {
		t.Fatal("a rebind to a bad address succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close after a failed rebind: %v", err)
	}
}

func connect(t *testing.T, c net.Conn) {
	t.Helper()
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

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

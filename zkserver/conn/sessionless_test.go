package conn

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// A connection that sends no connect request is closed once zookeeper.nio.sessionlessCnxnTimeout has passed
// (rounded up to the next multiple of it), and counted; one that connects in time stays open past it.
func TestSessionlessConnectionExpires(t *testing.T) {
	const timeout = 200 * time.Millisecond
	l, p := listen(t, Config{SessionlessTimeout: timeout})

	idle, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	connected, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer connected.Close()
	if _, err := connected.Write(frameOf(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})); err != nil {
		t.Fatal(err)
	}
	connected.SetDeadline(time.Now().Add(10 * time.Second))
	readReply(t, connected)

	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the idle connection read %d bytes, %v: want it closed", n, err)
	}
	if n := p.Stats.SessionlessExpired.Load(); n != 1 {
		t.Fatalf("sessionless_connections_expired %d", n)
	}
	time.Sleep(2 * timeout)
	if _, err := connected.Write(frameOf(&jute.RequestHeader{Xid: 1, Type: jute.OpExists}, &jute.ExistsRequest{Path: "/"})); err != nil {
		t.Fatal(err)
	}
	readReply(t, connected)
	if got := expiryAfter(time.UnixMilli(12345), 10*time.Second); got.UnixMilli() != 30000 {
		t.Fatalf("expiry of 12.345 s + 10 s: %d ms, want the next multiple, 30000", got.UnixMilli())
	}
}

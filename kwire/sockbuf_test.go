package kwire

import (
	"net"
	"syscall"
	"testing"
)

func sockopt(t *testing.T, sc syscall.Conn, opt int) int {
	t.Helper()
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) { v, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, opt) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return v
}

// TestSocketBuffers checks socket.receive.buffer.bytes on the listening socket (accepted ones inherit it) and
// socket.send.buffer.bytes on accepted ones, as Kafka's Acceptor sets them (Linux reports twice the value set).
func TestSocketBuffers(t *testing.T) {
	s, _ := startServer(t, Config{Addr: "127.0.0.1:0", SendBufferBytes: 48 << 10, ReceiveBufferBytes: 40 << 10}, NewMux())
	if got := sockopt(t, s.ln.(*net.TCPListener), syscall.SO_RCVBUF); got != 80<<10 {
		t.Fatalf("listener SO_RCVBUF %d", got)
	}
	_, nc := tcpPair(t)
	s.setSendBuffer(nc)
	if got := sockopt(t, nc.(*net.TCPConn), syscall.SO_SNDBUF); got != 96<<10 {
		t.Fatalf("accepted SO_SNDBUF %d", got)
	}
}

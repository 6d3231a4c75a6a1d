package conn

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// A connection the server closes is off the connection list (what cons and stat print) before its client sees
// the close: after a four-letter word's EOF, or after closeSession's reply and EOF, a new connection is the only
// one listed.
func TestClosedConnectionUnlistedBeforeEOF(t *testing.T) {
	var l *Listener
	l, _ = listen(t, Config{FourLetter: func(word string, _ int64) (string, bool) {
		return strconv.Itoa(len(l.Conns())), true
	}})
	fourLetter := func() string {
		nc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write([]byte("cons")); err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(nc)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	for i := range 200 {
		if got := fourLetter(); got != "1" {
			t.Fatalf("four-letter word %d listed %s connections, want only its own", i, got)
		}
	}

	for i := range 20 {
		nc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(frameOf(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})); err != nil {
			t.Fatal(err)
		}
		readReply(t, nc)
		if _, err := nc.Write(frameOf(&jute.RequestHeader{Xid: 1, Type: jute.OpCloseSession}, nil)); err != nil {
			t.Fatal(err)
		}
		readReply(t, nc)
		if n, err := nc.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("after closeSession read %d bytes, %v: want EOF", n, err)
		}
		nc.Close()
		if got := fourLetter(); got != "1" {
			t.Fatalf("after closeSession %d a four-letter word listed %s connections, want only its own", i, got)
		}
	}
}

package zkserver

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/jute"
)

// expectClosed reads until the server closes c, failing if it does not.
func expectClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s: server kept the connection open", what)
		}
		return // EOF or reset: closed
	}
}

// dialRaw opens a plain TCP connection to s, for tests that write frames themselves; closed when the test ends.
func dialRaw(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func connectFrame(extra ...byte) []byte {
	body := jute.Marshal(&jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)})
	body = append(body, extra...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// requestBytes is one size-prefixed request: header, then rec's body when there is one.
func requestBytes(xid, op int32, rec jute.Record) []byte {
	e := jute.Encoder{Buf: make([]byte, 4, 64)}
	(&jute.RequestHeader{Xid: xid, Type: op}).Encode(&e)
	if rec != nil {
		rec.Encode(&e)
	}
	binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
	return e.Buf
}

func openSession(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := c.Write(connectFrame()); err != nil {
		t.Fatal(err)
	}
	readFrame(t, c)
}

func readFrame(t *testing.T, c net.Conn) []byte {
	t.Helper()
	var sz [4]byte
	if _, err := io.ReadFull(c, sz[:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint32(sz[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	s := startTestServer(t, t.TempDir())
	defer s.Close()
	good := dial(t, s)
	if _, err := good.Create("/ok", []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	cases := []struct {
		name  string
		bytes func() []byte
	}{
		{"huge length prefix", func() []byte { return []byte{0x7f, 0xff, 0xff, 0xff} }},
		{"negative length", func() []byte { return []byte{0xff, 0xff, 0xff, 0xfe} }},
		{"garbage connect", func() []byte { return []byte{0, 0, 0, 3, 1, 2, 3} }},
		{"oversize after connect", func() []byte {
			return append(connectFrame(), 0x00, 0x10, 0x00, 0x00) // 1 MiB > jute.maxbuffer
		}},
		{"truncated header after connect", func() []byte {
			return append(connectFrame(), 0, 0, 0, 2, 0, 1)
		}},
		{"unknown opcode", func() []byte {
			req := jute.Marshal(&jute.RequestHeader{Xid: 1, Type: 999})
			return append(connectFrame(), append(binary.BigEndian.AppendUint32(nil, uint32(len(req))), req...)...)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(tc.bytes()); err != nil {
				t.Fatal(err)
			}
			expectClosed(t, c, tc.name)
			// Everyone else is still served.
			if data, _, err := good.Get("/ok"); err != nil || string(data) != "x" {
				t.Fatalf("good client after %s: %q %v", tc.name, data, err)
			}
		})
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.TotalAlloc) - int64(before.TotalAlloc); grew > 64<<20 {
		t.Fatalf("server allocated %d bytes for bad frames: a length prefix was trusted", grew)
	}
}

// A truncated body gets Apache's MarshallingError and the connection lives.
func TestTruncatedBodyAnswersMarshallingError(t *testing.T) {
	s := startTestServer(t, t.TempDir())
	defer s.Close()
	c := dialRaw(t, s)
	openSession(t, c)
	// getData whose path string claims 100 bytes but carries 3.
	req := jute.Marshal(&jute.RequestHeader{Xid: 7, Type: jute.OpGetData})
	req = append(req, 0, 0, 0, 100, 'a', 'b', 'c')
	c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(req))), req...))
	var hdr jute.ReplyHeader
	if err := jute.Unmarshal(readFrame(t, c), &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.Xid != 7 || jute.Err(hdr.Err) != jute.ErrMarshallingError {
		t.Fatalf("reply %+v, want xid 7 MarshallingError", hdr)
	}
	// Still usable: a ping is answered.
	c.Write(requestBytes(jute.XidPing, jute.OpPing, nil))
	if err := jute.Unmarshal(readFrame(t, c), &hdr); err != nil || hdr.Xid != jute.XidPing {
		t.Fatalf("ping after bad body: %+v %v", hdr, err)
	}
}

// maxClientCnxns: connections from one IP beyond the limit are closed at
// once; the ones within it keep working.
func TestMaxClientCnxnsPerIP(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(Config{
		ClientAddr: "127.0.0.1:0", TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 4000, MaxClientCnxns: 2,
		DataDir: dir, DataLogDir: dir, SnapCount: 100000, PreAllocSize: 1 << 20, ForceSync: true, JuteMaxBuffer: 0xfffff,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, b := dial(t, s), dial(t, s)
	for _, c := range []*zk.Conn{a, b} {
		for deadline := time.Now().Add(5 * time.Second); c.State() != zk.StateHasSession; {
			if time.Now().After(deadline) {
				t.Fatal("no session")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	over, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	over.Write(connectFrame())
	expectClosed(t, over, "third connection from one IP")
	if n := s.proc.Stats.ConnectionRejected.Load(); n != 1 {
		t.Errorf("connection_rejected %d, want 1", n)
	}
	for _, c := range []*zk.Conn{a, b} {
		if _, _, err := c.Exists("/"); err != nil {
			t.Fatalf("connection within the limit: %v", err)
		}
	}
}

// A refused auth packet is answered AuthFailed and closes the connection; requests the client pipelined behind it
// are neither run nor answered (Apache stops receiving on the connection at once).
func TestAuthFailureTakesNoFurtherRequests(t *testing.T) {
	s := startTestServer(t, t.TempDir())
	defer s.Close()
	c := dialRaw(t, s)
	// Connect, the refused auth packet, then a create and a getData, in one write so that the server has them all
	// before it answers the auth packet.
	out := connectFrame()
	out = append(out, requestBytes(-4, jute.OpAuth, &jute.AuthPacket{Scheme: "nosuch", Auth: []byte("x")})...)
	out = append(out, requestBytes(1, jute.OpCreate, &jute.CreateRequest{Path: "/after-auth", ACL: jute.OpenACLUnsafe})...)
	out = append(out, requestBytes(2, jute.OpGetData, &jute.GetDataRequest{Path: "/"})...)
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(c)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("server kept the connection open after a refused auth packet")
		}
	}
	var replies []jute.ReplyHeader
	for len(all) >= 4 {
		n := int(binary.BigEndian.Uint32(all))
		if len(all) < 4+n {
			break
		}
		replies = append(replies, jute.ReplyHeader{})
		if len(replies) > 1 { // the first frame is the connect response
			if err := jute.Unmarshal(all[4:4+n], &replies[len(replies)-1]); err != nil {
				t.Fatal(err)
			}
		}
		all = all[4+n:]
	}
	if len(replies) != 2 || replies[1].Xid != -4 || jute.Err(replies[1].Err) != jute.ErrAuthFailed {
		t.Fatalf("replies after connect %+v, want only the auth packet's AuthFailed", replies[1:])
	}
	good := dial(t, s)
	if ok, _, err := good.Exists("/after-auth"); err != nil || ok {
		t.Fatalf("a create sent after a refused auth packet ran (exists %v, %v)", ok, err)
	}
}

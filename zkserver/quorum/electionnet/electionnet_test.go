package electionnet

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/zkafka/zkafka/zkserver/quorum/election"
)

// ensemble starts n managers on loopback ports with nodes over them.
type ensemble struct {
	managers map[int64]*Manager
	nodes    map[int64]*Node
	cancel   map[int64]context.CancelFunc
	voters   []int64
	addrs    map[int64]string
}

func reserve(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func newEnsemble(t *testing.T, n int) *ensemble {
	en := &ensemble{managers: map[int64]*Manager{}, nodes: map[int64]*Node{}, cancel: map[int64]context.CancelFunc{},
		addrs: map[int64]string{}}
	for sid := int64(1); sid <= int64(n); sid++ {
		en.voters = append(en.voters, sid)
		en.addrs[sid] = reserve(t)
	}
	t.Cleanup(func() {
		for sid := range en.managers {
			en.stop(sid)
		}
	})
	return en
}

func (en *ensemble) start(t *testing.T, sid int64) {
	t.Helper()
	m, err := Listen(Config{MyID: sid, ListenAddr: en.addrs[sid], Peers: en.addrs, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := election.New(election.Config{MyID: sid, Verifier: election.NewMajority(en.voters),
		ConfigText: []byte("version=0")})
	node := NewNode(e, m, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go node.Run(ctx)
	en.managers[sid], en.nodes[sid], en.cancel[sid] = m, node, cancel
}

func (en *ensemble) stop(sid int64) {
	en.cancel[sid]()
	en.managers[sid].Close()
	delete(en.managers, sid)
	delete(en.nodes, sid)
}

func (en *ensemble) lookAll(t *testing.T, zxids map[int64]int64) map[int64]election.Vote {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type result struct {
		sid int64
		v   election.Vote
		err error
	}
	ch := make(chan result)
	for sid, node := range en.nodes {
		go func() {
			v, err := node.Look(ctx, zxids[sid], zxids[sid]>>32)
			ch <- result{sid, v, err}
		}()
	}
	out := map[int64]election.Vote{}
	for range en.nodes {
		r := <-ch
		if r.err != nil {
			t.Fatalf("sid %d: %v", r.sid, r.err)
		}
		out[r.sid] = r.v
	}
	return out
}

// Three servers over real sockets elect the one with the highest zxid; when it stops, the other two elect again.
func TestElectionOverLoopback(t *testing.T) {
	en := newEnsemble(t, 3)
	for _, sid := range en.voters {
		en.start(t, sid)
	}
	zxids := map[int64]int64{1: 0x100000005, 2: 0x100000007, 3: 0x100000006}
	votes := en.lookAll(t, zxids)
	for sid, v := range votes {
		if v.Leader != 2 {
			t.Fatalf("sid %d decided %+v", sid, v)
		}
		want := election.Following
		if sid == 2 {
			want = election.Leading
		}
		if v.State != want {
			t.Fatalf("sid %d state %v", sid, v.State)
		}
	}
	en.stop(2)
	votes = en.lookAll(t, zxids)
	for sid, v := range votes {
		if v.Leader != 3 {
			t.Fatalf("after the leader stopped, sid %d decided %+v", sid, v)
		}
	}
}

// A server that starts after the others settled follows their leader (it learns it from their answers).
func TestLateServerJoins(t *testing.T) {
	en := newEnsemble(t, 3)
	en.start(t, 1)
	en.start(t, 2)
	votes := en.lookAll(t, map[int64]int64{})
	if votes[1].Leader != 2 || votes[2].State != election.Leading {
		t.Fatalf("votes %+v", votes)
	}
	en.start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := en.nodes[3].Look(ctx, 0x500000000, 5) // ahead of them: it would have won a fresh election
	if err != nil || v.Leader != 2 || v.State != election.Following {
		t.Fatalf("late server: %+v %v", v, err)
	}
}

func dialHandshake(t *testing.T, addr string, hs []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(hs); err != nil {
		t.Fatal(err)
	}
	return c
}

// expectClosed reads until EOF (or a reset): the manager closed the connection.
func expectClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("%s: connection still open", what)
		}
	}
}

// The inbound side of the handshake: bad versions and lengths are closed, a smaller sid is closed and dialed back,
// a larger one is kept and its messages are delivered; a frame over 512 KiB closes it.
func TestHandshakeAndFraming(t *testing.T) {
	back, err := net.Listen("tcp", "127.0.0.1:0") // plays server 1, which server 2 dials back
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	m, err := Listen(Config{MyID: 2, ListenAddr: "127.0.0.1:0", Peers: map[int64]string{1: back.Addr().String()},
		ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	addr := m.Addr().String()

	bad := binary.BigEndian.AppendUint64(nil, 0xffff_ffff_ffff_0005) // an unknown negative version
	expectClosed(t, dialHandshake(t, addr, bad), "unknown protocol version")
	long := handshake(3, "x")
	binary.BigEndian.PutUint32(long[16:], maxAddressLen+1)
	expectClosed(t, dialHandshake(t, addr, long), "address too long")

	// Server 1 is smaller: its connection is closed and server 2 dials back with its own handshake.
	expectClosed(t, dialHandshake(t, addr, handshake(1, back.Addr().String())), "smaller sid")
	_ = back.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	c, err := back.Accept()
	if err != nil {
		t.Fatalf("no dial-back: %v", err)
	}
	sid, advertised, err := readHandshake(c)
	if err != nil || sid != 2 || advertised != addr {
		t.Fatalf("dial-back handshake %d %q %v", sid, advertised, err)
	}
	c.Close()

	// Server 3 (bare sid, the pre-3.5 form) is larger: kept, and its messages arrive.
	c3 := dialHandshake(t, addr, binary.BigEndian.AppendUint64(nil, 3))
	msg := election.Notification{State: election.Looking, Leader: 3, ElectionEpoch: 1}.Marshal()
	if err := writeFrame(c3, msg); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-m.Recv():
		if got.From != 3 || string(got.Payload) != string(msg) {
			t.Fatalf("got %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message not delivered")
	}
	// Messages to server 3 go out on its connection.
	m.Send(3, []byte("hello"))
	_ = c3.SetReadDeadline(time.Now().Add(5 * time.Second))
	var frame [9]byte
	if _, err := io.ReadFull(c3, frame[:]); err != nil || binary.BigEndian.Uint32(frame[:]) != 5 || string(frame[4:]) != "hello" {
		t.Fatalf("frame %q %v", frame, err)
	}
	oversize := binary.BigEndian.AppendUint32(nil, MaxMessageSize+1)
	if _, err := c3.Write(oversize); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, c3, "oversize frame")

	// A new connection from server 3 gets the last message again first.
	c3 = dialHandshake(t, addr, handshake(3, "127.0.0.1:1"))
	defer c3.Close()
	_ = c3.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c3, frame[:]); err != nil || string(frame[4:]) != "hello" {
		t.Fatalf("resent frame %q %v", frame, err)
	}
}

package gozkdiff

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/jute"
)

// rawSession is a client connection speaking jute directly, so that requests can be pipelined without waiting.
type rawSession struct {
	nc net.Conn
	br *bufio.Reader
}

func frameOf(recs ...jute.Record) []byte {
	e := jute.Encoder{Buf: make([]byte, 4, 64)}
	for _, r := range recs {
		r.Encode(&e)
	}
	binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
	return e.Buf
}

func dialRaw(t *testing.T, addr string) *rawSession {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := &rawSession{nc: nc, br: bufio.NewReader(nc)}
	_ = nc.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := nc.Write(frameOf(&jute.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.frame(); err != nil {
		t.Fatalf("connect response: %v", err)
	}
	return s
}

func (s *rawSession) frame() ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(s.br, n[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(n[:]))
	_, err := io.ReadFull(s.br, b)
	return b, err
}

// creates pipelines n creates of /<prefix>-<i> in one write.
func (s *rawSession) creates(t *testing.T, prefix string, n int) {
	t.Helper()
	var buf []byte
	acl := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	for i := range n {
		buf = append(buf, frameOf(&jute.RequestHeader{Xid: int32(i + 1), Type: jute.OpCreate},
			&jute.CreateRequest{Path: fmt.Sprintf("/%s-%d", prefix, i), Data: []byte("x"), ACL: acl})...)
	}
	if _, err := s.nc.Write(buf); err != nil {
		t.Fatal(err)
	}
}

// throttledOpScenario checks what must hold on any server with request_throttle_max_requests=1 and
// throttled_op_wait_time=1: of 1000 pipelined creates every one is answered in order, OK or THROTTLEDOP (some
// of them); only the OK ones exist; mntr counts the throttled ones, the throttler's waits and every queue time.
func throttledOpScenario(t *testing.T, addr string) {
	s := dialRaw(t, addr)
	defer s.nc.Close()
	const n = 1000
	s.creates(t, "t", n)
	ok, throttled := 0, 0
	for i := range n {
		b, err := s.frame()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		d := jute.NewDecoder(b)
		var h jute.ReplyHeader
		h.Decode(d)
		if h.Xid != int32(i+1) {
			t.Fatalf("reply %d has xid %d", i, h.Xid)
		}
		switch jute.Err(h.Err) {
		case jute.ErrOK:
			ok++
		case jute.ErrThrottledOp:
			throttled++
		default:
			t.Fatalf("reply %d: error %d", i, h.Err)
		}
	}
	// The first requests usually get through; on a loaded machine even they may wait past the millisecond.
	if throttled == 0 {
		t.Errorf("%d OK and no THROTTLEDOP of %d", ok, n)
	}
	if got := mntrValue(t, addr, "throttled_ops"); got != strconv.Itoa(throttled) {
		t.Errorf("throttled_ops %s, %d answered THROTTLEDOP", got, throttled)
	}
	if w, _ := strconv.Atoi(mntrValue(t, addr, "request_throttle_wait_count")); w == 0 {
		t.Error("request_throttle_wait_count 0")
	}
	if c, _ := strconv.Atoi(mntrValue(t, addr, "cnt_request_throttle_queue_time_ms")); c < n {
		t.Errorf("request_throttle_queue_time_ms counted %d of %d", c, n)
	}
	// Only what was answered OK was created: besides them, the root and /zookeeper's few nodes.
	nodes, _ := strconv.Atoi(mntrValue(t, addr, "znode_count"))
	if base := nodes - ok; base < 2 || base > 6 {
		t.Errorf("%d znodes after %d creates answered OK", nodes, ok)
	}
	t.Logf("%d OK, %d THROTTLEDOP", ok, throttled)
}

// staleScenario: with request_throttle_max_requests=1, 3000 creates sent by a connection that then closes wait
// in the throttler behind each other's fsync; the first one found stale is dropped (counted once), its connection
// marked invalid, and every later one dropped silently: far fewer than 3000 znodes are made.
func staleScenario(t *testing.T, addr string) {
	gone := dialRaw(t, addr)
	gone.creates(t, "g", 3000)
	gone.nc.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if d, _ := strconv.Atoi(mntrValue(t, addr, "stale_requests_dropped")); d > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no stale request dropped")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if d := mntrValue(t, addr, "stale_requests_dropped"); d != "1" {
		t.Errorf("stale_requests_dropped %s, want 1 (later requests of the connection are dropped uncounted)", d)
	}
	nodes, _ := strconv.Atoi(mntrValue(t, addr, "znode_count"))
	if nodes > 2000 {
		t.Errorf("%d znodes: the closed connection's requests went on", nodes)
	}
	t.Logf("%d znodes made before the drop", nodes)
}

// TestRequestThrottlerDifferential runs the throttler's scenarios on Apache 3.8 and on zkserver with the same
// system properties. Its answers are timing-dependent, so both servers are held to the same invariants rather
// than compared line by line.
func TestRequestThrottlerDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	for _, c := range []struct {
		name     string
		flags    []string
		scenario func(*testing.T, string)
	}{
		{"throttled-ops", []string{"-Dzookeeper.request_throttle_max_requests=1", "-Dzookeeper.throttled_op_wait_time=1",
			"-Dzookeeper.request_throttle_stall_time=50"}, throttledOpScenario},
		{"stale", []string{"-Dzookeeper.request_throttle_max_requests=1"}, staleScenario},
	} {
		t.Run(c.name, func(t *testing.T) {
			apache, ours := startPair(t, harness.Config{JVMFlags: c.flags})
			t.Run("apache", func(t *testing.T) { c.scenario(t, apache.Addr()) })
			t.Run("zkserver", func(t *testing.T) { c.scenario(t, ours.Addr()) })
		})
	}
}

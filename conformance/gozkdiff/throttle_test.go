package gozkdiff

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/conformance/internal/zkwire"
	"github.com/zkafka/zkafka/jute"
)

// dialPipelined opens a session that sends nothing by itself (no pings), so that its replies are those of the
// requests pipelined with pipelineCreates, read back as zkwire's stray replies in order.
func dialPipelined(t *testing.T, addr string) *zkwire.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := zkwire.Dial(ctx, addr, zkwire.Options{Timeout: 30 * time.Second, NoPing: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pipelineCreates writes n creates of /<prefix>-<i> (xids 1..n) in one write.
func pipelineCreates(t *testing.T, c *zkwire.Conn, prefix string, n int) {
	t.Helper()
	acl := []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}
	var buf []byte
	for i := range n {
		e := jute.Encoder{Buf: make([]byte, 4, 64)}
		(&jute.RequestHeader{Xid: int32(i + 1), Type: jute.OpCreate}).Encode(&e)
		(&jute.CreateRequest{Path: fmt.Sprintf("/%s-%d", prefix, i), Data: []byte("x"), ACL: acl}).Encode(&e)
		binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
		buf = append(buf, e.Buf...)
	}
	if err := c.WriteRaw(buf); err != nil {
		t.Fatal(err)
	}
}

// throttledOpScenario checks what must hold on any server with request_throttle_max_requests=1 and
// throttled_op_wait_time=1: of 1000 pipelined creates every one is answered in order, OK or THROTTLEDOP (some
// of them); only the OK ones exist; mntr counts the throttled ones, the throttler's waits and every queue time.
func throttledOpScenario(t *testing.T, addr string) {
	s := dialPipelined(t, addr)
	defer s.CloseNoSession()
	const n = 1000
	pipelineCreates(t, s, "t", n)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if got := s.WaitEvents(ctx, n-1); got < n {
		t.Fatalf("%d replies of %d", got, n)
	}
	ok, throttled := 0, 0
	for i, ev := range s.Events(0)[:n] {
		if ev.Stray == nil {
			t.Fatalf("reply %d is a watch event", i)
		}
		h := ev.Stray.Hdr
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
	gone := dialPipelined(t, addr)
	pipelineCreates(t, gone, "g", 3000)
	gone.CloseNoSession()
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

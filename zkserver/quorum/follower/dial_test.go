package follower

import (
	"context"
	"net"
	"testing"
	"time"
)

// A leader that is gone (an observer can be told of one by voters that are looking) is given up after
// Learner.connectToLeader's five tries, not only when the connect limit runs out, so the learner soon looks
// again.
func TestDialGivesUpAfterFiveTries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connections to addr are refused from now on

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := dial(ctx, nil, addr, time.Hour, 10*time.Millisecond)
	if err == nil {
		conn.Close()
		t.Fatal("dial of a closed port succeeded")
	}
	if ctx.Err() != nil {
		t.Fatalf("dial kept trying for the whole connect limit: %v", err)
	}
}

// A leader that starts listening between two tries is reached.
func TestDialRetriesUntilLeaderListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		c, err := dial(context.Background(), nil, addr, time.Minute, 300*time.Millisecond)
		done <- result{c, err}
	}()
	// The first try is refused; the next one, a delay later, finds the listener.
	time.Sleep(100 * time.Millisecond)
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer ln.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("dial after the leader started listening: %v", r.err)
	}
	r.conn.Close()
}

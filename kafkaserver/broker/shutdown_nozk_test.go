package broker

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// zkProxy forwards connections to a ZooKeeper server until cut, which drops them all: the broker then sees
// ZooKeeper go away without the server's process being touched.
type zkProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startZKProxy(t *testing.T, target string) *zkProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &zkProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *zkProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A broker told to stop while ZooKeeper is away stops (Kafka's would wait for ZooKeeper in its controlled
// shutdown): no controller can move leadership without ZooKeeper.
func TestCloseWithoutZooKeeper(t *testing.T) {
	c := newCluster(t)
	proxy := startZKProxy(t, c.zk)
	c.zk = proxy.ln.Addr().String()
	b := c.start()
	proxy.cut()
	// Wait until the broker has noticed, so Close meets a disconnected client.
	c.waitFor("ZooKeeper disconnect", func() bool { return !b.ZK().Connected() })
	done := make(chan error, 1)
	go func() { done <- b.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Logf("close: %v", err)
		}
	case <-time.After(2 * time.Minute):
		// A liveness guard, not a speed check: before the fix Close never returned.
		t.Fatal("Close did not return while ZooKeeper was away")
	}
}

package kwire

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Admitter decides whether an accepted connection is served: Kafka's ConnectionQuotas, as the listener's acceptor
// consults it (kafkaserver/connquota implements it).
type Admitter interface {
	// Admit is called by the accept loop for each connection before anything is read from it; it may block (a
	// connection slot, a connection-rate delay), holding up the listener's accepts as Kafka's acceptor is held.
	Admit(ctx context.Context, listener string, addr netip.Addr) (Admission, error)
	// Release is called once when an admitted connection has closed.
	Release(listener string, addr netip.Addr)
	// Exceeded reports that the broker holds more connections than it allows and the listener must close its least
	// recently used one (an inter-broker listener admitted past the broker-wide limit).
	Exceeded(listener string) bool
}

// Admission is an Admitter's verdict.
type Admission struct {
	// Refused closes the connection at once, logging Reason at INFO (Kafka's TooManyConnectionsException).
	Refused bool
	Reason  string
	// CloseAt, when set, keeps the socket open and unread until then and closes it (an IP over its connection
	// creation rate: Kafka's ConnectionThrottledException delays the close, so that the client backs off).
	CloseAt time.Time
}

// excessCheckInterval is how often a listener with an Admitter checks Exceeded: Kafka's processors check on every
// poll, which waits at most 300 ms.
const excessCheckInterval = 100 * time.Millisecond

// connSet is a listener's open connections, for closing the least recently used one.
type connSet struct {
	mu    sync.Mutex
	conns map[*conn]struct{}
}

func (cs *connSet) add(c *conn) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.conns == nil {
		cs.conns = map[*conn]struct{}{}
	}
	cs.conns[c] = struct{}{}
}

func (cs *connSet) remove(c *conn) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.conns, c)
}

// lru is the connection with the oldest activity (Kafka's Selector.lowestPriorityChannel), skipping those already
// closing.
func (cs *connSet) lru() *conn {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var oldest *conn
	for c := range cs.conns {
		if c.ctx.Err() != nil {
			continue
		}
		if oldest == nil || c.lastActive.Load() < oldest.lastActive.Load() {
			oldest = c
		}
	}
	return oldest
}

// remoteIP is the connection's peer address for admission; the zero Addr when it is not TCP.
func remoteIP(nc net.Conn) netip.Addr {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// admit runs the Admitter for a new connection; false means the accept loop is done with it (refused, throttled,
// or the server closing).
func (s *Server) admit(nc net.Conn, ip netip.Addr) bool {
	a := s.cfg.Admission
	v, err := a.Admit(s.ctx, s.cfg.ListenerName, ip)
	if err != nil {
		_ = nc.Close()
		return false
	}
	switch {
	case v.Refused:
		s.log.Info(v.Reason)
		_ = nc.Close()
		return false
	case !v.CloseAt.IsZero():
		s.log.Debug("delaying the close of a throttled connection", "remote", nc.RemoteAddr(), "until", v.CloseAt)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTimer(time.Until(v.CloseAt))
			defer t.Stop()
			select {
			case <-t.C:
			case <-s.ctx.Done():
			}
			_ = nc.Close()
		}()
		return false
	}
	return true
}

// closeExcess closes the least recently used connection while the Admitter says the broker holds too many.
func (s *Server) closeExcess() {
	defer s.wg.Done()
	t := time.NewTicker(excessCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
		if !s.cfg.Admission.Exceeded(s.cfg.ListenerName) {
			continue
		}
		if c := s.conns.lru(); c != nil {
			c.log.Info("closing the least recently used connection: the broker is over max.connections")
			c.cancel()
		}
	}
}

// Package kwire is the Kafka wire layer: it accepts TCP connections on one listener, reads
// size-prefixed frames, decodes request headers and kmsg bodies, answers ApiVersions from the
// broker's version table, dispatches everything else to handlers registered on a Mux, and
// writes responses in request order.
//
// Behaviour follows Kafka 2.8's SocketServer: a frame larger than socket.request.max.bytes, a
// request for an API key that is not enabled, a version outside the advertised range, or a body
// that does not decode closes the connection (responses to earlier requests are written
// first); an ApiVersions request newer than supported gets a v0 UNSUPPORTED_VERSION response
// listing the ApiVersions range.
package kwire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Defaults, from Kafka's KafkaConfig where one exists.
const (
	DefaultMaxRequestBytes    int32 = 104857600        // socket.request.max.bytes
	DefaultConnectionsMaxIdle       = 10 * time.Minute // connections.max.idle.ms
	DefaultMaxInFlight              = 100
)

// Config configures one listener.
type Config struct {
	Addr         string // host:port to bind; port 0 picks a free port
	ListenerName string // e.g. "PLAINTEXT"; reported in RequestContext and metrics
	// MaxRequestBytes is socket.request.max.bytes; 0 means DefaultMaxRequestBytes.
	MaxRequestBytes int32
	// Versions is the broker's version table (key -> [min, max]); nil means DefaultVersions().
	// What is served is capped to the keys and versions the Mux has handlers for.
	Versions map[int16][2]int16
	// MaxInFlight bounds requests read but not yet answered per connection; when reached the
	// server stops reading that connection (TCP back-pressure). 0 means DefaultMaxInFlight; 1
	// gives Kafka's strict one-request-at-a-time behaviour.
	MaxInFlight int
	// ConnectionsMaxIdle closes connections with no traffic and nothing in flight for this
	// long (connections.max.idle.ms). 0 means DefaultConnectionsMaxIdle; negative disables.
	ConnectionsMaxIdle time.Duration
	// ApiVersionsHook, if set, may amend a successful ApiVersions response (features,
	// throttle) before it is sent.
	ApiVersionsHook func(rc *RequestContext, resp *kmsg.ApiVersionsResponse)
	// Handled, if set, sees every request answered after authentication (by a handler, or ApiVersions and the
	// SASL requests kwire answers itself) with its response, before the response is queued to be written: where
	// the broker's request quota records the request's time and sets its throttle. It runs on the handler's
	// goroutine; resp is nil for a request without a response (acks=0).
	Handled func(rc *RequestContext, req kmsg.Request, resp kmsg.Response)
	// RequestMetrics, if set, records where each request's time went (shared by a broker's listeners).
	RequestMetrics *RequestMetrics
	// SASL, if set, requires SASL authentication on this listener (SASL_PLAINTEXT). Without it, SaslHandshake and
	// SaslAuthenticate are answered ILLEGAL_SASL_STATE, as on Kafka's PLAINTEXT listeners.
	SASL *SASLConfig
	// SendBufferBytes and ReceiveBufferBytes are socket.send.buffer.bytes and socket.receive.buffer.bytes: the
	// SO_SNDBUF of each accepted socket and the SO_RCVBUF of the listening one (which accepted sockets inherit),
	// as Kafka's Acceptor sets them. 0 or -1 leaves the OS default (with its autotuning).
	SendBufferBytes, ReceiveBufferBytes int
	// TLS, if set, serves the listener over TLS (SSL, SASL_SSL): each connection's handshake runs before its first
	// request. TLSPrincipal names the principal of a client that presented a certificate (ssl.client.auth); an
	// error (no ssl.principal.mapping.rules rule applies) closes the connection. Without a certificate, or without
	// TLSPrincipal, the principal is User:ANONYMOUS, as on Kafka's SSL listeners.
	TLS          *tls.Config
	TLSPrincipal func(*x509.Certificate) (string, error)
	// Admission, if set, admits each accepted connection (Kafka's connection quotas: max.connections.per.ip,
	// max.connections, connection creation rates) and is told when it closes.
	Admission Admitter
	Logger    *slog.Logger
}

// Server is a running listener.
type Server struct {
	cfg      Config
	ln       net.Listener
	routes   map[int16]route
	versions map[int16][2]int16
	log      *slog.Logger
	metrics  *Metrics

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	connID atomic.Uint64

	closeOnce sync.Once
	closeErr  error

	bigBufs bufPool // large buffers (responses, handlers' scratch), for reuse by any connection
	conns   connSet // open connections, kept when there is an Admitter (to close the least recently used)
}

// Listen binds cfg.Addr and starts accepting connections served by mux.
func Listen(cfg Config, mux *Mux) (*Server, error) {
	if mux == nil {
		return nil, errors.New("kwire: nil mux")
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if cfg.Versions == nil {
		cfg.Versions = DefaultVersions()
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.ConnectionsMaxIdle == 0 {
		cfg.ConnectionsMaxIdle = DefaultConnectionsMaxIdle
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	lc := net.ListenConfig{}
	if cfg.ReceiveBufferBytes > 0 {
		// Set before listen(2), so that the window scale offered to clients fits the buffer.
		lc.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			if err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, cfg.ReceiveBufferBytes)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("kwire: listen %s (%s): %w", cfg.Addr, cfg.ListenerName, err)
	}
	routes := mux.snapshot()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:      cfg,
		ln:       ln,
		routes:   routes,
		versions: effectiveVersions(cfg.Versions, routes),
		log:      cfg.Logger.With("listener", cfg.ListenerName),
		metrics:  &Metrics{listener: cfg.ListenerName},
		ctx:      ctx,
		cancel:   cancel,
	}
	s.wg.Add(1)
	go s.acceptLoop()
	if cfg.Admission != nil {
		s.wg.Add(1)
		go s.closeExcess()
	}
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Versions returns the advertised table (what ApiVersions lists and what is accepted).
func (s *Server) Versions() map[int16][2]int16 {
	out := make(map[int16][2]int16, len(s.versions))
	for k, v := range s.versions {
		out[k] = v
	}
	return out
}

// Metrics returns the server's counters; the value is a prometheus.Collector.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Close stops accepting, closes every connection, cancels handler contexts and waits for
// handlers to return.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = fmt.Errorf("kwire: close listener %s: %w", s.cfg.ListenerName, err)
		}
		s.wg.Wait()
	})
	return s.closeErr
}

// setSendBuffer applies socket.send.buffer.bytes to an accepted connection.
func (s *Server) setSendBuffer(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok && s.cfg.SendBufferBytes > 0 {
		if err := tc.SetWriteBuffer(s.cfg.SendBufferBytes); err != nil {
			s.log.Warn("set socket send buffer", "err", err)
		}
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (e.g. too many open files): back off like net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		var ip netip.Addr // the peer's, for the Admitter only
		if s.cfg.Admission != nil {
			if ip = remoteIP(nc); !s.admit(nc, ip) {
				continue
			}
		}
		s.setSendBuffer(nc)
		if s.cfg.TLS != nil {
			nc = tls.Server(nc, s.cfg.TLS)
		}
		s.metrics.ConnectionsAccepted.Add(1)
		s.metrics.ConnectionsActive.Add(1)
		c := newConn(s, nc, s.connID.Add(1)-1)
		if s.cfg.Admission != nil {
			c.admitted, c.ip = true, ip
			s.conns.add(c)
		}
		s.wg.Add(2)
		go c.readLoop()
		go c.writeLoop()
	}
}

package zkmeta

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/compat/javanet"
)

// MatchAnyVersion matches any znode version in conditional writes (ZkVersion.MatchAnyVersion).
const MatchAnyVersion int32 = -1

// SessionEventKind says what happened to the ZooKeeper session.
type SessionEventKind int

const (
	// SessionConnected: the first session is established.
	SessionConnected SessionEventKind = iota
	// SessionDisconnected: the connection dropped; the session may still be alive.
	SessionDisconnected
	// SessionReconnected: the connection is back with the same session (ephemerals and watches kept).
	SessionReconnected
	// SessionExpired: the server expired the session; its ephemerals and watches are gone.
	SessionExpired
	// SessionNewSession: a new session replaced an expired one; re-register ephemerals (the broker znode) and
	// re-run controller election, as Kafka's RegisterBrokerAndReelect does.
	SessionNewSession
)

func (k SessionEventKind) String() string {
	switch k {
	case SessionConnected:
		return "connected"
	case SessionDisconnected:
		return "disconnected"
	case SessionReconnected:
		return "reconnected"
	case SessionExpired:
		return "expired"
	case SessionNewSession:
		return "new-session"
	}
	return fmt.Sprintf("SessionEventKind(%d)", int(k))
}

// SessionEvent reports a session state change.
type SessionEvent struct {
	Kind      SessionEventKind
	SessionID int64
}

// Option configures Connect.
type Option func(*options)

type options struct {
	dialer         zk.Dialer
	connectTimeout time.Duration
	secure         bool
	sasl           *saslLogin
	resolver       javanet.Resolver
}

// WithTLS reaches ZooKeeper over TLS (zookeeper.ssl.client.enable): each connection is verified against the host
// it dials, as ServerName.
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) {
		o.dialer = func(network, address string, timeout time.Duration) (net.Conn, error) {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			c := cfg.Clone()
			c.ServerName = host
			return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, c)
		}
	}
}

// WithSecureACLs creates every znode with Kafka's secure ACLs (zookeeper.set.acl=true): see DefaultACL.
func WithSecureACLs() Option { return func(o *options) { o.secure = true } }

// WithDialer sets the dialer used to reach ZooKeeper (tests use it to cut connections).
func WithDialer(d zk.Dialer) Option { return func(o *options) { o.dialer = d } }

// WithConnectTimeout bounds how long Connect waits for the first session (zookeeper.connection.timeout.ms;
// defaults to the session timeout, as in Kafka).
func WithConnectTimeout(d time.Duration) Option { return func(o *options) { o.connectTimeout = d } }

// Client is a ZooKeeper session holding Kafka's metadata, with chroot applied to every path.
type Client struct {
	conn   *zk.Conn
	chroot string
	log    *slog.Logger
	secure bool // zookeeper.set.acl

	sessionEvents chan SessionEvent
	done          chan struct{}
	closeOnce     sync.Once

	mu          sync.Mutex
	lastSession int64
	connected   chan struct{} // closed while a session is established
	// regSession is the session that last created a checked ephemeral (KAFKA-7165 workaround).
	regSession int64
}

type zkLogger struct{ l *slog.Logger }

func (z zkLogger) Printf(format string, args ...any) { z.l.Debug(fmt.Sprintf(format, args...)) }

// ParseConnect splits "h:p,h:p/chroot" into servers and chroot ("" when none or "/").
func ParseConnect(connect string) (servers []string, chroot string, err error) {
	hosts := connect
	if i := strings.Index(connect, "/"); i >= 0 {
		hosts, chroot = connect[:i], strings.TrimRight(connect[i:], "/")
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			servers = append(servers, h)
		}
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("zookeeper connect %q: no servers", connect)
	}
	if strings.Contains(chroot, "//") {
		return nil, "", fmt.Errorf("zookeeper connect %q: invalid chroot", connect)
	}
	return servers, chroot, nil
}

// Connect opens a session to connect ("h:p,h:p/chroot"), waits until it is established, and makes sure the chroot
// exists, as KafkaServer.initZkClient does.
func Connect(connect string, sessionTimeout time.Duration, logger *slog.Logger, opts ...Option) (*Client, error) {
	if logger == nil {
		logger = slog.Default()
	}
	o := options{connectTimeout: sessionTimeout}
	for _, f := range opts {
		f(&o)
	}
	servers, chroot, err := ParseConnect(connect)
	if err != nil {
		return nil, err
	}
	dialer := o.dialer
	if dialer == nil {
		dialer = net.DialTimeout
	}
	authFailed := make(chan struct{}) // never closed without SASL
	if o.sasl != nil {
		o.sasl.failed = authFailed
		dialer = o.sasl.dialer(dialer)
	}
	var hosts zk.HostProvider = zk.NewDNSHostProvider()
	if o.sasl != nil && o.sasl.hosts != nil {
		o.sasl.hosts.r = o.resolver
		hosts = o.sasl.hosts
	}
	conn, events, err := zk.Connect(servers, sessionTimeout, zk.WithLogger(zkLogger{logger}), zk.WithLogInfo(false),
		zk.WithDialer(dialer), zk.WithHostProvider(hosts))
	if err != nil {
		return nil, fmt.Errorf("zookeeper connect %q: %w", connect, err)
	}
	c := &Client{
		conn:          conn,
		log:           logger.With("component", "zkmeta"),
		secure:        o.secure,
		sessionEvents: make(chan SessionEvent, 64),
		done:          make(chan struct{}),
		connected:     make(chan struct{}),
	}
	go c.watchSession(events)
	select {
	case <-c.connectedCh():
	case <-authFailed:
		c.Close()
		// ZooKeeperClient.waitUntilConnected's ZooKeeperClientAuthFailedException.
		return nil, fmt.Errorf("zookeeper connect %q: Auth failed either before or while waiting for connection: %w",
			connect, o.sasl.err)
	case <-time.After(o.connectTimeout):
		c.Close()
		return nil, fmt.Errorf("zookeeper connect %q: no session after %v: %w", connect, o.connectTimeout, zk.ErrNoServer)
	}
	if chroot != "" {
		// Created before the prefix applies, so the path is absolute on the server.
		if err := c.createRecursive(chroot, nil, false); err != nil {
			c.Close()
			return nil, fmt.Errorf("create chroot %s: %w", chroot, err)
		}
		c.chroot = chroot
	}
	return c, nil
}

func (c *Client) connectedCh() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}

func (c *Client) watchSession(events <-chan zk.Event) {
	for ev := range events {
		if ev.Type != zk.EventSession {
			continue
		}
		var out *SessionEvent
		c.mu.Lock()
		switch ev.State {
		case zk.StateHasSession:
			sid := c.conn.SessionID()
			kind := SessionConnected
			switch {
			case c.lastSession == 0:
			case c.lastSession == sid:
				kind = SessionReconnected
			default:
				kind = SessionNewSession
			}
			c.lastSession = sid
			select {
			case <-c.connected:
			default:
				close(c.connected)
			}
			out = &SessionEvent{kind, sid}
		case zk.StateDisconnected, zk.StateExpired:
			select {
			case <-c.connected:
				c.connected = make(chan struct{})
			default:
			}
			if ev.State == zk.StateExpired {
				out = &SessionEvent{SessionExpired, c.lastSession}
			} else if c.lastSession != 0 {
				out = &SessionEvent{SessionDisconnected, c.lastSession}
			}
		}
		c.mu.Unlock()
		if out != nil {
			c.log.Info("zookeeper session", "event", out.Kind.String(), "session", fmt.Sprintf("0x%x", out.SessionID))
			select {
			case c.sessionEvents <- *out:
			default:
				c.log.Warn("session event dropped: nobody reads SessionEvents", "event", out.Kind.String())
			}
		}
	}
	close(c.sessionEvents)
}

// Connected reports whether the client holds a live session now (operations made while it does not wait for one).
func (c *Client) Connected() bool {
	select {
	case <-c.connectedCh():
		return true
	default:
		return false
	}
}

// SessionEvents delivers session changes; it is closed when the client is closed.
func (c *Client) SessionEvents() <-chan SessionEvent { return c.sessionEvents }

// SessionID is the current session id (0 while none).
func (c *Client) SessionID() int64 { return c.conn.SessionID() }

// Chroot is the chroot every path is under ("" for none).
func (c *Client) Chroot() string { return c.chroot }

// Close ends the session (its ephemerals go at once).
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.conn.Close()
	})
}

func (c *Client) full(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == "/" {
		return c.chroot
	}
	return c.chroot + p
}

func (c *Client) strip(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == c.chroot {
		return "/"
	}
	if strings.HasPrefix(p, c.chroot+"/") {
		return p[len(c.chroot):]
	}
	return p
}

// retry reissues a request that failed because the connection dropped, as retryRequestsUntilConnected does;
// requests made while disconnected wait in the client until a session is back.
func retry[T any](c *Client, f func() (T, error)) (T, error) {
	for {
		v, err := f()
		if !errors.Is(err, zk.ErrConnectionClosed) && !errors.Is(err, zk.ErrNoServer) {
			return v, err
		}
		select {
		case <-c.done:
			return v, err
		case <-c.connectedCh():
		}
	}
}

// Get reads a znode.
func (c *Client) Get(path string) ([]byte, *zk.Stat, error) {
	type r struct {
		b []byte
		s *zk.Stat
	}
	v, err := retry(c, func() (r, error) {
		b, s, err := c.conn.Get(c.full(path))
		return r{b, s}, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("get %s: %w", path, err)
	}
	return v.b, v.s, nil
}

// Exists reports whether a znode exists.
func (c *Client) Exists(path string) (bool, *zk.Stat, error) {
	type r struct {
		ok bool
		s  *zk.Stat
	}
	v, err := retry(c, func() (r, error) {
		ok, s, err := c.conn.Exists(c.full(path))
		return r{ok, s}, err
	})
	if err != nil {
		return false, nil, fmt.Errorf("exists %s: %w", path, err)
	}
	return v.ok, v.s, nil
}

// Children lists a znode's children (unsorted, as ZooKeeper returns them).
func (c *Client) Children(path string) ([]string, error) {
	v, err := retry(c, func() ([]string, error) {
		ch, _, err := c.conn.Children(c.full(path))
		return ch, err
	})
	if err != nil {
		return nil, fmt.Errorf("children %s: %w", path, err)
	}
	return v, nil
}

// Set writes a znode's data if its version matches (MatchAnyVersion: any).
func (c *Client) Set(path string, data []byte, version int32) (*zk.Stat, error) {
	s, err := retry(c, func() (*zk.Stat, error) { return c.conn.Set(c.full(path), data, version) })
	if err != nil {
		return nil, fmt.Errorf("set %s: %w", path, err)
	}
	return s, nil
}

// Create creates a znode (flags: zk.FlagEphemeral, zk.FlagSequence, ...) and returns its chroot-relative path.
func (c *Client) Create(path string, data []byte, flags int32) (string, error) {
	p, err := retry(c, func() (string, error) { return c.conn.Create(c.full(path), data, flags, DefaultACL(c.secure, path)) })
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	return c.strip(p), nil
}

// Delete deletes a znode if its version matches.
func (c *Client) Delete(path string, version int32) error {
	_, err := retry(c, func() (struct{}, error) { return struct{}{}, c.conn.Delete(c.full(path), version) })
	if err != nil {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	return nil
}

// Multi runs ops (*zk.CreateRequest, *zk.SetDataRequest, *zk.DeleteRequest, *zk.CheckVersionRequest, with
// chroot-relative paths) atomically. The error is the first failing op's; responses carry per-op results.
func (c *Client) Multi(ops ...any) ([]zk.MultiResponse, error) {
	full := make([]any, len(ops))
	for i, op := range ops {
		switch o := op.(type) {
		case *zk.CreateRequest:
			cp := *o
			cp.Path = c.full(o.Path)
			if cp.Acl == nil {
				cp.Acl = DefaultACL(c.secure, o.Path)
			}
			full[i] = &cp
		case *zk.SetDataRequest:
			cp := *o
			cp.Path = c.full(o.Path)
			full[i] = &cp
		case *zk.DeleteRequest:
			cp := *o
			cp.Path = c.full(o.Path)
			full[i] = &cp
		case *zk.CheckVersionRequest:
			cp := *o
			cp.Path = c.full(o.Path)
			full[i] = &cp
		default:
			return nil, fmt.Errorf("multi: unsupported op %T", op)
		}
	}
	res, err := retry(c, func() ([]zk.MultiResponse, error) { return c.conn.Multi(full...) })
	for i := range res {
		if res[i].String != "" {
			res[i].String = c.strip(res[i].String)
		}
	}
	if err != nil {
		return res, fmt.Errorf("multi: %w", err)
	}
	return res, nil
}

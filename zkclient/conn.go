// Package zkclient is a ZooKeeper 3.8 client speaking the Jute wire protocol
// directly. Unlike github.com/go-zookeeper/zk it exposes raw replies (reply
// headers, undecoded bodies, server error codes) and the newer opcodes
// (addWatch, whoAmI, getEphemerals, getAllChildrenNumber, multiRead,
// checkWatches/removeWatches, setWatches2), so it can drive differential tests
// against Apache ZooKeeper as well as the zkcli tool.
//
// A Conn is one TCP connection carrying one session. It does not reconnect on
// its own: callers that want to resume a session use DialSession.
package zkclient

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// ErrClosed is returned for requests made after Close or CloseNoSession, and
// for requests that were pending when the caller closed the connection.
var ErrClosed = errors.New("zkclient: connection closed")

// ErrConnectionLoss wraps transport failures; errors.Is(err,
// jute.ErrConnectionLoss) also holds for them, as in the Java client.
var ErrConnectionLoss = fmt.Errorf("zkclient: %w", jute.ErrConnectionLoss)

// Keeper states as the Java client names them; the server only ever sends
// SyncConnected, the others are client-side.
const (
	StateDisconnected     int32 = 0
	StateSyncConnected    int32 = 3
	StateAuthFailed       int32 = 4
	StateConnectedRO      int32 = 5
	StateExpired          int32 = -112
	StateClosed           int32 = 7
	defaultSessionTimeout       = 30 * time.Second
	defaultConnectTimeout       = 10 * time.Second
)

// Options configures Dial.
type Options struct {
	// SessionTimeout is the requested session timeout (default 30s); the server
	// clamps it and Timeout reports the negotiated value.
	SessionTimeout time.Duration
	// ConnectTimeout bounds TCP connect plus handshake, and Close's wait for the
	// closeSession reply (default 10s).
	ConnectTimeout time.Duration
	// ReadOnly asks for a read-only-capable session (sends readOnly=true; implies
	// SendReadOnlyByte).
	ReadOnly bool
	// SendReadOnlyByte appends the readOnly byte to ConnectRequest as the Java
	// client does (45-byte request); go-zookeeper omits it (44 bytes).
	SendReadOnlyByte bool
	// LastZxidSeen is sent in ConnectRequest (DialSession callers pass the
	// previous connection's LastZxid).
	LastZxidSeen int64
	// MaxFrame bounds an inbound frame (default jute.DefaultMaxBuffer, 0xfffff).
	MaxFrame int
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
}

// Event is one watch notification as received (Zxid is the reply header's
// zxid: -1 from a 3.8 server, the triggering txn's zxid from 3.9). Paths are
// relative to the chroot, if any.
type Event struct {
	Zxid int64
	jute.WatcherEvent
}

type result struct {
	hdr  jute.ReplyHeader
	body []byte
	err  error
}

type call struct {
	xid  int32
	op   int32
	done chan result
}

// Conn is one connection and its session. All methods are safe for concurrent
// use; requests are answered in the order they were written.
type Conn struct {
	addr    string
	chroot  string
	opt     Options
	log     *slog.Logger
	nc      net.Conn
	timeout time.Duration // negotiated
	sid     int64
	passwd  []byte
	roSrv   bool // server said it is read-only

	writeMu sync.Mutex // orders xid assignment, pending append and the socket write
	bw      *bufio.Writer
	xid     int32

	mu       sync.Mutex
	pending  []*call
	lastZxid int64
	err      error // set once the connection is finished
	closing  bool

	done   chan struct{}
	events *eventQueue
	wg     sync.WaitGroup
}

// Dial connects to addr ("host:port", optionally followed by a chroot such as
// "host:port/app"), creates a new session and returns once it is established.
func Dial(addr string, opt Options) (*Conn, error) {
	return DialSession(addr, 0, nil, opt)
}

// DialSession connects to addr and resumes session sessionID with its password
// (a zero sessionID creates a new session). An expired or unknown session is
// reported as an error wrapping jute.ErrSessionExpired, as the Java client
// maps the server's zero-timeout answer.
func DialSession(addr string, sessionID int64, passwd []byte, opt Options) (*Conn, error) {
	if opt.SessionTimeout <= 0 {
		opt.SessionTimeout = defaultSessionTimeout
	}
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = defaultConnectTimeout
	}
	if opt.MaxFrame <= 0 {
		opt.MaxFrame = jute.DefaultMaxBuffer
	}
	if opt.ReadOnly {
		opt.SendReadOnlyByte = true
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hostport, chroot, err := splitChroot(addr)
	if err != nil {
		return nil, err
	}
	nc, err := net.DialTimeout("tcp", hostport, opt.ConnectTimeout)
	if err != nil {
		return nil, fmt.Errorf("zkclient: dial %s: %w", hostport, err)
	}
	c := &Conn{
		addr:   hostport,
		chroot: chroot,
		opt:    opt,
		log:    log.With("server", hostport),
		nc:     nc,
		bw:     bufio.NewWriter(nc),
		done:   make(chan struct{}),
		events: newEventQueue(),
	}
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	if err := c.handshake(sessionID, passwd); err != nil {
		nc.Close()
		c.events.close()
		return nil, err
	}
	c.wg.Add(2)
	go c.readLoop()
	go c.pingLoop()
	return c, nil
}

func splitChroot(addr string) (hostport, chroot string, err error) {
	i := strings.IndexByte(addr, '/')
	if i < 0 {
		return addr, "", nil
	}
	hostport, chroot = addr[:i], addr[i:]
	if chroot == "/" {
		return hostport, "", nil
	}
	if err := ValidatePath(chroot, false); err != nil {
		return "", "", fmt.Errorf("zkclient: bad chroot in %q: %w", addr, err)
	}
	return hostport, chroot, nil
}

func (c *Conn) handshake(sessionID int64, passwd []byte) error {
	req := jute.ConnectRequest{
		ProtocolVersion: 0,
		LastZxidSeen:    c.opt.LastZxidSeen,
		TimeOut:         int32(c.opt.SessionTimeout / time.Millisecond),
		SessionID:       sessionID,
		Passwd:          passwd,
	}
	e := jute.Encoder{Buf: make([]byte, 4, 64)}
	req.Encode(&e)
	if c.opt.SendReadOnlyByte {
		e.Bool(c.opt.ReadOnly)
	}
	binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
	deadline := time.Now().Add(c.opt.ConnectTimeout)
	c.nc.SetDeadline(deadline)
	if _, err := c.nc.Write(e.Buf); err != nil {
		return fmt.Errorf("zkclient: send connect request: %w", err)
	}
	frame, err := jute.ReadFrame(c.nc, c.opt.MaxFrame)
	if err != nil {
		return fmt.Errorf("zkclient: read connect response: %w", err)
	}
	c.nc.SetDeadline(time.Time{})
	var resp jute.ConnectResponse
	d := jute.NewDecoder(frame)
	resp.Decode(d)
	if d.Err() != nil {
		return fmt.Errorf("zkclient: decode connect response: %w", d.Err())
	}
	if d.Remaining() >= 1 {
		c.roSrv = d.Byte() != 0
	}
	if resp.TimeOut <= 0 {
		return fmt.Errorf("zkclient: session 0x%x not accepted: %w", sessionID, jute.ErrSessionExpired)
	}
	c.timeout = time.Duration(resp.TimeOut) * time.Millisecond
	c.sid = resp.SessionID
	c.passwd = resp.Passwd
	c.lastZxid = c.opt.LastZxidSeen
	c.log.Debug("session established", "session", fmt.Sprintf("0x%x", c.sid), "timeout", c.timeout)
	return nil
}

// SessionID returns the session id the server assigned.
func (c *Conn) SessionID() int64 { return c.sid }

// Password returns the session password (16 bytes).
func (c *Conn) Password() []byte { return append([]byte(nil), c.passwd...) }

// Timeout returns the negotiated session timeout.
func (c *Conn) Timeout() time.Duration { return c.timeout }

// ReadOnlyServer reports whether the server answered the handshake as a
// read-only server (only known when the readOnly byte was sent).
func (c *Conn) ReadOnlyServer() bool { return c.roSrv }

// Server returns the "host:port" this connection dialed (without chroot).
func (c *Conn) Server() string { return c.addr }

// Chroot returns the client-side chroot ("" for none).
func (c *Conn) Chroot() string { return c.chroot }

// LastZxid returns the largest zxid seen in a reply header.
func (c *Conn) LastZxid() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastZxid
}

// Events returns watch notifications in arrival order. The channel is closed
// after the connection ends and every queued event has been received.
func (c *Conn) Events() <-chan Event { return c.events.out }

// Done is closed when the connection has ended; Err then tells why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended (nil while it is alive).
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// xidFor mirrors ClientCnxn: pings, auth and setWatches use fixed negative
// xids; everything else (closeSession included) a fresh positive one.
func (c *Conn) xidFor(op int32) int32 {
	switch op {
	case jute.OpPing:
		return jute.XidPing
	case jute.OpAuth:
		return jute.XidAuth
	case jute.OpSetWatches, jute.OpSetWatches2:
		return jute.XidSetWatches
	}
	c.xid++
	if c.xid <= 0 { // wrapped: Java restarts at 1 too
		c.xid = 1
	}
	return c.xid
}

// send writes one request and returns the call to wait on.
func (c *Conn) send(op int32, req jute.Record) (*call, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	cl := &call{op: op, done: make(chan result, 1)}
	cl.xid = c.xidFor(op)
	e := jute.Encoder{Buf: make([]byte, 4, 128)}
	h := jute.RequestHeader{Xid: cl.xid, Type: op}
	h.Encode(&e)
	if req != nil {
		req.Encode(&e)
	}
	binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))

	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	if c.closing && op != jute.OpCloseSession {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	// Register before writing: the reply may arrive before Write returns.
	c.pending = append(c.pending, cl)
	c.mu.Unlock()

	c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout()))
	if _, err := c.bw.Write(e.Buf); err == nil {
		err = c.bw.Flush()
		if err != nil {
			c.fail(fmt.Errorf("%w: write: %w", ErrConnectionLoss, err))
		}
	} else {
		c.fail(fmt.Errorf("%w: write: %w", ErrConnectionLoss, err))
	}
	return cl, nil
}

func (c *Conn) writeTimeout() time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	return c.opt.ConnectTimeout
}

// DoRaw sends one request and returns the reply header and the undecoded body
// (empty when the server sent none). err reports transport failures only; the
// ZooKeeper result is hdr.Err.
func (c *Conn) DoRaw(op int32, req jute.Record) (jute.ReplyHeader, []byte, error) {
	cl, err := c.send(op, req)
	if err != nil {
		return jute.ReplyHeader{}, nil, err
	}
	r := <-cl.done
	return r.hdr, r.body, r.err
}

// Do sends one request (req nil for bodiless ops such as ping and whoAmI) and
// decodes the reply body into resp when hdr.Err is 0 and resp is not nil.
func (c *Conn) Do(op int32, req jute.Record, resp jute.Record) (jute.ReplyHeader, error) {
	hdr, body, err := c.DoRaw(op, req)
	if err != nil || hdr.Err != 0 || resp == nil {
		return hdr, err
	}
	if err := jute.Unmarshal(body, resp); err != nil {
		return hdr, fmt.Errorf("zkclient: decode reply to op %d: %w", op, err)
	}
	return hdr, nil
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	// Java's readTimeout: two thirds of the session timeout without any
	// inbound traffic means the server is gone.
	readTimeout := c.timeout * 2 / 3
	for {
		c.nc.SetReadDeadline(time.Now().Add(readTimeout))
		frame, err := jute.ReadFrame(br, c.opt.MaxFrame)
		if err != nil {
			c.fail(fmt.Errorf("%w: read: %w", ErrConnectionLoss, err))
			return
		}
		d := jute.NewDecoder(frame)
		var hdr jute.ReplyHeader
		hdr.Decode(d)
		if d.Err() != nil {
			c.fail(fmt.Errorf("%w: short reply header: %w", ErrConnectionLoss, d.Err()))
			return
		}
		if hdr.Xid == jute.XidNotification {
			var ev Event
			ev.Zxid = hdr.Zxid
			ev.WatcherEvent.Decode(d)
			if d.Err() != nil {
				c.fail(fmt.Errorf("%w: bad notification: %w", ErrConnectionLoss, d.Err()))
				return
			}
			ev.Path = c.stripChroot(ev.Path)
			c.log.Debug("event", "type", ev.Type, "state", ev.State, "path", ev.Path, "zxid", hdr.Zxid)
			c.events.push(ev)
			continue
		}
		cl, err := c.match(hdr)
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrConnectionLoss, err))
			return
		}
		cl.done <- result{hdr: hdr, body: d.Rest()}
		if cl.op == jute.OpCloseSession {
			// The server closes the socket after this reply.
			c.fail(ErrClosed)
			return
		}
	}
}

// match pops the call a reply answers. The server answers requests in order,
// except auth replies, which it sends as soon as it reads the packet.
func (c *Conn) match(hdr jute.ReplyHeader) (*call, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hdr.Zxid > 0 && hdr.Zxid > c.lastZxid {
		c.lastZxid = hdr.Zxid
	}
	for i, cl := range c.pending {
		if cl.xid != hdr.Xid {
			if hdr.Xid >= 0 && cl.xid >= 0 {
				return nil, fmt.Errorf("xid out of order: got %d, expected %d", hdr.Xid, cl.xid)
			}
			continue
		}
		c.pending = append(c.pending[:i:i], c.pending[i+1:]...)
		return cl, nil
	}
	return nil, fmt.Errorf("reply with unexpected xid %d", hdr.Xid)
}

// fail ends the connection once: the socket is closed, pending calls get err
// and the event channel is closed after it drains.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	c.log.Debug("connection ended", "err", err)
	c.nc.Close()
	for _, cl := range pending {
		cl.done <- result{err: err}
	}
	close(c.done)
	c.events.close()
}

func (c *Conn) pingLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.timeout / 3)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if err := c.Ping(); err != nil {
				return
			}
		}
	}
}

// Ping sends a ping and waits for its reply.
func (c *Conn) Ping() error {
	hdr, err := c.Do(jute.OpPing, nil, nil)
	if err != nil {
		return err
	}
	return errCode(hdr.Err)
}

// Close closes the session (closeSession, waiting for the reply up to
// ConnectTimeout) and then the socket. Closing twice is harmless.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.err != nil || c.closing {
		c.mu.Unlock()
		c.wg.Wait()
		return nil
	}
	c.closing = true
	c.mu.Unlock()
	cl, err := c.send(jute.OpCloseSession, nil)
	var rerr error
	if err == nil {
		select {
		case r := <-cl.done:
			if r.err == nil {
				rerr = errCode(r.hdr.Err)
			} else if !errors.Is(r.err, ErrClosed) {
				rerr = r.err
			}
		case <-time.After(c.opt.ConnectTimeout):
			rerr = fmt.Errorf("zkclient: closeSession: no reply within %v", c.opt.ConnectTimeout)
		}
	} else if !errors.Is(err, ErrClosed) {
		rerr = err
	}
	c.fail(ErrClosed)
	c.wg.Wait()
	return rerr
}

// CloseNoSession drops the socket without closing the session, which then
// lives until it expires or is resumed with DialSession.
func (c *Conn) CloseNoSession() error {
	c.fail(ErrClosed)
	c.wg.Wait()
	return nil
}

// errCode turns a reply header code into a Go error (nil for 0).
func errCode(code int32) error {
	if code == 0 {
		return nil
	}
	return jute.Err(code)
}

// Package zkwire is a minimal raw ZooKeeper client for the conformance suite.
// It exposes every reply header and keeps replies and watch notifications in
// one arrival order, so a differential test can log exactly what a server sent.
// It deliberately does no reconnection, retry or watch bookkeeping.
package zkwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// ErrClosed is returned for requests on a connection that has been closed by
// either side; Cause tells why.
var ErrClosed = errors.New("zkwire: connection closed")

// Options control a Dial.
type Options struct {
	// Timeout is the requested session timeout (default 10s).
	Timeout time.Duration
	// SessionID and Passwd reattach to an existing session when non-zero.
	SessionID int64
	Passwd    []byte
	// LastZxid is sent as lastZxidSeen.
	LastZxid int64
	// ReadOnly appends the readOnly byte to the connect request (Java client
	// form, 45 bytes); false sends the 44-byte legacy form.
	ReadOnly *bool
	// NoPing disables the keep-alive pinger.
	NoPing bool
}

// Event is a watch notification with the zxid of its reply header, or (when
// Stray is set) a reply whose xid matched no outstanding request.
type Event struct {
	Zxid int64
	jute.WatcherEvent
	Stray *Stray
}

// Stray is a reply nobody waited for.
type Stray struct {
	Hdr  jute.ReplyHeader
	Body []byte
}

type reply struct {
	hdr    jute.ReplyHeader
	body   []byte
	events int // number of events received on this connection before this reply
}

// Conn is one client connection (one session).
type Conn struct {
	nc        net.Conn
	sessionID int64
	passwd    []byte
	timeout   int32
	roReply   bool

	wmu sync.Mutex // serialises frame writes

	mu      sync.Mutex
	xid     int32
	pending map[int32]chan reply
	events  []Event
	evCh    chan struct{} // closed and replaced on each new event
	lastZx  int64
	cause   error
	done    chan struct{}
	closing bool
	// pingsHeld stops the pinger for a while (HoldPings).
	pingsHeld atomic.Bool
}

// HoldPings stops (true) or resumes (false) the keep-alive pings: a test that counts what a server received wants
// none of them in its window, however slow the machine.
func (c *Conn) HoldPings(hold bool) { c.pingsHeld.Store(hold) }

// Dial opens a connection and performs the session handshake.
func Dial(ctx context.Context, addr string, opt Options) (*Conn, error) {
	if opt.Timeout == 0 {
		opt.Timeout = 10 * time.Second
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("zkwire: dial %s: %w", addr, err)
	}
	passwd := opt.Passwd
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	req := jute.ConnectRequest{
		LastZxidSeen: opt.LastZxid,
		TimeOut:      int32(opt.Timeout / time.Millisecond),
		SessionID:    opt.SessionID,
		Passwd:       passwd,
	}
	e := jute.Encoder{Buf: make([]byte, 4, 64)}
	req.Encode(&e)
	if opt.ReadOnly != nil {
		e.Bool(*opt.ReadOnly)
	}
	binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	} else {
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	}
	if _, err := nc.Write(e.Buf); err != nil {
		nc.Close()
		return nil, fmt.Errorf("zkwire: write connect request: %w", err)
	}
	frame, err := jute.ReadFrame(nc, maxFrame)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("zkwire: read connect response: %w", err)
	}
	_ = nc.SetDeadline(time.Time{})
	dec := jute.NewDecoder(frame)
	var resp jute.ConnectResponse
	resp.Decode(dec)
	if dec.Err() != nil {
		nc.Close()
		return nil, fmt.Errorf("zkwire: decode connect response: %w", dec.Err())
	}
	c := &Conn{
		nc:        nc,
		sessionID: resp.SessionID,
		passwd:    resp.Passwd,
		timeout:   resp.TimeOut,
		roReply:   dec.Remaining() > 0 && dec.Bool(),
		pending:   map[int32]chan reply{},
		evCh:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if resp.TimeOut <= 0 {
		nc.Close()
		return c, fmt.Errorf("zkwire: %w", jute.ErrSessionExpired)
	}
	go c.readLoop()
	if !opt.NoPing {
		go c.pingLoop()
	}
	return c, nil
}

// SessionID returns the session id the server assigned.
func (c *Conn) SessionID() int64 { return c.sessionID }

// Passwd returns the session password.
func (c *Conn) Passwd() []byte { return c.passwd }

// Timeout returns the negotiated session timeout in milliseconds.
func (c *Conn) Timeout() int32 { return c.timeout }

// LastZxid returns the largest reply zxid seen.
func (c *Conn) LastZxid() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastZx
}

// Done is closed when the connection is gone.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Cause returns why the connection ended (nil while it is open).
func (c *Conn) Cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// maxFrame bounds a frame read: far above any reply the tests expect.
const maxFrame = 64 << 20

func (c *Conn) readLoop() {
	var err error
loop:
	for {
		var frame []byte
		frame, err = jute.ReadFrame(c.nc, maxFrame)
		if err != nil {
			break
		}
		d := jute.NewDecoder(frame)
		var hdr jute.ReplyHeader
		hdr.Decode(d)
		if d.Err() != nil {
			err = fmt.Errorf("zkwire: decode reply header: %w", d.Err())
			break
		}
		c.mu.Lock()
		if hdr.Zxid > c.lastZx {
			c.lastZx = hdr.Zxid
		}
		switch hdr.Xid {
		case jute.XidNotification:
			var ev jute.WatcherEvent
			ev.Decode(d)
			if d.Err() != nil {
				c.mu.Unlock()
				err = fmt.Errorf("zkwire: decode watcher event: %w", d.Err())
				break loop
			}
			c.events = append(c.events, Event{Zxid: hdr.Zxid, WatcherEvent: ev})
			close(c.evCh)
			c.evCh = make(chan struct{})
			c.mu.Unlock()
			continue
		case jute.XidPing:
			c.mu.Unlock()
			continue
		}
		ch := c.pending[hdr.Xid]
		delete(c.pending, hdr.Xid)
		n := len(c.events)
		if ch == nil {
			c.events = append(c.events, Event{Zxid: hdr.Zxid, Stray: &Stray{Hdr: hdr, Body: d.Rest()}})
			close(c.evCh)
			c.evCh = make(chan struct{})
		}
		c.mu.Unlock()
		if ch != nil {
			ch <- reply{hdr: hdr, body: d.Rest(), events: n}
		}
	}
	c.shutdown(err)
}

func (c *Conn) shutdown(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause != nil {
		return
	}
	if err == nil || errors.Is(err, io.EOF) || c.closing {
		err = io.EOF
	}
	c.cause = err
	c.nc.Close()
	close(c.done)
	close(c.evCh)
	c.evCh = make(chan struct{})
}

func (c *Conn) pingLoop() {
	iv := time.Duration(c.timeout) * time.Millisecond / 3
	if iv < 50*time.Millisecond {
		iv = 50 * time.Millisecond
	}
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if c.pingsHeld.Load() {
				continue
			}
			hdr := jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing}
			if err := c.writeFrame(jute.Marshal(&hdr)); err != nil {
				return
			}
		}
	}
}

func (c *Conn) writeFrame(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var lb [4]byte
	binary.BigEndian.PutUint32(lb[:], uint32(len(b)))
	if _, err := c.nc.Write(append(lb[:], b...)); err != nil {
		// A write fails only once the peer has closed or reset the connection.
		return fmt.Errorf("%w: write: %v", ErrClosed, err)
	}
	return nil
}

// WriteRaw writes b as it is (no length prefix added); used to send malformed
// or oversized frames.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("zkwire: write raw: %w", err)
	}
	return nil
}

// Result is one reply: its header, undecoded body, and how many events had
// arrived on this connection before it.
type Result struct {
	Hdr         jute.ReplyHeader
	Body        []byte
	EventsSoFar int
}

// Send writes a request with the given xid (0 = next normal xid) and returns
// a channel for the reply.
func (c *Conn) send(xid, op int32, req jute.Record) (chan reply, error) {
	c.mu.Lock()
	if c.cause != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", ErrClosed, c.cause)
	}
	if xid == 0 {
		c.xid++
		xid = c.xid
	}
	ch := make(chan reply, 1)
	c.pending[xid] = ch
	c.mu.Unlock()
	e := jute.Encoder{Buf: make([]byte, 0, 64)}
	hdr := jute.RequestHeader{Xid: xid, Type: op}
	hdr.Encode(&e)
	if req != nil {
		req.Encode(&e)
	}
	if err := c.writeFrame(e.Buf); err != nil {
		return nil, err
	}
	return ch, nil
}

// DoXid performs one request with an explicit xid (0 = next) and returns the
// raw reply. The error is non-nil only when no reply came (connection lost,
// timeout).
func (c *Conn) DoXid(ctx context.Context, xid, op int32, req jute.Record) (Result, error) {
	ch, err := c.send(xid, op, req)
	if err != nil {
		return Result{}, err
	}
	select {
	case r := <-ch:
		return Result{Hdr: r.hdr, Body: r.body, EventsSoFar: r.events}, nil
	case <-c.done:
		// A reply may have raced with the close.
		select {
		case r := <-ch:
			return Result{Hdr: r.hdr, Body: r.body, EventsSoFar: r.events}, nil
		default:
		}
		return Result{}, fmt.Errorf("%w: %v", ErrClosed, c.Cause())
	case <-ctx.Done():
		return Result{}, fmt.Errorf("zkwire: op %d: %w", op, ctx.Err())
	}
}

// Do performs a request and decodes the body into resp when the reply has no
// error and resp is non-nil.
func (c *Conn) Do(ctx context.Context, op int32, req, resp jute.Record) (Result, error) {
	r, err := c.DoXid(ctx, 0, op, req)
	if err != nil {
		return r, err
	}
	if r.Hdr.Err == 0 && resp != nil {
		if err := jute.Unmarshal(r.Body, resp); err != nil {
			return r, fmt.Errorf("zkwire: decode reply to op %d: %w", op, err)
		}
	}
	return r, nil
}

// Events returns events received so far starting at index from.
func (c *Conn) Events(from int) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if from >= len(c.events) {
		return nil
	}
	return append([]Event(nil), c.events[from:]...)
}

// WaitEvents waits until more than n events have arrived in total, the
// connection closes, or ctx ends; it returns the total count.
func (c *Conn) WaitEvents(ctx context.Context, n int) int {
	for {
		c.mu.Lock()
		total, ch, dead := len(c.events), c.evCh, c.cause != nil
		c.mu.Unlock()
		if total > n || dead {
			return total
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return total
		}
	}
}

// Close sends closeSession, waits for its reply and closes the socket.
func (c *Conn) Close(ctx context.Context) (Result, error) {
	r, err := c.DoXid(ctx, 0, jute.OpCloseSession, nil)
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.nc.Close()
	<-c.done
	return r, err
}

// CloseNoSession closes the socket and leaves the session to expire.
func (c *Conn) CloseNoSession() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.nc.Close()
	<-c.done
}

package pipeline

import (
	"net"
	"sync/atomic"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
)

// Sender is the write side of a client connection.
type Sender interface {
	// Send queues one framed message (length prefix included) for writing.
	Send(frame []byte)
	// CloseAfterFlush closes the connection once queued frames are written.
	CloseAfterFlush()
}

// Client is the server-side state of one client connection that the core
// owns: its session, authenticated ids, and its role as a watcher. Fields
// other than the atomics are touched only by the core goroutine.
type Client struct {
	out     Sender
	remote  net.Addr
	session int64
	ids     []jute.Id
	p       *Processor
	closed  atomic.Bool
	// invalid: the RequestThrottler dropped one of its requests and closed it; its later requests are dropped.
	invalid atomic.Bool
	// timeout is the negotiated session timeout in ms (the throttler's stale latency check).
	timeout    atomic.Int32
	roByte     bool // the client sent the trailing readOnly byte: the connect response ends with one too
	connectErr bool
	// certified is a TLS connection whose client certificate gave it ids (set before its first request).
	certified bool
	// refused: the core refused a request (a failed auth, SASL or auth enforcement) and closes the connection;
	// its later requests are dropped.
	refused bool
	// via is who the requests come through: this server's connection (the zero value), or, on a leader, a
	// learner that forwarded them.
	via owner

	// Counters for cons/stat, updated by the conn goroutines.
	Received atomic.Int64
	SentPkts atomic.Int64
	LastCxid atomic.Int64
	LastZxid atomic.Int64
}

// NewClient registers a connection with the core. ipID is the ("ip", addr) id
// every connection carries.
func (p *Processor) NewClient(out Sender, remote net.Addr, ipID jute.Id) *Client {
	return &Client{out: out, remote: remote, ids: []jute.Id{ipID}, p: p}
}

// invalidate is ServerCnxn.setInvalid: the connection closes and nothing it sent later runs.
func (c *Client) invalidate() {
	if !c.invalid.Swap(true) {
		c.out.CloseAfterFlush()
	}
}

// AddAuthIDs gives the connection ids it authenticated before its first request (a TLS client certificate's).
func (c *Client) AddAuthIDs(ids ...jute.Id) {
	c.ids = acl.AddAuthInfo(c.ids, ids...)
	c.certified = true
}

// SessionID returns the session bound to this connection (0 before connect).
func (c *Client) SessionID() int64 { return atomic.LoadInt64(&c.session) }

// Remote returns the peer address.
func (c *Client) Remote() net.Addr { return c.remote }

// Process implements watch.Watcher: events are filtered by READ permission at
// fire time and queued behind the durable commit of the txn that fired them.
func (c *Client) Process(ev jute.WatcherEvent, acl []jute.ACL) {
	if c.closed.Load() {
		return
	}
	if len(acl) > 0 && !c.p.acl.Check(acl, jute.PermRead, c.ids) {
		return
	}
	f := notification(ev)
	c.p.Stats.WatchBytes.Add(int64(len(f) - 4))
	c.p.emit(c, f)
}

func notification(ev jute.WatcherEvent) []byte {
	e := jute.Encoder{Buf: make([]byte, 4, 64)}
	hdr := jute.ReplyHeader{Xid: jute.XidNotification, Zxid: -1, Err: 0}
	hdr.Encode(&e)
	ev.Encode(&e)
	return frame(e.Buf)
}

// frame fills in the 4-byte length prefix reserved at the start of b.
func frame(b []byte) []byte {
	n := len(b) - 4
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return b
}

// ReplyBody is what a reply carries after its header: a record, or an answer encoded before (a response cache's).
type ReplyBody interface{ Encode(e *jute.Encoder) }

// EncodeReply builds a framed reply; body is omitted when nil.
func EncodeReply(hdr jute.ReplyHeader, body ReplyBody) []byte {
	size := 128
	switch b := body.(type) {
	case *jute.GetDataResponse:
		// Sized for the data up front: growing the frame by append cost
		// two allocations and a copy per read (most of the read path's garbage).
		size += len(b.Data)
	case encodedBody:
		size += len(b)
	}
	e := jute.Encoder{Buf: make([]byte, 4, size)}
	hdr.Encode(&e)
	if body != nil {
		body.Encode(&e)
	}
	return frame(e.Buf)
}

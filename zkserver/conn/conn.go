// Package conn serves ZooKeeper client connections: framing, the connect
// handshake, four-letter words on a fresh socket, and a batching writer.
package conn

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/dualmode"
	"github.com/zkafka/zkafka/zkserver/pipeline"
	"github.com/zkafka/zkafka/zkserver/sasl"
	"github.com/zkafka/zkafka/zkserver/session"
)

// FourLetterHandler answers a four-letter word; arg is the 8-byte mask that
// follows "stmk" (else 0). It returns the text to write and whether the word
// is known.
type FourLetterHandler func(word string, arg int64) (string, bool)

// Config configures the client listener.
type Config struct {
	Addr           string
	MaxClientCnxns int // per remote IP, 0 = unlimited
	MaxBuffer      int // jute.maxbuffer
	FourLetter     FourLetterHandler
	Logger         *slog.Logger
	// TLS, when set, makes this the secure client port: every connection starts with a TLS handshake.
	TLS *tls.Config
	// Unified (client.portUnification, with TLS) takes TLS and plaintext clients alike, each connection's first
	// byte deciding.
	Unified bool
	// CertIDs are the auth ids of a client's verified certificate chain (Apache's x509 provider), added to the
	// connection before its first request; an error closes the connection.
	CertIDs func(chain []*x509.Certificate) ([]jute.Id, error)
	// SASL, when set, authenticates SASL requests (each connection its own exchange); nil leaves them to the core,
	// which answers as Apache without a SASL login.
	SASL *sasl.Config
	// Throttle is ZooKeeperServer.shouldThrottle (globalOutstandingLimit): given a connection's outstanding
	// requests, whether it must stop reading until one of them is answered. nil never throttles.
	Throttle func(outstanding int64) bool
	// SessionlessTimeout is NIOServerCnxnFactory's zookeeper.nio.sessionlessCnxnTimeout: a connection that sends
	// no connect request is closed at the first multiple of it at least this long after it was accepted (its
	// connection expiry queue's rounding). 0: never (Netty's factory has no such expiry).
	SessionlessTimeout time.Duration
}

// handshakeTimeout bounds a TLS handshake (Netty's SslHandler default).
const handshakeTimeout = 10 * time.Second

// Listener accepts client connections for a Processor.
type Listener struct {
	cfg    Config
	ln     net.Listener
	p      *pipeline.Processor
	log    *slog.Logger
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[*Conn]struct{}
	perIP  map[string]int
	closed bool
}

// Listen binds cfg.Addr and starts accepting.
func Listen(cfg Config, p *pipeline.Processor) (*Listener, error) {
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = jute.DefaultMaxBuffer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on client port %s: %w", cfg.Addr, err)
	}
	return &Listener{cfg: cfg, ln: ln, p: p, log: cfg.Logger, conns: map[*Conn]struct{}{}, perIP: map[string]int{}}, nil
}

// Serve starts accepting connections. It is separate from Listen so that the
// owner holds the listener before any four-letter word can ask it for its
// connections (a stat arriving during start-up used to find none yet).
func (l *Listener) Serve() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.wg.Add(1)
	go l.accept(l.ln)
}

// Addr is the bound address.
func (l *Listener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ln.Addr()
}

// Rebind moves the client port to addr, as NIOServerCnxnFactory.reconfigure does for a reconfig that gives this
// server a new client address: the old socket closes first, then addr is bound; open connections stay. After a
// failure no client port is open.
func (l *Listener) Rebind(addr string) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return net.ErrClosed
	}
	old := l.ln
	l.mu.Unlock()
	old.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on client port %s: %w", addr, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		ln.Close()
		return net.ErrClosed
	}
	l.ln = ln
	l.wg.Add(1)
	go l.accept(ln)
	return nil
}

// Close stops accepting and closes every connection.
func (l *Listener) Close() error {
	l.mu.Lock()
	l.closed = true
	conns := make([]*Conn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	ln := l.ln
	l.mu.Unlock()
	err := ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil // closed by a Rebind that failed
	}
	for _, c := range conns {
		c.nc.Close()
	}
	l.wg.Wait()
	return err
}

// CloseConns closes every open connection, as Apache's closeAllConnections when a server stops following or
// leading; the listener goes on accepting.
func (l *Listener) CloseConns() {
	for _, c := range l.Conns() {
		c.kill()
	}
}

// Conns returns the open connections (for cons and stat).
func (l *Listener) Conns() []*Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*Conn, 0, len(l.conns))
	for c := range l.conns {
		out = append(out, c)
	}
	return out
}

func (l *Listener) accept(ln net.Listener) {
	defer l.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.log.Warn("accept failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		ip := remoteIP(nc.RemoteAddr())
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			nc.Close()
			return
		}
		if l.cfg.MaxClientCnxns > 0 && l.perIP[ip] >= l.cfg.MaxClientCnxns {
			l.mu.Unlock()
			l.log.Warn("too many connections from client, closing", "ip", ip, "max", l.cfg.MaxClientCnxns)
			l.p.Stats.ConnectionRejected.Add(1)
			nc.Close()
			continue
		}
		switch {
		case l.cfg.TLS != nil && l.cfg.Unified:
			nc = dualmode.Server(nc, l.cfg.TLS)
		case l.cfg.TLS != nil:
			nc = tls.Server(nc, l.cfg.TLS)
		}
		c := newConn(l, nc)
		l.conns[c] = struct{}{}
		l.perIP[ip]++
		l.mu.Unlock()
		l.wg.Add(1)
		go c.serve()
	}
}

func (l *Listener) remove(c *Conn) {
	l.mu.Lock()
	if _, ok := l.conns[c]; ok {
		delete(l.conns, c)
		ip := remoteIP(c.nc.RemoteAddr())
		if l.perIP[ip]--; l.perIP[ip] <= 0 {
			delete(l.perIP, ip)
		}
	}
	l.mu.Unlock()
}

func remoteIP(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, _ := net.SplitHostPort(a.String())
	return host
}

// Conn is one client connection.
type Conn struct {
	l           *Listener
	nc          net.Conn
	client      *pipeline.Client
	Established time.Time
	// sasl is the connection's SASL exchange, begun at its first SASL request (used by the reader only).
	sasl *sasl.Exchange

	// outstanding counts the requests read with a positive xid and not yet answered (ServerCnxn's
	// outstandingCount): the throttle's input.
	outstanding atomic.Int64

	mu      sync.Mutex
	cond    *sync.Cond // the writer's: frames queued, closing or dead
	queue   [][]byte
	closing bool // close once the queue is flushed
	dead    bool
	// throttled: the reader waits on readable before its next frame (Apache's disableRecv).
	throttled bool
	readable  *sync.Cond
}

func newConn(l *Listener, nc net.Conn) *Conn {
	c := &Conn{l: l, nc: nc, Established: time.Now()}
	c.cond = sync.NewCond(&c.mu)
	c.readable = sync.NewCond(&c.mu)
	c.client = l.p.NewClient(c, nc.RemoteAddr(), acl.IPID(nc.RemoteAddr()))
	return c
}

// Secure reports whether the connection speaks TLS (the secure client port, or a TLS client on a unified one).
func (c *Conn) Secure() bool {
	if u, ok := c.nc.(*dualmode.Conn); ok {
		return u.TLS() != nil
	}
	return c.l.cfg.TLS != nil
}

// Client is the pipeline state of this connection.
func (c *Conn) Client() *pipeline.Client { return c.client }

// Remote is the peer address.
func (c *Conn) Remote() net.Addr { return c.nc.RemoteAddr() }

// Queued is the number of requests read and not yet answered (cons' queued: ServerCnxn.getOutstandingRequests).
func (c *Conn) Queued() int64 { return c.outstanding.Load() }

// Throttled reports whether the connection reads no request until one is answered (cons shows no read interest).
func (c *Conn) Throttled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.throttled
}

// Send implements pipeline.Sender. A reply to a request (positive xid) ends one outstanding request, and may let a
// throttled reader go on (ServerCnxn.decrOutstandingAndCheckThrottle).
func (c *Conn) Send(frame []byte) {
	if frame == nil {
		return
	}
	answered := len(frame) >= 8 && int32(binary.BigEndian.Uint32(frame[4:])) > 0
	c.mu.Lock()
	if !c.dead {
		c.queue = append(c.queue, frame)
		c.cond.Signal()
	}
	if answered && !c.shouldThrottle(c.outstanding.Add(-1)) && c.throttled {
		c.throttled = false
		c.readable.Signal()
	}
	c.mu.Unlock()
}

func (c *Conn) shouldThrottle(outstanding int64) bool {
	return c.l.cfg.Throttle != nil && c.l.cfg.Throttle(outstanding)
}

// requestRead counts a request with a positive xid as outstanding and stops the reader when the server is over
// its limit (incrOutstandingAndCheckThrottle: the server's count before this request).
func (c *Conn) requestRead(xid int32) {
	if xid <= 0 || !c.shouldThrottle(c.outstanding.Add(1)) {
		return
	}
	c.mu.Lock()
	c.throttled = true
	c.mu.Unlock()
}

// waitReadable blocks the reader while it is throttled. A dead connection's reader goes on: after lingerClose it
// drains what the client sent.
func (c *Conn) waitReadable() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.throttled && !c.dead {
		c.readable.Wait()
	}
}

// CloseAfterFlush implements pipeline.Sender.
func (c *Conn) CloseAfterFlush() {
	c.mu.Lock()
	c.closing = true
	c.cond.Signal()
	c.mu.Unlock()
}

// writer sends queued frames, many per syscall.
func (c *Conn) writer(done chan<- struct{}) {
	defer close(done)
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closing && !c.dead {
			c.cond.Wait()
		}
		if c.dead {
			c.mu.Unlock()
			return
		}
		q := c.queue
		c.queue = nil
		closing := c.closing
		c.mu.Unlock()
		if len(q) > 0 {
			bufs := net.Buffers(q)
			if _, err := bufs.WriteTo(c.nc); err != nil {
				c.kill()
				return
			}
		}
		if closing && len(q) == 0 {
			c.lingerClose()
			return
		}
	}
}

// lingerClose sends FIN after the last reply and lets the reader drain what
// the client had already pipelined for a moment: closing a socket with
// unread input makes the kernel send RST, and the client can then lose the
// reply it was owed (an AuthFailed answer, say) before it reads it.
//
// Like kill, it first takes the connection off the listener's list (Apache's
// removeCnxn before closeSock): a cons sent once the client saw the close
// must not list it.
func (c *Conn) lingerClose() {
	c.l.remove(c)
	nc := c.nc
	if u, ok := nc.(*dualmode.Conn); ok && u.TLS() == nil {
		nc = u.Conn
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		c.kill()
		return
	}
	c.mu.Lock()
	c.dead = true // nothing more is sent
	c.cond.Broadcast()
	c.readable.Broadcast()
	c.mu.Unlock()
	tc.CloseWrite()
	tc.SetReadDeadline(time.Now().Add(time.Second))
	// serve closes the socket once the reader stops (EOF or the deadline).
}

// kill closes the connection at once, off the listener's list first.
func (c *Conn) kill() {
	c.l.remove(c)
	c.mu.Lock()
	c.dead = true
	c.cond.Broadcast()
	c.readable.Broadcast()
	c.mu.Unlock()
	c.nc.Close()
}

func (c *Conn) serve() {
	defer c.l.wg.Done()
	defer c.l.remove(c)
	tc, _ := c.nc.(*tls.Conn)
	if u, ok := c.nc.(*dualmode.Conn); ok {
		if err := u.Detect(); err != nil {
			c.nc.Close()
			return
		}
		tc = u.TLS()
	}
	if tc != nil {
		if err := c.handshake(tc); err != nil {
			c.l.log.Warn("unsuccessful TLS handshake, closing", "remote", c.nc.RemoteAddr(), "err", err)
			c.nc.Close()
			return
		}
	}
	wdone := make(chan struct{})
	go c.writer(wdone)
	err := c.readLoop()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, errSessionClosing) {
		c.l.log.Info("closing client connection", "remote", c.nc.RemoteAddr(), "session", fmt.Sprintf("0x%x", c.client.SessionID()), "reason", err)
	}
	if !errors.Is(err, errSessionClosing) {
		c.CloseAfterFlush()
		c.l.p.Disconnected(c.client)
	}
	// After closeSession the core delivers the events its close fires and
	// the reply, then closes the connection and forgets the watcher itself.
	select {
	case <-wdone:
	case <-time.After(2 * time.Second):
		c.kill()
		<-wdone
	}
	c.kill()
}

// handshake runs the TLS handshake (a client certificate checked as the listener's config asks) and gives the
// connection the ids of the certificate it presented.
func (c *Conn) handshake(tc *tls.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	if chain := tc.ConnectionState().PeerCertificates; len(chain) > 0 && c.l.cfg.CertIDs != nil {
		ids, err := c.l.cfg.CertIDs(chain)
		if err != nil {
			return fmt.Errorf("authentication failed: %w", err)
		}
		c.client.AddAuthIDs(ids...)
	}
	return nil
}

var errSessionClosing = errors.New("client closed its session")

// errLargeRequest closes a connection whose large request the large request throttle refused (IOException
// "Rejecting large request" in Apache).
var errLargeRequest = errors.New("Rejecting large request")

// errAuthRefused is an auth packet the core refuses: the connection takes no more requests.
var errAuthRefused = errors.New("authentication refused")

var fourLetterWords = map[string]bool{
	"conf": true, "cons": true, "crst": true, "dirs": true, "dump": true, "envi": true, "gtmk": true,
	"ruok": true, "stmk": true, "srvr": true, "srst": true, "stat": true, "wchc": true, "wchp": true,
	"wchs": true, "mntr": true, "isro": true, "hash": true,
}

func (c *Conn) readLoop() error {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var lenBuf [4]byte
	if t := c.l.cfg.SessionlessTimeout; t > 0 {
		c.nc.SetReadDeadline(expiryAfter(time.Now(), t))
	}
	if err := c.readFull(br, lenBuf[:]); err != nil {
		return c.sessionless(err)
	}
	if word := string(lenBuf[:]); fourLetterWords[word] {
		return c.fourLetter(br, word)
	}
	first := true
	max := c.l.cfg.MaxBuffer
	for {
		if !first {
			c.waitReadable()
			if err := c.readFull(br, lenBuf[:]); err != nil {
				return err
			}
		}
		n := int32(binary.BigEndian.Uint32(lenBuf[:]))
		if n < 0 || int(n) > max {
			return fmt.Errorf("len error: frame of %d bytes, jute.maxbuffer is %d", n, max)
		}
		if !c.l.p.Large().Receiving(int(n)) {
			return errLargeRequest
		}
		// n is bounded by jute.maxbuffer, so this allocation is too.
		buf := make([]byte, n)
		if err := c.readFull(br, buf); err != nil {
			if first {
				err = c.sessionless(err)
			}
			return fmt.Errorf("read frame: %w", err)
		}
		c.packetReceived(4 + int64(n))
		if first {
			first = false
			if c.l.cfg.SessionlessTimeout > 0 {
				c.nc.SetReadDeadline(time.Time{})
			}
			if err := c.connect(buf); err != nil {
				return err
			}
			continue
		}
		if err := c.request(buf); err != nil {
			if errors.Is(err, errAuthRefused) {
				// The core answers AuthFailed and closes. What the client sent after is read (so that closing does
				// not reset the connection before the answer is read) but never handled, as Apache's disableRecv.
				if _, err := io.Copy(io.Discard, br); err != nil {
					return err
				}
				return io.EOF
			}
			return err
		}
	}
}

// readFull reads a frame's part. Finding the client's end of stream while the server still reads (not after it
// began to close the connection) counts in connection_drop_count, as NIOServerCnxn.handleFailedRead: the client
// went away without closing its session.
func (c *Conn) readFull(r io.Reader, b []byte) error {
	_, err := io.ReadFull(r, b)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		c.mu.Lock()
		closing := c.closing || c.dead
		c.mu.Unlock()
		if !closing {
			c.l.p.Stats.ConnectionDrops.Add(1)
		}
	}
	return err
}

// expiryAfter is ExpiryQueue.roundToNextInterval(now + interval): the first multiple of interval after it.
func expiryAfter(now time.Time, interval time.Duration) time.Time {
	iv := max(interval.Milliseconds(), 1)
	return time.UnixMilli(session.RoundToNextInterval(now.UnixMilli()+interval.Milliseconds(), iv))
}

// sessionless tells a connection closed for sending no connect request in time (NIOServerCnxnFactory's connection
// expirer, which counts it in sessionless_connections_expired) from other read errors.
func (c *Conn) sessionless(err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	c.l.p.Stats.SessionlessExpired.Add(1)
	return fmt.Errorf("no connect request within zookeeper.nio.sessionlessCnxnTimeout (%v): %w",
		c.l.cfg.SessionlessTimeout, err)
}

func (c *Conn) connect(buf []byte) error {
	d := jute.NewDecoder(buf)
	d.Max = c.l.cfg.MaxBuffer
	var cr pipeline.ConnectRequest
	cr.Req.Decode(d)
	if d.Err() != nil {
		return fmt.Errorf("malformed connect request: %w", d.Err())
	}
	if d.Remaining() >= 1 {
		cr.HasRO = true
		cr.ReadOnly = d.Byte() != 0
	}
	c.l.p.Connect(c.client, &cr)
	return nil
}

func (c *Conn) request(buf []byte) error {
	d := jute.NewDecoder(buf)
	d.Max = c.l.cfg.MaxBuffer
	var hdr jute.RequestHeader
	hdr.Decode(d)
	if d.Err() != nil {
		return fmt.Errorf("malformed request header: %w", d.Err())
	}
	c.client.LastCxid.Store(int64(hdr.Xid))
	c.requestRead(hdr.Xid)
	if sid := c.client.SessionID(); sid != 0 {
		c.l.p.Touch(sid, time.Now().UnixMilli())
	}
	var held int32
	if hdr.Type != jute.OpAuth && hdr.Type != jute.OpSASL {
		// Apache counts a large request's body (the frame less its 8-byte header) from here to its processing.
		var ok bool
		if held, ok = c.l.p.Large().Admit(len(buf) - 8); !ok {
			return errLargeRequest
		}
	}
	body, known := jute.RequestRecord(hdr.Type)
	if hdr.Type == jute.OpDeleteContainer || hdr.Type == jute.OpCreateSession {
		body, known = nil, true // internal ops: the core answers them with an error
	}
	if !known {
		c.l.p.Large().Release(held)
		c.l.log.Warn("unknown request type, closing connection", "type", hdr.Type, "remote", c.nc.RemoteAddr())
		c.l.p.Unimplemented()
		// UnimplementedRequestProcessor: zxid -1, then the connection closes.
		c.Send(pipeline.EncodeReply(jute.ReplyHeader{Xid: hdr.Xid, Zxid: -1, Err: int32(jute.ErrUnimplemented)}, nil))
		c.CloseAfterFlush()
		return nil
	}
	req := &pipeline.Request{Client: c.client, Xid: hdr.Xid, Op: hdr.Type, Body: body, Start: time.Now(), LargeSize: held}
	if body != nil {
		body.Decode(d)
		if d.Err() != nil {
			c.l.log.Info("malformed request body", "op", hdr.Type, "remote", c.nc.RemoteAddr(), "err", d.Err())
			req.Body = nil
			req.Malformed = true
		}
	}
	if hdr.Type == jute.OpSASL && !req.Malformed && c.l.cfg.SASL != nil {
		// Apache evaluates SASL tokens on the reading thread, before anything the client sends after.
		if c.sasl == nil {
			c.sasl = c.l.cfg.SASL.NewExchange()
		}
		out := c.sasl.Step(req.Body.(*jute.GetSASLRequest).Token, c.nc.RemoteAddr().String())
		req.SASL = &out
	}
	c.l.p.Submit(req)
	if req.SASL != nil && req.SASL.Err != jute.ErrOK {
		return errAuthRefused // the core answers the error and closes
	}
	if hdr.Type == jute.OpCloseSession {
		// The core replies and closes; stop reading.
		return errSessionClosing
	}
	if hdr.Type == jute.OpAuth && !req.Malformed && c.l.p.AuthRefused(c.client, req.Body.(*jute.AuthPacket)) {
		return errAuthRefused
	}
	return nil
}

// packetReceived counts a packet read, of size bytes with its length, on the connection and the server, as
// ServerCnxn.packetReceived.
func (c *Conn) packetReceived(size int64) {
	c.client.Received.Add(1)
	c.l.p.Stats.PacketsRecv.Add(1)
	c.l.p.Stats.BytesRecv.Add(size)
}

func (c *Conn) fourLetter(br *bufio.Reader, word string) error {
	c.packetReceived(4) // Apache counts a known word as a packet of 4 bytes, whitelisted or not
	var arg int64
	if word == "stmk" {
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return err
		}
		arg = int64(binary.BigEndian.Uint64(b[:]))
	}
	out := ""
	if c.l.cfg.FourLetter != nil {
		out, _ = c.l.cfg.FourLetter(word, arg)
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := io.WriteString(c.nc, out)
	if err == nil {
		err = io.EOF
	}
	return err
}

package kwire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/zkafka/zkafka/compat/javanet"
)

// Principal is the authenticated identity of a connection (Kafka's KafkaPrincipal).
type Principal struct {
	Type string // "User"
	Name string
	// TokenAuthenticated marks a delegation token login (KafkaPrincipal.tokenAuthenticated): such a connection may
	// not create or renew tokens.
	TokenAuthenticated bool
}

func (p Principal) String() string { return p.Type + ":" + p.Name }

// Conn is the state of one client connection shared by all of its requests. Handlers use it
// to keep per-connection state such as a SASL exchange and the authenticated principal.
type Conn struct {
	id       string
	listener string
	local    net.Addr
	remote   net.Addr

	mu        sync.Mutex
	principal Principal
	swName    string
	swVersion string
	values    map[any]any

	mutedUntil atomic.Int64 // unix ns before which no further request is read (a quota's throttle)
}

// ID is Kafka's connection id: "localHost:localPort-remoteHost:remotePort-index".
func (c *Conn) ID() string               { return c.id }
func (c *Conn) ListenerName() string     { return c.listener }
func (c *Conn) LocalAddr() net.Addr      { return c.local }
func (c *Conn) RemoteAddr() net.Addr     { return c.remote }
func (c *Conn) Principal() Principal     { c.mu.Lock(); defer c.mu.Unlock(); return c.principal }
func (c *Conn) SetPrincipal(p Principal) { c.mu.Lock(); c.principal = p; c.mu.Unlock() }

// Throttle mutes the connection for d from now, as Kafka's quota managers mute a channel: the response in hand still
// goes out, but no further request is read before d has passed. A longer throttle already running is kept.
func (c *Conn) Throttle(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d).UnixNano()
	for {
		cur := c.mutedUntil.Load()
		if cur >= until || c.mutedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// ClientSoftware is what the client declared in ApiVersions v3+ (KIP-511), or empty.
func (c *Conn) ClientSoftware() (name, version string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.swName, c.swVersion
}

// Value returns per-connection state stored with SetValue.
func (c *Conn) Value(key any) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[key]
}

// SetValue stores per-connection state; a nil v deletes key.
func (c *Conn) SetValue(key, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v == nil {
		delete(c.values, key)
		return
	}
	if c.values == nil {
		c.values = make(map[any]any)
	}
	c.values[key] = v
}

// RequestContext describes one request.
type RequestContext struct {
	Conn        *Conn
	Header      RequestHeader
	RequestSize int // frame size without the 4-byte prefix

	closeAfter atomic.Bool

	// started is when the request's decoding began; localDone, once set, is how long after that its handler
	// reached its first wait (LocalComplete), in nanoseconds plus one.
	started   time.Time
	localDone atomic.Int64
	// onSent, if set, is given how long the response took to encode and write.
	onSent func(time.Duration)
	// For RequestMetrics: when the handler ran, the body's size, and whether a Fetch came from a follower.
	times    requestTimes
	bodySize int
	follower bool
	// conversionNanos and tempMemory are Kafka's messageConversionsTimeNanos and temporaryMemoryBytes
	// (RecordConversion).
	conversionNanos, tempMemory atomic.Int64

	bufs    *bufPool // the server's scratch buffers; nil in contexts made outside a connection's reader
	scratch []*[]byte
	regions regions // file regions of a Fetch response (sendfile.go)
}

// Scratch returns a buffer of length 0 and capacity at least n for building this request's response (a Fetch's
// records). It comes from the server's pool and goes back once the response is written, so the response must be
// its only user by then. Handlers call it from the request's own goroutine only.
func (rc *RequestContext) Scratch(n int) []byte {
	if rc.bufs == nil || n < minPooled {
		return make([]byte, 0, n)
	}
	b := rc.bufs.get(n)
	rc.scratch = append(rc.scratch, b)
	return (*b)[:0]
}

// releaseScratch hands the scratch buffers back; the writer calls it after the response went out.
func (rc *RequestContext) releaseScratch() {
	for _, b := range rc.scratch {
		rc.bufs.put(b)
	}
	rc.scratch = nil
}

// Buffers of at least minPooled bytes are pooled in power-of-two classes up to maxPooled; larger ones are
// allocated and dropped.
const (
	minPooled     = 4 << 10
	maxPooledBits = 27 // 128 MiB
)

// bufPool holds large byte buffers by power-of-two capacity. Being sync.Pools, they are dropped over two GC cycles
// when unused, so an idle broker does not keep them.
type bufPool struct {
	classes [maxPooledBits + 1]sync.Pool // *[]byte with cap exactly 1<<class
}

func (bp *bufPool) get(n int) *[]byte {
	c := bits.Len(uint(n - 1))
	if c > maxPooledBits {
		b := make([]byte, 0, n)
		return &b
	}
	if b, ok := bp.classes[c].Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 1<<c)
	return &b
}

func (bp *bufPool) put(b *[]byte) {
	c := bits.Len(uint(cap(*b) - 1))
	if c > maxPooledBits || cap(*b) != 1<<c || cap(*b) < minPooled {
		return
	}
	*b = (*b)[:0]
	bp.classes[c].Put(b)
}

// ClientID is the header's client id; "" when absent or null, as Kafka reports it.
func (rc *RequestContext) ClientID() string {
	if rc.Header.ClientID == nil {
		return ""
	}
	return *rc.Header.ClientID
}

// CloseAfterResponse closes the connection once this request's response (if any) is written,
// as Kafka does after a failed SASL authentication.
func (rc *RequestContext) CloseAfterResponse() { rc.closeAfter.Store(true) }

// LocalComplete marks the end of the handler's own work: what follows is a wait (a long-polling fetch, acks=all,
// a group's rebalance), which Kafka spends in purgatory rather than on a request handler thread. Only the first
// call counts.
func (rc *RequestContext) LocalComplete() {
	if rc.started.IsZero() {
		return
	}
	rc.localDone.CompareAndSwap(0, int64(time.Since(rc.started))+1)
}

// ThreadTime is Kafka's requestThreadTimeNanos: from the start of the request's decoding to LocalComplete, or to
// now when its handler never waited.
func (rc *RequestContext) ThreadTime() time.Duration {
	if rc.started.IsZero() {
		return 0
	}
	if d := rc.localDone.Load(); d > 0 {
		return time.Duration(d - 1)
	}
	return time.Since(rc.started)
}

// RecordConversion notes one partition's record conversion for RequestMetrics' MessageConversionsTimeMs and
// TemporaryMemoryBytes: the records converted, the time taken and the temporary memory used. As Kafka's
// updateRecordConversionStats, each call replaces the request's values rather than adding to them (the time only
// when records were converted), so a request of several partitions reports its last one's. Safe to call from
// several goroutines.
func (rc *RequestContext) RecordConversion(records int, d time.Duration, tempBytes int64) {
	if records > 0 {
		rc.conversionNanos.Store(int64(d))
	}
	rc.tempMemory.Store(tempBytes)
}

// OnSent has f told how long the response took to encode and write (Kafka's network thread time, which the
// request quota also counts). Call it before the handler returns.
func (rc *RequestContext) OnSent(f func(time.Duration)) { rc.onSent = f }

// pending is one slot in a connection's response queue, in request order.
type pending struct {
	rc      *RequestContext
	done    chan struct{}
	resp    kmsg.Response
	version int16 // response body version
	hv      int16 // response header version
	err     error

	raw []byte // a raw SASL token (after SaslHandshake v0), written size-prefixed without a header

	// A marker (closeErr != nil) closes the connection when the writer reaches it.
	closeErr   error
	closeLevel slog.Level
}

type conn struct {
	s   *Server
	nc  net.Conn
	br  *bufio.Reader
	pub *Conn
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	slots     chan struct{} // in-flight bound
	queue     chan *pending // response order; cap MaxInFlight+1 leaves room for a close marker
	inflight  atomic.Int32
	running   sync.WaitGroup // concurrent handlers; only the reader adds and waits
	auth      *authState     // nil on a listener without SASL
	nonce     uint64         // random first half of the markers encodeVec puts in Fetch responses
	inlineBuf []byte         // the reader's encoding buffer, for serial requests it answers itself

	// lastActive is when a request was last read or a response written (unix ns), for closing the least recently
	// used connection; admitted says the listener's Admitter counts this connection from ip.
	lastActive atomic.Int64
	admitted   bool
	ip         netip.Addr
}

func newConn(s *Server, nc net.Conn, index uint64) *conn {
	id := fmt.Sprintf("%s-%s-%d", idAddr(nc.LocalAddr()), idAddr(nc.RemoteAddr()), index)
	ctx, cancel := context.WithCancel(s.ctx)
	var auth *authState
	if s.cfg.SASL != nil {
		auth = &authState{cfg: s.cfg.SASL}
	}
	c := &conn{
		auth: auth,
		s:    s,
		nc:   nc,
		br:   bufio.NewReaderSize(nc, 64<<10),
		pub: &Conn{
			id: id, listener: s.cfg.ListenerName, local: nc.LocalAddr(), remote: nc.RemoteAddr(),
			principal: Principal{Type: "User", Name: "ANONYMOUS"},
		},
		log:    s.log.With("connection", id),
		ctx:    ctx,
		cancel: cancel,
		slots:  make(chan struct{}, s.cfg.MaxInFlight),
		nonce:  rand.Uint64(),
		queue:  make(chan *pending, s.cfg.MaxInFlight+1),
	}
	c.lastActive.Store(time.Now().UnixNano())
	return c
}

// frameError is Kafka's InvalidReceiveException: a size prefix that is negative or too large.
type frameError struct{ size, max int32 }

func (e *frameError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("Invalid receive (size = %d)", e.size)
	}
	return fmt.Sprintf("Invalid receive (size = %d larger than %d)", e.size, e.max)
}

var errIdle = errors.New("connection idle")

func (c *conn) readLoop() {
	defer c.s.wg.Done()
	if tc, ok := c.nc.(*tls.Conn); ok && !c.handshake(tc) {
		return
	}
	for {
		if !c.waitThrottle() {
			return
		}
		frame, pooled, err := c.readFrame()
		if err != nil {
			c.readFailed(err)
			return
		}
		if c.admitted {
			c.lastActive.Store(time.Now().UnixNano())
		}
		if !c.handleFrame(frame, pooled) {
			return
		}
	}
}

// waitThrottle holds the reader while the connection is throttled; false means the connection is closing.
func (c *conn) waitThrottle() bool {
	d := time.Until(time.Unix(0, c.pub.mutedUntil.Load()))
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// handshake runs a TLS connection's handshake, given connections.max.idle.ms as any wait for a request, and makes a
// client certificate's subject the connection's principal. false means the connection is closing.
func (c *conn) handshake(tc *tls.Conn) bool {
	ctx := c.ctx
	if idle := c.s.cfg.ConnectionsMaxIdle; idle > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, idle)
		defer cancel()
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		if c.ctx.Err() == nil {
			// Kafka's Selector logs a failed handshake as a failed authentication, at INFO.
			c.s.metrics.FailedAuthentications.Add(1)
			c.log.Info(fmt.Sprintf("Failed authentication with %s (SSL handshake failed)", c.pub.remote), "err", err)
		}
		c.cancel()
		return false
	}
	if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 && c.s.cfg.TLSPrincipal != nil {
		name, err := c.s.cfg.TLSPrincipal(certs[0])
		if err != nil {
			// Kafka fails the channel's principal when it handles the first request, and closes the connection.
			c.log.Warn("closing connection: its principal cannot be built", "remote", c.pub.remote, "err", err)
			c.cancel()
			return false
		}
		c.pub.SetPrincipal(Principal{Type: "User", Name: name})
	}
	return true
}

func (c *conn) readFailed(err error) {
	if c.ctx.Err() != nil {
		return
	}
	var fe *frameError
	switch {
	case errors.As(err, &fe):
		// Kafka's Selector logs these at WARN and closes; earlier responses still go out first.
		c.queue <- &pending{closeErr: fmt.Errorf("unexpected error from %s; closing connection: %w",
			c.pub.remote, err), closeLevel: slog.LevelWarn}
	case errors.Is(err, errIdle):
		c.log.Debug("closing idle connection")
		c.cancel()
	default:
		// The peer went away: drop whatever is in flight, as Kafka does.
		c.log.Debug("connection closed", "err", err)
		c.cancel()
	}
}

// recyclableFrame tells whether a request's frame may be reused once its handler returned: only a Produce, whose
// handler runs serially and copies (or converts) the records it appends, so that nothing refers to the frame after.
func recyclableFrame(key int16, serial bool) bool { return key == kmsg.Produce.Int16() && serial }

// Requests from minPooledFrame to maxPooledFrame bytes are read into pooled buffers (smaller ones are not worth it:
// most are not Produce requests, whose frames alone go back). Kafka too allocates a request's whole size as soon as it
// has read the size prefix.
const (
	minPooledFrame = 64 << 10
	maxPooledFrame = 16 << 20
)

// readFrame reads one request. A large one is read into a pooled buffer, also returned, which handleFrame gives back
// when it knows that nothing kept a reference to the request's bytes.
func (c *conn) readFrame() ([]byte, *[]byte, error) {
	idle := c.s.cfg.ConnectionsMaxIdle
	for {
		if idle > 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(idle))
		}
		if _, err := c.br.Peek(1); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if c.inflight.Load() > 0 {
					continue // waiting on our own responses is not idleness
				}
				return nil, nil, errIdle
			}
			return nil, nil, err
		}
		break
	}
	var sz [4]byte
	if _, err := io.ReadFull(c.br, sz[:]); err != nil {
		return nil, nil, err
	}
	size := int32(binary.BigEndian.Uint32(sz[:]))
	if maxSize := c.maxFrame(); size < 0 || size > maxSize {
		return nil, nil, &frameError{size: size, max: maxSize}
	}
	if size >= minPooledFrame && size <= maxPooledFrame {
		b := c.s.bigBufs.get(int(size))
		body := (*b)[:size]
		if _, err := io.ReadFull(c.br, body); err != nil {
			return nil, nil, err
		}
		c.s.metrics.BytesIn.Add(int64(size) + 4)
		return body, b, nil
	}
	body, err := readN(c.br, int(size))
	if err != nil {
		return nil, nil, err
	}
	c.s.metrics.BytesIn.Add(int64(size) + 4)
	return body, nil, nil
}

// readN reads n bytes, growing the buffer as data arrives so that a large size prefix alone
// does not make us allocate the whole frame.
func readN(r io.Reader, n int) ([]byte, error) {
	const chunk = 1 << 20
	if n <= chunk {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	b := make([]byte, 0, chunk)
	for len(b) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(n-len(b), cap(b)))
		}
		m, err := io.ReadFull(r, b[len(b):min(cap(b), n)])
		b = b[:len(b)+m]
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// handleFrame decodes one request and schedules it. It returns false when the reader must
// stop (connection closing). pooled, if set, holds frame and goes back to the pool after a Produce: its handler runs
// here (serially) and copies the records it appends, so nothing refers to the frame afterwards. Other requests keep
// their frame (decoded bytes alias it, and some handlers keep them, e.g. group members' metadata).
func (c *conn) handleFrame(frame []byte, pooled *[]byte) bool {
	if handled, keepReading := c.authFrame(frame); handled {
		return keepReading
	}
	started := time.Now()
	if len(frame) < 4 {
		return c.protocolError(fmt.Errorf("error parsing request header: %w", errShortHeader))
	}
	h := RequestHeader{
		APIKey:     int16(binary.BigEndian.Uint16(frame[0:2])),
		APIVersion: int16(binary.BigEndian.Uint16(frame[2:4])),
	}
	table := c.s.versions
	vr, enabled := table[h.APIKey]
	if !enabled {
		if kmsg.RequestForKey(h.APIKey) == nil {
			return c.protocolError(fmt.Errorf("unknown API key %d", h.APIKey))
		}
		return c.protocolError(fmt.Errorf("received request api key %s which is not enabled", kmsg.NameForKey(h.APIKey)))
	}
	req := kmsg.RequestForKey(h.APIKey)
	req.SetVersion(h.APIVersion)
	body, err := parseRequestHeader(frame, &h, req.IsFlexible())
	if err != nil {
		return c.protocolError(fmt.Errorf("error parsing request header, api key %d: %w", h.APIKey, err))
	}
	rc := &RequestContext{Conn: c.pub, Header: h, RequestSize: len(frame), bufs: &c.s.bigBufs, started: started}
	p := &pending{rc: rc, done: make(chan struct{}), version: h.APIVersion,
		hv: responseHeaderVersion(h.APIKey, req.IsFlexible())}
	supported := h.APIVersion >= vr[0] && h.APIVersion <= vr[1]

	if h.APIKey == keyApiVersions {
		p := c.apiVersions(rc, h, req, body, supported)
		if p == nil {
			return false
		}
		rc.bodySize = len(body)
		c.answeredInline(rc, req, p.resp)
		return c.enqueue(p)
	}
	if !supported {
		return c.protocolError(c.requestError(h, fmt.Errorf("unsupported version %d (supported %d-%d)", h.APIVersion, vr[0], vr[1])))
	}
	if err := req.ReadFrom(body); err != nil {
		return c.protocolError(c.requestError(h, err))
	}
	c.s.metrics.countRequest(h.APIKey)
	rc.bodySize = len(body)
	if f, ok := req.(*kmsg.FetchRequest); ok {
		rc.follower = f.ReplicaID >= 0
	}

	r, routed := c.s.routes[h.APIKey]
	if !routed && (h.APIKey == keySaslHandshake || h.APIKey == keySaslAuthenticate) {
		// Authenticated already, or no SASL on this listener: KafkaApis' answer.
		p.resp = illegalSaslState(h.APIKey)
		c.answeredInline(rc, req, p.resp)
		close(p.done)
		return c.enqueue(p)
	}

	if r.serial {
		c.running.Wait()
		keep := true
		if c.inflight.Load() == 0 {
			// Every earlier response is written (the writer is idle, and only this goroutine queues more): this one
			// is written here, without waking the writer twice (queued, then done) per request.
			c.run(p, r, req)
			if keep = c.respond(p, &c.inlineBuf); !keep {
				c.cancel() // the writer closes the socket
			}
		} else {
			if !c.enqueue(p) {
				return false
			}
			c.run(p, r, req)
		}
		if pooled != nil && recyclableFrame(h.APIKey, r.serial) {
			c.s.bigBufs.put(pooled)
		}
		return keep
	}
	if !c.enqueue(p) {
		return false
	}
	c.running.Add(1)
	c.s.wg.Add(1)
	go func() {
		defer c.s.wg.Done()
		defer c.running.Done()
		c.run(p, r, req)
	}()
	return true
}

// apiVersions answers an ApiVersions request (before or after authentication); nil means the connection is
// closing because the body did not decode.
func (c *conn) apiVersions(rc *RequestContext, h RequestHeader, req kmsg.Request, body []byte, supported bool) *pending {
	c.s.metrics.countRequest(h.APIKey)
	if !supported {
		// Not parsed at all: answered as v0 with UNSUPPORTED_VERSION (RequestContext.parseRequest).
		return &pending{rc: rc, done: closedChan, resp: unsupportedApiVersionsResponse(c.s.versions)}
	}
	if err := req.ReadFrom(body); err != nil {
		c.protocolError(c.requestError(h, err))
		return nil
	}
	avReq := req.(*kmsg.ApiVersionsRequest)
	resp := apiVersionsResponse(avReq, c.s.versions)
	if resp.ErrorCode == 0 {
		if avReq.Version >= 3 {
			c.pub.mu.Lock()
			c.pub.swName, c.pub.swVersion = avReq.ClientSoftwareName, avReq.ClientSoftwareVersion
			c.pub.mu.Unlock()
		}
		if hook := c.s.cfg.ApiVersionsHook; hook != nil {
			hook(rc, resp)
		}
	}
	return &pending{rc: rc, done: closedChan, resp: resp, version: h.APIVersion}
}

// requestError is Kafka's InvalidRequestException text for a body that cannot be parsed.
func (c *conn) requestError(h RequestHeader, err error) error {
	return fmt.Errorf("error getting request for apiKey: %s, apiVersion: %d, connectionId: %s, listenerName: %s, principal: %s: %w",
		kmsg.NameForKey(h.APIKey), h.APIVersion, c.pub.id, c.pub.listener, c.pub.Principal(), err)
}

// protocolError queues a close marker behind earlier requests: Kafka reads a request only
// after answering the previous one, so those answers reach the client before the close.
func (c *conn) protocolError(err error) bool {
	c.queue <- &pending{closeErr: err, closeLevel: slog.LevelError}
	return false
}

// enqueue takes an in-flight slot (blocking reads when the connection is at its bound) and
// appends p to the response order.
func (c *conn) enqueue(p *pending) bool {
	select {
	case c.slots <- struct{}{}:
	case <-c.ctx.Done():
		return false
	}
	c.inflight.Add(1)
	c.queue <- p
	return true
}

func (c *conn) run(p *pending, r route, req kmsg.Request) {
	defer func() {
		close(p.done)
		// Closed before the check: either the writer's teardown (which cancels, then drains) sees p done, or this
		// sees the cancellation. Both releasing is harmless.
		if c.ctx.Err() != nil {
			p.rc.releaseRegions()
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			p.resp, p.err = nil, fmt.Errorf("handler panic: %v\n%s", v, debug.Stack())
		}
	}()
	p.rc.times.dequeued = time.Now()
	p.resp, p.err = r.h(c.ctx, p.rc, req)
	p.rc.times.completed = time.Now()
	if p.err != nil {
		p.err = fmt.Errorf("%s v%d handler: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), p.err)
		return
	}
	c.handled(p.rc, req, p.resp)
}

// answeredInline is run's bookkeeping for a request kwire answers itself on the reader (ApiVersions, SASL requests
// after authentication): no handler time, then the Handled hook.
func (c *conn) answeredInline(rc *RequestContext, req kmsg.Request, resp kmsg.Response) {
	rc.times.dequeued = time.Now()
	rc.times.completed = rc.times.dequeued
	c.handled(rc, req, resp)
}

// handled passes a request answered after authentication to the server's Handled hook.
func (c *conn) handled(rc *RequestContext, req kmsg.Request, resp kmsg.Response) {
	if f := c.s.cfg.Handled; f != nil {
		f(rc, req, resp)
	}
}

func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	var p *pending
	defer func() {
		c.cancel()
		_ = c.nc.Close()
		c.s.metrics.ConnectionsActive.Add(-1)
		if c.admitted {
			c.s.conns.remove(c)
			c.s.cfg.Admission.Release(c.s.cfg.ListenerName, c.ip)
		}
		c.dropQueued(p)
	}()
	var buf []byte // the writer's encoding buffer
	for {
		select {
		case p = <-c.queue:
		case <-c.ctx.Done():
			return
		}
		if p.closeErr != nil {
			c.s.metrics.ConnectionsFailed.Add(1)
			c.log.Log(context.Background(), p.closeLevel, "closing socket because of error", "err", p.closeErr)
			return
		}
		select {
		case <-p.done:
		case <-c.ctx.Done():
			return
		}
		if !c.respond(p, &buf) {
			return
		}
		c.inflight.Add(-1)
		<-c.slots
		p = nil
	}
}

// respond writes the response of p, whose handler is done, and releases what it holds, whatever happens. false
// means the connection must close (an error, or the handler asked for it). buf is the caller's encoding buffer, kept
// across responses.
func (c *conn) respond(p *pending, buf *[]byte) bool {
	defer func() {
		p.rc.releaseScratch() // also for requests without a response (acks=0)
		p.rc.releaseRegions()
	}()
	if p.err != nil {
		if c.ctx.Err() != nil && errors.Is(p.err, context.Canceled) {
			// The client went away while the handler waited (a long-polling fetch): not an error.
			c.log.Debug("connection closed during a request", "err", p.err)
			return false
		}
		c.s.metrics.ConnectionsFailed.Add(1)
		c.log.Error("closing socket because of error", "err", p.err)
		return false
	}
	rm := c.s.cfg.RequestMetrics
	var sendStart time.Time
	if p.rc.onSent != nil || rm != nil || c.admitted {
		sendStart = time.Now()
	}
	if p.resp != nil || p.raw != nil {
		b, out, err := c.encodeVec((*buf)[:0], p)
		*buf = b
		if err != nil {
			c.s.metrics.ConnectionsFailed.Add(1)
			c.log.Error("closing socket because of error", "err", err)
			return false
		}
		n, err := c.writePieces(p.rc, out)
		c.s.metrics.BytesOut.Add(n)
		if err != nil {
			if regionError(err) {
				// Part of the response is out: its framing cannot be kept. The client reconnects and fetches again.
				c.s.metrics.ConnectionsFailed.Add(1)
				c.log.Warn("closing socket: fetched records could not be sent from the log", "err", err)
				return false
			}
			c.log.Debug("write failed", "err", err)
			return false
		}
		if cap(*buf) > 1<<20 {
			*buf = nil // a rare large encoding is not kept pinned to this connection
		}
		end := time.Now()
		if p.rc.onSent != nil {
			p.rc.onSent(end.Sub(sendStart))
		}
		if rm != nil {
			rm.observe(p.rc, p.resp, sendStart, end)
		}
		if c.admitted {
			// When the write began: the peer can act on the response (on another connection, say) before this
			// goroutine runs again, and that later activity must not look older than this.
			c.lastActive.Store(sendStart.UnixNano())
		}
	} else if rm != nil {
		rm.observe(p.rc, nil, sendStart, sendStart) // no response (acks=0)
	}
	if p.rc.closeAfter.Load() {
		c.log.Debug("closing connection after response as requested by handler")
		return false
	}
	return true
}

// dropQueued releases the file regions of the responses that will not be written: cur (the one being written
// when the writer stopped, if any) and those still queued whose handlers are done. Handlers finishing later see
// the connection cancelled and release their own (run).
func (c *conn) dropQueued(cur *pending) {
	drop := func(p *pending) {
		if p == nil || p.rc == nil || p.done == nil {
			return
		}
		select {
		case <-p.done:
			p.rc.releaseRegions()
		default:
		}
	}
	drop(cur)
	for {
		select {
		case p := <-c.queue:
			drop(p)
		default:
			return
		}
	}
}

// vecMin is the size from which a Fetch partition's records go out by reference instead of being copied into the
// encoded response.
const vecMin = 4 << 10

// encodeVec encodes p into dst and returns the buffers to write: dst alone, or for a Fetch response with large
// record sets, dst's pieces around the stored record bytes, so that those go to the socket with one writev and no
// copy. kmsg still encodes the whole response: each large RecordBatches is swapped for a unique 16-byte marker while
// it does, and the marker (with its length prefix) is then cut out of the encoding and replaced by the real length
// and a reference to the real bytes.
func (c *conn) encodeVec(dst []byte, p *pending) ([]byte, net.Buffers, error) {
	fr, ok := p.resp.(*kmsg.FetchResponse)
	if !ok || p.raw != nil {
		dst, err := c.encode(dst, p)
		return dst, net.Buffers{dst}, err
	}
	type swap struct {
		rp   *kmsg.FetchResponseTopicPartition
		recs []byte
		n    int // the records' length: len(recs), or a region's
	}
	var swaps []swap
	for ti := range fr.Topics {
		for pi := range fr.Topics[ti].Partitions {
			rp := &fr.Topics[ti].Partitions[pi]
			if r := p.rc.region(rp.RecordBatches); r != nil {
				swaps = append(swaps, swap{rp, rp.RecordBatches, r.Len})
			} else if len(rp.RecordBatches) >= vecMin {
				swaps = append(swaps, swap{rp, rp.RecordBatches, len(rp.RecordBatches)})
			}
		}
	}
	if len(swaps) == 0 {
		dst, err := c.encode(dst, p)
		return dst, net.Buffers{dst}, err
	}
	const markerLen = 16
	markers := make([]byte, markerLen*len(swaps))
	for i, s := range swaps {
		m := markers[i*markerLen : (i+1)*markerLen : (i+1)*markerLen]
		binary.BigEndian.PutUint64(m, c.nonce)
		binary.BigEndian.PutUint64(m[8:], uint64(i))
		s.rp.RecordBatches = m
	}
	dst, err := c.encode(dst, p)
	for _, s := range swaps {
		s.rp.RecordBatches = s.recs
	}
	if err != nil {
		return dst, nil, err
	}
	// A marker's length prefix: int32 16, or in flexible versions (v12+) the compact uvarint 16+1.
	prefix := []byte{0, 0, 0, markerLen}
	if fr.Version >= 12 {
		prefix = []byte{markerLen + 1}
	}
	out := make(net.Buffers, 0, 3*len(swaps)+1)
	lens := make([]byte, 0, 5*len(swaps))
	prev, size := 0, len(dst)-4
	for i, s := range swaps {
		m := markers[i*markerLen : (i+1)*markerLen]
		j := bytes.Index(dst[prev:], m)
		at := prev + j
		if j < 0 || at-len(prefix) < prev || !bytes.Equal(dst[at-len(prefix):at], prefix) {
			// Cannot happen with a random nonce; encode the ordinary way rather than send garbage (which file
			// regions cannot be: their bytes are not here).
			if p.rc.hasRegions() {
				return dst, nil, errors.New("fetch response encoding: record set marker not found")
			}
			dst, err := c.encode(dst[:0], p)
			return dst, net.Buffers{dst}, err
		}
		l := len(lens)
		if fr.Version >= 12 {
			lens = binary.AppendUvarint(lens, uint64(s.n)+1)
		} else {
			lens = binary.BigEndian.AppendUint32(lens, uint32(s.n))
		}
		out = append(out, dst[prev:at-len(prefix)], lens[l:], s.recs)
		size += len(lens) - l + s.n - len(prefix) - markerLen
		prev = at + markerLen
	}
	out = append(out, dst[prev:])
	binary.BigEndian.PutUint32(dst, uint32(size))
	return dst, out, nil
}

func (c *conn) encode(dst []byte, p *pending) ([]byte, error) {
	if p.raw != nil {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p.raw)))
		return append(dst, p.raw...), nil
	}
	h := p.rc.Header
	if p.resp.Key() != h.APIKey {
		return nil, fmt.Errorf("handler for %s returned a %s response", kmsg.NameForKey(h.APIKey), kmsg.NameForKey(p.resp.Key()))
	}
	p.resp.SetVersion(p.version)
	dst = append(dst, 0, 0, 0, 0)
	dst = appendResponseHeader(dst, h.CorrelationID, p.hv)
	dst = p.resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst, uint32(len(dst)-4))
	return dst, nil
}

// idAddr is an address as Kafka's connection id writes it: the host as Java's getHostAddress, a colon and the port
// ("0:0:0:0:0:0:0:1:9092" for [::1]:9092).
func idAddr(a net.Addr) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return javanet.ZonedAddressText(t.IP, t.Zone) + ":" + strconv.Itoa(t.Port)
	}
	if a == nil {
		return ""
	}
	return a.String()
}

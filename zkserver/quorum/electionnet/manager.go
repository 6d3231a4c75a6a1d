// Package electionnet carries election notifications between ZooKeeper servers on their election ports, as
// Apache's QuorumCnxManager does: the same connection handshake, the rule that only a connection opened by the
// larger server id survives, length-prefixed messages, one queued message per peer (the newest) and the last
// one sent again on every new connection. Node runs a zkserver/quorum/election state machine over it.
package electionnet

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/zkafka/zkafka/zkserver/quorum/peertls"
	"github.com/zkafka/zkafka/zkserver/quorum/quorumauth"
)

// Handshake and framing limits (QuorumCnxManager).
const (
	protocolV1 = -65536 // PROTOCOL_VERSION_V1: one election address
	protocolV2 = -65535 // PROTOCOL_VERSION_V2: '|'-separated addresses (multiAddress.enabled)
	// maxAddressLen bounds the handshake's address string (maxBuffer).
	maxAddressLen = 2048
	// MaxMessageSize bounds a message (PACKETMAXSIZE); a larger length closes the connection.
	MaxMessageSize = 512 * 1024
	// observerID is the sid an observer without an id sends (QuorumPeer.OBSERVER_ID).
	observerID = math.MaxInt64
	// recvCapacity is the receive queue's size; when full the oldest message is dropped (RECV_CAPACITY).
	recvCapacity = 100
	// DefaultConnectTimeout is zookeeper.cnxTimeout's default.
	DefaultConnectTimeout = 5 * time.Second
)

// Config tells a Manager who it is and where its peers listen.
type Config struct {
	MyID int64
	// ListenAddr is the election address to bind (host:port).
	ListenAddr string
	// AdvertiseAddr is the address sent in the handshake (host:port); default ListenAddr as bound.
	AdvertiseAddr string
	// Peers maps server ids to election addresses (host:port).
	Peers map[int64]string
	// ConnectTimeout bounds dialing and the handshake (zookeeper.cnxTimeout, default 5 s).
	ConnectTimeout time.Duration
	Logger         *slog.Logger
	// Transport dials and serves peers: plaintext (nil), TLS (sslQuorum) or either (portUnification).
	Transport *peertls.Config
	// Auth is quorum SASL (nil: none): we authenticate to the voters we dial (Voters) and check who dials us.
	Auth   *quorumauth.Config
	Voters map[int64]bool
}

// Message is a received payload and the server it came from.
type Message struct {
	From    int64
	Payload []byte
}

// Manager holds the election connections of one server.
type Manager struct {
	cfg Config
	log *slog.Logger
	ln  net.Listener

	mu       sync.Mutex
	peers    map[int64]*peer
	nextAnon int64 // synthetic ids for observers that send OBSERVER_ID
	closed   bool

	recv chan Message
	wg   sync.WaitGroup
}

// peer is the connection state towards one server.
type peer struct {
	queue      chan []byte // capacity 1: the newest message waits, older ones are replaced
	last       []byte      // the last message written, written again first on a new connection
	conn       net.Conn
	connecting bool
	addr       string // from config, or from the handshake of a server not in it
}

// Listen binds the election address and starts accepting peers.
func Listen(cfg Config) (*Manager, error) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("election port %s: %w", cfg.ListenAddr, err)
	}
	if cfg.AdvertiseAddr == "" {
		cfg.AdvertiseAddr = ln.Addr().String()
	}
	m := &Manager{cfg: cfg, log: cfg.Logger.With("myid", cfg.MyID), ln: ln, peers: map[int64]*peer{},
		nextAnon: -1, recv: make(chan Message, recvCapacity)}
	m.wg.Add(1)
	go m.accept()
	return m, nil
}

// Addr is the bound election address.
func (m *Manager) Addr() net.Addr { return m.ln.Addr() }

// Recv delivers received messages.
func (m *Manager) Recv() <-chan Message { return m.recv }

// Close stops listening and closes every connection.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	for _, p := range m.peers {
		if p.conn != nil {
			p.conn.Close()
		}
	}
	m.mu.Unlock()
	err := m.ln.Close()
	m.wg.Wait()
	return err
}

// SetPeers replaces the members' election addresses and the voters after a reconfiguration; connections open
// stay, new members are dialled when there is something to send them.
func (m *Manager) SetPeers(peers map[int64]string, voters map[int64]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Peers, m.cfg.Voters = peers, voters
	for sid, p := range m.peers {
		if a, ok := peers[sid]; ok {
			p.addr = a
		}
	}
}

func (m *Manager) voter(sid int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg.Voters[sid]
}

func (m *Manager) peerLocked(sid int64) *peer {
	p := m.peers[sid]
	if p == nil {
		p = &peer{queue: make(chan []byte, 1), addr: m.cfg.Peers[sid]}
		m.peers[sid] = p
	}
	return p
}

// Send queues payload for sid, replacing a message still waiting there, and connects if not connected.
func (m *Manager) Send(sid int64, payload []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	p := m.peerLocked(sid)
	for {
		select {
		case p.queue <- payload:
			m.connectLocked(sid, p)
			return
		default:
			select {
			case <-p.queue:
			default:
			}
		}
	}
}

// connectLocked dials sid unless connected or dialing already.
func (m *Manager) connectLocked(sid int64, p *peer) {
	if p.conn != nil || p.connecting || p.addr == "" || m.closed {
		return
	}
	p.connecting = true
	addr := p.addr
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.dial(sid, addr)
	}()
}

// dial opens a connection to sid and sends the handshake. A connection to a larger sid is closed right after
// it: that server dials back, and only its connection is kept.
func (m *Manager) dial(sid int64, addr string) {
	conn, err := m.cfg.Transport.Dial(context.Background(), addr, m.cfg.ConnectTimeout)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(m.cfg.ConnectTimeout))
		_, err = conn.Write(handshake(m.cfg.MyID, m.cfg.AdvertiseAddr))
		if err == nil && m.voter(sid) {
			// QuorumCnxManager authenticates to voting members only, whichever side keeps the connection.
			err = m.cfg.Auth.Learn(conn, conn, addr)
		}
		_ = conn.SetDeadline(time.Time{})
		if err != nil {
			conn.Close()
		}
	}
	m.mu.Lock()
	p := m.peerLocked(sid)
	p.connecting = false
	m.mu.Unlock()
	if err != nil {
		// A peer that is down is retried quietly; one that answered but failed the TLS handshake or the quorum
		// SASL login is a configuration to look at.
		level := slog.LevelWarn
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			level = slog.LevelDebug
		}
		m.log.Log(context.Background(), level, "cannot open election connection", "sid", sid, "addr", addr, "err", err)
		return
	}
	if sid > m.cfg.MyID {
		m.log.Debug("have smaller server identifier, dropping the connection", "sid", sid)
		conn.Close()
		return
	}
	m.start(sid, conn, bufio.NewReader(conn))
}

// handshake is the initiator's first message: protocol version, our sid, our election address.
func handshake(myID int64, addr string) []byte {
	b := binary.BigEndian.AppendUint64(nil, 0xffff_ffff_ffff_0000) // protocolV1 in two's complement
	b = binary.BigEndian.AppendUint64(b, uint64(myID))
	b = binary.BigEndian.AppendUint32(b, uint32(len(addr)))
	return append(b, addr...)
}

func (m *Manager) accept() {
	defer m.wg.Done()
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				m.log.Warn("election port accept", "err", err)
			}
			return
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.handle(m.cfg.Transport.Server(conn))
		}()
	}
}

// readHandshake reads the initiator's sid and election address (empty for the old bare-sid form).
func readHandshake(r io.Reader) (int64, string, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, "", err
	}
	first := int64(binary.BigEndian.Uint64(hdr[:]))
	if first >= 0 {
		return first, "", nil // a server of before 3.5 sends its bare sid
	}
	if first != protocolV1 && first != protocolV2 {
		return 0, "", fmt.Errorf("unknown protocol version %d", first)
	}
	var rest [12]byte
	if _, err := io.ReadFull(r, rest[:]); err != nil {
		return 0, "", err
	}
	sid := int64(binary.BigEndian.Uint64(rest[:]))
	n := int32(binary.BigEndian.Uint32(rest[8:]))
	if n <= 0 || n > maxAddressLen {
		return 0, "", fmt.Errorf("unreasonable address length %d", n)
	}
	addr := make([]byte, n)
	if _, err := io.ReadFull(r, addr); err != nil {
		return 0, "", err
	}
	return sid, string(addr), nil
}

// handle takes an inbound connection: a smaller sid is closed and dialed back, ours is refused.
func (m *Manager) handle(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(m.cfg.ConnectTimeout))
	r := bufio.NewReader(conn)
	sid, addr, err := readHandshake(r)
	if err == nil {
		err = m.cfg.Auth.Serve(r, conn, conn.RemoteAddr().String())
	}
	_ = conn.SetDeadline(time.Time{})
	if err != nil {
		m.log.Warn("election connection handshake", "remote", conn.RemoteAddr(), "err", err)
		conn.Close()
		return
	}
	m.mu.Lock()
	if sid == observerID {
		sid = m.nextAnon
		m.nextAnon--
	}
	m.mu.Unlock()
	switch {
	case sid < m.cfg.MyID:
		conn.Close()
		m.mu.Lock()
		p := m.peerLocked(sid)
		if p.conn != nil {
			p.conn.Close()
			p.conn = nil
		}
		if addr != "" {
			p.addr, _, _ = strings.Cut(addr, "|") // V2 sends '|'-separated addresses
		}
		m.connectLocked(sid, p)
		m.mu.Unlock()
	case sid == m.cfg.MyID:
		m.log.Warn("election connection from a server with our own id: a configuration error", "remote", conn.RemoteAddr())
		conn.Close()
	default:
		m.start(sid, conn, r)
	}
}

// start makes conn the connection to sid (closing an older one) and runs its writer and reader.
func (m *Manager) start(sid int64, conn net.Conn, r *bufio.Reader) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		conn.Close()
		return
	}
	p := m.peerLocked(sid)
	if p.conn != nil {
		p.conn.Close()
	}
	p.conn = conn
	m.mu.Unlock()
	done := make(chan struct{})
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		m.write(sid, p, conn, done)
	}()
	go func() {
		defer m.wg.Done()
		defer close(done)
		m.read(sid, conn, r)
		m.mu.Lock()
		if p.conn == conn {
			p.conn = nil
		}
		m.mu.Unlock()
		conn.Close()
	}()
}

func (m *Manager) write(sid int64, p *peer, conn net.Conn, done <-chan struct{}) {
	m.mu.Lock()
	resend := p.last
	m.mu.Unlock()
	if len(p.queue) == 0 && resend != nil {
		// The peer may have lost the last message with the old connection; duplicates are harmless.
		if err := writeFrame(conn, resend); err != nil {
			conn.Close()
			return
		}
	}
	for {
		select {
		case <-done:
			return
		case b := <-p.queue:
			// Recorded before the write, as Apache's SendWorker puts lastMessageSent before send: a peer that read
			// b and reconnected at once must get it again from the next connection's writer.
			m.mu.Lock()
			p.last = b
			m.mu.Unlock()
			if err := writeFrame(conn, b); err != nil {
				m.log.Debug("election connection write", "sid", sid, "err", err)
				// Keep it for the next connection, unless something newer is queued already.
				select {
				case p.queue <- b:
				default:
				}
				conn.Close()
				return
			}
		}
	}
}

func writeFrame(conn net.Conn, b []byte) error {
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(b)), uint32(len(b)))
	_, err := conn.Write(append(frame, b...))
	return err
}

func (m *Manager) read(sid int64, conn net.Conn, r *bufio.Reader) {
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int32(binary.BigEndian.Uint32(hdr[:]))
		if n <= 0 || n > MaxMessageSize {
			m.log.Warn("election message of unacceptable length, closing the connection", "sid", sid, "length", n)
			return
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return
		}
		m.deliver(Message{From: sid, Payload: b})
	}
}

// deliver queues a received message, dropping the oldest when the queue is full.
func (m *Manager) deliver(msg Message) {
	for {
		select {
		case m.recv <- msg:
			return
		default:
			select {
			case <-m.recv:
			default:
			}
		}
	}
}

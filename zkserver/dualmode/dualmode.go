// Package dualmode serves TLS and plaintext peers on one port (Apache's port unification, for clients and for
// quorum peers), each connection's first byte telling which.
package dualmode

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
)

// tlsHandshakeRecord is the first byte of a TLS client's first record.
const tlsHandshakeRecord = 0x16

// Conn is an accepted connection on a port that takes TLS and plaintext peers alike. Its first byte decides, as
// Apache's DualModeSslHandler and UnifiedServerSocket do when fewer than a record header's five bytes have come: a
// plaintext peer's first byte is the top byte of its first frame's length or of its protocol version, never 0x16
// for a frame a server accepts. The embedded socket keeps Close, the addresses and deadlines; reads and writes go
// to what Detect chose, and the first of them detects if Detect was not called.
type Conn struct {
	net.Conn
	cfg *tls.Config

	detecting sync.Mutex // held while the first byte is awaited, so that one caller reads it
	mu        sync.Mutex // guards what follows
	detected  bool
	rw        net.Conn // the socket behind a reader that kept the peeked byte, or the TLS connection over it
	tls       *tls.Conn
}

// Server wraps an accepted connection; a TLS peer is served with cfg.
func Server(c net.Conn, cfg *tls.Config) *Conn { return &Conn{Conn: c, cfg: cfg} }

// Detect waits for the peer's first byte and picks plaintext or TLS. Only the first call reads.
func (u *Conn) Detect() error {
	u.detecting.Lock()
	defer u.detecting.Unlock()
	u.mu.Lock()
	done := u.detected
	u.mu.Unlock()
	if done {
		return nil
	}
	br := bufio.NewReader(u.Conn)
	first, err := br.Peek(1)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.detected = true
	peeked := &peekedConn{Conn: u.Conn, r: br}
	if first[0] == tlsHandshakeRecord {
		u.tls = tls.Server(peeked, u.cfg)
		u.rw = u.tls
	} else {
		u.rw = peeked
	}
	return nil
}

// TLS is the TLS connection, nil for a plaintext peer (or before detection).
func (u *Conn) TLS() *tls.Conn {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tls
}

func (u *Conn) current() (net.Conn, error) {
	if err := u.Detect(); err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rw, nil
}

func (u *Conn) Read(p []byte) (int, error) {
	c, err := u.current()
	if err != nil {
		return 0, err
	}
	return c.Read(p)
}

func (u *Conn) Write(p []byte) (int, error) {
	c, err := u.current()
	if err != nil {
		return 0, err
	}
	return c.Write(p)
}

// peekedConn reads through the reader that holds the bytes Detect looked at.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

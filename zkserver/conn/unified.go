package conn

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
)

// tlsHandshakeRecord is the first byte of a TLS client's first record.
const tlsHandshakeRecord = 0x16

// unifiedConn is a connection on a port that takes TLS and plaintext clients alike (client.portUnification). Its
// first byte decides, as Apache's DualModeSslHandler does when fewer than a record header's five bytes have come: a
// plaintext client's first byte is the top byte of its first frame's length, never 0x16 for a frame a server
// accepts. The embedded socket keeps Close, the addresses and deadlines; reads and writes go to what detect chose.
type unifiedConn struct {
	net.Conn
	mu  sync.Mutex
	rw  net.Conn // the socket behind a reader that kept the peeked byte, or the TLS connection over it
	tls *tls.Conn
}

// detect waits for the client's first byte and picks plaintext or TLS.
func (u *unifiedConn) detect(cfg *tls.Config) error {
	br := bufio.NewReader(u.Conn)
	first, err := br.Peek(1)
	if err != nil {
		return err
	}
	peeked := &peekedConn{Conn: u.Conn, r: br}
	u.mu.Lock()
	defer u.mu.Unlock()
	if first[0] == tlsHandshakeRecord {
		u.tls = tls.Server(peeked, cfg)
		u.rw = u.tls
	} else {
		u.rw = peeked
	}
	return nil
}

// tlsConn is the TLS connection, nil for a plaintext client (or before detect).
func (u *unifiedConn) tlsConn() *tls.Conn {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tls
}

func (u *unifiedConn) current() net.Conn {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rw
}

func (u *unifiedConn) Read(p []byte) (int, error)  { return u.current().Read(p) }
func (u *unifiedConn) Write(p []byte) (int, error) { return u.current().Write(p) }

// peekedConn reads through the reader that holds the bytes detect looked at.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

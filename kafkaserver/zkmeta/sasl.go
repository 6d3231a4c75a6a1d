package zkmeta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/sasl"
)

// opSASL is ZooKeeper's SASL request (ZooDefs.OpCode.sasl).
const opSASL = 102

// ErrSASLAuthFailed is a ZooKeeper server's refusal of the session's SASL login.
var ErrSASLAuthFailed = errors.New("SASL authentication to ZooKeeper failed")

// WithSASL logs every connection in with DIGEST-MD5 as user (a JAAS Client section's DigestLoginModule), as
// ZooKeeper's Java client does when the JAAS file has its login context: right after the session is established
// and before any other request. go-zookeeper has no SASL, so the exchange runs inside the connection, before the
// connect response reaches it.
func WithSASL(user, password string) Option {
	return func(o *options) { o.sasl = &saslLogin{user: user, password: password} }
}

type saslLogin struct {
	user, password string
	mu             sync.Mutex
	failed         chan struct{} // closed at the first refusal
	err            error
}

func (l *saslLogin) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
		close(l.failed)
	}
}

// dialer wraps d: each connection it makes authenticates before go-zookeeper reads the connect response.
func (l *saslLogin) dialer(d zk.Dialer) zk.Dialer {
	return func(network, address string, timeout time.Duration) (net.Conn, error) {
		c, err := d(network, address, timeout)
		if err != nil {
			return nil, err
		}
		return &saslConn{Conn: c, login: l, timeout: timeout}, nil
	}
}

// saslConn holds back the server's connect response until the SASL exchange that follows it has succeeded.
type saslConn struct {
	net.Conn
	login   *saslLogin
	timeout time.Duration
	done    bool   // the exchange ran; reads go to pending, then to the socket
	pending []byte // the connect response frame
}

func (c *saslConn) Read(p []byte) (int, error) {
	if !c.done {
		c.done = true
		body, err := jute.ReadFrame(c.Conn, jute.DefaultMaxBuffer)
		if err != nil {
			return 0, err
		}
		var rsp jute.ConnectResponse
		if err := jute.Unmarshal(body, &rsp); err == nil && rsp.TimeOut > 0 {
			if err := c.authenticate(); err != nil {
				c.Conn.Close()
				return 0, err
			}
		} // an expired session (timeout 0) has nothing to log in to
		c.pending = append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...) // the frame as it came
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// authenticate runs the DIGEST-MD5 exchange as ZooKeeperSaslClient does: an empty first token, the response to the
// server's challenge, then the server's rspauth checked.
func (c *saslConn) authenticate() error {
	cl := sasl.NewDigestClient(c.login.user, c.login.password, sasl.ClientProtocol, sasl.ClientServerName, nil)
	token := []byte{}
	for xid := int32(1); ; xid++ {
		req := jute.Marshal(&jute.RequestHeader{Xid: xid, Type: opSASL})
		req = append(req, jute.Marshal(&jute.GetSASLRequest{Token: token})...)
		frame := binary.BigEndian.AppendUint32(nil, uint32(len(req)))
		c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
		if _, err := c.Conn.Write(append(frame, req...)); err != nil {
			return fmt.Errorf("send SASL token: %w", err)
		}
		reply, err := jute.ReadFrame(c.Conn, jute.DefaultMaxBuffer)
		if err != nil {
			return fmt.Errorf("read SASL reply: %w", err)
		}
		d := jute.NewDecoder(reply)
		var hdr jute.ReplyHeader
		hdr.Decode(d)
		if d.Err() != nil || hdr.Xid != xid {
			return fmt.Errorf("read SASL reply: unexpected reply (xid %d): %v", hdr.Xid, d.Err())
		}
		if hdr.Err != 0 {
			err := fmt.Errorf("%w: %s", ErrSASLAuthFailed, jute.Err(hdr.Err))
			c.login.fail(err)
			return err
		}
		var rsp jute.SetSASLResponse
		rsp.Decode(d)
		if d.Err() != nil {
			return fmt.Errorf("read SASL reply: %w", d.Err())
		}
		if token, err = cl.Step(rsp.Token); err != nil {
			err = fmt.Errorf("%w: %w", ErrSASLAuthFailed, err)
			c.login.fail(err)
			return err
		}
		if cl.Complete() {
			return nil
		}
	}
}

package zkmeta

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/jcmturner/gokrb5/v8/client"

	"github.com/zkafka/zkafka/compat/javanet"
	"github.com/zkafka/zkafka/compat/kerberos"
	"github.com/zkafka/zkafka/compat/serverprops"
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
	return func(o *options) {
		o.sasl = &saslLogin{start: func(string) (saslMechanism, []byte, error) {
			return sasl.NewDigestClient(user, password, sasl.ClientProtocol, sasl.ClientServerName, nil), []byte{}, nil
		}}
	}
}

// WithKerberos logs every connection in with GSSAPI, as ZooKeeper's Java client does with a Krb5LoginModule Client
// section: a ticket for the server principal ZooKeeper's client names for the address it connects to (see
// ServerPrincipal), as the JDK's GSSAPI names that host-based service (kerberos.StartSASL: its host canonicalized
// unless krb5.conf's dns_canonicalize_hostname is false, its realm by [domain_realm], else the default realm;
// zookeeper.server.realm plays no part, as in ZooKeeper's client, which hands GSSAPI only the service and host
// names). The connect string's names are then looked up through the resolver of WithResolver, and each address
// keeps its name, as the Java client's StaticHostProvider keeps it.
func WithKerberos(kc *client.Client, jvm map[string]string) Option {
	return func(o *options) {
		l := &saslLogin{hosts: &hostProvider{}}
		l.start = func(address string) (saslMechanism, []byte, error) {
			ctx := context.Background()
			r := l.hosts.r
			service, host, err := ServerPrincipal(ctx, r, address, l.hosts.name(address), jvm)
			if err != nil {
				return nil, nil, err
			}
			c, first, err := kerberos.StartSASL(ctx, r, kc, service, host, "")
			if err != nil {
				return nil, nil, err
			}
			return c, first, nil
		}
		o.sasl = l
	}
}

// WithResolver looks the ZooKeeper servers' names and addresses up through r for a Kerberos login (tests give
// names only their resolver knows).
func WithResolver(r javanet.Resolver) Option { return func(o *options) { o.resolver = r } }

// ServerPrincipal is SaslServerPrincipal.getServerPrincipal for the connection to address ("ip:port") made for
// the connect string's host name ("" when the connect string gives the address): zookeeper.server.principal when
// set, else zookeeper.sasl.client.username ("zookeeper") and the host: with
// zookeeper.sasl.client.canonicalize.hostname (true unless set to anything but "true", any case) the address's
// canonical name (javanet.CanonicalHostName), unless it has none; else, or without one, the connect string's
// name, and for an address the connect string gives, the address's name looked up in reverse (getHostName).
func ServerPrincipal(ctx context.Context, r javanet.Resolver, address, name string,
	jvm map[string]string) (service, host string, err error) {
	if p, ok := jvm["zookeeper.server.principal"]; ok {
		p, _, _ = strings.Cut(p, "@")
		service, host, _ = strings.Cut(p, "/")
		return service, host, nil
	}
	service = "zookeeper"
	if v, ok := jvm["zookeeper.sasl.client.username"]; ok {
		service = v
	}
	h, _, err := net.SplitHostPort(address)
	if err != nil {
		return "", "", fmt.Errorf("ZooKeeper server address %s: %w", address, err)
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return "", "", fmt.Errorf("ZooKeeper server address %s is not an IP address", address)
	}
	host = name
	if host == "" {
		host = javanet.CanonicalHostName(ctx, r, ip)
	}
	if v, ok := jvm["zookeeper.sasl.client.canonicalize.hostname"]; !ok || strings.EqualFold(v, "true") {
		if c := javanet.CanonicalHostName(ctx, r, ip); c != javanet.AddressText(ip) {
			host = c
		}
	}
	return service, host, nil
}

// saslMechanism is the client side of one SASL exchange.
type saslMechanism interface {
	// Step answers a server token; done when the exchange ends with resp (nil: nothing more to send).
	Step(challenge []byte) (resp []byte, done bool, err error)
}

type saslLogin struct {
	// start begins the exchange on a connection to address, as dialed.
	start  func(address string) (saslMechanism, []byte, error)
	hosts  *hostProvider // Kerberos: the servers as the Java client resolves them; nil for go-zookeeper's
	mu     sync.Mutex
	failed chan struct{} // closed at the first refusal
	err    error
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
		return &saslConn{Conn: c, login: l, address: address, timeout: timeout}, nil
	}
}

// saslConn holds back the server's connect response until the SASL exchange that follows it has succeeded.
type saslConn struct {
	net.Conn
	login   *saslLogin
	address string // as dialed
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

// authenticate runs the exchange as ZooKeeperSaslClient does: the mechanism's first token (DIGEST-MD5's is
// empty), then an answer to each server token until the mechanism is done; a last token of ours still gets the
// server's reply.
func (c *saslConn) authenticate() error {
	mech, token, err := c.login.start(c.address)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrSASLAuthFailed, err)
		c.login.fail(err)
		return err
	}
	last := false
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
		if last {
			return nil
		}
		var rsp jute.SetSASLResponse
		rsp.Decode(d)
		if d.Err() != nil {
			return fmt.Errorf("read SASL reply: %w", d.Err())
		}
		var done bool
		if token, done, err = mech.Step(rsp.Token); err != nil {
			err = fmt.Errorf("%w: %w", ErrSASLAuthFailed, err)
			c.login.fail(err)
			return err
		}
		if done && token == nil {
			return nil
		}
		last = done
	}
}

// SASLOption is the client option for a JAAS Client login: DIGEST-MD5 with its user, or Kerberos, logged in with
// the KDC at once as the Java client's Login does (a refused login fails here).
func SASLOption(l *serverprops.ZkLogin, jvm map[string]string) (Option, error) {
	if l.Krb5 == nil {
		return WithSASL(l.User, l.Password), nil
	}
	login, err := kerberos.FromJAAS(*l.Krb5, jvm)
	if err != nil {
		return nil, fmt.Errorf("ZooKeeper client Kerberos login: %w", err)
	}
	kc, err := login.Client()
	if err != nil {
		return nil, fmt.Errorf("ZooKeeper client Kerberos login: %w", err)
	}
	return WithKerberos(kc, jvm), nil
}

package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// quotaConn is a raw connection from a chosen loopback address, which asks ApiVersions to see whether the broker
// serves it.
type quotaConn struct {
	t  *testing.T
	nc net.Conn
}

func dialFrom(t *testing.T, from, to string) *quotaConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &quotaConn{t: t, nc: nc}
}

// served sends ApiVersions and waits up to wait for the answer: true when it came, false when the connection
// closed without one; a connection still open and unanswered after wait fails the test unless open is allowed.
func (q *quotaConn) served(wait time.Duration) (answered, open bool) {
	q.t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("quota")).AppendRequest(nil, req, 1)
	if _, err := q.nc.Write(frame); err != nil {
		return false, false // closed already: a reset
	}
	_ = q.nc.SetReadDeadline(time.Now().Add(wait))
	var sz [4]byte
	_, err := io.ReadFull(q.nc, sz[:])
	if err == nil {
		b := make([]byte, binary.BigEndian.Uint32(sz[:]))
		if _, err := io.ReadFull(q.nc, b); err != nil {
			q.t.Fatal(err)
		}
		return true, true
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false, true
	}
	return false, false
}

func (q *quotaConn) mustServe() {
	q.t.Helper()
	if ok, _ := q.served(20 * time.Second); !ok {
		q.t.Fatalf("connection from %s not served", q.nc.LocalAddr())
	}
}

func (q *quotaConn) mustClose(wait time.Duration) {
	q.t.Helper()
	if ok, open := q.served(wait); ok || open {
		q.t.Fatalf("connection from %s: served %v, open %v: want it closed", q.nc.LocalAddr(), ok, open)
	}
}

// The broker's connection limits as Kafka 2.8's ConnectionQuotas: max.connections.per.ip with its overrides (the
// connection over the limit closed at once, a freed slot taken again), raised by a dynamic config change; a
// listener's max.connections holds a new connection unserved until one closes; an IP over its
// connection_creation_rate quota (set with AlterClientQuotas) has its connection closed unanswered, while other
// addresses connect as before.
func TestConnectionQuotas(t *testing.T) {
	c := newCluster(t)
	ext := freePort(t)
	b := c.start(
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,EXTERNAL://127.0.0.1:%d", c.port, ext),
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT", "inter.broker.listener.name=PLAINTEXT",
		"max.connections.per.ip=1000", "max.connections.per.ip.overrides=127.0.0.2:2,127.0.0.3:0",
		"listener.name.external.max.connections=3", "quota.window.num=2", "zkafka.metrics.address=127.0.0.1:0")
	ctx := ctxT(t)
	plain, external := c.addr(), b.Addr("EXTERNAL").String()

	// Per IP: two from 127.0.0.2, the third closed; none from 127.0.0.3.
	a := dialFrom(t, "127.0.0.2", plain)
	a.mustServe()
	dialFrom(t, "127.0.0.2", plain).mustServe()
	dialFrom(t, "127.0.0.2", plain).mustClose(20 * time.Second)
	dialFrom(t, "127.0.0.3", plain).mustClose(20 * time.Second)
	a.nc.Close()
	c.waitFor("the closed connection released", func() bool { return b.connQuotas.Count(addr("127.0.0.2")) == 1 })
	dialFrom(t, "127.0.0.2", plain).mustServe()

	// A dynamic change of the overrides (cluster default) takes effect for the next connection.
	adm := kadm.NewClient(c.client())
	alter := func(kv ...string) {
		t.Helper()
		var ops []kadm.AlterConfig
		for i := 0; i < len(kv); i += 2 {
			ops = append(ops, kadm.AlterConfig{Name: kv[i], Value: &kv[i+1]})
		}
		res, err := adm.AlterBrokerConfigs(ctx, ops)
		if err == nil {
			for _, r := range res {
				err = errors.Join(err, r.Err)
			}
		}
		if err != nil {
			t.Fatalf("alter %v: %v", kv, err)
		}
	}
	alter("max.connections.per.ip.overrides", "127.0.0.2:3")
	c.waitFor("the new override applied", func() bool {
		q := dialFrom(t, "127.0.0.2", plain)
		ok, _ := q.served(5 * time.Second)
		return ok
	})

	// The EXTERNAL listener takes three connections; the fourth waits, unserved, until one of them closes.
	var held []*quotaConn
	for range 3 {
		q := dialFrom(t, "127.0.0.4", external)
		q.mustServe()
		held = append(held, q)
	}
	waiting := dialFrom(t, "127.0.0.4", external)
	if ok, open := waiting.served(300 * time.Millisecond); ok || !open {
		t.Fatalf("fourth connection on EXTERNAL: served %v, open %v: want it held", ok, open)
	}
	// PLAINTEXT, its own listener, is not held up.
	dialFrom(t, "127.0.0.4", plain).mustServe()
	held[0].nc.Close()
	waiting.mustServe()
	// A larger listener limit, set dynamically, frees the acceptor too.
	next := dialFrom(t, "127.0.0.4", external)
	if ok, open := next.served(300 * time.Millisecond); ok || !open {
		t.Fatalf("connection past EXTERNAL's limit: served %v, open %v: want it held", ok, open)
	}
	alter("listener.name.external.max.connections", "10")
	next.mustServe()

	// An IP connection rate quota: 127.0.0.5 may open one connection a second (measured over two one-second
	// windows); a burst goes over it and is closed unanswered.
	ip := "127.0.0.5"
	rate := 1.0
	res, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{
		Entity: kadm.ClientQuotaEntity{{Type: "ip", Name: &ip}},
		Ops:    []kadm.AlterClientQuotaOp{{Key: "connection_creation_rate", Value: rate}},
	}})
	if err == nil {
		for _, r := range res {
			err = errors.Join(err, r.Err)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor("the IP quota applied", func() bool { return b.connQuotas.IPRate(addr(ip)) == 1 })
	var served, closed int
	for range 4 {
		ok, open := dialFrom(t, ip, plain).served(5 * time.Second)
		switch {
		case ok:
			served++
		case !open:
			closed++
		default:
			t.Fatal("throttled connection still open 5 s on: want it closed within the quota window")
		}
	}
	if served == 0 || closed == 0 {
		t.Fatalf("burst from %s: %d served, %d closed: want the first served and the rest over the rate closed", ip, served, closed)
	}
	// Another address connects as before.
	dialFrom(t, "127.0.0.6", plain).mustServe()

	// The sensors, as socket-server-metrics: the IP throttles above in PLAINTEXT's mean throttle time, accept rates
	// of the broker, each listener and the IP with a quota (no other IP). The rates cover the last two seconds
	// (quota.window.num=2): a connection on each listener is made again until a scrape follows it that closely.
	// PLAINTEXT, the inter-broker listener, is protected and not counted in the broker's rate, as in Kafka.
	const sm = "kafka_server_socket_server_metrics_"
	var m map[string]float64
	c.waitFor("accept rates", func() bool {
		dialFrom(t, "127.0.0.6", plain).mustServe()
		dialFrom(t, "127.0.0.6", external).mustServe()
		dialFrom(t, ip, plain).served(5 * time.Second)
		m = scrape(t, b)
		return m[sm+"broker_connection_accept_rate"] > 0 && m[sm+"connection_accept_rate{listener=PLAINTEXT}"] > 0 &&
			m[sm+"connection_accept_rate{listener=EXTERNAL}"] > 0 && m[sm+"connection_accept_rate{ip="+ip+"}"] > 0
	})
	if m[sm+"ip_connection_accept_throttle_time{listener=PLAINTEXT}"] <= 0 || !math.IsNaN(m[sm+"ip_connection_accept_throttle_time{listener=EXTERNAL}"]) {
		t.Errorf("IP throttle times not as expected in\n%v", m)
	}
	// EXTERNAL's acceptor waited for the connections held above; PLAINTEXT's closes or throttles, never waits.
	const blocked = "kafka_network_acceptor_acceptorblockedpercent_total"
	if m[blocked+"{listener=EXTERNAL}"] <= 0 || m[blocked+"{listener=PLAINTEXT}"] != 0 {
		t.Errorf("acceptor blocked times not as expected in\n%v", m)
	}
	if _, ok := m[sm+"connection_accept_rate{ip=127.0.0.6}"]; ok {
		t.Error("an accept rate for an IP without a rate quota")
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

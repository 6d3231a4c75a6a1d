package pipeline

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/quorum/reconfig"
)

// reconfEnsemble is a leading ensemble of voters 1 (us), 2 and 3 that reconfigures.
type reconfEnsemble struct {
	entEnsemble
	mu           sync.Mutex
	active, last *zoocfg.QuorumVerifier
	synced       []int64
}

func (e *reconfEnsemble) Configs() (active, lastSeen *zoocfg.QuorumVerifier) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active, e.last
}

func (e *reconfEnsemble) QuorumSynced(qv *zoocfg.QuorumVerifier) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return reconfig.QuorumSynced(qv, 1, e.synced)
}

func (e *reconfEnsemble) set(f func(e *reconfEnsemble)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(e)
}

func threeVoters(t *testing.T) *zoocfg.QuorumVerifier {
	t.Helper()
	q := &zoocfg.QuorumVerifier{Version: 0}
	for i, v := range []string{"127.0.0.1:2888:3888;2181", "127.0.0.1:2889:3889;2182", "127.0.0.1:2890:3890;2183"} {
		s, err := zoocfg.ParseServer(int64(i+1), v, false)
		if err != nil {
			t.Fatal(err)
		}
		q.Servers = append(q.Servers, s)
	}
	return q
}

func newReconfigLeader(t *testing.T, enabled bool) (*Processor, *reconfEnsemble) {
	t.Helper()
	p := startQuorumMember(t, t.TempDir(), Config{TickTime: 2000, MinSessionTimeout: 4000, MaxSessionTimeout: 40000,
		ReconfigEnabled: enabled, StandaloneEnabled: true})
	qv := threeVoters(t)
	ens := &reconfEnsemble{entEnsemble: make(entEnsemble, 16), active: qv, last: qv}
	p.StartLeading(ens, 1)
	return p, ens
}

// connectCommitted connects a client of the leader and commits its session.
func connectCommitted(t *testing.T, p *Processor, ens *reconfEnsemble) (*Client, frames) {
	t.Helper()
	out := frames(make(chan []byte, 16))
	c := p.NewClient(out, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, jute.Id{Scheme: "ip", ID: "127.0.0.1"})
	p.Connect(c, &ConnectRequest{Req: jute.ConnectRequest{TimeOut: 10000}})
	p.Committed(proposed(t, ens.entEnsemble, jute.OpCreateSession).Hdr.Zxid)
	out.next(t)
	return c, out
}

// reconfigure sends req and commits what it proposes; it returns the txn and the reply's error and body.
func reconfigure(t *testing.T, p *Processor, ens *reconfEnsemble, c *Client, out frames, xid int32, req *jute.ReconfigRequest) (*jute.TxnHeader, jute.Err, []byte) {
	t.Helper()
	p.Submit(&Request{Client: c, Xid: xid, Op: jute.OpReconfig, Body: req, Start: time.Now()})
	ent := recv(t, ens.entEnsemble)
	p.Committed(ent.Hdr.Zxid)
	b := out.next(t)
	if replyXid(b) != xid {
		t.Fatalf("reply xid %d, want %d", replyXid(b), xid)
	}
	return &ent.Hdr, jute.Err(replyErr(b)), b[16:]
}

// The leader's reconfig prep, checked in PrepRequestProcessor's order; a success is a SetDataTxn of type reconfig
// on /zookeeper/config with the new config's text and version -1, answered with that text and the node's stat.
func TestLeaderReconfigPrep(t *testing.T) {
	p, ens := newReconfigLeader(t, true)
	c, out := connectCommitted(t, p, ens)
	remove3 := &jute.ReconfigRequest{LeavingServers: "3", CurConfigID: -1}

	if _, e, _ := reconfigure(t, p, ens, c, out, 1, remove3); e != jute.ErrNewConfigNoQuorum {
		t.Fatalf("no follower synced: %s", e)
	}
	ens.set(func(e *reconfEnsemble) { e.synced = []int64{2} })
	if hdr, e, _ := reconfigure(t, p, ens, c, out, 2, remove3); e != jute.ErrNoAuth || hdr.Type != jute.OpError {
		t.Fatalf("without super: %s, txn type %d", e, hdr.Type)
	}
	c.ids = append(c.ids, jute.Id{Scheme: "super"})
	if _, e, _ := reconfigure(t, p, ens, c, out, 3, &jute.ReconfigRequest{LeavingServers: "3", CurConfigID: 5}); e != jute.ErrBadVersion {
		t.Fatalf("curConfigId 5 of version 0: %s", e)
	}
	if _, e, _ := reconfigure(t, p, ens, c, out, 4, &jute.ReconfigRequest{LeavingServers: "2,3", CurConfigID: -1}); e != jute.ErrBadArguments {
		t.Fatalf("one voter left: %s", e)
	}

	hdr, e, body := reconfigure(t, p, ens, c, out, 5, &jute.ReconfigRequest{LeavingServers: "3", CurConfigID: 0})
	if e != jute.ErrOK || hdr.Type != jute.OpReconfig {
		t.Fatalf("remove 3: %s, txn type %d", e, hdr.Type)
	}
	var rsp jute.GetDataResponse
	if err := jute.Unmarshal(body, &rsp); err != nil {
		t.Fatal(err)
	}
	want := "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\n" +
		"server.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\nversion=" + hex(hdr.Zxid)
	if string(rsp.Data) != want || rsp.Stat.Version != -1 || rsp.Stat.Mzxid != hdr.Zxid {
		t.Fatalf("reply %q stat %+v, want %q version -1 mzxid %#x", rsp.Data, rsp.Stat, want, hdr.Zxid)
	}

	ens.set(func(e *reconfEnsemble) { e.last = &zoocfg.QuorumVerifier{Servers: e.active.Servers, Version: hdr.Zxid} })
	if _, e, _ := reconfigure(t, p, ens, c, out, 6, remove3); e != jute.ErrReconfigInProgress {
		t.Fatalf("with a proposal in flight: %s", e)
	}
}

func hex(v int64) string { return strconv.FormatInt(v, 16) }

func TestReconfigDisabledAndStandalone(t *testing.T) {
	p, ens := newReconfigLeader(t, false)
	c, out := connectCommitted(t, p, ens)
	if _, e, _ := reconfigure(t, p, ens, c, out, 1, &jute.ReconfigRequest{LeavingServers: "3", CurConfigID: -1}); e != jute.ErrReconfigDisabled {
		t.Fatalf("reconfigEnabled=false: %s", e)
	}
}

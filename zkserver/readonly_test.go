package zkserver

import (
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/admin"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
)

// lonelyMember starts server 1 of a three-server ensemble whose other members never run.
func lonelyMember(t *testing.T, readOnly bool) *Server {
	t.Helper()
	members := map[int64]Member{}
	for id := int64(1); id <= 3; id++ {
		members[id] = Member{QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)}
	}
	dir := t.TempDir()
	s, err := Start(Config{
		ClientAddr: "127.0.0.1:0", TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 40000,
		DataDir: dir, DataLogDir: filepath.Join(dir, "log"), SnapCount: 100000, PreAllocSize: 1 << 20,
		ForceSync: true, JuteMaxBuffer: 0xfffff, ACL: acl.DefaultConfig(),
		Quorum: &QuorumConfig{MyID: 1, Members: members, ElectionListen: members[1].ElectionAddr,
			QuorumListen: members[1].QuorumAddr, InitLimit: 10, SyncLimit: 5,
			Verifier: election.NewMajority([]int64{1, 2, 3}), Voters: map[int64]bool{1: true, 2: true, 3: true},
			ReadOnlyMode: readOnly, LocalSessions: true},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

type roRequest struct {
	op  int32
	rec jute.Record
}

// roExchange connects as a read-only client and sends reqs, returning the connect response's readOnly flag and
// each reply's error.
func roExchange(t *testing.T, addr string, reqs ...roRequest) (bool, []int32) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	send := func(recs ...jute.Record) {
		e := jute.Encoder{Buf: make([]byte, 4, 64)}
		for _, r := range recs {
			r.Encode(&e)
		}
		binary.BigEndian.PutUint32(e.Buf, uint32(len(e.Buf)-4))
		if _, err := nc.Write(e.Buf); err != nil {
			t.Fatal(err)
		}
	}
	readOnly := true
	send(&jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}, (*roFlag)(&readOnly))
	f, err := jute.ReadFrame(nc, 1<<20)
	if err != nil {
		t.Fatalf("connect response: %v", err)
	}
	d := jute.NewDecoder(f)
	var resp jute.ConnectResponse
	resp.Decode(d)
	ro := d.Remaining() == 1 && d.Bool()
	var errs []int32
	for i, r := range reqs {
		send(&jute.RequestHeader{Xid: int32(i + 1), Type: r.op}, r.rec)
		f, err := jute.ReadFrame(nc, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var rh jute.ReplyHeader
		rh.Decode(jute.NewDecoder(f))
		errs = append(errs, rh.Err)
	}
	return ro, errs
}

// roFlag is the connect request's trailing readOnly byte.
type roFlag bool

func (f *roFlag) Encode(e *jute.Encoder) { e.Bool(bool(*f)) }
func (f *roFlag) Decode(d *jute.Decoder) { *f = roFlag(d.Bool()) }

// A member that finds no quorum serves read-only clients once the grace period has passed (readonlymode.enabled):
// isro says ro, srvr's Mode read-only, reads answer and writes get NotReadOnly.
func TestLonelyMemberServesReadOnly(t *testing.T) {
	s := lonelyMember(t, true)
	opts := admin.Options{Whitelist: func(string) bool { return true }}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if out, _ := admin.FourLetter(s.Source(), opts, "isro", 0); out == "ro" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no read-only service")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := s.Source().ServerState(); st != "read-only" {
		t.Fatalf("server state %q", st)
	}
	ro, errs := roExchange(t, s.Addr().String(), roRequest{jute.OpExists, &jute.ExistsRequest{Path: "/zookeeper"}},
		roRequest{jute.OpCreate, &jute.CreateRequest{Path: "/x",
			ACL: []jute.ACL{{Perms: jute.PermAll, ID: jute.Id{Scheme: "world", ID: "anyone"}}}}})
	if !ro || errs[0] != 0 || errs[1] != int32(jute.ErrNotReadOnly) {
		t.Fatalf("read-only %v, replies %v", ro, errs)
	}
}

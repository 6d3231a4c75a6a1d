package zab

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"testing"

	"github.com/zkafka/zkafka/compat/zoocfg"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/storage"
	"github.com/zkafka/zkafka/zkserver/tree"
)

// fuzzMaxData bounds a packet's data as a server's jute.maxbuffer does, kept small so that a fuzzed length over
// it is refused rather than read.
const fuzzMaxData = 1 << 16

const fuzzConfig = "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n" +
	"server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\nversion=100000000"

func fuzzTxn(zxid int64, typ int32, rec jute.Record) []byte {
	return storage.EncodeEntry(&jute.TxnHeader{ClientID: 0x55, Cxid: 1, Zxid: zxid, Time: 1, Type: typ}, rec, nil)
}

// learnerStream is a leader's side of a sync and a broadcast, as a learner reads it; snap puts a SNAP with a
// snapshot where the DIFF is.
func learnerStream(t testing.TB, snap bool) []byte {
	const epoch = int64(1) << 32
	create := fuzzTxn(epoch|1, jute.OpCreate, &jute.CreateTxn{Path: "/a", Data: []byte("x"), ACL: jute.OpenACLUnsafe, ParentCVersion: 1})
	set := fuzzTxn(epoch|2, jute.OpSetData, &jute.SetDataTxn{Path: "/a", Data: []byte("y"), Version: 1})
	reconfig := fuzzTxn(epoch|3, jute.OpReconfig, &jute.SetDataTxn{Path: "/zookeeper/config", Data: []byte(fuzzConfig), Version: -1})
	var b bytes.Buffer
	write := func(p Packet) { b.Write(p.Marshal()) }
	write(Packet{Type: LeaderInfo, Zxid: epoch, Data: binary.BigEndian.AppendUint32(nil, ProtocolVersion)})
	if snap {
		write(Packet{Type: Snap, Zxid: epoch})
		src := tree.New(nil)
		src.Apply(&jute.TxnHeader{ClientID: 1, Zxid: 1, Type: jute.OpCreate},
			&jute.CreateTxn{Path: "/s", Data: []byte("d"), ACL: jute.OpenACLUnsafe})
		body, err := SnapshotStream(map[int64]int32{0x55: 30000}, src.WriteSnapshot)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(body)
	} else {
		write(Packet{Type: Diff, Zxid: epoch})
	}
	write(Packet{Type: Proposal, Zxid: epoch | 1, Data: create})
	write(Packet{Type: Commit, Zxid: epoch | 1})
	write(Packet{Type: NewLeader, Zxid: epoch, Data: []byte(fuzzConfig)})
	write(Packet{Type: UpToDate, Zxid: epoch})
	write(Packet{Type: Ping, Zxid: epoch | 1})
	write(Packet{Type: Proposal, Zxid: epoch | 2, Data: set})
	write(Packet{Type: Commit, Zxid: epoch | 2})
	write(RevalidatedPacket(0x55, true, epoch|2))
	write(Packet{Type: Sync, Zxid: epoch | 2})
	write(Packet{Type: Proposal, Zxid: epoch | 3, Data: reconfig})
	write(Packet{Type: CommitAndActivate, Zxid: epoch | 3, Data: binary.BigEndian.AppendUint64(nil, 2)})
	write(Packet{Type: InformAndActivate, Zxid: epoch | 3, Data: append(binary.BigEndian.AppendUint64(nil, 1), reconfig...)})
	return b.Bytes()
}

// FuzzLearnerStream (make fuzz) reads a leader's packet stream as a follower or observer does: ReadPacket, the
// learner core, the snapshot after SNAP, then what the runtime decodes of the packets' data (txns to log and apply,
// configs to activate). Bad bytes must end in an error, never a panic or an allocation their lengths ask for.
func FuzzLearnerStream(f *testing.F) {
	f.Add(learnerStream(f, false), false)
	f.Add(learnerStream(f, true), false)
	f.Add(learnerStream(f, false), true)
	f.Add(Packet{Type: LeaderInfo, Zxid: 1 << 32, Data: []byte{0, 1}}.Marshal(), false)
	f.Add(append(Packet{Type: LeaderInfo, Zxid: 1 << 32, Data: []byte{0, 1, 0, 0}}.Marshal(),
		Packet{Type: Snap, Zxid: 1 << 32}.Marshal()...), false)
	f.Add([]byte{0, 0, 0, 17, 0, 0, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff}, false)
	f.Fuzz(func(t *testing.T, stream []byte, observer bool) {
		r := bufio.NewReader(bytes.NewReader(stream))
		l := NewLearner(LearnerConfig{MyID: 2, Observer: observer, AcceptedEpoch: 0, CurrentEpoch: 0})
		l.Start()
		tr := tree.New(nil)
		for range 200 {
			p, err := ReadPacket(r, fuzzMaxData)
			if err != nil {
				return
			}
			checkPacketRoundTrip(t, p)
			rd, err := l.Step(p)
			if errors.Is(err, ErrNeedSnapshot) {
				body, err := ReadSnapshotStream(r, fuzzMaxData)
				if err != nil {
					return
				}
				if _, err := LoadSnapshot(body, tr); err != nil {
					return
				}
				l.SnapshotLoaded(p.Zxid)
				continue
			}
			if err != nil {
				return
			}
			if useReady(tr, rd) != nil {
				return
			}
		}
	})
}

// useReady decodes what a follower's runtime decodes of a step's output: txns to log and apply, a config.
func useReady(tr *tree.Tree, rd Ready) error {
	for _, t := range rd.Log {
		if _, err := storage.DecodeEntry(t.Data); err != nil {
			return err
		}
	}
	for _, t := range rd.Apply {
		e, err := storage.DecodeEntry(t.Data)
		if err != nil {
			return err
		}
		if e.Txn != nil {
			tr.Apply(&e.Hdr, e.Txn)
		}
	}
	for _, cfg := range [][]byte{rd.LastSeenConfig, activated(rd.Activate)} {
		if len(cfg) > 0 {
			_, _ = zoocfg.ParseConfigText(string(cfg), true, true, slog.New(slog.DiscardHandler))
		}
	}
	return nil
}

func activated(a *LearnerActivation) []byte {
	if a == nil {
		return nil
	}
	return a.Config
}

// checkPacketRoundTrip: a packet read re-encodes to bytes that read back as the same packet. Auth strings are
// compared encoded: Jute writes what is not UTF-8 as Java does (U+FFFD, surrogate pairs), so only the encoding is
// stable, not the raw bytes read.
func checkPacketRoundTrip(t *testing.T, p Packet) {
	t.Helper()
	enc := p.Marshal()
	q, err := ReadPacket(bufio.NewReader(bytes.NewReader(enc)), fuzzMaxData+1<<10)
	if err != nil {
		t.Fatalf("re-read %s: %v", p, err)
	}
	if q.Type != p.Type || q.Zxid != p.Zxid || !bytes.Equal(q.Data, p.Data) || (q.Data == nil) != (p.Data == nil) ||
		len(q.AuthInfo) != len(p.AuthInfo) {
		t.Fatalf("round trip: %+v became %+v", p, q)
	}
	if again := q.Marshal(); !bytes.Equal(again, enc) {
		t.Fatalf("re-encoding is not stable: %x then %x", enc, again)
	}
}

// FuzzSnapshotStream (make fuzz) reads the snapshot a leader streams after SNAP into a data tree.
func FuzzSnapshotStream(f *testing.F) {
	src := tree.New(nil)
	src.Apply(&jute.TxnHeader{ClientID: 1, Zxid: 1, Type: jute.OpCreate},
		&jute.CreateTxn{Path: "/a", Data: []byte("x"), ACL: jute.OpenACLUnsafe})
	src.Apply(&jute.TxnHeader{ClientID: 7, Zxid: 2, Type: jute.OpCreate},
		&jute.CreateTxn{Path: "/a/e", Data: nil, ACL: []jute.ACL{{Perms: 1, ID: jute.Id{Scheme: "digest", ID: "u:h"}}}, Ephemeral: true})
	body, err := SnapshotStream(map[int64]int32{1: 30000, 7: 4000}, src.WriteSnapshot)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	f.Add(body[:len(body)/2])
	f.Add([]byte{0, 0, 0, 1})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, stream []byte) {
		got, err := ReadSnapshotStream(bufio.NewReader(bytes.NewReader(stream)), fuzzMaxData)
		if err != nil {
			return
		}
		if len(got) > len(stream) {
			t.Fatalf("body of %d bytes from a %d-byte stream", len(got), len(stream))
		}
		_, _ = LoadSnapshot(got, tree.New(nil))
	})
}

// leaderStream is what a follower sends a leader: FOLLOWERINFO, ACKEPOCH, the ACK of NEWLEADER and UPTODATE, then
// pings with sessions, a revalidation, a forwarded request and acks.
func leaderStream() []byte {
	const epoch = int64(2) << 32
	var b bytes.Buffer
	write := func(p Packet) { b.Write(p.Marshal()) }
	write(Packet{Type: FollowerInfo, Zxid: 1 << 32, Data: jute.Marshal(&jute.LearnerInfo{ServerID: 2,
		ProtocolVersion: ProtocolVersion, ConfigVersion: 0})})
	write(Packet{Type: AckEpoch, Zxid: 1<<32 | 5, Data: binary.BigEndian.AppendUint32(nil, 1)})
	write(Packet{Type: Ack, Zxid: epoch})
	write(Packet{Type: Ack, Zxid: epoch})
	write(PingReplyPacket(epoch, map[int64]int32{0x55: 30000, 0x56: 4000}))
	write(RevalidatePacket(0x55, 30000))
	body := jute.Marshal(&jute.CreateRequest{Path: "/f", Data: []byte("d"), ACL: jute.OpenACLUnsafe})
	write(RequestPacket(0x55, 3, jute.OpCreate, body, []jute.Id{{Scheme: "ip", ID: "127.0.0.1"}}))
	write(Packet{Type: Ack, Zxid: epoch | 1})
	return b.Bytes()
}

// FuzzLeaderStream (make fuzz) reads a learner's packet stream as a leader does (and an observer master, which
// shares its handling of synced learners), interleaved with a well-behaved follower that makes a quorum.
func FuzzLeaderStream(f *testing.F) {
	f.Add(leaderStream(), false)
	f.Add(leaderStream(), true)
	obs := Packet{Type: ObserverInfo, Zxid: 1 << 32, Data: jute.Marshal(&jute.LearnerInfo{ServerID: 9,
		ProtocolVersion: ProtocolVersion, ConfigVersion: -1})}.Marshal()
	f.Add(obs, false)
	f.Add(Packet{Type: FollowerInfo, Zxid: 1 << 32, Data: []byte{0, 0, 0, 0, 0, 0, 0, 2}}.Marshal(), false)
	f.Fuzz(func(t *testing.T, stream []byte, late bool) {
		cfg := LeaderConfig{MyID: 1, Quorum: votersOf{1, 2, 3}, AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: 1<<32 | 5,
			CommittedLog: txnsBetween(1, 1, 5), TickTime: 100, InitLimit: 10, SyncLimit: 5,
			ConfigData: []byte(fuzzConfig), CommittedLogMax: 500}
		now := int64(1000)
		l := Lead(cfg, now)
		l.Start()
		if late {
			// The fuzzed learner joins an established leader: a good follower (3) makes the quorum first.
			good := NewLearner(LearnerConfig{MyID: 3, AcceptedEpoch: 1, CurrentEpoch: 1, LastZxid: 1<<32 | 5})
			exchange(l, 2, good, now)
		}
		r := bufio.NewReader(bytes.NewReader(stream))
		for range 200 {
			p, err := ReadPacket(r, fuzzMaxData)
			if err != nil {
				return
			}
			checkPacketRoundTrip(t, p)
			rd := l.Step(1, p, now)
			for _, rq := range rd.Requests {
				_ = rq.Body // the pipeline decodes it as the client request it forwards (FuzzDecodeRequest)
			}
			if len(rd.Close) > 0 || rd.Shutdown != nil {
				return
			}
			now += 10
			l.Tick(now)
		}
	})
}

// exchange runs a learner core against the leader core on conn until neither has anything to send.
func exchange(l *Leader, conn ConnID, fl *Learner, now int64) {
	toLeader := fl.Start().Send
	for range 100 {
		if len(toLeader) == 0 {
			return
		}
		var toLearner []Packet
		for _, p := range toLeader {
			for _, o := range l.Step(conn, p, now).Send {
				if o.Conn == conn {
					toLearner = append(toLearner, o.Packet)
				}
			}
		}
		toLeader = nil
		for _, p := range toLearner {
			rd, err := fl.Step(p)
			if err != nil {
				return
			}
			toLeader = append(toLeader, rd.Send...)
		}
	}
}

// Package zab is ZooKeeper's atomic broadcast between a leader and its learners, in Apache's wire format: the
// QuorumPacket stream of the quorum port and, as deterministic state machines, the learner's and the leader's sides
// of discovery, synchronisation and broadcast.
package zab

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/zkafka/zkafka/jute"
)

// Packet types on the quorum port (Leader.java).
const (
	Request           = 1
	Proposal          = 2
	Ack               = 3
	Commit            = 4
	Ping              = 5
	Revalidate        = 6
	Sync              = 7
	Inform            = 8
	CommitAndActivate = 9
	NewLeader         = 10
	FollowerInfo      = 11
	UpToDate          = 12
	Diff              = 13
	Trunc             = 14
	Snap              = 15
	ObserverInfo      = 16
	LeaderInfo        = 17
	AckEpoch          = 18
	InformAndActivate = 19
)

// ProtocolVersion is the ZAB 1.0 version learners and leaders exchange (0x10000).
const ProtocolVersion = 0x10000

// Packet is a QuorumPacket. Data nil and AuthInfo nil travel as Jute's null (length -1).
type Packet struct {
	Type     int32
	Zxid     int64
	Data     []byte
	AuthInfo []jute.Id
}

func (p Packet) String() string {
	return fmt.Sprintf("%s zxid=%#x data=%d bytes", typeName(p.Type), p.Zxid, len(p.Data))
}

func typeName(t int32) string {
	names := map[int32]string{Request: "REQUEST", Proposal: "PROPOSAL", Ack: "ACK", Commit: "COMMIT", Ping: "PING",
		Revalidate: "REVALIDATE", Sync: "SYNC", Inform: "INFORM", CommitAndActivate: "COMMITANDACTIVATE",
		NewLeader: "NEWLEADER", FollowerInfo: "FOLLOWERINFO", UpToDate: "UPTODATE", Diff: "DIFF", Trunc: "TRUNC",
		Snap: "SNAP", ObserverInfo: "OBSERVERINFO", LeaderInfo: "LEADERINFO", AckEpoch: "ACKEPOCH",
		InformAndActivate: "INFORMANDACTIVATE"}
	if n, ok := names[t]; ok {
		return n
	}
	return fmt.Sprintf("UNKNOWN(%d)", t)
}

// Marshal encodes p as Jute's QuorumPacket record; packets follow each other on the stream with no length prefix.
func (p Packet) Marshal() []byte {
	return jute.Marshal(&jute.QuorumPacket{Type: p.Type, Zxid: p.Zxid, Data: p.Data, AuthInfo: p.AuthInfo})
}

// ReadPacket reads one QuorumPacket from the stream. maxData bounds the data buffer (jute.maxbuffer), so that a
// bad length never makes us allocate it.
func ReadPacket(r *bufio.Reader, maxData int) (Packet, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Packet{}, err
	}
	p := Packet{Type: int32(binary.BigEndian.Uint32(hdr[:])), Zxid: int64(binary.BigEndian.Uint64(hdr[4:]))}
	n := int32(binary.BigEndian.Uint32(hdr[12:]))
	if n > int32(maxData) {
		return p, fmt.Errorf("read quorum packet %s: data length %d over %d", typeName(p.Type), n, maxData)
	}
	if n >= 0 {
		p.Data = make([]byte, n)
		if _, err := io.ReadFull(r, p.Data); err != nil {
			return p, err
		}
	}
	var cnt [4]byte
	if _, err := io.ReadFull(r, cnt[:]); err != nil {
		return p, err
	}
	ids := int32(binary.BigEndian.Uint32(cnt[:]))
	if ids > 1024 {
		return p, fmt.Errorf("read quorum packet %s: %d auth ids", typeName(p.Type), ids)
	}
	for range max(ids, 0) {
		scheme, err := readString(r, maxData)
		if err != nil {
			return p, err
		}
		id, err := readString(r, maxData)
		if err != nil {
			return p, err
		}
		p.AuthInfo = append(p.AuthInfo, jute.Id{Scheme: scheme, ID: id})
	}
	return p, nil
}

func readString(r *bufio.Reader, maxLen int) (string, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return "", err
	}
	n := int32(binary.BigEndian.Uint32(l[:]))
	if n < 0 {
		return "", nil
	}
	if n > int32(maxLen) {
		return "", fmt.Errorf("quorum packet string of %d bytes", n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return string(b), err
}

// TxnZxid is the zxid in the TxnHeader at the start of a proposal's data.
func TxnZxid(data []byte) (int64, error) {
	var h jute.TxnHeader
	d := jute.NewDecoder(data)
	h.Decode(d)
	if err := d.Err(); err != nil {
		return 0, fmt.Errorf("txn header: %w", err)
	}
	return h.Zxid, nil
}

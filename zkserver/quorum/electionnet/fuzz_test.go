package electionnet

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzHandshake (make fuzz) reads the first message of an election connection, which anyone who can reach the
// election port sends: it must be refused or read, never a panic or an allocation of the length it claims. A
// handshake that reads re-encodes to the bytes read (for the V1 form handshake writes).
func FuzzHandshake(f *testing.F) {
	f.Add(handshake(2, "127.0.0.1:3889"))
	f.Add(binary.BigEndian.AppendUint64(nil, 3)) // a server before 3.5: its bare sid
	v2 := binary.BigEndian.AppendUint64(nil, uint64(0xffff_ffff_ffff_0001))
	v2 = binary.BigEndian.AppendUint64(v2, 4)
	addrs := "127.0.0.1:3890|127.0.0.2:3890"
	v2 = binary.BigEndian.AppendUint32(v2, uint32(len(addrs)))
	f.Add(append(v2, addrs...))
	f.Add(binary.BigEndian.AppendUint32(handshake(2, "")[:16], 0x7fffffff))
	f.Add(binary.BigEndian.AppendUint64(nil, uint64(0xffff_ffff_ffff_0005)))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		sid, addr, err := readHandshake(r)
		if err != nil {
			return
		}
		if len(addr) > maxAddressLen {
			t.Fatalf("address of %d bytes", len(addr))
		}
		if int64(binary.BigEndian.Uint64(b)) != protocolV1 {
			return
		}
		if got := handshake(sid, addr); !bytes.Equal(got, b[:len(b)-r.Len()]) {
			t.Fatalf("re-encoded %x, read %x", got, b[:len(b)-r.Len()])
		}
	})
}

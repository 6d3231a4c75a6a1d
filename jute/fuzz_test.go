package jute

import (
	"bytes"
	"reflect"
	"testing"
)

// requestOps is every opcode RequestRecord accepts.
var requestOps = []int32{
	OpCreate, OpDelete, OpExists, OpGetData, OpSetData, OpGetACL, OpSetACL, OpGetChildren, OpSync, OpPing,
	OpGetChildren2, OpCheck, OpMulti, OpCreate2, OpReconfig, OpCheckWatches, OpRemoveWatches,
	OpCreateContainer, OpCreateTTL, OpMultiRead, OpAuth, OpSetWatches, OpSASL, OpGetEphemerals,
	OpGetAllChildrenNumber, OpSetWatches2, OpAddWatch, OpWhoAmI, OpCloseSession,
}

// seedBody returns a valid, non-trivial body for op.
func seedBody(op int32) Record {
	switch op {
	case OpMulti:
		return &MultiRequest{Ops: []Op{
			{Type: OpCreate, Rec: &CreateRequest{Path: "/a", Data: []byte("d"), ACL: OpenACLUnsafe}},
			{Type: OpCheck, Rec: &CheckVersionRequest{Path: "/a", Version: 0}},
			{Type: OpDelete, Rec: &DeleteRequest{Path: "/a", Version: -1}},
		}}
	case OpMultiRead:
		return &MultiRequest{Ops: []Op{
			{Type: OpGetData, Rec: &GetDataRequest{Path: "/a"}},
			{Type: OpGetChildren, Rec: &GetChildrenRequest{Path: "/"}},
		}}
	}
	rec, _ := RequestRecord(op)
	if rec != nil {
		(&filler{}).fill(reflect.ValueOf(rec).Elem())
	}
	return rec
}

// FuzzDecodeRequest feeds raw request frames (RequestHeader + body) to the
// decoder the server uses. Whatever the bytes, decoding must not panic, and a
// body that decodes must re-encode to bytes that decode to the same encoding.
func FuzzDecodeRequest(f *testing.F) {
	for xid, op := range requestOps {
		e := Encoder{}
		(&RequestHeader{Xid: int32(xid + 1), Type: op}).Encode(&e)
		if body := seedBody(op); body != nil {
			body.Encode(&e)
		}
		f.Add(e.Buf)
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 14, 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, '/', 'a', 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff})

	f.Fuzz(func(t *testing.T, frame []byte) {
		d := NewDecoder(frame)
		var h RequestHeader
		h.Decode(d)
		if d.Err() != nil {
			return
		}
		rec, ok := RequestRecord(h.Type)
		if !ok || rec == nil {
			return
		}
		rec.Decode(d)
		if d.Err() != nil {
			return
		}
		first := Marshal(rec)
		again, _ := RequestRecord(h.Type)
		if err := Unmarshal(first, again); err != nil {
			t.Fatalf("op %d: re-encoded body does not decode: %v", h.Type, err)
		}
		if second := Marshal(again); !bytes.Equal(first, second) {
			t.Fatalf("op %d: encoding not stable:\n%x\n%x", h.Type, first, second)
		}
	})
}

package jute

import (
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

func TestMultiRequestRoundTrip(t *testing.T) {
	in := &MultiRequest{Ops: []Op{
		{Type: OpCreate, Rec: &CreateRequest{Path: "/a", Data: []byte("x"), ACL: OpenACLUnsafe, Flags: ModePersistent}},
		{Type: OpCreate2, Rec: &CreateRequest{Path: "/b", Data: nil, ACL: OpenACLUnsafe, Flags: ModeEphemeralSequential}},
		{Type: OpCreateContainer, Rec: &CreateRequest{Path: "/c", Data: []byte{}, ACL: CreatorAllACL, Flags: ModeContainer}},
		{Type: OpCreateTTL, Rec: &CreateTTLRequest{Path: "/t", Data: []byte("y"), ACL: OpenACLUnsafe, Flags: ModePersistentWithTTL, TTL: 5000}},
		{Type: OpDelete, Rec: &DeleteRequest{Path: "/a", Version: -1}},
		{Type: OpSetData, Rec: &SetDataRequest{Path: "/b", Data: []byte("z"), Version: 3}},
		{Type: OpCheck, Rec: &CheckVersionRequest{Path: "/b", Version: 4}},
	}}
	b := Marshal(in)
	var out MultiRequest
	if err := Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, &out) {
		t.Fatalf("got %+v", out)
	}
	// The terminator is {-1, true, -1}.
	if tail := hex.EncodeToString(b[len(b)-9:]); tail != "ffffffff01ffffffff" {
		t.Fatalf("terminator %s", tail)
	}

	read := &MultiRequest{Ops: []Op{
		{Type: OpGetData, Rec: &GetDataRequest{Path: "/a", Watch: false}},
		{Type: OpGetChildren, Rec: &GetChildrenRequest{Path: "/", Watch: false}},
	}}
	var out2 MultiRequest
	if err := Unmarshal(Marshal(read), &out2); err != nil || !reflect.DeepEqual(read, &out2) {
		t.Fatalf("multiRead: %+v %v", out2, err)
	}

	// Empty multi: just the terminator.
	var empty MultiRequest
	if b := Marshal(&empty); hex.EncodeToString(b) != "ffffffff01ffffffff" {
		t.Fatalf("empty multi %x", b)
	}
	if err := Unmarshal(Marshal(&empty), &out); err != nil || len(out.Ops) != 0 {
		t.Fatalf("empty multi decoded %+v %v", out, err)
	}
}

func TestMultiRequestErrors(t *testing.T) {
	// An op type that is not allowed in a multi.
	var e Encoder
	(&MultiHeader{Type: OpSync, Done: false, Err: -1}).Encode(&e)
	(&SyncRequest{Path: "/a"}).Encode(&e)
	(&MultiHeader{Type: -1, Done: true, Err: -1}).Encode(&e)
	var m MultiRequest
	err := Unmarshal(e.Buf, &m)
	var bad ErrBadMultiOp
	if !errors.As(err, &bad) || int32(bad) != OpSync {
		t.Fatalf("err %v", err)
	}
	// Missing terminator.
	full := Marshal(&MultiRequest{Ops: []Op{{Type: OpDelete, Rec: &DeleteRequest{Path: "/a", Version: 1}}}})
	if err := Unmarshal(full[:len(full)-9], &m); !errors.Is(err, ErrShort) {
		t.Fatalf("unterminated: %v", err)
	}
	for n := 0; n < len(full); n++ {
		if err := Unmarshal(full[:n], &m); err == nil {
			t.Fatalf("prefix %d decoded", n)
		}
	}
}

func TestMultiResponseRoundTrip(t *testing.T) {
	st := Stat{Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6, Aversion: 7, EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11}
	in := &MultiResponse{Results: []OpResult{
		{Type: OpCreate, Err: 0, Rec: &CreateResponse{Path: "/a"}},
		{Type: OpCreate2, Err: 0, Rec: &Create2Response{Path: "/b0000000001", Stat: st}},
		{Type: OpDelete, Err: 0},
		{Type: OpSetData, Err: 0, Rec: &SetDataResponse{Stat: st}},
		{Type: OpCheck, Err: 0},
		{Type: OpError, Err: int32(ErrNoNode)},
		{Type: OpError, Err: int32(ErrRuntimeInconsistency)},
	}}
	b := Marshal(in)
	var out MultiResponse
	if err := Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, &out) {
		t.Fatalf("got %+v", out)
	}

	// An error result is MultiHeader{-1, false, err} + ErrorResponse{err}.
	one := Marshal(&MultiResponse{Results: []OpResult{{Type: OpError, Err: int32(ErrNoNode)}}})
	if got := hex.EncodeToString(one); got != "ffffffff00ffffff9b"+"ffffff9b"+"ffffffff01ffffffff" {
		t.Fatalf("error result %s", got)
	}

	reads := &MultiResponse{Results: []OpResult{
		{Type: OpGetData, Rec: &GetDataResponse{Data: []byte("v"), Stat: st}},
		{Type: OpGetChildren, Rec: &GetChildrenResponse{Children: []string{"a", "b"}}},
		{Type: OpError, Err: int32(ErrNoAuth)},
	}}
	var out2 MultiResponse
	if err := Unmarshal(Marshal(reads), &out2); err != nil || !reflect.DeepEqual(reads, &out2) {
		t.Fatalf("multiRead response: %+v %v", out2, err)
	}

	// createTTL and createContainer results are Create2Responses.
	for _, op := range []int32{OpCreateTTL, OpCreateContainer} {
		r := &MultiResponse{Results: []OpResult{{Type: op, Rec: &Create2Response{Path: "/x", Stat: st}}}}
		var o MultiResponse
		if err := Unmarshal(Marshal(r), &o); err != nil || !reflect.DeepEqual(r, &o) {
			t.Fatalf("op %d: %+v %v", op, o, err)
		}
	}

	var e Encoder
	(&MultiHeader{Type: OpSync, Done: false, Err: 0}).Encode(&e)
	var bad ErrBadMultiOp
	if err := Unmarshal(e.Buf, &out); !errors.As(err, &bad) {
		t.Fatalf("bad result type: %v", err)
	}
}

func TestRequestRecord(t *testing.T) {
	for _, op := range requestOps {
		rec, ok := RequestRecord(op)
		if !ok {
			t.Errorf("op %d not a request", op)
		}
		bodyless := op == OpPing || op == OpCloseSession || op == OpWhoAmI
		if (rec == nil) != bodyless {
			t.Errorf("op %d: record %T", op, rec)
		}
	}
	for _, op := range []int32{OpNotification, OpDeleteContainer, OpCreateSession, OpError, 10, 99, 108} {
		if _, ok := RequestRecord(op); ok {
			t.Errorf("op %d accepted as a client request", op)
		}
	}
	for _, op := range []int32{OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL, OpDelete, OpSetData, OpCheck, OpGetChildren, OpGetData} {
		if MultiOpRecord(op) == nil {
			t.Errorf("op %d not allowed in multi", op)
		}
	}
	for _, op := range []int32{OpSync, OpExists, OpMulti, OpGetACL, OpSetACL, OpGetChildren2} {
		if MultiOpRecord(op) != nil {
			t.Errorf("op %d allowed in multi", op)
		}
	}
}

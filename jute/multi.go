package jute

import "fmt"

// Op is one operation of a multi or multiRead request.
type Op struct {
	Type int32
	Rec  Record // *CreateRequest, *CreateTTLRequest, *DeleteRequest, *SetDataRequest, *CheckVersionRequest, *GetChildrenRequest, *GetDataRequest
}

// MultiRequest is MultiOperationRecord: MultiHeader+record pairs ended by {-1,true,-1}.
type MultiRequest struct {
	Ops []Op
}

func (m *MultiRequest) Encode(e *Encoder) {
	for _, op := range m.Ops {
		h := MultiHeader{Type: op.Type, Done: false, Err: -1}
		h.Encode(e)
		op.Rec.Encode(e)
	}
	end := MultiHeader{Type: -1, Done: true, Err: -1}
	end.Encode(e)
}

// MultiOpRecord returns an empty request record for an opcode allowed in a
// multi or multiRead, or nil if the opcode is not allowed there.
func MultiOpRecord(op int32) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateTTLRequest{}
	case OpDelete:
		return &DeleteRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpCheck:
		return &CheckVersionRequest{}
	case OpGetChildren:
		return &GetChildrenRequest{}
	case OpGetData:
		return &GetDataRequest{}
	}
	return nil
}

// ErrBadMultiOp reports an op type that cannot appear in a multi.
type ErrBadMultiOp int32

func (e ErrBadMultiOp) Error() string { return fmt.Sprintf("jute: invalid multi op type %d", int32(e)) }

func (m *MultiRequest) Decode(d *Decoder) {
	m.Ops = m.Ops[:0]
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		rec := MultiOpRecord(h.Type)
		if rec == nil {
			d.Fail(ErrBadMultiOp(h.Type))
			return
		}
		rec.Decode(d)
		m.Ops = append(m.Ops, Op{Type: h.Type, Rec: rec})
	}
}

// OpResult is one result of a multi or multiRead response. Rec is nil for
// delete and check; Err is set for type -1 (ErrorResponse).
type OpResult struct {
	Type int32
	Err  int32
	Rec  Record
}

// MultiResponse is the reply to multi/multiRead.
type MultiResponse struct {
	Results []OpResult
}

func (m *MultiResponse) Encode(e *Encoder) {
	for _, r := range m.Results {
		h := MultiHeader{Type: r.Type, Done: false, Err: r.Err}
		h.Encode(e)
		switch {
		case r.Type == OpError:
			e.Int(r.Err)
		case r.Rec != nil:
			r.Rec.Encode(e)
		}
	}
	end := MultiHeader{Type: -1, Done: true, Err: -1}
	end.Encode(e)
}

func (m *MultiResponse) Decode(d *Decoder) {
	m.Results = m.Results[:0]
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		r := OpResult{Type: h.Type, Err: h.Err}
		switch h.Type {
		case OpError:
			r.Err = d.Int()
		case OpCreate:
			r.Rec = &CreateResponse{}
		case OpCreate2, OpCreateTTL, OpCreateContainer:
			r.Rec = &Create2Response{}
		case OpSetData:
			r.Rec = &SetDataResponse{}
		case OpGetChildren:
			r.Rec = &GetChildrenResponse{}
		case OpGetData:
			r.Rec = &GetDataResponse{}
		case OpDelete, OpCheck:
		default:
			d.Fail(ErrBadMultiOp(h.Type))
			return
		}
		if r.Rec != nil {
			r.Rec.Decode(d)
		}
		m.Results = append(m.Results, r)
	}
}

// RequestRecord returns an empty body record for a client request opcode, or
// nil for opcodes whose request has no body (ping, closeSession, whoAmI).
// ok is false for an opcode that is not a client request.
func RequestRecord(op int32) (rec Record, ok bool) {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}, true
	case OpCreateTTL:
		return &CreateTTLRequest{}, true
	case OpDelete:
		return &DeleteRequest{}, true
	case OpExists:
		return &ExistsRequest{}, true
	case OpGetData:
		return &GetDataRequest{}, true
	case OpSetData:
		return &SetDataRequest{}, true
	case OpGetACL:
		return &GetACLRequest{}, true
	case OpSetACL:
		return &SetACLRequest{}, true
	case OpGetChildren:
		return &GetChildrenRequest{}, true
	case OpGetChildren2:
		return &GetChildren2Request{}, true
	case OpSync:
		return &SyncRequest{}, true
	case OpCheck:
		return &CheckVersionRequest{}, true
	case OpMulti, OpMultiRead:
		return &MultiRequest{}, true
	case OpReconfig:
		return &ReconfigRequest{}, true
	case OpCheckWatches:
		return &CheckWatchesRequest{}, true
	case OpRemoveWatches:
		return &RemoveWatchesRequest{}, true
	case OpAuth:
		return &AuthPacket{}, true
	case OpSetWatches:
		return &SetWatches{}, true
	case OpSetWatches2:
		return &SetWatches2{}, true
	case OpSASL:
		return &GetSASLRequest{}, true
	case OpGetEphemerals:
		return &GetEphemeralsRequest{}, true
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberRequest{}, true
	case OpAddWatch:
		return &AddWatchRequest{}, true
	case OpPing, OpCloseSession, OpWhoAmI:
		return nil, true
	}
	return nil, false
}

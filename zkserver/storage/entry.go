package storage

import (
	"errors"
	"fmt"

	"github.com/zkafka/zkafka/jute"
)

// txnHeaderLen is TxnHeader: long clientId, int cxid, long zxid, long time, int type.
const txnHeaderLen = 8 + 4 + 8 + 8 + 4

// Entry is one decoded txn: the bytes a log entry, a snapshot-era replay or a
// quorum PROPOSAL carries.
type Entry struct {
	Hdr    jute.TxnHeader
	Txn    jute.Record // nil if the type carries none (e.g. an old closeSession)
	Digest *jute.TxnDigest
	Raw    []byte // the entry bytes as read; owned by the Entry
}

// EncodeEntry serializes TxnHeader + txn [+ TxnDigest] as Util.marshallTxnEntry
// does. txn and digest may be nil.
func EncodeEntry(hdr *jute.TxnHeader, txn jute.Record, digest *jute.TxnDigest) []byte {
	e := jute.Encoder{Buf: make([]byte, 0, 128)}
	hdr.Encode(&e)
	if txn != nil {
		txn.Encode(&e)
	}
	if digest != nil {
		digest.Encode(&e)
	}
	return e.Buf
}

// txnRecord returns an empty txn record for a txn type, as
// SerializeUtils.deserializeTxn picks it.
func txnRecord(typ int32) (jute.Record, error) {
	switch typ {
	case jute.OpCreateSession:
		return &jute.CreateSessionTxn{}, nil
	case jute.OpCloseSession:
		return &jute.CloseSessionTxn{}, nil
	case jute.OpCreate, jute.OpCreate2:
		return &jute.CreateTxn{}, nil
	case jute.OpCreateTTL:
		return &jute.CreateTTLTxn{}, nil
	case jute.OpCreateContainer:
		return &jute.CreateContainerTxn{}, nil
	case jute.OpDelete, jute.OpDeleteContainer:
		return &jute.DeleteTxn{}, nil
	case jute.OpSetData, jute.OpReconfig:
		return &jute.SetDataTxn{}, nil
	case jute.OpSetACL:
		return &jute.SetACLTxn{}, nil
	case jute.OpError:
		return &jute.ErrorTxn{}, nil
	case jute.OpMulti:
		return &jute.MultiTxn{}, nil
	case jute.OpCheck:
		return &jute.CheckVersionTxn{}, nil
	}
	return nil, fmt.Errorf("storage: unsupported txn type %d", typ)
}

// DecodeEntry parses entry bytes. Like Apache it accepts a create without
// parentCVersion (V0, read as -1), a closeSession without its record, and an
// entry without a digest. b is kept as Entry.Raw.
func DecodeEntry(b []byte) (*Entry, error) {
	ent := &Entry{Raw: b}
	d := jute.NewDecoder(b)
	d.Max = 0 // the entry's own length already bounds every field
	ent.Hdr.Decode(d)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("storage: txn header: %w", err)
	}
	rec, err := txnRecord(ent.Hdr.Type)
	if err != nil {
		return nil, err
	}
	rest := b[txnHeaderLen:]
	rd := jute.NewDecoder(rest)
	rd.Max = 0
	rec.Decode(rd)
	switch {
	case rd.Err() == nil:
		ent.Txn = rec
	case errors.Is(rd.Err(), jute.ErrShort) && ent.Hdr.Type == jute.OpCreate:
		// CreateTxnV0 predates parentCVersion; -1 makes replay fix it up.
		var v0 jute.CreateTxn
		rd = jute.NewDecoder(rest)
		rd.Max = 0
		v0.Path = rd.String()
		v0.Data = rd.Buffer()
		if n := rd.VectorLen(); n >= 0 {
			v0.ACL = make([]jute.ACL, n)
			for i := range v0.ACL {
				v0.ACL[i].Decode(rd)
			}
		}
		v0.Ephemeral = rd.Bool()
		v0.ParentCVersion = -1
		if rd.Err() != nil {
			return nil, fmt.Errorf("storage: create txn at zxid 0x%x: %w", ent.Hdr.Zxid, rd.Err())
		}
		ent.Txn = &v0
	case errors.Is(rd.Err(), jute.ErrShort) && ent.Hdr.Type == jute.OpCloseSession:
		// closeSession had no record before CloseSessionTxn existed.
		rd = jute.NewDecoder(rest)
		rd.Max = 0
	default:
		return nil, fmt.Errorf("storage: txn type %d at zxid 0x%x: %w", ent.Hdr.Type, ent.Hdr.Zxid, rd.Err())
	}
	// The digest is optional: EOF after the record means none.
	if rd.Remaining() >= 12 {
		var dg jute.TxnDigest
		dg.Decode(rd)
		ent.Digest = &dg
	}
	return ent, nil
}

// entryZxid reads the zxid from entry bytes without decoding the rest.
func entryZxid(b []byte) int64 {
	if len(b) < 20 {
		return -1
	}
	var z int64
	for _, c := range b[12:20] {
		z = z<<8 | int64(c)
	}
	return z
}

package kerberos

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Initiator is a context being started with a service: the AP-REQ sent, an AP-REP awaited when mutual
// authentication was asked for.
type Initiator struct {
	ctx        *Context
	sessionKey types.EncryptionKey
	ctime      time.Time
	cusec      int
	mutual     bool
}

// Initiate makes the first context token for a service ticket (tkt, sessionKey from the KDC for client
// cname@crealm). The context is established at once unless mutual is set; then Finish takes the AP-REP.
func Initiate(cname types.PrincipalName, crealm string, tkt messages.Ticket, sessionKey types.EncryptionKey,
	mutual bool) (*Initiator, []byte, error) {
	et, err := crypto.GetEtype(sessionKey.KeyType)
	if err != nil {
		return nil, nil, fmt.Errorf("initiate: %w", err)
	}
	auth, err := types.NewAuthenticator(crealm, cname)
	if err != nil {
		return nil, nil, fmt.Errorf("initiate: %w", err)
	}
	if err := auth.GenerateSeqNumberAndSubKey(sessionKey.KeyType, et.GetKeyByteSize()); err != nil {
		return nil, nil, fmt.Errorf("initiate: %w", err)
	}
	gssFlags := uint32(gssapi.ContextFlagInteg | gssapi.ContextFlagConf | gssapi.ContextFlagSequence | gssapi.ContextFlagReplay)
	if mutual {
		gssFlags |= flagMutual
	}
	sum := make([]byte, 24)
	binary.LittleEndian.PutUint32(sum[0:4], 16) // channel bindings length; all zero: none
	binary.LittleEndian.PutUint32(sum[20:24], gssFlags)
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: sum}
	req, err := messages.NewAPReq(tkt, sessionKey, auth)
	if err != nil {
		return nil, nil, fmt.Errorf("initiate: %w", err)
	}
	if mutual {
		types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	}
	b, err := req.Marshal()
	if err != nil {
		return nil, nil, fmt.Errorf("initiate: %w", err)
	}
	in := &Initiator{
		ctx: &Context{Peer: tkt.SName.PrincipalNameString() + "@" + tkt.Realm, key: auth.SubKey,
			sendSeq: uint64(auth.SeqNumber)},
		sessionKey: sessionKey, ctime: auth.CTime, cusec: auth.Cusec, mutual: mutual,
	}
	return in, frame(tokAPReq, b), nil
}

// Established reports whether the context is ready without an AP-REP (mutual authentication not asked for).
func (in *Initiator) Established() bool { return !in.mutual }

// Context is the established context (after Finish when mutual authentication was asked for).
func (in *Initiator) Context() *Context { return in.ctx }

// Finish checks the acceptor's AP-REP: it must prove knowledge of the session key by returning our timestamp.
func (in *Initiator) Finish(tok []byte) (*Context, error) {
	b, err := unframe(tok, tokAPRep)
	if err != nil {
		return nil, err
	}
	var rep messages.APRep
	if err := rep.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("AP-REP: %w", err)
	}
	plain, err := crypto.DecryptEncPart(rep.EncPart, in.sessionKey, keyusage.AP_REP_ENCPART)
	if err != nil {
		return nil, fmt.Errorf("AP-REP: %w", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return nil, fmt.Errorf("AP-REP: %w", err)
	}
	if !part.CTime.Equal(in.ctime.Truncate(time.Second)) || part.Cusec != in.cusec {
		return nil, errors.New("AP-REP: the acceptor did not return our timestamp")
	}
	if part.Subkey.KeyType != 0 {
		in.ctx.key = part.Subkey
	}
	in.mutual = false
	return in.ctx, nil
}

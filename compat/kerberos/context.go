// Package kerberos is the Kerberos V5 GSS-API mechanism (RFC 4121) and the SASL GSSAPI mechanism (RFC 4752) as
// the JDK runs them for Kafka and ZooKeeper: a service accepting clients with the keys of its keytab, and a client
// logging in to a service with a ticket from its KDC. Tickets, keytabs and crypto are gokrb5's.
package kerberos

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// GSS-API context token ids (RFC 4121 section 4.1).
var (
	tokAPReq = []byte{0x01, 0x00}
	tokAPRep = []byte{0x02, 0x00}
)

// GSS-API context flags carried in the authenticator checksum (RFC 4121 section 4.1.1.1).
const (
	flagMutual = gssapi.ContextFlagMutual
)

// DefaultMaxSkew is the clock skew Kerberos allows by default (krb5.conf clockskew).
const DefaultMaxSkew = 5 * time.Minute

// Context is an established security context: who the peer is and the key its per-message tokens use.
type Context struct {
	// Peer is the other side's principal, "name[/instance]@REALM".
	Peer     string
	key      types.EncryptionKey
	acceptor bool
	sendSeq  uint64
}

// Wrap protects payload for the peer (integrity, no confidentiality).
func (c *Context) Wrap(payload []byte) ([]byte, error) {
	tok, err := wrap(c.key, c.acceptor, c.sendSeq, payload)
	c.sendSeq++
	return tok, err
}

// Unwrap checks a token from the peer and returns its payload.
func (c *Context) Unwrap(tok []byte) ([]byte, error) {
	p, _, err := unwrap(c.key, !c.acceptor, tok)
	return p, err
}

// Acceptor accepts contexts for a service whose keys are in a keytab, as the JDK's Krb5 acceptor does for a
// server logged in with Krb5LoginModule (useKeyTab, storeKey).
type Acceptor struct {
	keytab    *keytab.Keytab
	principal string // "" accepts tickets for any principal in the keytab (principal="*")
	maxSkew   time.Duration

	mu     sync.Mutex
	replay map[string]time.Time // authenticators seen within the skew
}

// NewAcceptor accepts tickets for principal ("service/host@REALM"; "" or "*": any key in kt).
func NewAcceptor(kt *keytab.Keytab, principal string) *Acceptor {
	if principal == "*" {
		principal = ""
	}
	return &Acceptor{keytab: kt, principal: principal, maxSkew: DefaultMaxSkew, replay: map[string]time.Time{}}
}

// Accept takes the initiator's first context token (an AP-REQ) and returns the established context and the
// token to send back: an AP-REP when the initiator asked for mutual authentication, else nil.
func (a *Acceptor) Accept(token []byte) (*Context, []byte, error) {
	inner, err := unframe(token, tokAPReq)
	if err != nil {
		return nil, nil, err
	}
	var req messages.APReq
	if err := req.Unmarshal(inner); err != nil {
		return nil, nil, fmt.Errorf("accept: AP-REQ: %w", err)
	}
	sname := req.Ticket.SName.PrincipalNameString() + "@" + req.Ticket.Realm
	if a.principal != "" && sname != a.principal {
		return nil, nil, fmt.Errorf("accept: the ticket is for %s, not %s", sname, a.principal)
	}
	if ok, err := req.Verify(a.keytab, a.maxSkew, types.HostAddress{}, nil); err != nil || !ok {
		if err == nil {
			err = errors.New("ticket not valid")
		}
		return nil, nil, fmt.Errorf("accept: %w", err)
	}
	auth := req.Authenticator
	if auth.Cksum.CksumType != chksumtype.GSSAPI || len(auth.Cksum.Checksum) < 24 {
		return nil, nil, errors.New("accept: the authenticator has no GSS-API checksum")
	}
	if err := a.checkReplay(req, time.Now()); err != nil {
		return nil, nil, err
	}
	gssFlags := binary.LittleEndian.Uint32(auth.Cksum.Checksum[20:24])
	ctx := &Context{
		Peer:     auth.CName.PrincipalNameString() + "@" + auth.CRealm,
		key:      req.Ticket.DecryptedEncPart.Key,
		acceptor: true,
	}
	// Without an acceptor subkey, both sides use the initiator's subkey, else the session key (RFC 4121 2).
	if auth.SubKey.KeyType != 0 {
		ctx.key = auth.SubKey
	}
	if gssFlags&flagMutual == 0 && !types.IsFlagSet(&req.APOptions, flags.APOptionMutualRequired) {
		// Without an AP-REP to state its own, the acceptor numbers its tokens from the initiator's sequence
		// number, as both sides then expect.
		ctx.sendSeq = uint64(auth.SeqNumber)
		return ctx, nil, nil
	}
	seq, err := randomSeq()
	if err != nil {
		return nil, nil, err
	}
	ctx.sendSeq = uint64(seq)
	rep, err := apRep(req.Ticket.DecryptedEncPart.Key, auth.CTime, auth.Cusec, seq)
	if err != nil {
		return nil, nil, err
	}
	return ctx, frame(tokAPRep, rep), nil
}

// checkReplay refuses an authenticator already accepted within the allowed skew, as a replay cache does.
func (a *Acceptor) checkReplay(req messages.APReq, now time.Time) error {
	au := req.Authenticator
	key := fmt.Sprintf("%s@%s|%s|%d|%d", au.CName.PrincipalNameString(), au.CRealm,
		req.Ticket.SName.PrincipalNameString(), au.CTime.UnixNano(), au.Cusec)
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, t := range a.replay {
		if now.Sub(t) > 2*a.maxSkew {
			delete(a.replay, k)
		}
	}
	if _, ok := a.replay[key]; ok {
		return errors.New("accept: request is a replay")
	}
	a.replay[key] = now
	return nil
}

// encAPRepPart is RFC 4120's EncAPRepPart without the subkey: the acceptor asserts none.
type encAPRepPart struct {
	CTime     time.Time `asn1:"generalized,explicit,tag:0"`
	Cusec     int       `asn1:"explicit,tag:1"`
	SeqNumber int64     `asn1:"explicit,optional,tag:3"`
}

type apRepMsg struct {
	PVNO    int                 `asn1:"explicit,tag:0"`
	MsgType int                 `asn1:"explicit,tag:1"`
	EncPart types.EncryptedData `asn1:"explicit,tag:2"`
}

func apRep(sessionKey types.EncryptionKey, ctime time.Time, cusec int, seq int64) ([]byte, error) {
	part, err := asn1.Marshal(encAPRepPart{CTime: ctime, Cusec: cusec, SeqNumber: seq})
	if err != nil {
		return nil, fmt.Errorf("AP-REP: %w", err)
	}
	enc, err := crypto.GetEncryptedData(asn1tools.AddASNAppTag(part, 27), sessionKey, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, fmt.Errorf("AP-REP: %w", err)
	}
	b, err := asn1.Marshal(apRepMsg{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: enc})
	if err != nil {
		return nil, fmt.Errorf("AP-REP: %w", err)
	}
	return asn1tools.AddASNAppTag(b, 15), nil
}

func randomSeq() (int64, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<30-1))
	if err != nil {
		return 0, fmt.Errorf("sequence number: %w", err)
	}
	return n.Int64() + 1, nil
}

// frame wraps a Kerberos message in the GSS-API initial context token framing (RFC 2743 3.1) with the krb5
// mechanism's OID and token id.
func frame(tokID, msg []byte) []byte {
	oid, _ := asn1.Marshal(gssapi.OIDKRB5.OID())
	b := append(oid, tokID...)
	return asn1tools.AddASNAppTag(append(b, msg...), 0)
}

// unframe checks the framing and token id and returns the Kerberos message.
func unframe(tok, tokID []byte) ([]byte, error) {
	var oid asn1.ObjectIdentifier
	rest, err := asn1.UnmarshalWithParams(tok, &oid, "application,explicit,tag:0")
	if err != nil {
		return nil, fmt.Errorf("not a GSS-API context token: %w", err)
	}
	if !oid.Equal(gssapi.OIDKRB5.OID()) {
		return nil, fmt.Errorf("GSS-API mechanism %s is not Kerberos V5", oid)
	}
	if len(rest) < 2 || rest[0] != tokID[0] || rest[1] != tokID[1] {
		if len(rest) >= 2 && rest[0] == 0x03 && rest[1] == 0x00 {
			var e messages.KRBError
			if e.Unmarshal(rest[2:]) == nil {
				return nil, fmt.Errorf("peer sent a KRB-ERROR: %s", strings.TrimSpace(e.Error()))
			}
		}
		return nil, fmt.Errorf("unexpected GSS-API token id % x", rest[:min(2, len(rest))])
	}
	return rest[2:], nil
}

package kerberos

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

const realm = "EXAMPLE.COM"

// serviceKeytab holds kafka/localhost's keys, as kadmin's ktadd would write them.
func serviceKeytab(t *testing.T, etype int32) *keytab.Keytab {
	t.Helper()
	kt := keytab.New()
	if err := kt.AddEntry("kafka/localhost", realm, "service-secret", time.Now(), 2, etype); err != nil {
		t.Fatal(err)
	}
	return kt
}

// ticket is what a KDC would hand alice for kafka/localhost, made with the service's key.
func ticket(t *testing.T, kt *keytab.Keytab, etype int32, end time.Time) (types.PrincipalName, messages.Ticket, types.EncryptionKey) {
	t.Helper()
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice")
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "kafka/localhost")
	now := time.Now()
	tkt, key, err := messages.NewTicket(cname, realm, sname, realm, types.NewKrbFlags(), kt, etype, 2, now, now, end, end)
	if err != nil {
		t.Fatal(err)
	}
	return cname, tkt, key
}

// exchange runs a SASL exchange between cl, whose first token is first, and a server of acc.
func exchange(t *testing.T, acc *Acceptor, cl *SASLClient, first []byte) (*SASLServer, *SASLClient, error) {
	t.Helper()
	srv := acc.NewSASLServer()
	resp := first
	for range 5 {
		ch, done, err := srv.Step(resp)
		if err != nil {
			return srv, cl, err
		}
		if done {
			return srv, cl, nil
		}
		if resp, _, err = cl.Step(ch); err != nil {
			return srv, cl, err
		}
	}
	t.Fatal("exchange did not end")
	return nil, nil, nil
}

func TestSASLExchange(t *testing.T) {
	for _, etype := range []int32{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA1_96} {
		for _, mutual := range []bool{true, false} {
			kt := serviceKeytab(t, etype)
			cname, tkt, key := ticket(t, kt, etype, time.Now().Add(time.Hour))
			in, first, err := Initiate(cname, realm, tkt, key, mutual)
			if err != nil {
				t.Fatal(err)
			}
			srv, cl, err := exchange(t, NewAcceptor(kt, "kafka/localhost@"+realm), NewSASLClient(in, "bob"), first)
			if err != nil {
				t.Fatalf("etype %d mutual %v: %v", etype, mutual, err)
			}
			if srv.Peer() != "alice@"+realm || srv.AuthzID() != "bob" {
				t.Errorf("peer %q authzid %q", srv.Peer(), srv.AuthzID())
			}
			if want := []byte{1, 1, 0, 0}; !bytes.Equal(cl.Offer(), want) {
				t.Errorf("offer % x, want % x", cl.Offer(), want)
			}
		}
	}
}

func TestAcceptRefuses(t *testing.T) {
	etype := int32(etypeID.AES256_CTS_HMAC_SHA1_96)
	kt := serviceKeytab(t, etype)
	cname, tkt, key := ticket(t, kt, etype, time.Now().Add(time.Hour))
	_, first, err := Initiate(cname, realm, tkt, key, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewAcceptor(kt, "zookeeper/localhost@"+realm).Accept(first); err == nil ||
		!strings.Contains(err.Error(), "not zookeeper/localhost") {
		t.Errorf("ticket for another service: %v", err)
	}
	acc := NewAcceptor(kt, "*")
	if _, _, err := acc.Accept(first); err != nil {
		t.Fatalf("principal *: %v", err)
	}
	if _, _, err := acc.Accept(first); err == nil || !strings.Contains(err.Error(), "replay") {
		t.Errorf("replayed AP-REQ: %v", err)
	}
	other := keytab.New()
	if err := other.AddEntry("kafka/localhost", realm, "another-secret", time.Now(), 2, etype); err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewAcceptor(other, "").Accept(first); err == nil {
		t.Error("a ticket made with another key was accepted")
	}
	_, expired, key2 := ticket(t, kt, etype, time.Now().Add(-time.Hour))
	_, first2, err := Initiate(cname, realm, expired, key2, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewAcceptor(kt, "").Accept(first2); err == nil {
		t.Error("an expired ticket was accepted")
	}
	if _, _, err := acc.Accept([]byte{0x60, 0x03, 0x06, 0x01, 0x00}); err == nil {
		t.Error("garbage accepted")
	}
}

func TestSASLServerRefusesBadFinalToken(t *testing.T) {
	etype := int32(etypeID.AES128_CTS_HMAC_SHA1_96)
	kt := serviceKeytab(t, etype)
	cname, tkt, key := ticket(t, kt, etype, time.Now().Add(time.Hour))
	in, first, err := Initiate(cname, realm, tkt, key, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewAcceptor(kt, "").NewSASLServer()
	offer, _, err := srv.Step(first)
	if err != nil {
		t.Fatal(err)
	}
	cl := NewSASLClient(in, "")
	resp, _, err := cl.Step(offer)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(resp)
	bad[wrapHeaderLen] ^= 0xff // the selected layer: checksum no longer matches
	if _, _, err := srv.Step(bad); err == nil {
		t.Error("tampered token accepted")
	}
	// Selecting integrity, which was not offered.
	tok, err := in.Context().Wrap([]byte{2, 0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Step(tok); err == nil || !strings.Contains(err.Error(), "unsupported protection") {
		t.Errorf("integrity layer: %v", err)
	}
}

// sealedRotated is an initiator's wrap token with confidentiality and a right rotation, as Windows' SSPI sends.
func sealedRotated(t *testing.T, key types.EncryptionKey, payload []byte, rrc uint16) []byte {
	t.Helper()
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		t.Fatal(err)
	}
	const ec = 3
	plain := append(append(bytes.Clone(payload), make([]byte, ec)...), wrapHeader(flagSealed, ec, 0, 7)...)
	_, ct, err := et.EncryptMessage(key.KeyValue, plain, keyusage.GSSAPI_INITIATOR_SEAL)
	if err != nil {
		t.Fatal(err)
	}
	r := int(rrc) % len(ct)
	rot := append(bytes.Clone(ct[len(ct)-r:]), ct[:len(ct)-r]...)
	return append(wrapHeader(flagSealed, ec, rrc, 7), rot...)
}

func TestUnwrapSealedAndRotated(t *testing.T) {
	key := types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: bytes.Repeat([]byte{7}, 32)}
	for _, rrc := range []uint16{0, 28} {
		p, seq, err := unwrap(key, false, sealedRotated(t, key, []byte("\x01\x00\x00\x00alice"), rrc))
		if err != nil || string(p) != "\x01\x00\x00\x00alice" || seq != 7 {
			t.Errorf("rrc %d: %q %d %v", rrc, p, seq, err)
		}
	}
	tok, err := wrap(key, false, 3, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	// The same token rotated by 5: body rotated right, RRC set.
	body := tok[wrapHeaderLen:]
	rot := append(wrapHeader(0, binary.BigEndian.Uint16(tok[4:6]), 5, 3), append(bytes.Clone(body[len(body)-5:]), body[:len(body)-5]...)...)
	if p, _, err := unwrap(key, false, rot); err != nil || string(p) != "hello" {
		t.Errorf("rotated integrity token: %q %v", p, err)
	}
	if _, _, err := unwrap(key, true, tok); err == nil {
		t.Error("an initiator's token was taken as the acceptor's")
	}
}

package kerberos

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
)

// RFC 4121 section 4.2.6.2 wrap token flags.
const (
	flagSentByAcceptor = 0x01
	flagSealed         = 0x02
	flagAcceptorSubkey = 0x04
	wrapHeaderLen      = 16
)

var errNotWrapToken = errors.New("not an RFC 4121 wrap token")

// wrap makes a wrap token (RFC 4121) of payload with integrity only, as the JDK's SASL GSSAPI mechanism wraps its
// security layer messages (MessageProp(0, false)).
func wrap(key types.EncryptionKey, acceptor bool, seq uint64, payload []byte) ([]byte, error) {
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, fmt.Errorf("wrap: %w", err)
	}
	var flags byte
	usage := uint32(keyusage.GSSAPI_INITIATOR_SEAL)
	if acceptor {
		flags |= flagSentByAcceptor
		usage = keyusage.GSSAPI_ACCEPTOR_SEAL
	}
	hdr := wrapHeader(flags, 0, 0, seq)
	sum, err := et.GetChecksumHash(key.KeyValue, append(bytes.Clone(payload), hdr...), usage)
	if err != nil {
		return nil, fmt.Errorf("wrap: checksum: %w", err)
	}
	binary.BigEndian.PutUint16(hdr[4:6], uint16(len(sum)))
	out := append(hdr, payload...)
	return append(out, sum...), nil
}

func wrapHeader(flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, wrapHeaderLen)
	h[0], h[1], h[2], h[3] = 0x05, 0x04, flags, 0xff
	binary.BigEndian.PutUint16(h[4:6], ec)
	binary.BigEndian.PutUint16(h[6:8], rrc)
	binary.BigEndian.PutUint64(h[8:16], seq)
	return h
}

// unwrap checks a peer's wrap token and returns its payload and sequence number. fromAcceptor is the direction
// expected; sealed tokens (confidentiality) are decrypted, rotated ones (RRC, as Windows sends) turned back.
func unwrap(key types.EncryptionKey, fromAcceptor bool, tok []byte) (payload []byte, seq uint64, err error) {
	if len(tok) < wrapHeaderLen || tok[0] != 0x05 || tok[1] != 0x04 || tok[3] != 0xff {
		return nil, 0, errNotWrapToken
	}
	flags := tok[2]
	if (flags&flagSentByAcceptor != 0) != fromAcceptor {
		return nil, 0, errors.New("wrap token sent in the wrong direction")
	}
	if flags&flagAcceptorSubkey != 0 && !fromAcceptor {
		return nil, 0, errors.New("wrap token asserts an acceptor subkey that was never sent")
	}
	ec := binary.BigEndian.Uint16(tok[4:6])
	rrc := binary.BigEndian.Uint16(tok[6:8])
	seq = binary.BigEndian.Uint64(tok[8:16])
	body := tok[wrapHeaderLen:]
	if len(body) > 0 {
		r := int(rrc) % len(body)
		body = append(bytes.Clone(body[r:]), body[:r]...)
	}
	et, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, 0, fmt.Errorf("unwrap: %w", err)
	}
	usage := uint32(keyusage.GSSAPI_INITIATOR_SEAL)
	if fromAcceptor {
		usage = keyusage.GSSAPI_ACCEPTOR_SEAL
	}
	if flags&flagSealed != 0 {
		plain, err := et.DecryptMessage(key.KeyValue, body, usage)
		if err != nil {
			return nil, 0, fmt.Errorf("unwrap: decrypt: %w", err)
		}
		// plaintext | EC filler octets | copy of the header with RRC zero
		if len(plain) < int(ec)+wrapHeaderLen {
			return nil, 0, errors.New("unwrap: sealed token too short")
		}
		n := len(plain) - wrapHeaderLen
		if !bytes.Equal(plain[n:], wrapHeader(flags, ec, 0, seq)) {
			return nil, 0, errors.New("unwrap: sealed header does not match")
		}
		return plain[:n-int(ec)], seq, nil
	}
	if int(ec) > len(body) {
		return nil, 0, errors.New("unwrap: checksum longer than the token")
	}
	payload, sum := body[:len(body)-int(ec)], body[len(body)-int(ec):]
	want, err := et.GetChecksumHash(key.KeyValue, append(bytes.Clone(payload), wrapHeader(flags, 0, 0, seq)...), usage)
	if err != nil {
		return nil, 0, fmt.Errorf("unwrap: checksum: %w", err)
	}
	if !hmac.Equal(want, sum) {
		return nil, 0, errors.New("unwrap: checksum does not match")
	}
	return payload, seq, nil
}

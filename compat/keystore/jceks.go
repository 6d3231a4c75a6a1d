package keystore

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// JCEKS is the key store type of Java's SunJCE provider (keytool -storetype JCEKS): the JKS layout with another
// magic number, keys protected by Sun's PBEWithMD5AndTripleDES, and secret-key entries besides.
const JCEKS = "JCEKS"

// The header of a JCEKS file, as com.sun.crypto.provider.JceKeyStore writes and reads it; it also reads a JKS
// file's magic number.
const (
	jceksMagic = 0xcececece
	jksMagic   = 0xfeedfeed
)

// Entry tags of a JKS or JCEKS file.
const (
	tagPrivateKey  = 1
	tagTrustedCert = 2
	tagSecretKey   = 3
)

// Key protection algorithms of a JCEKS private key entry: Sun's PBEWithMD5AndTripleDES (what the SunJCE provider
// writes) and JKS's SHA-1 stream (an entry carried over from a JKS store).
var (
	oidJCEKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 19, 1}
	oidJDKKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}
)

// jceksMaxIterations is the most PBE iterations Java's KeyProtector takes.
const jceksMaxIterations = 5_000_000

// ErrJCEKSSecretKey is the error of a JCEKS store whose secret-key entries (Java-serialized SealedObjects) would
// have to be read: they hold no TLS key or certificate and are not decoded.
var ErrJCEKSSecretKey = errors.New("JCEKS secret-key entries are not read")

type jceksKeyEntry struct {
	alias     string
	protected []byte
	chain     []*x509.Certificate
}

type jceksStore struct {
	keys    []jceksKeyEntry // sorted by alias
	trusted []*x509.Certificate
	secrets []string // aliases of secret-key entries, skipped
}

// jceksReader reads the big-endian fields of Java's DataInputStream, failing (never panicking) on short input.
type jceksReader struct {
	b   []byte
	off int
	err error
}

func (r *jceksReader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = errors.New("truncated")
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *jceksReader) u32() uint32 {
	if b := r.next(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// length reads a non-negative int32 count.
func (r *jceksReader) length() int {
	n := int32(r.u32())
	if n < 0 && r.err == nil {
		r.err = fmt.Errorf("negative length %d", n)
	}
	return int(n)
}

// utf reads DataInput.readUTF's form: a 16-bit byte count and modified UTF-8 (kept as bytes: aliases are compared,
// not shown beyond error messages).
func (r *jceksReader) utf() string {
	b := r.next(2)
	if b == nil {
		return ""
	}
	return string(r.next(int(binary.BigEndian.Uint16(b))))
}

// certificate reads one length-prefixed certificate; version 2 names its type first.
func (r *jceksReader) certificate(version uint32) *x509.Certificate {
	if version == 2 {
		// Java's CertificateFactory knows X.509 by its alias X509 too, ignoring case.
		if typ := r.utf(); r.err == nil && !strings.EqualFold(typ, "X.509") && !strings.EqualFold(typ, "X509") {
			r.err = fmt.Errorf("certificate type %q (X.509 read)", typ)
		}
	}
	raw := r.next(r.length())
	if r.err != nil {
		return nil
	}
	c, err := x509.ParseCertificate(raw)
	if err != nil {
		r.err = fmt.Errorf("certificate: %w", err)
	}
	return c
}

// loadJCEKS reads a JCEKS file as JceKeyStore.engineLoad does: entries, then the SHA-1 keyed hash of the store
// password (as JKS), checked unless the password is empty (Java loads without a password then, unchecked).
// Secret-key entries are Java-serialized objects of no fixed length; they are stepped over (see skipJavaObject).
func loadJCEKS(data []byte, storePass string) (*jceksStore, error) {
	r := &jceksReader{b: data}
	magic, version := r.u32(), r.u32()
	if r.err != nil || (magic != jceksMagic && magic != jksMagic) || (version != 1 && version != 2) {
		return nil, errors.New("Invalid keystore format")
	}
	count := r.length()
	st := &jceksStore{}
	for i := 0; i < count && r.err == nil; i++ {
		tag := r.u32()
		alias := r.utf()
		r.next(8) // the entry's date
		switch tag {
		case tagPrivateKey:
			e := jceksKeyEntry{alias: alias, protected: r.next(r.length())}
			n := r.length()
			for j := 0; j < n && r.err == nil; j++ {
				e.chain = append(e.chain, r.certificate(version))
			}
			st.keys = append(st.keys, e)
		case tagTrustedCert:
			st.trusted = append(st.trusted, r.certificate(version))
		case tagSecretKey:
			if r.err == nil {
				n, err := skipJavaObject(data[r.off:])
				if err != nil {
					r.err = fmt.Errorf("secret key %q: %w", alias, err)
				} else {
					r.off += n
				}
			}
			st.secrets = append(st.secrets, alias)
		default:
			if r.err == nil {
				r.err = fmt.Errorf("Unrecognized keystore entry: %d", tag)
			}
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("JCEKS store: %w", r.err)
	}
	body := data[:r.off]
	digest := r.next(sha1.Size)
	if storePass != "" {
		h := sha1.New()
		h.Write(utf16BE(storePass))
		h.Write([]byte(jksWhitener))
		h.Write(body)
		if digest == nil || subtle.ConstantTimeCompare(h.Sum(nil), digest) != 1 {
			return nil, errors.New("Keystore was tampered with, or password was incorrect")
		}
	}
	slices.SortFunc(st.keys, func(a, b jceksKeyEntry) int { return strings.Compare(a.alias, b.alias) })
	return st, nil
}

// utf16BE is a Java password's chars as JKS and JCEKS hash them: two bytes each, high byte first.
func utf16BE(s string) []byte {
	b := bmpString(s)
	return b[:len(b)-2]
}

func jceksKeyPair(data []byte, storePass, keyPass string) (tls.Certificate, error) {
	st, err := loadJCEKS(data, storePass)
	if err != nil {
		return tls.Certificate{}, err
	}
	if keyPass == "" {
		keyPass = storePass
	}
	if len(st.keys) == 0 {
		if len(st.secrets) > 0 {
			return tls.Certificate{}, fmt.Errorf("no private key entry in it (%d secret-key entries: %w)",
				len(st.secrets), ErrJCEKSSecretKey)
		}
		return tls.Certificate{}, errors.New("no private key entry in it")
	}
	e := st.keys[0]
	der, err := recoverJCEKSKey(e.protected, keyPass)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key %q: %w", e.alias, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("key %q: %w", e.alias, err)
	}
	return pair(key, e.chain)
}

// jceksTrusted gives the trusted certificates and, as Java's trust manager takes them, each key entry's own.
func jceksTrusted(data []byte, storePass string) ([]*x509.Certificate, error) {
	st, err := loadJCEKS(data, storePass)
	if err != nil {
		return nil, err
	}
	certs := slices.Clone(st.trusted)
	for _, e := range st.keys {
		if len(e.chain) > 0 {
			certs = append(certs, e.chain[0])
		}
	}
	return certs, nil
}

// errCannotRecover is Java's message for a key that does not decrypt with the password.
var errCannotRecover = errors.New("Cannot recover key (wrong key password, or a damaged key)")

// recoverJCEKSKey decrypts a JCEKS private key entry, an EncryptedPrivateKeyInfo, as Java's
// com.sun.crypto.provider.KeyProtector does, and returns the PKCS#8 PrivateKeyInfo.
func recoverJCEKSKey(protected []byte, password string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if err := unmarshalAll(protected, &info); err != nil {
		return nil, fmt.Errorf("protected key: %w", err)
	}
	var plain []byte
	switch {
	case info.Algorithm.Algorithm.Equal(oidJCEKeyProtector):
		var p pbeParameter
		if err := unmarshalAll(info.Algorithm.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("protected key: PBE parameters: %w", err)
		}
		if p.Iterations < 1 || p.Iterations > jceksMaxIterations {
			return nil, fmt.Errorf("protected key: an iteration count of %d (1 to %d read)", p.Iterations,
				jceksMaxIterations)
		}
		if len(p.Salt) != 8 {
			return nil, fmt.Errorf("protected key: a salt of %d bytes (8 read)", len(p.Salt))
		}
		key, iv := md5TripleDESKey([]byte(password), p.Salt, p.Iterations)
		block, err := des.NewTripleDESCipher(key)
		if err != nil {
			return nil, err
		}
		data := info.EncryptedData
		if len(data) == 0 || len(data)%des.BlockSize != 0 {
			return nil, errCannotRecover
		}
		plain = make([]byte, len(data))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
		var ok bool
		if plain, ok = unpad(plain, des.BlockSize); !ok {
			return nil, errCannotRecover
		}
	case info.Algorithm.Algorithm.Equal(oidJDKKeyProtector):
		var err error
		if plain, err = recoverJKSKey(info.EncryptedData, password); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("protected key: algorithm %v not supported (Sun's PBEWithMD5AndTripleDES or JKS's "+
			"key protector)", info.Algorithm.Algorithm)
	}
	var raw asn1.RawValue
	if rest, err := asn1.Unmarshal(plain, &raw); err != nil || len(rest) != 0 || raw.Tag != asn1.TagSequence {
		return nil, errCannotRecover
	}
	return plain, nil
}

// md5TripleDESKey is the key (24 bytes) and IV (8) of Sun's proprietary PBEWithMD5AndTripleDES: each half of the
// 8-byte salt (the first half reversed when both are equal) is hashed with the password, then the digest with the
// password again for each further iteration; the two 16-byte digests make key and IV. The password is taken as
// bytes (Java 17 takes only printable ASCII passwords here, where this is the same).
func md5TripleDESKey(password, salt []byte, iterations int) (key, iv []byte) {
	salt = slices.Clone(salt)
	if [4]byte(salt[:4]) == [4]byte(salt[4:]) {
		salt[0], salt[3] = salt[3], salt[0]
		salt[1], salt[2] = salt[2], salt[1]
	}
	out := make([]byte, 0, 2*md5.Size)
	for half := 0; half < 2; half++ {
		h := md5.New()
		h.Write(salt[4*half : 4*half+4])
		h.Write(password)
		d := h.Sum(nil)
		for i := 1; i < iterations; i++ {
			h.Reset()
			h.Write(d)
			h.Write(password)
			d = h.Sum(d[:0])
		}
		out = append(out, d...)
	}
	return out[:24], out[24:]
}

// recoverJKSKey reverses JKS's key protector (Sun's proprietary SHA-1 stream): a 20-byte salt, the key XORed with
// SHA-1 digests chained from password and salt, and a SHA-1 of password and key to check it.
func recoverJKSKey(protected []byte, password string) ([]byte, error) {
	if len(protected) < 2*sha1.Size {
		return nil, errCannotRecover
	}
	pw := utf16BE(password)
	salt := protected[:sha1.Size]
	enc := protected[sha1.Size : len(protected)-sha1.Size]
	check := protected[len(protected)-sha1.Size:]
	plain := make([]byte, len(enc))
	d := salt
	for off := 0; off < len(enc); off += sha1.Size {
		h := sha1.New()
		h.Write(pw)
		h.Write(d)
		d = h.Sum(nil)
		subtle.XORBytes(plain[off:], enc[off:], d)
	}
	h := sha1.New()
	h.Write(pw)
	h.Write(plain)
	if subtle.ConstantTimeCompare(h.Sum(nil), check) != 1 {
		return nil, errCannotRecover
	}
	return plain, nil
}

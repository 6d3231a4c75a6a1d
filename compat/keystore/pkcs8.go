package keystore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rc4"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"

	"github.com/zkafka/zkafka/compat/keystore/internal/rc2"
)

// ErrWrongPassword is the error of an encrypted key that does not decrypt: a wrong password, or damaged text.
var ErrWrongPassword = errors.New("the private key does not decrypt with the password given " +
	"(wrong password, or a damaged key)")

// maxIterations bounds a key derivation's work: Java writes 10000, openssl 2048; far more is damage, not a setting.
const maxIterations = 10_000_000

// Object identifiers of RFC 8018 (PBES2, PBKDF2 and its PRFs, PBES1), the ciphers of PBES2, and RFC 7292's PKCS#12
// PBE schemes.
var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}

	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}

	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidDESCBC     = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}

	oidPBEWithMD5AndDESCBC  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
	oidPBEWithSHA1AndDESCBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10}

	oidPBEWithSHAAnd128BitRC4 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 1}
	oidPBEWithSHAAnd40BitRC4  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 2}

	oidPBEWithSHAAnd3KeyTripleDESCBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHAAnd2KeyTripleDESCBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	oidPBEWithSHAAnd128BitRC2CBC     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHAAnd40BitRC2CBC      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
)

// encryptedPrivateKeyInfo is RFC 5958's EncryptedPrivateKeyInfo.
type encryptedPrivateKeyInfo struct {
	Algorithm     algorithmIdentifier
	EncryptedData []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

// pbkdf2Params is RFC 8018's PBKDF2-params with the salt as given (the otherSource choice is refused when read).
type pbkdf2Params struct {
	Salt           asn1.RawValue
	IterationCount int
	KeyLength      int                 `asn1:"optional"`
	PRF            algorithmIdentifier `asn1:"optional"`
}

// pbeParameter is RFC 8018's PBEParameter and RFC 7292's pkcs-12PbeParams, the same form.
type pbeParameter struct {
	Salt       []byte
	Iterations int
}

// DecryptPKCS8 decrypts a DER EncryptedPrivateKeyInfo with password and returns the PrivateKeyInfo inside, for the
// schemes openssl pkcs8 -topk8 and Java write: PBES2 (PBKDF2 with HMAC-SHA1, -SHA224, -SHA256, -SHA384 or -SHA512;
// AES-128, -192 or -256, DES-EDE3 or DES, in CBC mode), PKCS#12's PBE with SHA-1 and three- or two-key triple DES,
// 128- or 40-bit RC2 in CBC mode or 128- or 40-bit RC4, and PBES1 with MD5 or SHA-1 and DES. Of these Java 17's
// EncryptedPrivateKeyInfo, which Kafka 2.8 and ZooKeeper 3.8 decrypt with, reads PKCS#12's three-key triple DES,
// RC2 and RC4 and PBES1 with MD5 only.
func DecryptPKCS8(der []byte, password string) ([]byte, error) {
	return decryptPKCS8(der, password, maxIterations)
}

// decryptPKCS8 is DecryptPKCS8 reading iteration counts up to maxIter (the fuzz test's bound is lower, to keep
// each input quick).
func decryptPKCS8(der []byte, password string, maxIter int) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, fmt.Errorf("parse encrypted private key: %w", err)
	} else if len(rest) != 0 {
		return nil, errors.New("parse encrypted private key: trailing data")
	}
	d, err := decrypter(info.Algorithm, password, maxIter)
	if err != nil {
		return nil, err
	}
	data := info.EncryptedData
	plain := make([]byte, len(data))
	if d.stream != nil {
		d.stream.XORKeyStream(plain, data)
	} else {
		bs := d.block.BlockSize()
		if len(data) == 0 || len(data)%bs != 0 {
			return nil, fmt.Errorf("encrypted private key: %d bytes of cipher text, not whole blocks of %d", len(data), bs)
		}
		cipher.NewCBCDecrypter(d.block, d.iv).CryptBlocks(plain, data)
		var ok bool
		if plain, ok = unpad(plain, bs); !ok {
			return nil, ErrWrongPassword
		}
	}
	// A wrong password passes the padding check about once in 256 tries (a stream cipher has none); the structure
	// inside tells then.
	var raw asn1.RawValue
	if rest, err := asn1.Unmarshal(plain, &raw); err != nil || len(rest) != 0 || raw.Tag != asn1.TagSequence {
		return nil, ErrWrongPassword
	}
	return plain, nil
}

// unpad removes PKCS#7 padding, in time independent of the bytes.
func unpad(b []byte, bs int) ([]byte, bool) {
	n := int(b[len(b)-1])
	good := subtle.ConstantTimeLessOrEq(1, n) & subtle.ConstantTimeLessOrEq(n, bs)
	for i := 1; i <= bs; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, n)
		same := subtle.ConstantTimeByteEq(b[len(b)-i], byte(n))
		good &= same | (inPad ^ 1)
	}
	if good != 1 {
		return nil, false
	}
	return b[:len(b)-n], true
}

// decryption is a block cipher in CBC mode with its IV, or a stream cipher.
type decryption struct {
	block  cipher.Block
	iv     []byte
	stream cipher.Stream
}

// decrypter makes the cipher that the algorithm and password give.
func decrypter(alg algorithmIdentifier, password string, maxIter int) (decryption, error) {
	params := alg.Parameters.FullBytes
	var d decryption
	var err error
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		d.block, d.iv, err = pbes2(params, password, maxIter)
	case alg.Algorithm.Equal(oidPBEWithSHAAnd3KeyTripleDESCBC):
		d.block, d.iv, err = pkcs12TripleDES(params, password, 24, maxIter)
	case alg.Algorithm.Equal(oidPBEWithSHAAnd2KeyTripleDESCBC):
		d.block, d.iv, err = pkcs12TripleDES(params, password, 16, maxIter)
	case alg.Algorithm.Equal(oidPBEWithSHAAnd128BitRC2CBC):
		d.block, d.iv, err = pkcs12RC2(params, password, 16, maxIter)
	case alg.Algorithm.Equal(oidPBEWithSHAAnd40BitRC2CBC):
		d.block, d.iv, err = pkcs12RC2(params, password, 5, maxIter)
	case alg.Algorithm.Equal(oidPBEWithSHAAnd128BitRC4):
		d.stream, err = pkcs12RC4(params, password, 16, maxIter)
	case alg.Algorithm.Equal(oidPBEWithSHAAnd40BitRC4):
		d.stream, err = pkcs12RC4(params, password, 5, maxIter)
	case alg.Algorithm.Equal(oidPBEWithMD5AndDESCBC):
		d.block, d.iv, err = pbes1(params, password, md5.New, maxIter)
	case alg.Algorithm.Equal(oidPBEWithSHA1AndDESCBC):
		d.block, d.iv, err = pbes1(params, password, sha1.New, maxIter)
	default:
		err = fmt.Errorf("encrypted private key: encryption algorithm %v not supported (PBES2; PKCS#12's PBE with "+
			"SHA-1 and triple DES, RC2 or RC4; PBES1 with DES)", alg.Algorithm)
	}
	return d, err
}

func pbes2(params []byte, password string, maxIter int) (cipher.Block, []byte, error) {
	var p pbes2Params
	if err := unmarshalAll(params, &p); err != nil {
		return nil, nil, fmt.Errorf("encrypted private key: PBES2 parameters: %w", err)
	}
	if !p.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, nil, fmt.Errorf("encrypted private key: key derivation %v not supported (PBKDF2)",
			p.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if err := unmarshalAll(p.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, nil, fmt.Errorf("encrypted private key: PBKDF2 parameters: %w", err)
	}
	if kdf.Salt.Class != asn1.ClassUniversal || kdf.Salt.Tag != asn1.TagOctetString {
		return nil, nil, errors.New("encrypted private key: PBKDF2 salt from another source not supported")
	}
	if err := checkIterations(kdf.IterationCount, maxIter); err != nil {
		return nil, nil, err
	}
	prf := sha1.New
	if kdf.PRF.Algorithm != nil {
		switch {
		case kdf.PRF.Algorithm.Equal(oidHMACSHA1):
		case kdf.PRF.Algorithm.Equal(oidHMACSHA224):
			prf = sha256.New224
		case kdf.PRF.Algorithm.Equal(oidHMACSHA256):
			prf = sha256.New
		case kdf.PRF.Algorithm.Equal(oidHMACSHA384):
			prf = sha512.New384
		case kdf.PRF.Algorithm.Equal(oidHMACSHA512):
			prf = sha512.New
		default:
			return nil, nil, fmt.Errorf("encrypted private key: PBKDF2 PRF %v not supported (HMAC with SHA-1, "+
				"SHA-224, SHA-256, SHA-384 or SHA-512)", kdf.PRF.Algorithm)
		}
	}
	scheme := p.EncryptionScheme.Algorithm
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch {
	case scheme.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case scheme.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case scheme.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case scheme.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	case scheme.Equal(oidDESCBC):
		keyLen, newCipher = 8, des.NewCipher
	default:
		return nil, nil, fmt.Errorf("encrypted private key: cipher %v not supported (AES-128/192/256-CBC, "+
			"DES-EDE3-CBC or DES-CBC)", scheme)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, nil, fmt.Errorf("encrypted private key: PBKDF2 key length %d, the cipher's is %d", kdf.KeyLength, keyLen)
	}
	var iv []byte
	if err := unmarshalAll(p.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, nil, fmt.Errorf("encrypted private key: cipher IV: %w", err)
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt.Bytes, kdf.IterationCount, keyLen)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypted private key: PBKDF2: %w", err)
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypted private key: %w", err)
	}
	if len(iv) != block.BlockSize() {
		return nil, nil, fmt.Errorf("encrypted private key: an IV of %d bytes, the cipher's block is %d", len(iv),
			block.BlockSize())
	}
	return block, iv, nil
}

// pkcs12TripleDES is RFC 7292's PBE with SHA-1 and triple DES of keyLen bytes (24: three keys; 16: two, the first
// used again as the third).
func pkcs12TripleDES(params []byte, password string, keyLen, maxIter int) (cipher.Block, []byte, error) {
	p, err := pbeParams(params, maxIter)
	if err != nil {
		return nil, nil, err
	}
	pw := bmpString(password)
	key := pkcs12KDF(pw, p.Salt, p.Iterations, 1, keyLen)
	if keyLen == 16 {
		key = append(key, key[:8]...)
	}
	block, err := des.NewTripleDESCipher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypted private key: %w", err)
	}
	return block, pkcs12KDF(pw, p.Salt, p.Iterations, 2, des.BlockSize), nil
}

// pkcs12RC2 is RFC 7292's PBE with SHA-1 and RC2 in CBC mode with a key of keyLen bytes, its effective length the
// key's own (as openssl and Java's PKCS12PBECipherCore take it).
func pkcs12RC2(params []byte, password string, keyLen, maxIter int) (cipher.Block, []byte, error) {
	p, err := pbeParams(params, maxIter)
	if err != nil {
		return nil, nil, err
	}
	pw := bmpString(password)
	block, err := rc2.NewCipher(pkcs12KDF(pw, p.Salt, p.Iterations, 1, keyLen), 8*keyLen)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypted private key: %w", err)
	}
	return block, pkcs12KDF(pw, p.Salt, p.Iterations, 2, rc2.BlockSize), nil
}

// pkcs12RC4 is RFC 7292's PBE with SHA-1 and RC4 with a key of keyLen bytes.
func pkcs12RC4(params []byte, password string, keyLen, maxIter int) (cipher.Stream, error) {
	p, err := pbeParams(params, maxIter)
	if err != nil {
		return nil, err
	}
	c, err := rc4.NewCipher(pkcs12KDF(bmpString(password), p.Salt, p.Iterations, 1, keyLen))
	if err != nil {
		return nil, fmt.Errorf("encrypted private key: %w", err)
	}
	return c, nil
}

// pbes1 is RFC 8018's PBES1 with DES-CBC: PBKDF1 over the password's bytes gives the key and the IV.
func pbes1(params []byte, password string, h func() hash.Hash, maxIter int) (cipher.Block, []byte, error) {
	p, err := pbeParams(params, maxIter)
	if err != nil {
		return nil, nil, err
	}
	d := h()
	d.Write([]byte(password))
	d.Write(p.Salt)
	t := d.Sum(nil)
	for i := 1; i < p.Iterations; i++ {
		d.Reset()
		d.Write(t)
		t = d.Sum(t[:0])
	}
	block, err := des.NewCipher(t[:8])
	if err != nil {
		return nil, nil, fmt.Errorf("encrypted private key: %w", err)
	}
	return block, t[8:16], nil
}

// pbeParams reads the salt and iteration count of PBES1 and of PKCS#12's PBE, which share their form.
func pbeParams(params []byte, maxIter int) (pbeParameter, error) {
	var p pbeParameter
	if err := unmarshalAll(params, &p); err != nil {
		return p, fmt.Errorf("encrypted private key: PBE parameters: %w", err)
	}
	return p, checkIterations(p.Iterations, maxIter)
}

// bmpString is the password as RFC 7292 feeds it to its KDF: UTF-16 big-endian with two zero bytes after, as Java
// and openssl write it.
func bmpString(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return append(b, 0, 0)
}

// pkcs12KDF is RFC 7292 appendix B.2 with SHA-1: n bytes of key (id 1) or IV (id 2) material.
func pkcs12KDF(password, salt []byte, iterations int, id byte, n int) []byte {
	const u, v = sha1.Size, 64
	fill := func(b []byte) []byte { // b repeated to a whole number of v-byte blocks
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	I := append(fill(salt), fill(password)...)
	h := sha1.New()
	out := make([]byte, 0, n+u)
	for len(out) < n {
		h.Reset()
		h.Write(d)
		h.Write(I)
		a := h.Sum(nil)
		for j := 1; j < iterations; j++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= n {
			break
		}
		// I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I, B being A repeated.
		b := fill(a)[:v]
		for j := 0; j < len(I); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				carry += int(I[j+k]) + int(b[k])
				I[j+k] = byte(carry)
				carry >>= 8
			}
		}
	}
	return out[:n]
}

func checkIterations(n, maxIter int) error {
	if n < 1 || n > maxIter {
		return fmt.Errorf("encrypted private key: an iteration count of %d (1 to %d read)", n, maxIter)
	}
	return nil
}

// unmarshalAll reads one DER value into v, with nothing after it.
func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing data")
	}
	return nil
}

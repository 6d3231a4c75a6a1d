package dynconfig

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/zkafka/zkafka/compat/serverprops"
)

// The keys of an encoded password, as Kafka's PasswordEncoder stores them.
const (
	pwKeyFactoryAlgorithm = "keyFactoryAlgorithm"
	pwCipherAlgorithm     = "cipherAlgorithm"
	pwIV                  = "initializationVector"
	pwKeyLength           = "keyLength"
	pwSalt                = "salt"
	pwIterations          = "iterations"
	pwEncrypted           = "encryptedPassword"
	pwLength              = "passwordLength"
	pwTagLength           = "authenticationTagLength"
)

// defaultKeyFactory is what Kafka uses without password.encoder.keyfactory.algorithm on a JVM that has it (every
// JVM Kafka runs on).
const defaultKeyFactory = "PBKDF2WithHmacSHA512"

// PasswordEncoder encrypts dynamic password configs for ZooKeeper as Kafka's PasswordEncoder does, so that either
// broker reads what the other wrote: a key derived from password.encoder.secret by PBKDF2 over 256 random salt
// bytes, the password encrypted with it (AES in CBC or GCM mode), and everything needed to decrypt it again stored
// beside it as "name:value" pairs joined by commas. Decoding uses the stored parameters, not the configured ones.
type PasswordEncoder struct {
	secret       string
	keyFactory   string
	cipher       string
	keyLengthBit int
	iterations   int
}

// NewPasswordEncoder is the encoder of secret with the password.encoder.* settings of cfg.
func NewPasswordEncoder(secret string, cfg *serverprops.Config) *PasswordEncoder {
	keyLength, _ := cfg.Int("password.encoder.key.length")
	iterations, _ := cfg.Int("password.encoder.iterations")
	e := &PasswordEncoder{secret: secret, keyFactory: cfg.String("password.encoder.keyfactory.algorithm"),
		cipher: cfg.String("password.encoder.cipher.algorithm"), keyLengthBit: int(keyLength), iterations: int(iterations)}
	if e.keyFactory == "" { // no default in KafkaConfig: PasswordEncoder picks it
		e.keyFactory = defaultKeyFactory
	}
	return e
}

// Encode encrypts password with a fresh salt and initialization vector.
func (e *PasswordEncoder) Encode(password string) (string, error) {
	salt := make([]byte, 256)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	block, gcm, err := e.newCipher(e.keyFactory, e.cipher, e.keyLengthBit, salt, e.iterations)
	if err != nil {
		return "", err
	}
	var iv, sealed []byte
	if gcm {
		iv = make([]byte, 12) // the length of the JDK's generated GCM IVs
		if _, err := rand.Read(iv); err != nil {
			return "", err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return "", err
		}
		sealed = aead.Seal(nil, iv, []byte(password), nil)
	} else {
		iv = make([]byte, aes.BlockSize)
		if _, err := rand.Read(iv); err != nil {
			return "", err
		}
		sealed = cbcEncrypt(block, iv, []byte(password))
	}
	b64 := base64.StdEncoding.EncodeToString
	pairs := []string{
		pwKeyFactoryAlgorithm + ":" + e.keyFactory,
		pwCipherAlgorithm + ":" + e.cipher,
		pwKeyLength + ":" + strconv.Itoa(e.keyLengthBit),
		pwSalt + ":" + b64(salt),
		pwIterations + ":" + strconv.Itoa(e.iterations),
		pwEncrypted + ":" + b64(sealed),
		pwLength + ":" + strconv.Itoa(javaLength(password)),
		pwIV + ":" + b64(iv),
	}
	if gcm {
		pairs = append(pairs, pwTagLength+":128")
	}
	return strings.Join(pairs, ","), nil
}

// Decode decrypts a value Encode (or Kafka) wrote with the same secret.
func (e *PasswordEncoder) Decode(encoded string) (string, error) {
	f := encodedFields{m: parseCSVMap(encoded)}
	keyFactory, cipherAlg := f.str(pwKeyFactoryAlgorithm), f.str(pwCipherAlgorithm)
	keyLength, iterations, length := f.int(pwKeyLength), f.int(pwIterations), f.int(pwLength)
	salt, sealed, iv := f.bytes(pwSalt), f.bytes(pwEncrypted), f.bytes(pwIV)
	if f.err != nil {
		return "", f.err
	}
	block, gcm, err := e.newCipher(keyFactory, cipherAlg, keyLength, salt, iterations)
	if err != nil {
		return "", err
	}
	var plain []byte
	if gcm {
		if tagBits := f.int(pwTagLength); f.err != nil {
			return "", f.err
		} else if tagBits != 128 {
			return "", fmt.Errorf("GCM tag length %d: only 128 is supported", tagBits)
		}
		if len(iv) == 0 {
			return "", errNotDecoded
		}
		aead, err := cipher.NewGCMWithNonceSize(block, len(iv))
		if err != nil {
			return "", errNotDecoded
		}
		if plain, err = aead.Open(nil, iv, sealed, nil); err != nil {
			return "", errNotDecoded
		}
	} else if plain, err = cbcDecrypt(block, iv, sealed); err != nil {
		return "", errNotDecoded
	}
	password := string(plain)
	if javaLength(password) != length {
		return "", errors.New("Password could not be decoded, sanity check of length failed")
	}
	return password, nil
}

// encodedFields reads the fields of an encoded password; the first missing or malformed one is err.
type encodedFields struct {
	m   map[string]string
	err error
}

func (f *encodedFields) str(k string) string {
	v, ok := f.m[k]
	if !ok && f.err == nil {
		f.err = fmt.Errorf("encoded password has no %s", k)
	}
	return v
}

func (f *encodedFields) int(k string) int {
	v := f.str(k)
	n, err := strconv.Atoi(v)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("encoded password's %s: %w", k, err)
	}
	return n
}

func (f *encodedFields) bytes(k string) []byte {
	v := f.str(k)
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("encoded password's %s: %w", k, err)
	}
	return b
}

// errNotDecoded is Kafka's message for a password the secret does not decrypt.
var errNotDecoded = errors.New("Password could not be decoded")

// newCipher derives the key as SecretKeyFactory keyFactory does from a PBEKeySpec (the secret's characters as
// UTF-8) and returns the AES block cipher and whether cipherAlg is GCM (else CBC).
func (e *PasswordEncoder) newCipher(keyFactory, cipherAlg string, keyLengthBit int, salt []byte, iterations int) (cipher.Block, bool, error) {
	var h func() hash.Hash
	switch keyFactory {
	case "PBKDF2WithHmacSHA1":
		h = sha1.New
	case "PBKDF2WithHmacSHA224":
		h = sha256.New224
	case "PBKDF2WithHmacSHA256":
		h = sha256.New
	case "PBKDF2WithHmacSHA384":
		h = sha512.New384
	case "PBKDF2WithHmacSHA512":
		h = sha512.New
	default:
		return nil, false, fmt.Errorf("password encoder key factory %s is not supported (PBKDF2WithHmacSHA1, -SHA224, -SHA256, -SHA384, -SHA512)", keyFactory)
	}
	var gcm bool
	switch strings.ToUpper(cipherAlg) {
	case "AES/CBC/PKCS5PADDING":
	case "AES/GCM/NOPADDING":
		gcm = true
	default:
		return nil, false, fmt.Errorf("password encoder cipher %s is not supported (AES/CBC/PKCS5Padding or AES/GCM/NoPadding)", cipherAlg)
	}
	if keyLengthBit != 128 && keyLengthBit != 192 && keyLengthBit != 256 {
		return nil, false, fmt.Errorf("password encoder key length %d: AES takes 128, 192 or 256", keyLengthBit)
	}
	if iterations <= 0 {
		return nil, false, fmt.Errorf("password encoder iterations %d", iterations)
	}
	key, err := pbkdf2.Key(h, e.secret, salt, iterations, keyLengthBit/8)
	if err != nil {
		return nil, false, fmt.Errorf("password encoder key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false, err
	}
	return block, gcm, nil
}

func cbcEncrypt(b cipher.Block, iv, plain []byte) []byte {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := make([]byte, len(plain)+pad)
	copy(buf, plain)
	for i := len(plain); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(buf, buf)
	return buf
}

func cbcDecrypt(b cipher.Block, iv, sealed []byte) ([]byte, error) {
	if len(iv) != aes.BlockSize || len(sealed) == 0 || len(sealed)%aes.BlockSize != 0 {
		return nil, errors.New("bad length")
	}
	buf := make([]byte, len(sealed))
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(buf, sealed)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, errors.New("bad padding")
	}
	for _, c := range buf[len(buf)-pad:] {
		if int(c) != pad {
			return nil, errors.New("bad padding")
		}
	}
	return buf[:len(buf)-pad], nil
}

// javaLength is String.length: UTF-16 code units, which is what Kafka stores as passwordLength.
func javaLength(s string) int { return len(utf16.Encode([]rune(s))) }

// parseCSVMap is Kafka's CoreUtils.parseCsvMap: pairs split at commas (and the blanks around them), each at its
// last colon, both sides trimmed.
func parseCSVMap(s string) map[string]string {
	out := map[string]string{}
	if s == "" {
		return out
	}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		i := strings.LastIndex(kv, ":")
		if i < 0 {
			continue // Kafka fails on such a pair: the missing keys fail the decoding here
		}
		out[strings.TrimSpace(kv[:i])] = strings.TrimSpace(kv[i+1:])
	}
	return out
}

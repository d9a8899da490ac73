package profilecache

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinKeyLen is the shortest accepted sealing key.
const MinKeyLen = 32

// Layout of a sealed Redis value: format byte, key fingerprint, nonce, then
// the AES-256-GCM ciphertext and tag.
const (
	sealFormatV1  byte = 1
	sealFPLen          = 4
	sealNonceLen       = 12
	sealHeaderLen      = 1 + sealFPLen + sealNonceLen
)

// errUnsealed means a Redis value that none of the keys opens: forged,
// tampered with, moved from another key, written before sealing, or sealed
// with a key no longer configured.
var errUnsealed = errors.New("profilecache: value does not open")

// sealKey is one configured key and what is derived from it. The HKDF
// labels differ from the session store's, so the same secret may serve both
// without one's values opening as the other's.
type sealKey struct {
	fp   [sealFPLen]byte
	aead cipher.AEAD
}

// sealer seals values written to Redis and opens those read back, so that
// whoever can write to Redis cannot hand idgate a profile: every value is
// authenticated with a key Redis never sees, and bound to the Redis key it
// is stored under.
type sealer struct {
	keys []sealKey // keys[0] seals; all open
}

func newSealer(secrets [][]byte) (*sealer, error) {
	s := &sealer{}
	for i, secret := range secrets {
		if len(secret) < MinKeyLen {
			return nil, fmt.Errorf("profilecache: keys[%d]: %d bytes, at least %d required", i, len(secret), MinKeyLen)
		}
		enc, err := hkdf.Key(sha256.New, secret, nil, "idgate profilecache aes-256-gcm v1", 32)
		if err != nil {
			return nil, fmt.Errorf("profilecache: derive key: %w", err)
		}
		fp, err := hkdf.Key(sha256.New, secret, nil, "idgate profilecache key id v1", sealFPLen)
		if err != nil {
			return nil, fmt.Errorf("profilecache: derive key: %w", err)
		}
		block, err := aes.NewCipher(enc)
		if err != nil {
			return nil, fmt.Errorf("profilecache: cipher: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("profilecache: cipher: %w", err)
		}
		k := sealKey{aead: aead}
		copy(k.fp[:], fp)
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// sealAD is the additional data: the format and the full Redis key, so a
// value copied under another key (another user's) does not open.
func sealAD(redisKey string) []byte {
	return append([]byte{sealFormatV1}, redisKey...)
}

// seal encrypts plaintext for redisKey with the current key.
func (s *sealer) seal(redisKey string, plaintext []byte) []byte {
	k := s.keys[0]
	out := make([]byte, sealHeaderLen, sealHeaderLen+len(plaintext)+k.aead.Overhead())
	out[0] = sealFormatV1
	copy(out[1:], k.fp[:])
	_, _ = rand.Read(out[1+sealFPLen : sealHeaderLen]) // never fails on supported platforms
	return k.aead.Seal(out, out[1+sealFPLen:sealHeaderLen], plaintext, sealAD(redisKey))
}

// open returns the plaintext of a value sealed for redisKey by any
// configured key, or errUnsealed.
func (s *sealer) open(redisKey string, sealed []byte) ([]byte, error) {
	if len(sealed) < sealHeaderLen || sealed[0] != sealFormatV1 {
		return nil, errUnsealed
	}
	for _, k := range s.keys {
		if [sealFPLen]byte(sealed[1:1+sealFPLen]) != k.fp {
			continue
		}
		pt, err := k.aead.Open(nil, sealed[1+sealFPLen:sealHeaderLen], sealed[sealHeaderLen:], sealAD(redisKey))
		if err == nil {
			return pt, nil
		}
	}
	return nil, errUnsealed
}

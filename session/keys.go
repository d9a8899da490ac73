package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Sizes of the cookie parts and of sealed values.
const (
	idLen     = 32
	macLen    = sha256.Size
	fpLen     = 4
	nonceLen  = 12
	formatV1  = 1
	headerLen = 1 + fpLen + nonceLen
)

// encodedIDLen and cookieLen are the lengths of base64url(id) and a cookie.
var (
	encodedIDLen = b64.EncodedLen(idLen)
	cookieLen    = encodedIDLen + 1 + b64.EncodedLen(macLen)
)

var b64 = base64.RawURLEncoding

// Value kinds, bound into the AES-GCM additional data so a state value can
// never be read as a session or the other way round.
const (
	kindSession byte = 's'
	kindState   byte = 't'
)

// keySet is one configured session key and what is derived from it.
type keySet struct {
	fp   [fpLen]byte
	mac  []byte
	aead cipher.AEAD
}

func deriveKeys(secret []byte) (*keySet, error) {
	derive := func(info string, n int) ([]byte, error) {
		return hkdf.Key(sha256.New, secret, nil, info, n)
	}
	encKey, err := derive("idgate session aes-256-gcm v1", 32)
	if err != nil {
		return nil, fmt.Errorf("session: derive key: %w", err)
	}
	macKey, err := derive("idgate session cookie hmac-sha256 v1", 32)
	if err != nil {
		return nil, fmt.Errorf("session: derive key: %w", err)
	}
	fp, err := derive("idgate session key id v1", fpLen)
	if err != nil {
		return nil, fmt.Errorf("session: derive key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("session: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session: cipher: %w", err)
	}
	ks := &keySet{mac: macKey, aead: aead}
	copy(ks.fp[:], fp)
	return ks, nil
}

func (k *keySet) sign(id []byte) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write(id)
	return m.Sum(nil)
}

// newID returns 256 random bits.
func newID() []byte {
	id := make([]byte, idLen)
	_, _ = rand.Read(id) // crypto/rand.Read never fails on supported platforms
	return id
}

// parseCookie splits a cookie value into its id and MAC without checking the
// MAC. It refuses anything but exactly base64url(32 bytes) "." base64url(32
// bytes).
func parseCookie(v string) (id, mac []byte, err error) {
	if len(v) != cookieLen || v[encodedIDLen] != '.' {
		return nil, nil, errors.New("session: malformed cookie")
	}
	id, err = b64.Strict().DecodeString(v[:encodedIDLen])
	if err != nil || len(id) != idLen {
		return nil, nil, errors.New("session: malformed cookie")
	}
	mac, err = b64.Strict().DecodeString(v[encodedIDLen+1:])
	if err != nil || len(mac) != macLen {
		return nil, nil, errors.New("session: malformed cookie")
	}
	return id, mac, nil
}

// cookieFor is the cookie value for id, signed with the current key.
func (s *Store) cookieFor(id []byte) string {
	return b64.EncodeToString(id) + "." + b64.EncodeToString(s.keys[0].sign(id))
}

// idFromCookie returns the id of a cookie whose MAC one of the keys made.
func (s *Store) idFromCookie(v string) ([]byte, error) {
	id, mac, err := parseCookie(v)
	if err != nil {
		return nil, ErrNoSession
	}
	for _, k := range s.keys {
		if hmac.Equal(mac, k.sign(id)) {
			return id, nil
		}
	}
	return nil, ErrNoSession
}

func additionalData(kind byte, id []byte) []byte {
	ad := make([]byte, 0, 2+len(id))
	return append(append(ad, formatV1, kind), id...)
}

// seal encrypts plaintext with the current key: version, key fingerprint,
// nonce, ciphertext.
func (s *Store) seal(kind byte, id, plaintext []byte) []byte {
	k := s.keys[0]
	out := make([]byte, headerLen, headerLen+len(plaintext)+k.aead.Overhead())
	out[0] = formatV1
	copy(out[1:], k.fp[:])
	_, _ = rand.Read(out[1+fpLen : headerLen])
	return k.aead.Seal(out, out[1+fpLen:headerLen], plaintext, additionalData(kind, id))
}

// open decrypts a sealed value with whichever key made it.
func (s *Store) open(kind byte, id, sealed []byte) ([]byte, error) {
	if len(sealed) < headerLen || sealed[0] != formatV1 {
		return nil, errors.New("session: unknown value format")
	}
	for _, k := range s.keys {
		if [fpLen]byte(sealed[1:1+fpLen]) != k.fp {
			continue
		}
		pt, err := k.aead.Open(nil, sealed[1+fpLen:headerLen], sealed[headerLen:], additionalData(kind, id))
		if err == nil {
			return pt, nil
		}
	}
	return nil, errors.New("session: value does not decrypt")
}

package profilecache

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds open whatever Redis might hold under a key. Nothing but a
// value sealed for that key opens (the only plaintext ever sealed with the
// fuzz keys is plaintext), and nothing panics. Seeds: f.Add below and
// testdata/fuzz/FuzzOpen.
func FuzzOpen(f *testing.F) {
	s, err := newSealer([][]byte{[]byte("profilecache fuzz key, 32 bytes!"), []byte("profilecache previous fuzz key!!")})
	if err != nil {
		f.Fatal(err)
	}
	const key = "idgate:userinfo:k"
	plaintext := []byte("\x01{\"p\":{\"sub\":\"s\",\"groups\":[\"admins\"]},\"e\":1}")
	sealed := s.seal(key, plaintext)
	f.Add(sealed)
	f.Add(plaintext)
	f.Add([]byte{})
	f.Add(sealed[:sealHeaderLen])
	f.Add(append([]byte{sealFormatV1}, make([]byte, 64)...))
	f.Add(s.seal("idgate:userinfo:other", plaintext)) // moved from another key
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := s.open(key, b)
		if err != nil {
			return
		}
		if !bytes.Equal(pt, plaintext) {
			t.Fatalf("open accepted a value it did not seal: %x", b)
		}
	})
}

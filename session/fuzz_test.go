package session

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseCookie feeds arbitrary cookie values to the parser and to the
// MAC check: neither may panic, a parsed value must re-encode to itself, and
// nothing but the store's own cookies may pass the MAC.
func FuzzParseCookie(f *testing.F) {
	s := MustStore(f, Config{Keys: [][]byte{key(1)}})
	f.Add(s.cookieFor(bytes.Repeat([]byte{7}, idLen)))
	f.Add("")
	f.Add(".")
	f.Fuzz(func(t *testing.T, v string) {
		id, mac, err := parseCookie(v)
		if err == nil {
			if got := b64.EncodeToString(id) + "." + b64.EncodeToString(mac); got != v {
				t.Fatalf("parsed %q re-encodes to %q", v, got)
			}
		}
		gotID, err := s.idFromCookie(v)
		if err != nil {
			if !errors.Is(err, ErrNoSession) {
				t.Fatalf("idFromCookie(%q) = %v, want ErrNoSession", v, err)
			}
			return
		}
		if s.cookieFor(gotID) != v {
			t.Fatalf("idFromCookie accepted %q, not a cookie the store makes", v)
		}
	})
}

// FuzzOpenState feeds arbitrary state cookie values to OpenState: it may not
// panic, and nothing but the store's own sealed states may open. A seal's
// nonce is random and each fuzz worker is a process of its own that seals
// the seed again, so what opened is compared, not the sealed bytes.
func FuzzOpenState(f *testing.F) {
	s := MustStore(f, Config{Keys: [][]byte{key(1)}})
	want := State{ID: "id", Verifier: "v", Nonce: "n", ReturnTo: "/x"}
	sealed, err := s.SealState(want)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Fuzz(func(t *testing.T, v string) {
		st, err := s.OpenState(v)
		if err != nil {
			if !errors.Is(err, ErrNoState) {
				t.Fatalf("OpenState(%q) = %v, want ErrNoState", v, err)
			}
			return
		}
		if st.ID != want.ID || st.Verifier != want.Verifier || st.Nonce != want.Nonce || st.ReturnTo != want.ReturnTo {
			t.Fatalf("OpenState accepted %q, not a state the store sealed", v)
		}
	})
}

package userinfo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
)

func TestEntryCodec(t *testing.T) {
	exp := time.UnixMilli(1_700_000_600_000)
	good := []struct {
		name string
		e    Entry
	}{
		{"profile", Entry{Profile: identity.Profile{Subject: "s", Email: "a@example.com", EmailVerified: identity.VerifiedTrue,
			Name: "A", Groups: []string{"a", "b"}}, Expires: exp}},
		{"profile with email_verified false", Entry{Profile: identity.Profile{Subject: "s", Email: "a@example.com",
			EmailVerified: identity.VerifiedFalse}, Expires: exp}},
		{"negative", Entry{Negative: true, Reason: ReasonStatus, Expires: exp}},
	}
	for _, tc := range good {
		t.Run("round trip "+tc.name, func(t *testing.T) {
			b, err := encode(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode(b)
			if err != nil {
				t.Fatalf("decode(%q): %v", b, err)
			}
			b2, _ := encode(got)
			if !bytes.Equal(b, b2) || !got.Expires.Equal(tc.e.Expires) {
				t.Fatalf("round trip changed the entry: %q -> %q", b, b2)
			}
		})
	}
	bad := []struct {
		name string
		v    string
	}{
		{"empty", ""},
		{"unknown version", "\x03" + `{"p":{"sub":"s"},"e":1}`},
		{"version 1: a left-out false would read as absent", "\x01" + `{"p":{"sub":"s","email":"a@b"},"e":1}`},
		{"no version byte", `{"p":{"sub":"s"},"e":1}`},
		{"not JSON", "\x02not json"},
		{"unknown field", "\x02" + `{"p":{"sub":"s"},"e":1,"admin":true}`},
		{"trailing data", "\x02" + `{"p":{"sub":"s"},"e":1}{}`},
		{"no expiry", "\x02" + `{"p":{"sub":"s"}}`},
		{"profile without subject", "\x02" + `{"p":{"email":"a@b"},"e":1}`},
		{"negative with a profile", "\x02" + `{"p":{"sub":"s"},"n":true,"r":"userinfo_status","e":1}`},
		{"negative without reason", "\x02" + `{"n":true,"e":1}`},
		{"negative with odd reason", "\x02" + `{"n":true,"r":"Bad Reason\r\n","e":1}`},
		{"CR LF in a value", "\x02" + `{"p":{"sub":"s","name":"a\r\nX-Evil: 1"},"e":1}`},
		{"NUL in a group", "\x02" + `{"p":{"sub":"s","groups":["a\u0000b"]},"e":1}`},
	}
	for _, tc := range bad {
		t.Run("reject "+tc.name, func(t *testing.T) {
			if e, err := decode([]byte(tc.v)); err == nil {
				t.Fatalf("decode accepted %q as %+v", tc.v, e)
			}
		})
	}
}

func TestCacheKey(t *testing.T) {
	k := cacheKey("https://issuer.example", "a b\r\n\x00c")
	if !strings.HasPrefix(k, "userinfo:") || len(k) != len("userinfo:")+64 ||
		strings.ContainsAny(k, " \r\n\x00") {
		t.Fatalf("cacheKey = %q, want userinfo:<64 hex>", k)
	}
	if cacheKey("a", "b\x00c") == cacheKey("a\x00b", "c") {
		t.Fatal("issuer/subject boundary is ambiguous")
	}
}

// FuzzDecodeEntry feeds arbitrary cache contents to decode: it must never
// panic, and whatever it accepts must be safe for headers and re-encode to a
// value that decodes to the same entry.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte("\x01" + `{"p":{"sub":"s","email":"a@example.com","groups":["a","b"]},"e":1700000600000}`))
	f.Add([]byte("\x01" + `{"n":true,"r":"userinfo_status","e":1700000600000}`))
	f.Add([]byte("\x02{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decode(b)
		if err != nil {
			return
		}
		if !e.Negative && !profileSafe(&e.Profile) {
			t.Fatalf("decode accepted an unsafe profile from %q", b)
		}
		if e.Negative && !validReason(e.Reason) {
			t.Fatalf("decode accepted reason %q", e.Reason)
		}
		b2, err := encode(e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		e2, err := decode(b2)
		if err != nil {
			t.Fatalf("re-decode %q: %v", b2, err)
		}
		if b3, _ := encode(e2); !bytes.Equal(b2, b3) {
			t.Fatalf("unstable round trip: %q -> %q", b2, b3)
		}
	})
}

package verify_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/internal/testkit/testlog"
	"github.com/idgate/idgate/signing"
	"github.com/idgate/idgate/verify"
)

// jwksServer serves a key set the test changes, counting fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64
	mu      sync.Mutex
	status  int
	body    []byte
	hang    chan struct{} // when set, a fetch blocks until it is closed or the client leaves
}

func newJWKSServer(t testing.TB, body []byte) *jwksServer {
	s := &jwksServer{status: http.StatusOK, body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		status, body, hang := s.status, s.body, s.hang
		s.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func mustKey(t testing.TB) *signing.Key {
	t.Helper()
	k, err := signing.New(signing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func tokenAt(t testing.TB, k *signing.Key, now time.Time) string {
	return signedBy(t, k, fmt.Sprintf(`{"iss":"idgate","aud":"flyte","sub":"alice","iat":%d,"exp":%d}`, now.Unix(), now.Add(5*time.Minute).Unix()))
}

// TestUnknownKidRefetch: a token naming an unknown kid refetches the key
// set at most once per MinRefetchInterval, however many arrive; a rotated
// key is found once a refetch is due; keys are kept while fetches fail.
func TestUnknownKidRefetch(t *testing.T) {
	clk := testclock.New(time.Now().Truncate(time.Second))
	k1, k2 := mustKey(t), mustKey(t)
	srv := newJWKSServer(t, k1.JWKS())
	v := mustVerifier(t, srv.URL, clk, func(c *verify.Config) { c.MinRefetchInterval = 30 * time.Second })
	ctx := context.Background()
	if _, err := v.Verify(ctx, tokenAt(t, k1, clk.Now())); err != nil {
		t.Fatal(err)
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches after start = %d, want 1", n)
	}
	srv.set(http.StatusOK, k2.JWKS()) // idgate restarted with a new key

	steps := []struct {
		name        string
		advance     time.Duration
		tok         func() string
		wantErr     error
		wantFetches int64
	}{
		{"random kids refetch nothing before due", 10 * time.Second, func() string { return randomKid(t, k2, clk.Now()) }, verify.ErrUnknownKey, 1},
		{"rotated key not yet fetched", 0, func() string { return tokenAt(t, k2, clk.Now()) }, verify.ErrUnknownKey, 1},
		{"rotated key found once due", 20 * time.Second, func() string { return tokenAt(t, k2, clk.Now()) }, nil, 2},
		{"old key gone with the new set", 0, func() string { return tokenAt(t, k1, clk.Now()) }, verify.ErrUnknownKey, 2},
		{"random kids refetch nothing again", 0, func() string { return randomKid(t, k2, clk.Now()) }, verify.ErrUnknownKey, 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Advance(st.advance)
			for range 20 {
				_, err := v.Verify(ctx, st.tok())
				if !errors.Is(err, st.wantErr) || (st.wantErr == nil) != (err == nil) {
					t.Fatalf("Verify error = %v, want %v", err, st.wantErr)
				}
			}
			if n := srv.fetches.Load(); n != st.wantFetches {
				t.Fatalf("fetches = %d, want %d", n, st.wantFetches)
			}
		})
	}
}

func randomKid(t testing.TB, k *signing.Key, now time.Time) string {
	var b [8]byte
	for i := range b {
		b[i] = byte('a' + (now.UnixNano()+int64(i)*7+int64(seq.Add(1)))%26)
	}
	return signedByHeader(t, k, `{"alg":"ES256","kid":"`+string(b[:])+`"}`,
		fmt.Sprintf(`{"iss":"idgate","aud":"flyte","sub":"alice","exp":%d}`, now.Add(time.Minute).Unix()))
}

var seq atomic.Int64

// TestKeysKeptWhileFetchFails: a failing refetch (error status, oversize,
// not a key set, no usable key, timeout) keeps the keys held, and is logged
// once, naming the failure.
func TestKeysKeptWhileFetchFails(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(s *jwksServer)
	}{
		{"status 503", func(s *jwksServer) { s.set(http.StatusServiceUnavailable, []byte(`{}`)) }},
		{"larger than MaxJWKSBytes", func(s *jwksServer) {
			s.set(http.StatusOK, []byte(`{"keys":[],"pad":"`+strings.Repeat("x", 8<<10)+`"}`))
		}},
		{"not JSON", func(s *jwksServer) { s.set(http.StatusOK, []byte(`<html>`)) }},
		{"only an RSA key", func(s *jwksServer) {
			s.set(http.StatusOK, []byte(`{"keys":[{"kty":"RSA","kid":"r","n":"sXch","e":"AQAB"}]}`))
		}},
		{"hangs past FetchTimeout", func(s *jwksServer) {
			s.mu.Lock()
			s.hang = make(chan struct{})
			s.mu.Unlock()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := testclock.New(time.Now().Truncate(time.Second))
			k := mustKey(t)
			srv := newJWKSServer(t, k.JWKS())
			t.Cleanup(func() {
				srv.mu.Lock()
				if srv.hang != nil {
					close(srv.hang)
				}
				srv.mu.Unlock()
			})
			logs := &testlog.Buffer{}
			v := mustVerifier(t, srv.URL, clk, func(c *verify.Config) {
				c.Logger = slog.New(slog.NewTextHandler(logs, nil))
				c.MaxJWKSBytes = 4 << 10
				c.FetchTimeout = 100 * time.Millisecond
			})
			if _, err := v.Verify(context.Background(), tokenAt(t, k, clk.Now())); err != nil {
				t.Fatal(err)
			}
			tc.break_(srv)
			clk.Advance(time.Minute)
			start := time.Now()
			if _, err := v.Verify(context.Background(), randomKid(t, k, clk.Now())); !errors.Is(err, verify.ErrUnknownKey) {
				t.Fatalf("unknown kid: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("a fetch took %v: no timeout", d)
			}
			if n := srv.fetches.Load(); n != 2 {
				t.Fatalf("fetches = %d, want 2", n)
			}
			if _, err := v.Verify(context.Background(), tokenAt(t, k, clk.Now())); err != nil {
				t.Fatalf("key held before the failure refused: %v", err)
			}
			if n := strings.Count(logs.String(), "key set fetch failing"); n != 1 {
				t.Fatalf("%d failure lines, want 1:\n%s", n, logs)
			}
		})
	}
}

// TestNoKeysYet: while idgate has never answered, Verify fails (closed)
// and waits only for the caller's deadline.
func TestNoKeysYet(t *testing.T) {
	clk := testclock.New(time.Now())
	k := mustKey(t)
	srv := newJWKSServer(t, k.JWKS())
	srv.set(http.StatusInternalServerError, nil)
	v := mustVerifier(t, srv.URL, clk, nil)
	if _, err := v.Verify(context.Background(), tokenAt(t, k, clk.Now())); !errors.Is(err, verify.ErrUnknownKey) {
		t.Fatalf("Verify with no keys: %v", err)
	}
	srv.set(http.StatusOK, k.JWKS())
	clk.Advance(verify.DefaultMinRefetchInterval)
	if _, err := v.Verify(context.Background(), tokenAt(t, k, clk.Now())); err != nil {
		t.Fatalf("Verify once idgate answers: %v", err)
	}
}

// TestConfig: required fields are refused when missing, negative durations
// are refused, and zero means the documented default (Leeway: zero).
func TestConfig(t *testing.T) {
	ok := verify.Config{JWKSURL: "http://idgate:8080/.well-known/jwks.json", Issuer: "idgate", Audience: "flyte"}
	tests := []struct {
		name    string
		edit    func(*verify.Config)
		wantErr string
	}{
		{"minimal", func(*verify.Config) {}, ""},
		{"no JWKSURL", func(c *verify.Config) { c.JWKSURL = "" }, "JWKSURL"},
		{"JWKSURL not http", func(c *verify.Config) { c.JWKSURL = "file:///etc/jwks.json" }, "JWKSURL"},
		{"no Issuer", func(c *verify.Config) { c.Issuer = "" }, "Issuer: required"},
		{"no Audience", func(c *verify.Config) { c.Audience = "" }, "Audience: required"},
		{"negative Leeway", func(c *verify.Config) { c.Leeway = -time.Second }, "Leeway: negative"},
		{"negative FetchTimeout", func(c *verify.Config) { c.FetchTimeout = -time.Second }, "FetchTimeout: negative"},
		{"negative MaxJWKSBytes", func(c *verify.Config) { c.MaxJWKSBytes = -1 }, "MaxJWKSBytes: negative"},
		{"every problem at once", func(c *verify.Config) { *c = verify.Config{} }, "JWKSURL: want an http(s) URL; Issuer: required; Audience: required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			v, err := verify.New(cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer v.Close()
				if v.Header() != verify.DefaultHeader {
					t.Fatalf("Header() = %q", v.Header())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "verify: ") {
				t.Fatalf("New error = %v, want one naming %q", err, tc.wantErr)
			}
		})
	}
}

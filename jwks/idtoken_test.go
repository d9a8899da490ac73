package jwks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

func TestVerifyIDToken(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	const client, nonce = "idgate-web", "n-0S6_WzA2Mj"
	tests := []struct {
		name    string
		claims  map[string]any
		nonce   string
		wantErr error
	}{
		{"valid", map[string]any{"aud": client, "nonce": nonce}, nonce, nil},
		{"valid with azp", map[string]any{"aud": []string{client, "other"}, "azp": client, "nonce": nonce}, nonce, nil},
		{"api audience is not the client", map[string]any{"aud": "idgate-dev", "nonce": nonce}, nonce, jwks.ErrAudience},
		{"several audiences without azp", map[string]any{"aud": []string{client, "other"}, "nonce": nonce}, nonce, jwks.ErrAudience},
		{"azp of another client", map[string]any{"aud": client, "azp": "other", "nonce": nonce}, nonce, jwks.ErrAudience},
		{"nonce missing", map[string]any{"aud": client}, nonce, jwks.ErrNonce},
		{"nonce differs", map[string]any{"aud": client, "nonce": "replayed"}, nonce, jwks.ErrNonce},
		{"no expected nonce", map[string]any{"aud": client, "nonce": ""}, "", jwks.ErrNonce},
		{"expired", map[string]any{"aud": client, "nonce": nonce, "exp": clk.Now().Add(-time.Hour).Unix()}, nonce, jwks.ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := MustMint(t, p, tc.claims, devidp.MintOptions{Alg: "ES256"})
			id, err := v.VerifyIDToken(context.Background(), tok, client, tc.nonce)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (id.Subject != "alice" || id.Email != "alice@example.com") {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
	if _, err := v.VerifyIDToken(context.Background(), p.MintNone(map[string]any{"sub": "alice", "aud": client, "nonce": nonce}), client, nonce); !errors.Is(err, jwks.ErrAlgorithm) {
		t.Fatalf("alg none: %v", err)
	}
}

// A refreshed ID token (OIDC Core 12.2) SHOULD NOT carry a nonce; when it
// does, it must be the login's. Everything else is checked as at login.
func TestVerifyRefreshedIDToken(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	const client, nonce = "idgate-web", "n-0S6_WzA2Mj"
	tests := []struct {
		name       string
		claims     map[string]any
		loginNonce string
		wantErr    error
	}{
		{"no nonce", map[string]any{"aud": client}, nonce, nil},
		{"the login's nonce", map[string]any{"aud": client, "nonce": nonce}, nonce, nil},
		{"another nonce", map[string]any{"aud": client, "nonce": "replayed"}, nonce, jwks.ErrNonce},
		{"login nonce unknown", map[string]any{"aud": client, "nonce": "any"}, "", nil},
		{"another client", map[string]any{"aud": "other"}, nonce, jwks.ErrAudience},
		{"expired", map[string]any{"aud": client, "exp": clk.Now().Add(-time.Hour).Unix()}, nonce, jwks.ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := MustMint(t, p, tc.claims, devidp.MintOptions{Alg: "ES256"})
			id, err := v.VerifyRefreshedIDToken(context.Background(), tok, client, tc.loginNonce)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && id.Subject != "alice" {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
	if _, err := v.VerifyRefreshedIDToken(context.Background(), p.MintNone(map[string]any{"sub": "alice", "aud": client}), client, nonce); !errors.Is(err, jwks.ErrAlgorithm) {
		t.Fatalf("alg none: %v", err)
	}
}

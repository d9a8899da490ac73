package jwks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/jwks"
)

// TestVerifyIDToken: a login's ID token and a refreshed one (OIDC Core
// 12.2) are checked alike but for the nonce: at login it must equal the
// expected one; after a refresh it SHOULD be absent and, when present, must
// be the login's ("" when the caller no longer knows it accepts any).
func TestVerifyIDToken(t *testing.T) {
	clk := newClock()
	p := MustIdP(t, clk)
	v := MustVerifier(t, p, clk, nil)
	ctx := context.Background()
	const client, nonce = "idgate-web", "n-0S6_WzA2Mj"
	type verifyFunc func(tok, nonce string) (identity.Identity, error)
	login := func(tok, nonce string) (identity.Identity, error) { return v.VerifyIDToken(ctx, tok, client, nonce) }
	refreshed := func(tok, nonce string) (identity.Identity, error) {
		return v.VerifyRefreshedIDToken(ctx, tok, client, nonce)
	}
	tests := []struct {
		name    string
		verify  verifyFunc
		claims  map[string]any
		nonce   string
		wantErr error
	}{
		{"valid", login, map[string]any{"aud": client, "nonce": nonce}, nonce, nil},
		{"valid with azp", login, map[string]any{"aud": []string{client, "other"}, "azp": client, "nonce": nonce}, nonce, nil},
		{"api audience is not the client", login, map[string]any{"aud": "idgate-dev", "nonce": nonce}, nonce, jwks.ErrAudience},
		{"several audiences without azp", login, map[string]any{"aud": []string{client, "other"}, "nonce": nonce}, nonce, jwks.ErrAudience},
		{"azp of another client", login, map[string]any{"aud": client, "azp": "other", "nonce": nonce}, nonce, jwks.ErrAudience},
		{"nonce missing", login, map[string]any{"aud": client}, nonce, jwks.ErrNonce},
		{"nonce differs", login, map[string]any{"aud": client, "nonce": "replayed"}, nonce, jwks.ErrNonce},
		{"no expected nonce", login, map[string]any{"aud": client, "nonce": ""}, "", jwks.ErrNonce},
		{"expired", login, map[string]any{"aud": client, "nonce": nonce, "exp": clk.Now().Add(-time.Hour).Unix()}, nonce, jwks.ErrExpired},
		{"refreshed: no nonce", refreshed, map[string]any{"aud": client}, nonce, nil},
		{"refreshed: the login's nonce", refreshed, map[string]any{"aud": client, "nonce": nonce}, nonce, nil},
		{"refreshed: another nonce", refreshed, map[string]any{"aud": client, "nonce": "replayed"}, nonce, jwks.ErrNonce},
		{"refreshed: login nonce unknown", refreshed, map[string]any{"aud": client, "nonce": "any"}, "", nil},
		{"refreshed: another client", refreshed, map[string]any{"aud": "other"}, nonce, jwks.ErrAudience},
		{"refreshed: expired", refreshed, map[string]any{"aud": client, "exp": clk.Now().Add(-time.Hour).Unix()}, nonce, jwks.ErrExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := MustMint(t, p, tc.claims, devidp.MintOptions{Alg: "ES256"})
			id, err := tc.verify(tok, tc.nonce)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && (id.Subject != "alice" || id.Email != "alice@example.com") {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
	for name, verify := range map[string]verifyFunc{"login": login, "refreshed": refreshed} {
		if _, err := verify(p.MintNone(map[string]any{"sub": "alice", "aud": client, "nonce": nonce}), nonce); !errors.Is(err, jwks.ErrAlgorithm) {
			t.Fatalf("%s: alg none: %v", name, err)
		}
	}
}

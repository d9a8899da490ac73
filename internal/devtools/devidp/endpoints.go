package devidp

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Provider) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.issuer + "/authorize",
		"token_endpoint":                        p.issuer + "/token",
		"userinfo_endpoint":                     p.issuer + "/userinfo",
		"jwks_uri":                              p.issuer + "/jwks",
		"end_session_endpoint":                  p.issuer + "/logout",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"id_token_signing_alg_values_supported": Algs,
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []string{"openid", "email", "profile", "groups", "offline_access"},
	})
}

func (p *Provider) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	keys := p.publishedKeys()
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.jwk())
	}
	p.mu.Lock()
	cc := p.jwksCache
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": out})
}

// profileClaims are copied from a token into a default userinfo response.
var profileClaims = []string{
	"sub", "email", "email_verified", "name", "given_name", "family_name",
	"preferred_username", "groups", "picture", "locale",
}

func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(auth, "bearer ")
	}
	claims, err := p.verifyOwn(strings.TrimSpace(tok))
	if !ok || err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	sub, _ := claims["sub"].(string)
	p.mu.Lock()
	set, found := p.userinfo[sub]
	if p.userinfoBySub == nil {
		p.userinfoBySub = map[string]int64{}
	}
	p.userinfoBySub[sub]++
	p.mu.Unlock()
	out := map[string]any{}
	if found {
		for k, v := range set {
			out[k] = v
		}
		if _, has := out["sub"]; !has {
			out["sub"] = sub
		}
	} else {
		for _, k := range profileClaims {
			if v, has := claims[k]; has {
				out[k] = v
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// verifyOwn checks that tok was signed by one of the published keys and has
// not expired, and returns its claims.
func (p *Provider) verifyOwn(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errInvalidToken
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return nil, errInvalidToken
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errInvalidToken
	}
	input := []byte(parts[0] + "." + parts[1])
	verified := false
	for _, k := range p.publishedKeys() {
		if k.alg == header.Alg && (header.Kid == "" || k.kid == header.Kid) && k.verify(input, sig) {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errInvalidToken
	}
	pb, err := b64.DecodeString(parts[1])
	var claims map[string]any
	if err != nil || json.Unmarshal(pb, &claims) != nil {
		return nil, errInvalidToken
	}
	exp, _ := claims["exp"].(float64)
	if sub, _ := claims["sub"].(string); sub == "" || !p.opts.Now().Before(time.Unix(int64(exp), 0)) {
		return nil, errInvalidToken
	}
	return claims, nil
}

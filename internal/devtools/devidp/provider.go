package devidp

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Provider. The zero value is usable.
type Options struct {
	// Addr to listen on, e.g. "127.0.0.1:0"; it must be a loopback address.
	// Empty means "127.0.0.1:0".
	Addr string
	// ClientID is the only client the authorize and token endpoints accept,
	// and the default `aud` of minted tokens. Empty means "idgate-dev".
	ClientID string
	// ClientSecret authenticates the client at the token endpoint
	// (client_secret_basic or client_secret_post). Empty means "dev-secret".
	ClientSecret string
	// RedirectURLs are the redirect_uri values the client may use. Empty
	// accepts any absolute URL.
	RedirectURLs []string
	// DefaultUser holds the claims of the user the authorize endpoint logs in
	// without a form (sub, email, name, groups, ...). Nil means a built-in
	// user with sub "dev-user".
	DefaultUser map[string]any
	// Now is the clock for minted tokens and codes. Nil means time.Now.
	Now func() time.Time
	// Issuer is the `iss` the provider claims and announces (with its
	// endpoints under it), e.g. Kubeflow's in-cluster Dex URL that a test
	// routes to this provider. Empty means its own URL, "http://ADDR".
	Issuer string
	// GroupsNeedScope leaves `groups` out of the tokens of a login that did
	// not ask for the groups scope, as Dex does.
	GroupsNeedScope bool
	// OneRefreshTokenPerUser keeps one refresh token per user (and client),
	// as Dex does: a new login revokes the user's earlier refresh token,
	// which is then refused with invalid_grant.
	OneRefreshTokenPerUser bool
}

// Fault makes an endpoint misbehave. The zero Fault means normal service.
type Fault struct {
	// Status, when non-zero, is the HTTP status returned instead of the
	// normal response.
	Status int
	// Delay is waited (or until the client goes away) before answering.
	Delay time.Duration
	// Body, when non-empty, replaces the normal response body (status 200
	// unless Status is set), e.g. invalid JSON.
	Body string
}

// MintOptions chooses how Mint signs a token.
type MintOptions struct {
	// Alg is the signature algorithm; empty means RS256. One of Algs.
	Alg string
	// KeyID overrides the `kid` header (e.g. a kid the JWKS does not have);
	// the token is still signed with the current key of Alg.
	KeyID string
	// NoKeyID leaves the `kid` header out.
	NoKeyID bool
	// ExtraHeader entries are added to the JOSE header last, so they may
	// override anything (jku, x5u, jwk, crit, even alg).
	ExtraHeader map[string]any
	// EditClaims, when set, rewrites the encoded claims JSON before it is
	// signed: a test's way to sign what a map cannot hold (a claim named
	// twice, names differing only in case).
	EditClaims func([]byte) []byte
}

// Provider is a running OIDC provider. Its methods are safe for concurrent
// use.
type Provider struct {
	opts   Options
	url    string // where it listens
	issuer string
	ln     net.Listener
	srv    *http.Server
	done   chan struct{}

	mu            sync.Mutex
	gen           int
	current       map[string]*signingKey
	retired       []*signingKey
	userinfo      map[string]map[string]any
	faults        map[string]Fault
	jwksCache     string
	defaultUser   map[string]any
	codes         map[string]*authCode
	refreshTokens map[string]*grant
	userRefresh   map[string]string // sub → its one refresh token (OneRefreshTokenPerUser)
	logouts       int64
	userinfoBySub map[string]int64 // answered userinfo calls by token subject

	jwksCalls     atomic.Int64
	userinfoCalls atomic.Int64
}

// Start generates keys, listens on opts.Addr and serves until Close. It
// returns once the listener is open.
func Start(opts Options) (*Provider, error) {
	opts = withDefaults(opts)
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("devidp: addr %q: %w", opts.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("devidp: addr %q: loopback only", opts.Addr)
	}
	keys, err := newKeys(1)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("devidp: listen: %w", err)
	}
	p := &Provider{
		opts:          opts,
		url:           "http://" + ln.Addr().String(),
		issuer:        cmp.Or(opts.Issuer, "http://"+ln.Addr().String()),
		ln:            ln,
		done:          make(chan struct{}),
		gen:           1,
		current:       keys,
		userinfo:      map[string]map[string]any{},
		faults:        map[string]Fault{},
		defaultUser:   opts.DefaultUser,
		codes:         map[string]*authCode{},
		refreshTokens: map[string]*grant{},
		userRefresh:   map[string]string{},
	}
	p.srv = &http.Server{Handler: p.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

func withDefaults(opts Options) Options {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.ClientID == "" {
		opts.ClientID = "idgate-dev"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "dev-secret"
	}
	if opts.DefaultUser == nil {
		opts.DefaultUser = map[string]any{
			"sub":                "dev-user",
			"email":              "dev@example.com",
			"email_verified":     true,
			"name":               "Dev User",
			"given_name":         "Dev",
			"family_name":        "User",
			"preferred_username": "dev",
			"groups":             []string{"dev", "admins"},
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return opts
}

func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.withFault("discovery", p.handleDiscovery))
	mux.HandleFunc("GET /jwks", p.withFault("jwks", p.handleJWKS))
	mux.HandleFunc("/userinfo", p.withFault("userinfo", p.handleUserinfo))
	mux.HandleFunc("GET /authorize", p.handleAuthorize)
	mux.HandleFunc("POST /token", p.withFault("token", p.handleToken))
	mux.HandleFunc("/logout", p.handleLogout)
	return mux
}

// Issuer is the provider's issuer URL, "http://127.0.0.1:PORT" unless
// Options.Issuer says otherwise.
func (p *Provider) Issuer() string { return p.issuer }

// URL is where the provider listens, "http://127.0.0.1:PORT".
func (p *Provider) URL() string { return p.url }

// ClientID is the client the provider accepts.
func (p *Provider) ClientID() string { return p.opts.ClientID }

// ClientSecret is the secret of ClientID.
func (p *Provider) ClientSecret() string { return p.opts.ClientSecret }

// Close stops serving and closes open connections.
func (p *Provider) Close() error {
	err := p.srv.Close()
	<-p.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// RotateKeys makes a new key per algorithm current. The previous keys stay
// in the JWKS (and keep verifying at userinfo) only if keepOld; keys retired
// earlier stay as long as every rotation keeps old ones.
func (p *Provider) RotateKeys(keepOld bool) {
	p.mu.Lock()
	gen := p.gen + 1
	p.mu.Unlock()
	keys, err := newKeys(gen)
	if err != nil {
		panic(err) // crypto/rand failing leaves nothing to test
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if keepOld {
		for _, alg := range Algs {
			p.retired = append(p.retired, p.current[alg])
		}
	} else {
		p.retired = nil
	}
	p.gen = gen
	p.current = keys
}

// CurrentKeyID is the kid Mint uses for alg ("" for an unknown alg).
func (p *Provider) CurrentKeyID(alg string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := p.current[alg]; k != nil {
		return k.kid
	}
	return ""
}

// SetUserinfo sets the userinfo response for subject sub; "sub" is added
// unless claims has one. Nil claims go back to the token's own claims.
func (p *Provider) SetUserinfo(sub string, claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if claims == nil {
		delete(p.userinfo, sub)
		return
	}
	p.userinfo[sub] = maps.Clone(claims)
}

// SetDefaultUser changes who the authorize endpoint logs in.
func (p *Provider) SetDefaultUser(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.defaultUser = maps.Clone(claims)
}

// UserinfoCalls counts requests to the userinfo endpoint.
func (p *Provider) UserinfoCalls() int64 { return p.userinfoCalls.Load() }

// UserinfoCallsBySubject counts the userinfo calls answered with a
// profile, by the subject of the token they carried (a copy).
func (p *Provider) UserinfoCallsBySubject() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.userinfoBySub)
}

// JWKSCalls counts requests to the JWKS endpoint.
func (p *Provider) JWKSCalls() int64 { return p.jwksCalls.Load() }

// SetFault makes endpoint ("discovery", "jwks", "userinfo" or "token")
// misbehave as f; the zero Fault restores normal service.
func (p *Provider) SetFault(endpoint string, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f == (Fault{}) {
		delete(p.faults, endpoint)
		return
	}
	p.faults[endpoint] = f
}

// SetJWKSCacheControl sets the Cache-Control header of JWKS responses
// ("" for none).
func (p *Provider) SetJWKSCacheControl(v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jwksCache = v
}

func (p *Provider) withFault(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch endpoint {
		case "jwks":
			p.jwksCalls.Add(1)
		case "userinfo":
			p.userinfoCalls.Add(1)
		}
		p.mu.Lock()
		f := p.faults[endpoint]
		p.mu.Unlock()
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		if f.Status == 0 && f.Body == "" {
			h(w, r)
			return
		}
		status, body := f.Status, f.Body
		if status == 0 {
			status = http.StatusOK
		}
		if body == "" {
			body = `{"error":"` + http.StatusText(status) + `"}`
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// Mint signs claims with the current key of opt.Alg. It fills iss, iat,
// exp (iat+1h) and aud (the client id) when absent; sub is required.
func (p *Provider) Mint(claims map[string]any, opt MintOptions) (string, error) {
	if s, _ := claims["sub"].(string); s == "" {
		return "", errors.New("devidp: mint: sub required")
	}
	alg := opt.Alg
	if alg == "" {
		alg = "RS256"
	}
	p.mu.Lock()
	key := p.current[alg]
	p.mu.Unlock()
	if key == nil {
		return "", fmt.Errorf("devidp: mint: unsupported alg %q", alg)
	}
	header := map[string]any{"alg": alg, "typ": "JWT"}
	switch {
	case opt.NoKeyID:
	case opt.KeyID != "":
		header["kid"] = opt.KeyID
	default:
		header["kid"] = key.kid
	}
	maps.Copy(header, opt.ExtraHeader)
	return compactEdit(header, p.withClaimDefaults(claims), key.sign, opt.EditClaims)
}

// MintNone returns an unsigned token (`alg: none`, empty signature) that
// carries the current RS256 kid.
func (p *Provider) MintNone(claims map[string]any) string {
	header := map[string]any{"alg": "none", "typ": "JWT", "kid": p.CurrentKeyID("RS256")}
	tok, _ := compact(header, p.withClaimDefaults(claims), nil)
	return tok
}

// MintHS256WithPublicKey returns an HS256 token whose HMAC key is the PEM of
// the current RS256 public key, with that key's kid: the classic algorithm
// confusion attack.
func (p *Provider) MintHS256WithPublicKey(claims map[string]any) (string, error) {
	p.mu.Lock()
	key := p.current["RS256"]
	p.mu.Unlock()
	header := map[string]any{"alg": "HS256", "typ": "JWT", "kid": key.kid}
	return compact(header, p.withClaimDefaults(claims), hmacSHA256(key.publicKeyPEM()))
}

func (p *Provider) withClaimDefaults(claims map[string]any) map[string]any {
	c := maps.Clone(claims)
	if c == nil {
		c = map[string]any{}
	}
	now := p.opts.Now()
	defaults := map[string]any{
		"iss": p.issuer,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
		"aud": p.opts.ClientID,
	}
	for k, v := range defaults {
		if _, ok := c[k]; !ok {
			c[k] = v
		}
	}
	return c
}

// publishedKeys is the current keys followed by retired ones.
func (p *Provider) publishedKeys() []*signingKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*signingKey, 0, len(Algs)+len(p.retired))
	for _, alg := range Algs {
		out = append(out, p.current[alg])
	}
	return append(out, slices.Clone(p.retired)...)
}

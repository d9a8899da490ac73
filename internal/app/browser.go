package app

import (
	"crypto/rand"
	"fmt"
	"net/http"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/jwks"
	"github.com/idgate/idgate/login"
	"github.com/idgate/idgate/profilecache"
	"github.com/idgate/idgate/session"
	"github.com/idgate/idgate/userinfo"
)

// buildBrowser assembles the login flow when login.issuer is set. Sessions
// go to the profile cache's Redis when there is one, in-process otherwise.
// A refresh without an ID token asks userinfo through profiles (nil when no
// issuer uses userinfo).
func (s *stack) buildBrowser(opts Options, v *jwks.Verifier, cache *profilecache.Cache, profiles *userinfo.Resolver) (decision.Browser, error) {
	lc := s.cfg.Login
	if !lc.Enabled() {
		return nil, nil
	}
	keys := lc.SessionKeys()
	if len(keys) == 0 {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		keys = [][]byte{k}
		s.log.Warn("login.session_key is not set: generated one; sessions survive neither a restart nor a second replica")
	}
	sc := session.DefaultConfig() // StateTTL, MaxLocal and Timeout have no config key
	sc.Keys, sc.KeyPrefix, sc.TTL, sc.IdleTTL, sc.Now = keys, s.cfg.Redis.KeyPrefix, lc.SessionTTL, lc.IdleTTL, opts.Now
	if cache != nil {
		sc.Redis = cache.Redis()
	}
	store, err := session.New(sc)
	if err != nil {
		return nil, err
	}
	var fetcher login.ProfileFetcher
	if profiles != nil { // a nil *Resolver must not become a non-nil interface
		fetcher = profiles
	}
	fc := lc.FlowConfig()
	fc.Endpoints = loginEndpoints(v, lc)
	fc.IDTokens, fc.Sessions, fc.Userinfo = v, store, fetcher
	fc.HTTPClient, fc.Now, fc.Logger = noRedirects(opts), opts.Now, s.log
	flow, err := login.New(fc)
	if err != nil {
		return nil, fmt.Errorf("app: login: %w", err)
	}
	return flow, nil
}

// loginEndpoints are the login issuer's discovered endpoints with
// login.authorization_endpoint and login.token_endpoint in their place when
// set (with skip_discovery, they are all there is); unknown until both an
// authorization and a token endpoint are.
func loginEndpoints(v *jwks.Verifier, lc config.Login) func() (login.Endpoints, bool) {
	return func() (login.Endpoints, bool) {
		md, _ := v.Metadata(lc.Issuer) // zero while discovery has not answered
		eps := login.Endpoints{Authorization: md.AuthorizationEndpoint, Token: md.TokenEndpoint,
			EndSession: md.EndSessionEndpoint, ScopesSupported: md.ScopesSupported}
		if lc.AuthorizationEndpoint != "" {
			eps.Authorization = lc.AuthorizationEndpoint
		}
		if lc.TokenEndpoint != "" {
			eps.Token = lc.TokenEndpoint
		}
		if eps.Authorization == "" || eps.Token == "" {
			return login.Endpoints{}, false
		}
		return eps, true
	}
}

// noRedirects is the outbound client for the token endpoint: a redirect
// there is an error, never followed with the client secret.
func noRedirects(opts Options) *http.Client {
	c := *opts.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

package app

import (
	"crypto/tls"
	"net/http"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/jwks"
	"github.com/idgate/idgate/outputs"
	"github.com/idgate/idgate/profilecache"
	"github.com/idgate/idgate/signing"
	"github.com/idgate/idgate/tracing"
	"github.com/idgate/idgate/userinfo"
)

// tracedClient is the outbound client, recording a span called name per
// request when tracing is on.
func tracedClient(opts Options, name string) *http.Client {
	if opts.TracerProvider == nil {
		return opts.HTTPClient
	}
	return tracing.Client(opts.HTTPClient, opts.TracerProvider, name)
}

// build creates the components in dependency order.
func (s *stack) build(opts Options) error {
	cfg := s.cfg
	v, err := s.buildVerifier(opts)
	if err != nil {
		return err
	}
	cache, err := s.buildCache(opts)
	if err != nil {
		return err
	}
	enricher, err := s.buildEnricher(opts, cache)
	if err != nil {
		return err
	}
	browser, err := s.buildBrowser(opts, v, cache, enricher)
	if err != nil {
		return err
	}
	renderer, err := s.buildRenderer(opts)
	if err != nil {
		return err
	}
	dc := decision.Config{
		Routes:            routes(cfg.Routes),
		StripHeaders:      cfg.Outputs.StripHeaders,
		Verifier:          v,
		VerifyReason:      jwks.Reason,
		Renderer:          renderer,
		ErrUnsafeIdentity: outputs.ErrUnsafeUserID,
		Shadow:            cfg.Mode == config.ModeShadow,
		ShadowCompare:     []string{cfg.Outputs.Kubeflow.UserIDHeader, cfg.Outputs.Kubeflow.GroupsHeader},
		Browser:           browser,
		EmailPolicies:     emailPolicies(cfg.Issuers),
	}
	if enricher != nil { // a nil *Resolver must not become a non-nil interface
		dc.Enricher = enricher
	}
	s.engine, err = decision.New(dc)
	return err
}

// buildVerifier creates the token verifier for the configured issuers.
func (s *stack) buildVerifier(opts Options) (*jwks.Verifier, error) {
	cfg := s.cfg
	jc := jwks.DefaultConfig() // FetchTimeout and MaxTokenBytes have no config key
	jc.Issuers = issuerConfigs(cfg.Issuers)
	jc.RefreshMinInterval = cfg.JWKSRefreshMinInterval
	jc.ClockSkew = cfg.ClockSkew
	jc.MaxStale = cfg.JWKSMaxStale
	jc.KeyWait = cfg.JWKSKeyWait
	jc.TokenCacheSize = cfg.TokenCacheSize
	jc.HTTPClient = tracedClient(opts, "jwks.fetch")
	jc.Now = opts.Now
	jc.Registerer = s.reg
	jc.Logger = opts.Logger
	v, err := jwks.New(jc)
	if err != nil {
		return nil, err
	}
	s.verifier = v
	s.closers = append(s.closers, v.Close)
	return v, nil
}

// buildRenderer loads (or keeps) the signing key and creates the header
// renderer.
func (s *stack) buildRenderer(opts Options) (*outputs.Renderer, error) {
	cfg := s.cfg
	if s.key == nil {
		var err error
		if s.key, err = signing.New(signing.Config{KeyFile: cfg.Signing.KeyFile}); err != nil {
			return nil, err
		}
	}
	return outputs.New(outputs.Config{
		UserIDHeader:       cfg.Outputs.Kubeflow.UserIDHeader,
		UserIDPrefix:       cfg.Outputs.Kubeflow.UserIDPrefix,
		IssuerUserIDPrefix: issuerPrefixes(cfg.Issuers),
		GroupsHeader:       cfg.Outputs.Kubeflow.GroupsHeader,
		FlyteHeader:        cfg.Outputs.Flyte.Header,
		FlyteAudience:      cfg.Outputs.Flyte.Audience,
		FlyteTTL:           cfg.Outputs.Flyte.TTL,
		Issuer:             cfg.Signing.Issuer,
		ALB: outputs.ALBConfig{Enabled: cfg.Outputs.ALB.Enabled, Padding: cfg.Outputs.ALB.Padding,
			Client: cfg.Outputs.ALB.Client, Signer: cfg.Signing.Issuer},
		// One signed identity per cached token at most: the reuse cache
		// follows token_cache_size (0 there: the outputs default).
		CacheSize: cfg.TokenCacheSize,
		Now:       opts.Now,
	}, s.key)
}

// usesUserinfo reports whether any issuer may call userinfo.
func (s *stack) usesUserinfo() bool {
	for _, is := range s.cfg.Issuers {
		if is.Userinfo == nil || *is.Userinfo {
			return true
		}
	}
	return false
}

// buildCache builds the profile cache (and with it the Redis client the
// session store shares); nil when neither userinfo nor login needs it.
func (s *stack) buildCache(opts Options) (*profilecache.Cache, error) {
	cfg := s.cfg
	if !s.usesUserinfo() && !cfg.Login.Enabled() {
		return nil, nil
	}
	rc := cfg.Cache.Redis
	var tlsCfg *tls.Config
	if rc.TLS.Enabled {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: rc.TLS.InsecureSkipVerify} //nolint:gosec // an explicit, documented operator choice
		if rc.TLS.CAFile != "" {
			pool, err := config.ReadCertPool(rc.TLS.CAFile)
			if err != nil {
				return nil, err
			}
			tlsCfg.RootCAs = pool
		}
	}
	keys, err := cfg.CacheKeys()
	if err != nil {
		return nil, err
	}
	pc := profilecache.DefaultConfig() // LocalTTL has no config key
	pc.LocalSize = cfg.Cache.LocalSize
	pc.Keys = keys
	pc.Logger = opts.Logger
	pc.Redis = profilecache.RedisConfig{
		Addrs: rc.Addrs, MasterName: rc.MasterName, Username: rc.Username, Password: rc.Password,
		DB: rc.DB, KeyPrefix: rc.KeyPrefix, DialTimeout: rc.DialTimeout, ReadTimeout: rc.ReadTimeout,
		WriteTimeout: rc.WriteTimeout, TLS: tlsCfg,
	}
	pc.Now = opts.Now
	pc.Registerer = s.reg
	cache, err := profilecache.New(pc)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { _ = cache.Close() })
	if opts.TracerProvider != nil && cache.Redis() != nil {
		cache.Redis().AddHook(tracing.RedisHook(opts.TracerProvider))
	}
	return cache, nil
}

// buildEnricher returns nil when no issuer may use userinfo.
func (s *stack) buildEnricher(opts Options, cache *profilecache.Cache) (*userinfo.Resolver, error) {
	cfg := s.cfg
	if !s.usesUserinfo() {
		return nil, nil
	}
	useUserinfo := map[string]*bool{}
	for _, is := range cfg.Issuers {
		useUserinfo[is.Issuer] = is.Userinfo
	}
	endpoint := func(issuer string) string {
		use, known := useUserinfo[issuer]
		if !known || (use != nil && !*use) {
			return ""
		}
		md, ok := s.verifier.Metadata(issuer)
		if !ok {
			return ""
		}
		return md.UserinfoEndpoint
	}
	uc := userinfo.DefaultConfig() // MaxBodyBytes has no config key
	uc.Timeout = cfg.UserinfoTimeout
	uc.ProfileTTL = cfg.Cache.ProfileTTL
	uc.NegativeTTL = cfg.Cache.NegativeTTL
	uc.Endpoint = endpoint
	uc.HTTPClient = tracedClient(opts, "userinfo.fetch")
	uc.Now = opts.Now
	uc.Registerer = s.reg
	uc.Logger = opts.Logger
	r, err := userinfo.New(uc, cache)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, r.Close)
	return r, nil
}

func issuerConfigs(in []config.Issuer) []jwks.IssuerConfig {
	out := make([]jwks.IssuerConfig, len(in))
	for i, is := range in {
		out[i] = jwks.IssuerConfig{
			Issuer: is.Issuer, Audiences: is.Audiences, JWKSURI: is.JWKSURI,
			UserClaim: is.UserClaim, GroupsClaim: is.GroupsClaim, AllowedHosts: is.AllowedHosts,
		}
	}
	return out
}

// emailPolicies maps each issuer to its email rule.
func emailPolicies(in []config.Issuer) map[string]identity.EmailPolicy {
	out := make(map[string]identity.EmailPolicy, len(in))
	for _, is := range in {
		out[is.Issuer] = identity.EmailPolicy{Verified: is.EmailVerified, Domains: is.EmailDomains}
	}
	return out
}

// issuerPrefixes maps the issuers that set userid_prefix to it.
func issuerPrefixes(in []config.Issuer) map[string]string {
	out := map[string]string{}
	for _, is := range in {
		if is.UserIDPrefix != nil {
			out[is.Issuer] = *is.UserIDPrefix
		}
	}
	return out
}

func routes(in []config.Route) []decision.Route {
	out := make([]decision.Route, len(in))
	for i, r := range in {
		out[i] = decision.Route{
			PathPrefix: r.PathPrefix, Methods: r.Methods, Hosts: r.Hosts, Public: r.Public,
			AllowGroups: r.AllowGroups, AllowEmailDomains: r.AllowEmailDomains,
			OmitAccessToken:     r.ALBAccessToken != nil && !*r.ALBAccessToken,
			Mode:                r.Mode,
			AllowEncodedSlashes: r.AllowEncodedSlashes,
		}
	}
	return out
}

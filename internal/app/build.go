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
	for _, d := range cfg.Deprecations() {
		s.log.Warn(d)
	}
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
		ShadowCompare:     shadowCompare(cfg.Outputs),
		Browser:           browser,
		EmailPolicies:     emailPolicies(cfg.Issuers),
		Forwarders:        forwarders(cfg.TrustedForwarders),
		UserIDHeader:      cfg.Outputs.Kubeflow.UserIDHeader,
		GroupsHeader:      cfg.Outputs.Kubeflow.GroupsHeader,
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
	for _, is := range cfg.Issuers {
		if is.InsecureHTTP {
			s.log.Warn("issuer allows plain http (insecure_http): its keys and userinfo travel unauthenticated on this network",
				"issuer", is.Issuer)
		}
	}
	jc.RefreshMinInterval = cfg.Tokens.RefreshMinInterval
	jc.ClockSkew = cfg.Tokens.ClockSkew
	jc.MaxStale = cfg.Tokens.MaxStale
	jc.KeyWait = cfg.Tokens.KeyWait
	jc.TokenCacheSize = cfg.Tokens.CacheSize
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
	oc := cfg.Outputs.RendererConfig()
	oc.IssuerUserIDPrefix = issuerPrefixes(cfg.Issuers)
	oc.Issuer = cfg.Signing.Issuer
	oc.ALB.Signer = cfg.Signing.Issuer
	// One signed identity per cached token at most: the reuse cache follows
	// tokens.cache_size (0 there: the outputs default).
	oc.CacheSize = cfg.Tokens.CacheSize
	oc.Now = opts.Now
	return outputs.New(oc, s.key)
}

// shadowCompare names the plain headers shadow mode compares with the
// incoming ones: Kubeflow's and the declared ones (oauth2-proxy's
// x-auth-request-*, when replacing it).
func shadowCompare(o config.Outputs) []string {
	names := []string{o.Kubeflow.UserIDHeader, o.Kubeflow.GroupsHeader}
	for _, h := range o.Headers {
		names = append(names, h.Name)
	}
	return names
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
	rc := cfg.Redis
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
	uc.Timeout = cfg.Userinfo.Timeout
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
			Issuer: is.Issuer, Audiences: is.Audiences, JWKSURI: is.JWKSURI, UserinfoEndpoint: is.UserinfoEndpoint,
			SkipDiscovery: is.SkipDiscovery, InsecureHTTP: is.InsecureHTTP,
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

// routes converts the route table, expanding any preset left in a
// configuration built in code (Load has expanded the rest).
func routes(in []config.Route) []decision.Route {
	in = config.ExpandRoutes(in)
	out := make([]decision.Route, len(in))
	for i, r := range in {
		out[i] = decision.Route{
			PathPrefix: r.PathPrefix, ExactPath: r.ExactPath, Methods: r.Methods, Hosts: r.Hosts, Public: r.Public,
			AllowGroups: r.AllowGroups, AllowEmailDomains: r.AllowEmailDomains,
			OmitAccessToken:     r.ALBAccessToken != nil && !*r.ALBAccessToken,
			Mode:                r.Mode,
			AllowEncodedSlashes: r.AllowEncodedSlashes,
		}
	}
	return out
}

// forwarders maps trusted_forwarders to the engine's.
func forwarders(fs []config.TrustedForwarder) []decision.Forwarder {
	out := make([]decision.Forwarder, len(fs))
	for i, f := range fs {
		out[i] = decision.Forwarder{Principal: f.Principal, Headers: f.Headers}
	}
	return out
}

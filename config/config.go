package config

import (
	"log/slog"
	"time"

	"github.com/idgate/idgate/jwks"
	"github.com/idgate/idgate/login"
	"github.com/idgate/idgate/outputs"
	"github.com/idgate/idgate/profilecache"
	"github.com/idgate/idgate/session"
	"github.com/idgate/idgate/userinfo"
)

// Config is idgate's whole configuration. Keys in YAML (and in the IDGATE_*
// environment variables) are the mapstructure tags below; defaults are those
// of [Default].
type Config struct {
	// Server holds the listeners. [see Server]
	Server Server `mapstructure:"server"`
	// Log configures the process logger. [level info, format json,
	// decisions all]
	Log Log `mapstructure:"log"`
	// Issuers are the trusted token issuers. Zero issuers is valid here (the
	// embedded default and `idgate dev`); a production caller should refuse it.
	Issuers []Issuer `mapstructure:"issuers"`
	// Tokens configures token verification and the issuers' key sets.
	Tokens Tokens `mapstructure:"tokens"`
	// Outputs configures the identity headers written upstream.
	Outputs Outputs `mapstructure:"outputs"`
	// Signing configures the key that signs the x-flyte-identity JWS.
	Signing Signing `mapstructure:"signing"`
	// Routes are authorization rules; the first whose prefix matches wins and
	// a request matching none requires an authenticated user.
	Routes []Route `mapstructure:"routes"`
	// Userinfo configures the calls to the issuers' userinfo endpoints.
	Userinfo Userinfo `mapstructure:"userinfo"`
	// Cache configures the profile cache (in-process; shared in Redis when
	// redis.addrs is set).
	Cache Cache `mapstructure:"cache"`
	// Redis is the optional shared store of the profile cache and of the
	// login sessions.
	Redis Redis `mapstructure:"redis"`
	// Mode is the default route mode: enforce denies, shadow only reports
	// (for running beside an ALB during a migration). ["enforce"]
	Mode string `mapstructure:"mode"`
	// Login configures browser login (off unless login.issuer is set).
	Login Login `mapstructure:"login"`
	// TrustedForwarders are the mTLS peers whose requests may carry identity
	// headers they were given (see TrustedForwarder). [none]
	TrustedForwarders []TrustedForwarder `mapstructure:"trusted_forwarders"`
	// WatchConfig reloads the configuration file when its content changes
	// (polled every 2s; SIGHUP always reloads). [false]
	WatchConfig bool `mapstructure:"watch_config"`

	// deprecations are the warnings of Load for renamed keys it was given.
	deprecations []string
}

// Tokens configures token verification: the issuers' key sets and the
// checks on each token.
type Tokens struct {
	// RefreshMinInterval is the least time between two key-set refetches
	// of one issuer, triggered by an unknown kid. [1s]
	RefreshMinInterval time.Duration `mapstructure:"refresh_min_interval"`
	// MaxStale is how long a key set may still be used once its refresh
	// (due per the JWKS Cache-Control, 1m to 1h) fails, and how long a key
	// the IdP stops publishing is kept; 0 never uses a stale key set nor a
	// withdrawn key. [24h]
	MaxStale time.Duration `mapstructure:"max_stale"`
	// KeyWait bounds how long a Check waits for a key fetch (an unknown
	// kid, no keys yet) before the token is refused; Envoy's deadline,
	// sent with each Check, ends the wait too. [1s]
	KeyWait time.Duration `mapstructure:"key_wait"`
	// ClockSkew is the leeway allowed on exp, nbf and iat; at most 5m, 0 is
	// none. [30s]
	ClockSkew time.Duration `mapstructure:"clock_skew"`
	// CacheSize bounds the cache of verified tokens (entries, and 4 KiB
	// times as many bytes) and the reuse cache of signed identity headers;
	// 0 disables the token cache. [10000]
	CacheSize int `mapstructure:"cache_size"`
}

// Userinfo configures the calls to the issuers' userinfo endpoints.
type Userinfo struct {
	// Timeout bounds one userinfo call; enrichment fails soft after it.
	// [150ms]
	Timeout time.Duration `mapstructure:"timeout"`
}

// Server holds the listen addresses and shutdown behaviour.
type Server struct {
	// GRPCAddr is the Envoy ext_authz gRPC listen address, host:port. [":9001"]
	GRPCAddr string `mapstructure:"grpc_addr"`
	// HTTPAddr is the HTTP listen address (forward-auth, health, metrics),
	// host:port. [":8080"]
	HTTPAddr string `mapstructure:"http_addr"`
	// MetricsAddr, when set, serves GET /metrics on its own listener,
	// host:port, and no longer on HTTPAddr: Prometheus then scrapes a port
	// that is not the forward-auth one, which NetworkPolicies can open to
	// the monitoring namespace only. [""]: /metrics on HTTPAddr.
	MetricsAddr string `mapstructure:"metrics_addr"`
	// ShutdownGrace is how long in-flight requests get on SIGTERM. [10s]
	ShutdownGrace time.Duration `mapstructure:"shutdown_grace"`
	// ShutdownDelay is how long, after SIGTERM, readiness fails while the
	// listeners still accept and answer Checks, so Kubernetes and Envoy stop
	// sending new traffic before they close. It comes before ShutdownGrace.
	// [0s]
	ShutdownDelay time.Duration `mapstructure:"shutdown_delay"`
	// AuthzPath is the HTTP forward-auth endpoint path. ["/authz"]
	AuthzPath string `mapstructure:"authz_path"`
}

// Log configures the process logger.
type Log struct {
	// Level is one of debug, info, warn, error. ["info"]
	Level string `mapstructure:"level"`
	// Format is json or text. ["json"]
	Format string `mapstructure:"format"`
	// Decisions says which decisions get a log line: all, denied (denials
	// and shadow-mode would-be denials only) or none; metrics count every
	// decision regardless. ["all"]
	Decisions string `mapstructure:"decisions"`
}

// SlogLevel returns Level as a [slog.Level]; an unknown level is Info.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Issuer is one trusted token issuer.
type Issuer struct {
	// Issuer is the exact `iss` value and the discovery base URL; required,
	// absolute, https unless the host is loopback or InsecureHTTP is set.
	Issuer string `mapstructure:"issuer"`
	// Audiences are the accepted `aud` values; required, non-empty.
	Audiences []string `mapstructure:"audiences"`
	// JWKSURI overrides the discovered jwks_uri; absolute, https unless
	// loopback (or InsecureHTTP), on the issuer's host or one of
	// AllowedHosts. Required with SkipDiscovery. [""]
	JWKSURI string `mapstructure:"jwks_uri"`
	// UserinfoEndpoint overrides the discovered userinfo_endpoint; same
	// rules as JWKSURI. With SkipDiscovery it is the only way to use
	// userinfo. [""]
	UserinfoEndpoint string `mapstructure:"userinfo_endpoint"`
	// SkipDiscovery never fetches the discovery document: an in-cluster
	// issuer (Dex at http://dex.auth.svc.cluster.local:5556/dex) announces
	// browser-facing endpoints idgate cannot use. Requires JWKSURI, and for
	// login login.authorization_endpoint and login.token_endpoint. [false]
	SkipDiscovery bool `mapstructure:"skip_discovery"`
	// InsecureHTTP allows plain http for the issuer, JWKSURI and
	// UserinfoEndpoint on any host, not only loopback, for an issuer
	// reached inside a cluster (keys then travel unauthenticated on that
	// network: use it only where the network is trusted, e.g. with mesh
	// mTLS). Logged as a warning at start. [false]
	InsecureHTTP bool `mapstructure:"insecure_http"`
	// UserClaim names the claim that becomes the user id. ["email"]
	UserClaim string `mapstructure:"user_claim"`
	// GroupsClaim names the claim holding the groups. ["groups"]
	GroupsClaim string `mapstructure:"groups_claim"`
	// Userinfo says whether to call the userinfo endpoint: true, false, or
	// nil to use it when discovery lists one. [nil]
	Userinfo *bool `mapstructure:"userinfo"`
	// AllowedHosts are extra hosts (besides the issuer's) that jwks_uri may
	// point to. Stored lower-case. [none]
	AllowedHosts []string `mapstructure:"allowed_hosts"`
	// EmailVerified says when the email claim (token or userinfo)
	// identifies a user: "if_present" refuses an email whose email_verified
	// is false, "required" also one without email_verified true, "ignore"
	// takes any. A refused email is no user id and passes no
	// allow_email_domains rule. ["if_present"]
	EmailVerified string `mapstructure:"email_verified"`
	// EmailDomains are the email domains this issuer may assert; an email
	// in another domain is refused as an unverified one is. Stored
	// lower-case. [any]
	EmailDomains []string `mapstructure:"email_domains"`
	// UserIDPrefix replaces outputs.kubeflow.userid_prefix for this
	// issuer's user ids, so two issuers asserting one email make two
	// users; nil uses outputs.kubeflow.userid_prefix. [nil]
	UserIDPrefix *string `mapstructure:"userid_prefix"`
}

// Outputs configures the identity headers idgate writes upstream.
type Outputs struct {
	// Kubeflow configures the kubeflow-userid/kubeflow-groups headers.
	Kubeflow KubeflowOutput `mapstructure:"kubeflow"`
	// Flyte configures the signed x-flyte-identity header.
	Flyte FlyteOutput `mapstructure:"flyte"`
	// ALB configures AWS ALB-compatible x-amzn-oidc-* headers.
	ALB ALBOutput `mapstructure:"alb"`
	// StripHeaders are extra header names always removed from the client
	// request; HTTP token names, stored lower-case. [none]
	StripHeaders []string `mapstructure:"strip_headers"`
	// Headers are plain headers the operator declares, each carrying one
	// claim (oauth2-proxy's x-auth-request-email, for instance); each name
	// is also stripped from client requests. [none]
	Headers []OutputHeader `mapstructure:"headers"`
}

// OutputHeader is one declared output header.
type OutputHeader struct {
	// Name is the header name: an HTTP token, stored lower-case, not a
	// built-in output's, a hop-by-hop header, or a credential header
	// (authorization, cookie). Required.
	Name string `mapstructure:"name"`
	// Claim is the claim it carries, by exact (case-sensitive) name: sub,
	// iss, email, name, given_name, family_name, preferred_username, groups
	// (joined with ","), or an issuer's user_claim. A claim the identity
	// lacks leaves the header out. Required.
	Claim string `mapstructure:"claim"`
}

// KubeflowOutput configures the Kubeflow identity headers.
type KubeflowOutput struct {
	// UserIDHeader carries the user id. ["kubeflow-userid"]
	UserIDHeader string `mapstructure:"userid_header"`
	// UserIDPrefix is prepended to the user id (Kubeflow's
	// USERID_PREFIX, e.g. "accounts.google.com:"). [""]
	UserIDPrefix string `mapstructure:"userid_prefix"`
	// GroupsHeader carries the comma-separated groups. ["kubeflow-groups"]
	GroupsHeader string `mapstructure:"groups_header"`
}

// FlyteOutput configures the signed identity header for Flyte.
type FlyteOutput struct {
	// Header carries the compact JWS. ["x-flyte-identity"]
	Header string `mapstructure:"header"`
	// Audience is the JWS `aud`. ["flyte"]
	Audience string `mapstructure:"audience"`
	// TTL is the JWS lifetime; more than 0, at most 5m. [5m]
	TTL time.Duration `mapstructure:"ttl"`
}

// ALBOutput configures headers compatible with an AWS Application Load
// Balancer's OIDC authentication (x-amzn-oidc-data, -identity,
// -accesstoken), for applications written against an ALB.
type ALBOutput struct {
	// Enabled writes the ALB headers. [false]
	Enabled bool `mapstructure:"enabled"`
	// Padding keeps base64 '=' padding in the x-amzn-oidc-data segments, as
	// a real ALB does. [false]
	Padding bool `mapstructure:"padding"`
	// Client is the `client` header field of x-amzn-oidc-data (the OIDC
	// client id an ALB would report). [""]
	Client string `mapstructure:"client"`
}

// Signing configures the key of the x-flyte-identity JWS.
type Signing struct {
	// KeyFile is a PEM EC P-256 private key (PKCS#8 "PRIVATE KEY" or SEC1
	// "EC PRIVATE KEY"); empty generates a key at start-up. [""]
	KeyFile string `mapstructure:"key_file"`
	// Issuer is the JWS `iss`. ["idgate"]
	Issuer string `mapstructure:"issuer"`
}

// Route modes.
const (
	// ModeEnforce denies requests the route does not allow (the default).
	ModeEnforce = "enforce"
	// ModeShadow evaluates and reports, but never denies nor changes the
	// request.
	ModeShadow = "shadow"
)

// Route is one authorization rule, matched by path prefix (and optionally
// methods and hosts).
type Route struct {
	// Preset, when set, makes this entry stand for a named list of public
	// routes (see [RoutePresets]: "flyte", "flyte1"), expanded in place by
	// [Load]; only Hosts may be set beside it. [""]
	Preset string `mapstructure:"preset"`
	// PathPrefix matches the request path; required, starts with "/".
	PathPrefix string `mapstructure:"path_prefix"`
	// ExactPath makes PathPrefix the whole path: /a matches /a, not /a/
	// nor /a/b. Public routes only. [false]
	ExactPath bool `mapstructure:"exact_path"`
	// Public lets anonymous requests through; no allow_* rule may be set.
	Public bool `mapstructure:"public"`
	// AllowGroups, when set, admits only users in one of these groups.
	AllowGroups []string `mapstructure:"allow_groups"`
	// AllowEmailDomains, when set, admits only users whose email is in one
	// of these domains (and, with AllowGroups, in one of those groups too).
	// Stored lower-case.
	AllowEmailDomains []string `mapstructure:"allow_email_domains"`
	// Methods restricts the route to these HTTP methods (stored upper-case);
	// empty matches all.
	Methods []string `mapstructure:"methods"`
	// Hosts restricts the route to these request hosts (stored lower-case);
	// empty matches all.
	Hosts []string `mapstructure:"hosts"`
	// Mode is "" (the global mode), "enforce" (deny), or "shadow" (report
	// only). [""]
	Mode string `mapstructure:"mode"`
	// ALBAccessToken sends x-amzn-oidc-accesstoken on this route when
	// outputs.alb is enabled; false keeps the token from this upstream. [true]
	ALBAccessToken *bool `mapstructure:"alb_access_token"`
	// AllowEncodedSlashes lets this route's paths hold %2F and %5C, matched
	// as ordinary characters, never as separators; a path whose route a
	// decoding upstream would see differently, or that decodes to a dot
	// segment, is still refused. false refuses them with 400. [false]
	AllowEncodedSlashes bool `mapstructure:"allow_encoded_slashes"`
}

// Cache configures the profile cache.
type Cache struct {
	// LocalSize bounds the in-process cache (entries); 0 disables it. [10000]
	LocalSize int `mapstructure:"local_size"`
	// ProfileTTL is how long an enriched profile is cached, with or without
	// Redis (and never past its token's expiry); 0 caches none. [10m]
	ProfileTTL time.Duration `mapstructure:"profile_ttl"`
	// NegativeTTL is how long a failed userinfo lookup is remembered; 0
	// remembers none. [30s]
	NegativeTTL time.Duration `mapstructure:"negative_ttl"`
}

// Redis configures the optional Redis shared by the profile cache and the
// login sessions.
type Redis struct {
	// Addrs are host:port addresses: empty means in-process only, one a
	// standalone server, several a cluster (or sentinels with MasterName).
	Addrs []string `mapstructure:"addrs"`
	// MasterName selects sentinel mode; Addrs are then the sentinels. [""]
	MasterName string `mapstructure:"master_name"`
	// Username is the Redis ACL user. [""]
	Username string `mapstructure:"username"`
	// Password is the Redis password. Secret: never printed. After Load it
	// also holds the contents of PasswordFile. [""]
	Password string `mapstructure:"password"`
	// PasswordFile is read at load into Password (trailing newline trimmed,
	// then cleared); mutually exclusive with Password. [""]
	PasswordFile string `mapstructure:"password_file"`
	// DB is the database number; must be 0 in cluster mode. [0]
	DB int `mapstructure:"db"`
	// KeyPrefix is prepended to every key. ["idgate:"]
	KeyPrefix string `mapstructure:"key_prefix"`
	// KeyFile holds the key (at least 32 bytes, raw or base64) that seals
	// every profile written to Redis, bound to its Redis key, so that whoever
	// can write to Redis cannot forge, alter or move a profile. The same on
	// every replica. Required with Addrs unless login.session_key is set,
	// which then serves (under a different derivation). Read at start-up and
	// on reload. [""]
	KeyFile string `mapstructure:"key_file"`
	// PreviousKeyFile holds the key before the last rotation: profiles it
	// sealed are still read. Requires KeyFile. [""]
	PreviousKeyFile string `mapstructure:"previous_key_file"`
	// DialTimeout bounds connecting. [50ms]
	DialTimeout time.Duration `mapstructure:"dial_timeout"`
	// ReadTimeout bounds one read. [50ms]
	ReadTimeout time.Duration `mapstructure:"read_timeout"`
	// WriteTimeout bounds one write. [50ms]
	WriteTimeout time.Duration `mapstructure:"write_timeout"`
	// TLS configures TLS to Redis.
	TLS RedisTLS `mapstructure:"tls"`
}

// RedisTLS configures TLS to Redis.
type RedisTLS struct {
	// Enabled uses TLS. [false]
	Enabled bool `mapstructure:"enabled"`
	// CAFile is a PEM bundle of CAs to trust instead of the system pool;
	// requires Enabled. [""]
	CAFile string `mapstructure:"ca_file"`
	// InsecureSkipVerify disables certificate verification (testing only);
	// requires Enabled. [false]
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
}

// Default returns the embedded default configuration: no issuers, no routes,
// in-process cache only. It is what an empty file and environment load to.
// The defaults of the verifier, userinfo, the profile cache, login, the
// session store and the header outputs are those components' own (their
// DefaultConfig), so each has one owner; the components take what config
// passes as written.
func Default() *Config {
	jc, uc, pc := jwks.DefaultConfig(), userinfo.DefaultConfig(), profilecache.DefaultConfig()
	lc, sc, oc := login.DefaultConfig(), session.DefaultConfig(), outputs.DefaultConfig()
	return &Config{
		Server: Server{
			GRPCAddr:      ":9001",
			HTTPAddr:      ":8080",
			ShutdownGrace: 10 * time.Second,
			AuthzPath:     "/authz",
		},
		Log: Log{Level: "info", Format: "json", Decisions: "all"},
		Tokens: Tokens{
			RefreshMinInterval: jc.RefreshMinInterval,
			MaxStale:           jc.MaxStale,
			KeyWait:            jc.KeyWait,
			ClockSkew:          jc.ClockSkew,
			CacheSize:          jc.TokenCacheSize,
		},
		Outputs: Outputs{
			Kubeflow: KubeflowOutput{UserIDHeader: oc.UserIDHeader, UserIDPrefix: oc.UserIDPrefix, GroupsHeader: oc.GroupsHeader},
			Flyte:    FlyteOutput{Header: oc.FlyteHeader, Audience: oc.FlyteAudience, TTL: oc.FlyteTTL},
		},
		Signing: Signing{Issuer: oc.Issuer},
		Mode:    ModeEnforce,
		Login: Login{
			Scopes:       nil, // login's: the defaults plus groups when discovery lists it
			CallbackPath: lc.CallbackPath,
			LogoutPath:   lc.LogoutPath,
			Cookie:       Cookie{Name: lc.Cookie.Name, Secure: lc.Cookie.Secure, SameSite: lc.Cookie.SameSite},
			SessionTTL:   sc.TTL,
			TokenTimeout: lc.Timeout,
		},
		Userinfo: Userinfo{Timeout: uc.Timeout},
		Cache: Cache{
			LocalSize:   pc.LocalSize,
			ProfileTTL:  uc.ProfileTTL,
			NegativeTTL: uc.NegativeTTL,
		},
		Redis: Redis{
			KeyPrefix:    pc.Redis.KeyPrefix,
			DialTimeout:  pc.Redis.DialTimeout,
			ReadTimeout:  pc.Redis.ReadTimeout,
			WriteTimeout: pc.Redis.WriteTimeout,
		},
	}
}

// redactedValue replaces secrets in [Config.Redacted].
const redactedValue = "REDACTED"

// Redacted returns a deep copy of c with every secret blanked, for printing
// or logging the effective configuration.
func (c *Config) Redacted() *Config {
	r := *c
	r.Issuers = nil
	for _, iss := range c.Issuers {
		iss.Audiences = clone(iss.Audiences)
		iss.AllowedHosts = clone(iss.AllowedHosts)
		iss.EmailDomains = clone(iss.EmailDomains)
		if iss.UserIDPrefix != nil {
			p := *iss.UserIDPrefix
			iss.UserIDPrefix = &p
		}
		if iss.Userinfo != nil {
			b := *iss.Userinfo
			iss.Userinfo = &b
		}
		r.Issuers = append(r.Issuers, iss)
	}
	r.Routes = nil
	for _, rt := range c.Routes {
		rt.AllowGroups = clone(rt.AllowGroups)
		rt.AllowEmailDomains = clone(rt.AllowEmailDomains)
		rt.Methods = clone(rt.Methods)
		rt.Hosts = clone(rt.Hosts)
		r.Routes = append(r.Routes, rt)
	}
	r.TrustedForwarders = nil
	for _, f := range c.TrustedForwarders {
		f.Headers = clone(f.Headers)
		r.TrustedForwarders = append(r.TrustedForwarders, f)
	}
	r.Outputs.StripHeaders = clone(c.Outputs.StripHeaders)
	if c.Outputs.Headers != nil {
		r.Outputs.Headers = append([]OutputHeader(nil), c.Outputs.Headers...)
	}
	r.Redis.Addrs = clone(c.Redis.Addrs)
	r.deprecations = clone(c.deprecations)
	for _, secret := range []*string{&r.Redis.Password, &r.Login.ClientSecret, &r.Login.SessionKey, &r.Login.PreviousSessionKey} {
		if *secret != "" {
			*secret = redactedValue
		}
	}
	r.Login.Scopes = clone(c.Login.Scopes)
	return &r
}

func clone(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

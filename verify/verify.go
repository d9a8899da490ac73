package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of Config, used where a field is left zero.
const (
	// DefaultHeader is the header idgate writes (outputs.flyte.header).
	DefaultHeader = "x-flyte-identity"
	// DefaultRefreshInterval is how often the key set is refetched.
	DefaultRefreshInterval = 5 * time.Minute
	// DefaultMinRefetchInterval is the least time between two fetches
	// caused by an unknown kid.
	DefaultMinRefetchInterval = 10 * time.Second
	// DefaultFetchTimeout bounds each fetch of the key set.
	DefaultFetchTimeout = 10 * time.Second
	// DefaultMaxJWKSBytes bounds the size of a key set response.
	DefaultMaxJWKSBytes = 1 << 20
	// maxTokenBytes bounds the header value read: idgate's token is well
	// under 4KiB even with many groups.
	maxTokenBytes = 64 << 10
)

// Config says where idgate's keys are and what a valid identity says.
type Config struct {
	// JWKSURL is idgate's key set, e.g.
	// "http://idgate.auth:8080/.well-known/jwks.json". Required; http or
	// https. Inside a cluster plain http on the pod network is what idgate
	// serves; the keys are public, an attacker who can rewrite them on the
	// path can also rewrite the requests.
	JWKSURL string
	// Issuer is the `iss` idgate writes (signing.issuer, "idgate" by
	// default). Required: an empty issuer is refused, not skipped.
	Issuer string
	// Audience is the `aud` this service accepts (outputs.flyte.audience,
	// "flyte" by default). Required.
	Audience string
	// Header carries the compact JWS. Zero means DefaultHeader.
	Header string
	// Leeway tolerates clock skew between idgate and this service on exp,
	// nbf and iat. Zero means zero: idgate and its upstreams usually share
	// the cluster's clocks, and idgate's tokens live 5 minutes at most.
	// Negative is refused.
	Leeway time.Duration
	// RefreshInterval is how often the key set is refetched in the
	// background. Zero means DefaultRefreshInterval.
	RefreshInterval time.Duration
	// MinRefetchInterval limits fetches caused by a token naming an
	// unknown kid (idgate restarted with a new key), so a client sending
	// random kids cannot make this service hammer idgate. Zero means
	// DefaultMinRefetchInterval.
	MinRefetchInterval time.Duration
	// FetchTimeout bounds every fetch of the key set. Zero means
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxJWKSBytes bounds a key set response; a larger one is a failed
	// fetch. Zero means DefaultMaxJWKSBytes.
	MaxJWKSBytes int64
	// HTTPClient fetches the key set. Nil means a client with a 10s
	// overall timeout; FetchTimeout applies either way.
	HTTPClient *http.Client
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives one line per change of state of the background key
	// refresh (failing, recovered). Nil discards.
	Logger *slog.Logger
}

// Errors of Verify. Each is wrapped with detail; test with errors.Is.
var (
	// ErrMissing: no header, or an empty one.
	ErrMissing = errors.New("verify: identity header missing")
	// ErrDuplicate: more than one copy of the header.
	ErrDuplicate = errors.New("verify: identity header present more than once")
	// ErrMalformed: not a compact JWS with a JSON header and claims.
	ErrMalformed = errors.New("verify: malformed identity")
	// ErrAlgorithm: alg is not ES256, or the header names an embedded key.
	ErrAlgorithm = errors.New("verify: algorithm refused")
	// ErrUnknownKey: the kid is not in idgate's key set, even after a
	// refetch (or a refetch was not allowed yet).
	ErrUnknownKey = errors.New("verify: unknown signing key")
	// ErrSignature: the signature does not verify.
	ErrSignature = errors.New("verify: bad signature")
	// ErrClaims: iss, aud, exp, nbf or iat is wrong, missing or mistyped.
	ErrClaims = errors.New("verify: claims refused")
)

// Verifier checks idgate's identity header. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	header string
	keys   *keySet
	cancel context.CancelFunc
	done   chan struct{}
}

// New validates cfg and starts the background key refresh; it does no
// network I/O itself, so the first Verify may wait for the first fetch.
// Call Close when done.
func New(cfg Config) (*Verifier, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	v := &Verifier{cfg: cfg, header: cfg.Header, cancel: cancel, done: make(chan struct{})}
	v.keys = newKeySet(ctx, &v.cfg)
	go func() {
		defer close(v.done)
		v.keys.refreshLoop(ctx)
	}()
	return v, nil
}

func (c *Config) withDefaults() error {
	var problems []string
	if u, err := url.Parse(c.JWKSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, "JWKSURL: want an http(s) URL")
	}
	if c.Issuer == "" {
		problems = append(problems, "Issuer: required")
	}
	if c.Audience == "" {
		problems = append(problems, "Audience: required")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Leeway", c.Leeway}, {"RefreshInterval", c.RefreshInterval}, {"MinRefetchInterval", c.MinRefetchInterval}, {"FetchTimeout", c.FetchTimeout}} {
		if d.v < 0 {
			problems = append(problems, d.name+": negative")
		}
	}
	if c.MaxJWKSBytes < 0 {
		problems = append(problems, "MaxJWKSBytes: negative")
	}
	if len(problems) > 0 {
		return fmt.Errorf("verify: config: %s", strings.Join(problems, "; "))
	}
	setDefault(&c.Header, DefaultHeader)
	setDefault(&c.RefreshInterval, DefaultRefreshInterval)
	setDefault(&c.MinRefetchInterval, DefaultMinRefetchInterval)
	setDefault(&c.FetchTimeout, DefaultFetchTimeout)
	setDefault(&c.MaxJWKSBytes, DefaultMaxJWKSBytes)
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Header is the header name this Verifier reads.
func (v *Verifier) Header() string { return v.header }

// Close stops the background key refresh and waits for it.
func (v *Verifier) Close() error {
	v.cancel()
	<-v.done
	return nil
}

// Verify checks one header value and returns its claims: an ES256 compact
// JWS signed by a key of idgate's key set, with the configured iss and aud,
// an exp in the future and nbf/iat (when present) not in the future. The
// error never contains the token.
func (v *Verifier) Verify(ctx context.Context, value string) (*Claims, error) {
	if value == "" {
		return nil, ErrMissing
	}
	tok, err := parseCompact(value)
	if err != nil {
		return nil, err
	}
	key, err := v.keys.lookup(ctx, tok.kid)
	if err != nil {
		return nil, err
	}
	payload, err := tok.verify(key)
	if err != nil {
		return nil, err
	}
	c, err := parseClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := c.check(&v.cfg); err != nil {
		return nil, err
	}
	return c, nil
}

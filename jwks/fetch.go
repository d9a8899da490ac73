package jwks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Response size bounds.
const (
	maxDiscoveryBytes = 1 << 20
	maxJWKSBytes      = 5 << 20
)

// Refresh interval bounds and default (Cache-Control max-age is clamped).
const (
	minRefresh     = time.Minute
	maxRefresh     = time.Hour
	defaultRefresh = 15 * time.Minute
)

// Fetch failure classes; they label fetches_total.
var (
	errEmptySet = errors.New("no usable key in set")
	errInvalid  = errors.New("invalid document")
	errRefused  = errors.New("refused")
	errKeyWait  = errors.New("jwks: key fetch still running after KeyWait")
)

// Metadata is what an issuer's discovery document says about its endpoints.
type Metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	// ScopesSupported is scopes_supported: login asks for the optional
	// scopes (groups) the IdP lists, since some (Dex) put groups in tokens
	// only when that scope is requested.
	ScopesSupported []string `json:"scopes_supported"`
}

// fetchResult labels a fetch error for the fetches_total metric.
func fetchResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, errEmptySet):
		return "empty"
	case errors.Is(err, errInvalid):
		return "invalid"
	case errors.Is(err, errRefused):
		return "refused"
	}
	return "error"
}

// get fetches rawURL within FetchTimeout, reading at most limit bytes.
func (v *Verifier) get(ctx context.Context, rawURL string, limit int64) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("jwks: fetch %s: %w", rawURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("jwks: fetch %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, nil, fmt.Errorf("jwks: fetch %s: status %d", rawURL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("jwks: fetch %s: %w", rawURL, err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("jwks: fetch %s: %w: larger than %d bytes", rawURL, errInvalid, limit)
	}
	return body, resp.Header, nil
}

// discover fetches and checks the issuer's discovery document: its issuer
// must be ours and its jwks_uri on our host or an allowed one.
func (is *issuer) discover(ctx context.Context) (*Metadata, error) {
	u := strings.TrimSuffix(is.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	body, _, err := is.v.get(ctx, u, maxDiscoveryBytes)
	if err != nil {
		return nil, err
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("jwks: discovery %s: %w: %v", u, errInvalid, err)
	}
	if md.Issuer != is.cfg.Issuer {
		return nil, fmt.Errorf("jwks: discovery %s: %w: issuer %q differs", u, errRefused, md.Issuer)
	}
	if md.JWKSURI == "" {
		return nil, fmt.Errorf("jwks: discovery %s: %w: no jwks_uri", u, errInvalid)
	}
	if err := is.checkJWKSURI(md.JWKSURI); err != nil {
		return nil, fmt.Errorf("jwks: discovery %s: %w", u, err)
	}
	return &md, nil
}

// checkJWKSURI refuses a discovered jwks_uri on a host other than the
// issuer's or an allowed one, and plain http off loopback.
func (is *issuer) checkJWKSURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: jwks_uri %q is not an absolute URL", errInvalid, raw)
	}
	if err := checkFetchURL(u, is.cfg.InsecureHTTP); err != nil {
		return fmt.Errorf("%w: jwks_uri %w", errRefused, err)
	}
	if u.Host != is.host && !slices.Contains(is.cfg.AllowedHosts, u.Host) &&
		!slices.Contains(is.cfg.AllowedHosts, u.Hostname()) {
		return fmt.Errorf("%w: jwks_uri host %q is neither the issuer's nor allowed", errRefused, u.Host)
	}
	return nil
}

// fetchKeys downloads and converts the JWKS at jwksURI and says how long
// its Cache-Control lets it be kept.
func (is *issuer) fetchKeys(ctx context.Context, jwksURI string, now time.Time) (*keySet, time.Duration, error) {
	body, hdr, err := is.v.get(ctx, jwksURI, maxJWKSBytes)
	if err != nil {
		return nil, 0, err
	}
	ks, err := parseKeySet(body, now)
	if err != nil {
		if !errors.Is(err, errEmptySet) {
			err = fmt.Errorf("%w: %v", errInvalid, err)
		}
		return nil, 0, fmt.Errorf("jwks: keys %s: %w", jwksURI, err)
	}
	return ks, refreshInterval(hdr.Get("Cache-Control")), nil
}

// refreshInterval reads max-age from a Cache-Control value, clamped to
// [minRefresh, maxRefresh]; defaultRefresh when absent.
func refreshInterval(cc string) time.Duration {
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if d == "no-cache" || d == "no-store" {
			return minRefresh
		}
		v, ok := strings.CutPrefix(d, "max-age=")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
		if err != nil || n < 0 {
			return defaultRefresh
		}
		return min(max(time.Duration(min(n, int64(maxRefresh/time.Second)))*time.Second, minRefresh), maxRefresh)
	}
	return defaultRefresh
}

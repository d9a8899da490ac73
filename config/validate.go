package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxClockSkew bounds a leeway that would weaken expiry (outputs owns
// the Flyte TTL's bound).
const maxClockSkew = 5 * time.Minute

// Validate reports every problem in c, each on one line naming its key
// ("config: issuers[0].audiences: required"), joined with errors.Join; nil
// if there is none. It opens the files c names (signing key, Redis CA and
// password file) to check them, and never puts a secret value in an error.
// Zero issuers is valid here: whether that is acceptable is the caller's
// decision. [Load] lower-cases header and host names and fills per-issuer
// defaults before calling it.
func (c *Config) Validate() error {
	var p problems
	c.validateServer(&p)
	c.validateGlobals(&p)
	for i := range c.Issuers {
		c.validateIssuer(&p, i)
	}
	c.Outputs.validate(&p, c.Issuers)
	if c.Signing.KeyFile != "" {
		if _, err := ReadSigningKey(c.Signing.KeyFile); err != nil {
			p.addf("signing.key_file", "%w", err)
		}
	}
	if c.Signing.Issuer == "" {
		p.addf("signing.issuer", "required")
	}
	for i, r := range c.Routes {
		r.validate(&p, fmt.Sprintf("routes[%d]", i))
	}
	c.validateForwarders(&p)
	c.Cache.validate(&p)
	c.Redis.validate(&p)
	c.validateCacheKey(&p)
	if c.Mode != ModeEnforce && c.Mode != ModeShadow {
		p.addf("mode", "%q is not one of enforce, shadow", c.Mode)
	}
	c.validateLogin(&p)
	return p.err()
}

// problems collects validation errors.
type problems []error

func (p *problems) addf(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("config: "+key+": "+format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.Join(p...)
}

func (c *Config) validateServer(p *problems) {
	s := c.Server
	checkAddr(p, "server.grpc_addr", s.GRPCAddr, false)
	checkAddr(p, "server.http_addr", s.HTTPAddr, false)
	if s.GRPCAddr == s.HTTPAddr && !strings.HasSuffix(s.GRPCAddr, ":0") {
		p.addf("server.http_addr", "same as server.grpc_addr")
	}
	if s.MetricsAddr != "" {
		checkAddr(p, "server.metrics_addr", s.MetricsAddr, false)
		if (s.MetricsAddr == s.HTTPAddr || s.MetricsAddr == s.GRPCAddr) && !strings.HasSuffix(s.MetricsAddr, ":0") {
			p.addf("server.metrics_addr", "same as another server address")
		}
	}
	nonNegative(p, "server.shutdown_grace", s.ShutdownGrace)
	nonNegative(p, "server.shutdown_delay", s.ShutdownDelay)
	if !strings.HasPrefix(s.AuthzPath, "/") || strings.ContainsAny(s.AuthzPath, "?# \t") {
		p.addf("server.authz_path", "must be a path starting with \"/\"")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p.addf("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		p.addf("log.format", "%q is not one of json, text", c.Log.Format)
	}
	switch c.Log.Decisions {
	case "all", "denied", "none":
	default:
		p.addf("log.decisions", "%q is not one of all, denied, none", c.Log.Decisions)
	}
}

func (c *Config) validateGlobals(p *problems) {
	t := c.Tokens
	positive(p, "tokens.refresh_min_interval", t.RefreshMinInterval)
	nonNegative(p, "tokens.max_stale", t.MaxStale)
	positive(p, "tokens.key_wait", t.KeyWait)
	nonNegative(p, "tokens.clock_skew", t.ClockSkew)
	if t.ClockSkew > maxClockSkew {
		p.addf("tokens.clock_skew", "must be at most %s", maxClockSkew)
	}
	if t.CacheSize < 0 {
		p.addf("tokens.cache_size", "must not be negative")
	}
	positive(p, "userinfo.timeout", c.Userinfo.Timeout)
}

// checkUnique reports list[i].field when it is set and equal to an earlier
// entry's (value(j) for j < i): "duplicate of list[j].field" for each.
func checkUnique(p *problems, list, field string, i int, value func(int) string) {
	v := value(i)
	for j := range i {
		if v != "" && value(j) == v {
			p.addf(fmt.Sprintf("%s[%d].%s", list, i, field), "duplicate of %s[%d].%s", list, j, field)
		}
	}
}

func (c *Config) validateIssuer(p *problems, i int) {
	iss := c.Issuers[i]
	k := fmt.Sprintf("issuers[%d]", i)
	var issuerHost string
	if iss.Issuer == "" {
		p.addf(k+".issuer", "required")
	} else if u, err := checkURL(iss.Issuer, iss.InsecureHTTP); err != nil {
		p.addf(k+".issuer", "%v", err)
	} else {
		issuerHost = u.Hostname()
	}
	checkUnique(p, "issuers", "issuer", i, func(j int) string { return c.Issuers[j].Issuer })
	if len(iss.Audiences) == 0 {
		p.addf(k+".audiences", "required")
	}
	for j, a := range iss.Audiences {
		if strings.TrimSpace(a) == "" {
			p.addf(fmt.Sprintf("%s.audiences[%d]", k, j), "empty")
		}
	}
	for j, h := range iss.AllowedHosts {
		if !validHost(h) {
			p.addf(fmt.Sprintf("%s.allowed_hosts[%d]", k, j), "invalid host name %s", safeQuote(h))
		}
	}
	iss.validateEndpoints(p, k, issuerHost)
	if iss.UserClaim == "" {
		p.addf(k+".user_claim", "required")
	}
	if iss.GroupsClaim == "" {
		p.addf(k+".groups_claim", "required")
	}
	switch iss.EmailVerified {
	case "", EmailVerifiedIfPresent, EmailVerifiedRequired, EmailVerifiedIgnore: // "": a Config built in code; Load fills if_present
	default:
		p.addf(k+".email_verified", "must be %s, %s or %s, not %s",
			EmailVerifiedIfPresent, EmailVerifiedRequired, EmailVerifiedIgnore, safeQuote(iss.EmailVerified))
	}
	for j, d := range iss.EmailDomains {
		if !validHost(d) || strings.ContainsAny(d, "*:[]") {
			p.addf(fmt.Sprintf("%s.email_domains[%d]", k, j), "invalid domain %s (exact domains only)", safeQuote(d))
		}
	}
	if iss.UserIDPrefix != nil && !validHeaderValue(*iss.UserIDPrefix) {
		p.addf(k+".userid_prefix", "contains control characters")
	}
}

// validateEndpoints checks jwks_uri and userinfo_endpoint (absolute, https
// unless loopback or insecure_http, on the issuer's host or an allowed one)
// and what skip_discovery requires.
func (iss Issuer) validateEndpoints(p *problems, k, issuerHost string) {
	for _, e := range []struct{ key, url string }{{"jwks_uri", iss.JWKSURI}, {"userinfo_endpoint", iss.UserinfoEndpoint}} {
		if e.url == "" {
			continue
		}
		if u, err := checkURL(e.url, iss.InsecureHTTP); err != nil {
			p.addf(k+"."+e.key, "%v", err)
		} else if h := strings.ToLower(u.Hostname()); issuerHost != "" &&
			h != strings.ToLower(issuerHost) && !contains(iss.AllowedHosts, h) {
			p.addf(k+"."+e.key, "host %q is neither the issuer's host nor in allowed_hosts", h)
		}
	}
	if !iss.SkipDiscovery {
		return
	}
	if iss.JWKSURI == "" {
		p.addf(k+".jwks_uri", "required with skip_discovery")
	}
	if iss.Userinfo != nil && *iss.Userinfo && iss.UserinfoEndpoint == "" {
		p.addf(k+".userinfo_endpoint", "required with skip_discovery and userinfo: true")
	}
}

// Values of issuers[].email_verified.
const (
	EmailVerifiedIfPresent = "if_present"
	EmailVerifiedRequired  = "required"
	EmailVerifiedIgnore    = "ignore"
)

// checkURL accepts an absolute http(s) URL without credentials, query or
// fragment; plain http only for a loopback host unless insecureHTTP.
func checkURL(raw string, insecureHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%s is not an absolute http(s) URL", safeQuote(raw))
	}
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("must not have a query or fragment")
	case u.Scheme == "http" && !insecureHTTP && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("plain http only allowed for loopback hosts (or with insecure_http)")
	}
	return u, nil
}

// isLoopback reports whether host is localhost, in 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (r Route) validate(p *problems, k string) {
	if r.Preset != "" {
		r.validatePreset(p, k)
		return
	}
	switch {
	case r.PathPrefix == "":
		p.addf(k+".path_prefix", "required")
	case !strings.HasPrefix(r.PathPrefix, "/") || strings.ContainsAny(r.PathPrefix, "?# \t\r\n"):
		p.addf(k+".path_prefix", "%q must be a path starting with \"/\"", r.PathPrefix)
	}
	if r.ExactPath && !r.Public {
		p.addf(k+".exact_path", "only on public routes (/a/ and /a/b, served as /a by many upstreams, would fall to a weaker route)")
	}
	if r.Public && (len(r.AllowGroups) > 0 || len(r.AllowEmailDomains) > 0) {
		p.addf(k+".public", "cannot be combined with allow_groups or allow_email_domains")
	}
	for j, g := range r.AllowGroups {
		if strings.TrimSpace(g) == "" {
			p.addf(fmt.Sprintf("%s.allow_groups[%d]", k, j), "empty")
		}
	}
	for j, d := range r.AllowEmailDomains {
		if !validHost(d) || strings.Contains(d, ":") {
			p.addf(fmt.Sprintf("%s.allow_email_domains[%d]", k, j), "invalid domain %s", safeQuote(d))
		}
	}
	for j, m := range r.Methods {
		if !validToken(m) {
			p.addf(fmt.Sprintf("%s.methods[%d]", k, j), "invalid method %q", m)
		}
	}
	for j, h := range r.Hosts {
		if !validHost(h) {
			p.addf(fmt.Sprintf("%s.hosts[%d]", k, j), "invalid host %s", safeQuote(h))
		}
	}
	if r.Mode != "" && r.Mode != ModeEnforce && r.Mode != ModeShadow {
		p.addf(k+".mode", "%q is not one of enforce, shadow", r.Mode)
	}
}

// checkAddr checks a host:port address; dial addresses need a host and a
// non-zero port.
func checkAddr(p *problems, key, addr string, dial bool) {
	host, port, err := net.SplitHostPort(addr)
	n, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || perr != nil || (dial && (host == "" || n == 0)) ||
		(host != "" && !validHost(host)) {
		p.addf(key, "invalid address %s", safeQuote(addr))
	}
}

func positive(p *problems, key string, d time.Duration) {
	if d <= 0 {
		p.addf(key, "must be positive")
	}
}

func nonNegative(p *problems, key string, d time.Duration) {
	if d < 0 {
		p.addf(key, "must not be negative")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

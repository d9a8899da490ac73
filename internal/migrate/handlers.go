package migrate

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// handlers convert each setting idgate migrate knows.
var handlers map[string]func(*converter, Setting)

func init() {
	handlers = map[string]func(*converter, Setting){
		"provider":                               provider,
		"oidc_issuer_url":                        issuerURL,
		"skip_oidc_discovery":                    skipDiscovery,
		"oidc_jwks_url":                          endpoint("issuers[0].jwks_uri", func(t *target) *string { return &t.issuer.jwksURI }),
		"login_url":                              loginURL,
		"redeem_url":                             endpoint("login.token_endpoint", func(t *target) *string { return &t.login.tokenEndpoint }),
		"profile_url":                            endpoint("issuers[0].userinfo_endpoint", func(t *target) *string { return &t.issuer.userinfoURL }),
		"client_id":                              carry("login.client_id, issuers[0].audiences", func(t *target) *string { return &t.login.clientID }),
		"client_secret":                          clientSecret,
		"client_secret_file":                     carry("login.client_secret_file", func(t *target) *string { return &t.login.clientSecretFile }),
		"cookie_secret":                          cookieSecret,
		"cookie_secret_file":                     cookieSecret,
		"cookie_name":                            cookieName,
		"cookie_secure":                          cookieSecure,
		"cookie_expire":                          cookieExpire,
		"cookie_refresh":                         cookieRefresh,
		"cookie_domain":                          cookieDomain,
		"cookie_domains":                         cookieDomain,
		"cookie_samesite":                        cookieSameSite,
		"cookie_httponly":                        same("idgate's cookies are always HttpOnly"),
		"cookie_path":                            notCarried("idgate's cookies are always for /"),
		"email_domains":                          emailDomains,
		"scope":                                  scope,
		"user_id_claim":                          userClaim,
		"oidc_email_claim":                       userClaim,
		"oidc_groups_claim":                      carry("issuers[0].groups_claim", func(t *target) *string { return &t.issuer.groupsClaim }),
		"skip_auth_routes":                       skipAuthRoutes,
		"skip_auth_regex":                        skipAuthRoutes,
		"skip_auth_preflight":                    skipPreflight,
		"api_routes":                             notCarried("idgate redirects to the login only GET/HEAD navigations that accept text/html, on every path; every other request without a session gets 401"),
		"set_xauthrequest":                       notCarried("idgate writes kubeflow-userid and kubeflow-groups (outputs.kubeflow), not x-auth-request-*"),
		"set_authorization_header":               notCarried("idgate does not put the session's ID token in Authorization: it writes kubeflow-userid and kubeflow-groups itself, so no RequestAuthentication needs to read a JWT"),
		"pass_authorization_header":              notCarried("idgate does not forward the session's ID token; a caller's own bearer token passes through"),
		"pass_access_token":                      notCarried("the session's access token travels only as x-amzn-oidc-accesstoken with outputs.alb.enabled"),
		"pass_user_headers":                      notCarried("idgate writes kubeflow-userid and kubeflow-groups, not X-Forwarded-User/-Email"),
		"pass_basic_auth":                        notCarried("idgate never sends basic auth upstream"),
		"extra_jwt_issuers":                      extraIssuers,
		"skip_jwt_bearer_tokens":                 skipJWTBearer,
		"allowed_groups":                         allowedGroups,
		"allowed_roles":                          notCarried("no role rules; use allowed groups (routes[].allow_groups)"),
		"upstreams":                              upstreams,
		"http_address":                           notCarried("idgate answers Envoy on server.grpc_addr (ext_authz gRPC, :9001) and server.http_addr (:8080, forward-auth at /authz): point the mesh's extension provider there"),
		"https_address":                          notCarried("idgate's listeners are plain; TLS is the mesh's"),
		"metrics_address":                        metricsAddress,
		"redirect_url":                           redirectURL,
		"relative_redirect_url":                  same("idgate always builds the redirect URI from the request's own scheme and host"),
		"whitelist_domains":                      notCarried("idgate returns after login only to a path on the request's own host"),
		"code_challenge_method":                  codeChallenge,
		"prompt":                                 notCarried("idgate sends no prompt parameter (the IdP's default)"),
		"approval_prompt":                        notCarried("idgate sends no prompt parameter (the IdP's default)"),
		"skip_provider_button":                   same("idgate shows no sign-in page: a browser goes straight to the IdP"),
		"provider_display_name":                  notCarried("idgate shows no sign-in page"),
		"custom_sign_in_logo":                    notCarried("idgate shows no sign-in page"),
		"custom_templates_dir":                   notCarried("idgate shows no sign-in page"),
		"banner":                                 notCarried("idgate shows no sign-in page"),
		"footer":                                 notCarried("idgate shows no sign-in page"),
		"ssl_insecure_skip_verify":               notCarried("idgate never skips certificate checks; for an in-cluster issuer on plain http use issuers[].insecure_http, else trust its CA in the system pool"),
		"insecure_oidc_allow_unverified_email":   unverifiedEmail,
		"insecure_oidc_skip_issuer_verification": notCarried("idgate always checks iss"),
		"oidc_extra_audiences":                   extraAudiences,
		"reverse_proxy":                          same("idgate reads the scheme and host Envoy reports"),
		"session_store_type":                     notCarried("sessions are in-process, or in Redis with redis.addrs (and redis.key_file or login.session_key)"),
		"redis_connection_url":                   notCarried("set redis.addrs (host:port) and redis.key_file by hand"),
		"standard_logging":                       notCarried("idgate logs one decision line per Check (log.decisions)"),
		"request_logging":                        notCarried("idgate logs one decision line per Check (log.decisions)"),
		"auth_logging":                           notCarried("idgate logs one decision line per Check (log.decisions)"),
		"silence_ping_logging":                   notCarried("idgate does not log health checks"),
		"ping_path":                              notCarried("idgate serves /healthz and /readyz on server.http_addr"),
		"ready_path":                             notCarried("idgate serves /healthz and /readyz on server.http_addr"),
	}
}

func same(why string) func(*converter, Setting) {
	return func(c *converter, s Setting) { c.same(s, why) }
}

func notCarried(why string) func(*converter, Setting) {
	return func(c *converter, s Setting) { c.notCarried(s, why) }
}

// carry copies a setting's value as it is into the field of the output
// that field picks, configured as key.
func carry(key string, field func(*target) *string) func(*converter, Setting) {
	return func(c *converter, s Setting) {
		*field(&c.out) = s.Value()
		c.carried(s, key)
	}
}

// endpoint is carry for a setting that must be an absolute http(s) URL
// without credentials; any other value is not carried.
func endpoint(key string, field func(*target) *string) func(*converter, Setting) {
	return func(c *converter, s Setting) {
		if !endpointURL(s.Value()) {
			c.notCarried(s, "not an absolute http(s) URL")
			return
		}
		carry(key, field)(c, s)
	}
}

func provider(c *converter, s Setting) {
	switch p := s.Value(); p {
	case "oidc", "keycloak-oidc", "azure", "adfs", "gitlab":
		if c.get("oidc_issuer_url") == "" {
			c.notCarried(s, "idgate needs the OIDC issuer URL (oidc_issuer_url)")
			return
		}
		c.same(s, "idgate speaks OIDC to issuers[0]")
	case "google":
		if c.get("oidc_issuer_url") == "" {
			c.out.issuer.url = "https://accounts.google.com"
		}
		c.carried(s, "issuers[0].issuer https://accounts.google.com")
	default:
		c.notCarried(s, "idgate needs an OpenID Connect provider")
	}
}

func issuerURL(c *converter, s Setting) {
	u, err := url.Parse(s.Value())
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		c.notCarried(s, "not an absolute http(s) URL")
		return
	}
	c.out.issuer.url = s.Value()
	c.carried(s, "issuers[0].issuer, login.issuer")
}

func skipDiscovery(c *converter, s Setting) {
	if !c.bool(s.Key, false) {
		c.same(s, "idgate reads the discovery document")
		return
	}
	c.out.issuer.skipDiscovery = true
	c.carried(s, "issuers[0].skip_discovery")
}

// endpointURL accepts an absolute http(s) URL without credentials.
func endpointURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && u.Host != "" && u.User == nil && u.Fragment == "" && (u.Scheme == "http" || u.Scheme == "https")
}

func loginURL(c *converter, s Setting) {
	v := s.Value()
	if !endpointURL(v) && !safePath(v) {
		c.notCarried(s, "neither an absolute http(s) URL nor a single-slash path")
		return
	}
	c.out.login.authEndpoint = v
	c.carried(s, "login.authorization_endpoint")
}

// safePath is a path form login.authorization_endpoint accepts.
func safePath(v string) bool {
	l := strings.ToLower(v)
	return strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") && !strings.ContainsAny(v, "\\# \t\r\n") &&
		!strings.Contains(l, "%2f") && !strings.Contains(l, "%5c")
}

func clientSecret(c *converter, s Setting) {
	if c.get("client_secret_file") != "" {
		c.notCarried(s, "client_secret_file is used")
		return
	}
	c.out.login.needsSecret = true
	c.out.envs = append(c.out.envs, "IDGATE_LOGIN_CLIENT_SECRET (the client secret, from the same Secret)")
	c.carried(s, "environment IDGATE_LOGIN_CLIENT_SECRET (not printed)")
}

func cookieSecret(c *converter, s Setting) {
	c.out.envs = append(c.out.envs, "IDGATE_LOGIN_SESSION_KEY (a new random key of at least 32 bytes, the same on every replica)")
	c.notCarried(s, "idgate's sessions are its own: give it a new login.session_key (IDGATE_LOGIN_SESSION_KEY or session_key_file); users log in once more")
}

func cookieName(c *converter, s Setting) {
	if !validToken(s.Value()) {
		c.notCarried(s, "not a cookie name")
		return
	}
	c.out.login.cookieName = s.Value()
	c.carried(s, "login.cookie.name (set as __Host-<name> when secure)")
}

func cookieSecure(c *converter, s Setting) {
	b := c.bool(s.Key, true)
	c.out.login.cookieSecure = &b
	c.carried(s, "login.cookie.secure")
}

func cookieExpire(c *converter, s Setting) {
	d, ok := goDuration(s.Value())
	if !ok || d == "0s" {
		c.notCarried(s, "not a positive duration")
		return
	}
	c.out.login.sessionTTL = d
	c.carried(s, "login.session_ttl")
}

func cookieRefresh(c *converter, s Setting) {
	c.same(s, "idgate refreshes the access token a minute before it expires, with the session's refresh token")
}

func cookieDomain(c *converter, s Setting) {
	d := c.list(s.Key)
	if len(d) == 0 {
		c.same(s, "host-only cookies")
		return
	}
	if len(d) > 1 || !validToken(strings.TrimPrefix(d[0], ".")) {
		c.notCarried(s, "idgate takes one cookie domain")
		return
	}
	c.out.login.cookieDomain = strings.TrimPrefix(d[0], ".")
	c.carried(s, "login.cookie.domain")
}

func cookieSameSite(c *converter, s Setting) {
	switch v := strings.ToLower(s.Value()); v {
	case "", "lax", "strict", "none":
		c.out.login.same = v
		c.carried(s, "login.cookie.same_site")
	default:
		c.notCarried(s, "not lax, strict or none")
	}
}

func emailDomains(c *converter, s Setting) {
	d := c.list(s.Key)
	if len(d) == 0 || slices.Contains(d, "*") {
		c.same(s, "any email domain (issuers[0].email_domains empty)")
		return
	}
	for _, x := range d {
		if !validToken(x) || strings.ContainsAny(x, "*:") || strings.HasPrefix(x, ".") {
			c.notCarried(s, "issuers[].email_domains takes exact domains only")
			return
		}
	}
	c.out.issuer.emailDomains = lower(d)
	c.carried(s, "issuers[0].email_domains (an email elsewhere identifies no one)")
}

func scope(c *converter, s Setting) {
	c.out.login.scopes = strings.Fields(s.Value())
	c.carried(s, "login.scopes")
}

func userClaim(c *converter, s Setting) {
	if s.Key == "user_id_claim" && c.get("oidc_email_claim") != "" {
		c.same(s, "oidc_email_claim is used")
		return
	}
	c.out.issuer.userClaim = s.Value()
	c.carried(s, "issuers[0].user_claim")
}

func skipPreflight(c *converter, s Setting) {
	if !c.bool(s.Key, false) {
		c.same(s, "OPTIONS requests need a user like any other")
		return
	}
	c.out.routes = append(c.out.routes, route{prefix: "/", methods: []string{"OPTIONS"}, public: true})
	c.carried(s, "a public route for OPTIONS on /")
}

func skipJWTBearer(c *converter, s Setting) {
	if c.bool(s.Key, false) {
		c.same(s, "idgate always accepts a verified bearer token of any of its issuers")
		return
	}
	c.notCarried(s, "idgate always accepts a verified bearer token of its issuers (there is no switch)")
}

func allowedGroups(c *converter, s Setting) {
	c.carried(s, "a last route on / with allow_groups")
}

func upstreams(c *converter, s Setting) {
	for _, u := range c.list(s.Key) {
		if !strings.HasPrefix(u, "static://") {
			c.notCarried(s, "idgate is an authorization service only; the upstream is the mesh's route")
			return
		}
	}
	c.same(s, "idgate answers Check itself; an allowed request goes on to the mesh's upstream")
}

func metricsAddress(c *converter, s Setting) {
	host, port, err := net.SplitHostPort(s.Value())
	if err != nil || port == "" {
		c.notCarried(s, "not host:port")
		return
	}
	if host == "0.0.0.0" || host == "::" {
		host = ""
	}
	c.out.metricsAddr = net.JoinHostPort(host, port)
	c.carried(s, "server.metrics_addr")
}

func redirectURL(c *converter, s Setting) {
	v := s.Value()
	if u, err := url.Parse(v); err == nil && u.IsAbs() {
		v = u.Path
	}
	if !safePath(v) || strings.Contains(v, "?") || v == "/oauth2/sign_out" {
		c.notCarried(s, "no usable callback path")
		return
	}
	c.out.login.callbackPath = v
	c.carried(s, "login.callback_path (idgate builds the redirect URI on the request's own scheme and host)")
}

func codeChallenge(c *converter, s Setting) {
	if strings.EqualFold(s.Value(), "S256") {
		c.same(s, "idgate always uses PKCE S256")
		return
	}
	c.notCarried(s, "idgate always uses PKCE S256")
}

func unverifiedEmail(c *converter, s Setting) {
	if !c.bool(s.Key, false) {
		c.same(s, "an email the IdP marks unverified identifies no one (issuers[].email_verified: if_present)")
		return
	}
	c.out.issuer.emailVerified = "ignore"
	c.carried(s, "issuers[0].email_verified: ignore")
}

func extraAudiences(c *converter, s Setting) {
	c.out.issuer.audiences = append(c.out.issuer.audiences, c.list(s.Key)...)
	if id := c.get("client_id"); id != "" {
		c.out.issuer.audiences = append([]string{id}, c.out.issuer.audiences...)
	}
	c.carried(s, "issuers[0].audiences")
}

// extraIssuers carries extra_jwt_issuers ("issuer=audience,...").
// Kubernetes service-account issuers identify by sub
// (system:serviceaccount:<ns>:<name>): their tokens carry no email.
func extraIssuers(c *converter, s Setting) {
	items := c.list(s.Key)
	if len(items) == 0 {
		c.same(s, "no extra issuers")
		return
	}
	for _, it := range items {
		iss, aud, ok := strings.Cut(it, "=")
		if !ok || !endpointURL(iss) || aud == "" {
			c.notCarried(s, "an item is not issuer=audience")
			return
		}
		ex := issuer{url: iss, audiences: []string{aud}, userClaim: "email", groupsClaim: "groups"}
		if looksLikeKubernetes(iss) {
			ex.userClaim, ex.userinfoUsage = "sub", "false"
		}
		if u, _ := url.Parse(iss); u.Scheme == "http" && !isLoopback(u.Hostname()) {
			ex.insecureHTTP = true
		}
		c.out.extraIssuers = append(c.out.extraIssuers, ex)
	}
	c.carried(s, "issuers[1:]")
}

func looksLikeKubernetes(iss string) bool {
	for _, k := range []string{"kubernetes.default", "oidc.eks.", "container.googleapis.com", "oidc.prod-aks.azure.com"} {
		if strings.Contains(iss, k) {
			return true
		}
	}
	return false
}

// skipAuthRoutes carries the routes that are literal path prefixes
// ("^/dex/", "GET=^/healthz"); a real regular expression is not carried.
func skipAuthRoutes(c *converter, s Setting) {
	var bad []string
	for _, r := range c.list(s.Key) {
		rt, ok := regexRoute(r)
		if !ok {
			bad = append(bad, r)
			continue
		}
		c.out.routes = append(c.out.routes, rt)
	}
	if len(bad) > 0 {
		c.notCarried(Setting{Key: s.Key, Values: bad, List: true},
			"idgate routes are path prefixes (segment-aware), not regular expressions: write these as routes by hand")
	}
	if len(bad) < len(c.list(s.Key)) {
		c.carried(s, "public routes")
	}
}

// regexRoute turns "[METHOD=]^/literal/prefix" into a public route.
func regexRoute(r string) (route, bool) {
	rt := route{public: true}
	if m, rest, ok := strings.Cut(r, "="); ok && m != "" && strings.ToUpper(m) == m && validToken(m) {
		rt.methods, r = []string{m}, rest
	}
	r = strings.TrimSuffix(r, ".*")
	p, ok := strings.CutPrefix(r, "^")
	if !ok || !strings.HasPrefix(p, "/") {
		return route{}, false
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '\\' && i+1 < len(p) && strings.IndexByte("./-_~", p[i+1]) >= 0:
			i++
			b.WriteByte(p[i])
		case ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("/-_~", ch) >= 0:
			b.WriteByte(ch)
		default:
			return route{}, false // '.', '$', '(', '[', ... : a real expression
		}
	}
	rt.prefix = b.String()
	return rt, safePath(rt.prefix)
}

// validToken reports whether s is an RFC 9110 token (cookie, method and
// header names; the domain labels oauth2-proxy takes).
func validToken(s string) bool { return httpguts.ValidHeaderFieldName(s) }

func lower(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToLower(x)
	}
	return out
}

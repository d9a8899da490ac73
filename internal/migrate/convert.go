package migrate

import (
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// target is the idgate configuration being built.
type target struct {
	issuer       issuer
	extraIssuers []issuer
	login        login
	routes       []route
	metricsAddr  string
	// notes are "not carried over" and "same in idgate" lines, in input
	// order; envs are the secrets the operator must supply.
	notes []string
	envs  []string
}

type issuer struct {
	url, jwksURI, userinfoURL    string
	audiences, emailDomains      []string
	insecureHTTP, skipDiscovery  bool
	userClaim, groupsClaim       string
	emailVerified, userinfoUsage string
	allowedHosts                 []string
}

type login struct {
	clientID, clientSecretFile       string
	authEndpoint, tokenEndpoint      string
	scopes                           []string
	callbackPath                     string
	cookieName, cookieDomain, same   string
	cookieSecure                     *bool
	sessionTTL                       string
	needsSecret, needsSessionKeyNote bool
}

type route struct {
	prefix      string
	methods     []string
	public      bool
	allowGroups []string
}

// converter is the settings being converted and the result.
type converter struct {
	in  map[string]Setting
	out target
}

// get returns a setting's value, "" when absent.
func (c *converter) get(key string) string {
	if s, ok := c.in[key]; ok {
		return s.Value()
	}
	return ""
}

// list returns a list setting, splitting a scalar (env, flag) on commas.
func (c *converter) list(key string) []string {
	s, ok := c.in[key]
	if !ok {
		return nil
	}
	if s.List {
		return s.Values
	}
	var out []string
	for v := range strings.SplitSeq(s.Value(), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (c *converter) bool(key string, def bool) bool {
	switch strings.ToLower(c.get(key)) {
	case "true", "1", "yes":
		return true
	case "false", "0", "no":
		return false
	}
	return def
}

// notCarried records a setting idgate has no equivalent for.
func (c *converter) notCarried(s Setting, why string) {
	c.out.notes = append(c.out.notes, "# not carried over: "+s.Key+" = "+shown(s)+": "+why)
}

// same records a setting whose effect idgate has without configuration.
func (c *converter) same(s Setting, why string) {
	c.out.notes = append(c.out.notes, "# same in idgate: "+s.Key+" = "+shown(s)+": "+why)
}

// carried records where a setting went.
func (c *converter) carried(s Setting, where string) {
	c.out.notes = append(c.out.notes, "# carried: "+s.Key+" = "+shown(s)+" -> "+where)
}

// isSecret reports a setting whose value is a secret: by its name
// (client_secret, redis_password, jwt_key, github_token; not a *_file path
// nor a true/false switch such as pass_access_token), or by its value (a
// PEM block).
func isSecret(s Setting) bool {
	k, v := s.Key, s.Value()
	switch {
	case strings.HasSuffix(k, "_file"):
	case strings.Contains(k, "secret"), strings.Contains(k, "password"), strings.Contains(k, "htpasswd"),
		strings.HasSuffix(k, "_key"), strings.Contains(k, "private"):
		return true
	case strings.Contains(k, "token"):
		return !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false")
	}
	return strings.Contains(v, "-----BEGIN")
}

// withoutCredentials is v with the user information of a URL in it
// (redis://:password@host, http://user:password@upstream) replaced.
func withoutCredentials(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		u.User = url.User("REDACTED")
		return u.String()
	}
	return v
}

// shown is a setting's value fit for a comment: secrets and a URL's
// credentials are never shown, other values are quoted and stripped of
// control characters.
func shown(s Setting) string {
	if isSecret(s) {
		return "(secret, not printed)"
	}
	vals := make([]string, len(s.Values))
	for i, v := range s.Values {
		vals[i] = withoutCredentials(v)
	}
	v := strings.Join(vals, ",")
	if s.List {
		v = "[" + v + "]"
	}
	if len(v) > 200 {
		v = v[:200] + "..."
	}
	return quote(v)
}

// Convert turns merged oauth2-proxy settings into an idgate config.yaml,
// with a comment for every setting: where it went, that idgate already
// behaves so, or why it was not carried over. Secrets are never printed:
// the output names the environment variable or file that supplies them.
func Convert(settings []Setting) string {
	c := &converter{in: map[string]Setting{}}
	for _, s := range settings {
		c.in[s.Key] = s
	}
	c.out.issuer = issuer{userClaim: "email", groupsClaim: "groups"}
	c.out.login.callbackPath = "/oauth2/callback"
	for _, s := range settings {
		h, ok := handlers[s.Key]
		if !ok {
			c.notCarried(s, "not a setting idgate migrate knows")
			continue
		}
		h(c, s)
	}
	c.finish()
	return render(&c.out)
}

// finish derives what depends on several settings.
func (c *converter) finish() {
	is := &c.out.issuer
	if is.url == "" {
		return
	}
	if u, err := url.Parse(is.url); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		is.insecureHTTP = true
	}
	for _, e := range []string{is.jwksURI, is.userinfoURL} {
		iu, _ := url.Parse(is.url)
		if u, err := url.Parse(e); e != "" && err == nil && iu != nil && !strings.EqualFold(u.Hostname(), iu.Hostname()) {
			is.allowedHosts = append(is.allowedHosts, strings.ToLower(u.Hostname()))
		}
		if u, err := url.Parse(e); e != "" && err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
			is.insecureHTTP = true
		}
	}
	if u, err := url.Parse(c.out.login.tokenEndpoint); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		is.insecureHTTP = true
	}
	if len(is.audiences) == 0 && c.out.login.clientID != "" {
		is.audiences = []string{c.out.login.clientID}
	}
	if len(c.out.login.scopes) > 0 && !slices.Contains(c.out.login.scopes, "openid") {
		c.out.login.scopes = append([]string{"openid"}, c.out.login.scopes...)
	}
	if g := c.list("allowed_groups"); len(g) > 0 {
		c.out.routes = append(c.out.routes, route{prefix: "/", allowGroups: g})
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// goDuration normalises an oauth2-proxy duration ("24h", "168h0m0s").
func goDuration(v string) (string, bool) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return "", false
	}
	return d.String(), true
}

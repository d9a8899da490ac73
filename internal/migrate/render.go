package migrate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// quote is v as a YAML double-quoted scalar (JSON's escaping is valid YAML
// and leaves no control character, CR or LF in the output).
func quote(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// yamlWriter writes indented `key: value` lines.
type yamlWriter struct {
	b strings.Builder
}

func (w *yamlWriter) line(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// str writes key: "value" unless value is empty.
func (w *yamlWriter) str(indent int, key, value string) {
	if value != "" {
		w.line(indent, "%s: %s", key, quote(value))
	}
}

func (w *yamlWriter) list(indent int, key string, values []string) {
	if len(values) > 0 {
		w.line(indent, "%s: %s", key, quoteList(values))
	}
}

// render writes t as an idgate config.yaml.
func render(t *target) string {
	w := &yamlWriter{}
	w.line(0, "# idgate configuration converted from an oauth2-proxy configuration by")
	w.line(0, "# `idgate migrate oauth2-proxy`. Review it before use.")
	if len(t.envs) > 0 {
		w.line(0, "#")
		w.line(0, "# Secrets are never printed. Supply these in idgate's environment (from a")
		w.line(0, "# Secret, as oauth2-proxy's OAUTH2_PROXY_* variables were):")
		for _, e := range t.envs {
			w.line(0, "#   %s", e)
		}
	}
	w.line(0, "#")
	for _, n := range t.notes {
		w.line(0, "%s", n)
	}
	w.line(0, "")
	if t.metricsAddr != "" {
		w.line(0, "server:")
		w.str(1, "metrics_addr", t.metricsAddr)
	}
	if t.issuer.url == "" {
		w.line(0, "# No OIDC issuer was found (oidc_issuer_url): no issuer, no login.")
		return w.b.String()
	}
	w.line(0, "issuers:")
	renderIssuer(w, &t.issuer)
	for i := range t.extraIssuers {
		renderIssuer(w, &t.extraIssuers[i])
	}
	renderLogin(w, t)
	if len(t.routes) > 0 {
		w.line(0, "routes:")
		for _, r := range t.routes {
			w.line(1, "- path_prefix: %s", quote(r.prefix))
			if r.public {
				w.line(2, "public: true")
			}
			w.list(2, "methods", r.methods)
			w.list(2, "allow_groups", r.allowGroups)
		}
	}
	return w.b.String()
}

func renderIssuer(w *yamlWriter, is *issuer) {
	w.line(1, "- issuer: %s", quote(is.url))
	if len(is.audiences) == 0 {
		w.line(2, "# No client_id nor audience was found: name the accepted audiences.")
	}
	w.list(2, "audiences", is.audiences)
	if is.insecureHTTP {
		w.line(2, "# Plain http off loopback (an in-cluster issuer): keys travel unauthenticated")
		w.line(2, "# on that network; idgate warns at start.")
		w.line(2, "insecure_http: true")
	}
	if is.skipDiscovery {
		w.line(2, "skip_discovery: true")
	}
	w.str(2, "jwks_uri", is.jwksURI)
	w.str(2, "userinfo_endpoint", is.userinfoURL)
	switch {
	case is.userinfoUsage != "":
		w.line(2, "userinfo: %s", is.userinfoUsage)
	case is.skipDiscovery && is.userinfoURL == "":
		w.line(2, "userinfo: false")
	}
	w.str(2, "user_claim", is.userClaim)
	w.str(2, "groups_claim", is.groupsClaim)
	w.str(2, "email_verified", is.emailVerified)
	w.list(2, "email_domains", is.emailDomains)
	w.list(2, "allowed_hosts", is.allowedHosts)
}

func renderLogin(w *yamlWriter, t *target) {
	l := &t.login
	if l.clientID == "" {
		w.line(0, "# No client_id was found: no browser login.")
		return
	}
	w.line(0, "login:")
	w.str(1, "issuer", t.issuer.url)
	w.str(1, "client_id", l.clientID)
	w.str(1, "client_secret_file", l.clientSecretFile)
	if l.clientSecretFile == "" && !l.needsSecret {
		w.line(1, "# No client secret was found: set IDGATE_LOGIN_CLIENT_SECRET.")
	}
	w.str(1, "authorization_endpoint", l.authEndpoint)
	w.str(1, "token_endpoint", l.tokenEndpoint)
	if t.issuer.skipDiscovery && (l.authEndpoint == "" || l.tokenEndpoint == "") {
		w.line(1, "# skip_discovery needs authorization_endpoint and token_endpoint (login_url, redeem_url).")
	}
	w.list(1, "scopes", l.scopes)
	if l.callbackPath != "/oauth2/callback" {
		w.str(1, "callback_path", l.callbackPath)
	}
	if l.cookieName != "" || l.cookieDomain != "" || l.cookieSecure != nil || l.same != "" {
		w.line(1, "cookie:")
		w.str(2, "name", l.cookieName)
		w.str(2, "domain", l.cookieDomain)
		if l.cookieSecure != nil {
			w.line(2, "secure: %t", *l.cookieSecure)
		}
		w.str(2, "same_site", l.same)
	}
	w.str(1, "session_ttl", l.sessionTTL)
}

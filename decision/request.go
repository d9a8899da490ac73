package decision

import (
	"errors"
	"net/url"
	"path"
	"strings"
)

// Request is the part of an incoming HTTP request the decision looks at.
type Request struct {
	// ID identifies the request in logs (x-request-id when present).
	ID string
	// Method, Host and Path are the request line; Path may hold a query.
	Method, Host, Path string
	// Scheme is "http" or "https" as the proxy saw it (for the login's
	// redirect URI).
	Scheme string
	// Headers are the request headers with lower-case names. Several copies
	// of a header are joined with "," as Envoy does.
	Headers map[string]string
}

// Token errors, distinguished because a missing token may start a login
// while a malformed one never does.
var (
	errNoToken        = errors.New("decision: no bearer token")
	errMalformedToken = errors.New("decision: malformed authorization header")
)

// tokenHeaders are read in order; the first that carries a Bearer credential
// wins. flyte-authorization is what the Flyte SDK sends.
var tokenHeaders = [...]string{"authorization", "flyte-authorization"}

// bearerToken extracts the token. The scheme is case-insensitive (RFC 7235).
// A header holding several credentials (copies joined by ",") or a Bearer
// scheme with no or a space-separated token is malformed, never guessed at.
func bearerToken(h map[string]string) (string, error) {
	for _, name := range tokenHeaders {
		v, ok := h[name]
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
			if strings.EqualFold(v, "bearer") {
				return "", errMalformedToken
			}
			continue // another scheme (Basic): look at the next header
		}
		tok := strings.TrimLeft(v[7:], " ")
		// IndexByte is vectorised; ContainsAny over a 1 KB token was a fifth
		// of a warm Check.
		if tok == "" || strings.IndexByte(tok, ' ') >= 0 || strings.IndexByte(tok, ',') >= 0 || strings.IndexByte(tok, '\t') >= 0 {
			return "", errMalformedToken
		}
		return tok, nil
	}
	return "", errNoToken
}

// cleanPath returns the path without query or fragment, percent-decoded and
// with dot segments resolved, so route matching sees what a server would
// serve: /public/../admin matches /admin. ok is false for undecodable paths.
func cleanPath(p string) (string, bool) {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if strings.IndexByte(p, '%') >= 0 {
		d, err := url.PathUnescape(p)
		if err != nil {
			return "", false
		}
		p = d
	}
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	if strings.Contains(p, "//") || strings.Contains(p, "/.") || strings.IndexByte(p, '\\') >= 0 {
		p = path.Clean(strings.ReplaceAll(p, "\\", "/"))
	}
	return p, true
}

// hostOnly strips a port and lower-cases the host.
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	return strings.ToLower(h)
}

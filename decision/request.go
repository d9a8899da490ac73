package decision

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
)

// Request is the part of an incoming HTTP request the decision looks at.
type Request struct {
	// ID identifies the request in logs: x-request-id when present, else
	// Envoy's id, else a random one (NewID); never empty once translated.
	ID string
	// Method, Host and Path are the request line; Path may hold a query.
	// Path must be origin-form and Host a host[:port] (see pathReadings,
	// normalHost): anything else is refused with 400.
	Method, Host, Path string
	// Scheme is "http" or "https" as the proxy saw it (for the login's
	// redirect URI).
	Scheme string
	// Headers are the request headers with lower-case names. Several copies
	// of a header are joined with "," as Envoy does.
	Headers map[string]string
	// Principal is the mTLS peer identity of the caller as Envoy reports it
	// (source.principal; spiffe://... under Istio); empty for a plaintext
	// peer and in HTTP forward-auth. Only it selects a trusted Forwarder.
	Principal string
	// Repeated names the headers (lower case) known to have arrived in
	// more than one copy before they were joined into Headers; nil when the
	// front end cannot tell (Envoy's joined header map).
	Repeated []string
}

// NewID returns a random request id for a request that came without one
// (no x-request-id, no Envoy id), so every decision log line can be found
// and told apart.
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
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
		tok, err := parseBearer(v)
		if errors.Is(err, errNoToken) {
			continue // another scheme (Basic): look at the next header
		}
		return tok, err
	}
	return "", errNoToken
}

// parseBearer reads one token header; errNoToken for another scheme.
func parseBearer(v string) (string, error) {
	v = strings.TrimSpace(v)
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		if strings.EqualFold(v, "bearer") {
			return "", errMalformedToken
		}
		return "", errNoToken
	}
	tok := strings.TrimLeft(v[7:], " ")
	// IndexByte is vectorised; ContainsAny over a 1 KB token was a fifth
	// of a warm Check.
	if tok == "" || strings.IndexByte(tok, ' ') >= 0 || strings.IndexByte(tok, ',') >= 0 || strings.IndexByte(tok, '\t') >= 0 {
		return "", errMalformedToken
	}
	return tok, nil
}

// hasBearer reports a Bearer credential anywhere in a token header's
// value, also in a later copy ("Basic x,Bearer y").
func hasBearer(v string) bool {
	for v != "" {
		el := v
		if i := strings.IndexByte(v, ','); i >= 0 {
			el, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		el = strings.TrimLeft(el, " \t")
		if len(el) >= 6 && strings.EqualFold(el[:6], "bearer") && (len(el) == 6 || el[6] == ' ' || el[6] == '\t') {
			return true
		}
	}
	return false
}

// strayCredentials appends to remove every token header holding a Bearer
// credential that keep does not accept: a token that failed verification,
// or one beside the credential that authenticated the request, never
// reaches the upstream (the Flyte runs service decodes Authorization
// without verifying it when x-flyte-identity is absent).
func strayCredentials(remove []string, h map[string]string, keep func(tok string) bool) []string {
	for _, name := range tokenHeaders {
		v, ok := h[name]
		if !ok {
			continue
		}
		switch tok, err := parseBearer(v); {
		case err == nil && keep(tok):
			continue
		case errors.Is(err, errNoToken) && !hasBearer(v):
			continue // another scheme only (Basic)
		}
		remove = append(remove, name)
	}
	return remove
}

// normalHost returns the request host for route matching: lower case,
// without port and without one trailing dot, so admin.example.com.,
// ADMIN.example.com and admin.example.com:443 all meet a route for
// admin.example.com. ok is false for a form no server would route by name
// (two ports, brackets around a name, an empty label, a bad port, other
// bytes): it is refused rather than let skip a host-restricted route. An
// empty host stays empty. A lower-case host without port or dot is
// returned as is.
func normalHost(h string) (string, bool) {
	if h == "" {
		return "", true
	}
	name, port := h, ""
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", false
		}
		ip, err := netip.ParseAddr(h[1:end])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", false
		}
		name, port = strings.ToLower(h[:end+1]), h[end+1:]
		if port != "" && (port[0] != ':' || !validPort(port[1:])) {
			return "", false
		}
		return name, true
	}
	if i := strings.IndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if !validPort(port) {
			return "", false
		}
	}
	name = strings.TrimSuffix(name, ".")
	if name == "" || name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..") {
		return "", false
	}
	lower := true
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_':
		case c >= 'A' && c <= 'Z':
			lower = false
		default:
			return "", false
		}
	}
	if !lower {
		name = strings.ToLower(name)
	}
	return name, true
}

// validPort: 1 to 5 digits, at most 65535.
func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

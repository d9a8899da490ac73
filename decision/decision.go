package decision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/idgate/idgate/identity"
)

// Verifier verifies a bearer token; *jwks.Verifier implements it.
type Verifier interface {
	Verify(ctx context.Context, token string) (identity.Identity, error)
}

// Enricher completes an identity's profile (userinfo). It never fails the
// request: it returns a degraded reason, or "".
type Enricher interface {
	Enrich(ctx context.Context, id *identity.Identity, accessToken string) (degraded string)
}

// Renderer turns an identity into upstream headers; *outputs.Renderer
// implements it.
type Renderer interface {
	Render(dst []identity.Header, id *identity.Identity, accessToken string) ([]identity.Header, error)
	Names() []string
}

// Config assembles the engine.
type Config struct {
	// Routes is the route table; first match wins.
	Routes []Route
	// StripHeaders are extra header names always removed.
	StripHeaders []string
	// Verifier checks bearer tokens. Required.
	Verifier Verifier
	// VerifyReason maps a Verifier error to a short metric label.
	VerifyReason func(error) string
	// Enricher may be nil (no enrichment).
	Enricher Enricher
	// Renderer writes the identity headers. Required.
	Renderer Renderer
	// ErrUnsafeIdentity is the Renderer's error for an identity that cannot
	// travel in a header; it becomes a 403 rather than a server fault.
	ErrUnsafeIdentity error
	// Shadow is the default mode: true reports without enforcing. A route's
	// Mode overrides it.
	Shadow bool
	// ShadowCompare names the unsigned identity headers (user id, groups)
	// whose incoming values shadow mode compares with idgate's.
	ShadowCompare []string
	// Browser runs the login for browsers; nil: browsers get 401 too.
	Browser Browser
	// EmailPolicies are the issuers' rules for when an email identifies a
	// user, by exact `iss`; an issuer not named gets the zero policy
	// (email_verified if_present, any domain). A refused email is no user
	// id (a 403 when the user claim is the email) and matches no
	// email-domain rule.
	EmailPolicies map[string]identity.EmailPolicy
	// Forwarders are the peers trusted to pass on identity headers (see
	// Forwarder); none by default.
	Forwarders []Forwarder
	// UserIDHeader and GroupsHeader name the headers a forwarded identity's
	// user id and groups are read from, for route rules and logs
	// (outputs.kubeflow).
	UserIDHeader, GroupsHeader string
}

// Engine decides.
type Engine struct {
	cfg    Config
	strip  stripList
	fwd    forwarders
	routes *routeIndex // cfg.Routes, indexed
}

// New returns an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Verifier == nil || cfg.Renderer == nil {
		return nil, errors.New("decision: verifier and renderer are required")
	}
	if cfg.VerifyReason == nil {
		cfg.VerifyReason = func(error) string { return "invalid_token" }
	}
	cfg.Routes = slices.Clone(cfg.Routes)
	for i := range cfg.Routes {
		if cfg.Routes[i].ExactPath && !cfg.Routes[i].Public {
			return nil, fmt.Errorf("decision: route %s: an exact path must be public", cfg.Routes[i].PathPrefix)
		}
		cfg.Routes[i].prepare()
	}
	emitted := cfg.Renderer.Names()
	e := &Engine{cfg: cfg, strip: newStripList(emitted, cfg.StripHeaders), routes: newRouteIndex(cfg.Routes)}
	known := func(h string) bool { return slices.Contains(identityHeaders, h) || slices.Contains(emitted, h) }
	var err error
	if e.fwd, err = newForwarders(cfg.Forwarders, known); err != nil {
		return nil, err
	}
	return e, nil
}

// Result is a decision.
type Result struct {
	// Allowed says whether the request goes upstream.
	Allowed bool
	// Reply is what the client is told: Status, Reason, Message (the
	// denied response's body) and ResponseHeaders. A Browser's reply is
	// carried in it unchanged.
	Reply
	// Route names the matched route ("default" when none matched).
	Route string
	// Identity is the verified caller, nil when there is none.
	Identity *identity.Identity
	// Set are headers to overwrite on the upstream request.
	Set []identity.Header
	// Remove are headers to delete from the upstream request; disjoint from Set.
	Remove []string
	// Spoofed names identity headers the client sent (values never kept).
	Spoofed []string
	// Shadow marks a shadow-mode result: Allowed is true and nothing is
	// changed; WouldAllow and Reason say what enforce mode would have done.
	Shadow     bool
	WouldAllow bool
	// Mismatches names the identity headers whose incoming value differs
	// from idgate's (shadow mode only).
	Mismatches []string
	// Forwarder names the trusted forwarder (its mTLS principal) whose
	// identity headers decided the request; empty otherwise. The decision
	// log omits it when empty.
	Forwarder string

	unusualHeaders bool // the strip scan's verdict, reused by removals
}

// Decide makes the decision for req. The error is reserved for faults inside
// idgate (signing failed); every client mistake is a denied Result.
func (e *Engine) Decide(ctx context.Context, req *Request) (Result, error) {
	res := Result{}
	res.Spoofed, res.unusualHeaders = e.strip.scan(req.Headers)
	host, ok := normalHost(req.Host)
	if !ok {
		return e.refuse(res, denyBadHost, req.Headers), nil
	}
	route, ok := e.route(req.Method, host, req.Path)
	if !ok {
		return e.refuse(res, denyBadPath, req.Headers), nil
	}
	res.Route = route.name()
	res, err := e.decide(ctx, req, route, res)
	if err != nil || !e.shadowOn(route) {
		return res, err
	}
	return e.shadow(res, req.Headers), nil
}

// refuse denies a request no route can be chosen for; in shadow mode (the
// engine's default, as there is no route) it is only reported.
func (e *Engine) refuse(res Result, d denial, headers map[string]string) Result {
	res = e.deny(res, d, "")
	if e.cfg.Shadow {
		return e.shadow(res, headers)
	}
	return res
}

func (e *Engine) shadowOn(r *Route) bool {
	if r == nil || r.Mode == "" {
		return e.cfg.Shadow
	}
	return r.Mode == ModeShadow
}

// decide is the enforce-mode decision for a matched route (nil: none).
func (e *Engine) decide(ctx context.Context, req *Request, route *Route, res Result) (Result, error) {
	if e.cfg.Browser != nil {
		if r, ok := e.cfg.Browser.Endpoint(ctx, req); ok {
			return reply(res, r), nil
		}
	}
	cookie, dropCookie := e.cookieRewrite(req.Headers)
	if route != nil && route.Public {
		res.Allowed, res.Status, res.Reason = true, http.StatusOK, "public"
		res.Set, res.Remove = e.withCookie(nil, nil, cookie, dropCookie)
		rm := e.strip.removalsScanned(nil, req.Headers, res.unusualHeaders)
		if len(res.Remove) == 0 {
			res.Remove = rm // shared; its capacity makes any append copy it
		} else {
			res.Remove = append(res.Remove, rm...)
		}
		// No token is needed here, but one that does not verify must not
		// reach an upstream that decodes it unverified.
		res.Remove = strayCredentials(res.Remove, req.Headers, func(tok string) bool {
			_, err := e.cfg.Verifier.Verify(ctx, tok)
			return err == nil
		})
		return res, nil
	}
	if f, ok := e.forwarded(req); ok {
		return e.forward(res, req, route, f, cookie, dropCookie), nil
	}
	found, tok, res, ok := e.authenticate(ctx, req, res)
	if !ok {
		return res, nil
	}
	c := &caller{id: found}
	id := &c.id
	res.Identity = id
	verified := tok // the bearer token that authenticated; "" for a session
	if id.Source == identity.SourceSession {
		verified = ""
	}
	if e.cfg.Enricher != nil && tok != "" {
		id.Degraded = e.cfg.Enricher.Enrich(ctx, id, tok)
	}
	policy := e.cfg.EmailPolicies[id.Issuer]
	if id.EmailRefused = policy.Judge(id); id.EmailRefused != "" && id.UserIsEmail() {
		return e.deny(res, denyUnverifiedEmail, ""), nil
	}
	if route != nil && !route.allows(id) {
		return e.deny(res, denyForbidden, ""), nil
	}
	if route != nil && route.OmitAccessToken {
		tok = ""
	}
	res, err := e.allow(res, id, tok, req.Headers, c.set[:0])
	if err != nil || !res.Allowed {
		return res, err
	}
	res.Set, res.Remove = e.withCookie(res.Set, res.Remove, cookie, dropCookie)
	res.Remove = strayCredentials(res.Remove, req.Headers, func(t string) bool { return verified != "" && t == verified })
	return res, nil
}

// authenticate finds the caller: a bearer token, else a login session. ok
// is false with the denial (or login redirect) in res.
func (e *Engine) authenticate(ctx context.Context, req *Request, res Result) (identity.Identity, string, Result, bool) {
	tok, err := bearerToken(req.Headers)
	switch {
	case err == nil:
		id, err := e.cfg.Verifier.Verify(ctx, tok)
		if err != nil {
			return id, "", e.deny(res, denyInvalid, e.cfg.VerifyReason(err)), false
		}
		return id, tok, res, true
	case !errors.Is(err, errNoToken):
		return identity.Identity{}, "", e.deny(res, denyMalformed, ""), false
	case e.cfg.Browser == nil:
		return identity.Identity{}, "", e.deny(res, denyMissing, ""), false
	}
	s, ok := e.cfg.Browser.Session(ctx, req)
	res.ResponseHeaders = append(res.ResponseHeaders, s.SetCookie...)
	if !ok && s.Unavailable != nil {
		return identity.Identity{}, "", reply(res, s.Unavailable), false
	}
	if ok {
		s.Identity.Source = identity.SourceSession
		return s.Identity, s.AccessToken, res, true
	}
	if IsBrowser(req) {
		return identity.Identity{}, "", reply(res, e.cfg.Browser.Start(ctx, req)), false
	}
	return identity.Identity{}, "", e.deny(res, denyMissing, ""), false
}

// withCookie adds the cookie-header rewrite to the mutations.
func (e *Engine) withCookie(set []identity.Header, remove []string, cookie *identity.Header, drop bool) ([]identity.Header, []string) {
	if cookie != nil {
		set = append(set, *cookie)
	}
	if drop {
		remove = append(remove, "cookie")
	}
	return set, remove
}

// caller is a verified identity and room for the headers rendered from
// it, allocated together: one allocation per authenticated request where
// there were two. Result keeps both (Identity, Set) for as long.
type caller struct {
	id  identity.Identity
	set [6]identity.Header
}

// allow renders id's headers into dst (usually caller.set; a Renderer
// writing more grows it) and allows.
func (e *Engine) allow(res Result, id *identity.Identity, accessToken string, headers map[string]string, dst []identity.Header) (Result, error) {
	if id.UserID() == "" && id.Degraded == "" {
		id.Degraded = "missing_user_claim" // allowed, but upstreams get no user id
	}
	set, err := e.cfg.Renderer.Render(dst, id, accessToken)
	if err != nil {
		if e.cfg.ErrUnsafeIdentity != nil && errors.Is(err, e.cfg.ErrUnsafeIdentity) {
			return e.deny(res, denyUnsafe, ""), nil
		}
		return res, fmt.Errorf("decision: render identity: %w", err)
	}
	res.Allowed, res.Status, res.Reason = true, http.StatusOK, "ok"
	res.Set = set
	res.Remove = e.strip.removalsScanned(set, headers, res.unusualHeaders)
	return res, nil
}

// route returns the first route matching the request (nil: none). ok is
// false when the path is refused (pathReadings), when its readings select
// different routes, or when it holds an encoded slash its route does not
// allow.
func (e *Engine) route(method, host, target string) (*Route, bool) {
	return routeFor(e.routes.first, method, host, target)
}

// routeFor is route with the first-match function given, so tests can
// compare the index with a linear scan.
func routeFor(first func(method, host string, f pathForm) *Route, method, host, target string) (*Route, bool) {
	var buf [1]pathForm
	forms, encodedSlash, ok := pathReadings(target, buf[:0])
	if !ok {
		return nil, false
	}
	route := first(method, host, forms[0])
	for _, f := range forms[1:] {
		if first(method, host, f) != route {
			return nil, false
		}
	}
	if encodedSlash && (route == nil || !route.AllowEncodedSlashes) {
		return nil, false
	}
	return route, true
}

// denial is one row of the table that maps a decision error to what the
// client sees and what metrics record.
type denial struct {
	status  int
	reason  string
	message string
	bearer  bool // send WWW-Authenticate: Bearer error="invalid_token"
}

var (
	denyMissing   = denial{http.StatusUnauthorized, "missing_token", "authentication required", true}
	denyMalformed = denial{http.StatusUnauthorized, "malformed_token", "malformed authorization header", true}
	denyInvalid   = denial{http.StatusUnauthorized, "", "invalid token", true}
	denyForbidden = denial{http.StatusForbidden, "forbidden", "access to this route is not allowed for this user", false}
	denyUnsafe    = denial{http.StatusForbidden, "unsafe_identity", "user identity cannot be represented in a header", false}
	// denyUnverifiedEmail: the user id would be an email the IdP marks
	// unverified, or in a domain the issuer may not assert.
	denyUnverifiedEmail = denial{http.StatusForbidden, "unverified_email", "the identity provider has not verified this email address for this issuer", false}
	denyBadPath         = denial{http.StatusBadRequest, "bad_path", "malformed request path", false}
	denyBadHost         = denial{http.StatusBadRequest, "bad_host", "malformed request host", false}
)

func (e *Engine) deny(res Result, d denial, detail string) Result {
	res.Allowed, res.Status, res.Reason, res.Message = false, d.status, d.reason, d.message
	if detail != "" {
		res.Reason = detail
		res.Message = d.message + ": " + strings.ReplaceAll(detail, "_", " ")
	}
	if d.bearer {
		res.ResponseHeaders = append(res.ResponseHeaders, identity.Header{
			Name:  "www-authenticate",
			Value: `Bearer realm="idgate", error="invalid_token", error_description="` + res.Message + `"`,
		})
	}
	return res
}

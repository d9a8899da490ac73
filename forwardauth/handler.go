package forwardauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/decisionlog"
)

// RemoveHeader lists, on an allowed response, the request headers the proxy
// must delete before forwarding (comma-separated), for proxies that can act
// on it; the nginx and Traefik examples clear them by name instead.
const RemoveHeader = "x-idgate-remove"

// UpstreamCookieHeader carries, on an allowed response to a request with
// cookies, the cookie header the upstream must get: the client's, without
// idgate's own cookies (empty when none is left). nginx cannot tell an
// absent response header from an empty one, so it is sent whenever the
// request had cookies, and nginx sends it in place of the client's
// (proxy_set_header Cookie). It goes to the proxy only, never to a client.
const UpstreamCookieHeader = "x-idgate-cookie"

// Config assembles the Handler.
type Config struct {
	// Decider decides each request (the app's current engine). Required.
	Decider decision.Decider
	// Recorder records each decision (metrics and the decision log line)
	// and each fault. Required; the app gives the same Recorder to the
	// ext_authz server, so both front ends report alike.
	Recorder *decisionlog.Recorder
}

// Handler answers forward-auth subrequests.
type Handler struct {
	cfg Config
}

// New returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Decider == nil {
		return nil, errors.New("forwardauth: decider required")
	}
	if cfg.Recorder == nil {
		return nil, errors.New("forwardauth: recorder required")
	}
	return &Handler{cfg: cfg}, nil
}

// ServeHTTP reads the original request from the forwarding headers and
// answers 200 with the identity headers, or the denial's status, headers and
// body. Any method is accepted: proxies differ in what they send.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := h.cfg.Recorder
	start := rec.Now()
	req, ok := Translate(r)
	if !ok {
		res := decision.Result{Reply: decision.Reply{Status: http.StatusBadRequest, Reason: "ambiguous_forwarding", Message: "conflicting forwarded request headers"}}
		rec.Observe(r.Context(), req, &res, start)
		http.Error(w, res.Message, res.Status)
		return
	}
	res, err := h.cfg.Decider.Decide(r.Context(), req)
	if err != nil {
		rec.Fault(r.Context(), req, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	rec.Observe(r.Context(), req, &res, start)
	out := w.Header()
	out.Set("Cache-Control", "no-store")
	for _, hd := range res.ResponseHeaders { // set-cookie may repeat
		if hd.Name == "set-cookie" {
			out.Add(hd.Name, hd.Value)
		} else {
			out.Set(hd.Name, hd.Value)
		}
	}
	if !res.Allowed {
		if out.Get("Content-Type") == "" {
			out.Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write([]byte(res.Message + "\n"))
		return
	}
	for _, hd := range res.Set {
		out.Set(hd.Name, hd.Value)
	}
	if c, ok := req.Headers["cookie"]; ok {
		out.Set(UpstreamCookieHeader, upstreamCookie(c, &res))
	}
	if len(res.Remove) > 0 {
		out.Set(RemoveHeader, strings.Join(res.Remove, ","))
	}
	w.WriteHeader(http.StatusOK)
}

// upstreamCookie is the cookie header the upstream gets after res's
// mutations ("" for none).
func upstreamCookie(client string, res *decision.Result) string {
	for _, hd := range res.Set {
		if hd.Name == "cookie" {
			return hd.Value
		}
	}
	for _, n := range res.Remove {
		if n == "cookie" {
			return ""
		}
	}
	return client
}

// Translate builds the decision request: method, host and URI come from
// X-Forwarded-Method, X-Forwarded-Host and X-Forwarded-Uri (X-Original-Uri
// and X-Original-Method for nginx); without them the subrequest's own are
// used. Header names are lower-cased and copies joined by "," (cookie
// copies by "; ", so each cookie stays one pair).
//
// A proxy sets one family and passes the client's other headers through, so
// a client could add the other family to make /admin look like /healthz.
// When both families are present and disagree, ok is false and the request
// is refused.
func Translate(r *http.Request) (req *decision.Request, ok bool) {
	headers := make(map[string]string, len(r.Header))
	for name, vs := range r.Header {
		n, sep := strings.ToLower(name), ","
		if n == "cookie" {
			sep = "; " // cookie copies join as one cookie-string (RFC 9113 8.2.3)
		}
		headers[n] = strings.Join(vs, sep)
	}
	ok = true
	pick := func(a, b string) string {
		va, vb := headers[a], headers[b]
		if va != "" && vb != "" && va != vb {
			ok = false
		}
		if va != "" {
			return va
		}
		return vb
	}
	id := headers["x-request-id"]
	if id == "" {
		id = decision.NewID()
	}
	req = &decision.Request{
		ID:      id,
		Method:  pick("x-forwarded-method", "x-original-method"),
		Host:    headers["x-forwarded-host"],
		Path:    pick("x-forwarded-uri", "x-original-uri"),
		Scheme:  headers["x-forwarded-proto"],
		Headers: headers,
	}
	if req.Scheme == "" {
		req.Scheme = "http"
	}
	if req.Method == "" {
		req.Method = r.Method
	}
	if req.Host == "" {
		req.Host = r.Host
	}
	if req.Path == "" {
		req.Path = r.URL.RequestURI()
	}
	return req, ok
}

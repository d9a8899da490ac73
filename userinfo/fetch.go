package userinfo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/idgate/idgate/identity"
)

// Outcomes of one HTTP lookup: the requests_total{result} label values.
const (
	resultOK          = "ok"
	resultTimeout     = "timeout"
	resultError       = "error"
	resultStatus      = "status"
	resultMalformed   = "malformed"
	resultTooLarge    = "too_large"
	resultUnsupported = "unsupported"
	resultSubMismatch = "sub_mismatch"
)

// Degraded reasons returned by Enrich.
const (
	ReasonTimeout     = "userinfo_timeout"      // no answer within Timeout
	ReasonError       = "userinfo_error"        // transport failure
	ReasonStatus      = "userinfo_status"       // a status other than 200
	ReasonMalformed   = "userinfo_malformed"    // not a JSON object, or too large
	ReasonUnsupported = "userinfo_unsupported"  // signed (application/jwt) userinfo
	ReasonSubMismatch = "userinfo_sub_mismatch" // response sub differs from the token's
	ReasonCanceled    = "userinfo_canceled"     // the caller's context was canceled
	ReasonCacheError  = "cache_error"           // the cache used up the time budget
)

var reasonOf = map[string]string{
	resultTimeout:     ReasonTimeout,
	resultError:       ReasonError,
	resultStatus:      ReasonStatus,
	resultMalformed:   ReasonMalformed,
	resultTooLarge:    ReasonMalformed,
	resultUnsupported: ReasonUnsupported,
	resultSubMismatch: ReasonSubMismatch,
}

// fetch calls the userinfo endpoint with the access token and returns the
// sanitised profile, or a degraded reason. It records the request metrics.
func (r *Resolver) fetch(ctx context.Context, endpoint, token, subject string) (identity.Profile, string) {
	start := time.Now()
	p, result := r.doFetch(ctx, endpoint, token, subject)
	r.metrics.requests.WithLabelValues(result).Inc()
	r.metrics.duration.Observe(time.Since(start).Seconds())
	if result == resultSubMismatch {
		r.metrics.subMismatch.Inc()
	}
	return p, reasonOf[result]
}

func (r *Resolver) doFetch(ctx context.Context, endpoint, token, subject string) (identity.Profile, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return identity.Profile{}, resultError
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return identity.Profile{}, transportResult(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // keep the connection reusable
		return identity.Profile{}, resultStatus
	}
	switch ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); {
	case ct == "application/jwt":
		return identity.Profile{}, resultUnsupported
	case ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json"):
		return identity.Profile{}, resultMalformed
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.MaxBodyBytes+1))
	if err != nil {
		return identity.Profile{}, transportResult(ctx, err)
	}
	if int64(len(body)) > r.cfg.MaxBodyBytes {
		return identity.Profile{}, resultTooLarge
	}
	p, err := r.parseProfile(body)
	if err != nil {
		return identity.Profile{}, resultMalformed
	}
	if p.Subject != subject { // OIDC Core 5.3.2: the response MUST NOT be used
		return identity.Profile{}, resultSubMismatch
	}
	return p, resultOK
}

// transportResult classifies a failed request or body read.
func transportResult(ctx context.Context, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return resultTimeout
	}
	return resultError
}

// wireProfile is the userinfo response as IdPs send it.
type wireProfile struct {
	Sub               string `json:"sub"`
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"` // bool, or "true" (Cognito)
	Name              string `json:"name"`
	GivenName         string `json:"given_name"`
	FamilyName        string `json:"family_name"`
	PreferredUsername string `json:"preferred_username"`
	Groups            any    `json:"groups"`
}

// parseProfile decodes a userinfo JSON object. String values containing CR,
// LF or NUL are dropped (left empty) and counted; they never reach a header.
func (r *Resolver) parseProfile(body []byte) (identity.Profile, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return identity.Profile{}, errors.New("userinfo: response is not a JSON object")
	}
	var w wireProfile
	if err := json.Unmarshal(body, &w); err != nil {
		return identity.Profile{}, err
	}
	p := identity.Profile{
		Subject:       w.Sub,
		EmailVerified: w.EmailVerified == true || w.EmailVerified == "true",
	}
	for _, f := range []struct {
		name string
		dst  *string
		v    string
	}{
		{"email", &p.Email, w.Email},
		{"name", &p.Name, w.Name},
		{"given_name", &p.GivenName, w.GivenName},
		{"family_name", &p.FamilyName, w.FamilyName},
		{"preferred_username", &p.PreferredUsername, w.PreferredUsername},
	} {
		if strings.ContainsAny(f.v, unsafeChars) {
			r.metrics.dropped.WithLabelValues(f.name).Inc()
			continue
		}
		*f.dst = f.v
	}
	if p.Email == "" {
		p.EmailVerified = false
	}
	for _, g := range identity.ParseGroups(w.Groups) {
		if strings.ContainsAny(g, unsafeChars) {
			r.metrics.dropped.WithLabelValues("groups").Inc()
			continue
		}
		p.Groups = append(p.Groups, g)
	}
	return p, nil
}

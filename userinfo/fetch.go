package userinfo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/claimjson"
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
	p, result, cause := r.doFetch(ctx, endpoint, token, subject)
	r.report(endpoint, result, cause)
	r.metrics.requests.WithLabelValues(result).Inc()
	r.metrics.duration.Observe(time.Since(start).Seconds())
	return p, reasonOf[result]
}

// doFetch returns the profile, the result label and, for a failure, what
// went wrong (never the token: it travels in a header, not in the URL).
func (r *Resolver) doFetch(ctx context.Context, endpoint, token, subject string) (identity.Profile, string, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return identity.Profile{}, resultError, "bad endpoint URL"
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return identity.Profile{}, transportResult(ctx, err), err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // keep the connection reusable
		return identity.Profile{}, resultStatus, fmt.Sprintf("status %d", resp.StatusCode)
	}
	switch ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); {
	case ct == "application/jwt":
		return identity.Profile{}, resultUnsupported, "signed (application/jwt) answer"
	case ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json"):
		return identity.Profile{}, resultMalformed, "content type " + ct
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.MaxBodyBytes+1))
	if err != nil {
		return identity.Profile{}, transportResult(ctx, err), "read answer: " + err.Error()
	}
	if int64(len(body)) > r.cfg.MaxBodyBytes {
		return identity.Profile{}, resultTooLarge, fmt.Sprintf("answer larger than %d bytes", r.cfg.MaxBodyBytes)
	}
	p, err := r.parseProfile(body)
	if err != nil {
		return identity.Profile{}, resultMalformed, err.Error()
	}
	if p.Subject != subject { // OIDC Core 5.3.2: the response MUST NOT be used
		return identity.Profile{}, resultSubMismatch, "sub differs from the token's"
	}
	return p, resultOK, ""
}

// transportResult classifies a failed request or body read.
func transportResult(ctx context.Context, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return resultTimeout
	}
	return resultError
}

// parseProfile decodes a userinfo JSON object by exact member names (JSON
// names are case-sensitive: "EMAIL" is not email; a name given twice is
// malformed). String values containing CR, LF or NUL are dropped (left
// empty) and counted; they never reach a header. email_verified keeps its
// three states: true, false (any value but true and "true"), absent.
func (r *Resolver) parseProfile(body []byte) (identity.Profile, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return identity.Profile{}, errors.New("userinfo: response is not a JSON object")
	}
	var p wireProfile
	var groups []byte
	err := claimjson.Members(body, func(name, v []byte) error {
		switch n := string(name); n {
		case "sub":
			s, err := claimjson.String(v)
			p.Subject = s
			return err
		case "email_verified":
			p.EmailVerified = identity.ParseVerified(v)
		case "groups":
			groups = v
		default:
			dst := p.stringClaim(n)
			if dst == nil {
				return nil
			}
			s, err := claimjson.String(v)
			if err != nil {
				return err
			}
			if strings.ContainsAny(s, unsafeChars) {
				r.metrics.dropped.WithLabelValues(n).Inc()
				return nil
			}
			*dst = s
		}
		return nil
	})
	if err != nil {
		return identity.Profile{}, fmt.Errorf("userinfo: response: %w", err)
	}
	if p.Email == "" {
		p.EmailVerified = identity.VerifiedAbsent
	}
	var g any
	if len(groups) > 0 && json.Unmarshal(groups, &g) != nil {
		return identity.Profile{}, errors.New("userinfo: response: malformed groups")
	}
	for _, g := range identity.ParseGroups(g) {
		if strings.ContainsAny(g, unsafeChars) {
			r.metrics.dropped.WithLabelValues("groups").Inc()
			continue
		}
		p.Groups = append(p.Groups, g)
	}
	return p.Profile, nil
}

// wireProfile is a Profile being read from a userinfo response.
type wireProfile struct{ identity.Profile }

// stringClaim is the field of the string claim name, or nil.
func (p *wireProfile) stringClaim(name string) *string {
	switch name {
	case "email":
		return &p.Email
	case "name":
		return &p.Name
	case "given_name":
		return &p.GivenName
	case "family_name":
		return &p.FamilyName
	case "preferred_username":
		return &p.PreferredUsername
	}
	return nil
}

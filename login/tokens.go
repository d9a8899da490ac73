package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxTokenResponse bounds a token endpoint response body.
const maxTokenResponse = 1 << 20

// tokenResponse is a token endpoint's answer (RFC 6749 5.1).
type tokenResponse struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	RefreshToken string    `json:"refresh_token"`
	IDToken      string    `json:"id_token"`
	ExpiresIn    expiresIn `json:"expires_in"`
}

// expiresIn accepts a number or a numeric string (some IdPs send one).
type expiresIn int64

func (e *expiresIn) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*e = 0
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n > 1e9 {
		return errors.New("login: expires_in: not a duration")
	}
	*e = expiresIn(n)
	return nil
}

// expiry is when the access token expires, zero when the IdP did not say.
func (r *tokenResponse) expiry(now time.Time) time.Time {
	if r.ExpiresIn <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(r.ExpiresIn) * time.Second)
}

// tokenError is a refusal from the token endpoint. It carries only the
// status, the RFC 6749 error code and a clipped error_description, never a
// token.
type tokenError struct {
	Status      int
	Code        string
	Description string // printable ASCII, at most maxErrorDescription bytes
}

// maxErrorDescription bounds the IdP's error_description kept for the log.
const maxErrorDescription = 200

// cleanDescription keeps an error_description fit for a log line:
// printable ASCII only, at most maxErrorDescription bytes.
func cleanDescription(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxErrorDescription; i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

func (e *tokenError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("login: token endpoint: status %d", e.Status)
	}
	return fmt.Sprintf("login: token endpoint: status %d: %s", e.Status, e.Code)
}

// isInvalidGrant reports a definite refusal of a code or refresh token, as
// opposed to a fault of the IdP or the network.
func isInvalidGrant(err error) bool {
	var te *tokenError
	return errors.As(err, &te) && (te.Code == "invalid_grant" || te.Status == http.StatusBadRequest)
}

// callToken posts form to the token endpoint with client_secret_basic.
func (f *Flow) callToken(ctx context.Context, endpoint string, form url.Values) (*tokenResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errors.New("login: token endpoint: bad url")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(f.cfg.ClientID), url.QueryEscape(f.cfg.ClientSecret))
	resp, err := f.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: token endpoint: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
	if err != nil {
		return nil, fmt.Errorf("login: token endpoint: read: %w", err)
	}
	if len(body) > maxTokenResponse {
		return nil, errors.New("login: token endpoint: response too large")
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		if !validErrorCode(e.Error) {
			e.Error = ""
		}
		return nil, &tokenError{Status: resp.StatusCode, Code: e.Error, Description: cleanDescription(e.Description)}
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, errors.New("login: token endpoint: response is not a token response")
	}
	if tr.AccessToken == "" {
		return nil, errors.New("login: token endpoint: no access_token")
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return nil, fmt.Errorf("login: token endpoint: token_type %q is not Bearer", clip(tr.TokenType))
	}
	return &tr, nil
}

// clip shortens a value the IdP chose before it goes into an error.
func clip(s string) string {
	if len(s) > 32 || !printableASCII(s) {
		return "(unprintable)"
	}
	return s
}

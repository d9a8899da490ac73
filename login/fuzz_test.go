package login

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzSafeReturnPath: the result is "/" or the input without its fragment,
// and no decoding of it ever leaves the host.
func FuzzSafeReturnPath(f *testing.F) {
	for _, s := range []string{"/", "/a?b=c", "//evil.example", "/%2F%2Fevil", `/\evil`, "/%5Cevil", "/%252F/x", "/\t/x", "https://evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := safeReturnPath(in)
		if out == "/" {
			return
		}
		if base, _, _ := strings.Cut(in, "#"); out != base {
			t.Fatalf("safeReturnPath(%q) = %q, neither / nor the input", in, out)
		}
		path, _, _ := strings.Cut(out, "?")
		for s := path; ; {
			if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, `/\`) || hasControl(s) {
				t.Fatalf("safeReturnPath(%q) = %q decodes to %q", in, out, s)
			}
			d, err := url.PathUnescape(s)
			if err != nil || d == s {
				break
			}
			s = d
		}
		if u, err := url.Parse(out); err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeReturnPath(%q) = %q parses with a host", in, out)
		}
	})
}

// FuzzStripCookies: our cookies never survive, and stripping is idempotent.
func FuzzStripCookies(f *testing.F) {
	f.Add("a=1; idgate_session=x; b=2")
	f.Add(" idgate_session =1;;")
	f.Fuzz(func(t *testing.T, in string) {
		out := stripNamed(in, "idgate_session", "idgate_session_state")
		if len(cookieValues(out, "idgate_session", 10)) != 0 || len(cookieValues(out, "idgate_session_state", 10)) != 0 {
			t.Fatalf("StripCookies(%q) = %q keeps idgate's cookie", in, out)
		}
		if again := stripNamed(out, "idgate_session", "idgate_session_state"); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}

// FuzzFlowStripCookies: none of the flow's cookies (session under either
// name, any state cookie) survives, and stripping is idempotent.
func FuzzFlowStripCookies(f *testing.F) {
	e := MustEnv(f, envOptions{})
	f.Add("a=1; __Host-idgate_session=x; idgate_session=y; b=2")
	f.Add("__Host-idgate_session_state_abcdefghijklmnop=s; idgate_session_state=t")
	f.Fuzz(func(t *testing.T, in string) {
		out := e.flow.StripCookies(in)
		for part := range strings.SplitSeq(out, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if e.flow.isOwnCookie(strings.TrimSpace(name)) {
				t.Fatalf("StripCookies(%q) = %q keeps %q", in, out, name)
			}
		}
		if again := e.flow.StripCookies(out); again != out {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}

// answerTransport answers every request with one canned response.
type answerTransport struct {
	status      int
	contentType string
	body        string
}

func (a answerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Status: http.StatusText(a.status), Request: req,
		Header: http.Header{"Content-Type": {a.contentType}}, Body: io.NopCloser(strings.NewReader(a.body))}, nil
}

// FuzzTokenAnswer: whatever the token endpoint answers, a refusal keeps
// only a valid error code and a printable, bounded description; no error
// carries CR, LF or NUL into a log line; an accepted answer has an access
// token and a sane expires_in.
func FuzzTokenAnswer(f *testing.F) {
	f.Add(200, "application/json", `{"access_token":"a","token_type":"Bearer","expires_in":60,"id_token":"x.y.z"}`)
	f.Add(400, "application/json", `{"error":"invalid_grant","error_description":"a\r\nb"}`)
	f.Add(200, "application/x-www-form-urlencoded", "access_token=a&expires_in=60")
	f.Fuzz(func(t *testing.T, status int, contentType, body string) {
		if status < 100 || status > 999 {
			return
		}
		fl := &Flow{cfg: Config{ClientID: "c", ClientSecret: "s", Timeout: time.Second,
			HTTPClient: &http.Client{Transport: answerTransport{status, contentType, body}}}}
		tr, err := fl.exchange(t.Context(), "https://idp.example/token", "https://app.example/cb", "code", "verifier")
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n\x00") {
				t.Fatalf("error %q is not one log line", err)
			}
			var te *tokenError
			if errors.As(err, &te) && ((te.Code != "" && !validErrorCode(te.Code)) ||
				len(te.Description) > maxErrorDescription || strings.ContainsFunc(te.Description, func(r rune) bool { return r < 0x20 || r >= 0x7f })) {
				t.Fatalf("refusal %+v keeps what a log line must not", te)
			}
			return
		}
		if tr.AccessToken == "" || tr.ExpiresIn < 0 || tr.ExpiresIn > maxExpiresIn {
			t.Fatalf("accepted %+v", tr)
		}
	})
}

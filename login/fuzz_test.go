package login

import (
	"net/url"
	"strings"
	"testing"
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
		out := StripCookies(in, "idgate_session", "idgate_session_state")
		if len(cookieValues(out, "idgate_session", 10)) != 0 || len(cookieValues(out, "idgate_session_state", 10)) != 0 {
			t.Fatalf("StripCookies(%q) = %q keeps idgate's cookie", in, out)
		}
		if again := StripCookies(out, "idgate_session", "idgate_session_state"); again != out {
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

package forwardauth

import (
	"net/http/httptest"
	"testing"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		name       string
		headers    map[string][]string
		wantOK     bool
		wantMethod string
		wantPath   string
		wantHost   string
	}{
		{"traefik", map[string][]string{"X-Forwarded-Method": {"POST"}, "X-Forwarded-Uri": {"/api?x=1"}, "X-Forwarded-Host": {"h.example"}}, true, "POST", "/api?x=1", "h.example"},
		{"nginx", map[string][]string{"X-Original-Uri": {"/api"}, "X-Original-Method": {"PUT"}}, true, "PUT", "/api", "authz.local"},
		{"both agree", map[string][]string{"X-Original-Uri": {"/api"}, "X-Forwarded-Uri": {"/api"}}, true, "GET", "/api", "authz.local"},
		{"client adds the other family", map[string][]string{"X-Original-Uri": {"/admin"}, "X-Forwarded-Uri": {"/healthz"}}, false, "", "", ""},
		{"none: the subrequest itself", nil, true, "GET", "/authz", "authz.local"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://authz.local/authz", nil)
			for k, vs := range tc.headers {
				r.Header[k] = vs
			}
			req, ok := Translate(r)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v", ok)
			}
			if ok && (req.Method != tc.wantMethod || req.Path != tc.wantPath || req.Host != tc.wantHost) {
				t.Fatalf("got %s %s %s", req.Method, req.Host, req.Path)
			}
		})
	}
}

// TestTranslateJoinsCookiesAsOneCookieString: two Cookie headers must not
// hide idgate's session cookie inside another cookie's value ("a=1,
// idgate_session=x" would read as one cookie named a).
func TestTranslateJoinsCookiesAsOneCookieString(t *testing.T) {
	r := httptest.NewRequest("GET", "http://authz.local/authz", nil)
	r.Header["Cookie"] = []string{"a=1", "idgate_session=x"}
	r.Header["X-Multi"] = []string{"1", "2"}
	req, ok := Translate(r)
	if !ok {
		t.Fatal("refused")
	}
	if got := req.Headers["cookie"]; got != "a=1; idgate_session=x" {
		t.Errorf("cookie = %q", got)
	}
	if got := req.Headers["x-multi"]; got != "1,2" {
		t.Errorf("x-multi = %q", got)
	}
}

// TestTranslateHasNoPrincipal: forward-auth has no mTLS peer of the
// original caller (the proxy is idgate's peer), so trusted_forwarders never
// applies here, whatever the request claims.
func TestTranslateHasNoPrincipal(t *testing.T) {
	r := httptest.NewRequest("GET", "https://authz.local/authz", nil)
	r.Header.Set("X-Forwarded-Client-Cert", "By=spiffe://cluster.local/ns/idgate/sa/idgate;URI=spiffe://cluster.local/ns/kubeflow/sa/ml-pipeline-ui")
	r.Header.Set("X-Forwarded-Uri", "/apis/v2beta1/runs")
	req, ok := Translate(r)
	if !ok || req.Principal != "" {
		t.Fatalf("ok=%v principal=%q, want none", ok, req.Principal)
	}
}

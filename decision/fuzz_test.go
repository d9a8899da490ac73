package decision

import (
	"context"
	"strings"
	"testing"
)

// FuzzBearerToken: whatever the client puts in the token headers, extraction
// never panics and never returns a token holding a separator or white space.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b.c", "Basic x", "Bearer", "Bearer  a", "Bearer a,Bearer b", "BEARER \x00", ""} {
		f.Add(s, "Bearer x.y.z")
	}
	f.Fuzz(func(t *testing.T, authz, flyte string) {
		tok, err := bearerToken(map[string]string{"authorization": authz, "flyte-authorization": flyte})
		if err != nil {
			return
		}
		if tok == "" || strings.ContainsAny(tok, " ,\t") {
			t.Fatalf("bad token %q from %q / %q", tok, authz, flyte)
		}
	})
}

// FuzzDecideHeaders: for any header set and path, an allowed request never
// lets a client identity header through and never both sets and removes.
func FuzzDecideHeaders(f *testing.F) {
	f.Add("/api", "kubeflow-userid", "root", "Bearer alice")
	f.Add("/healthz", "X-Amzn-Oidc-Data", "x", "")
	f.Add("/healthz/../admin", "x-auth-request-email", "a@b", "Bearer bob")
	f.Add("/api", "kubeflow_groups", "admins", "Bearer bob")
	f.Add("/healthz", "X_Pomerium_Claim_Email", "a@b", "")
	e := mustEngine(f, testRoutes)
	f.Fuzz(func(t *testing.T, path, name, value, authz string) {
		h := map[string]string{strings.ToLower(name): value}
		if authz != "" {
			h["authorization"] = authz
		}
		res, err := e.Decide(context.Background(), &Request{Method: "GET", Host: "h", Path: path, Headers: h})
		if err != nil || !res.Allowed {
			return
		}
		set := map[string]bool{}
		for _, hd := range res.Set {
			set[hd.Name] = true
			if strings.ContainsAny(hd.Value, "\r\n\x00") {
				t.Fatalf("unsafe value in %s", hd.Name)
			}
		}
		for _, n := range res.Remove {
			if set[n] {
				t.Fatalf("%s set and removed", n)
			}
		}
		n := strings.ToLower(name)
		norm := strings.ReplaceAll(n, "_", "-")
		if contains(e.strip.all, norm) || family(norm) != "" {
			if !set[n] && !contains(res.Remove, n) {
				t.Fatalf("client header %s passes through", n)
			}
		}
	})
}

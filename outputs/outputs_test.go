package outputs

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/identity"
	"github.com/idgate/idgate/internal/testkit/testclock"
	"github.com/idgate/idgate/signing"
)

func TestHeaderValue(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"ascii", "alice@example.com", "alice@example.com", true},
		{"plain ascii unchanged", "alice+ml@example.com", "alice+ml@example.com", true},
		{"percent encoded in ascii", "a%b", "a%25b", true},
		{"literal encoding encoded again", "%C3%A9@corp.com", "%25C3%25A9@corp.com", true},
		{"cr", "alice\r\nx-evil: 1", "", false},
		{"lf", "alice\n", "", false},
		{"nul", "alice\x00", "", false},
		{"del", "alice\x7f", "", false},
		{"tab", "a\tb", "", false},
		{"utf8 encoded", "jürgen@example.com", "j%C3%BCrgen@example.com", true},
		{"utf8 with percent", "ü%", "%C3%BC%25", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := headerValue(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("headerValue(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestGroupsValue(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    string
		dropped int
	}{
		{"one", []string{"admins"}, "admins", 0},
		{"two", []string{"admins", "dev"}, "admins,dev", 0},
		{"comma encoded", []string{"a,b", "c"}, "a%2Cb,c", 0},
		{"crlf dropped", []string{"ok", "bad\r\nx: y"}, "ok", 1},
		{"only bad", []string{"\x00"}, "", 1},
		{"non-ascii", []string{"é"}, "%C3%A9", 0},
		{"literal encoding encoded again", []string{"%C3%A9"}, "%25C3%25A9", 0},
		{"space kept", []string{" admins"}, " admins", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, dropped := groupsValue(tc.in)
			if got != tc.want || dropped != tc.dropped {
				t.Fatalf("groupsValue(%q) = %q, %d; want %q, %d", tc.in, got, dropped, tc.want, tc.dropped)
			}
		})
	}
}

func mustRenderer(t testing.TB, clk *testclock.Clock, prefix string) (*Renderer, *signing.Key) {
	t.Helper()
	key, err := signing.New(signing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{
		UserIDHeader: "kubeflow-userid", UserIDPrefix: prefix, GroupsHeader: "kubeflow-groups",
		FlyteHeader: "x-flyte-identity", FlyteAudience: "flyte", FlyteTTL: 5 * time.Minute,
		Issuer: "idgate", Now: clk.Now,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return r, key
}

func headerMap(hs []identity.Header) map[string]string {
	m := map[string]string{}
	for _, h := range hs {
		m[h.Name] = h.Value
	}
	return m
}

func TestRender(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	base := identity.Identity{
		Issuer: "https://idp", Subject: "u1", Email: "alice@example.com", Name: "Alice A",
		GivenName: "Alice", FamilyName: "A", Groups: []string{"admins", "dev"},
		ExpiresAt: clk.Now().Add(time.Hour),
	}
	tests := []struct {
		name      string
		prefix    string
		mutate    func(*identity.Identity)
		wantUser  string
		wantGroup string
		wantErr   bool
	}{
		{name: "email user", wantUser: "alice@example.com", wantGroup: "admins,dev"},
		{name: "prefix", prefix: "accounts.google.com:", wantUser: "accounts.google.com:alice@example.com", wantGroup: "admins,dev"},
		{name: "sub claim", mutate: func(id *identity.Identity) {
			id.UserClaim = "sub"
			id.Subject = "system:serviceaccount:kubeflow:ml-pipeline-scheduledworkflow"
		},
			wantUser: "system:serviceaccount:kubeflow:ml-pipeline-scheduledworkflow", wantGroup: "admins,dev"},
		{name: "no groups", mutate: func(id *identity.Identity) { id.Groups = nil }, wantUser: "alice@example.com"},
		{name: "crlf email refused", mutate: func(id *identity.Identity) { id.Email = "a@b\r\nkubeflow-userid: root" }, wantErr: true},
		{name: "no user claim: no header", mutate: func(id *identity.Identity) { id.Email = "" }, wantUser: "", wantGroup: "admins,dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, key := mustRenderer(t, clk, tc.prefix)
			id := base
			if tc.mutate != nil {
				tc.mutate(&id)
			}
			got, err := r.Render(nil, &id, "")
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Render = %v, want error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := headerMap(got)
			if m["kubeflow-userid"] != tc.wantUser {
				t.Errorf("userid = %q, want %q", m["kubeflow-userid"], tc.wantUser)
			}
			if g, ok := m["kubeflow-groups"]; g != tc.wantGroup || ok != (tc.wantGroup != "") {
				t.Errorf("groups = %q (%v), want %q", g, ok, tc.wantGroup)
			}
			payload, err := signing.Verify(key.Public(), m["x-flyte-identity"], base64.RawURLEncoding)
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := json.Unmarshal(payload, &claims); err != nil {
				t.Fatal(err)
			}
			if claims["sub"] != id.Subject || claims["iss"] != "idgate" || claims["aud"] != "flyte" || claims["idp"] != "https://idp" || (id.Email != "" && claims["email"] != id.Email) {
				t.Errorf("claims = %v", claims)
			}
			if exp := int64(claims["exp"].(float64)); exp-clk.Now().Unix() != 300 {
				t.Errorf("exp - now = %d, want 300", exp-clk.Now().Unix())
			}
		})
	}
}

func TestFlyteTokenReuse(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	r, _ := mustRenderer(t, clk, "")
	id := identity.Identity{Issuer: "https://idp", Subject: "u1", Email: "a@example.com", ExpiresAt: clk.Now().Add(time.Hour)}
	first := headerMap(mustRender(t, r, &id))["x-flyte-identity"]
	clk.Advance(time.Minute)
	if again := headerMap(mustRender(t, r, &id))["x-flyte-identity"]; again != first {
		t.Fatal("token not reused within margin")
	}
	other := id
	other.Email = "b@example.com"
	if tok := headerMap(mustRender(t, r, &other))["x-flyte-identity"]; tok == first {
		t.Fatal("token reused for a different identity")
	}
	clk.Advance(2 * time.Minute) // 3m into a 5m token: 2m left <= 2.5m margin
	if again := headerMap(mustRender(t, r, &id))["x-flyte-identity"]; again == first {
		t.Fatal("token reused past the margin")
	}
}

func TestFlyteTokenNeverOutlivesSource(t *testing.T) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	r, key := mustRenderer(t, clk, "")
	id := identity.Identity{Issuer: "https://idp", Subject: "u1", Email: "a@example.com", ExpiresAt: clk.Now().Add(20 * time.Second)}
	tok := headerMap(mustRender(t, r, &id))["x-flyte-identity"]
	payload, _ := signing.Verify(key.Public(), tok, base64.RawURLEncoding)
	if !strings.Contains(string(payload), `"exp":1800000020`) {
		t.Fatalf("payload = %s", payload)
	}
}

func mustRender(t testing.TB, r *Renderer, id *identity.Identity) []identity.Header {
	t.Helper()
	out, err := r.Render(nil, id, "")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func BenchmarkRenderWarm(b *testing.B) {
	clk := testclock.New(time.Unix(1_800_000_000, 0))
	r, _ := mustRenderer(b, clk, "")
	id := identity.Identity{Issuer: "https://idp", Subject: "u1", Email: "a@example.com", Groups: []string{"a", "b"}, ExpiresAt: clk.Now().Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		mustRender(b, r, &id)
	}
}

// TestDefaultConfigRenders: the defaults idgate's configuration starts from
// make a valid Renderer that writes the documented header names.
func TestDefaultConfigRenders(t *testing.T) {
	key, err := signing.New(signing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(DefaultConfig(), key)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "kubeflow-userid,kubeflow-groups,x-flyte-identity" {
		t.Fatalf("Names() = %s", got)
	}
}

package outputs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idgate/idgate/signing"
)

// TestNewRefusesFlyteTTL: a Flyte TTL of zero or over 5m is refused naming
// its key, never silently replaced by 5m (a zero the user wrote means zero
// or is refused).
func TestNewRefusesFlyteTTL(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		want string // "" accepts
	}{
		{"zero", 0, "outputs: flyte.ttl: must be positive"},
		{"negative", -time.Second, "outputs: flyte.ttl: must be positive"},
		{"over 5m", 6 * time.Minute, "outputs: flyte.ttl: must be at most 5m0s"},
		{"5m", 5 * time.Minute, ""},
		{"1s", time.Second, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.FlyteTTL = tc.ttl
			_, err := New(cfg, &signing.Key{})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New = %v, want a Renderer", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("New = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestProblemsNameConfigKeys: with config's prefix, each problem names the
// key of idgate's configuration, as config's must-fail table asserts.
func TestProblemsNameConfigKeys(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no userid header", func(c *Config) { c.UserIDHeader = "" }, "outputs.kubeflow.userid_header: required"},
		{"reserved", func(c *Config) { c.GroupsHeader = "Cookie" }, `outputs.kubeflow.groups_header: header "Cookie" is reserved`},
		// "_" for "-": nginx's $upstream_http_x_idgate_remove and a WSGI
		// upstream read these as the reserved or credential header.
		{"reserved with _", func(c *Config) { c.Headers = []HeaderOutput{{Name: "X_Idgate_Remove", Claim: "name"}} },
			`outputs.headers[0].name: header "X_Idgate_Remove" is reserved`},
		{"reserved builtin with _", func(c *Config) { c.UserIDHeader = "content_length" },
			`outputs.kubeflow.userid_header: header "content_length" is reserved`},
		{"credential with _", func(c *Config) { c.Headers = []HeaderOutput{{Name: "Flyte_Authorization", Claim: "sub"}} },
			`outputs.headers[0].name: header "flyte_authorization" is a hop-by-hop or credential header`},
		{"hop-by-hop with _", func(c *Config) { c.Headers = []HeaderOutput{{Name: "proxy_connection", Claim: "sub"}} },
			`outputs.headers[0].name: header "proxy_connection" is a hop-by-hop or credential header`},
		{"invalid name", func(c *Config) { c.Headers = []HeaderOutput{{Name: "x user", Claim: "sub"}} }, `outputs.headers[0].name: invalid header name "x user"`},
		{"no claim", func(c *Config) { c.Headers = []HeaderOutput{{Name: "x-user"}} }, "outputs.headers[0].claim: required"},
		{"credential", func(c *Config) { c.Headers = []HeaderOutput{{Name: "Flyte-Authorization", Claim: "sub"}} },
			`outputs.headers[0].name: header "flyte-authorization" is a hop-by-hop or credential header`},
		{"alb name while off", func(c *Config) { c.Headers = []HeaderOutput{{Name: "X_Amzn_Oidc_Data", Claim: "sub"}} },
			`outputs.headers[0].name: header "x_amzn_oidc_data" is an outputs.alb header`},
		{"alb name while on", func(c *Config) { c.ALB.Enabled = true; c.FlyteHeader = "x-amzn-oidc-identity" },
			`outputs.alb (x-amzn-oidc-identity): header "x-amzn-oidc-identity" is also outputs.flyte.header`},
		{"twice", func(c *Config) { c.Headers = []HeaderOutput{{Name: "kubeflow_userid", Claim: "sub"}} },
			`outputs.headers[0].name: header "kubeflow_userid" is also outputs.kubeflow.userid_header`},
		{"prefix with newline", func(c *Config) { c.UserIDPrefix = "a\nb" }, "outputs.kubeflow.userid_prefix: contains control characters"},
		{"no audience", func(c *Config) { c.FlyteAudience = "" }, "outputs.flyte.audience: required, without control characters"},
		{"alb client with NUL", func(c *Config) { c.ALB.Client = "a\x00" }, "outputs.alb.client: contains control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			ps := cfg.Problems("outputs.")
			if len(ps) != 1 || ps[0].Error() != tc.want {
				t.Fatalf("Problems = %v, want [%s]", errors.Join(ps...), tc.want)
			}
		})
	}
	if cfg := DefaultConfig(); len(cfg.Problems("")) != 0 {
		t.Fatalf("DefaultConfig has problems: %v", cfg.Problems(""))
	}
	// Without a prefix, New reports the same keys under "outputs: ".
	cfg := DefaultConfig()
	cfg.UserIDHeader = ""
	if _, err := New(cfg, &signing.Key{}); err == nil || !strings.Contains(err.Error(), "outputs: kubeflow.userid_header: required") {
		t.Fatalf("New = %v", err)
	}
}

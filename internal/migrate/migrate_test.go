package migrate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idgate/idgate/config"
)

// MustRead parses the named testdata files (a .cfg, an optional .env) and
// flags, merged in oauth2-proxy's order.
func MustRead(tb testing.TB, cfgFile, envFile string, flags ...string) []Setting {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", cfgFile))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	file, err := Parse(f)
	if err != nil {
		tb.Fatal(err)
	}
	var env []Setting
	if envFile != "" {
		e, err := os.Open(filepath.Join("testdata", envFile))
		if err != nil {
			tb.Fatal(err)
		}
		defer e.Close()
		if env, err = ParseEnv(e); err != nil {
			tb.Fatal(err)
		}
	}
	fl, err := ParseFlags(flags)
	if err != nil {
		tb.Fatal(err)
	}
	return Merge(file, env, fl)
}

// MustLoad loads out with the real config package, secrets from env; the
// output must use current keys only.
func MustLoad(tb testing.TB, out string, env ...string) *config.Config {
	tb.Helper()
	c, err := config.Parse(strings.NewReader(out), env)
	if err != nil {
		tb.Fatalf("the output does not load: %v\n%s", err, out)
	}
	if d := c.Deprecations(); len(d) > 0 {
		tb.Fatalf("the output uses renamed keys: %q\n%s", d, out)
	}
	return c
}

// TestKubeflow converts Kubeflow's oauth2-proxy settings (file,
// environment, flags) and loads the result: Dex in-cluster with
// skip_discovery, the login through /dex/auth, Dex public, the Kubernetes
// issuer for pipelines.kubeflow.org, and every setting accounted for, no
// secret printed.
func TestKubeflow(t *testing.T) {
	settings := MustRead(t, "kubeflow.cfg", "kubeflow.env", "--http-address=0.0.0.0:4180", "--config=/etc/oauth2_proxy/oauth2_proxy.cfg")
	out := Convert(settings)
	c := MustLoad(t, out, "IDGATE_LOGIN_CLIENT_SECRET=from-the-secret")
	const dex = "http://dex.auth.svc.cluster.local:5556/dex"

	if len(c.Issuers) != 2 {
		t.Fatalf("issuers = %+v", c.Issuers)
	}
	d := c.Issuers[0]
	if d.Issuer != dex || !d.InsecureHTTP || !d.SkipDiscovery || d.JWKSURI != dex+"/keys" ||
		!slices.Equal(d.Audiences, []string{"kubeflow-oidc-authservice"}) || d.UserClaim != "email" ||
		d.GroupsClaim != "groups" || d.Userinfo == nil || *d.Userinfo || d.EmailDomains != nil {
		t.Errorf("Dex issuer = %+v", d)
	}
	k := c.Issuers[1]
	if k.Issuer != "https://kubernetes.default.svc.cluster.local" || !slices.Equal(k.Audiences, []string{"pipelines.kubeflow.org"}) ||
		k.UserClaim != "sub" || k.Userinfo == nil || *k.Userinfo {
		t.Errorf("Kubernetes issuer = %+v", k)
	}
	l := c.Login
	if l.Issuer != dex || l.ClientID != "kubeflow-oidc-authservice" || l.ClientSecret != "from-the-secret" ||
		l.AuthorizationEndpoint != "/dex/auth" || l.TokenEndpoint != dex+"/token" ||
		!slices.Contains(l.Scopes, "groups") || !slices.Contains(l.Scopes, "openid") ||
		l.CallbackPath != "/oauth2/callback" || l.Cookie.Name != "oauth2_proxy_kubeflow" || l.Cookie.Secure ||
		l.SessionTTL.String() != "24h0m0s" {
		t.Errorf("login = %+v", l)
	}
	if len(c.Routes) != 1 || c.Routes[0].PathPrefix != "/dex/" || !c.Routes[0].Public {
		t.Errorf("routes = %+v", c.Routes)
	}
	for _, secret := range []string{"not-a-real-client-secret-1234", "not-a-real-cookie-secret-5678"} {
		if strings.Contains(out, secret) {
			t.Errorf("the output prints a secret:\n%s", out)
		}
	}
	for _, want := range []string{"IDGATE_LOGIN_CLIENT_SECRET", "IDGATE_LOGIN_SESSION_KEY",
		"# not carried over: set_xauthrequest = \"true\": ", "# not carried over: api_routes = ",
		"# not carried over: ssl_insecure_skip_verify = ", "# not carried over: cookie_secret = (secret, not printed): ",
		"# not carried over: http_address = \"0.0.0.0:4180\": "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, s := range settings {
		if !strings.Contains(out, ": "+s.Key+" = ") {
			t.Errorf("setting %s (%s) is not accounted for in the output", s.Key, s.Source)
		}
	}
	if strings.Contains(out, "HOME") {
		t.Error("a variable that is not OAUTH2_PROXY_* was read")
	}
}

// TestConvert: one setting at a time, the output loads and carries it (or
// says why not).
func TestConvert(t *testing.T) {
	const base = "provider = \"oidc\"\noidc_issuer_url = \"https://idp.example.com\"\nclient_id = \"app\"\nclient_secret = \"s3cr3t-value\"\n"
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte("from-a-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   string
		env   []string // the environment idgate loads with; nil: IDGATE_LOGIN_CLIENT_SECRET
		want  []string // substrings of the output
		check func(t *testing.T, c *config.Config)
	}{
		{name: "plain https issuer", cfg: base, check: func(t *testing.T, c *config.Config) {
			if c.Issuers[0].InsecureHTTP || c.Issuers[0].SkipDiscovery || c.Login.ClientID != "app" {
				t.Errorf("%+v %+v", c.Issuers[0], c.Login)
			}
		}},
		{name: "allowed groups after public routes", cfg: base + "skip_auth_routes = [\"GET=^/healthz$\", \"^/static/.*\", \"^/a(b|c)\"]\nallowed_groups = [\"admins\"]\n",
			want: []string{"# not carried over: skip_auth_routes = \"[GET=^/healthz$,^/a(b|c)]\": idgate routes are path prefixes"},
			check: func(t *testing.T, c *config.Config) {
				if len(c.Routes) != 2 || c.Routes[0].PathPrefix != "/static/" || !c.Routes[0].Public ||
					c.Routes[1].PathPrefix != "/" || !slices.Equal(c.Routes[1].AllowGroups, []string{"admins"}) {
					t.Errorf("routes = %+v", c.Routes)
				}
			}},
		{name: "method-scoped literal route", cfg: base + "skip_auth_routes = [\"GET=^/docs/v1\\\\.0/\"]\n",
			check: func(t *testing.T, c *config.Config) {
				if len(c.Routes) != 1 || c.Routes[0].PathPrefix != "/docs/v1.0/" || !slices.Equal(c.Routes[0].Methods, []string{"GET"}) {
					t.Errorf("routes = %+v", c.Routes)
				}
			}},
		{name: "preflight", cfg: base + "skip_auth_preflight = true\n", check: func(t *testing.T, c *config.Config) {
			if len(c.Routes) != 1 || !slices.Equal(c.Routes[0].Methods, []string{"OPTIONS"}) || !c.Routes[0].Public {
				t.Errorf("routes = %+v", c.Routes)
			}
		}},
		{name: "email domains and claims", cfg: base + "email_domains = [\"Corp.example\"]\noidc_email_claim = \"upn\"\noidc_groups_claim = \"roles\"\ninsecure_oidc_allow_unverified_email = true\n",
			check: func(t *testing.T, c *config.Config) {
				is := c.Issuers[0]
				if !slices.Equal(is.EmailDomains, []string{"corp.example"}) || is.UserClaim != "upn" || is.GroupsClaim != "roles" || is.EmailVerified != "ignore" {
					t.Errorf("issuer = %+v", is)
				}
			}},
		{name: "wildcard email domain", cfg: base + "email_domains = [\"*.corp.example\"]\n",
			want: []string{"# not carried over: email_domains = "}},
		{name: "jwks on another host", cfg: base + "oidc_jwks_url = \"https://keys.example.com/jwks\"\n", check: func(t *testing.T, c *config.Config) {
			if !slices.Equal(c.Issuers[0].AllowedHosts, []string{"keys.example.com"}) {
				t.Errorf("issuer = %+v", c.Issuers[0])
			}
		}},
		{name: "secret file", cfg: strings.Replace(base, "client_secret = \"s3cr3t-value\"", "client_secret_file = \""+secretFile+"\"", 1),
			env: []string{}, check: func(t *testing.T, c *config.Config) {
				if c.Login.ClientSecret != "from-a-file" {
					t.Errorf("client secret not read from client_secret_file")
				}
			}},
		{name: "scope without openid", cfg: base + "scope = \"email groups\"\n", check: func(t *testing.T, c *config.Config) {
			if !slices.Equal(c.Login.Scopes, []string{"openid", "email", "groups"}) {
				t.Errorf("scopes = %q", c.Login.Scopes)
			}
		}},
		{name: "absolute redirect url, cookie, metrics", cfg: base + "redirect_url = \"https://app.example.com/auth/cb\"\ncookie_domains = [\".example.com\"]\ncookie_samesite = \"strict\"\nmetrics_address = \"0.0.0.0:44180\"\n",
			check: func(t *testing.T, c *config.Config) {
				if c.Login.CallbackPath != "/auth/cb" || c.Login.Cookie.Domain != "example.com" || c.Login.Cookie.SameSite != "strict" || c.Server.MetricsAddr != ":44180" {
					t.Errorf("login = %+v server = %+v", c.Login, c.Server)
				}
			}},
		{name: "unknown setting", cfg: base + "frobnicate = 3\n", want: []string{"# not carried over: frobnicate = \"3\": not a setting idgate migrate knows"}},
		{name: "github provider", cfg: "provider = \"github\"\nclient_id = \"x\"\n",
			want: []string{"# not carried over: provider = \"github\"", "no issuer, no login"}},
		{name: "unsafe login url", cfg: base + "login_url = \"//evil.example/auth\"\n", want: []string{"# not carried over: login_url = "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(strings.NewReader(tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			out := Convert(s)
			env := tc.env
			if env == nil {
				env = []string{"IDGATE_LOGIN_CLIENT_SECRET=x"}
			}
			c := MustLoad(t, out, env...)
			if strings.Contains(out, "s3cr3t-value") {
				t.Errorf("the output prints the secret:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Setting
		wantErr string
	}{
		{name: "scalars", in: "a = \"x y\"\nb = true # comment\nc = 24\nd = 'single'\n",
			want: []Setting{{Key: "a", Values: []string{"x y"}}, {Key: "b", Values: []string{"true"}}, {Key: "c", Values: []string{"24"}}, {Key: "d", Values: []string{"single"}}}},
		{name: "multi-line list with comments and trailing comma", in: "l = [\n  \"a\", # one\n  \"b\",\n]\n",
			want: []Setting{{Key: "l", Values: []string{"a", "b"}, List: true}}},
		{name: "empty list", in: "l = []", want: []Setting{{Key: "l", Values: []string{}, List: true}}},
		{name: "escapes", in: `s = "a\"b\\c"`, want: []Setting{{Key: "s", Values: []string{`a"b\c`}}}},
		{name: "dashes and case", in: "Client-ID = \"x\"", want: []Setting{{Key: "client_id", Values: []string{"x"}}}},
		{name: "CRLF", in: "a = \"x\"\r\nb = 1\r\n", want: []Setting{{Key: "a", Values: []string{"x"}}, {Key: "b", Values: []string{"1"}}}},
		{name: "missing equals", in: "a \"x\"", wantErr: "line 1: a: expected '='"},
		{name: "unterminated string", in: "a = \"x\nb = 1", wantErr: "line 1: a: unterminated string"},
		{name: "unterminated list", in: "a = [\"x\",\n", wantErr: "unterminated list"},
		{name: "junk after value", in: "a = \"x\" \"y\"", wantErr: "unexpected"},
		{name: "no key", in: "= 1", wantErr: "expected a key"},
		{name: "bad escape", in: `a = "\q"`, wantErr: "unsupported escape"},
		{name: "error line number", in: "a = 1\n\n# c\nb ==", wantErr: "line 4:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i].Key != tc.want[i].Key || got[i].List != tc.want[i].List || !slices.Equal(got[i].Values, tc.want[i].Values) {
					t.Errorf("[%d] = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseEnvAndFlags(t *testing.T) {
	env, err := ParseEnv(strings.NewReader("OAUTH2_PROXY_COOKIE_SECURE=\"false\"\nexport OAUTH2_PROXY_CLIENT_ID=x\nPATH=/bin\nOAUTH2_PROXY_BAD\x00NAME=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(env) != 2 || env[0].Key != "cookie_secure" || env[0].Value() != "false" || env[1].Key != "client_id" {
		t.Fatalf("env = %+v", env)
	}
	flags, err := ParseFlags([]string{"--http-address=0.0.0.0:4180", "--skip-provider-button", "--config=/x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(flags) != 2 || flags[0].Key != "http_address" || flags[1].Value() != "true" {
		t.Fatalf("flags = %+v", flags)
	}
	if _, err := ParseFlags([]string{"stray"}); err == nil {
		t.Fatal("a non-flag argument was accepted")
	}
	merged := Merge([]Setting{{Key: "a", Values: []string{"file"}}, {Key: "b", Values: []string{"file"}}},
		[]Setting{{Key: "a", Values: []string{"env"}}}, []Setting{{Key: "a", Values: []string{"flag"}}})
	if len(merged) != 2 || merged[0].Value() != "flag" || merged[1].Value() != "file" {
		t.Fatalf("Merge = %+v", merged)
	}
}

// TestConvertHidesSecretsNotNamedSecret: secrets oauth2-proxy keeps under
// other names (a URL's password, jwt_key's PEM, github_token) never reach
// the output's comments; a plain switch is still shown.
func TestConvertHidesSecretsNotNamedSecret(t *testing.T) {
	const cfg = "provider = \"oidc\"\noidc_issuer_url = \"https://idp.example.com\"\nclient_id = \"app\"\n" +
		"redis_connection_url = \"redis://:hunter2-redis-pw@redis:6379/0\"\n" +
		"redis_sentinel_connection_urls = [ \"redis://user:sentinel-pw-42@s1:26379\" ]\n" +
		"jwt_key = \"-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA\"\n" +
		"github_token = \"ghp_0123456789abcdef\"\n" +
		"upstreams = [ \"http://u:upstream-pw-77@app:8080/\" ]\n" +
		"pass_access_token = true\n"
	settings, err := Parse(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	out := Convert(settings)
	for _, secret := range []string{"hunter2-redis-pw", "sentinel-pw-42", "MIIEpAIBAAKCAQEA", "ghp_0123456789abcdef", "upstream-pw-77"} {
		if strings.Contains(out, secret) {
			t.Errorf("the output prints %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"redis_connection_url = \"redis://REDACTED@redis:6379/0\"", "jwt_key = (secret, not printed)",
		"github_token = (secret, not printed)", "pass_access_token = \"true\""} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
}

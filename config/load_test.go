package config

import (
	"crypto/elliptic"
	"strings"
	"testing"
	"time"
)

// secret is set as the Redis password in every must-fail case; no error may
// contain it.
const secret = "s3cret-hunter2"

const minimalIssuer = `
issuers:
  - issuer: https://idp.example.com
    audiences: [flyte]
`

func TestLoadGood(t *testing.T) {
	dir := t.TempDir()
	pwFile := MustWriteFile(t, dir, "pw", []byte(secret+"\n"))
	sec1 := MustWriteFile(t, dir, "sec1.pem", MustECKeyPEM(t, elliptic.P256(), true))
	pkcs8 := MustWriteFile(t, dir, "pkcs8.pem", MustECKeyPEM(t, elliptic.P256(), false))
	ca := MustWriteFile(t, dir, "ca.pem", MustCAPEM(t))
	cacheKey := MustWriteFile(t, dir, "cache-key", []byte(strings.Repeat("k", 32)+"\n"))
	prevKey := MustWriteFile(t, dir, "prev-key", []byte("cHJldmlvdXMgY2FjaGUga2V5LCB0aGlydHktdHdvIGJ5dGVz\n")) // base64 of 32 bytes

	tests := []struct {
		name  string
		yaml  string
		env   []string
		check func(t *testing.T, c *Config)
	}{
		{"empty file is default", "", nil, func(t *testing.T, c *Config) {
			if !sameConfig(c, Default()) {
				t.Errorf("got %+v", c)
			}
		}},
		{"issuer defaults applied", minimalIssuer, nil, func(t *testing.T, c *Config) {
			iss := c.Issuers[0]
			if iss.UserClaim != "email" || iss.GroupsClaim != "groups" || iss.Userinfo != nil ||
				iss.EmailVerified != "if_present" || iss.EmailDomains != nil || iss.UserIDPrefix != nil {
				t.Errorf("issuer defaults: %+v", iss)
			}
			if c.Server.GRPCAddr != ":9001" || c.Tokens.ClockSkew != 30*time.Second {
				t.Errorf("global defaults lost: %+v", c)
			}
		}},
		{"partial section keeps other defaults", "server: {grpc_addr: '127.0.0.1:0'}\nredis: {db: 2}", nil,
			func(t *testing.T, c *Config) {
				if c.Server.GRPCAddr != "127.0.0.1:0" || c.Server.HTTPAddr != ":8080" {
					t.Errorf("server = %+v", c.Server)
				}
				if c.Redis.DB != 2 || c.Redis.KeyPrefix != "idgate:" {
					t.Errorf("redis = %+v", c.Redis)
				}
			}},
		{"loopback http issuers, userinfo false", `
issuers:
  - {issuer: "http://127.0.0.1:5556/dex", audiences: [a], userinfo: false}
  - {issuer: "http://localhost:8080", audiences: [a], userinfo: true, user_claim: sub}
  - {issuer: "http://[::1]:9000/realms/x", audiences: [a], jwks_uri: "https://keys.example.com/jwks", allowed_hosts: [KEYS.example.com]}
`, nil, func(t *testing.T, c *Config) {
			if u := c.Issuers[0].Userinfo; u == nil || *u {
				t.Errorf("issuers[0].userinfo = %v, want false", u)
			}
			if u := c.Issuers[1].Userinfo; u == nil || !*u || c.Issuers[1].UserClaim != "sub" {
				t.Errorf("issuers[1] = %+v", c.Issuers[1])
			}
			if h := c.Issuers[2].AllowedHosts[0]; h != "keys.example.com" {
				t.Errorf("allowed_hosts not lower-cased: %q", h)
			}
		}},
		{"in-cluster dex: insecure_http, skip_discovery, login endpoints", `
issuers:
  - issuer: http://dex.auth.svc.cluster.local:5556/dex
    audiences: [kubeflow-oidc-authservice]
    insecure_http: true
    skip_discovery: true
    jwks_uri: http://dex.auth.svc.cluster.local:5556/dex/keys
    userinfo_endpoint: http://dex.auth.svc.cluster.local:5556/dex/userinfo
login:
  issuer: http://dex.auth.svc.cluster.local:5556/dex
  client_id: kubeflow-oidc-authservice
  authorization_endpoint: /dex/auth
  token_endpoint: http://dex.auth.svc.cluster.local:5556/dex/token
  scopes: [openid, email, groups]
`, []string{"IDGATE_LOGIN_CLIENT_SECRET=s"}, func(t *testing.T, c *Config) {
			iss := c.Issuers[0]
			if !iss.InsecureHTTP || !iss.SkipDiscovery || iss.UserinfoEndpoint != "http://dex.auth.svc.cluster.local:5556/dex/userinfo" {
				t.Errorf("issuer = %+v", iss)
			}
			if c.Login.AuthorizationEndpoint != "/dex/auth" || c.Login.TokenEndpoint != "http://dex.auth.svc.cluster.local:5556/dex/token" {
				t.Errorf("login = %+v", c.Login)
			}
		}},
		{"login endpoints: absolute authorization URL with a query", minimalIssuer + `
login: {issuer: "https://idp.example.com", client_id: c, authorization_endpoint: "https://login.example.com/auth?kc_idp_hint=corp", token_endpoint: "https://idp.example.com/token"}
`, []string{"IDGATE_LOGIN_CLIENT_SECRET=s"}, func(t *testing.T, c *Config) {
			if c.Login.AuthorizationEndpoint != "https://login.example.com/auth?kc_idp_hint=corp" {
				t.Errorf("login = %+v", c.Login)
			}
		}},
		{"issuer email rules", `
issuers:
  - {issuer: "https://corp.example.com", audiences: [a], email_verified: required, email_domains: [Corp.COM]}
  - {issuer: "https://social.example.com", audiences: [a], email_verified: ignore, userid_prefix: "social:"}
  - {issuer: "https://plain.example.com", audiences: [a], userid_prefix: ""}
`, nil, func(t *testing.T, c *Config) {
			if is := c.Issuers[0]; is.EmailVerified != "required" || len(is.EmailDomains) != 1 || is.EmailDomains[0] != "corp.com" || is.UserIDPrefix != nil {
				t.Errorf("issuers[0] = %+v", is)
			}
			if is := c.Issuers[1]; is.EmailVerified != "ignore" || is.UserIDPrefix == nil || *is.UserIDPrefix != "social:" {
				t.Errorf("issuers[1] = %+v", is)
			}
			if p := c.Issuers[2].UserIDPrefix; p == nil || *p != "" {
				t.Errorf("issuers[2].userid_prefix = %v, want an explicit empty prefix", p)
			}
		}},
		{"durations in go syntax", "tokens: {clock_skew: 1m30s, max_stale: 0}\nuserinfo: {timeout: 150ms}\noutputs: {flyte: {ttl: 90s}}", nil,
			func(t *testing.T, c *Config) {
				if c.Tokens.ClockSkew != 90*time.Second || c.Userinfo.Timeout != 150*time.Millisecond ||
					c.Tokens.MaxStale != 0 || c.Outputs.Flyte.TTL != 90*time.Second {
					t.Errorf("durations: %v %v %v %v", c.Tokens.ClockSkew, c.Userinfo.Timeout, c.Tokens.MaxStale, c.Outputs.Flyte.TTL)
				}
			}},
		{"names normalized", `
outputs:
  kubeflow: {userid_header: X-User, groups_header: X-Groups}
  strip_headers: [X-Forwarded-User, X-Auth-Request-Email]
routes:
  - {path_prefix: /healthz, public: true, methods: [get, Head], hosts: [API.example.com]}
  - {path_prefix: /admin, allow_groups: [admins], allow_email_domains: [Example.COM], mode: shadow, allow_encoded_slashes: true}
`, nil, func(t *testing.T, c *Config) {
			o := c.Outputs
			if o.Kubeflow.UserIDHeader != "x-user" || o.Kubeflow.GroupsHeader != "x-groups" ||
				strings.Join(o.StripHeaders, ",") != "x-forwarded-user,x-auth-request-email" {
				t.Errorf("outputs = %+v", o)
			}
			r := c.Routes
			if strings.Join(r[0].Methods, ",") != "GET,HEAD" || r[0].Hosts[0] != "api.example.com" ||
				r[1].AllowEmailDomains[0] != "example.com" || r[1].Mode != ModeShadow || r[0].AllowEncodedSlashes || !r[1].AllowEncodedSlashes {
				t.Errorf("routes = %+v", r)
			}
		}},
		{"env overrides scalars, lists, durations", "server: {grpc_addr: ':1'}\nredis: {addrs: [file:1], key_file: " + cacheKey + "}", []string{
			"IDGATE_SERVER_GRPC_ADDR=:7000",
			"IDGATE_REDIS_ADDRS=r1:6379, r2:6379 ,",
			"IDGATE_TOKENS_REFRESH_MIN_INTERVAL=10s",
			"IDGATE_TOKENS_CACHE_SIZE=5",
			"IDGATE_OUTPUTS_ALB_ENABLED=true",
			"IDGATE_OUTPUTS_STRIP_HEADERS=X-A,x-b",
			"IDGATE_REDIS_PASSWORD=" + secret,
		}, func(t *testing.T, c *Config) {
			if c.Server.GRPCAddr != ":7000" || c.Tokens.RefreshMinInterval != 10*time.Second ||
				c.Tokens.CacheSize != 5 || !c.Outputs.ALB.Enabled || c.Redis.Password != secret {
				t.Errorf("scalars: %+v", c)
			}
			if got := strings.Join(c.Redis.Addrs, ","); got != "r1:6379,r2:6379" {
				t.Errorf("addrs = %q", got)
			}
			if got := strings.Join(c.Outputs.StripHeaders, ","); got != "x-a,x-b" {
				t.Errorf("strip_headers = %q", got)
			}
		}},
		{"env empty list clears the file's", "redis: {addrs: [file:1]}", []string{"IDGATE_REDIS_ADDRS="},
			func(t *testing.T, c *Config) {
				if len(c.Redis.Addrs) != 0 {
					t.Errorf("addrs = %q", c.Redis.Addrs)
				}
			}},
		{"env JSON issuers and routes replace the file's", minimalIssuer, []string{
			`IDGATE_ISSUERS=[{"issuer":"https://a.example.com","audiences":["x","y"],"userinfo":false},{"issuer":"https://b.example.com","audiences":["z"],"user_claim":"sub"}]`,
			`IDGATE_ROUTES=[{"path_prefix":"/healthz","public":true}]`,
		}, func(t *testing.T, c *Config) {
			if len(c.Issuers) != 2 || c.Issuers[0].Issuer != "https://a.example.com" ||
				len(c.Issuers[0].Audiences) != 2 || *c.Issuers[0].Userinfo ||
				c.Issuers[1].UserClaim != "sub" || c.Issuers[1].GroupsClaim != "groups" {
				t.Errorf("issuers = %+v", c.Issuers)
			}
			if len(c.Routes) != 1 || !c.Routes[0].Public {
				t.Errorf("routes = %+v", c.Routes)
			}
		}},
		{"env empty JSON list clears the file's", minimalIssuer, []string{"IDGATE_ISSUERS="},
			func(t *testing.T, c *Config) {
				if len(c.Issuers) != 0 {
					t.Errorf("issuers = %+v", c.Issuers)
				}
			}},
		{"later env entry wins", "", []string{"IDGATE_LOG_LEVEL=debug", "IDGATE_LOG_LEVEL=WARN"},
			func(t *testing.T, c *Config) {
				if c.Log.Level != "warn" {
					t.Errorf("log.level = %q", c.Log.Level)
				}
			}},
		{"password_file read and cleared", "redis: {addrs: [r:6379], key_file: " + cacheKey + ", username: idgate, password_file: " + pwFile + "}", nil,
			func(t *testing.T, c *Config) {
				if r := c.Redis; r.Password != secret || r.PasswordFile != "" {
					t.Errorf("password %q, password_file %q", r.Password, r.PasswordFile)
				}
				if err := c.Validate(); err != nil {
					t.Errorf("loaded config does not validate again: %v", err)
				}
			}},
		{"signing key SEC1", "signing: {key_file: " + sec1 + "}", nil, func(t *testing.T, c *Config) {}},
		{"signing key PKCS8", "signing: {key_file: " + pkcs8 + "}", nil, func(t *testing.T, c *Config) {}},
		{"redis sentinel over TLS with CA", "redis: {addrs: ['s1:26379', 's2:26379'], key_file: " + cacheKey + ", master_name: mymaster, db: 3, tls: {enabled: true, ca_file: " + ca + "}}", nil,
			func(t *testing.T, c *Config) {
				if c.Redis.MasterName != "mymaster" || c.Redis.DB != 3 {
					t.Errorf("redis = %+v", c.Redis)
				}
			}},
		{"redis cache keys from key_file and previous_key_file", "redis: {addrs: [r:6379], key_file: " + cacheKey + ", previous_key_file: " + prevKey + "}", nil,
			func(t *testing.T, c *Config) {
				keys, err := c.CacheKeys()
				if err != nil || len(keys) != 2 || string(keys[0]) != strings.Repeat("k", 32) || string(keys[1]) != "previous cache key, thirty-two bytes" {
					t.Errorf("CacheKeys() = %q, %v", keys, err)
				}
			}},
		{"the login session key seals the redis cache without key_file", "redis: {addrs: [r:6379]}",
			[]string{"IDGATE_LOGIN_SESSION_KEY=" + strings.Repeat("s", 32)},
			func(t *testing.T, c *Config) {
				keys, err := c.CacheKeys()
				if err != nil || len(keys) != 1 || string(keys[0]) != strings.Repeat("s", 32) {
					t.Errorf("CacheKeys() = %q, %v", keys, err)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tc.yaml), tc.env)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, c)
		})
	}
}

// TestTrustedForwardersLoad: header names are stored lower-case, and a
// custom output header may be forwarded.
func TestTrustedForwardersLoad(t *testing.T) {
	c, err := Parse(strings.NewReader(`
outputs: {kubeflow: {userid_header: x-kf-user}}
trusted_forwarders:
  - principal: spiffe://cluster.local/ns/kubeflow/sa/ml-pipeline-ui
    headers: [X-KF-User, Kubeflow-Groups]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.TrustedForwarders[0].Headers; len(got) != 2 || got[0] != "x-kf-user" || got[1] != "kubeflow-groups" {
		t.Fatalf("headers = %v", got)
	}
}

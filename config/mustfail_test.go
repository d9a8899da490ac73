package config

import (
	"crypto/elliptic"
	"strings"
	"testing"
)

func TestLoadMustFail(t *testing.T) {
	dir := t.TempDir()
	p384 := MustWriteFile(t, dir, "p384.pem", MustECKeyPEM(t, elliptic.P384(), false))
	rsaKey := MustWriteFile(t, dir, "rsa.pem", MustRSAKeyPEM(t))
	notPEM := MustWriteFile(t, dir, "garbage", []byte("not a key "+secret))
	pwFile := MustWriteFile(t, dir, "pw", []byte(secret))
	emptyFile := MustWriteFile(t, dir, "empty", nil)
	shortKey := MustWriteFile(t, dir, "short-key", []byte("short "+secret))
	goodKey := MustWriteFile(t, dir, "good-key", []byte(secret+secret+secret))

	tests := []struct {
		name       string
		yaml       string
		env        []string
		noPassword bool     // do not set the Redis password from the env
		want       []string // substrings of the error, the first naming the key
	}{
		{name: "unknown top-level key", yaml: "bogus: 1", want: []string{"config: bogus: unknown key"}},
		{name: "unknown nested key", yaml: "server: {grpc: ':1'}", want: []string{"server.grpc: unknown key"}},
		{name: "issuer key typo", yaml: "issuers: [{issuer: 'https://i', audience: [a]}]",
			want: []string{"issuers[0].audience: unknown key", "issuers[0].audiences: required"}},
		{name: "unknown key in env JSON", env: []string{`IDGATE_ROUTES=[{"path_prefix":"/","public":true,"pubic":1}]`},
			want: []string{"routes[0].pubic: unknown key"}},
		{name: "missing audiences", yaml: "issuers: [{issuer: 'https://i'}]", want: []string{"issuers[0].audiences: required"}},
		{name: "empty audience", yaml: "issuers: [{issuer: 'https://i', audiences: ['']}]", want: []string{"issuers[0].audiences[0]: empty"}},
		{name: "missing issuer", yaml: "issuers: [{audiences: [a]}]", want: []string{"issuers[0].issuer: required"}},
		{name: "http non-loopback issuer", yaml: minimalIssuer + "  - {issuer: 'http://idp.example.com', audiences: [a]}",
			want: []string{"issuers[1].issuer: plain http only allowed for loopback hosts"}},
		{name: "relative issuer", yaml: "issuers: [{issuer: idp.example.com, audiences: [a]}]", want: []string{"issuers[0].issuer:", "not an absolute"}},
		{name: "issuer with credentials", yaml: "issuers: [{issuer: 'https://u:" + secret + "@idp', audiences: [a]}]",
			want: []string{"issuers[0].issuer: must not contain credentials"}},
		{name: "issuer with query", yaml: "issuers: [{issuer: 'https://idp/?x=1', audiences: [a]}]", want: []string{"issuers[0].issuer: must not have a query"}},
		{name: "duplicate issuer", yaml: minimalIssuer + "  - {issuer: 'https://idp.example.com', audiences: [b]}",
			want: []string{"issuers[1].issuer: duplicate of issuers[0]"}},
		{name: "http jwks_uri", yaml: "issuers: [{issuer: 'https://i', audiences: [a], jwks_uri: 'http://i/keys'}]",
			want: []string{"issuers[0].jwks_uri: plain http"}},
		{name: "jwks_uri on a foreign host", yaml: "issuers: [{issuer: 'https://i', audiences: [a], jwks_uri: 'https://evil/keys'}]",
			want: []string{"issuers[0].jwks_uri: host \"evil\""}},
		{name: "bad allowed host", yaml: "issuers: [{issuer: 'https://i', audiences: [a], allowed_hosts: ['https://x/']}]",
			want: []string{"issuers[0].allowed_hosts[0]: invalid host"}},
		{name: "userinfo not a bool", yaml: "issuers: [{issuer: 'https://i', audiences: [a], userinfo: maybe}]",
			want: []string{"issuers[0].userinfo:"}},
		{name: "bad email_verified", yaml: "issuers: [{issuer: 'https://i', audiences: [a], email_verified: yes}]",
			want: []string{"issuers[0].email_verified: must be if_present, required or ignore"}},
		{name: "wildcard email domain", yaml: "issuers: [{issuer: 'https://i', audiences: [a], email_domains: ['*.corp.com']}]",
			want: []string{"issuers[0].email_domains[0]: invalid domain"}},
		{name: "empty email domain", yaml: "issuers: [{issuer: 'https://i', audiences: [a], email_domains: ['']}]",
			want: []string{"issuers[0].email_domains[0]: invalid domain"}},
		{name: "issuer userid_prefix with CR LF", yaml: "issuers: [{issuer: 'https://i', audiences: [a], userid_prefix: \"a\\r\\nb\"}]",
			want: []string{"issuers[0].userid_prefix: contains control characters"}},
		{name: "forwarder without principal", yaml: "trusted_forwarders: [{headers: [kubeflow-userid]}]",
			want: []string{"trusted_forwarders[0].principal: required"}},
		{name: "forwarder wildcard", yaml: "trusted_forwarders: [{principal: 'spiffe://cluster.local/ns/kubeflow/sa/*', headers: [kubeflow-userid]}]",
			want: []string{"trusted_forwarders[0].principal: must be one exact principal"}},
		{name: "forwarder twice", yaml: "trusted_forwarders: [{principal: 'spiffe://a', headers: [kubeflow-userid]}, {principal: 'spiffe://a', headers: [kubeflow-groups]}]",
			want: []string{"trusted_forwarders[1].principal: duplicate of trusted_forwarders[0].principal"}},
		{name: "forwarder without headers", yaml: "trusted_forwarders: [{principal: 'spiffe://a'}]",
			want: []string{"trusted_forwarders[0].headers: required"}},
		{name: "forwarder header not an identity header", yaml: "trusted_forwarders: [{principal: 'spiffe://a', headers: [kubeflow-userid, x-tenant]}]",
			want: []string{"trusted_forwarders[0].headers[1]: \"x-tenant\" is not an identity header idgate strips"}},
		{name: "forwarder unknown key from env", env: []string{`IDGATE_TRUSTED_FORWARDERS=[{"principal":"spiffe://a","header":["kubeflow-userid"]}]`},
			want: []string{"trusted_forwarders[0].header: unknown key"}},
		{name: "bad duration", yaml: "tokens: {clock_skew: 5x}", want: []string{"tokens.clock_skew: invalid duration \"5x\""}},
		{name: "bare number duration", yaml: "userinfo: {timeout: 150}", want: []string{"userinfo.timeout: invalid duration"}},
		{name: "bad duration from env", env: []string{"IDGATE_REDIS_DIAL_TIMEOUT=fast"}, want: []string{"redis.dial_timeout: invalid duration"}},
		{name: "clock skew too large", yaml: "tokens: {clock_skew: 1h}", want: []string{"tokens.clock_skew: must be at most 5m0s"}},
		{name: "zero refresh interval", yaml: "tokens: {refresh_min_interval: 0s}", want: []string{"tokens.refresh_min_interval: must be positive"}},
		{name: "zero userinfo timeout", yaml: "userinfo: {timeout: 0s}", want: []string{"userinfo.timeout: must be positive"}},
		{name: "negative token cache size", yaml: "tokens: {cache_size: -1}", want: []string{"tokens.cache_size: must not be negative"}},
		{name: "negative local cache size", yaml: "cache: {local_size: -5}", want: []string{"cache.local_size: must not be negative"}},
		{name: "negative ttl", yaml: "cache: {profile_ttl: -1s}", want: []string{"cache.profile_ttl: must not be negative"}},
		{name: "size not a number", env: []string{"IDGATE_TOKENS_CACHE_SIZE=lots"}, want: []string{"tokens.cache_size:"}},
		{name: "section is a scalar", yaml: "server: 5", want: []string{"server:"}},
		{name: "invalid yaml", yaml: "server: [\n", want: []string{"config: parse yaml:"}},
		{name: "bad grpc addr", yaml: "server: {grpc_addr: x}", want: []string{`server.grpc_addr: invalid address "x"`}},
		{name: "bad port", yaml: "server: {http_addr: ':99999'}", want: []string{"server.http_addr: invalid address"}},
		{name: "same listen addr", yaml: "server: {grpc_addr: ':8080'}", want: []string{"server.http_addr: same as server.grpc_addr"}},
		{name: "bad metrics addr", yaml: "server: {metrics_addr: 'nope'}", want: []string{`server.metrics_addr: invalid address "nope"`}},
		{name: "metrics addr is the http addr", yaml: "server: {metrics_addr: ':8080'}", want: []string{"server.metrics_addr: same as another server address"}},
		{name: "bad authz path", yaml: "server: {authz_path: authz}", want: []string{"server.authz_path:"}},
		{name: "bad log level", yaml: "log: {level: loud}", want: []string{"log.level: \"loud\""}},
		{name: "bad log format", yaml: "log: {format: xml}", want: []string{"log.format:"}},
		{name: "bad decision log", yaml: "log: {decisions: some}", want: []string{`log.decisions: "some" is not one of all, denied, none`}},
		{name: "route without path_prefix", yaml: "routes: [{path_prefix: /a, public: true}, {path_prefix: /b}, {public: true}]",
			want: []string{"routes[2].path_prefix: required"}},
		{name: "route path without slash", yaml: "routes: [{path_prefix: admin}]", want: []string{"routes[0].path_prefix:"}},
		{name: "public route with allow_groups", yaml: "routes: [{path_prefix: /x, public: true, allow_groups: [admins]}]",
			want: []string{"routes[0].public: cannot be combined"}},
		{name: "public route with allow_email_domains", yaml: "routes: [{path_prefix: /x, public: true, allow_email_domains: [a.com]}]",
			want: []string{"routes[0].public: cannot be combined"}},
		{name: "bad route mode", yaml: "routes: [{path_prefix: /x, mode: audit}]", want: []string{"routes[0].mode:"}},
		{name: "bad route method", yaml: "routes: [{path_prefix: /x, methods: ['GE T']}]", want: []string{"routes[0].methods[0]:"}},
		{name: "bad email domain", yaml: "routes: [{path_prefix: /x, allow_email_domains: ['@a.com']}]", want: []string{"routes[0].allow_email_domains[0]:"}},
		{name: "exact path on a route that is not public", yaml: "routes: [{path_prefix: /admin, exact_path: true, allow_groups: [admins]}]",
			want: []string{"routes[0].exact_path: only on public routes"}},
		{name: "unknown route preset", yaml: "routes: [{path_prefix: /a, public: true}, {preset: flyte3}]",
			want: []string{`routes[1].preset: unknown preset "flyte3" (known: [flyte flyte1])`}},
		{name: "route preset with public", yaml: "routes: [{preset: flyte, public: true}]",
			want: []string{"routes[0].preset: cannot be combined with keys other than hosts"}},
		{name: "route preset with path_prefix", yaml: "routes: [{preset: flyte, path_prefix: /}]",
			want: []string{"routes[0].preset: cannot be combined with keys other than hosts"}},
		{name: "route preset with a bad host", yaml: "routes: [{preset: flyte, hosts: ['a b']}]",
			want: []string{"routes[0].hosts[0]: invalid host"}},
		{name: "declared header without claim", yaml: "outputs: {headers: [{name: x-user}]}", want: []string{"outputs.headers[0].claim: required"}},
		{name: "declared header without name", yaml: "outputs: {headers: [{claim: sub}]}", want: []string{"outputs.headers[0].name: required"}},
		{name: "declared header invalid name", yaml: "outputs: {headers: [{name: 'x user', claim: sub}]}",
			want: []string{`outputs.headers[0].name: invalid header name "x user"`}},
		{name: "declared header claim in the wrong case", yaml: "outputs: {headers: [{name: x-email, claim: Email}]}",
			want: []string{`outputs.headers[0].claim: "Email" is not a claim idgate keeps`}},
		{name: "declared header unknown claim", yaml: "outputs: {headers: [{name: x-dept, claim: department}]}",
			want: []string{`outputs.headers[0].claim: "department" is not a claim idgate keeps`}},
		{name: "declared header is the userid header", yaml: "outputs: {headers: [{name: Kubeflow_UserID, claim: sub}]}",
			want: []string{`outputs.headers[0].name: header "kubeflow_userid" is also outputs.kubeflow.userid_header`}},
		{name: "declared header is the flyte header", yaml: "outputs: {headers: [{name: X-Flyte-Identity, claim: sub}]}",
			want: []string{`outputs.headers[0].name: header "x-flyte-identity" is also outputs.flyte.header`}},
		{name: "declared header is an alb header while alb is off", yaml: "outputs: {headers: [{name: x-amzn-oidc-identity, claim: sub}]}",
			want: []string{`outputs.headers[0].name: header "x-amzn-oidc-identity" is an outputs.alb header`}},
		{name: "declared header twice", yaml: "outputs: {headers: [{name: x-user, claim: sub}, {name: X_User, claim: email}]}",
			want: []string{`outputs.headers[1].name: header "x_user" is also outputs.headers[0].name`}},
		{name: "declared authorization", yaml: "outputs: {headers: [{name: Authorization, claim: sub}]}",
			want: []string{`outputs.headers[0].name: header "authorization" is reserved`}},
		{name: "declared cookie", yaml: "outputs: {headers: [{name: cookie, claim: sub}]}",
			want: []string{`outputs.headers[0].name: header "cookie" is reserved`}},
		{name: "declared flyte-authorization", yaml: "outputs: {headers: [{name: flyte-authorization, claim: sub}]}",
			want: []string{`outputs.headers[0].name: header "flyte-authorization" is a hop-by-hop or credential header`}},
		{name: "declared forward-auth control header", yaml: "outputs: {headers: [{name: X-Idgate-Cookie, claim: name}]}",
			want: []string{`outputs.headers[0].name: header "x-idgate-cookie" is reserved`}},
		{name: "userid header is a forward-auth control header", yaml: "outputs: {kubeflow: {userid_header: x-idgate-remove}}",
			want: []string{`outputs.kubeflow.userid_header: header "x-idgate-remove" is reserved`}},
		{name: "declared hop-by-hop", yaml: "outputs: {headers: [{name: Proxy-Connection, claim: sub}]}",
			want: []string{`outputs.headers[0].name: header "proxy-connection" is a hop-by-hop or credential header`}},
		{name: "declared pseudo header", yaml: "outputs: {headers: [{name: ':authority', claim: sub}]}",
			want: []string{`outputs.headers[0].name: invalid header name ":authority"`}},
		{name: "duplicate header names", yaml: "outputs: {kubeflow: {groups_header: Kubeflow-UserID}}",
			want: []string{"outputs.kubeflow.groups_header: header \"kubeflow-userid\" is also outputs.kubeflow.userid_header"}},
		{name: "flyte header same as userid", yaml: "outputs: {flyte: {header: kubeflow-userid}}", want: []string{"outputs.flyte.header: header"}},
		{name: "header conflicts with alb", yaml: "outputs: {alb: {enabled: true}, flyte: {header: x-amzn-oidc-data}}",
			want: []string{"outputs.alb (x-amzn-oidc-data): header"}},
		{name: "header name with space", yaml: "outputs: {flyte: {header: 'x flyte'}}", want: []string{`outputs.flyte.header: invalid header name "x flyte"`}},
		{name: "empty header name", yaml: "outputs: {kubeflow: {userid_header: ''}}", want: []string{"outputs.kubeflow.userid_header: required"}},
		{name: "reserved header name", yaml: "outputs: {kubeflow: {userid_header: Authorization}}", want: []string{"outputs.kubeflow.userid_header: header \"authorization\" is reserved"}},
		{name: "bad strip header", yaml: "outputs: {strip_headers: [ok, 'bad:name']}", want: []string{"outputs.strip_headers[1]: invalid header name"}},
		{name: "userid prefix with newline", yaml: "outputs: {kubeflow: {userid_prefix: \"a\\nb\"}}", want: []string{"outputs.kubeflow.userid_prefix:"}},
		{name: "flyte ttl over 5m", yaml: "outputs: {flyte: {ttl: 6m}}", want: []string{"outputs.flyte.ttl: must be at most 5m0s"}},
		{name: "flyte ttl zero", yaml: "outputs: {flyte: {ttl: 0s}}", want: []string{"outputs.flyte.ttl: must be positive"}},
		{name: "flyte audience empty", yaml: "outputs: {flyte: {audience: ''}}", want: []string{"outputs.flyte.audience: required"}},
		{name: "signing key_file missing", yaml: "signing: {key_file: " + dir + "/nope.pem}", want: []string{"signing.key_file: open ", "no such file"}},
		{name: "signing key not P-256", yaml: "signing: {key_file: " + p384 + "}", want: []string{"signing.key_file:", "curve P-384, want P-256"}},
		{name: "signing key RSA", yaml: "signing: {key_file: " + rsaKey + "}", want: []string{"signing.key_file:", "want an EC P-256 key"}},
		{name: "signing key not PEM", yaml: "signing: {key_file: " + notPEM + "}", want: []string{"signing.key_file:", "no PEM block"}},
		{name: "signing issuer empty", yaml: "signing: {issuer: ''}", want: []string{"signing.issuer: required"}},
		{name: "redis without a sealing key", yaml: "redis: {addrs: ['r:1']}",
			want: []string{"redis.key_file: required with redis.addrs"}},
		{name: "redis key_file missing", yaml: "redis: {addrs: ['r:1'], key_file: " + dir + "/nope}",
			want: []string{"redis.key_file: open ", "no such file"}},
		{name: "redis key_file too short", yaml: "redis: {addrs: ['r:1'], key_file: " + shortKey + "}",
			want: []string{"redis.key_file: must hold at least 32 bytes"}},
		{name: "redis previous_key_file too short", yaml: "redis: {addrs: ['r:1'], key_file: " + goodKey + ", previous_key_file: " + shortKey + "}",
			want: []string{"redis.previous_key_file: must hold at least 32 bytes"}},
		{name: "redis previous_key_file without key_file", yaml: "redis: {previous_key_file: " + shortKey + "}",
			want: []string{"redis.previous_key_file: requires redis.key_file"}},
		{name: "redis sealed by a short session key", yaml: "redis: {addrs: ['r:1']}", env: []string{"IDGATE_LOGIN_SESSION_KEY=short" + secret},
			want: []string{"login.session_key: seals profiles in Redis (no redis.key_file): must be at least 32 bytes"}},
		{name: "password and password_file", yaml: "redis: {addrs: ['r:1'], password_file: " + pwFile + "}",
			want: []string{"redis.password_file: mutually exclusive with redis.password"}},
		{name: "password_file missing", noPassword: true, yaml: "redis: {password_file: " + dir + "/nope}",
			want: []string{"redis.password_file: open ", "no such file"}},
		{name: "password_file empty", noPassword: true, yaml: "redis: {password_file: " + emptyFile + "}",
			want: []string{"redis.password_file:", "empty"}},
		{name: "password wrong type", noPassword: true, yaml: "redis: {password: {v: " + secret + "}}",
			want: []string{"redis.password: invalid value"}},
		{name: "username without password", noPassword: true, yaml: "redis: {username: u}", want: []string{"redis.username: requires"}},
		{name: "redis addr with credentials", yaml: "redis: {addrs: ['redis://:" + secret + "@r:6379']}",
			want: []string{"redis.addrs[0]: invalid address \"[redacted]@r:6379\""}},
		{name: "redis addr without port", env: []string{"IDGATE_REDIS_ADDRS=r1:6379,r2"}, want: []string{"redis.addrs[1]: invalid address \"r2\""}},
		{name: "sentinel without addrs", yaml: "redis: {master_name: m}", want: []string{"redis.master_name: requires"}},
		{name: "cluster with db", yaml: "redis: {addrs: ['a:1', 'b:1'], db: 1}", want: []string{"redis.db: must be 0 in cluster mode"}},
		{name: "negative db", yaml: "redis: {db: -1}", want: []string{"redis.db: must not be negative"}},
		{name: "zero redis timeout", yaml: "redis: {read_timeout: 0s}", want: []string{"redis.read_timeout: must be positive"}},
		{name: "ca_file missing", yaml: "redis: {tls: {enabled: true, ca_file: " + dir + "/ca.pem}}",
			want: []string{"redis.tls.ca_file: open ", "no such file"}},
		{name: "ca_file not PEM", yaml: "redis: {tls: {enabled: true, ca_file: " + notPEM + "}}",
			want: []string{"redis.tls.ca_file:", "no PEM certificates"}},
		{name: "ca_file without tls", yaml: "redis: {tls: {ca_file: " + notPEM + "}}", want: []string{"redis.tls.ca_file: requires redis.tls.enabled"}},
		{name: "issuers env not JSON", env: []string{"IDGATE_ISSUERS=https://idp"}, want: []string{"config: issuers: IDGATE_ISSUERS: want a JSON list"}},
		{name: "every decoding problem reported", yaml: "bogus: 1\nserver: {grpc: x}\nlog: [a]\ntokens: {cache_size: lots}\nissuers: [{issuer: 'https://i', audiences: [a], audience: b}]",
			want: []string{"bogus: unknown key", "server.grpc: unknown key", "log: expected a map", "tokens.cache_size: cannot parse", "issuers[0].audience: unknown key"}},
		{name: "login issuer unknown", yaml: minimalIssuer + "login: {issuer: 'https://other', client_id: c, client_secret: s}",
			want: []string{"login.issuer: must be one of issuers[].issuer"}},
		{name: "login without client", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com'}",
			want: []string{"login.client_id: required", "login.client_secret: required"}},
		{name: "login secret and file", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, client_secret_file: " + pwFile + "}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.client_secret_file: mutually exclusive"}},
		{name: "login short session key", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret, "IDGATE_LOGIN_SESSION_KEY=short" + secret}, want: []string{"login.session_key: must be at least 32 bytes"}},
		{name: "login samesite none insecure", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, cookie: {secure: false, same_site: none}}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.cookie.same_site: none requires"}},
		{name: "login same paths", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, logout_path: /oauth2/callback}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.logout_path: same as login.callback_path"}},
		{name: "login __Host- cookie with a domain", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, cookie: {name: __Host-s, domain: example.com}}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.cookie.name: a __Host- name needs"}},
		{name: "login token timeout zero", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, token_timeout: 0s}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.token_timeout"}},
		{name: "http non-loopback jwks_uri without insecure_http", yaml: "issuers: [{issuer: 'https://dex', audiences: [a], jwks_uri: 'http://dex:5556/keys'}]",
			want: []string{"issuers[0].jwks_uri: plain http only allowed for loopback hosts"}},
		{name: "http userinfo_endpoint", yaml: "issuers: [{issuer: 'https://i', audiences: [a], userinfo_endpoint: 'http://i/userinfo'}]",
			want: []string{"issuers[0].userinfo_endpoint: plain http"}},
		{name: "userinfo_endpoint on a foreign host", yaml: "issuers: [{issuer: 'https://i', audiences: [a], userinfo_endpoint: 'https://evil/userinfo'}]",
			want: []string{"issuers[0].userinfo_endpoint: host \"evil\""}},
		{name: "skip_discovery without jwks_uri", yaml: "issuers: [{issuer: 'https://i', audiences: [a], skip_discovery: true}]",
			want: []string{"issuers[0].jwks_uri: required with skip_discovery"}},
		{name: "skip_discovery userinfo true without endpoint", yaml: "issuers: [{issuer: 'https://i', audiences: [a], skip_discovery: true, jwks_uri: 'https://i/keys', userinfo: true}]",
			want: []string{"issuers[0].userinfo_endpoint: required with skip_discovery"}},
		{name: "login skip_discovery without endpoints", yaml: "issuers: [{issuer: 'https://i', audiences: [a], skip_discovery: true, jwks_uri: 'https://i/keys'}]\nlogin: {issuer: 'https://i', client_id: c}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.authorization_endpoint: required when the login issuer has skip_discovery", "login.token_endpoint: required"}},
		{name: "login authorization_endpoint protocol-relative", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, authorization_endpoint: '//evil/dex/auth'}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.authorization_endpoint: \"//evil/dex/auth\" is not a single-slash absolute path"}},
		{name: "login authorization_endpoint backslash", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, authorization_endpoint: '/\\evil/auth'}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.authorization_endpoint:", "not a single-slash absolute path"}},
		{name: "login authorization_endpoint encoded slash", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, authorization_endpoint: '/%2Fevil/auth'}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.authorization_endpoint:", "not a single-slash absolute path"}},
		{name: "login authorization_endpoint double-encoded slash", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, authorization_endpoint: '/%252F%252Fevil/auth'}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.authorization_endpoint:", "not a single-slash absolute path"}},
		{name: "login authorization_endpoint relative", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, authorization_endpoint: 'dex/auth'}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.authorization_endpoint:", "not an absolute http(s) URL"}},
		{name: "login authorization_endpoint javascript", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, authorization_endpoint: 'javascript:alert(1)'}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.authorization_endpoint:", "not an absolute http(s) URL"}},
		{name: "login token_endpoint plain http", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, token_endpoint: 'http://dex:5556/dex/token'}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.token_endpoint: plain http only allowed"}},
		{name: "login callback is the sign_out alias", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, callback_path: /oauth2/sign_out}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.callback_path: /oauth2/sign_out is always the logout alias"}},
		{name: "login scopes without openid", yaml: minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, scopes: [email]}",
			env: []string{"IDGATE_LOGIN_CLIENT_SECRET=" + secret}, want: []string{"login.scopes: must include openid"}},
		{name: "bad mode", yaml: "mode: audit", want: []string{"mode: \"audit\" is not one of enforce, shadow"}},
		{name: "every problem reported", yaml: "bogus: 1\ntokens: {clock_skew: 1h}\nissuers: [{issuer: 'https://i'}]",
			want: []string{"bogus: unknown key", "tokens.clock_skew: must be at most"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if !tc.noPassword {
				env = append([]string{"IDGATE_REDIS_PASSWORD=" + secret}, env...)
			}
			c, err := Parse(strings.NewReader(tc.yaml), env)
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q; config %+v", tc.want, c.Redacted())
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error leaks the secret: %q", msg)
			}
			for line := range strings.Lines(msg) {
				if !strings.HasPrefix(line, "config: ") {
					t.Errorf("error line %q does not start with \"config: \"", line)
				}
			}
		})
	}
}

// TestLoadLoginProblemOnce: a login setting login's own rules refuse is
// reported once, by those rules, not again by a copy of them in config.
func TestLoadLoginProblemOnce(t *testing.T) {
	yaml := minimalIssuer + "login: {issuer: 'https://idp.example.com', client_id: c, scopes: [email]}"
	_, err := Parse(strings.NewReader(yaml), []string{"IDGATE_REDIS_PASSWORD=" + secret, "IDGATE_LOGIN_CLIENT_SECRET=" + secret})
	if err == nil {
		t.Fatal("Parse succeeded with scopes lacking openid")
	}
	if n := strings.Count(err.Error(), "login.scopes: must include openid"); n != 1 {
		t.Errorf("\"login.scopes: must include openid\" reported %d times, want once: %q", n, err)
	}
}

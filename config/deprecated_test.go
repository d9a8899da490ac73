package config

import (
	"slices"
	"strings"
	"testing"
)

// flowYAML writes value at the dotted key as YAML flow mappings:
// "a.b.c" and "1s" give "a: {b: {c: 1s}}".
func flowYAML(key, value string) string {
	parts := strings.Split(key, ".")
	out := value
	for i := len(parts) - 1; i >= 1; i-- {
		out = "{" + parts[i] + ": " + out + "}"
	}
	return parts[0] + ": " + out
}

// renameCases gives each new key a value unlike its default and the IDGATE_*
// variables (new names) the value needs to be valid.
func renameCases(t *testing.T) map[string]struct {
	yaml, env string
	extra     []string
} {
	dir := t.TempDir()
	key := MustWriteFile(t, dir, "key", []byte(strings.Repeat("k", 32)))
	prev := MustWriteFile(t, dir, "prev", []byte(strings.Repeat("p", 32)))
	pw := MustWriteFile(t, dir, "pw", []byte("secret\n"))
	ca := MustWriteFile(t, dir, "ca.pem", MustCAPEM(t))
	withAddrs := []string{"IDGATE_REDIS_ADDRS=r:6379", "IDGATE_REDIS_KEY_FILE=" + key}
	tlsOn := []string{"IDGATE_REDIS_TLS_ENABLED=true"}
	type c = struct {
		yaml, env string
		extra     []string
	}
	return map[string]c{
		"tokens.refresh_min_interval":    {"7s", "7s", nil},
		"tokens.max_stale":               {"0s", "0s", nil},
		"tokens.key_wait":                {"2s", "2s", nil},
		"tokens.clock_skew":              {"0s", "0", nil},
		"tokens.cache_size":              {"3", "3", nil},
		"userinfo.timeout":               {"1s", "1s", nil},
		"redis.addrs":                    {"['r:6379', 'r2:6379']", "r:6379,r2:6379", []string{"IDGATE_REDIS_KEY_FILE=" + key}},
		"redis.master_name":              {"m", "m", withAddrs},
		"redis.username":                 {"u", "u", []string{"IDGATE_REDIS_PASSWORD=p"}},
		"redis.password":                 {"p", "p", nil},
		"redis.password_file":            {pw, pw, nil},
		"redis.db":                       {"3", "3", nil},
		"redis.key_prefix":               {"'x:'", "x:", nil},
		"redis.key_file":                 {key, key, withAddrs[:1]},
		"redis.previous_key_file":        {prev, prev, []string{"IDGATE_REDIS_KEY_FILE=" + key}},
		"redis.dial_timeout":             {"1s", "1s", nil},
		"redis.read_timeout":             {"2s", "2s", nil},
		"redis.write_timeout":            {"3s", "3s", nil},
		"redis.tls.enabled":              {"true", "true", nil},
		"redis.tls.ca_file":              {ca, ca, tlsOn},
		"redis.tls.insecure_skip_verify": {"true", "true", tlsOn},
	}
}

// TestRenamedKeys: each renamed key, in YAML and as its IDGATE_* variable,
// loads to the same Config as its new key, with exactly one warning naming
// the new key; the new key alone warns of nothing.
func TestRenamedKeys(t *testing.T) {
	cases := renameCases(t)
	if len(cases) != len(Renames()) {
		t.Errorf("%d cases for %d renames", len(cases), len(Renames()))
	}
	for _, r := range Renames() {
		tc, ok := cases[r.New]
		if !ok {
			t.Errorf("no case for %s", r.New)
			continue
		}
		load := func(t *testing.T, yaml string, env []string) *Config {
			t.Helper()
			c, err := Parse(strings.NewReader(yaml), append(slices.Clone(tc.extra), env...))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		t.Run(r.Old, func(t *testing.T) {
			want := load(t, flowYAML(r.New, tc.yaml), nil)
			if d := want.Deprecations(); len(d) != 0 {
				t.Fatalf("new key %s warns: %q", r.New, d)
			}
			if sameConfig(want, Default()) {
				t.Fatalf("case value of %s is its default: the test would prove nothing", r.New)
			}
			variants := []struct {
				name, yaml string
				env        []string
				warning    string
			}{
				{"yaml", flowYAML(r.Old, tc.yaml), nil, "config: " + r.Old + " is deprecated; use " + r.New},
				{"env", "", []string{envName(r.Old) + "=" + tc.env},
					"config: " + envName(r.Old) + " is deprecated; use " + envName(r.New)},
				{"env beside the new key", "", []string{envName(r.Old) + "=" + tc.env, envName(r.New) + "=" + tc.env},
					"config: " + envName(r.Old) + " is deprecated; use " + envName(r.New)},
			}
			if envName(r.Old) == envName(r.New) {
				variants = variants[:1] // one variable for both: nothing renamed
			}
			for _, variant := range variants {
				t.Run(variant.name, func(t *testing.T) {
					got := load(t, variant.yaml, variant.env)
					if d := got.Deprecations(); len(d) != 1 || d[0] != variant.warning {
						t.Errorf("deprecations = %q, want [%q]", d, variant.warning)
					}
					got.deprecations = nil
					if !sameConfig(got, want) {
						t.Errorf("old key loads\n%+v\nnew key loads\n%+v", got, want)
					}
				})
			}
		})
	}
}

// TestRenamedKeyConflicts: an old key and its new one set to different
// values is an error naming both; set to the same value, it loads.
func TestRenamedKeyConflicts(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		env     []string
		wantErr []string // empty: loads
		quiet   bool     // loads without a warning
	}{
		{name: "yaml both differ", yaml: "jwks_max_stale: 1h\ntokens: {max_stale: 2h}",
			wantErr: []string{"config: tokens.max_stale and jwks_max_stale (its old name) are both set, to different values"}},
		{name: "yaml redis both differ", yaml: "cache: {redis: {db: 1}}\nredis: {db: 2}",
			wantErr: []string{"redis.db and cache.redis.db (its old name)"}},
		{name: "env both differ", env: []string{"IDGATE_CLOCK_SKEW=10s", "IDGATE_TOKENS_CLOCK_SKEW=20s"},
			wantErr: []string{"IDGATE_TOKENS_CLOCK_SKEW and IDGATE_CLOCK_SKEW (its old name)"}},
		{name: "every conflict reported", yaml: "clock_skew: 1s\ntokens: {clock_skew: 2s}\nuserinfo_timeout: 1s\nuserinfo: {timeout: 2s}",
			wantErr: []string{"tokens.clock_skew and clock_skew", "userinfo.timeout and userinfo_timeout"}},
		{name: "yaml both the same duration", yaml: "clock_skew: 1m\ntokens: {clock_skew: 60s}"},
		{name: "env old beside yaml new: env wins", yaml: "tokens: {clock_skew: 1s}", env: []string{"IDGATE_CLOCK_SKEW=2s"}},
		{name: "empty old section", yaml: "cache: {redis: {tls: {}}}", quiet: true},
		{name: "null old section", yaml: "cache: {redis: null}", quiet: true},
		{name: "old variable of a key whose variable kept its name", env: []string{"IDGATE_USERINFO_TIMEOUT=1s"}, quiet: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tc.yaml), tc.env)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got := len(c.Deprecations()) > 0; got == tc.quiet {
					t.Errorf("deprecations = %q", c.Deprecations())
				}
				return
			}
			if err == nil {
				t.Fatalf("loaded %+v, want an error", c)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestRenamedSecretNeverInErrors: a conflict on a secret key names the keys,
// never the values.
func TestRenamedSecretNeverInErrors(t *testing.T) {
	_, err := Parse(strings.NewReader("cache: {redis: {password: hunter2-old}}\nredis: {password: hunter2-new}"), nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "redis.password and cache.redis.password") {
		t.Fatalf("err = %v", err)
	}
}

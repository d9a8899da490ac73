package config

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRepoConfigIsDefault(t *testing.T) {
	c, err := Load("../config.yaml", nil)
	if err != nil {
		t.Fatalf("Load(../config.yaml): %v", err)
	}
	if !sameConfig(c, Default()) {
		t.Errorf("config.yaml differs from Default():\n got %+v\nwant %+v", c, Default())
	}
}

// TestRepoConfigExamplesAreValid uncomments the issuer and route examples
// of config.yaml and loads the result.
func TestRepoConfigExamplesAreValid(t *testing.T) {
	b, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	inExample := false
	for line := range strings.Lines(string(b)) {
		switch {
		case line == "issuers:\n" || line == "routes:\n" || line == "trusted_forwarders:\n":
			inExample = true
		case inExample && strings.HasPrefix(line, "#"):
			line = line[1:]
		default:
			inExample = false
		}
		out.WriteString(line)
	}
	c, err := Parse(strings.NewReader(out.String()), nil)
	if err != nil {
		t.Fatalf("examples do not load: %v\n%s", err, out.String())
	}
	if len(c.Issuers) != 2 || c.Issuers[1].Issuer != "https://kubernetes.default.svc.cluster.local" ||
		c.Issuers[1].UserClaim != "sub" || c.Issuers[1].Audiences[0] != "idgate" {
		t.Errorf("issuers = %+v", c.Issuers)
	}
	if len(c.Routes) != 5 || !c.Routes[0].Public || c.Routes[1].AllowGroups[0] != "admins" ||
		c.Routes[2].PathPrefix != "/.well-known/oauth-authorization-server" || c.Routes[4].Preset != "" {
		t.Errorf("routes = %+v", c.Routes)
	}
	if len(c.TrustedForwarders) != 1 || c.TrustedForwarders[0].Headers[0] != "kubeflow-userid" {
		t.Errorf("trusted_forwarders = %+v", c.TrustedForwarders)
	}
}

// TestRepoConfigDocumentsEveryKey checks that each key of config.yaml has a
// comment on the line above it: the file is user documentation.
func TestRepoConfigDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prev := ""
	keys := 0
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
			keys++
			if !strings.HasPrefix(prev, "#") {
				t.Errorf("config.yaml:%d: key %q has no comment above it", i+1, trimmed)
			}
		}
		prev = trimmed
	}
	if keys != 86 {
		t.Errorf("config.yaml has %d keys, want 86 (72 settings and 14 sections)", keys)
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadWithoutFileIsDefault(t *testing.T) {
	c, err := Load("", []string{"HOME=/root", "IDGATE_UNKNOWN=1"})
	if err != nil {
		t.Fatal(err)
	}
	if !sameConfig(c, Default()) {
		t.Errorf("Load(\"\") = %+v, want Default()", c)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("/nonexistent/idgate.yaml", nil)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/idgate.yaml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestEnvKeys(t *testing.T) {
	keys := envKeys()
	want := map[string]envKey{
		"IDGATE_SERVER_GRPC_ADDR":            {"server.grpc_addr", envScalar},
		"IDGATE_REDIS_ADDRS":                 {"redis.addrs", envList},
		"IDGATE_TOKENS_REFRESH_MIN_INTERVAL": {"tokens.refresh_min_interval", envScalar},
		"IDGATE_USERINFO_TIMEOUT":            {"userinfo.timeout", envScalar},
		"IDGATE_REDIS_TLS_CA_FILE":           {"redis.tls.ca_file", envScalar},
		"IDGATE_OUTPUTS_STRIP_HEADERS":       {"outputs.strip_headers", envList},
		"IDGATE_OUTPUTS_HEADERS":             {"outputs.headers", envJSON},
		"IDGATE_ISSUERS":                     {"issuers", envJSON},
		"IDGATE_ROUTES":                      {"routes", envJSON},
		"IDGATE_TRUSTED_FORWARDERS":          {"trusted_forwarders", envJSON},
	}
	for name, k := range want {
		if keys[name] != k {
			t.Errorf("envKeys()[%s] = %+v, want %+v", name, keys[name], k)
		}
	}
	// Every leaf has its own variable: no two keys collapse to one name.
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.key] {
			t.Errorf("key %s listed twice", k.key)
		}
		seen[k.key] = true
	}
	if len(keys) != 72 {
		t.Errorf("len(envKeys()) = %d, want 72 (one per leaf key)", len(keys))
	}
}

func TestRedacted(t *testing.T) {
	c := Default()
	c.Redis.Password = "hunter2"
	c.Redis.Addrs = []string{"redis:6379"}
	c.Issuers = []Issuer{{Issuer: "https://idp", Audiences: []string{"a"}}}
	r := c.Redacted()
	if r.Redis.Password != redactedValue {
		t.Errorf("Redacted password = %q", r.Redis.Password)
	}
	r.Redis.Addrs[0] = "changed"
	r.Issuers[0].Audiences[0] = "changed"
	if c.Redis.Password != "hunter2" || c.Redis.Addrs[0] != "redis:6379" ||
		c.Issuers[0].Audiences[0] != "a" {
		t.Errorf("Redacted shares state with the original: %+v", c)
	}
	if d := Default().Redacted(); !reflect.DeepEqual(d, Default()) {
		t.Errorf("Redacted of a secret-free config changed it: %+v", d)
	}
}

func TestSlogLevel(t *testing.T) {
	for _, lvl := range []string{"debug", "info", "warn", "error"} {
		if got := (Log{Level: lvl}).SlogLevel().String(); !strings.EqualFold(got, lvl) {
			t.Errorf("SlogLevel(%s) = %s", lvl, got)
		}
	}
}

func TestDurationHook(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    time.Duration
		wantErr bool
	}{
		{"go syntax", "150ms", 150 * time.Millisecond, false},
		{"compound", "1h30m", 90 * time.Minute, false},
		{"zero int", 0, 0, false},
		{"bare int", 10, 0, true},
		{"bare float", 1.5, 0, true},
		{"no unit string", "10", 0, true},
		{"bool", true, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := durationHook(reflect.TypeOf(tc.in), durationType, tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// sameConfig compares configurations field by field, an empty list
// matching a nil one (YAML "[]" decodes to an empty slice).
func sameConfig(a, b *Config) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

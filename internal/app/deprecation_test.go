package app

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/idgate/idgate/internal/devtools/devidp"
	"github.com/idgate/idgate/internal/testkit/testlog"
)

// TestDeprecatedKeysWarnAtStart: a renamed key still configures idgate, and
// the start-up log says, at WARN, which key replaces it; the new keys warn
// of nothing.
func TestDeprecatedKeysWarnAtStart(t *testing.T) {
	idp := mustIdP(t, devidp.Options{})
	tests := []struct {
		name, yaml string
		env        []string
		want       []string
	}{
		{name: "old keys", yaml: "jwks_max_stale: 0\nuserinfo_timeout: 1s\n", env: []string{"IDGATE_CLOCK_SKEW=0s"},
			want: []string{
				`"level":"WARN","msg":"config: jwks_max_stale is deprecated; use tokens.max_stale"`,
				`"level":"WARN","msg":"config: userinfo_timeout is deprecated; use userinfo.timeout"`,
				`"level":"WARN","msg":"config: IDGATE_CLOCK_SKEW is deprecated; use IDGATE_TOKENS_CLOCK_SKEW"`,
			}},
		{name: "new keys", yaml: "tokens: {max_stale: 0, clock_skew: 0s}\nuserinfo: {timeout: 1s}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustParse(t, idp, tc.yaml, tc.env)
			if cfg.Tokens.MaxStale != 0 || cfg.Tokens.ClockSkew != 0 || cfg.Userinfo.Timeout.String() != "1s" {
				t.Fatalf("tokens %+v, userinfo %+v", cfg.Tokens, cfg.Userinfo)
			}
			var logs testlog.Buffer
			mustStart(t, cfg, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			for _, w := range tc.want {
				if strings.Count(logs.String(), w) != 1 {
					t.Errorf("want once in the log: %s\n%s", w, logs.String())
				}
			}
			if n := strings.Count(logs.String(), "is deprecated"); n != len(tc.want) {
				t.Errorf("%d deprecation warnings, want %d:\n%s", n, len(tc.want), logs.String())
			}
		})
	}
}

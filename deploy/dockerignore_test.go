package deploy

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ignoreRule is one .dockerignore line.
type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

// parseDockerignore compiles .dockerignore patterns with Docker's rules:
// paths relative to the context root, `*` and `?` within one segment, `**`
// across segments, `!` re-includes, the last matching line wins.
func parseDockerignore(data []byte) []ignoreRule {
	var rules []ignoreRule
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, strings.TrimSpace(line[1:])
		}
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		r.re = regexp.MustCompile("^" + globToRegexp(line) + "$")
		rules = append(rules, r)
	}
	return rules
}

func globToRegexp(glob string) string {
	var b strings.Builder
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// ignored reports whether rel (slash-separated) or a parent folder of it is
// left out of the build context.
func ignored(rules []ignoreRule, rel string) bool {
	parts := strings.Split(rel, "/")
	for i := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		out := false
		for _, r := range rules {
			if r.re.MatchString(prefix) {
				out = !r.negate
			}
		}
		if out {
			return true
		}
	}
	return false
}

// MustCopyBuildContext copies src to dst leaving out what .dockerignore
// excludes, as `docker build` sends it.
func MustCopyBuildContext(tb testing.TB, src, dst string, dockerignore []byte) {
	tb.Helper()
	rules := parseDockerignore(dockerignore)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil || rel == "." {
			return err
		}
		if ignored(rules, filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, target)
	})
	if err != nil {
		tb.Fatalf("copy build context: %v", err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func TestDockerignore(t *testing.T) {
	rules := parseDockerignore(MustReadFile(t, "../.dockerignore"))
	tests := []struct {
		path string
		want bool
	}{
		{"go.mod", false},
		{"go.sum", false},
		{"cmd/idgate/main.go", false},
		{"config/config.go", false},
		{".git/HEAD", true},
		{"deploy/go.mod", true},
		{"bench/opaauthz/go.mod", true},
		{"bench/nullauthz/main.go", false},
		{"jwks/jwks_test.go", true},
		{"config/testdata/fuzz/x", true},
		{"README.md", true},
		{"internal/testkit/redistest/server.go", true},
		{"internal/devtools/devidp/provider.go", false},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := ignored(rules, tc.path); got != tc.want {
				t.Errorf("ignored(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/idgate/idgate/config/internal/refdoc"
)

// TestConfigurationReferenceIsGenerated fails when the reference in
// docs/configuration.md no longer matches config.yaml, the documented
// default, so the two cannot drift apart.
func TestConfigurationReferenceIsGenerated(t *testing.T) {
	src, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := refdoc.Render(src)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	spliced, err := refdoc.Splice(string(doc), want)
	if err != nil {
		t.Fatalf("docs/configuration.md: %v", err)
	}
	if spliced != string(doc) {
		t.Errorf("docs/configuration.md is out of date with config.yaml: run `go generate ./config`")
	}
	if !strings.Contains(want, "- `server.grpc_addr` (default") {
		t.Errorf("the reference does not document server.grpc_addr:\n%s", want)
	}
}

// TestRenderConfigReference pins how config.yaml's shapes are rendered.
func TestRenderConfigReference(t *testing.T) {
	src := "# Title.\n#\n# Set as:\n#   IDGATE_A=1\n\n" +
		"# Section.\nsec:\n  # Leaf <x>.\n  leaf: 1s\n  # Sub.\n  sub:\n    # Deep.\n    deep: \"\"\n  # After sub.\n  after: []\n\n" +
		"# A list.\nitems:\n#  - # Name.\n#    name: a\n\n# Top.\ntop: 3\n"
	got, err := refdoc.Render([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := "config.yaml opens with:\n\n> Title.\n>\n> Set as:\n>\n> ```\n> IDGATE_A=1\n> ```\n\n" +
		"### `sec`\n\nSection.\n\n" +
		"- `sec.leaf` (default `1s`; env `IDGATE_SEC_LEAF`):\n  Leaf \\<x>.\n\n" +
		"- `sec.after` (default `[]`; env `IDGATE_SEC_AFTER`):\n  After sub.\n\n" +
		"#### `sec.sub`\n\nSub.\n\n" +
		"- `sec.sub.deep` (default `\"\"`; env `IDGATE_SEC_SUB_DEEP`):\n  Deep.\n\n" +
		"### `items`\n\nDefault: empty; env `IDGATE_ITEMS`.\n\nA list.\n\n" +
		"Example (commented out in config.yaml):\n\n```yaml\n- # Name.\n  name: a\n```\n\n" +
		"### `top`\n\nDefault: `3`; env `IDGATE_TOP`.\n\nTop.\n"
	if got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
}

// TestRenderRefusesWhatIsNotAKey: a line the reference cannot name is an
// error, not a silently missing entry.
func TestRenderRefusesWhatIsNotAKey(t *testing.T) {
	tests := []struct{ name, src string }{
		{"no colon", "# c\nnot a key\n"},
		{"space in key", "# c\na b: 1\n"},
		{"list item outside a comment", "# c\nitems:\n  - a: 1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := refdoc.Render([]byte(tc.src)); err == nil {
				t.Errorf("Render(%q): no error", tc.src)
			}
		})
	}
}

// TestReadmeIsAFrontDoor keeps README.md short: what idgate is, the two
// commands, a quick start and links; the manual lives in docs/.
func TestReadmeIsAFrontDoor(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 150 {
		t.Errorf("README.md has %d lines, want at most 150: move details to docs/", len(lines))
	}
	for _, cmd := range []string{"go run ./cmd/idgate dev ", "./scripts/test "} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, cmd)
		}
		if !found {
			t.Errorf("README.md lost the command %q", cmd)
		}
	}
}

var (
	mdLink    = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	codeSpan  = regexp.MustCompile("`[^`]*`")
	notInSlug = regexp.MustCompile(`[^\p{L}\p{N}\s_-]`)
)

// TestDocLinksResolve checks that every relative link in README.md, docs/,
// the other top-level documents and deploy/'s READMEs names an existing
// file, and, for a markdown target, an existing heading.
func TestDocLinksResolve(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{"../deploy/README.md", "../deploy/*/README.md", "../deploy/*/*/README.md"} {
		more, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, more...)
	}
	files = append(files, "../README.md", "../RELIABILITY.md", "../BENCHMARKS.md")
	links := 0
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range prose(string(text)) {
			for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(l, ""), -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				path, anchor, _ := strings.Cut(target, "#")
				file := f
				if path != "" {
					file = filepath.Join(filepath.Dir(f), path)
				}
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s: link %s: %v", f, target, err)
					continue
				}
				if anchor != "" && strings.HasSuffix(file, ".md") && !hasAnchor(t, file, anchor) {
					t.Errorf("%s: link %s: no heading with anchor #%s in %s", f, target, anchor, file)
				}
			}
		}
	}
	if links < 10 {
		t.Errorf("found %d relative links, want the README and docs/ to link each other", links)
	}
}

// prose returns the lines of a markdown text outside fenced code blocks.
func prose(text string) []string {
	var out []string
	fence := ""
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case fence == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")):
			fence = t[:3]
		case fence != "" && strings.HasPrefix(t, fence):
			fence = ""
		case fence == "":
			out = append(out, l)
		}
	}
	return out
}

// hasAnchor reports whether a heading of the markdown file has the anchor
// GitHub gives it: lower case, punctuation dropped, spaces as "-", "-N"
// added to repeats.
func hasAnchor(t *testing.T, file, anchor string) bool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range prose(string(b)) {
		if !strings.HasPrefix(l, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(l, "#"))
		slug := strings.ReplaceAll(notInSlug.ReplaceAllString(strings.ToLower(title), ""), " ", "-")
		if n := seen[slug]; n > 0 {
			seen[slug] = n + 1
			slug += "-" + strconv.Itoa(n)
		} else {
			seen[slug] = 1
		}
		if slug == anchor {
			return true
		}
	}
	return false
}

// Package refdoc renders the configuration reference in docs/configuration.md
// from the comments and keys of config.yaml, so the reference cannot drift
// from the file that is tested to load to config.Default().
package refdoc

import (
	"errors"
	"fmt"
	"strings"
)

// Markers delimit the generated part of docs/configuration.md; the prose
// around them is written by hand.
const (
	Begin = "<!-- BEGIN GENERATED from config.yaml by `go generate ./config`; do not edit -->"
	End   = "<!-- END GENERATED -->"
)

// line is one line of config.yaml, classified.
type line struct {
	indent  int    // leading spaces
	comment bool   // a "#" line
	blank   bool   // empty or spaces only
	text    string // comment text after "# ", or the key line trimmed
	after   string // a comment's text after "#", spaces kept
}

// entry is one key of config.yaml with the comment block directly above it.
type entry struct {
	path    string   // dotted path, e.g. cache.redis.addrs
	depth   int      // 0 for a top-level key
	value   string   // literal value as written; "" for a section
	section bool     // a mapping with keys below it
	doc     []string // comment lines directly above
	example []string // commented-out lines right after an empty key
}

// Render returns the markdown reference of config.yaml's content src.
func Render(src []byte) (string, error) {
	lines := classify(string(src))
	header, rest := leadingComment(lines)
	entries, err := parse(rest)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if len(header) > 0 {
		b.WriteString("config.yaml opens with:\n\n")
		writeProse(&b, header, "> ")
	}
	for _, e := range ordered(entries) {
		writeEntry(&b, e)
	}
	return strings.TrimRight(b.String(), "\n") + "\n", nil
}

// ordered lists, inside each section, its plain keys before its
// subsections, so that every key appears under its own section's heading.
func ordered(entries []entry) []entry {
	children := map[string][]entry{}
	for _, e := range entries {
		parent := ""
		if i := strings.LastIndex(e.path, "."); i >= 0 {
			parent = e.path[:i]
		}
		children[parent] = append(children[parent], e)
	}
	var out []entry
	var walk func(parent string)
	walk = func(parent string) {
		kids := children[parent]
		if parent != "" {
			var leaves, sections []entry
			for _, k := range kids {
				if k.section {
					sections = append(sections, k)
				} else {
					leaves = append(leaves, k)
				}
			}
			kids = append(leaves, sections...)
		}
		for _, k := range kids {
			out = append(out, k)
			if k.section {
				walk(k.path)
			}
		}
	}
	walk("")
	return out
}

// Splice replaces the part of doc between Begin and End with generated.
func Splice(doc, generated string) (string, error) {
	before, after, err := split(doc)
	if err != nil {
		return "", err
	}
	return before + Begin + "\n\n" + generated + "\n" + End + after, nil
}

func split(doc string) (before, after string, err error) {
	i := strings.Index(doc, Begin)
	j := strings.Index(doc, End)
	if i < 0 || j < i {
		return "", "", errors.New("refdoc: markers " + Begin + " ... " + End + " not found in order")
	}
	return doc[:i], doc[j+len(End):], nil
}

func classify(src string) []line {
	raw := strings.Split(strings.TrimRight(src, "\n"), "\n")
	out := make([]line, 0, len(raw))
	for _, r := range raw {
		t := strings.TrimLeft(r, " ")
		l := line{indent: len(r) - len(t)}
		switch {
		case strings.TrimSpace(t) == "":
			l.blank = true
		case strings.HasPrefix(t, "#"):
			l.comment = true
			l.after = strings.TrimRight(strings.TrimPrefix(t, "#"), " ")
			l.text = strings.TrimPrefix(l.after, " ")
		default:
			l.text = strings.TrimRight(t, " ")
		}
		out = append(out, l)
	}
	return out
}

// leadingComment splits off the file's opening comment, when a blank line
// separates it from the first key's own comment.
func leadingComment(lines []line) ([]string, []line) {
	var header []string
	i := 0
	for i < len(lines) && lines[i].comment {
		header = append(header, lines[i].text)
		i++
	}
	if i < len(lines) && lines[i].blank {
		return header, lines[i:]
	}
	return nil, lines
}

type frame struct {
	indent int
	path   string
}

func parse(lines []line) ([]entry, error) {
	var (
		out   []entry
		doc   []string
		stack []frame
	)
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l.blank:
			doc = nil
			continue
		case l.comment:
			doc = append(doc, l.text)
			continue
		}
		key, val, ok := strings.Cut(l.text, ":")
		if !ok || !isKey(key) {
			return nil, fmt.Errorf("refdoc: config.yaml line %d: %q is not a key", i+1, l.text)
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= l.indent {
			stack = stack[:len(stack)-1]
		}
		path := key
		if len(stack) > 0 {
			path = stack[len(stack)-1].path + "." + key
		}
		e := entry{path: path, depth: len(stack), value: strings.TrimSpace(val), doc: doc}
		doc = nil
		if e.value == "" {
			next := nextKey(lines, i+1)
			e.section = next >= 0 && lines[next].indent > l.indent
			if !e.section {
				var ex []string
				for i+1 < len(lines) && lines[i+1].comment {
					i++
					ex = append(ex, lines[i].after)
				}
				e.example = dedent(ex)
			}
			stack = append(stack, frame{l.indent, path})
		}
		out = append(out, e)
	}
	return out, nil
}

// isKey reports whether s is a plain YAML key: letters, digits and "_".
func isKey(s string) bool {
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func nextKey(lines []line, from int) int {
	for j := from; j < len(lines); j++ {
		if !lines[j].blank && !lines[j].comment {
			return j
		}
	}
	return -1
}

func dedent(ls []string) []string {
	cut := -1
	for _, l := range ls {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if cut < 0 || n < cut {
			cut = n
		}
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		if len(l) >= cut && cut > 0 {
			l = l[cut:]
		}
		out[i] = l
	}
	return out
}

func writeEntry(b *strings.Builder, e entry) {
	if e.section || e.depth == 0 {
		fmt.Fprintf(b, "%s `%s`\n\n", strings.Repeat("#", min(e.depth+3, 6)), e.path)
		if !e.section {
			fmt.Fprintf(b, "Default: %s%s.\n\n", value(e.value), env(e))
		}
		writeProse(b, e.doc, "")
		writeExample(b, e.example, "")
		return
	}
	fmt.Fprintf(b, "- `%s` (default %s%s)", e.path, value(e.value), env(e))
	if len(e.doc) == 0 && len(e.example) == 0 {
		b.WriteString("\n\n")
		return
	}
	b.WriteString(":\n")
	writeProse(b, e.doc, "  ")
	writeExample(b, e.example, "  ")
}

func value(v string) string {
	if v == "" {
		return "empty"
	}
	return "`" + v + "`"
}

// env names a key's environment variable, IDGATE_<PATH> in upper snake case.
func env(e entry) string {
	return "; env `IDGATE_" + strings.ToUpper(strings.ReplaceAll(e.path, ".", "_")) + "`"
}

// writeProse writes comment lines as paragraphs, indented by indent; lines
// indented beyond the comment's own text ("#   IDGATE_...") become a code
// block.
func writeProse(b *strings.Builder, doc []string, indent string) {
	doc = dedentCode(doc)
	inCode := false
	for _, d := range doc {
		code := strings.HasPrefix(d, "\x00")
		if code != inCode {
			if code {
				fmt.Fprintf(b, "%s\n%s```\n", strings.TrimRight(indent, " "), indent)
			} else {
				fmt.Fprintf(b, "%s```\n%s\n", indent, strings.TrimRight(indent, " "))
			}
			inCode = code
		}
		switch {
		case code:
			fmt.Fprintf(b, "%s%s\n", indent, d[1:])
		case d == "" && strings.HasSuffix(b.String(), "```\n"+strings.TrimRight(indent, " ")+"\n"):
			// the closed code block already ends the paragraph
		case d == "":
			b.WriteString(strings.TrimRight(indent, " ") + "\n")
		default:
			fmt.Fprintf(b, "%s%s\n", indent, escape(d))
		}
	}
	if inCode {
		fmt.Fprintf(b, "%s```\n", indent)
	}
	if len(doc) > 0 {
		b.WriteString("\n")
	}
}

// dedentCode marks each run of code lines (indented beyond the comment's
// text) with a leading NUL and removes the run's common indentation.
func dedentCode(doc []string) []string {
	out := make([]string, 0, len(doc))
	for i := 0; i < len(doc); {
		if !strings.HasPrefix(doc[i], " ") {
			out = append(out, doc[i])
			i++
			continue
		}
		j := i
		for j < len(doc) && strings.HasPrefix(doc[j], " ") {
			j++
		}
		for _, l := range dedent(doc[i:j]) {
			out = append(out, "\x00"+l)
		}
		i = j
	}
	return out
}

// escape keeps "<" outside code spans from reading as an HTML tag.
func escape(s string) string {
	parts := strings.Split(s, "`")
	for i := 0; i < len(parts); i += 2 {
		parts[i] = strings.ReplaceAll(parts[i], "<", "\\<")
	}
	return strings.Join(parts, "`")
}

func writeExample(b *strings.Builder, ex []string, indent string) {
	if len(ex) == 0 {
		return
	}
	fmt.Fprintf(b, "%sExample (commented out in config.yaml):\n\n%s```yaml\n", indent, indent)
	for _, l := range ex {
		fmt.Fprintf(b, "%s%s\n", indent, l)
	}
	fmt.Fprintf(b, "%s```\n\n", indent)
}

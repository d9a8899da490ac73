package migrate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on untrusted input.
const (
	maxInputBytes = 1 << 20
	maxListItems  = 1000
)

// Setting is one oauth2-proxy setting, from any source.
type Setting struct {
	// Key is the canonical name: lower case with '_' (client_id), whether
	// written as client_id, OAUTH2_PROXY_CLIENT_ID or --client-id.
	Key string
	// Values holds one item for a scalar, the items for a list.
	Values []string
	// List says the value was written as a list.
	List bool
	// Source says where it was read ("line 12", "OAUTH2_PROXY_CLIENT_ID",
	// "--client-id").
	Source string
}

// Value is the scalar value, or the list items joined with ",".
func (s Setting) Value() string { return strings.Join(s.Values, ",") }

// Parse reads an oauth2-proxy config file: `key = value` lines, values
// quoted strings ("..." or '...'), booleans, numbers or lists
// `[ "a", "b" ]` (which may span lines), `#` comments.
func Parse(r io.Reader) ([]Setting, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("migrate: read: %w", err)
	}
	if len(b) > maxInputBytes {
		return nil, fmt.Errorf("migrate: input larger than %d bytes", maxInputBytes)
	}
	p := &parser{src: string(b), line: 1}
	var out []Setting
	for {
		p.skipSpace(true)
		if p.eof() {
			return out, nil
		}
		s, err := p.setting()
		if err != nil {
			return nil, fmt.Errorf("migrate: line %d: %w", p.line, err)
		}
		out = append(out, s)
	}
}

// parser is a cursor over a config file.
type parser struct {
	src  string
	pos  int
	line int
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte { return p.src[p.pos] }

// skipSpace skips blanks and comments, and newlines when lines is set.
func (p *parser) skipSpace(lines bool) {
	for !p.eof() {
		switch c := p.peek(); {
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '\n' && lines:
			p.pos++
			p.line++
		case c == '#':
			for !p.eof() && p.peek() != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *parser) setting() (Setting, error) {
	line := p.line
	start := p.pos
	for !p.eof() && isKeyByte(p.peek()) {
		p.pos++
	}
	key := p.src[start:p.pos]
	if key == "" {
		return Setting{}, fmt.Errorf("expected a key, found %q", p.peek())
	}
	p.skipSpace(false)
	if p.eof() || p.peek() != '=' {
		return Setting{}, fmt.Errorf("%s: expected '='", key)
	}
	p.pos++
	p.skipSpace(false)
	s := Setting{Key: canonicalKey(key), Source: fmt.Sprintf("line %d", line)}
	if !p.eof() && p.peek() == '[' {
		p.pos++
		items, err := p.list()
		if err != nil {
			return Setting{}, fmt.Errorf("%s: %w", key, err)
		}
		s.Values, s.List = items, true
	} else {
		v, err := p.scalar()
		if err != nil {
			return Setting{}, fmt.Errorf("%s: %w", key, err)
		}
		s.Values = []string{v}
	}
	p.skipSpace(false)
	if !p.eof() && p.peek() != '\n' {
		return Setting{}, fmt.Errorf("%s: unexpected %q after the value", key, p.peek())
	}
	return s, nil
}

// list reads items up to the closing ']'; commas separate, a trailing one
// is allowed, newlines and comments may come between.
func (p *parser) list() ([]string, error) {
	items := []string{}
	for {
		p.skipSpace(true)
		if p.eof() {
			return nil, errors.New("unterminated list")
		}
		if p.peek() == ']' {
			p.pos++
			return items, nil
		}
		v, err := p.scalar()
		if err != nil {
			return nil, err
		}
		if items = append(items, v); len(items) > maxListItems {
			return nil, fmt.Errorf("more than %d items", maxListItems)
		}
		p.skipSpace(true)
		if !p.eof() && p.peek() == ',' {
			p.pos++
		} else if p.eof() || p.peek() != ']' {
			return nil, errors.New("expected ',' or ']' in list")
		}
	}
}

// scalar reads a quoted string or a bare word (true, 24, 0.5).
func (p *parser) scalar() (string, error) {
	if p.eof() {
		return "", errors.New("missing value")
	}
	switch q := p.peek(); q {
	case '"', '\'':
		p.pos++
		var b strings.Builder
		for !p.eof() {
			c := p.peek()
			p.pos++
			switch {
			case c == q:
				return b.String(), nil
			case c == '\n':
				return "", errors.New("unterminated string")
			case c == '\\' && q == '"' && !p.eof():
				e := p.peek()
				p.pos++
				switch e {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case '"', '\\', '/':
					b.WriteByte(e)
				default:
					return "", fmt.Errorf("unsupported escape \\%c", e)
				}
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated string")
	}
	start := p.pos
	for !p.eof() && (isKeyByte(p.peek()) || strings.IndexByte(".:+", p.peek()) >= 0) {
		p.pos++
	}
	if p.pos == start {
		return "", fmt.Errorf("unexpected %q", p.peek())
	}
	return p.src[start:p.pos], nil
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// validKey reports a non-empty name of letters, digits, '_' and '-'.
func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if !isKeyByte(k[i]) {
			return false
		}
	}
	return k != ""
}

// canonicalKey is client_id for client_id, client-id or CLIENT_ID.
func canonicalKey(k string) string {
	return strings.ReplaceAll(strings.ToLower(k), "-", "_")
}

// envPrefix starts oauth2-proxy's environment variables.
const envPrefix = "OAUTH2_PROXY_"

// ParseEnv reads NAME=value lines (an env file, `kubectl set env --list`);
// only OAUTH2_PROXY_* names are kept. Values are scalars; list settings
// are split on commas by Convert.
func ParseEnv(r io.Reader) ([]Setting, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxInputBytes))
	var out []Setting
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			return nil, fmt.Errorf("migrate: env line %d: expected NAME=value", n)
		}
		if !strings.HasPrefix(name, envPrefix) || len(name) == len(envPrefix) || !validKey(name) {
			continue
		}
		val = unquote(strings.TrimSpace(val))
		out = append(out, Setting{Key: canonicalKey(name[len(envPrefix):]), Values: []string{val}, Source: name})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("migrate: env: %w", err)
	}
	return out, nil
}

// ParseFlags reads oauth2-proxy command-line flags: --name=value, or
// --name alone (a boolean). --config is skipped: it names the file.
func ParseFlags(args []string) ([]Setting, error) {
	var out []Setting
	for _, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !validKey(name) {
			return nil, fmt.Errorf("migrate: flag %q: want --name=value", a)
		}
		if !hasVal {
			val = "true"
		}
		if k := canonicalKey(name); k != "config" {
			out = append(out, Setting{Key: k, Values: []string{unquote(val)}, Source: "--" + name})
		}
	}
	return out, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// Merge combines sources, later ones overriding earlier ones key by key
// (oauth2-proxy's order is file, environment, flags); each key keeps the
// place it first appeared in.
func Merge(sources ...[]Setting) []Setting {
	var out []Setting
	at := map[string]int{}
	for _, src := range sources {
		for _, s := range src {
			if i, ok := at[s.Key]; ok {
				out[i] = s
				continue
			}
			at[s.Key] = len(out)
			out = append(out, s)
		}
	}
	return out
}

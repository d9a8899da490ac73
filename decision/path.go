package decision

import (
	"net/url"
	"strings"
)

// A request path is read differently by each upstream: Express routes on the
// raw, still-encoded path, case-insensitively; Go and Werkzeug decode it
// first; some servers decode %2F and %5C into separators, merge "//" runs or
// drop ";params" (Tomcat, Jetty, Spring) before routing. idgate decides on
// every such reading at once: each must select the same route, or the
// request is refused, so no upstream serves a request from a route stronger
// than the one idgate applied.

// pathForm is one reading of a request path.
type pathForm struct {
	path string
	// encoded: percent-encoding kept, as Express routes. Route prefixes are
	// compared in their encoded form.
	encoded bool
}

// pathReadings returns the readings of a request target for route matching,
// the raw path first, and whether it holds an encoded "/" or "\" (%2F,
// %5C, or %252F for a server that decodes twice). ok is false for a target
// idgate refuses whatever the route:
//   - not origin-form (absolute-form "http://h/x", "*", empty), a fragment;
//   - control bytes, space, a raw backslash, %00, an invalid escape;
//   - a dot segment ("." or "..", raw or encoded, also "..;x", after
//     decoding %2F, and after decoding twice as in %252e): Envoy and
//     browsers resolve them, so only an attack sends one, and a server that
//     resolves them after its own decoding would serve another route.
//
// A plain path (no "%", ";" or "//") has one reading.
//
// forms is appended to buf, so a caller's buffer of one keeps the common
// case off the heap.
func pathReadings(target string, buf []pathForm) (forms []pathForm, encodedSlash, ok bool) {
	p := target
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" || p[0] != '/' {
		return nil, false, false
	}
	var pct, semi bool
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c <= ' ' || c == 0x7f || c == '#' || c == '\\':
			return nil, false, false
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return nil, false, false
			}
			switch unhex(p[i+1])<<4 | unhex(p[i+2]) {
			case 0:
				return nil, false, false
			case '/', '\\':
				encodedSlash = true
			}
			pct = true
			i += 2
		case c == ';':
			semi = true
		}
	}
	if !pct && !semi && !strings.Contains(p, "//") {
		if hasDotSegment(p) {
			return nil, false, false
		}
		return append(buf, pathForm{path: p, encoded: true}), false, true
	}
	forms = buf
	decoded := []pathForm{{path: p, encoded: true}}
	if pct {
		all := unescape(p, true)
		decoded = append(decoded, pathForm{path: unescape(p, false)}, pathForm{path: all})
		if strings.IndexByte(all, '%') >= 0 {
			// %252F: a server (or a proxy and its upstream) that decodes
			// twice meets an encoded slash, dot or NUL there.
			twice := unescape(all, true)
			if strings.IndexByte(twice, 0) >= 0 {
				return nil, false, false
			}
			if l := strings.ToLower(all); strings.Contains(l, "%2f") || strings.Contains(l, "%5c") {
				encodedSlash = true
			}
			decoded = append(decoded, pathForm{path: twice})
		}
	}
	for _, d := range decoded {
		variants := []string{d.path}
		if strings.IndexByte(d.path, ';') >= 0 {
			variants = append(variants, stripParams(d.path))
		}
		for _, v := range variants {
			for _, s := range []string{v, mergeSlashes(v)} {
				if hasDotSegment(s) {
					return nil, false, false
				}
				f := pathForm{path: s, encoded: d.encoded}
				if !containsForm(forms, f) {
					forms = append(forms, f)
				}
			}
		}
	}
	return forms, encodedSlash, true
}

func containsForm(forms []pathForm, f pathForm) bool {
	for _, g := range forms {
		if g == f {
			return true
		}
	}
	return false
}

// hasDotSegment reports a "." or ".." segment.
func hasDotSegment(p string) bool {
	if !strings.Contains(p, "/.") {
		return false // every segment follows a "/"
	}
	for p != "" {
		i := strings.IndexByte(p, '/')
		seg := p
		if i >= 0 {
			seg, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// unescape percent-decodes p; all also decodes %2F and %5C, both into "/"
// (the reading of a server that decodes before it routes). A "%" that does
// not start a valid escape is kept (only possible on a second decoding).
func unescape(p string, all bool) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			b.WriteByte(p[i])
			continue
		}
		c := unhex(p[i+1])<<4 | unhex(p[i+2])
		switch {
		case (c == '/' || c == '\\') && !all:
			b.WriteString(p[i : i+3])
		case c == '\\':
			b.WriteByte('/')
		default:
			b.WriteByte(c)
		}
		i += 2
	}
	return b.String()
}

// stripParams drops ";params" from every segment, as servlet containers do.
func stripParams(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for p != "" {
		i := strings.IndexByte(p, '/')
		seg := p
		if i >= 0 {
			seg, p = p[:i+1], p[i+1:]
		} else {
			p = ""
		}
		if j := strings.IndexByte(seg, ';'); j >= 0 {
			if strings.HasSuffix(seg, "/") {
				seg = seg[:j] + "/"
			} else {
				seg = seg[:j]
			}
		}
		b.WriteString(seg)
	}
	return b.String()
}

// mergeSlashes collapses "//" runs, as Envoy's merge_slashes and Werkzeug do.
func mergeSlashes(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// encodedPrefix is a route prefix as it appears in a raw request path.
func encodedPrefix(prefix string) string {
	return (&url.URL{Path: prefix}).EscapedPath()
}

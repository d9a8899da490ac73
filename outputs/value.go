package outputs

import "strings"

// headerValue makes s safe for an HTTP header value. It refuses (ok=false)
// any control character, since a claim carrying CR, LF or NUL is an attack or
// garbage and must never be passed on. Printable ASCII without '%' passes
// unchanged; any other value is percent-encoded whole (UTF-8 bytes, and '%'
// itself, as in RFC 3986). The mapping is injective: an unchanged value has
// no '%' and an encoded one always has, so "é" (%C3%A9) and the literal
// "%C3%A9" (%25C3%25A9) never give the same header.
func headerValue(s string) (v string, ok bool) {
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return "", false
		}
		if c >= 0x80 || c == '%' {
			plain = false
		}
	}
	if plain {
		return s, true
	}
	return percentEncode(s, ""), true
}

// percentEncode encodes bytes outside printable ASCII, '%', and any byte in
// extra.
func percentEncode(s, extra string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '%' || strings.IndexByte(extra, c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// groupsValue joins groups with ",". A group with a control character is
// dropped; a group with a comma, '%' or a non-ASCII byte is percent-encoded
// so the list still splits on "," and distinct groups stay distinct.
// dropped counts the groups left out.
func groupsValue(groups []string) (v string, dropped int) {
	if len(groups) == 1 && plainGroup(groups[0]) {
		return groups[0], 0
	}
	var b strings.Builder
	n := len(groups) - 1
	for _, g := range groups {
		n += len(g)
	}
	b.Grow(n) // one allocation when no group needs encoding
	for _, g := range groups {
		if _, ok := headerValue(g); !ok || g == "" {
			dropped++
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if plainGroup(g) {
			b.WriteString(g)
		} else {
			b.WriteString(percentEncode(g, ","))
		}
	}
	return b.String(), dropped
}

func plainGroup(g string) bool {
	for i := 0; i < len(g); i++ {
		if c := g[i]; c < 0x20 || c >= 0x7f || c == ',' || c == '%' {
			return false
		}
	}
	return g != ""
}

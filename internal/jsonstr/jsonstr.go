// Package jsonstr appends Go strings as JSON strings, byte for byte as the
// standard library's encoders write them, for the hot-path writers that
// build JSON without reflection: the decision log line (slog's JSON
// handler) and the signed identity headers (encoding/json). Each user
// holds its output to its oracle with fuzz tests.
package jsonstr

import "unicode/utf8"

// Style says which encoder's escaping to match.
type Style uint8

const (
	// Slog is log/slog's JSON handler: ", \ and control bytes escaped
	// (\n, \r, \t, else \u00XX), HTML characters left alone.
	Slog Style = 0
	// ShortBF writes \b and \f for those two bytes, as encoding/json
	// does, instead of \u0008 and \u000c.
	ShortBF Style = 1 << iota
	// HTML escapes <, > and & as \u003c, \u003e and \u0026, as
	// json.Marshal does.
	HTML
	// Marshal is json.Marshal's escaping.
	Marshal = ShortBF | HTML
)

const hex = "0123456789abcdef"

// Append appends s quoted in style: invalid UTF-8 as \ufffd, U+2028 and
// U+2029 escaped (in every style, as both encoders do).
func Append(b []byte, s string, style Style) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (style&HTML == 0 || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '\\' || c == '"':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case style&ShortBF != 0 && c == '\b':
				b = append(b, '\\', 'b')
			case style&ShortBF != 0 && c == '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// members calls fn with the exact name and raw value of each top-level
// member of the JSON object b. It refuses anything but one JSON object and
// an object naming a member twice: parsers disagree on which copy wins, and
// encoding/json's struct matching ignores case ("Sub" would fill Subject),
// so claims are matched here by exact name instead.
//
// b is checked with json.Valid first, so the walk below only has to find
// where each name and value ends.
func members(b []byte, fn func(name string, raw []byte) error) error {
	if !json.Valid(b) {
		return fmt.Errorf("%w: invalid JSON", ErrMalformed)
	}
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	var seen [24]string
	names := seen[:0]
	i = skipSpace(b, i+1)
	for b[i] != '}' {
		end := stringEnd(b, i)
		var name string
		if err := stringValue(b[i:end], &name); err != nil {
			return err
		}
		for _, n := range names {
			if n == name {
				return fmt.Errorf("%w: member %q twice", ErrMalformed, name)
			}
		}
		names = append(names, name)
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // ':'
		vend := valueEnd(b, i)
		if err := fn(name, b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the value starting at b[i].
func valueEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = stringEnd(b, i) - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		if depth == 0 && (b[i] == '"' || b[i] == '}' || b[i] == ']') {
			return i + 1
		}
	}
	return i
}

// stringValue reads a JSON string (raw is valid JSON).
func stringValue(raw []byte, dst *string) error {
	if len(raw) < 2 || raw[0] != '"' {
		return fmt.Errorf("%w: want a string", ErrMalformed)
	}
	if body := raw[1 : len(raw)-1]; bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		*dst = string(body)
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// stringsValue reads a JSON array of strings (raw is valid JSON).
func stringsValue(raw []byte, dst *[]string) error {
	if len(raw) == 0 || raw[0] != '[' {
		return fmt.Errorf("%w: want an array of strings", ErrMalformed)
	}
	out := []string{}
	i := skipSpace(raw, 1)
	for raw[i] != ']' {
		end := valueEnd(raw, i)
		var s string
		if err := stringValue(raw[i:end], &s); err != nil {
			return err
		}
		out = append(out, s)
		i = skipSpace(raw, end)
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	*dst = out
	return nil
}

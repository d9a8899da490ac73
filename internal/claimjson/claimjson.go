package claimjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Errors of Members and the value readers.
var (
	// ErrMalformed: not one JSON object, or a value of the wrong type.
	ErrMalformed = errors.New("claimjson: malformed JSON object")
	// ErrDuplicate: a member name appears twice. Parsers disagree on which
	// copy wins (first, last, error), so a signed object with two copies
	// means different things to different readers.
	ErrDuplicate = errors.New("claimjson: duplicate member name")
)

// smallObject is the member count up to which duplicates are found by
// comparing names pairwise, without allocating.
const smallObject = 32

// Members calls fn with the name (unescaped, exact) and raw value of every
// top-level member of the JSON object b, in order. It refuses anything but
// one valid JSON object, and an object naming a member twice. The slices
// passed to fn alias b (or a scratch buffer for an escaped name) and must
// not be kept; fn's error stops the walk and is returned.
func Members(b []byte, fn func(name, value []byte) error) error {
	if !json.Valid(b) {
		return ErrMalformed
	}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return ErrMalformed
	}
	var seen nameSet
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return nil
	}
	for {
		end := stringEnd(b, i)
		name, err := unquote(b[i:end])
		if err != nil {
			return err
		}
		if seen.add(name) {
			return ErrDuplicate
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // ':'
		vend := valueEnd(b, i)
		if err := fn(name, b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1) // ','
	}
}

// nameSet is the names seen so far: pairwise comparison while few, a map
// past smallObject.
type nameSet struct {
	small [smallObject][]byte
	n     int
	many  map[string]struct{}
}

// add records name and reports whether it was seen before.
func (ns *nameSet) add(name []byte) (dup bool) {
	if ns.many != nil {
		if _, ok := ns.many[string(name)]; ok {
			return true
		}
		ns.many[string(name)] = struct{}{}
		return false
	}
	for _, s := range ns.small[:ns.n] {
		if bytes.Equal(s, name) {
			return true
		}
	}
	if ns.n < smallObject {
		ns.small[ns.n] = name
		ns.n++
		return false
	}
	ns.many = make(map[string]struct{}, 2*smallObject)
	for _, s := range ns.small {
		ns.many[string(s)] = struct{}{}
	}
	ns.many[string(name)] = struct{}{}
	return false
}

// unquote returns the content of the JSON string q (quotes included):
// a sub-slice when it holds no escape, else a decoded copy.
func unquote(q []byte) ([]byte, error) {
	inner := q[1 : len(q)-1]
	if plain(inner) {
		return inner, nil
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return nil, ErrMalformed
	}
	return []byte(s), nil
}

// plain reports whether a string's raw content decodes to itself: ASCII
// (encoding/json replaces invalid UTF-8) without escapes.
func plain(s []byte) bool {
	for _, c := range s {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i].
// b is valid JSON.
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

// valueEnd returns the index just past the JSON value starting at b[i].
// b is valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// IsNull reports whether v is the JSON literal null.
func IsNull(v []byte) bool { return string(v) == "null" }

// String reads a string value; null is "". Any other type is ErrMalformed.
func String(v []byte) (string, error) {
	if IsNull(v) {
		return "", nil
	}
	if len(v) < 2 || v[0] != '"' {
		return "", ErrMalformed
	}
	s, err := unquote(v)
	return string(s), err
}

// Number reads a number value. Any other type, and a number out of the
// float64 range, is ErrMalformed.
func Number(v []byte) (float64, error) {
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, ErrMalformed
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, ErrMalformed
	}
	return f, nil
}

// Has reports whether the JSON object v has a member named name; null and
// an absent value (empty v) have none. A value that is not an object is
// ErrMalformed.
func Has(v []byte, name string) (bool, error) {
	if len(v) == 0 || IsNull(v) {
		return false, nil
	}
	found := false
	err := Members(v, func(n, _ []byte) error {
		if string(n) == name {
			found = true
		}
		return nil
	})
	return found, err
}

package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// members calls fn with the exact name and raw value of each top-level
// member of the JSON object b. It refuses anything but one JSON object and
// an object naming a member twice: parsers disagree on which copy wins, and
// encoding/json's struct matching ignores case ("Sub" would fill Subject),
// so claims are matched here by exact name instead.
func members(b []byte, fn func(name string, raw []byte) error) error {
	if !json.Valid(b) {
		return fmt.Errorf("%w: invalid JSON", ErrMalformed)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	seen := make(map[string]struct{}, 16)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		name, _ := tok.(string)
		if _, dup := seen[name]; dup {
			return fmt.Errorf("%w: member %q twice", ErrMalformed, name)
		}
		seen[name] = struct{}{}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if err := fn(name, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	return nil
}

func stringValue(raw []byte, dst *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return fmt.Errorf("%w: want a string", ErrMalformed)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

func stringsValue(raw []byte, dst *[]string) error {
	if len(raw) == 0 || raw[0] != '[' {
		return fmt.Errorf("%w: want an array of strings", ErrMalformed)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if err := stringValue(e, &out[i]); err != nil {
			return err
		}
	}
	*dst = out
	return nil
}

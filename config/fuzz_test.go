package config

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary YAML to Parse: it must never panic, every error
// line must name its origin, and an accepted configuration must validate
// again unchanged. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(bytes.NewReader(data), nil)
		if err != nil {
			for line := range strings.Lines(err.Error()) {
				if !strings.HasPrefix(line, "config: ") {
					t.Fatalf("error line %q does not start with \"config: \"", line)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted configuration does not validate again: %v", err)
		}
	})
}

package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: the oauth2-proxy parser never panics on any input, and what
// it accepts converts to a config whose lines carry no CR or NUL and whose
// comments never hold a secret.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.cfg"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("a = [\n\"x\",\n]")
	f.Add(`client_secret = "hunter2-secret"`)
	f.Fuzz(func(t *testing.T, in string) {
		settings, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range settings {
			if !validKey(s.Key) {
				t.Fatalf("key %q", s.Key)
			}
		}
		out := Convert(settings)
		if strings.ContainsAny(out, "\r\x00") {
			t.Fatalf("output holds CR or NUL:\n%q", out)
		}
		var public strings.Builder // what may be printed
		for _, s := range settings {
			if !isSecret(s) {
				public.WriteString(s.Key + "=" + strings.Join(s.Values, "\x00") + "\n")
			}
		}
		for _, s := range settings {
			v := s.Value()
			if isSecret(s) && len(v) >= 8 && strings.Contains(out, v) && !strings.Contains(public.String(), v) {
				t.Fatalf("secret %s printed", s.Key)
			}
		}
	})
}

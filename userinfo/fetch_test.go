package userinfo

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// FuzzParseProfile feeds arbitrary userinfo bodies to the parser: it must
// never panic, and nothing it returns may carry CR, LF or NUL.
func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(`{"sub":"s","email":"a@example.com","email_verified":"true","groups":"a, b c"}`))
	f.Add([]byte(`{"sub":"s","name":"a\r\nb","groups":["x","y\u0000"]}`))
	f.Add([]byte(`[1,2]`))
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		f.Fatal(err)
	}
	r := &Resolver{metrics: m}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := r.parseProfile(body)
		if err != nil {
			return
		}
		p.Subject = "" // compared to the token's sub, never emitted on its own
		if !profileSafe(&p) {
			t.Fatalf("unsafe profile %+v from %q", p, body)
		}
	})
}

package login

import "testing"

// BenchmarkSession is the hot path of a logged-in browser request (local
// store, no refresh due).
func BenchmarkSession(b *testing.B) {
	e := MustEnv(b, envOptions{})
	br := newBrowser()
	e.MustLogin(br, "/")
	req := br.get("/x")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := e.flow.Session(b.Context(), req); !ok {
			b.Fatal("no session")
		}
	}
}

func BenchmarkSessionRedis(b *testing.B) {
	e := MustEnv(b, envOptions{redis: true})
	br := newBrowser()
	e.MustLogin(br, "/")
	req := br.get("/x")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := e.flow.Session(b.Context(), req); !ok {
			b.Fatal("no session")
		}
	}
}

func BenchmarkSafeReturnPath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = safeReturnPath("/notebooks/user/lab/tree?path=%2Fhome%2Fjovyan")
	}
}

package session

import "testing"

func BenchmarkGetLocal(b *testing.B) {
	s := MustStore(b, Config{Keys: [][]byte{key(1)}})
	cookie := MustCreate(b, s, sampleSession())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(b.Context(), cookie); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRedis(b *testing.B) {
	_, rc := MustRedis(b)
	s := MustStore(b, Config{Redis: rc, Keys: [][]byte{key(1)}})
	cookie := MustCreate(b, s, sampleSession())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(b.Context(), cookie); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRotatedKey(b *testing.B) {
	old := MustStore(b, Config{Keys: [][]byte{key(1)}})
	s := MustStore(b, Config{Keys: [][]byte{key(2), key(3), key(1)}})
	s.sessions = old.sessions
	cookie := MustCreate(b, old, sampleSession())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(b.Context(), cookie); err != nil {
			b.Fatal(err)
		}
	}
}

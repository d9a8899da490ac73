package session

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	backends(t, Config{}, func(t *testing.T, s *Store, clk *clock) {
		want := sampleSession()
		cookie := MustCreate(t, s, want)
		if len(cookie) != cookieLen || strings.Count(cookie, ".") != 1 {
			t.Fatalf("cookie %q: want base64url(id).base64url(mac)", cookie)
		}
		got, err := s.Get(t.Context(), cookie)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		want.Created, want.LastSeen = clk.Now(), clk.Now()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Get = %+v\nwant %+v", got, want)
		}
		got.AccessToken = "new-access"
		if err := s.Update(t.Context(), cookie, got); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if again, _ := s.Get(t.Context(), cookie); again == nil || again.AccessToken != "new-access" {
			t.Fatalf("after Update: %+v", again)
		}
		if err := s.Delete(t.Context(), cookie); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Get(t.Context(), cookie); !errors.Is(err, ErrNoSession) {
			t.Fatalf("Get after Delete: %v, want ErrNoSession", err)
		}
		if err := s.Update(t.Context(), cookie, got); !errors.Is(err, ErrNoSession) {
			t.Fatalf("Update after Delete: %v, want ErrNoSession (no resurrection)", err)
		}
	})
}

func TestGetRefusesBadCookies(t *testing.T) {
	backends(t, Config{}, func(t *testing.T, s *Store, _ *clock) {
		good := MustCreate(t, s, sampleSession())
		other := MustStore(t, Config{Keys: [][]byte{key(9)}})
		foreign := MustCreate(t, other, sampleSession())
		flip := func(i int) string {
			b := []byte(good)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return string(b)
		}
		cases := []struct{ name, cookie string }{
			{"empty", ""},
			{"garbage", "not-a-cookie"},
			{"id only", good[:encodedIDLen]},
			{"tampered id", flip(3)},
			{"tampered mac", flip(len(good) - 3)},
			{"swapped halves", good[encodedIDLen+1:] + "." + good[:encodedIDLen]},
			{"other key", foreign},
			{"padding", good + "="},
			{"unknown id", other.cookieFor(newID())},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := s.Get(t.Context(), tc.cookie); !errors.Is(err, ErrNoSession) {
					t.Fatalf("Get(%q) = %v, want ErrNoSession", tc.cookie, err)
				}
			})
		}
	})
}

func TestExpiry(t *testing.T) {
	cfg := Config{TTL: time.Hour, IdleTTL: 20 * time.Minute}
	t.Run("absolute", func(t *testing.T) {
		backends(t, cfg, func(t *testing.T, s *Store, clk *clock) {
			cookie := MustCreate(t, s, sampleSession())
			for range 5 { // keep it busy: idle never hits, absolute does
				clk.Advance(10 * time.Minute)
				if _, err := s.Get(t.Context(), cookie); err != nil {
					t.Fatalf("Get at %v: %v", clk.Now(), err)
				}
			}
			clk.Advance(10 * time.Minute)
			if _, err := s.Get(t.Context(), cookie); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Get after TTL: %v, want ErrNoSession", err)
			}
		})
	})
	t.Run("idle", func(t *testing.T) {
		backends(t, cfg, func(t *testing.T, s *Store, clk *clock) {
			cookie := MustCreate(t, s, sampleSession())
			clk.Advance(19 * time.Minute)
			if _, err := s.Get(t.Context(), cookie); err != nil {
				t.Fatalf("Get before idle: %v", err)
			}
			clk.Advance(19 * time.Minute) // 38m after creation, 19m after use
			if _, err := s.Get(t.Context(), cookie); err != nil {
				t.Fatalf("Get after a touch: %v", err)
			}
			clk.Advance(20 * time.Minute)
			if _, err := s.Get(t.Context(), cookie); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Get after idle: %v, want ErrNoSession", err)
			}
		})
	})
	t.Run("update past TTL", func(t *testing.T) {
		backends(t, cfg, func(t *testing.T, s *Store, clk *clock) {
			cookie := MustCreate(t, s, sampleSession())
			sess, _ := s.Get(t.Context(), cookie)
			clk.Advance(2 * time.Hour)
			if err := s.Update(t.Context(), cookie, sess); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Update past TTL: %v, want ErrNoSession", err)
			}
		})
	})
}

func TestTouchDoesNotUndoUpdate(t *testing.T) {
	backends(t, Config{IdleTTL: 20 * time.Minute}, func(t *testing.T, s *Store, clk *clock) {
		cookie := MustCreate(t, s, sampleSession())
		id, _ := s.idFromCookie(cookie)
		key := s.sessionKey(id)
		stale, _ := s.sessions.get(t.Context(), key)
		sess, _ := s.Get(t.Context(), cookie)
		sess.RefreshToken = "rotated"
		if err := s.Update(t.Context(), cookie, sess); err != nil {
			t.Fatal(err)
		}
		// A Get that read the value before the Update touches it late.
		clk.Advance(10 * time.Minute)
		s.touch(t.Context(), id, key, stale, *sampleSession(), clk.Now())
		got, err := s.Get(t.Context(), cookie)
		if err != nil || got.RefreshToken != "rotated" {
			t.Fatalf("Get = %+v, %v; want the updated refresh token", got, err)
		}
	})
}

func TestState(t *testing.T) {
	backends(t, Config{StateTTL: 5 * time.Minute}, func(t *testing.T, s *Store, clk *clock) {
		want := State{Verifier: "v", Nonce: "n", ReturnTo: "/x?y=1", Binding: "b"}
		id, err := s.PutState(t.Context(), want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.TakeState(t.Context(), id)
		want.Created = clk.Now()
		if err != nil || got != want {
			t.Fatalf("TakeState = %+v, %v; want %+v", got, err, want)
		}
		if _, err := s.TakeState(t.Context(), id); !errors.Is(err, ErrNoState) {
			t.Fatalf("replayed TakeState: %v, want ErrNoState", err)
		}
		expired, _ := s.PutState(t.Context(), want)
		clk.Advance(5 * time.Minute)
		for name, id := range map[string]string{
			"expired": expired, "empty": "", "short": "abc",
			"bad base64": strings.Repeat("*", encodedIDLen), "unknown": b64.EncodeToString(newID()),
		} {
			t.Run(name, func(t *testing.T) {
				if _, err := s.TakeState(t.Context(), id); !errors.Is(err, ErrNoState) {
					t.Fatalf("TakeState(%q) = %v, want ErrNoState", id, err)
				}
			})
		}
	})
}

func TestStateIsNotASession(t *testing.T) {
	s := MustStore(t, Config{Keys: [][]byte{key(1)}})
	id, _ := s.PutState(t.Context(), State{Verifier: "v"})
	val, _ := s.states.get(t.Context(), s.stateKey(id))
	raw, _ := b64.DecodeString(id)
	if _, err := s.open(kindSession, raw, val); err == nil {
		t.Fatal("a sealed state opened as a session")
	}
}

func TestKeyRotation(t *testing.T) {
	_, rc := MustRedis(t)
	old := MustStore(t, Config{Redis: rc, Keys: [][]byte{key(1)}})
	cookie := MustCreate(t, old, sampleSession())
	stateID, _ := old.PutState(t.Context(), State{Verifier: "v"})

	rotated := MustStore(t, Config{Redis: rc, Keys: [][]byte{key(2), key(1)}})
	got, err := rotated.Get(t.Context(), cookie)
	if err != nil || got.AccessToken != "access-token-SECRET-a" {
		t.Fatalf("Get after rotation = %+v, %v", got, err)
	}
	if _, err := rotated.TakeState(t.Context(), stateID); err != nil {
		t.Fatalf("TakeState after rotation: %v", err)
	}
	// Updating re-encrypts with the new key; the old key can then be retired.
	if err := rotated.Update(t.Context(), cookie, got); err != nil {
		t.Fatal(err)
	}
	newCookie := MustCreate(t, rotated, sampleSession())
	retired := MustStore(t, Config{Redis: rc, Keys: [][]byte{key(2)}})
	if _, err := retired.Get(t.Context(), newCookie); err != nil {
		t.Fatalf("new cookie with only the new key: %v", err)
	}
	if _, err := retired.Get(t.Context(), cookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("old-key cookie after the old key is removed: %v, want ErrNoSession", err)
	}
	if _, err := old.Get(t.Context(), newCookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("new cookie on an old replica: %v, want ErrNoSession", err)
	}
}

func TestConfigMustFail(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no keys", Config{}, "keys"},
		{"short key", Config{Keys: [][]byte{key(1), make([]byte, 31)}}, "keys[1]"},
		{"negative ttl", Config{Keys: [][]byte{key(1)}, TTL: -1}, "ttl"},
		{"negative idle", Config{Keys: [][]byte{key(1)}, IdleTTL: -1}, "idle_ttl"},
		{"negative state ttl", Config{Keys: [][]byte{key(1)}, StateTTL: -1}, "state_ttl"},
		{"negative max", Config{Keys: [][]byte{key(1)}, MaxLocal: -1}, "max_local"},
		{"negative timeout", Config{Keys: [][]byte{key(1)}, Timeout: -1}, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), "session: "+tc.want) {
				t.Fatalf("New = %v, want an error about %s", err, tc.want)
			}
		})
	}
}

func TestLocalBound(t *testing.T) {
	s := MustStore(t, Config{Keys: [][]byte{key(1)}, MaxLocal: 2})
	first := MustCreate(t, s, sampleSession())
	second := MustCreate(t, s, sampleSession())
	for range 10 { // a flood of logins does not evict sessions
		if _, err := s.PutState(t.Context(), State{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(t.Context(), first); err != nil {
		t.Fatalf("session evicted by states: %v", err)
	}
	MustCreate(t, s, sampleSession()) // evicts the least recently used: second
	if _, err := s.Get(t.Context(), second); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Get of evicted session: %v, want ErrNoSession", err)
	}
	if _, err := s.Get(t.Context(), first); err != nil {
		t.Fatalf("recently used session evicted: %v", err)
	}
}

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
	clk := newClock()
	s := MustStore(t, Config{Keys: [][]byte{key(1)}, StateTTL: 5 * time.Minute, Now: clk.Now})
	want := State{ID: "state-id", Verifier: "v", Nonce: "n", ReturnTo: "/x?y=1"}
	sealed, err := s.SealState(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenState(sealed)
	created := got.Created
	want.Created, got.Created = time.Time{}, time.Time{}
	if err != nil || got != want || !created.Equal(clk.Now()) {
		t.Fatalf("OpenState = %+v, %v; want %+v", got, err, want)
	}
	if strings.Contains(sealed, "/x") || len(sealed) > MaxSealedState {
		t.Fatalf("sealed state %q is readable or too long", sealed)
	}
	raw, _ := b64.DecodeString(sealed)
	flipped := append([]byte{}, raw...)
	flipped[len(flipped)-1] ^= 1
	cookie := MustCreate(t, s, sampleSession())
	id, _ := s.idFromCookie(cookie)
	sessionVal, _ := s.sessions.get(t.Context(), s.sessionKey(id))
	other, _ := MustStore(t, Config{Keys: [][]byte{key(2)}, Now: clk.Now}).SealState(want)
	future, _ := MustStore(t, Config{Keys: [][]byte{key(1)}, Now: func() time.Time { return clk.Now().Add(time.Hour) }}).SealState(want)
	tooLong := b64.EncodeToString(s.seal(kindState, stateAD, []byte(`{"s":"x","r":"`+strings.Repeat("a", MaxSealedState)+`"}`)))
	for name, v := range map[string]string{
		"empty": "", "not base64": "*", "flipped": b64.EncodeToString(flipped),
		"other key": other, "from the future": future, "too long": tooLong,
		"a session value": b64.EncodeToString(sessionVal),
		"no id":           b64.EncodeToString(s.seal(kindState, stateAD, []byte(`{"v":"x"}`))),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.OpenState(v); !errors.Is(err, ErrNoState) {
				t.Fatalf("OpenState = %v, want ErrNoState", err)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		clk.Advance(5 * time.Minute)
		if _, err := s.OpenState(sealed); !errors.Is(err, ErrNoState) {
			t.Fatalf("OpenState after StateTTL = %v, want ErrNoState", err)
		}
	})
	t.Run("too large to seal", func(t *testing.T) {
		if _, err := s.SealState(State{ID: "x", ReturnTo: strings.Repeat("a", MaxSealedState)}); err == nil {
			t.Fatal("SealState made a value longer than MaxSealedState")
		}
	})
}

func TestKeyRotation(t *testing.T) {
	_, rc := MustRedis(t)
	old := MustStore(t, Config{Redis: rc, Keys: [][]byte{key(1)}})
	cookie := MustCreate(t, old, sampleSession())
	sealed, _ := old.SealState(State{ID: "x", Verifier: "v"})

	rotated := MustStore(t, Config{Redis: rc, Keys: [][]byte{key(2), key(1)}})
	got, err := rotated.Get(t.Context(), cookie)
	if err != nil || got.AccessToken != "access-token-SECRET-a" {
		t.Fatalf("Get after rotation = %+v, %v", got, err)
	}
	if _, err := rotated.OpenState(sealed); err != nil {
		t.Fatalf("OpenState after rotation: %v", err)
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
			_, err := New(withDefaults(tc.cfg))
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
	for range 10 { // a flood of logins stores nothing, so evicts nothing
		if _, err := s.SealState(State{ID: "x"}); err != nil {
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

package session

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRedisAtRest(t *testing.T) {
	_, rc := MustRedis(t)
	s := MustStore(t, Config{Redis: rc, Keys: [][]byte{key(1)}, KeyPrefix: "t1:"})
	cookie := MustCreate(t, s, sampleSession())
	if _, err := s.SealState(State{ID: "x", Verifier: "pkce-verifier-SECRET"}); err != nil {
		t.Fatal(err)
	}
	keys, err := rc.Keys(t.Context(), "*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys = %v, %v; want one session (a sealed state is never stored)", keys, err)
	}
	idPart := cookie[:encodedIDLen]
	for _, k := range keys {
		if !strings.HasPrefix(k, "t1:session:") {
			t.Errorf("unexpected key %q", k)
		}
		if strings.Contains(k, idPart) {
			t.Errorf("key %q reveals the cookie id", k)
		}
		val, _ := rc.Get(t.Context(), k).Result()
		for _, secret := range []string{"SECRET", "alice", idPart, cookie} {
			if strings.Contains(val, secret) {
				t.Errorf("value of %q contains %q in clear", k, secret)
			}
		}
		if val[0] != formatV1 {
			t.Errorf("value of %q starts with %d, want format byte %d", k, val[0], formatV1)
		}
		if ttl := rc.PTTL(t.Context(), k).Val(); ttl <= 0 {
			t.Errorf("key %q has no expiry (%v)", k, ttl)
		}
	}
}

func TestRedisVersionByte(t *testing.T) {
	_, rc := MustRedis(t)
	s := MustStore(t, Config{Redis: rc, Keys: [][]byte{key(1)}})
	cookie := MustCreate(t, s, sampleSession())
	id, _ := s.idFromCookie(cookie)
	k := s.sessionKey(id)
	val, _ := rc.Get(t.Context(), k).Bytes()
	for _, tc := range []struct {
		name string
		val  []byte
	}{
		{"future version", append([]byte{2}, val[1:]...)},
		{"version zero", append([]byte{0}, val[1:]...)},
		{"truncated", val[:headerLen]},
		{"empty", nil},
		{"flipped ciphertext", append(append([]byte{}, val[:len(val)-1]...), val[len(val)-1]^1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc.Set(t.Context(), k, tc.val, time.Minute)
			if _, err := s.Get(t.Context(), cookie); !errors.Is(err, ErrNoSession) {
				t.Fatalf("Get = %v, want ErrNoSession", err)
			}
		})
	}
}

func TestRedisSurvivesIdgateRestart(t *testing.T) {
	_, rc := MustRedis(t)
	cfg := Config{Redis: rc, Keys: [][]byte{key(1)}}
	cookie := MustCreate(t, MustStore(t, cfg), sampleSession())
	got, err := MustStore(t, cfg).Get(t.Context(), cookie)
	if err != nil || got.Subject != "alice" {
		t.Fatalf("Get on a new Store = %+v, %v", got, err)
	}
}

func TestRedisRestartLosesSessionsOnly(t *testing.T) {
	srv, rc := MustRedis(t)
	s := MustStore(t, Config{Redis: rc, Keys: [][]byte{key(1)}, Timeout: 200 * time.Millisecond})
	cookie := MustCreate(t, s, sampleSession())
	sealed, _ := s.SealState(State{ID: "x"})

	srv.Kill()
	start := time.Now()
	_, err := s.Get(t.Context(), cookie)
	if err == nil || errors.Is(err, ErrNoSession) {
		t.Fatalf("Get with Redis down = %v, want a Redis error", err)
	}
	if strings.Contains(err.Error(), cookie[:encodedIDLen]) {
		t.Fatalf("error %q reveals the cookie", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Get with Redis down took %v", d)
	}
	if _, err := s.OpenState(sealed); err != nil {
		t.Fatalf("OpenState with Redis down: %v (a login in flight needs no Redis)", err)
	}

	srv.Restart()
	if _, err := s.Get(t.Context(), cookie); !errors.Is(err, ErrNoSession) {
		t.Fatalf("Get after redis restart = %v, want ErrNoSession", err)
	}
	if _, err := s.Create(t.Context(), sampleSession()); err != nil {
		t.Fatalf("Create after redis restart: %v", err)
	}
}

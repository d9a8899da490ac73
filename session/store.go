package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/idgate/idgate/identity"
)

// Session is one logged-in browser.
type Session struct {
	// Issuer and Subject are the verified iss and sub of the login's ID token.
	Issuer, Subject string
	// Identity is the verified identity, a snapshot taken at login (and
	// renewed when a refresh brings a new ID token).
	Identity identity.Identity
	// AccessToken, RefreshToken and IDToken are the tokens the IdP issued;
	// they are encrypted at rest.
	AccessToken, RefreshToken, IDToken string
	// AccessExpiry is when AccessToken expires (zero when unknown).
	AccessExpiry time.Time
	// Nonce is the login's nonce: a refreshed ID token may only carry this
	// one (OIDC Core 12.2). Empty in sessions older than this field.
	Nonce string `json:",omitempty"`
	// CookieName is the cookie name the session was issued under. A session
	// issued under a __Host- name is never accepted under another name, so a
	// sibling subdomain cannot plant it; empty in older sessions.
	CookieName string `json:",omitempty"`
	// Created is when the session began; it ends Created+TTL.
	Created time.Time
	// LastSeen is when the session was last used, to within the touch
	// interval; with an IdleTTL it ends LastSeen+IdleTTL.
	LastSeen time.Time
}

// Store keeps sessions and seals login states (which it never stores). It
// is safe for concurrent use.
type Store struct {
	cfg      Config
	keys     []*keySet
	sessions backend
}

// New validates cfg, fills its defaults and returns a Store.
func New(cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg}
	for _, k := range cfg.Keys {
		ks, err := deriveKeys(k)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, ks)
	}
	if cfg.Redis != nil {
		s.sessions = &redisBackend{c: cfg.Redis, timeout: cfg.Timeout}
		return s, nil
	}
	var err error
	if s.sessions, err = newLocalBackend(cfg.MaxLocal, cfg.Now); err != nil {
		return nil, err
	}
	return s, nil
}

// TTL is the absolute session life (the session cookie's Max-Age).
func (s *Store) TTL() time.Duration { return s.cfg.TTL }

// StateTTL is the life of a login state (the state cookie's Max-Age).
func (s *Store) StateTTL() time.Duration { return s.cfg.StateTTL }

// sessionKey names a session by a hash of its id, so a dump of Redis does
// not reveal live cookie values.
func (s *Store) sessionKey(id []byte) string {
	sum := sha256.Sum256(id)
	return s.cfg.KeyPrefix + "session:" + hex.EncodeToString(sum[:])
}

// remaining is how long sess may still live at now (≤ 0: it has ended).
func (s *Store) remaining(sess *Session, now time.Time) time.Duration {
	d := sess.Created.Add(s.cfg.TTL).Sub(now)
	if s.cfg.IdleTTL > 0 {
		d = min(d, sess.LastSeen.Add(s.cfg.IdleTTL).Sub(now))
	}
	return d
}

func (s *Store) sealSession(id []byte, sess *Session) ([]byte, error) {
	b, err := json.Marshal(sess)
	if err != nil {
		return nil, err
	}
	return s.seal(kindSession, id, b), nil
}

// Create stores a new session under a random 256-bit id and returns the
// cookie value: base64url(id) "." base64url(HMAC(id)).
func (s *Store) Create(ctx context.Context, sess *Session) (string, error) {
	now := s.cfg.Now()
	c := *sess
	if c.Created.IsZero() {
		c.Created = now
	}
	if c.LastSeen.IsZero() {
		c.LastSeen = now
	}
	ttl := s.remaining(&c, now)
	if ttl <= 0 {
		return "", ErrNoSession
	}
	id := newID()
	val, err := s.sealSession(id, &c)
	if err != nil {
		return "", err
	}
	if _, err := s.sessions.set(ctx, s.sessionKey(id), val, ttl, false); err != nil {
		return "", err
	}
	return s.cookieFor(id), nil
}

// Get returns the session a cookie names, with its tokens decrypted. It
// returns ErrNoSession for a bad MAC, an unknown, expired or idle session or
// an undecodable value, and the store's error when Redis fails.
func (s *Store) Get(ctx context.Context, cookie string) (*Session, error) {
	id, err := s.idFromCookie(cookie)
	if err != nil {
		return nil, err
	}
	key := s.sessionKey(id)
	val, err := s.sessions.get(ctx, key)
	if err != nil {
		return nil, err
	}
	if val == nil {
		return nil, ErrNoSession
	}
	pt, err := s.open(kindSession, id, val)
	if err != nil {
		return nil, ErrNoSession
	}
	var sess Session
	if err := json.Unmarshal(pt, &sess); err != nil {
		return nil, ErrNoSession
	}
	now := s.cfg.Now()
	if s.remaining(&sess, now) <= 0 {
		_ = s.sessions.del(ctx, key)
		return nil, ErrNoSession
	}
	if s.cfg.IdleTTL > 0 && now.Sub(sess.LastSeen) >= s.touchEvery() {
		s.touch(ctx, id, key, val, sess, now)
	}
	return &sess, nil
}

// touchEvery is how stale LastSeen may get before Get writes it back.
func (s *Store) touchEvery() time.Duration { return min(s.cfg.IdleTTL/4, time.Minute) }

// touch records use of a session. It only replaces the exact value read, so
// it never undoes a concurrent Update; failing to touch is harmless.
func (s *Store) touch(ctx context.Context, id []byte, key string, old []byte, sess Session, now time.Time) {
	sess.LastSeen = now
	val, err := s.sealSession(id, &sess)
	if err != nil {
		return
	}
	_ = s.sessions.swap(ctx, key, old, val, s.remaining(&sess, now))
}

// Update replaces the stored session a cookie names. It returns ErrNoSession
// when the session no longer exists, so it never resurrects one.
func (s *Store) Update(ctx context.Context, cookie string, sess *Session) error {
	id, err := s.idFromCookie(cookie)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	c := *sess
	c.LastSeen = now
	ttl := s.remaining(&c, now)
	if ttl <= 0 {
		_ = s.sessions.del(ctx, s.sessionKey(id))
		return ErrNoSession
	}
	val, err := s.sealSession(id, &c)
	if err != nil {
		return err
	}
	ok, err := s.sessions.set(ctx, s.sessionKey(id), val, ttl, true)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoSession
	}
	return nil
}

// Delete ends the session a cookie names.
func (s *Store) Delete(ctx context.Context, cookie string) error {
	id, err := s.idFromCookie(cookie)
	if err != nil {
		return err
	}
	return s.sessions.del(ctx, s.sessionKey(id))
}

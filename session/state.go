package session

import (
	"encoding/json"
	"errors"
	"time"
)

// MaxSealedState bounds a sealed login state (a cookie value): OpenState
// refuses longer input before decoding it, and SealState refuses to make
// one.
const MaxSealedState = 1536

// State is what a login remembers between the redirect to the IdP and the
// callback. It is never stored server-side: SealState encrypts it into a
// cookie value, so an anonymous request costs idgate no memory.
type State struct {
	// ID is the OAuth `state` parameter the IdP echoes back.
	ID string
	// Verifier is the PKCE code verifier.
	Verifier string
	// Nonce is the expected ID token nonce.
	Nonce string
	// ReturnTo is the same-host path and query to go back to.
	ReturnTo string
	// Created is when the login started; the state opens until
	// Created+StateTTL.
	Created time.Time
}

// wireState is State in its sealed form, with short names: it rides in a
// cookie on every request to the host until the login ends.
type wireState struct {
	ID       string `json:"s"`
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
	ReturnTo string `json:"r"`
	Created  int64  `json:"c"`
}

// stateAD binds sealed states to their kind: a state never opens as a
// session value, nor the other way round.
var stateAD = []byte("login-state")

// SealState encrypts and authenticates st with the current key (AES-256-GCM,
// as oauth2-proxy seals its CSRF cookie) and returns it base64url-encoded.
// Created defaults to now.
func (s *Store) SealState(st State) (string, error) {
	if st.Created.IsZero() {
		st.Created = s.cfg.Now()
	}
	b, err := json.Marshal(wireState{ID: st.ID, Verifier: st.Verifier, Nonce: st.Nonce, ReturnTo: st.ReturnTo, Created: st.Created.Unix()})
	if err != nil {
		return "", err
	}
	out := b64.EncodeToString(s.seal(kindState, stateAD, b))
	if len(out) > MaxSealedState {
		return "", errors.New("session: sealed state too large")
	}
	return out, nil
}

// OpenState decrypts a value SealState made with any configured key. It
// returns ErrNoState for anything else and for a state StateTTL old.
func (s *Store) OpenState(sealed string) (State, error) {
	if len(sealed) > MaxSealedState {
		return State{}, ErrNoState
	}
	raw, err := b64.Strict().DecodeString(sealed)
	if err != nil {
		return State{}, ErrNoState
	}
	pt, err := s.open(kindState, stateAD, raw)
	if err != nil {
		return State{}, ErrNoState
	}
	var w wireState
	if err := json.Unmarshal(pt, &w); err != nil || w.ID == "" {
		return State{}, ErrNoState
	}
	st := State{ID: w.ID, Verifier: w.Verifier, Nonce: w.Nonce, ReturnTo: w.ReturnTo, Created: time.Unix(w.Created, 0)}
	if now := s.cfg.Now(); !now.Before(st.Created.Add(s.cfg.StateTTL)) || st.Created.After(now.Add(time.Minute)) {
		return State{}, ErrNoState
	}
	return st, nil
}

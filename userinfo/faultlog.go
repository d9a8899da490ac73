package userinfo

import (
	"errors"
	"net/url"
	"strings"

	"github.com/idgate/idgate/internal/faultlog"
)

// report logs an endpoint's faults once per change of state. Answers about
// one caller (a 401 for a token, a sub mismatch) are neither a fault nor a
// recovery; a lookup cut short by Close is ignored.
func (r *Resolver) report(endpoint, result, cause string) {
	if r.ctx.Err() != nil {
		return
	}
	switch result {
	case resultOK:
		r.tracker(endpoint).OK()
	case resultTimeout, resultError, resultMalformed, resultTooLarge, resultUnsupported:
		r.tracker(endpoint).Fail(errors.New("userinfo: " + cause))
	case resultStatus:
		if cause == "status 429" || strings.HasPrefix(cause, "status 5") {
			r.tracker(endpoint).Fail(errors.New("userinfo: " + cause))
		}
	}
}

// tracker returns endpoint's fault tracker. There is one per endpoint, and
// endpoints come from the configured issuers, so the map stays small.
func (r *Resolver) tracker(endpoint string) *faultlog.Tracker {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.faults[endpoint]
	if !ok {
		shown := endpoint
		if u, err := url.Parse(endpoint); err == nil {
			u.RawQuery, u.Fragment, u.User = "", "", nil
			shown = u.String()
		}
		t = faultlog.New(faultlog.Config{
			Logger: r.cfg.Logger, Now: r.cfg.Now,
			FailMessage:      "userinfo: lookups failing; requests go on with the token's claims",
			RecoveredMessage: "userinfo: " + shown + " answering",
			Attrs:            []any{"endpoint", shown},
		})
		r.faults[endpoint] = t
	}
	return t
}

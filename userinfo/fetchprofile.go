package userinfo

import (
	"context"
	"fmt"

	"github.com/idgate/idgate/identity"
)

// FetchProfile asks the issuer's userinfo endpoint about subject with
// accessToken, bypassing the cache: a login refresh whose token response
// has no ID token uses it to see the profile as it is now. It returns nil
// and no error when the issuer is not enriched, and an error naming the
// degraded reason when the lookup fails (counted like any lookup). The
// request is bounded by Config.Timeout.
func (r *Resolver) FetchProfile(ctx context.Context, issuer, subject, accessToken string) (*identity.Profile, error) {
	endpoint := r.cfg.Endpoint(issuer)
	if endpoint == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	p, reason := r.fetch(ctx, endpoint, accessToken, subject)
	if reason != "" {
		return nil, fmt.Errorf("userinfo: fetch: %s", reason)
	}
	return &p, nil
}

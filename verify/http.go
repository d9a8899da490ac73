package verify

import (
	"context"
	"net/http"
)

type claimsKey struct{}

// ClaimsFromContext returns the claims Middleware or the gRPC interceptors
// verified for this request.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// NewContext returns ctx carrying c, for tests of handlers that read
// ClaimsFromContext.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// FromRequest verifies the identity header of r: exactly one copy (Go's
// server folds letter case, so every spelling counts), on r's context.
func (v *Verifier) FromRequest(r *http.Request) (*Claims, error) {
	return v.one(r.Context(), r.Header.Values(v.header))
}

func (v *Verifier) one(ctx context.Context, values []string) (*Claims, error) {
	switch len(values) {
	case 0:
		return nil, ErrMissing
	case 1:
		return v.Verify(ctx, values[0])
	default:
		return nil, ErrDuplicate
	}
}

// Middleware serves next only requests with a valid identity header, with
// the claims in the request's context (ClaimsFromContext). Others get 401
// with a fixed body: neither the token nor the reason is sent back.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.FromRequest(r)
		if err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("unauthenticated\n"))
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
	})
}

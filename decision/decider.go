package decision

import "context"

// Decider makes the decision for a request; *Engine implements it. It is
// what every front end (extauthz, forwardauth) calls, and what the app
// wraps (reload swap, tracing), so it has one owner here.
type Decider interface {
	Decide(ctx context.Context, req *Request) (Result, error)
}

var _ Decider = (*Engine)(nil)

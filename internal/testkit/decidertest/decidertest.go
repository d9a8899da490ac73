// Package decidertest holds a decider that answers every request the same,
// for tests of the edges (extauthz, forwardauth) that translate a decision
// and must not depend on how it is made.
package decidertest

import (
	"context"

	"github.com/idgate/idgate/decision"
)

// Fixed answers every Decide with Result and Err.
type Fixed struct {
	// Result is every decision's result.
	Result decision.Result
	// Err, when set, is every Decide's error (an internal fault).
	Err error
}

// Decide returns f.Result, f.Err.
func (f Fixed) Decide(context.Context, *decision.Request) (decision.Result, error) {
	return f.Result, f.Err
}

var _ decision.Decider = Fixed{}

package wait_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/idgate/idgate/internal/testkit/wait"
)

// recorder is a testing.TB that records a failure instead of ending the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
}

func TestPoll(t *testing.T) {
	tests := []struct {
		name  string
		after int32 // cond holds from this call on; -1 never
		want  bool
	}{
		{name: "holds at once", after: 1, want: true},
		{name: "holds after a few polls", after: 4, want: true},
		{name: "never holds", after: -1, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			cond := func() bool { n := calls.Add(1); return tc.after > 0 && n >= tc.after }
			if got := wait.Poll(200*time.Millisecond, cond); got != tc.want {
				t.Fatalf("Poll = %v after %d calls, want %v", got, calls.Load(), tc.want)
			}
			if tc.want && calls.Load() != tc.after {
				t.Errorf("cond called %d times, want %d (Poll returns as soon as it holds)", calls.Load(), tc.after)
			}
		})
	}
}

func TestWithinFailsNamingWhat(t *testing.T) {
	r := &recorder{TB: t}
	wait.Within(r, 20*time.Millisecond, "the thing", func() bool { return false })
	if r.failed == "" {
		t.Fatal("Within did not fail the test on a condition that never held")
	}
	r = &recorder{TB: t}
	wait.For(r, "the thing", func() bool { return true })
	if r.failed != "" {
		t.Fatalf("For failed on a condition that held: %s", r.failed)
	}
}

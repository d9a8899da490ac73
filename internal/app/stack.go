package app

import (
	"context"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idgate/idgate/config"
	"github.com/idgate/idgate/decision"
	"github.com/idgate/idgate/jwks"
	"github.com/idgate/idgate/signing"
)

// stack is everything built from one configuration: what a reload replaces
// as a whole while the listeners, the gRPC server and the decision metrics
// stay.
type stack struct {
	cfg      *config.Config
	log      *slog.Logger
	reg      *trackingRegisterer
	verifier *jwks.Verifier
	key      *signing.Key
	engine   *decision.Engine
	closers  []func()
	cancel   context.CancelFunc
}

// newStack builds a stack. key, when not nil, is reused (a reload that keeps
// signing.key_file must not change the key upstreams verify with). On error
// everything built so far is closed and its metrics unregistered.
func newStack(cfg *config.Config, opts Options, reg prometheus.Registerer, key *signing.Key) (*stack, error) {
	s := &stack{cfg: cfg, log: opts.Logger, reg: &trackingRegisterer{reg: reg}, key: key}
	if err := s.build(opts); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// start loads keys in the background until ctx ends or the stack closes.
func (s *stack) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.verifier.Start(ctx)
}

// close stops background work and releases clients, and unregisters the
// stack's metrics. It is idempotent.
func (s *stack) close() {
	if s.cancel != nil {
		s.cancel()
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
	s.reg.unregisterAll()
}

// trackingRegisterer remembers what a stack registered so a reload can take
// exactly those metrics out (and put them back if the new stack fails).
type trackingRegisterer struct {
	reg prometheus.Registerer
	mu  sync.Mutex
	cs  []prometheus.Collector
	out bool // unregistered: a second unregisterAll must not touch the
	// registry, where a newer stack's collectors now have the same names
}

func (t *trackingRegisterer) Register(c prometheus.Collector) error {
	if err := t.reg.Register(c); err != nil {
		return err
	}
	t.mu.Lock()
	t.cs = append(t.cs, c)
	t.mu.Unlock()
	return nil
}

func (t *trackingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

func (t *trackingRegisterer) Unregister(c prometheus.Collector) bool { return t.reg.Unregister(c) }

func (t *trackingRegisterer) unregisterAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.out {
		return
	}
	t.out = true
	for _, c := range t.cs {
		t.reg.Unregister(c)
	}
}

// reregisterAll puts the collectors back after a failed reload.
func (t *trackingRegisterer) reregisterAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.out = false
	for _, c := range t.cs {
		_ = t.reg.Register(c)
	}
}

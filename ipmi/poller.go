package ipmi

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Poller asks every BMC for its power state at an interval, a bounded
// number at a time, and reports each state that changed (and each BMC
// that stopped or started answering).
type Poller struct {
	Controller *Controller
	Interval   time.Duration // between rounds; default 60 s
	Limit      int           // BMCs asked at once; default 32
	BMCs       func() []BMC  // the BMCs to ask, read at every round
	Report     func(Reading) // every reading, from the round's goroutines: must be quick
	Changed    func(Reading) // a reading whose state differs from the last one
	mu         sync.Mutex
	last       map[string]string // system -> state or "error"
}

// Reading is one BMC's answer in a round.
type Reading struct {
	System string
	State  string // On, Off, or "" when Err is set
	Err    error
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	tick := time.NewTicker(or(p.Interval, time.Minute))
	defer tick.Stop()
	for {
		p.Round(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Round asks every BMC once and returns when all have answered (or
// timed out).
func (p *Poller) Round(ctx context.Context) {
	for _, r := range ReadAll(ctx, p.Controller, p.BMCs(), p.Limit) {
		p.read(r)
	}
}

// PowerStater reads a power state; *Controller is one.
type PowerStater interface {
	PowerState(ctx context.Context, b BMC) (string, error)
}

// ReadAll asks every BMC for its power state, limit at a time (32 when
// limit is 0), and returns the readings in the order of bmcs: a BMC that
// fails or does not answer only fills its own reading.
func ReadAll(ctx context.Context, c PowerStater, bmcs []BMC, limit int) []Reading {
	if limit <= 0 {
		limit = 32
	}
	out := make([]Reading, len(bmcs))
	var g errgroup.Group
	g.SetLimit(limit)
	for i, b := range bmcs {
		g.Go(func() error {
			state, err := c.PowerState(ctx, b)
			out[i] = Reading{System: b.System, State: state, Err: err}
			return nil
		})
	}
	g.Wait()
	return out
}

func (p *Poller) read(r Reading) {
	if p.Report != nil {
		p.Report(r)
	}
	key := r.State
	if r.Err != nil {
		key = "error"
	}
	p.mu.Lock()
	if p.last == nil {
		p.last = map[string]string{}
	}
	prev, seen := p.last[r.System]
	p.last[r.System] = key
	p.mu.Unlock()
	if (!seen || prev != key) && p.Changed != nil {
		p.Changed(r)
	}
}

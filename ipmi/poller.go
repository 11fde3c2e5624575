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
//
// Each BMC keeps its own pace: a reading is reported as soon as it is
// in, and a BMC whose last question is still open (one that does not
// answer takes the Controller's whole timeout) is skipped that round,
// so one dead BMC never holds up, or piles up behind, the others.
type Poller struct {
	Controller PowerStater   // a *Controller
	Interval   time.Duration // between rounds; default 60 s
	Limit      int           // BMCs asked at once; default 32
	BMCs       func() []BMC  // the BMCs to ask, read at every round
	Report     func(Reading) // every reading, from the reading's goroutine: must be quick
	Changed    func(Reading) // a reading whose state differs from the last one
	mu         sync.Mutex
	last       map[string]string // system -> state or "error"
	busy       map[string]bool   // systems whose question is still open
	slots      chan struct{}     // Limit of them
	open       sync.WaitGroup    // every question still open
}

// Reading is one BMC's answer in a round.
type Reading struct {
	System string
	State  string // On, Off, or "" when Err is set
	Err    error
}

// Run polls until ctx ends, and returns once the questions still open
// have been given up.
func (p *Poller) Run(ctx context.Context) error {
	tick := time.NewTicker(or(p.Interval, time.Minute))
	defer tick.Stop()
	defer p.open.Wait()
	for {
		p.ask(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Round asks every BMC that has no question open and returns when all
// of them have answered (or timed out).
func (p *Poller) Round(ctx context.Context) {
	p.ask(ctx).Wait()
}

// ask starts a question to every BMC without one open; the WaitGroup
// ends when they have all been answered.
func (p *Poller) ask(ctx context.Context) *sync.WaitGroup {
	p.mu.Lock()
	if p.slots == nil {
		p.slots = make(chan struct{}, limitOr32(p.Limit))
		p.busy = map[string]bool{}
		p.last = map[string]string{}
	}
	p.mu.Unlock()
	var round sync.WaitGroup
	for _, b := range p.BMCs() {
		p.mu.Lock()
		if p.busy[b.System] {
			p.mu.Unlock()
			continue
		}
		p.busy[b.System] = true
		p.mu.Unlock()
		round.Add(1)
		p.open.Add(1)
		go func() {
			defer p.open.Done()
			defer round.Done()
			defer func() { p.mu.Lock(); delete(p.busy, b.System); p.mu.Unlock() }()
			select {
			case p.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			state, err := p.Controller.PowerState(ctx, b)
			<-p.slots
			if ctx.Err() != nil {
				return // given up, not a BMC that stopped answering
			}
			p.read(Reading{System: b.System, State: state, Err: err})
		}()
	}
	return &round
}

// PowerStater reads a power state; *Controller is one.
type PowerStater interface {
	PowerState(ctx context.Context, b BMC) (string, error)
}

// ReadAll asks every BMC for its power state, limit at a time (32 when
// limit is 0), and returns the readings in the order of bmcs: a BMC that
// fails or does not answer only fills its own reading.
func ReadAll(ctx context.Context, c PowerStater, bmcs []BMC, limit int) []Reading {
	out := make([]Reading, len(bmcs))
	var g errgroup.Group
	g.SetLimit(limitOr32(limit))
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

// limitOr32 is how many BMCs are asked at once: limit, 32 when it is 0.
func limitOr32(limit int) int {
	if limit <= 0 {
		return 32
	}
	return limit
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
	prev, seen := p.last[r.System]
	p.last[r.System] = key
	p.mu.Unlock()
	if (!seen || prev != key) && p.Changed != nil {
		p.Changed(r)
	}
}

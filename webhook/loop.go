package webhook

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/registry"
)

// Store is what the loop needs of the registry's outbox
// (registry.OutboxStore satisfies it).
type Store interface {
	Enqueue(ctx context.Context, now time.Time) (int, error)
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip ...string) ([]registry.Delivery, error)
	Delivered(ctx context.Context, id int64, attempts int, now time.Time) error
	Failed(ctx context.Context, id int64, attempts int, next time.Time, why string, dead bool) error
	Prune(ctx context.Context, cutoff time.Time) (int64, error)
}

// Clock is the loop's time, which tests drive.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Loop is the delivery loop: every Poll (and as soon as a try ends) it
// fans the outbox out (Enqueue) and claims as many due deliveries for
// Owner as it has free slots: Limit tries in flight, at most PerHook of
// them to one hook, so that a hook whose receiver hangs holds a few
// slots and never the others' (nor the fan-out). Every hour it prunes
// what is a day old.
type Loop struct {
	Store   Store
	Hook    func(name string) (*registry.Hook, bool) // the hooks as they are now
	Owner   string                                   // this appliance, in claims
	Client  *http.Client                             // NewClient when nil
	Clock   Clock                                    // the real one when nil
	Poll    time.Duration                            // 1 s when 0
	Limit   int                                      // tries in flight; 16 when 0
	PerHook int                                      // tries in flight to one hook; Limit/4 (at least 1) when 0
	// MinBackoff, MaxBackoff and MaxAge: the package's when 0 (tests
	// shorten them; the loop is the same).
	MinBackoff, MaxBackoff, MaxAge time.Duration
	// Observe, if set, is told the state each try leaves a delivery in
	// (registry.DeliveryDelivered, DeliveryPending, DeliveryDead).
	Observe func(state string)
	// Errors, if set, is told what went wrong with the store.
	Errors func(err error)

	mu       sync.Mutex
	inflight map[string]int // tries under way, by hook
	total    int
	freed    chan struct{} // a try ended
}

func (l *Loop) defaults() {
	l.Client = or(l.Client, NewClient())
	l.Clock = or[Clock](l.Clock, realClock{})
	l.Poll = or(l.Poll, time.Second)
	l.Limit = or(l.Limit, 16)
	l.PerHook = or(l.PerHook, max(1, l.Limit/4))
	l.MinBackoff, l.MaxBackoff, l.MaxAge = or(l.MinBackoff, MinBackoff), or(l.MaxBackoff, MaxBackoff), or(l.MaxAge, MaxAge)
	l.inflight, l.freed = map[string]int{}, make(chan struct{}, 1)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Run delivers until ctx ends, then waits for the tries under way; it
// returns nil.
func (l *Loop) Run(ctx context.Context) error {
	l.defaults()
	var g errgroup.Group
	g.SetLimit(l.Limit) // the slots already keep to it: a Go never waits
	defer g.Wait()
	var pruned time.Time
	for {
		if now := l.Clock.Now(); now.Sub(pruned) >= time.Hour {
			_, err := l.Store.Prune(ctx, now.Add(-l.MaxAge))
			l.report(err)
			pruned = now
		}
		l.round(ctx, &g)
		select {
		case <-ctx.Done():
			return nil
		case <-l.freed:
		case <-l.Clock.After(l.Poll):
		}
	}
}

// round fans the outbox out, claims what the free slots allow and
// starts those tries.
func (l *Loop) round(ctx context.Context, g *errgroup.Group) {
	now := l.Clock.Now()
	_, err := l.Store.Enqueue(ctx, now)
	l.report(err)
	free, skip := l.slots()
	if free == 0 {
		return
	}
	ds, err := l.Store.Claim(ctx, l.Owner, now, 2*Timeout, free, skip...)
	if l.report(err) {
		return
	}
	for _, d := range ds {
		l.take(d.Hook, 1)
		g.Go(func() error {
			defer l.take(d.Hook, -1)
			l.deliver(ctx, d)
			return nil
		})
	}
}

// slots are how many more tries may start, and the hooks that have
// PerHook under way.
func (l *Loop) slots() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var full []string
	for h, n := range l.inflight {
		if n >= l.PerHook {
			full = append(full, h)
		}
	}
	return l.Limit - l.total, full
}

func (l *Loop) take(hook string, n int) {
	l.mu.Lock()
	l.inflight[hook] += n
	l.total += n
	if l.inflight[hook] == 0 {
		delete(l.inflight, hook)
	}
	l.mu.Unlock()
	if n < 0 {
		select {
		case l.freed <- struct{}{}:
		default:
		}
	}
}

func (l *Loop) report(err error) bool {
	if err != nil && l.Errors != nil && !errors.Is(err, context.Canceled) {
		l.Errors(err)
	}
	return err != nil
}

package webhook

import (
	"context"
	"errors"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/registry"
)

// Store is what the loop needs of the registry's outbox
// (registry.OutboxStore satisfies it).
type Store interface {
	Enqueue(ctx context.Context, now time.Time) (int, error)
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]registry.Delivery, error)
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

// Loop is the delivery loop: every Poll it fans the outbox out
// (Enqueue), claims the due deliveries for Owner and POSTs them, Limit
// at once, and every hour prunes what is a day old.
type Loop struct {
	Store  Store
	Hook   func(name string) (*registry.Hook, bool) // the hooks as they are now
	Owner  string                                   // this appliance, in claims
	Client *http.Client                             // NewClient when nil
	Clock  Clock                                    // the real one when nil
	Poll   time.Duration                            // 1 s when 0
	Limit  int                                      // deliveries in flight; 16 when 0
	// MinBackoff, MaxBackoff and MaxAge: the package's when 0 (tests
	// shorten them; the loop is the same).
	MinBackoff, MaxBackoff, MaxAge time.Duration
	// Observe, if set, is told the state each try leaves a delivery in
	// (registry.DeliveryDelivered, DeliveryPending, DeliveryDead).
	Observe func(state string)
	// Errors, if set, is told what went wrong with the store.
	Errors func(err error)
}

func (l *Loop) defaults() {
	l.Client = or(l.Client, NewClient())
	l.Clock = or[Clock](l.Clock, realClock{})
	l.Poll = or(l.Poll, time.Second)
	l.Limit = or(l.Limit, 16)
	l.MinBackoff, l.MaxBackoff, l.MaxAge = or(l.MinBackoff, MinBackoff), or(l.MaxBackoff, MaxBackoff), or(l.MaxAge, MaxAge)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Run delivers until ctx ends; it returns nil then.
func (l *Loop) Run(ctx context.Context) error {
	l.defaults()
	var pruned time.Time
	for {
		if now := l.Clock.Now(); now.Sub(pruned) >= time.Hour {
			_, err := l.Store.Prune(ctx, now.Add(-l.MaxAge))
			l.report(err)
			pruned = now
		}
		busy := l.Once(ctx)
		if busy {
			continue // more may be due at once
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.Clock.After(l.Poll):
		}
	}
}

// Once runs one round: enqueue, claim, deliver what it claimed. It
// reports whether it claimed a full batch (more may be due).
func (l *Loop) Once(ctx context.Context) bool {
	if l.Client == nil {
		l.defaults()
	}
	now := l.Clock.Now()
	_, err := l.Store.Enqueue(ctx, now)
	l.report(err)
	ds, err := l.Store.Claim(ctx, l.Owner, now, 2*Timeout, l.Limit)
	if l.report(err) || ctx.Err() != nil {
		return false
	}
	var g errgroup.Group
	g.SetLimit(l.Limit)
	for _, d := range ds {
		g.Go(func() error { l.deliver(ctx, d); return nil })
	}
	g.Wait()
	return len(ds) == l.Limit
}

func (l *Loop) report(err error) bool {
	if err != nil && l.Errors != nil && !errors.Is(err, context.Canceled) {
		l.Errors(err)
	}
	return err != nil
}

package webhook

import (
	"context"
	"fmt"

	"github.com/provision/provision/registry"
)

// deliver makes one try of d and records how it went: delivered, due
// again after a backoff, or dead once it is MaxAge old.
func (l *Loop) deliver(ctx context.Context, d registry.Delivery) {
	attempts := d.Attempts + 1
	h, ok := l.Hook(d.Hook)
	err := fmt.Errorf("hook %s no longer exists", d.Hook)
	if ok {
		err = Post(ctx, l.Client, h, d.Event, d.ID, Body(d))
	}
	if err != nil && ctx.Err() != nil {
		return // stopping: the lease runs out, and the delivery is tried again
	}
	ctx = context.WithoutCancel(ctx) // what was sent is recorded, even when stopping
	now := l.Clock.Now()
	if err == nil {
		l.record(registry.DeliveryDelivered, l.Store.Delivered(ctx, d.ID, attempts, now))
		return
	}
	dead := !ok || now.Sub(d.Created) >= l.MaxAge
	next := now.Add(Backoff(attempts, l.MinBackoff, l.MaxBackoff, jitter))
	state := registry.DeliveryPending
	if dead {
		state = registry.DeliveryDead
	}
	l.record(state, l.Store.Failed(ctx, d.ID, attempts, next, err.Error(), dead))
}

func (l *Loop) record(state string, err error) {
	if l.report(err) {
		return
	}
	if l.Observe != nil {
		l.Observe(state)
	}
}

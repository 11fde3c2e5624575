package registry

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// OutboxStore is the outbox and deliveries of a Store (SQLStore has
// them).
type OutboxStore interface {
	Notify(ctx context.Context, e OutboxEvent) error
	Enqueue(ctx context.Context, now time.Time) (int, error)
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip ...string) ([]Delivery, error)
	Delivered(ctx context.Context, id int64, attempts int, now time.Time) error
	Failed(ctx context.Context, id int64, attempts int, next time.Time, why string, dead bool) error
	Prune(ctx context.Context, cutoff time.Time) (int64, error)
	Deliveries(ctx context.Context, hook string, limit int) ([]Delivery, error)
	DeliveryCounts(ctx context.Context) (map[string]int64, error)
}

// ErrNoOutbox: the registry's store keeps no outbox (a test's).
var ErrNoOutbox = errors.New("registry: the store keeps no outbox for hooks")

// Outbox is the store's outbox and deliveries, which the webhook
// delivery loop works through.
func (r *Registry) Outbox() (OutboxStore, error) {
	o, ok := r.store.(OutboxStore)
	if !ok {
		return nil, ErrNoOutbox
	}
	return o, nil
}

// Notify reports an event that is no registry change (HookBooted,
// HookPower, HookDiscovered) about system (a name, or a discovered
// machine's MAC) with payload (JSON-encoded) to the hooks: one outbox
// row, written only when there is a hook. It does not wait for any
// delivery.
func (r *Registry) Notify(ctx context.Context, event, system string, payload any) error {
	snap := r.cur.Load()
	if len(snap.hooks) == 0 {
		return nil
	}
	o, err := r.Outbox()
	if err != nil {
		return nil // nowhere to keep it: a store without hooks' tables
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	e := OutboxEvent{At: r.now(), Event: event, System: system, Payload: b}
	if sys, ok := snap.systems.Get(system); ok {
		e.SystemID = sys.ID
	}
	return o.Notify(ctx, e)
}

package appliance

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/registry"
	"github.com/provision/provision/webhook"
)

// hookEvents maps the event log's kinds that hooks are told of to the
// hooks' event names; the registry's changes (system.*, build.*,
// accepted) are written to the outbox by their own commits.
var hookEvents = map[string]string{
	"booted":                 registry.HookBooted,
	"power":                  registry.HookPower,
	registry.EventDiscovered: registry.HookDiscovered,
}

// serveHooks runs the webhook delivery loop on the registry's outbox
// and reports this appliance's boot, power and discovery events to it.
// Neither waits on a receiver: the loop works from the database, and the
// events come from the event log's stream, which drops rather than
// block a recorder (DHCP, the boot server).
func (a *Appliance) serveHooks(ctx context.Context) error {
	o, err := a.reg.Outbox()
	if err != nil {
		return nil
	}
	done := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "provision_webhook_deliveries_total",
		Help: "Webhook delivery tries by the state they left the delivery in (delivered, pending: to try again, dead)."}, []string{"state"})
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "provision_webhook_queue",
		Help: "Webhook deliveries pending, on every appliance of the database."}, func() float64 {
		n, _ := o.DeliveryCounts(context.Background())
		return float64(n[registry.DeliveryPending])
	})
	a.metrics.MustRegister(done, queue)
	loop := &webhook.Loop{Store: o, Owner: a.cfg.Name,
		Hook:    func(name string) (*registry.Hook, bool) { return a.reg.Snapshot().Hook(name) },
		Observe: func(state string) { done.WithLabelValues(state).Inc() },
		Errors:  func(err error) { a.log.Warn("webhooks", "err", err) },
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return loop.Run(ctx) })
	g.Go(func() error { a.notifyHooks(ctx); return nil })
	return g.Wait()
}

// notifyHooks writes the event log's booted, power and discovered events
// to the outbox (Registry.Notify: nothing while there is no hook).
func (a *Appliance) notifyHooks(ctx context.Context) {
	evs, stop := a.events.Follow()
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-evs:
			name, ok := hookEvents[e.Kind]
			if !ok {
				continue
			}
			if err := a.reg.Notify(ctx, name, e.System, e); err != nil && ctx.Err() == nil {
				a.log.Warn("webhooks: an event is lost", "event", name, "system", e.System, "err", err)
			}
		}
	}
}

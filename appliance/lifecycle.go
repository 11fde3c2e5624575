package appliance

import (
	"context"
	"log/slog"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/api"
	"github.com/provision/provision/bind"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
)

// builds is the install lifecycle's reactor: both halves of "a build
// powers the machine". A build that starts boots its machine through the
// BMC (PowerForBuild, for the API's reinstall); a build that fails (the
// installer's callback, an abort, the deadline) powers it off, as MAAS
// does, unless its profile says on_failure keep. Run owns the deadlines
// and the power-offs, in the appliance's errgroup and context.
type builds struct {
	reg    *registry.Registry
	events *registry.EventLog
	power  api.Power
	log    *slog.Logger

	mu      sync.Mutex
	failed  []string      // builds failed and not yet powered off
	wake    chan struct{} // something is in failed
	stopped bool          // Run has returned: nothing powers off any more
}

// powerOffLimit bounds the BMCs told at once to power off a failed build.
const powerOffLimit = 8

func newBuilds(reg *registry.Registry, events *registry.EventLog, power api.Power, log *slog.Logger) *builds {
	return &builds{reg: reg, events: events, power: power, log: log, wake: make(chan struct{}, 1)}
}

// PowerForBuild boots a system that starts a build: next boot from the
// network once (a BMC that refuses is only noted: the appliance decides
// what a network boot does), then power on, or cycle when it is on.
func (b *builds) PowerForBuild(ctx context.Context, sys *registry.System) (action string, err error) {
	return b.powerToNetwork(ctx, sys, "reinstall")
}

// PowerForInspect boots a system whose inspection was asked into the
// inventory agent, as PowerForBuild does a build.
func (b *builds) PowerForInspect(ctx context.Context, sys *registry.System) (action string, err error) {
	return b.powerToNetwork(ctx, sys, "inspection")
}

// powerToNetwork boots sys from the network through its BMC, for what
// (reinstall, inspection), noting each step on its timeline.
func (b *builds) powerToNetwork(ctx context.Context, sys *registry.System, what string) (action string, err error) {
	bmc, ok := bind.BMC(sys)
	if !ok {
		return "", &registry.Error{Kind: registry.ErrInvalid, Msg: "system " + sys.Name + " has no BMC (system edit " + sys.Name + " --bmc-address ...)"}
	}
	if err := b.power.SetBootDevice(ctx, bmc, ipmi.BootPXE, false); err != nil {
		b.note(ctx, sys.Name, "next boot from the network refused, going on: "+err.Error())
	}
	state, err := b.power.PowerState(ctx, bmc)
	if err != nil {
		b.note(ctx, sys.Name, what+": "+err.Error())
		return "", err
	}
	action = ipmi.Cycle
	if state == ipmi.Off {
		action = ipmi.On
	}
	if err := b.power.SetPower(ctx, bmc, action); err != nil {
		b.note(ctx, sys.Name, what+": "+err.Error())
		return "", err
	}
	b.note(ctx, sys.Name, action+" for the "+what+", by the operator")
	return action, nil
}

// BuildFailed queues the power-off of a system whose build failed. It
// does not wait for the BMC.
func (b *builds) BuildFailed(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return
	}
	b.failed = append(b.failed, name)
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run fails the builds whose deadline passes and powers off the machines
// of failed builds, powerOffLimit at a time, until ctx ends; then it waits
// for the BMCs it is talking to (each call bounded by ipmi's timeout).
func (b *builds) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return b.runDeadlines(gctx) })
	off := new(errgroup.Group)
	off.SetLimit(powerOffLimit)
	defer func() {
		b.mu.Lock()
		b.stopped, b.failed = true, nil
		b.mu.Unlock()
		off.Wait()
	}()
	for {
		select {
		case <-gctx.Done():
			return g.Wait()
		case <-b.wake:
		}
		b.mu.Lock()
		names := b.failed
		b.failed = nil
		b.mu.Unlock()
		for _, name := range names {
			off.Go(func() error { b.powerOff(gctx, name); return nil })
		}
	}
}

// runDeadlines fails the builds whose deadline passes, and puts that on
// their timelines.
func (b *builds) runDeadlines(ctx context.Context) error {
	return b.reg.RunDeadlines(ctx, func(names []string, err error) {
		if err != nil {
			b.log.Error("build deadlines", "err", err)
			return
		}
		for _, n := range names {
			b.log.Warn("build deadline passed", "system", n)
			b.events.Record(registry.Event{System: n, Kind: "failed", Detail: "the build's deadline passed"})
			b.BuildFailed(n)
		}
	})
}

// powerOff powers off, through its BMC, the machine of a failed build,
// unless its profile says on_failure keep or the build is no longer
// failed (a reinstall came first).
func (b *builds) powerOff(ctx context.Context, name string) {
	snap := b.reg.Snapshot()
	sys, ok := snap.SystemByName(name)
	if !ok || sys.Status != registry.StateFailed {
		return
	}
	bmc, ok := bind.BMC(sys)
	if p, _ := snap.Profile(sys.Profile); !ok || p != nil && p.OnFailure == "keep" {
		return
	}
	detail := "off: the build failed"
	if err := b.power.SetPower(ctx, bmc, ipmi.Off); err != nil {
		detail += ": " + err.Error()
		b.log.Warn("power off after a failed build", "system", name, "err", err)
	}
	b.note(context.WithoutCancel(ctx), name, detail)
}

// note puts a power action on the system's timeline and in its history.
func (b *builds) note(ctx context.Context, system, detail string) {
	b.events.Record(registry.Event{System: system, Kind: "power", Detail: detail})
	if err := b.reg.Note(ctx, registry.ObjSystem, system, "power", detail); err != nil {
		b.log.Warn("history of a power action", "system", system, "err", err)
	}
}

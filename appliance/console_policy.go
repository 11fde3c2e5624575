package appliance

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/provision/provision/api"
	"github.com/provision/provision/bind"
	"github.com/provision/provision/console"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
)

// consolePlan is what one reconcile decided, done outside the state lock.
type consolePlan struct {
	capture map[string]console.BMC // start, or new BMC settings
	stop    []string
	first   []string  // stopped before the captures start: machines that are systems now (their BMC's SOL is the system's)
	failed  []string  // builds that failed while their console was captured
	next    time.Time // the earliest linger end or retry; zero: none
}

func (p *consolePlan) at(t time.Time) {
	if p.next.IsZero() || t.Before(p.next) {
		p.next = t
	}
}

// reconcile brings the captures in line with the registry and the
// operators' asks: a system with an IPMI BMC is captured while a build
// runs (pending, installing), its inspection is asked, an operator asked
// or is attached; once no reason remains it is stopped after the linger,
// at once if the system is removed; new BMC settings are passed on. A
// build that fails while captured gets its last console lines noted. A
// discovered machine is captured while its agent stays up (planMachines).
// It returns when it wants to run again (zero: on the next change only).
func (c *consoles) reconcile(ctx context.Context) time.Time {
	c.ops.Lock()
	defer c.ops.Unlock()
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return time.Time{}
	}
	p := c.plan(c.reg.Snapshot(), c.now())
	c.mu.Unlock()
	c.apply(ctx, p, time.Now())
	return p.next
}

// plan decides, under c.mu, from the snapshot.
func (c *consoles) plan(snap *registry.Snapshot, now time.Time) *consolePlan {
	p := &consolePlan{capture: map[string]console.BMC{}}
	statuses := map[string]string{}
	for _, sys := range snap.Systems() {
		statuses[sys.Name] = sys.Status
		t := c.targets[sys.Name]
		if c.primed && sys.Status == registry.StateFailed && c.prev[sys.Name] != registry.StateFailed && t != nil && t.on {
			p.failed = append(p.failed, sys.Name)
		}
		c.decide(p, sys, c.reasons(sys), now)
	}
	for name, t := range c.targets {
		if _, machine := api.ConsoleMachine(name); machine {
			continue // planMachines'
		}
		if _, ok := statuses[name]; !ok { // removed (or renamed): at once
			if t.on {
				p.stop = append(p.stop, name)
			}
			delete(c.targets, name)
			delete(c.operator, name)
		}
	}
	for name, ch := range c.started {
		if _, machine := api.ConsoleMachine(name); machine {
			continue
		}
		if _, ok := statuses[name]; !ok {
			close(ch) // its followers look again (and wait for a system of that name)
			delete(c.started, name)
		}
	}
	c.planMachines(p, snap, now)
	c.prev, c.primed = statuses, true
	return p
}

// reasons are why sys's console should be captured now.
func (c *consoles) reasons(sys *registry.System) []string {
	var why []string
	switch sys.Status {
	case registry.StatePending:
		why = append(why, "pending")
	case registry.StateInstalling:
		why = append(why, "installing")
	}
	if sys.InspectToken != "" {
		why = append(why, "inspecting")
	}
	if c.operator[sys.Name] {
		why = append(why, "operator")
	}
	if c.attached[sys.Name] > 0 {
		why = append(why, "attached")
	}
	return why
}

// decide adds to p what sys's capture needs.
func (c *consoles) decide(p *consolePlan, sys *registry.System, why []string, now time.Time) {
	t := c.targets[sys.Name]
	b, hasBMC := bind.BMC(sys)
	if !hasBMC || b.Provider == ipmi.ProviderRedfish {
		if t != nil && t.on {
			p.stop = append(p.stop, sys.Name)
		}
		if t == nil && hasBMC && len(why) > 0 {
			t = &consoleTarget{}
			c.targets[sys.Name] = t
		}
		if t != nil {
			t.why, t.err, t.idle = why, "", time.Time{}
			if hasBMC && len(why) > 0 {
				t.err = redfishConsole(sys.Name)
			}
		}
		return
	}
	if t == nil {
		if len(why) == 0 {
			return
		}
		t = &consoleTarget{}
		c.targets[sys.Name] = t
	}
	t.why = why
	want := solBMC(b)
	switch {
	case len(why) > 0:
		t.idle = time.Time{}
		t.build = slices.ContainsFunc(why, func(w string) bool { return w != "operator" && w != "attached" })
		if !t.on || t.bmc != want {
			p.capture[sys.Name] = want
		}
	case !t.on:
		t.err = ""
	case t.build && (t.idle.IsZero() || now.Before(t.idle.Add(c.linger))):
		if t.idle.IsZero() {
			t.idle = now
		}
		p.at(t.idle.Add(c.linger))
		if t.bmc != want {
			p.capture[sys.Name] = want
		}
	default:
		p.stop = append(p.stop, sys.Name)
	}
}

// apply does what p decided: the first stops, captures, stops
// (consoleStopLimit at a time), the failed builds' notes (after
// consoleSettle, in the background; seen is when the failures were seen,
// on the wall clock). Called with c.ops held.
func (c *consoles) apply(ctx context.Context, p *consolePlan, seen time.Time) {
	c.stopAll(p.first)
	names := make([]string, 0, len(p.capture))
	for name := range p.capture {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := c.capture(name, p.capture[name]); err != nil {
			p.at(c.now().Add(consoleRetry)) // a refused capture is tried again
		}
	}
	c.stopAll(p.stop)
	for _, name := range p.failed {
		c.notes.Add(1)
		go func() {
			defer c.notes.Done()
			c.noteFailure(ctx, name, seen)
		}()
	}
}

// stopAll stops the sessions of names, consoleStopLimit at a time.
// Called with c.ops held.
func (c *consoles) stopAll(names []string) {
	var g errgroup.Group
	g.SetLimit(consoleStopLimit)
	for _, name := range names {
		g.Go(func() error { c.stop(name); return nil })
	}
	g.Wait()
}

// capture starts (or gives new settings to) name's session, and records
// the outcome in its target. Called with c.ops held.
func (c *consoles) capture(name string, b console.BMC) error {
	err := c.mgr.Capture(name, b)
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.targets[name]
	if t == nil {
		t = &consoleTarget{}
		c.targets[name] = t
	}
	t.bmc = b
	if err != nil {
		if t.err != err.Error() {
			c.log.Warn("console not captured", "system", name, "err", err)
		}
		t.err = err.Error()
		return err
	}
	t.err = ""
	if !t.on {
		t.on = true
		c.log.Info("console capture", "system", name, "why", t.why, "bmc", b)
		if ch, ok := c.started[name]; ok {
			close(ch) // followers waiting for a session subscribe now
			delete(c.started, name)
		}
	}
	return nil
}

// stop ends name's session, keeping its last status for Status and its
// reconnects for the metric. Called with c.ops held.
func (c *consoles) stop(name string) {
	st, err := c.mgr.Status(name)
	if err := c.mgr.Stop(name); err != nil {
		c.log.Warn("console stop", "system", name, "err", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.retired += st.Reconnects
		st.State, st.Since, st.Followers, st.Attached = console.StateStopped, c.now(), 0, false
	}
	if t := c.targets[name]; t != nil {
		t.on, t.idle, t.last = false, time.Time{}, st
	}
	c.log.Info("console capture stopped", "system", name, "bytes", st.Bytes)
}

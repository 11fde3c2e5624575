package appliance

import (
	"context"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/console"
	"github.com/provision/provision/registry"
)

// A discovered machine (no system yet) has its console captured from the
// enrolment of its BMC (the appliance knows no credentials before it) for
// as long as its agent stays up under the appliance's instructions: a
// watched machine while it waits. Its capture ends, after the linger
// (the power-off or reboot lines), when its agent is told to power off or
// reboot or goes silent; at once when the machine becomes a system (the
// system's own capture takes its BMC's one SOL session) or is removed.
// Its console is named api.MachineConsoleName(MAC). Machines are not in
// the registry's Snapshot: the discovery backend tells the capture what
// their agents were told (machineUp, machineEnd, machineGone).

// consoleDiscovering is the reason a discovered machine is captured.
const consoleDiscovering = "discovering"

// consoleAgentSilence is how long a discovered machine's agent may go
// unheard before its capture ends as if it had been told to power off:
// a waiting agent asks every 10 s; a machine that hung, or was powered
// off by hand, asks no more.
const consoleAgentSilence = 2 * time.Minute

// machineWatch is a discovered machine whose console is captured.
type machineWatch struct {
	mac  string
	bmc  console.BMC
	seen time.Time // the agent's last request
	end  time.Time // when it was told to power off or reboot; zero while it stays up
	gone bool      // removed, or a system now: stopped at once
}

// machineUp says that the agent of discovered machine mac, whose BMC is
// enrolled (b), was answered and stays up, or is just told to power off
// or reboot (machineEnd follows): its capture starts if it is not
// captured yet, or continues. The BMC's password is read from the store
// when the capture starts or fresh is set (a new enrolment); the
// Manager is called by the loop, never here: the agent waits for its
// answer.
func (c *consoles) machineUp(ctx context.Context, mac string, b registry.MachineBMC, fresh bool) error {
	name := api.MachineConsoleName(mac)
	if c == nil || name == "" || !b.Enrolled {
		return nil
	}
	c.mu.Lock()
	w := c.machines[name]
	if w != nil && !fresh {
		w.seen, w.end = c.now(), time.Time{}
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	pw, err := c.reg.MachineBMCPassword(ctx, mac)
	if err != nil {
		return err
	}
	bmc := console.BMC{Address: b.Address, User: b.User, Password: string(pw)}
	c.mu.Lock()
	if c.machines[name] == nil {
		c.machines[name] = &machineWatch{mac: mac}
	}
	w = c.machines[name]
	w.bmc, w.seen, w.end, w.gone = bmc, c.now(), time.Time{}, false
	c.mu.Unlock()
	c.poke()
	return nil
}

// machineEnd says that machine mac's agent was told to power off or
// reboot: its capture ends after the linger.
func (c *consoles) machineEnd(mac string) {
	c.machineSet(mac, func(w *machineWatch) {
		if w.end.IsZero() {
			w.end = c.now()
		}
	})
}

// machineGone says that machine mac was removed or is a system now: its
// capture stops at once.
func (c *consoles) machineGone(mac string) {
	c.machineSet(mac, func(w *machineWatch) { w.gone = true })
}

// machineSet changes machine mac's watch, if it is watched, and wakes the
// loop.
func (c *consoles) machineSet(mac string, f func(*machineWatch)) {
	if c == nil {
		return
	}
	c.mu.Lock()
	w := c.machines[api.MachineConsoleName(mac)]
	if w != nil {
		f(w)
	}
	c.mu.Unlock()
	if w != nil {
		c.poke()
	}
}

// planMachines adds to p what the discovered machines' captures need;
// under c.mu, beside plan's systems. A machine whose MAC is a system's
// now is stopped before the captures start (p.first): the system's
// capture may be starting on the same BMC, which has one SOL session.
func (c *consoles) planMachines(p *consolePlan, snap *registry.Snapshot, now time.Time) {
	for name, w := range c.machines {
		t := c.targets[name]
		if t == nil {
			t = &consoleTarget{}
			c.targets[name] = t
		}
		hw, err := registry.ParseMAC(w.mac)
		_, isSystem := snap.SystemByMAC(hw)
		up := w.end.IsZero() && now.Before(w.seen.Add(consoleAgentSilence))
		until := w.seen.Add(consoleAgentSilence)
		if !w.end.IsZero() {
			until = w.end.Add(c.linger)
		}
		switch {
		case w.gone || isSystem || err != nil:
			t.why = nil
			if t.on {
				p.first = append(p.first, name)
			}
			delete(c.machines, name)
			if w.gone && !isSystem {
				delete(c.targets, name) // removed: nothing left to show
			}
		case up || now.Before(until):
			t.why = nil // lingering
			if up {
				t.why = []string{consoleDiscovering}
			}
			if !t.on || t.bmc != w.bmc {
				p.capture[name] = w.bmc // the power-off lines too, when it was told at once
			}
			p.at(until)
		default:
			t.why = nil
			if t.on {
				p.stop = append(p.stop, name)
			}
			delete(c.machines, name)
		}
	}
}

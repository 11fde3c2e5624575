package appliance

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/discovery"
	"github.com/provision/provision/inventory"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
)

// discoveryBackend is discovery.Backend: what an inventory agent is told.
// An unknown machine on a discovery subnet reports its inventory; its BMC
// is enrolled when its subnet or a rule matching it asks (a user made
// in-band by the agent, with a password made here, stored only once the
// appliance has reached the BMC over the network with it); then the rules
// run, and the machine powers off, waits (watched), or, accepted for a
// reinstall, is powered through its BMC into its build.
type discoveryBackend struct {
	reg    *registry.Registry
	power  api.Power
	builds *builds
	// consoles, if set, captures a discovered machine's console from its
	// BMC's enrolment while its agent stays up (console_machines.go).
	consoles *consoles
	log      *slog.Logger
	// check is how long the LAN check of a new BMC user keeps trying.
	check time.Duration
}

var _ discovery.Backend = (*discoveryBackend)(nil)

// BMCUser is the BMC user the agent creates in-band.
const BMCUser = "provision"

// Report implements discovery.Backend.
func (d *discoveryBackend) Report(ctx context.Context, rep inventory.Report, from netip.Addr) (inventory.Instruction, error) {
	snap := d.reg.Snapshot()
	inv := rep.Inventory
	if rep.Token != "" {
		m, changes, err := d.reg.FinishInspect(ctx, rep.Token, inv, from.String())
		if err != nil {
			return inventory.Instruction{}, fmt.Errorf("%w: %v", discovery.ErrForbidden, err)
		}
		msg := fmt.Sprintf("system %s inspected: %d changes; rebooting into what it booted before", m.System, len(changes))
		return inventory.Instruction{Action: inventory.ActionReboot, Message: msg}, nil
	}
	sub, err := discoverySubnet(snap, from)
	if err != nil {
		return inventory.Instruction{}, err
	}
	m, err := d.reg.ReportInventory(ctx, inv, sub.Name, from.String())
	if err != nil {
		return inventory.Instruction{}, err
	}
	if m.System != "" {
		return d.told(ctx, m, d.next(snap, m)), nil
	}
	if d.wantsEnrolment(snap, sub, m) {
		pw, err := newBMCPassword()
		if err != nil {
			return inventory.Instruction{}, err
		}
		b := registry.MachineBMC{Address: inv.BMC.IP, User: BMCUser} // under way
		if err := d.reg.SetMachineBMC(ctx, m.MAC, b, registry.Secret(pw)); err != nil {
			return inventory.Instruction{}, err
		}
		return inventory.Instruction{Action: inventory.ActionEnrol, Enrol: &inventory.EnrolUser{User: BMCUser, Password: pw},
			Message: "create BMC user " + BMCUser}, nil
	}
	return d.applyRules(ctx, m.MAC)
}

// discoverySubnet is the subnet of from, which must have discovery on.
func discoverySubnet(snap *registry.Snapshot, from netip.Addr) (*registry.Subnet, error) {
	sub, ok := snap.SubnetFor(from)
	if !ok || !sub.Discovery {
		return nil, fmt.Errorf("%w: %s is on no subnet with discovery on", discovery.ErrForbidden, from)
	}
	return sub, nil
}

// wantsEnrolment: the machine has a BMC not yet enrolled, and its subnet
// or a rule that matches it asks for enrolment.
func (d *discoveryBackend) wantsEnrolment(snap *registry.Snapshot, sub *registry.Subnet, m *registry.Machine) bool {
	if m.Inventory.BMC == nil || (m.BMC != nil && m.BMC.Enrolled) {
		return false
	}
	if sub.EnrolBMC {
		return true
	}
	x, ok := snap.MatchRule(m.Inventory)
	return ok && x.EnrolBMC
}

// Enrolled implements discovery.Backend: the BMC user made in-band is
// checked over the LAN before it is kept as the machine's credentials.
func (d *discoveryBackend) Enrolled(ctx context.Context, e inventory.Enrolment, from netip.Addr) (inventory.Instruction, error) {
	snap := d.reg.Snapshot()
	if _, err := discoverySubnet(snap, from); err != nil {
		return inventory.Instruction{}, err
	}
	m, err := d.reg.Machine(ctx, e.MAC)
	if err != nil {
		return inventory.Instruction{}, notFound(err)
	}
	addr := ""
	if e.BMC != nil {
		addr = e.BMC.IP
	} else if m.Inventory.BMC != nil {
		addr = m.Inventory.BMC.IP
	}
	b := registry.MachineBMC{Address: addr, User: BMCUser}
	switch ip, perr := netip.ParseAddr(addr); {
	case !e.OK:
		b.Error = "the BMC refused user " + BMCUser + ": " + e.Error
	case perr != nil || ip.IsUnspecified():
		b.Error = fmt.Sprintf("the BMC reports no LAN address (%q): it cannot be reached over the network", addr)
	default:
		if err := d.checkLAN(ctx, m.MAC, addr); err != nil {
			b.Error = err.Error()
		} else {
			b.Enrolled = true
		}
	}
	if err := d.reg.SetMachineBMC(ctx, m.MAC, b, ""); err != nil {
		return inventory.Instruction{}, err
	}
	if !b.Enrolled {
		d.log.Warn("bmc enrolment failed", "mac", m.MAC, "bmc", addr, "err", b.Error)
	} else if err := d.consoles.machineUp(ctx, m.MAC, b, true); err != nil { // its password is new
		d.log.Warn("console of a discovered machine", "mac", m.MAC, "err", err)
	}
	return d.applyRules(ctx, m.MAC)
}

// checkLAN asks the BMC at addr for its power state as the new user,
// over the network, for up to d.check: a BMC may take a moment to let a
// new user in.
func (d *discoveryBackend) checkLAN(ctx context.Context, mac, addr string) error {
	pw, err := d.reg.MachineBMCPassword(ctx, mac)
	if err != nil {
		return err
	}
	bmc := ipmi.BMC{System: "machine " + mac, Address: addr, User: BMCUser, Password: string(pw)}
	deadline := time.Now().Add(max(d.check, time.Second))
	for {
		_, err := d.power.PowerState(ctx, bmc)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("BMC %s did not answer user %s over the network: %v", addr, BMCUser, err)
		}
		time.Sleep(2 * time.Second)
	}
}

// applyRules runs the rules on a discovered machine and says what its
// agent does next.
func (d *discoveryBackend) applyRules(ctx context.Context, mac string) (inventory.Instruction, error) {
	out, err := d.reg.ApplyRules(ctx, mac)
	if err != nil {
		return inventory.Instruction{}, err
	}
	snap := d.reg.Snapshot()
	if out.System == "" {
		m, err := d.reg.Machine(ctx, mac)
		if err != nil {
			return inventory.Instruction{}, notFound(err)
		}
		return d.told(ctx, m, d.next(snap, m)), nil
	}
	d.consoles.machineGone(mac) // a system now: the system's capture, if any, takes its BMC
	sys, ok := snap.SystemByName(out.System)
	if !ok {
		return inventory.Instruction{Action: inventory.ActionPowerOff}, nil
	}
	if sys.Building() && sys.BMC != nil {
		// Through its BMC, as an operator's reinstall: in the background,
		// since the machine waits for the answer to this request.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := d.builds.PowerForBuild(ctx, sys); err != nil {
				d.log.Warn("power into the build of an accepted machine", "system", sys.Name, "err", err)
			}
		}()
		return inventory.Instruction{Action: inventory.ActionWait, Poll: 10,
			Message: "registered as " + sys.Name + " by rule " + out.Rule + ": its BMC powers it into its build"}, nil
	}
	return d.nextForSystem(sys, "registered as "+sys.Name+" by rule "+out.Rule), nil
}

// Next implements discovery.Backend.
func (d *discoveryBackend) Next(ctx context.Context, mac, token string, from netip.Addr) (inventory.Instruction, error) {
	snap := d.reg.Snapshot()
	if token != "" {
		if _, ok := snap.SystemByInspectToken(token); !ok {
			return inventory.Instruction{Action: inventory.ActionReboot, Message: "the inspection is over"}, nil
		}
		return inventory.Instruction{Action: inventory.ActionWait, Poll: 5}, nil
	}
	m, err := d.reg.Machine(ctx, mac)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			d.consoles.machineGone(mac) // removed while its agent was up
		}
		return inventory.Instruction{}, notFound(err)
	}
	return d.told(ctx, m, d.next(snap, m)), nil
}

// next is what machine m's agent does when nothing is under way: a
// system's machine boots its build or powers off; a discovered one waits
// when watched, else powers off.
func (d *discoveryBackend) next(snap *registry.Snapshot, m *registry.Machine) inventory.Instruction {
	if m.System != "" {
		if sys, ok := snap.SystemByName(m.System); ok {
			return d.nextForSystem(sys, "this machine is system "+sys.Name)
		}
	}
	if m.Watch {
		return inventory.Instruction{Action: inventory.ActionWait, Poll: 10, Message: "watched: staying up"}
	}
	msg := "discovered; powering off"
	if m.Reason != "" {
		msg = "discovered (" + m.Reason + "); powering off"
	}
	return inventory.Instruction{Action: inventory.ActionPowerOff, Message: msg}
}

// told passes what machine m's agent is told to its console capture, and
// returns it: a discovered machine with an enrolled BMC is captured while
// its agent stays up (a watched machine while it waits), until the
// linger after it is told to power off or reboot; a system's machine is
// not (its system's capture is).
func (d *discoveryBackend) told(ctx context.Context, m *registry.Machine, ins inventory.Instruction) inventory.Instruction {
	switch {
	case d.consoles == nil:
		return ins
	case m.System != "":
		d.consoles.machineGone(m.MAC)
		return ins
	case m.BMC == nil || !m.BMC.Enrolled:
		return ins
	}
	if err := d.consoles.machineUp(ctx, m.MAC, *m.BMC, false); err != nil {
		d.log.Warn("console of a discovered machine", "mac", m.MAC, "err", err)
	}
	if ins.Action == inventory.ActionPowerOff || ins.Action == inventory.ActionReboot {
		d.consoles.machineEnd(m.MAC)
	}
	return ins
}

func (d *discoveryBackend) nextForSystem(sys *registry.System, why string) inventory.Instruction {
	if sys.Building() {
		return inventory.Instruction{Action: inventory.ActionReboot, Message: why + ": rebooting into its build"}
	}
	return inventory.Instruction{Action: inventory.ActionPowerOff, Message: why + ": powering off"}
}

func notFound(err error) error {
	if errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("%w: %v", discovery.ErrNotFound, err)
	}
	return err
}

// newBMCPassword is 16 random letters and digits: what every IPMI 1.5
// BMC takes (16 bytes), about 95 bits.
func newBMCPassword() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

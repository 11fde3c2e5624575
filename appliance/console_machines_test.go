package appliance

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/inventory"
	"github.com/provision/provision/registry"
)

// discoveringMAC is the machine of the discovery tests; machineConsole
// its console's name.
const (
	discoveringMAC = "52:54:00:aa:00:01"
	machineConsole = "mac_525400aa0001"
)

// consoleDiscovery is the console capture over a fake Manager (as
// testConsoles) and a discovery backend that tells it what the agents
// are told, on subnet disc (10.9.0.0/24, discovery and BMC enrolment on),
// whose BMCs answer over the LAN.
func consoleDiscovery(t *testing.T) (*discoveryBackend, *consoles, *fakeConsoles, func(time.Duration)) {
	t.Helper()
	c, fake, advance := testConsoles(t)
	if _, err := c.reg.AddSubnet(context.Background(), registry.Subnet{Name: "disc", CIDR: "10.9.0.0/24", Pool: "10.9.0.50-10.9.0.99", Discovery: true, EnrolBMC: true}); err != nil {
		t.Fatal(err)
	}
	d := &discoveryBackend{reg: c.reg, power: &fakePower{state: "on"}, consoles: c,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), check: time.Second}
	return d, c, fake, advance
}

var agentAddr = netip.MustParseAddr("10.9.0.50")

// enrol has the machine report its inventory and its agent enrol the BMC
// user it is told to make (ok: the BMC took it); it returns the BMC's
// password and the instruction that follows the enrolment.
func enrol(t *testing.T, d *discoveryBackend, ok bool) (string, inventory.Instruction) {
	t.Helper()
	ctx := context.Background()
	inv := machineInventory()
	ins, err := d.Report(ctx, inventory.Report{Inventory: inv}, agentAddr)
	if err != nil || ins.Action != inventory.ActionEnrol {
		t.Fatalf("Report: %+v %v, want an enrolment", ins, err)
	}
	e := inventory.Enrolment{MAC: discoveringMAC, OK: ok, BMC: &inventory.BMCLAN{IP: "10.9.1.5"}}
	if !ok {
		e.Error = "no free user slot"
	}
	next, err := d.Enrolled(ctx, e, agentAddr)
	if err != nil {
		t.Fatalf("Enrolled: %v", err)
	}
	return ins.Enrol.Password, next
}

// machineInventory is what the machine's agent reports: its MAC, a
// serial and its BMC's address.
func machineInventory() inventory.Inventory {
	return inventory.Inventory{MAC: discoveringMAC, DMI: inventory.DMI{Serial: "s1"}, BMC: &inventory.BMCLAN{IP: "10.9.1.5"}}
}

// watchedMachine records the machine's inventory, as its agent's first
// report on subnet disc, and sets its watch; it returns the inventory.
func watchedMachine(t *testing.T, d *discoveryBackend) inventory.Inventory {
	t.Helper()
	inv := machineInventory()
	if _, err := d.reg.ReportInventory(context.Background(), inv, "disc", agentAddr.String()); err != nil {
		t.Fatal(err)
	}
	watch(t, d, true)
	return inv
}

// watch sets the machine's watch, as POST /api/v1/machines/KEY/watch.
func watch(t *testing.T, d *discoveryBackend, on bool) {
	t.Helper()
	if err := d.reg.WatchMachine(context.Background(), discoveringMAC, on); err != nil {
		t.Fatal(err)
	}
}

// next is the agent's GET /discovery/next.
func next(t *testing.T, d *discoveryBackend) inventory.Instruction {
	t.Helper()
	ins, err := d.Next(context.Background(), discoveringMAC, "", agentAddr)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ins
}

// The console name of a discovered machine is api.MachineConsoleName's.
func TestMachineConsoleNameRule(t *testing.T) {
	if got := api.MachineConsoleName(discoveringMAC); got != machineConsole {
		t.Fatalf("console name of %s: %q, want %q", discoveringMAC, got, machineConsole)
	}
}

// A machine not watched is told to power off as soon as its BMC is
// enrolled: its console is captured with the new user's password, for
// the linger only (the power-off lines), then stopped.
func TestMachineConsoleEnrolPowerOff(t *testing.T) {
	ctx := context.Background()
	d, c, fake, advance := consoleDiscovery(t)
	c.reconcile(ctx)
	fake.took()
	pw, ins := enrol(t, d, true)
	if ins.Action != inventory.ActionPowerOff {
		t.Fatalf("after the enrolment: %+v, want poweroff", ins)
	}
	next := c.reconcile(ctx)
	if got, want := fake.took(), "capture "+machineConsole+" 10.9.1.5 "+pw; got != want {
		t.Fatalf("after the enrolment: %q, want %q", got, want)
	}
	if want := c.now().Add(consoleLinger); !next.Equal(want) {
		t.Errorf("next reconcile at %v, want the linger's end %v", next, want)
	}
	if got, want := status(t, c, machineConsole, true), "capturing open"; got != want {
		t.Errorf("lingering: %q, want %q", got, want)
	}
	stopsAfter(t, c, fake, advance, consoleLinger, machineConsole, "the linger")
	if got, want := status(t, c, machineConsole, true), "idle stopped"; got != want {
		t.Errorf("stopped: %q, want %q", got, want)
	}
	advance(time.Hour)
	if c.reconcile(ctx); fake.took() != "" {
		t.Error("a stopped machine's console was touched again")
	}
}

// A watched machine keeps its capture while its agent waits (asking
// every 10 s), well past the linger; told to power off once unwatched,
// it lingers, then stops.
func TestMachineConsoleWatched(t *testing.T) {
	ctx := context.Background()
	d, c, fake, advance := consoleDiscovery(t)
	c.reconcile(ctx) // the systems'
	fake.took()
	watchedMachine(t, d)
	pw, ins := enrol(t, d, true)
	if ins.Action != inventory.ActionWait {
		t.Fatalf("a watched machine after its enrolment: %+v, want wait", ins)
	}
	c.reconcile(ctx)
	if got, want := fake.took(), "capture "+machineConsole+" 10.9.1.5 "+pw; got != want {
		t.Fatalf("after the enrolment: %q, want %q", got, want)
	}
	for range 30 { // 5 minutes
		advance(10 * time.Second)
		if ins := next(t, d); ins.Action != inventory.ActionWait {
			t.Fatalf("watched: %+v", ins)
		}
		c.reconcile(ctx)
	}
	if got := fake.took(); got != "" {
		t.Errorf("while the watched agent waits: %q", got)
	}
	if got, want := status(t, c, machineConsole, true), "capturing discovering open"; got != want {
		t.Errorf("watched: %q, want %q", got, want)
	}
	watch(t, d, false)
	if ins := next(t, d); ins.Action != inventory.ActionPowerOff {
		t.Fatalf("unwatched: %+v, want poweroff", ins)
	}
	stopsAfter(t, c, fake, advance, consoleLinger, machineConsole, "the power-off's linger")
}

// A watched machine whose agent goes silent (hung, or powered off by
// hand) is stopped consoleAgentSilence after it was last heard.
func TestMachineConsoleSilentAgent(t *testing.T) {
	ctx := context.Background()
	d, c, fake, advance := consoleDiscovery(t)
	watchedMachine(t, d)
	enrol(t, d, true)
	if next := c.reconcile(ctx); !next.Equal(c.now().Add(consoleAgentSilence)) {
		t.Errorf("next reconcile at %v, want when the agent is silent too long", next)
	}
	fake.took()
	stopsAfter(t, c, fake, advance, consoleAgentSilence, machineConsole, "the agent's silence")
}

// A captured machine that becomes a system, by hand (AcceptMachine, as
// the API does) or by a rule, is stopped at once, before the system's
// own capture starts on the same BMC; a removed one is stopped at once
// and forgotten.
func TestMachineConsoleBecomesSystem(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"accepted", "rule", "removed"} {
		t.Run(how, func(t *testing.T) {
			d, c, fake, _ := consoleDiscovery(t)
			inv := watchedMachine(t, d)
			pw, _ := enrol(t, d, true)
			c.reconcile(ctx)
			fake.took()
			switch how {
			case "accepted":
				if _, err := c.reg.AcceptMachine(ctx, discoveringMAC, registry.Accept{Name: "new01", Profile: "p", Reinstall: true}); err != nil {
					t.Fatal(err)
				}
				c.reconcile(ctx)
				if got, want := fake.took(), "stop "+machineConsole+"; capture new01 10.9.1.5 "+pw; got != want {
					t.Errorf("accepted: %q, want %q", got, want)
				}
				if got, want := status(t, c, "new01", true), "capturing pending open"; got != want {
					t.Errorf("the system: %q, want %q", got, want)
				}
			case "rule":
				if err := c.reg.AddRule(ctx, registry.Rule{Name: "r", Match: "true", Hostname: "r-{{ .DMI.Serial }}", Profile: "live", Subnet: "disc"}); err != nil {
					t.Fatal(err)
				}
				ins, err := d.Report(ctx, inventory.Report{Inventory: inv}, agentAddr)
				if err != nil || ins.Action != inventory.ActionPowerOff {
					t.Fatalf("Report once a rule matches: %+v %v", ins, err)
				}
				c.reconcile(ctx)
				if got, want := fake.took(), "stop "+machineConsole; got != want {
					t.Errorf("a rule made it a system: %q, want %q", got, want)
				}
			case "removed":
				if err := c.reg.RemoveMachine(ctx, discoveringMAC); err != nil {
					t.Fatal(err)
				}
				if _, err := d.Next(ctx, discoveringMAC, "", agentAddr); err == nil {
					t.Fatal("Next of a removed machine: no error")
				}
				c.reconcile(ctx)
				if got, want := fake.took(), "stop "+machineConsole; got != want {
					t.Errorf("removed: %q, want %q", got, want)
				}
				status(t, c, machineConsole, false)
			}
			if got := status(t, c, machineConsole, how != "removed"); how != "removed" && got != "idle stopped" {
				t.Errorf("the machine's console: %q, want idle stopped", got)
			}
		})
	}
}

// A failed enrolment starts nothing: the appliance has no credentials.
func TestMachineConsoleFailedEnrolment(t *testing.T) {
	ctx := context.Background()
	d, c, fake, _ := consoleDiscovery(t)
	c.reconcile(ctx)
	fake.took()
	enrol(t, d, false)
	next(t, d)
	c.reconcile(ctx)
	if got := fake.took(); got != "" {
		t.Errorf("a failed enrolment: %q, want nothing", got)
	}
	status(t, c, machineConsole, false)
}

// Follow reads a discovered machine's console by its console name; an
// unknown machine's is not found.
func TestMachineConsoleFollow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, c, fake, _ := consoleDiscovery(t)
	ran := make(chan error, 1)
	go func() { ran <- c.Run(ctx) }()
	watchedMachine(t, d)
	ch, err := c.Follow(ctx, machineConsole)
	if err != nil {
		t.Fatal(err)
	}
	enrol(t, d, true)
	waitFor(t, "the follower on the machine's session", func() bool { return fake.followers(machineConsole) == 1 })
	fake.feed(machineConsole, "provision-agent: waiting\n")
	if got := receive(t, ch); got != "provision-agent: waiting\n" {
		t.Errorf("followed %q", got)
	}
	if _, err := c.Follow(ctx, "mac_525400aa0002"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("Follow of an unknown machine: %v, want not found", err)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
}

package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/provision/provision/api"
	"github.com/provision/provision/bind"
	"github.com/provision/provision/console"
	"github.com/provision/provision/ipmi"
	"github.com/provision/provision/registry"
)

// consoleManager is what the capture policy needs of *console.Manager:
// the seam of its unit tests (the real Manager is tested against ipmi_sim).
type consoleManager interface {
	Capture(system string, bmc console.BMC) error
	Stop(system string) error
	Status(system string) (console.Status, error)
	Sessions() []console.Status
	Lines(system string, since time.Time) ([]console.Line, error)
	Recorded(system string) bool
	Follow(ctx context.Context, system string) (<-chan []byte, error)
	Attach(ctx context.Context, system string, in io.Reader, out io.Writer) error
	Close() error
}

// The capture policy's timings.
const (
	// consoleLinger is how long a console is still captured once no
	// reason remains: the reboot after a build and its first lines.
	consoleLinger = 30 * time.Second
	// consoleSettle is how long a failed build's console is left to
	// receive the bytes in flight before its last lines are noted.
	consoleSettle = 2 * time.Second
	// consoleRetry is how soon a capture the Manager refused (too many
	// sessions, unusable BMC settings) is tried again.
	consoleRetry = 30 * time.Second
	// consoleStopLimit bounds the sessions stopped at once (each waits
	// for ipmitool and the BMC's SOL deactivation).
	consoleStopLimit = 16
)

// consoles is the appliance's console capture: a console.Manager and the
// policy of when each system's console is captured (see reconcile), and
// the api.Console the console routes use. Run owns the policy's loop;
// the API's Attach and Capture add reasons of their own.
type consoles struct {
	mgr    consoleManager
	reg    *registry.Registry
	events *registry.EventLog
	log    *slog.Logger
	now    func() time.Time
	linger time.Duration
	settle time.Duration

	wake  chan struct{}  // the registry changed or an operator asked: reconcile
	done  chan struct{}  // closed when Run ends: followers' channels close
	ops   sync.Mutex     // held around the Manager's Capture and Stop: a decision to stop and an Attach's capture never cross
	notes sync.WaitGroup // failed builds' notes being written

	mu         sync.Mutex
	targets    map[string]*consoleTarget // by console name: systems' and discovered machines'
	machines   map[string]*machineWatch  // discovered machines captured, by console name (console_machines.go)
	operator   map[string]bool           // Capture(on) asked
	attached   map[string]int            // Attach calls under way
	started    map[string]chan struct{}  // closed when a session starts for the system (Follow waits on it)
	prev       map[string]string         // each system's status at the last reconcile
	primed     bool                      // prev holds a reconcile's statuses
	stopped    bool                      // Run has ended: nothing is captured any more
	retired    int                       // reconnects of the sessions stopped, for the metric's total
	reconnects int                       // the total last exported (it never goes back)
}

// consoleTarget is one system's capture as the policy sees it.
type consoleTarget struct {
	why  []string    // the reasons to capture now
	bmc  console.BMC // the settings last given to Manager.Capture
	on   bool        // captured: Manager.Capture succeeded, no Stop since
	idle time.Time   // when the last reason went, zero while one remains
	// build is whether the last reasons held a build or an inspection:
	// only those linger (the reboot after them); an operator's capture
	// ends when the operator ends it or detaches.
	build bool
	err   string         // why it is not captured though asked: a Redfish BMC, a refused Capture
	last  console.Status // the session's status when it was stopped
}

// newConsoles builds the capture over mgr, woken by every change of reg.
func newConsoles(mgr consoleManager, reg *registry.Registry, events *registry.EventLog, log *slog.Logger) *consoles {
	c := &consoles{mgr: mgr, reg: reg, events: events, log: log, now: time.Now, linger: consoleLinger, settle: consoleSettle,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		targets: map[string]*consoleTarget{}, machines: map[string]*machineWatch{}, operator: map[string]bool{}, attached: map[string]int{},
		started: map[string]chan struct{}{}, prev: map[string]string{}}
	reg.OnChange(func(*registry.Snapshot) { c.poke() })
	return c
}

// poke wakes the loop; it never blocks.
func (c *consoles) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// errConsoleStopping is the answer to an ask after Run has ended.
var errConsoleStopping = errors.New("console: the appliance is stopping")

// systemBMC is system's BMC as a SOL session needs it. Errors: the system
// does not exist (registry ErrNotFound), has no BMC or a Redfish one
// (ErrInvalid).
func (c *consoles) systemBMC(system string) (console.BMC, error) {
	sys, ok := c.reg.Snapshot().SystemByName(system)
	if !ok {
		return console.BMC{}, &registry.Error{Kind: registry.ErrNotFound, Msg: "system " + system + " not found"}
	}
	b, ok := bind.BMC(sys)
	if !ok {
		return console.BMC{}, &registry.Error{Kind: registry.ErrInvalid, Msg: "system " + system + " has no BMC (system edit " + system + " --bmc-address ...)"}
	}
	if b.Provider == ipmi.ProviderRedfish {
		return console.BMC{}, &registry.Error{Kind: registry.ErrInvalid, Msg: redfishConsole(system)}
	}
	return solBMC(b), nil
}

// solBMC is what ipmitool needs of a BMC.
func solBMC(b ipmi.BMC) console.BMC {
	return console.BMC{Address: b.Address, Port: b.Port, User: b.User, Password: b.Password}
}

// redfishConsole says why a Redfish BMC's console is not captured.
func redfishConsole(system string) string {
	return "SOL needs IPMI; system " + system + "'s BMC is Redfish"
}

// openConsoles is the capture the configuration asks for, its directory
// made (mode 0700: a console shows what the machine prints, passwords
// typed at a prompt included); nil when ConsoleSessions is off (Check has
// refused what does not parse).
func openConsoles(cfg Config, reg *registry.Registry, events *registry.EventLog, log *slog.Logger) (*consoles, error) {
	n, _ := cfg.consoleSessions()
	if n == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(cfg.ConsoleDir, 0o700); err != nil {
		return nil, fmt.Errorf("console directory: %w", err)
	}
	mgr := console.NewManager(console.ManagerConfig{Dir: cfg.ConsoleDir, MaxSessions: n, Log: log})
	return newConsoles(mgr, reg, events, log), nil
}

// consoleAPI is the API's Console: nil (not a nil *consoles) when off,
// so that the console routes answer 501.
func (a *Appliance) consoleAPI() api.Console {
	if a.consoles == nil {
		return nil
	}
	return a.consoles
}

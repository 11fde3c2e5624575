package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
)

// Interface names inside the namespaces of a Net. Each Net has namespaces
// of its own, so these never collide.
const (
	ServerIface = "lab0"   // the server end of the veth pair
	BridgeIface = "br0"    // the bridge that VMs' taps join
	uplinkIface = "uplink" // the bridge end of the veth pair
)

// nsPrefix starts the name of every namespace the package makes; the
// creating process id follows, so leftovers of a killed test can be swept.
const nsPrefix = "pvlab-"

// Net is a lab network: the bridge namespace, holding a Linux bridge and
// the VMs' taps, joined by a veth pair to the server namespace, where the
// server under test runs. Nothing of it is in the root namespace.
type Net struct {
	BridgeNS string       // namespace of the bridge and taps (and QEMU)
	ServerNS string       // namespace of the server under test
	Prefix   netip.Prefix // the test subnet, 10.251.0.0/24
	ServerIP netip.Addr   // ServerIface's address, 10.251.0.1

	*counts // shared by the Nets of one bridge (AddServer)
}

// counts numbers what is made on a bridge.
type counts struct {
	taps atomic.Int32 // taps made so far, for their names
	bmcs atomic.Int32 // simulated BMCs made so far, for their addresses
}

// NewNet creates a Net; name (letters, digits, '-') labels its
// namespaces. Close removes them, and everything in them.
func (e *Env) NewNet(name string) (*Net, error) {
	if err := needRoot(); err != nil {
		return nil, err
	}
	if _, err := needCommand("ip", "iproute2"); err != nil {
		return nil, err
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9-]{1,24}$`).MatchString(name) {
		return nil, fmt.Errorf("lab: NewNet: bad name %q", name)
	}
	sweepStale()
	suffix, err := randomHex(3)
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("%s%d-%s-%s", nsPrefix, os.Getpid(), suffix, name)
	n := &Net{
		BridgeNS: id + "-br",
		ServerNS: id + "-srv",
		Prefix:   netip.MustParsePrefix("10.251.0.0/24"),
		ServerIP: netip.MustParseAddr("10.251.0.1"),
		counts:   &counts{},
	}
	for _, ns := range []string{n.BridgeNS, n.ServerNS} {
		if err := e.addNamespace(ns); err != nil {
			return nil, err
		}
	}
	if err := n.setup(); err != nil {
		return nil, err
	}
	if err := e.answerRouterSolicitations(n); err != nil {
		return nil, err
	}
	return n, nil
}

// addNamespace makes a network namespace that Close deletes.
func (e *Env) addNamespace(ns string) error {
	if err := run("ip", "netns", "add", ns); err != nil {
		return err
	}
	e.Defer(func() { exec.Command("ip", "netns", "del", ns).Run() })
	return nil
}

// setup builds the bridge and the veth pair and addresses the server end.
func (n *Net) setup() error {
	br, srv := []string{"ip", "-n", n.BridgeNS}, []string{"ip", "-n", n.ServerNS}
	return runAll(
		append(br, "link", "set", "lo", "up"),
		append(srv, "link", "set", "lo", "up"),
		// STP off and no forward delay: a port forwards as soon as it is up.
		append(br, "link", "add", BridgeIface, "type", "bridge", "stp_state", "0", "forward_delay", "0"),
		append(br, "link", "add", uplinkIface, "type", "veth", "peer", "name", ServerIface, "netns", n.ServerNS),
		append(br, "link", "set", uplinkIface, "master", BridgeIface, "up"),
		append(br, "link", "set", BridgeIface, "up"),
		append(srv, "addr", "add", netip.PrefixFrom(n.ServerIP, n.Prefix.Bits()).String(), "dev", ServerIface),
		append(srv, "link", "set", ServerIface, "up"),
	)
}

// Addr returns the i-th address of the test subnet (Addr(1) is ServerIP),
// for reservations.
func (n *Net) Addr(i uint8) netip.Addr {
	a := n.Prefix.Addr().As4()
	a[3] = i
	return netip.AddrFrom4(a)
}

// Command returns args, run in the server namespace, as an unstarted
// command.
func (n *Net) Command(args ...string) *exec.Cmd {
	return n.CommandContext(context.Background(), args...)
}

// CommandContext is Command killed when ctx ends.
func (n *Net) CommandContext(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.ServerNS}, args...)...)
}

// Run runs args in the server namespace to completion and returns what it
// printed.
func (n *Net) Run(args ...string) (string, error) {
	out, err := n.Command(args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("lab: in %s: %s: %w\n%s", n.ServerNS, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Exec starts args in n's server namespace in the background; Close stops
// it (SIGTERM, then SIGKILL after 5 s). Its output is in the returned
// Proc's Transcript.
func (e *Env) Exec(n *Net, args ...string) (*Proc, error) {
	return e.start(args[0], 0, append([]string{"ip", "netns", "exec", n.ServerNS}, args...)...)
}

// sweepStale deletes namespaces this package made in processes that no
// longer run (a test binary killed before its cleanup).
func sweepStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || !strings.HasPrefix(f[0], nsPrefix) {
			continue
		}
		pid, _, _ := strings.Cut(strings.TrimPrefix(f[0], nsPrefix), "-")
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); os.IsNotExist(err) {
			exec.Command("ip", "netns", "del", f[0]).Run()
		}
	}
}

// run runs a command to completion; the error carries its output.
func run(args ...string) error {
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("lab: %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// runAll runs commands in turn until one fails.
func runAll(cmds ...[]string) error {
	for _, args := range cmds {
		if err := run(args...); err != nil {
			return err
		}
	}
	return nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// AddServer joins another server namespace to n's bridge, its end of a
// veth pair also named ServerIface, at address at of n's subnet: a second
// appliance on the same segment as the first (a master pair). The Net it
// returns shares n's bridge and subnet and runs commands (Command, Exec,
// Listen) in the new namespace; boot VMs through n, not through it.
// name (letters and digits, at most 8) labels the namespace and the
// bridge's end of the pair.
func (e *Env) AddServer(n *Net, name string, at netip.Addr) (*Net, error) {
	if !regexp.MustCompile(`^[a-zA-Z0-9]{1,8}$`).MatchString(name) || !n.Prefix.Contains(at) {
		return nil, fmt.Errorf("lab: AddServer(%q, %s): want a short name and an address in %s", name, at, n.Prefix)
	}
	ns := strings.TrimSuffix(n.BridgeNS, "-br") + "-" + name
	if err := e.addNamespace(ns); err != nil {
		return nil, err
	}
	up := "up-" + name
	err := runAll(
		[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
		[]string{"ip", "-n", n.BridgeNS, "link", "add", up, "type", "veth", "peer", "name", ServerIface, "netns", ns},
		[]string{"ip", "-n", n.BridgeNS, "link", "set", up, "master", BridgeIface, "up"},
		[]string{"ip", "-n", ns, "addr", "add", netip.PrefixFrom(at, n.Prefix.Bits()).String(), "dev", ServerIface},
		[]string{"ip", "-n", ns, "link", "set", ServerIface, "up"},
	)
	if err != nil {
		return nil, err
	}
	return &Net{BridgeNS: n.BridgeNS, ServerNS: ns, Prefix: n.Prefix, ServerIP: at, counts: n.counts}, nil
}

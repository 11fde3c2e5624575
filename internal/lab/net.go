package lab

import (
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
	"testing"

	"github.com/provision/provision/internal/testenv"
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

// Net is a test network: the bridge namespace, holding a Linux bridge and
// the VMs' taps, joined by a veth pair to the server namespace, where the
// server under test runs. Nothing of it is in the root namespace.
type Net struct {
	BridgeNS string       // namespace of the bridge and taps (and QEMU)
	ServerNS string       // namespace of the server under test
	Prefix   netip.Prefix // the test subnet, 10.251.0.0/24
	ServerIP netip.Addr   // ServerIface's address, 10.251.0.1

	taps atomic.Int32 // taps made so far, for their names
	bmcs atomic.Int32 // simulated BMCs made so far, for their addresses
}

// NewNet creates a Net; name (letters, digits, '-') labels its namespaces.
// t.Cleanup removes them, and everything in them, even when the test fails.
func NewNet(t testing.TB, name string) *Net {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "ip")
	if !regexp.MustCompile(`^[a-zA-Z0-9-]{1,24}$`).MatchString(name) {
		t.Fatalf("lab: NewNet: bad name %q", name)
	}
	sweepStale()
	id := fmt.Sprintf("%s%d-%s-%s", nsPrefix, os.Getpid(), randomHex(t, 3), name)
	n := &Net{
		BridgeNS: id + "-br",
		ServerNS: id + "-srv",
		Prefix:   netip.MustParsePrefix("10.251.0.0/24"),
		ServerIP: netip.MustParseAddr("10.251.0.1"),
	}
	for _, ns := range []string{n.BridgeNS, n.ServerNS} {
		mustRun(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	n.setup(t)
	n.answerRouterSolicitations(t)
	return n
}

// setup builds the bridge and the veth pair and addresses the server end.
func (n *Net) setup(t testing.TB) {
	t.Helper()
	br, srv := []string{"ip", "-n", n.BridgeNS}, []string{"ip", "-n", n.ServerNS}
	for _, args := range [][]string{
		append(br, "link", "set", "lo", "up"),
		append(srv, "link", "set", "lo", "up"),
		// STP off and no forward delay: a port forwards as soon as it is up.
		append(br, "link", "add", BridgeIface, "type", "bridge", "stp_state", "0", "forward_delay", "0"),
		append(br, "link", "add", uplinkIface, "type", "veth", "peer", "name", ServerIface, "netns", n.ServerNS),
		append(br, "link", "set", uplinkIface, "master", BridgeIface, "up"),
		append(br, "link", "set", BridgeIface, "up"),
		append(srv, "addr", "add", netip.PrefixFrom(n.ServerIP, n.Prefix.Bits()).String(), "dev", ServerIface),
		append(srv, "link", "set", ServerIface, "up"),
	} {
		mustRun(t, args...)
	}
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
	return exec.Command("ip", append([]string{"netns", "exec", n.ServerNS}, args...)...)
}

// Run runs args in the server namespace to completion and returns what it
// printed; a failure fails the test.
func (n *Net) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.Command(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("lab: in %s: %s: %v\n%s", n.ServerNS, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Exec starts args in the server namespace in the background; cleanup
// stops it (SIGTERM, then SIGKILL after 5 s). Its output is in the returned
// Proc's Transcript, and is logged when the test has failed.
func (n *Net) Exec(t testing.TB, args ...string) *Proc {
	t.Helper()
	return startProc(t, args[0], 0, append([]string{"ip", "netns", "exec", n.ServerNS}, args...)...)
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

func mustRun(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("lab: %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// AddServer joins another server namespace to n's bridge, its end of a
// veth pair also named ServerIface, at address at of n's subnet: a second
// appliance on the same segment as the first (a master pair). The Net it
// returns shares n's bridge and subnet and runs commands (Command, Exec,
// Listen) in the new namespace; boot VMs through n, not through it.
// name (letters and digits, at most 8) labels the namespace and the
// bridge's end of the pair.
func (n *Net) AddServer(t testing.TB, name string, at netip.Addr) *Net {
	t.Helper()
	if !regexp.MustCompile(`^[a-zA-Z0-9]{1,8}$`).MatchString(name) || !n.Prefix.Contains(at) {
		t.Fatalf("lab: AddServer(%q, %s): want a short name and an address in %s", name, at, n.Prefix)
	}
	ns := strings.TrimSuffix(n.BridgeNS, "-br") + "-" + name
	mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	up := "up-" + name
	for _, args := range [][]string{
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", n.BridgeNS, "link", "add", up, "type", "veth", "peer", "name", ServerIface, "netns", ns},
		{"ip", "-n", n.BridgeNS, "link", "set", up, "master", BridgeIface, "up"},
		{"ip", "-n", ns, "addr", "add", netip.PrefixFrom(at, n.Prefix.Bits()).String(), "dev", ServerIface},
		{"ip", "-n", ns, "link", "set", ServerIface, "up"},
	} {
		mustRun(t, args...)
	}
	return &Net{BridgeNS: n.BridgeNS, ServerNS: ns, Prefix: n.Prefix, ServerIP: at}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/registry"
)

// A VM powers on with nothing but the appliance: its e1000's iPXE ROM gets
// the reserved lease from our DHCP, fetches its script over HTTP, loads
// the kernel and initramfs from our image store, and the kernel prints the
// marker on the serial console. The system's timeline then lists DHCP,
// script, kernel and initrd in that order.
func TestVMBootsFromAppliance(t *testing.T) {
	defer parallel(t)()
	kernel, initrd := lab.Assets(t)
	n, cli := startLabAppliance(t)
	const mac = "52:54:00:12:34:56"
	vmIP := n.Addr(50).String()
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "labimg", "--kernel", kernel, "--initrd", initrd)
	cli("profile", "add", "lab", "--image", "labimg", "--kernel-args", "console=ttyS0 panic=5")
	cli("system", "add", "labvm1", "--mac", mac, "--ip", vmIP, "--profile", "lab")

	vm := lab.BootVM(t, n, mac, 5*time.Minute)
	host, err := vm.WaitBooted(5 * time.Minute)
	if err != nil {
		t.Fatalf("VM did not boot: %v\n%s", err, vm.Timed())
	}
	t.Logf("power-on to marker: %v", time.Since(vm.Started).Round(100*time.Millisecond))
	if host != "labvm1" {
		t.Fatalf("booted with provision.host=%q, want labvm1", host)
	}
	if _, err := vm.WaitFor(regexp.MustCompile(regexp.QuoteMeta(vmIP)), 10*time.Second); err != nil {
		t.Errorf("the console never shows the reserved address %s", vmIP)
	}
	want := []string{"dhcp", "script", "kernel", "initrd"}
	var kinds []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var evs []registry.Event
		json.Unmarshal([]byte(cli("system", "status", "labvm1", "--json")), &evs)
		kinds = firstOccurrences(evs)
		if len(kinds) >= len(want) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(kinds) < len(want) || strings.Join(kinds[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("timeline %v, want %v first", kinds, want)
	}
	t.Logf("status:\n%s", cli("system", "status", "labvm1"))
}

// firstOccurrences lists event kinds in the order they first appear.
func firstOccurrences(evs []registry.Event) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range evs {
		if !seen[e.Kind] {
			seen[e.Kind] = true
			out = append(out, e.Kind)
		}
	}
	return out
}

// startLabAppliance runs provision serve in the lab's server namespace,
// with DHCP on the lab network, and returns a CLI runner for it.
func startLabAppliance(t *testing.T) (*lab.Net, func(args ...string) string) {
	n, tok, _ := labAppliance(t)
	return n, labCLI(t, n, tok)
}

// startLabApplianceR is startLabAppliance that also returns a restart
// function: SIGTERM, then the same data directory again.
func startLabApplianceR(t *testing.T) (*lab.Net, func(args ...string) string, func()) {
	n, tok, restart := labAppliance(t)
	return n, labCLI(t, n, tok), restart
}

// labAppliance runs the appliance in a new lab network and returns the
// network, the API token and a restart function.
func labAppliance(t *testing.T, extra ...string) (*lab.Net, string, func()) {
	n := lab.NewNet(t, "boot")
	tok, restart := labApplianceIn(t, n, extra...)
	return n, tok, restart
}

// labApplianceIn is labAppliance in a lab network of the caller's.
func labApplianceIn(t *testing.T, n *lab.Net, extra ...string) (string, func()) {
	data := t.TempDir()
	server := n.ServerIP.String()
	start := func() *lab.Proc {
		app := n.Exec(t, append([]string{binary, "serve", "--data", data, "--zone", "dsas", "--dns-forward", "none", "--address", server,
			"--http", server + ":80", "--dns", server + ":53", "--tftp", server + ":69", "--dhcp-interface", lab.ServerIface}, extra...)...)
		if _, err := app.WaitFor(regexp.MustCompile(`msg=ready`), time.Minute); err != nil {
			t.Fatalf("appliance did not start: %v", err)
		}
		return app
	}
	app := start()
	restart := func() {
		app.Stop()
		app = start()
	}
	tok, err := os.ReadFile(filepath.Join(data, "token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(tok)), restart
}

// labCLI runs the CLI in the lab's server namespace against its
// appliance, failing t (which must be the calling test's) on an error.
func labCLI(t *testing.T, n *lab.Net, token string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		cmd := n.Command(append([]string{cli}, args...)...)
		cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+n.ServerIP.String(), "PROVISION_TOKEN="+token)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("provision %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// dhclient plugs a new veth with the given MAC into the lab bridge and
// runs ISC dhclient on it once; it returns the address leased, or "".
func dhclient(t *testing.T, n *lab.Net, name, mac string) string {
	ip, _ := dhclientLease(t, n, name, mac)
	return ip
}

// dhclientLease is dhclient that also returns the lease file.
func dhclientLease(t *testing.T, n *lab.Net, name, mac string) (ip, lease string) {
	testenv.NeedCommand(t, "dhclient")
	plugClient(t, n, name, mac)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "conf"), []byte("timeout 8;\ninitial-interval 1;\nretry 1;\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", n.BridgeNS, "dhclient", "-4", "-d", "-1", "-v",
		"-cf", filepath.Join(dir, "conf"), "-sf", "/bin/true", "-lf", filepath.Join(dir, "leases"), "-pf", filepath.Join(dir, "pid"), name)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill() // -d stays in the foreground once bound
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "bound to ") {
			b, _ := os.ReadFile(filepath.Join(dir, "leases"))
			if m := regexp.MustCompile(`fixed-address ([0-9.]+);`).FindSubmatch(b); m != nil {
				return string(m[1]), string(b)
			}
		}
	}
	return "", ""
}

// plugClient plugs a new veth with the given MAC into the lab bridge; its
// end named name is in the bridge namespace.
func plugClient(t *testing.T, n *lab.Net, name, mac string) {
	br := []string{"ip", "-n", n.BridgeNS, "link"}
	for _, args := range [][]string{
		append(br, "add", name, "address", mac, "type", "veth", "peer", "name", name+"p"),
		append(br, "set", name+"p", "master", lab.BridgeIface, "up"),
		append(br, "set", name, "up"),
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

// dhclient with a registered MAC gets exactly its registry IP; an unknown
// MAC gets nothing, until the subnet has a pool: then it gets a pool
// address and is listed as discovered.
func TestDHCPClientsAgainstAppliance(t *testing.T) {
	defer parallel(t)()
	n, cli, restart := startLabApplianceR(t)
	dir := t.TempDir()
	kernel := filepath.Join(dir, "k")
	os.WriteFile(kernel, []byte("kernel"), 0o644)
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "img", "--kernel", kernel, "--initrd", kernel)
	cli("profile", "add", "p", "--image", "img")
	cli("system", "add", "known1", "--mac", "52:54:00:aa:00:01", "--ip", n.Addr(61).String(), "--profile", "p")
	if got := dhclient(t, n, "cl1", "52:54:00:aa:00:01"); got != n.Addr(61).String() {
		t.Fatalf("registered MAC got %q, want %s", got, n.Addr(61))
	}
	if got := dhclient(t, n, "cl2", "52:54:00:aa:00:02"); got != "" {
		t.Fatalf("unknown MAC without a pool got %q", got)
	}
	cli("system", "remove", "known1")
	cli("subnet", "remove", "lab")
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String(), "--pool", n.Addr(200).String()+"-"+n.Addr(210).String())
	got := dhclient(t, n, "cl3", "52:54:00:aa:00:03")
	if a, err := netip.ParseAddr(got); err != nil || a.Less(n.Addr(200)) || n.Addr(210).Less(a) {
		t.Fatalf("unknown MAC on a pool subnet got %q", got)
	}
	var disc []registry.Discovered
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		json.Unmarshal([]byte(cli("system", "list", "--discovered", "--json")), &disc)
		if len(disc) > 0 {
			break
		}
	}
	if len(disc) != 1 || disc[0].MAC != "52:54:00:aa:00:03" || disc[0].IP != got {
		t.Fatalf("discovered: %+v", disc)
	}
	if out := cli("system", "list", "--discovered"); !strings.Contains(out, "52:54:00:aa:00:03") {
		t.Fatalf("system list --discovered:\n%s", out)
	}
	// Pool leases survive a restart: a second client's address is still
	// its own afterwards, though a fresh allocator would hand out the
	// first free one.
	second := dhclient(t, n, "cl4", "52:54:00:aa:00:04")
	if second == "" || second == got {
		t.Fatalf("second pool client got %q (first %q)", second, got)
	}
	restart()
	if again := dhclient(t, n, "cl5", "52:54:00:aa:00:04"); again != second {
		t.Fatalf("after a restart the second client got %q, want its lease %q", again, second)
	}
}

// A pool that dhclient holds a lease from cannot be shrunk away from it:
// the edit is refused naming the client's MAC, and the lease stays.
func TestPoolShrinkUnderALease(t *testing.T) {
	defer parallel(t)()
	n, tok, _ := labAppliance(t)
	run := labCLI(t, n, tok)
	pool := n.Addr(100).String() + "-" + n.Addr(110).String()
	run("subnet", "add", "lab", "--cidr", n.Prefix.String(), "--pool", pool)
	const mac = "02:00:00:00:00:77"
	got := dhclient(t, n, "dcp", mac)
	if got != n.Addr(100).String() {
		t.Fatalf("dhclient got %q, want %s from the pool", got, n.Addr(100))
	}
	shrunk := n.Addr(105).String() + "-" + n.Addr(110).String()
	cmd := n.Command(cli, "subnet", "edit", "lab", "--pool", shrunk)
	cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+n.ServerIP.String(), "PROVISION_TOKEN="+tok)
	out, err := cmd.CombinedOutput()
	want := "pool " + shrunk + " would leave out " + got + ", leased to mac " + mac
	if err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("subnet edit --pool %s: %v\n%s\nwant a refusal with %q", shrunk, err, out, want)
	}
	if s := run("subnet", "show", "lab"); !strings.Contains(s, pool) {
		t.Errorf("the refused edit changed the subnet:\n%s", s)
	}
}

// Without --address, DHCP answers as the --dhcp-interface's address that
// lies in a registered subnet, not as the first global address of the
// machine (here the interface's own first one, in no registered subnet),
// and follows the registry when the subnet is added after the start.
func TestDHCPIdentityFromTheInterface(t *testing.T) {
	defer parallel(t)()
	n := lab.NewNet(t, "ident")
	server := n.ServerIP.String()
	for _, args := range [][]string{
		{"ip", "-n", n.ServerNS, "addr", "flush", "dev", lab.ServerIface},
		{"ip", "-n", n.ServerNS, "addr", "add", "10.99.0.1/24", "dev", lab.ServerIface},
		{"ip", "-n", n.ServerNS, "addr", "add", server + "/24", "dev", lab.ServerIface},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	data := t.TempDir()
	app := n.Exec(t, binary, "serve", "--data", data, "--zone", "dsas", "--dns-forward", "none", "--http", ":80", "--dns", ":53", "--tftp", ":69",
		"--dhcp-interface", lab.ServerIface)
	if _, err := app.WaitFor(regexp.MustCompile(`msg=ready`), time.Minute); err != nil {
		t.Fatalf("appliance did not start: %v", err)
	}
	tok, err := os.ReadFile(filepath.Join(data, "token"))
	if err != nil {
		t.Fatal(err)
	}
	labCLI(t, n, strings.TrimSpace(string(tok)))("subnet", "add", "lab", "--cidr", n.Prefix.String(),
		"--pool", n.Addr(100).String()+"-"+n.Addr(110).String())
	ip, lease := dhclientLease(t, n, "dci", "02:00:00:00:00:66")
	if ip != n.Addr(100).String() || !strings.Contains(lease, "dhcp-server-identifier "+server+";") {
		t.Fatalf("dhclient got %q with lease:\n%s\nwant %s from server %s\nappliance log:\n%s", ip, lease, n.Addr(100), server, app.String())
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/lab"
	"github.com/provision/provision/registry"
)

// A VM powers on with nothing but the appliance: its e1000's iPXE ROM gets
// the reserved lease from our DHCP, fetches its script over HTTP, loads
// the kernel and initramfs from our image store, and the kernel prints the
// marker on the serial console. The system's timeline then lists DHCP,
// script, kernel and initrd in that order.
func TestVMBootsFromAppliance(t *testing.T) {
	kernel, initrd := lab.Assets(t)
	n := lab.NewNet(t, "boot")
	data := t.TempDir()
	server := n.ServerIP.String()
	app := n.Exec(t, binary, "serve", "--data", data, "--zone", "dsas", "--address", server,
		"--http", server+":80", "--dns", server+":53", "--tftp", server+":69", "--dhcp-interface", lab.ServerIface)
	if _, err := app.WaitFor(regexp.MustCompile(`msg=ready`), time.Minute); err != nil {
		t.Fatalf("appliance did not start: %v", err)
	}
	tok, err := os.ReadFile(filepath.Join(data, "token"))
	if err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := n.Command(append([]string{cli}, args...)...)
		cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+server, "PROVISION_TOKEN="+strings.TrimSpace(string(tok)))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("provision %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
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

package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	lab "github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/registry"
)

// A BIOS VM of a profile with --loader pxelinux boots through PXELINUX:
// SeaBIOS runs the e1000's boot ROM (iPXE, Debian's ipxe-qemu), which gets
// lpxelinux.0 from our DHCP and loads it over TFTP; lpxelinux loads
// ldlinux.c32 and pxelinux.cfg/01-MAC over TFTP, then the kernel and the
// initrd over HTTP from the URLs that config names, and the kernel prints
// the marker. The appliance's records of the requests (the system's
// timeline) show each step in that order, and no iPXE script. lpxelinux
// fetches HTTP with its own stack (lwIP, over the ROM's UNDI), as it does
// from any PXE ROM. pxelinux.0 would boot here too, but only because
// iPXE lends it its HTTP (PXENV_FILE_OPEN), which a plain PXE ROM has
// not: so the test insists on lpxelinux.0 on the wire and its lwIP
// banner on the console, and fails if DHCP hands out pxelinux.0 or the
// iPXE script.
func TestVMPXELinuxBIOS(t *testing.T) {
	defer parallel(t)()
	const mac = "52:54:00:12:35:10"
	n, cli := pxelinuxLab(t, "pxlvm1", mac, 52)

	vm := lab.BootVM(t, n, mac, 5*time.Minute)
	host := waitMarker(t, vm, `No bootable device|Boot failed|Unable to locate configuration file|Could not find kernel image|Failed to load ldlinux`)
	if host != "pxlvm1" {
		t.Fatalf("booted with provision.host=%q, want pxlvm1 (from the generated pxelinux.cfg)", host)
	}
	// lpxelinux's banner names its own TCP/IP stack (pxelinux.0's says PXE).
	if _, err := vm.WaitFor(regexp.MustCompile(`PXELINUX \S+ lwIP`), time.Second); err != nil {
		t.Errorf("the console never shows lpxelinux's banner: %v\n%s", err, vm.Timed())
	}

	cfg := "pxelinux.cfg/01-" + strings.ReplaceAll(mac, ":", "-")
	want := []timelineStep{
		{"dhcp", `^ack ` + regexp.QuoteMeta(n.Addr(52).String()) + ` boot lpxelinux\.0$`},
		{"tftp", `^lpxelinux\.0 [0-9]+B$`},
		{"tftp", `^ldlinux\.c32 [0-9]+B$`},
		{"tftp", `^` + regexp.QuoteMeta(cfg) + ` [0-9]+B$`},
		{"kernel", `^GET /images/labimg/kernel 200 [0-9]+B$`},
		{"initrd", `^GET /images/labimg/initrd 200 [0-9]+B$`},
	}
	evs := waitSteps(t, cli, "pxlvm1", want)
	for _, e := range evs {
		if e.Kind == "script" {
			t.Errorf("the VM fetched an iPXE script: %s", e.Detail)
		}
	}
	t.Logf("status:\n%s", cli("system", "status", "pxlvm1", "--all"))
}

// A UEFI VM (OVMF, whose own PXE boots: no iPXE) of a pxelinux profile
// gets syslinux.efi, which loads ldlinux.e64 and the same
// pxelinux.cfg/01-MAC over TFTP, then the kernel and initrd over HTTP.
// With option 60 in the offer, EDK II's PXE would ask port 4011 for its
// boot file and stop at PXE-E16.
func TestVMPXELinuxUEFI(t *testing.T) {
	defer parallel(t)()
	const mac = "52:54:00:12:35:11"
	n, cli := pxelinuxLab(t, "pxlvm2", mac, 53)

	vm := lab.BootVMWith(t, n, mac, 5*time.Minute, lab.VMOptions{UEFI: true})
	host := waitMarker(t, vm, `PXE-E[0-9]+|BdsDxe: failed to load|Failed to load ldlinux|Unable to locate configuration file|Could not find kernel image`)
	if host != "pxlvm2" {
		t.Fatalf("booted with provision.host=%q, want pxlvm2 (from the generated pxelinux.cfg)", host)
	}
	if _, err := vm.WaitFor(regexp.MustCompile(`NBP filename is syslinux\.efi`), time.Second); err != nil {
		t.Errorf("the firmware's PXE did not load syslinux.efi: %v\n%s", err, vm.Timed())
	}
	cfg := "pxelinux.cfg/01-" + strings.ReplaceAll(mac, ":", "-")
	waitSteps(t, cli, "pxlvm2", []timelineStep{
		{"dhcp", `^ack ` + regexp.QuoteMeta(n.Addr(53).String()) + ` boot syslinux\.efi$`},
		{"tftp", `^syslinux\.efi [0-9]+B$`}, // after a tsize probe the firmware aborts
		{"tftp", `^ldlinux\.e64 [0-9]+B$`},
		{"tftp", `^` + regexp.QuoteMeta(cfg) + ` [0-9]+B$`},
		{"kernel", `^GET /images/labimg/kernel 200 [0-9]+B$`},
		{"initrd", `^GET /images/labimg/initrd 200 [0-9]+B$`},
	})
	t.Logf("status:\n%s", cli("system", "status", "pxlvm2", "--all"))
}

// pxelinuxLab is bootLab with a profile of --loader pxelinux.
func pxelinuxLab(t *testing.T, name, mac string, host uint8) (*lab.Net, func(...string) string) {
	t.Helper()
	return bootLab(t, name, mac, host, "--loader", "pxelinux")
}

// bootLab starts a lab appliance and registers system name (MAC mac, the
// lab's address host) of a profile booting the lab's image, made with the
// profile flags given (none: the default loader, iPXE).
func bootLab(t *testing.T, name, mac string, host uint8, profileFlags ...string) (*lab.Net, func(...string) string) {
	t.Helper()
	kernel, initrd := lab.Assets(t)
	n, cli := startLabAppliance(t)
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "labimg", "--kernel", kernel, "--initrd", initrd)
	cli(append([]string{"profile", "add", "boot", "--image", "labimg", "--kernel-args", "console=ttyS0 panic=5"}, profileFlags...)...)
	cli("system", "add", name, "--mac", mac, "--ip", n.Addr(host).String(), "--profile", "boot")
	return n, cli
}

// waitMarker waits up to 4 minutes for the boot marker and returns its
// provision.host=; a console line matching fail (the firmware or the
// loader giving up) first fails t at once.
func waitMarker(t *testing.T, vm *lab.VM, fail string) string {
	t.Helper()
	booted := lab.BootedPattern()
	line, err := vm.WaitFor(regexp.MustCompile(booted.String()+"|"+fail), 4*time.Minute)
	if err != nil {
		t.Fatalf("VM did not boot: %v\n%s", err, vm.Timed())
	}
	m := booted.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("the boot failed: %q\n%s", line, vm.Timed())
	}
	t.Logf("power-on to marker: %v", time.Since(vm.Started).Round(100*time.Millisecond))
	return m[1]
}

// timelineStep is an event of a system's timeline: its kind, and a pattern
// its detail matches.
type timelineStep struct{ kind, detail string }

// waitSteps waits up to 15 s for system name's whole timeline to hold the
// steps of want in that order, and returns it; it fails t if it never does.
func waitSteps(t *testing.T, cli func(...string) string, name string, want []timelineStep) []registry.Event {
	t.Helper()
	var evs []registry.Event
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		evs = nil
		json.Unmarshal([]byte(cli("system", "status", name, "--all", "--json")), &evs)
		i := 0
		for _, e := range evs {
			if i < len(want) && e.Kind == want[i].kind && regexp.MustCompile(want[i].detail).MatchString(e.Detail) {
				i++
			}
		}
		if i == len(want) {
			return evs
		}
		if time.Now().After(deadline) {
			var got strings.Builder
			for _, e := range evs {
				fmt.Fprintf(&got, "  %-7s %s\n", e.Kind, e.Detail)
			}
			t.Fatalf("timeline of %s lacks step %d of %v (in order):\n%s", name, i+1, want, got.String())
		}
	}
}

package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/provision/provision/internal/lab"
)

// firmwareFail are the console lines of a firmware that gives up on the
// network or falls back to another boot option: EDK II's PXE errors, a
// boot option that failed, and SeaBIOS or iPXE finding nothing to boot.
const firmwareFail = `PXE-E[0-9]+|BdsDxe: failed to load|No bootable device|Boot failed|Could not boot|No more network devices`

// A UEFI VM (OVMF, with a virtio NIC without option ROM, so that EDK II's
// own PXE runs) of an iPXE profile boots on its first try: the firmware's
// DHCP (arch 7) gets ipxe.efi, loads it over TFTP, iPXE asks DHCP again
// and gets its script over HTTP, then the kernel and the initrd. A
// PXE-E16 (no valid offer) or a fall back to HTTP boot fails the test.
func TestVMUEFIPXE(t *testing.T) {
	const mac = "52:54:00:12:36:01"
	n, cli := ipxeLab(t, "uefivm1", mac, 61)

	vm := lab.BootVMWith(t, n, mac, 5*time.Minute, lab.VMOptions{UEFI: true})
	if host := waitMarker(t, vm, firmwareFail+`|>>Start HTTP Boot`); host != "uefivm1" {
		t.Fatalf("booted with provision.host=%q, want uefivm1", host)
	}
	ip := regexp.QuoteMeta(n.Addr(61).String())
	waitSteps(t, cli, "uefivm1", []timelineStep{
		{"dhcp", `^ack ` + ip + ` boot ipxe\.efi$`},
		{"tftp", `^ipxe\.efi [0-9]+B$`},
		{"dhcp", `^ack ` + ip + ` boot http://.*/boot\.ipxe$`},
		{"script", `boot\.ipxe`},
		{"kernel", `^GET /images/labimg/kernel 200 [0-9]+B$`},
		{"initrd", `^GET /images/labimg/initrd 200 [0-9]+B$`},
	})
}

// ipxeLab starts a lab appliance and registers system name (MAC mac, the
// lab's address host) of a profile with the default loader, iPXE.
func ipxeLab(t *testing.T, name, mac string, host uint8) (*lab.Net, func(...string) string) {
	t.Helper()
	kernel, initrd := lab.Assets(t)
	n, cli := startLabAppliance(t)
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "labimg", "--kernel", kernel, "--initrd", initrd)
	cli("profile", "add", "ipx", "--image", "labimg", "--kernel-args", "console=ttyS0 panic=5")
	cli("system", "add", name, "--mac", mac, "--ip", n.Addr(host).String(), "--profile", "ipx")
	return n, cli
}

// A UEFI VM set to HTTP boot (OVMF with its PXE off) boots with no TFTP at
// all: the firmware's DHCP (arch 16, class HTTPClient) gets the URL of
// ipxe.efi, fetches it over HTTP and runs it; iPXE gets its script, the
// kernel and the initrd over HTTP.
func TestVMUEFIHTTPBoot(t *testing.T) {
	const mac = "52:54:00:12:36:02"
	n, cli := ipxeLab(t, "uefivm2", mac, 62)

	vm := lab.BootVMWith(t, n, mac, 5*time.Minute, lab.VMOptions{HTTPBoot: true})
	if host := waitMarker(t, vm, firmwareFail+`|>>Start PXE`); host != "uefivm2" {
		t.Fatalf("booted with provision.host=%q, want uefivm2", host)
	}
	if _, err := vm.WaitFor(regexp.MustCompile(`>>Start HTTP Boot over IPv4`), time.Second); err != nil {
		t.Errorf("the firmware did not HTTP boot: %v\n%s", err, vm.Timed())
	}
	ip := regexp.QuoteMeta(n.Addr(62).String())
	evs := waitSteps(t, cli, "uefivm2", []timelineStep{
		{"dhcp", `^ack ` + ip + ` boot http://.*/ipxe\.efi$`},
		{"loader", `^GET /ipxe\.efi 200 [0-9]+B$`},
		{"dhcp", `^ack ` + ip + ` boot http://.*/boot\.ipxe$`},
		{"script", `boot\.ipxe`},
		{"kernel", `^GET /images/labimg/kernel 200 [0-9]+B$`},
		{"initrd", `^GET /images/labimg/initrd 200 [0-9]+B$`},
	})
	for _, e := range evs {
		if e.Kind == "tftp" {
			t.Errorf("an HTTP boot used TFTP: %s", e.Detail)
		}
	}
}

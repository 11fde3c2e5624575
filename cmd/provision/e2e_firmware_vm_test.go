package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
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
	defer parallel(t)()
	const mac = "52:54:00:12:36:01"
	n, cli := bootLab(t, "uefivm1", mac, 61)

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

// A UEFI VM set to HTTP boot (OVMF with its PXE off) boots with no TFTP at
// all: the firmware's DHCP (arch 16, class HTTPClient) gets the URL of
// ipxe.efi, fetches it over HTTP and runs it; iPXE gets its script, the
// kernel and the initrd over HTTP.
func TestVMUEFIHTTPBoot(t *testing.T) {
	defer parallel(t)()
	const mac = "52:54:00:12:36:02"
	n, cli := bootLab(t, "uefivm2", mac, 62)

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

// proxyDHCP beside a DHCP server the site already has: dnsmasq hands out
// the addresses (with no boot options), the appliance (--dhcp-mode
// proxy) only the boot files. A BIOS VM (the e1000's iPXE ROM) and a UEFI
// VM (OVMF's own PXE, then ipxe.efi) get their addresses from dnsmasq and
// boot from the appliance to the marker, side by side; their timelines
// show the proxy answers and no address from the appliance. (Which MACs
// a proxy answers is TestReplyProxy's.)
func TestVMProxyDHCP(t *testing.T) {
	kernel, initrd := lab.Assets(t)
	n, tok, _ := labAppliance(t, "--dhcp-mode", "proxy")
	cli := labCLI(t, n, tok)
	vms := []struct {
		name, mac string
		host      uint8
		opts      lab.VMOptions
		loader    string // the firmware's boot file
	}{
		{"proxybios", "52:54:00:12:36:11", 71, lab.VMOptions{}, ""},
		{"proxyuefi", "52:54:00:12:36:12", 72, lab.VMOptions{UEFI: true}, "ipxe.efi"},
	}
	var rs []lab.Reservation
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "labimg", "--kernel", kernel, "--initrd", initrd)
	cli("profile", "add", "ipx", "--image", "labimg", "--kernel-args", "console=ttyS0 panic=5")
	for _, v := range vms {
		cli("system", "add", v.name, "--mac", v.mac, "--ip", n.Addr(v.host).String(), "--profile", "ipx")
		rs = append(rs, lab.Reservation{MAC: v.mac, IP: n.Addr(v.host)})
	}
	dnsmasq := n.StartDnsmasq(t, n.Addr(2), rs...)

	for _, v := range vms {
		t.Run(v.name, func(t *testing.T) {
			defer parallel(t)()
			vm := lab.BootVMWith(t, n, v.mac, 5*time.Minute, v.opts)
			if host := waitMarker(t, vm, firmwareFail); host != v.name {
				t.Fatalf("booted with provision.host=%q, want %s", host, v.name)
			}
			ip := n.Addr(v.host).String()
			if _, err := dnsmasq.WaitFor(regexp.MustCompile(`DHCPACK\(dhcp0\) `+regexp.QuoteMeta(ip)+` `+v.mac), time.Second); err != nil {
				t.Errorf("dnsmasq never gave %s its address %s:\n%s", v.mac, ip, dnsmasq.Timed())
			}
			var want []timelineStep
			if v.loader != "" {
				want = append(want, timelineStep{"dhcp", `^proxy( \S+)? boot ` + regexp.QuoteMeta(v.loader) + `$`},
					timelineStep{"tftp", `^` + regexp.QuoteMeta(v.loader) + ` [0-9]+B$`})
			}
			want = append(want,
				timelineStep{"dhcp", `^proxy( \S+)? boot http://.*/boot/` + regexp.QuoteMeta(v.mac) + `\.ipxe$`},
				timelineStep{"script", `/boot/`},
				timelineStep{"kernel", `^GET /images/labimg/kernel 200 [0-9]+B$`},
				timelineStep{"initrd", `^GET /images/labimg/initrd 200 [0-9]+B$`})
			for _, e := range waitSteps(t, cli, v.name, want) {
				if e.Kind == "dhcp" && strings.HasPrefix(e.Detail, "ack ") {
					t.Errorf("the appliance gave an address in proxy mode: %s", e.Detail)
				}
			}
		})
	}
}

// Secure Boot with Debian's signed chain, on OVMF's Secure Boot firmware
// with Microsoft's keys: a profile with --loader grub --secure-boot hands
// out shimx64.efi over TFTP; shim (signed by Microsoft) loads grubx64.efi
// (Debian's signed network GRUB) from the same place, GRUB reads the
// generated grub.cfg and the host's grub.cfg-01-MAC, loads the signed
// kernel (Debian's) and the initrd over TFTP and boots to the marker, with the kernel saying
// Secure Boot is on. A second VM on the same firmware, of an iPXE profile,
// is handed Debian's ipxe.efi, which is not signed: the firmware must
// refuse it, and that VM must never boot.
func TestVMSecureBoot(t *testing.T) {
	kernel, initrd := lab.Assets(t)
	n, cli := startLabAppliance(t)
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "labimg", "--kernel", kernel, "--initrd", initrd)
	cli("profile", "add", "sb", "--image", "labimg", "--loader", "grub", "--secure-boot", "--kernel-args", "console=ttyS0 panic=5")
	cli("profile", "add", "unsigned", "--image", "labimg", "--kernel-args", "console=ttyS0 panic=5")
	const signed, unsigned = "52:54:00:12:36:21", "52:54:00:12:36:22"
	cli("system", "add", "sbvm", "--mac", signed, "--ip", n.Addr(81).String(), "--profile", "sb")
	cli("system", "add", "sbipxe", "--mac", unsigned, "--ip", n.Addr(82).String(), "--profile", "unsigned")

	t.Run("signed chain boots", func(t *testing.T) {
		defer parallel(t)()
		// 256 MiB is too little here: the kernel's EFI stub then fails to
		// decompress it ("XZ-compressed data is corrupt").
		vm := lab.BootVMWith(t, n, signed, 6*time.Minute, lab.VMOptions{SecureBoot: true, MemoryMiB: 1024})
		if host := waitMarker(t, vm, firmwareFail+`|Access Denied|Security Violation|bad shim signature|error: `); host != "sbvm" {
			t.Fatalf("booted with provision.host=%q, want sbvm", host)
		}
		line, err := vm.WaitFor(regexp.MustCompile(`[Ss]ecure boot enabled`), time.Second)
		if err != nil {
			t.Errorf("the kernel does not say Secure Boot is enabled: %v\n%s", err, vm.Timed())
		}
		t.Logf("kernel: %s", line)
		cfg := "grub.cfg-01-" + strings.ReplaceAll(signed, ":", "-")
		waitSteps(t, cli, "sbvm", []timelineStep{
			{"dhcp", `^ack ` + regexp.QuoteMeta(n.Addr(81).String()) + ` boot shimx64\.efi$`},
			{"tftp", `^shimx64\.efi [0-9]+B$`},
			{"tftp", `^grubx64\.efi [0-9]+B$`},
			{"tftp", `^/grub/grub\.cfg [0-9]+B$`},
			{"tftp", `^/grub/` + regexp.QuoteMeta(cfg) + ` [0-9]+B$`},
			{"kernel", `^/images/labimg/kernel [0-9]+B$`}, // over TFTP: the signed GRUB has no HTTP
			{"initrd", `^/images/labimg/initrd [0-9]+B$`},
		})
	})
	t.Run("unsigned loader refused", func(t *testing.T) {
		defer parallel(t)()
		vm := lab.BootVMWith(t, n, unsigned, 6*time.Minute, lab.VMOptions{SecureBoot: true})
		line, err := vm.WaitFor(regexp.MustCompile(`Access Denied|Security Violation|iPXE initialising|`+lab.BootedPattern().String()), 4*time.Minute)
		if err != nil {
			t.Fatalf("the firmware neither refused nor ran ipxe.efi: %v\n%s", err, vm.Timed())
		}
		if !regexp.MustCompile(`Access Denied|Security Violation`).MatchString(line) {
			t.Fatalf("the Secure Boot firmware ran the unsigned ipxe.efi: %q\n%s", line, vm.Timed())
		}
		t.Logf("firmware: %s", line)
		waitSteps(t, cli, "sbipxe", []timelineStep{{"tftp", `^ipxe\.efi [0-9]+B$`}}) // it was fetched, then refused
		for _, e := range waitSteps(t, cli, "sbipxe", nil) {
			if e.Kind == "script" || e.Kind == "kernel" {
				t.Errorf("the refused VM went on booting: %s %s", e.Kind, e.Detail)
			}
		}
	})
}

// A BIOS PXE client that is not iPXE (arch 0, class PXEClient, no iPXE
// user class) is handed undionly.kpxe over TFTP, runs it on its own
// PXE/UNDI stack, and iPXE asking again gets its script, not itself (the
// chain-load and its loop prevention), then the kernel and the initrd.
// Debian ships no non-iPXE PXE ROM, so the client is played by Debian's
// ipxe.lkrn, booted by SeaBIOS with a script that sets its DHCP user
// class to something else while it asks, and then chains to the file it
// was given, as a PXE ROM does (undionly.kpxe runs on the UNDI API that
// iPXE lends it, as it would on a PXE ROM's).
func TestVMPlainPXEChainLoadsIPXE(t *testing.T) {
	defer parallel(t)()
	const lkrn = "/usr/lib/ipxe/ipxe.lkrn"
	if _, err := os.Stat(lkrn); err != nil {
		testenv.Missing(t, "ipxe is not installed: "+err.Error())
	}
	const mac = "52:54:00:12:36:31"
	n, cli := bootLab(t, "plainpxe", mac, 91)
	script := filepath.Join(t.TempDir(), "pxe-rom.ipxe")
	// The user class is cleared before the chain: iPXE lends the NBP a
	// DHCP packet made from its settings (PXENV_GET_CACHED_INFO), which
	// would carry it on; a PXE ROM's cached ACK has none.
	os.WriteFile(script, []byte("#!ipxe\nset user-class PXE-ROM\ndhcp net0\nclear user-class\nchain tftp://${next-server}/${filename}\n"), 0o644)

	vm := lab.BootVMWith(t, n, mac, 5*time.Minute, lab.VMOptions{Kernel: lkrn, Initrd: script})
	if host := waitMarker(t, vm, firmwareFail); host != "plainpxe" {
		t.Fatalf("booted with provision.host=%q, want plainpxe", host)
	}
	ip := regexp.QuoteMeta(n.Addr(91).String())
	evs := waitSteps(t, cli, "plainpxe", []timelineStep{
		{"dhcp", `^ack ` + ip + ` boot undionly\.kpxe$`},
		{"tftp", `^undionly\.kpxe [0-9]+B$`},
		{"dhcp", `^ack ` + ip + ` boot http://.*/boot\.ipxe$`},
		{"script", `boot\.ipxe`},
		{"kernel", `^GET /images/labimg/kernel 200 [0-9]+B$`},
		{"initrd", `^GET /images/labimg/initrd 200 [0-9]+B$`},
	})
	loaders := 0
	for _, e := range evs {
		if e.Kind == "tftp" && regexp.MustCompile(`^undionly\.kpxe [0-9]+B$`).MatchString(e.Detail) {
			loaders++
		}
	}
	if loaders != 1 {
		t.Errorf("undionly.kpxe was fetched %d times, want once (iPXE asking again must get its script)", loaders)
	}
}

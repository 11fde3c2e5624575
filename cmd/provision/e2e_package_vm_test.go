package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/lab"
	"github.com/provision/provision/internal/testenv"
)

// The Debian package, installed into a fresh Debian with systemd: a VM
// the lab appliance boots as a diskless role, whose up hook
// (packaging/test/50-package-test) installs the .deb that scripts/package
// built, and checks the unit: active once it notified systemd, running as
// the provision user with only its two capabilities, HTTP and DNS
// answering on ports 80 and 53, a setting kept across a restart and a
// reload; then remove (the data and the user stay), install again, and
// purge (the data, the user, the unit and the configuration go). lintian
// has nothing to say of the package (its overrides are explained in
// packaging/debian/lintian-overrides).
func TestVMDebianPackage(t *testing.T) {
	t.Parallel() // mostly waiting (a VM, mmdebstrap, timeouts): beside the other parallel tests
	testenv.NeedCommand(t, "mmdebstrap")
	testenv.NeedCommand(t, "dpkg-deb")
	dist := t.TempDir()
	pkg := exec.Command("bash", "../../scripts/package")
	pkg.Env = append(os.Environ(), "VERSION=0.0.0+test")
	pkg.Dir = "."
	out, err := pkg.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/package: %v\n%s", err, out)
	}
	built := filepath.Join("../..", strings.TrimSpace(lastLine(string(out))))
	deb := filepath.Join(dist, "provision.deb")
	if err := os.Rename(built, deb); err != nil {
		t.Fatal(err)
	}
	if testenv.InCI() || lookPath("lintian") {
		lint := exec.Command(testenv.NeedCommand(t, "lintian"), "--tag-display-limit", "0", deb)
		if out, err := lint.CombinedOutput(); err != nil || strings.Contains(string(out), "E: ") || strings.Contains(string(out), "W: ") {
			t.Errorf("lintian: %v\n%s", err, out)
		}
	}

	overlay := t.TempDir()
	for _, d := range []string{"root", "etc/provision/up.d"} {
		os.MkdirAll(filepath.Join(overlay, d), 0o755)
	}
	b, _ := os.ReadFile(deb)
	os.WriteFile(filepath.Join(overlay, "root", "provision.deb"), b, 0o644)
	hook, err := os.ReadFile("../../packaging/test/50-package-test")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(overlay, "etc/provision/up.d/50-package-test"), hook, 0o755)
	rootfs := filepath.Join(t.TempDir(), "pkgtest.tar.zst")
	start := time.Now()
	build := exec.Command(cli, "image", "build", "pkgtest", "--debian", debianSuite(t), "--packages", "adduser,curl,dnsutils,procps",
		"--overlay", overlay, "--output", rootfs, "--no-add")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("image build: %v\n%s", err, out)
	}
	t.Logf("image build: %.1fs", time.Since(start).Seconds())

	n, tok, _ := labAppliance(t)
	cli := labCLI(t, n, tok)
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "pkgtest", "--kind", "diskless", "--kernel-package", lab.KernelPackage(t), "--rootfs", rootfs)
	cli("profile", "add", "pkgtest", "--image", "pkgtest", "--kernel-args", "console=ttyS0 panic=10")
	const mac = "52:54:00:d3:00:01"
	cli("system", "add", "pkgvm", "--mac", mac, "--ip", n.Addr(72).String(), "--profile", "pkgtest")
	vm := lab.BootVMWith(t, n, mac, 12*time.Minute, lab.VMOptions{MemoryMiB: 1024})
	if _, err := vm.WaitFor(regexp.MustCompile(`pkgtest: done`), 11*time.Minute); err != nil {
		t.Fatalf("the package test in the VM did not finish: %v\n%s", err, vm.Timed())
	}
	var oks, fails []string
	for _, l := range vm.Lines() {
		if _, rest, ok := strings.Cut(l, "pkgtest: ok "); ok {
			oks = append(oks, rest)
		}
		if _, rest, ok := strings.Cut(l, "pkgtest: FAIL "); ok {
			fails = append(fails, rest)
		}
	}
	t.Logf("power-on to done: %.1fs; in the VM:\n  %s", time.Since(vm.Started).Seconds(), strings.Join(oks, "\n  "))
	if len(fails) > 0 || len(oks) < 20 {
		t.Fatalf("%d steps failed in the VM (%d passed):\n  %s\nconsole:\n%s", len(fails), len(oks), strings.Join(fails, "\n  "), vm.Timed())
	}
}

func lookPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	lab "github.com/provision/provision/lab/labtest"
)

// packageOverlay builds the Debian package (scripts/package), checks it
// with lintian when lintian is installed (lint: its errors and warnings,
// nil if clean or not run), and returns an overlay in dir for a Debian
// role image that holds it and the package test
// (packaging/test/50-package-test, an up hook): the VM that boots the
// role installs the package into its fresh Debian with systemd and checks
// the unit (see checkPackageTest). The overlay starts as a copy of base,
// the role's own. It runs without a test: debianRoleOnce starts it.
func packageOverlay(dir, base string) (overlay string, lint, err error) {
	pkg := exec.Command("bash", "../../scripts/package")
	pkg.Env = append(slices.Clone(startEnv), "VERSION=0.0.0+test")
	out, err := pkg.CombinedOutput()
	if err != nil {
		return "", nil, fmt.Errorf("scripts/package: %v\n%s", err, out)
	}
	deb := filepath.Join("../..", strings.TrimSpace(lastLine(string(out))))
	defer os.Remove(deb)
	if lookPath("lintian") {
		lintian := exec.Command("lintian", "--tag-display-limit", "0", deb)
		lintian.Env = startEnv
		out, err := lintian.CombinedOutput()
		if err != nil || strings.Contains(string(out), "E: ") || strings.Contains(string(out), "W: ") {
			lint = fmt.Errorf("lintian: %v\n%s", err, out)
		}
	}
	overlay = filepath.Join(dir, "overlay")
	os.MkdirAll(overlay, 0o755)
	if out, err := exec.Command("cp", "-a", base+"/.", overlay).CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("copy the role's overlay: %v\n%s", err, out)
	}
	for _, d := range []string{"root", "etc/provision/up.d"} {
		os.MkdirAll(filepath.Join(overlay, d), 0o755)
	}
	b, err := os.ReadFile(deb)
	if err != nil {
		return "", nil, err
	}
	os.WriteFile(filepath.Join(overlay, "root", "provision.deb"), b, 0o644)
	hook, err := os.ReadFile("../../packaging/test/50-package-test")
	if err != nil {
		return "", nil, err
	}
	os.WriteFile(filepath.Join(overlay, "etc/provision/up.d/50-package-test"), hook, 0o755)
	return overlay, lint, nil
}

// checkPackageTest reads what the package test printed on the console of
// a VM booted with packageOverlay: the .deb installed into a fresh Debian
// with systemd, the unit active once it notified systemd, running as the
// provision user with only its two capabilities, HTTP and DNS answering
// on ports 80 and 53, a setting kept across a reload and a restart; then
// remove (the data and the user stay), install again, and purge (the
// data, the user, the unit and the configuration go).
func checkPackageTest(t *testing.T, vm *lab.VM) {
	t.Helper()
	if _, err := vm.WaitFor(regexp.MustCompile(`pkgtest: done`), time.Minute); err != nil {
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
	t.Logf("the package in the VM:\n  %s", strings.Join(oks, "\n  "))
	if len(fails) > 0 || len(oks) < 20 {
		t.Fatalf("%d steps of the package test failed in the VM (%d passed):\n  %s\nconsole:\n%s", len(fails), len(oks), strings.Join(fails, "\n  "), vm.Timed())
	}
}

func lookPath(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

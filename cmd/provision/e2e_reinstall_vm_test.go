package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	lab "github.com/provision/provision/lab/labtest"
)

// labBMCPassword is the BMC password of the VMs behind ipmi_sim; the CLI
// reads it from $LAB_BMC_PW.
const labBMCPassword = "lab-bmc-pw-1"

// Remote reinstall as the hosting company does it: the VM is off behind
// its BMC (OpenIPMI's ipmi_sim, whose power on starts QEMU);
// `provision system reinstall vm --wait` powers it on through the BMC, it
// network-boots, installs itself, calls back and reboots from its disk,
// and the command exits 0 with the system installed. A later power cycle
// boots the disk again, never the installer. A build whose installer never
// calls back passes its deadline, ends failed, and the BMC powers the VM
// off.
func TestVMRemoteReinstallThroughIPMI(t *testing.T) {
	defer parallel(t)()
	os.Setenv("LAB_BMC_PW", labBMCPassword) // the same for every test that reads it
	n, cliFor := installLab(t, "45s")
	for _, c := range []struct {
		mode, name, mac string
		ip              uint8
	}{
		{lab.ModeOK, "remote-ok", "52:54:00:12:37:01", 91},
		{lab.ModeHang, "remote-hang", "52:54:00:12:37:02", 92},
	} {
		t.Run(c.mode, func(t *testing.T) {
			defer parallel(t)()
			cli := cliFor(t)
			vm := lab.NewPoweredVM(t, n, c.mac, labBMCPassword, lab.VMOptions{Disk: lab.NewDisk(t, 8), Reboot: true})
			cli("system", "add", c.name, "--mac", c.mac, "--ip", n.Addr(c.ip).String(), "--profile", "lab-"+c.mode,
				"--bmc-address", vm.BMC.Address, "--bmc-port", fmt.Sprint(vm.BMC.Port), "--bmc-user", "admin", "--bmc-password-env", "LAB_BMC_PW")
			if out := cli("power", c.name, "status", "--fresh"); out != c.name+": off\n" {
				t.Fatalf("before the reinstall: %q", out)
			}
			start := time.Now()
			if c.mode == lab.ModeHang {
				hangs(t, cli, vm, c.name)
				return
			}
			out := cli("system", "reinstall", c.name, "--wait")
			took := time.Since(start)
			if !strings.Contains(out, "power on through its BMC") || !strings.HasSuffix(out, c.name+": installed\n") {
				t.Fatalf("reinstall --wait:\n%s", out)
			}
			t.Logf("reinstall from power off to installed: %.1fs\n%s", took.Seconds(), out)
			if _, err := vm.WaitFor(regexp.MustCompile(lab.DiskBootedMarker), 2*time.Minute); err != nil {
				t.Fatalf("the disk did not boot after the install: %v\n%s", err, vm.Timed())
			}
			cli("power", c.name, "cycle")
			waitCount(t, vm, lab.DiskBootedMarker, 2, 2*time.Minute)
			if got := strings.Count(vm.String(), lab.InstallerMarker); got != 1 {
				t.Fatalf("the installer ran %d times", got)
			}
			if !strings.Contains(cli("history", c.name), "installing -> installed (callback)") {
				t.Fatal("no installed in the history")
			}
		})
	}
}

// hangs reinstalls a system whose installer never calls back: at the
// deadline the build fails and the appliance powers the VM off.
func hangs(t *testing.T, cli func(...string) string, vm *lab.PoweredVM, name string) {
	cli("system", "reinstall", name)
	if _, err := vm.WaitFor(regexp.MustCompile(lab.HangingMarker), 2*time.Minute); err != nil {
		t.Fatalf("the installer did not start: %v\n%s", err, vm.Timed())
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		if _, on := vm.BMC.MachinePID(); !on && cli("power", name, "status", "--fresh") == name+": off\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the VM was not powered off after its deadline:\n%s", cli("events", "--system", name))
		}
	}
	if s := statusOf(t, cli, name); s.Status != "failed" {
		t.Fatalf("after the deadline: %+v", s)
	}
	if ev := cli("events", "--system", name); !strings.Contains(ev, "off: the build failed") {
		t.Fatalf("events:\n%s", ev)
	}
}

// waitCount waits until pattern has been printed n times.
func waitCount(t *testing.T, vm *lab.PoweredVM, pattern string, n int, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); strings.Count(vm.String(), pattern) < n; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%q printed %d times, want %d:\n%s", pattern, strings.Count(vm.String(), pattern), n, vm.Timed())
		}
	}
}

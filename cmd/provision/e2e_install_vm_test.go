package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	lab "github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/registry"
)

// installTemplate is the lab installer's template (kind script): the
// installer writes it verbatim onto its disk, so the test can compare the
// disk with what the appliance rendered.
const installTemplate = `# provision test install of {{.System.Name}} ({{.System.Hostname}})
ip={{.System.IP}}/{{.System.Prefix}} mac={{.System.MAC}}
disk={{.Settings.disk}} role={{index .Settings "role" | default "none"}}
done={{.URLs.Done}}
`

var showDI = flag.Bool("di-console", false, "log the Debian installer's console")

// vmStage is one line the VM's console must show, in order.
type vmStage struct{ name, pattern string }

func waitVM(t *testing.T, vm *lab.VM, timeout time.Duration, stages []vmStage) {
	t.Helper()
	deadline := vm.Started.Add(timeout)
	for _, s := range stages {
		if _, err := vm.WaitFor(regexp.MustCompile(s.pattern), time.Until(deadline)); err != nil {
			t.Fatalf("%s: %v\nconsole:\n%s", s.name, err, vm.Timed())
		}
		t.Logf("%5.1fs %s", time.Since(vm.Started).Seconds(), s.name)
	}
}

// installLab is an appliance in a lab network with the lab installer as
// image "labinst", template "lab-install" and one profile per installer
// mode: lab-ok, lab-fail, lab-hang (deadline hangTimeout). cliFor gives a
// CLI runner bound to a (sub)test.
func installLab(t *testing.T, hangTimeout string) (n *lab.Net, cliFor func(*testing.T) func(...string) string) {
	n, _, cliFor = installLabToken(t, hangTimeout)
	return n, cliFor
}

// installLabToken is installLab that also returns the admin token.
func installLabToken(t *testing.T, hangTimeout string) (n *lab.Net, tok string, cliFor func(*testing.T) func(...string) string) {
	kernel, initrd := lab.InstallerAssets(t)
	n, tok, _ = labAppliance(t)
	cliFor = func(t *testing.T) func(...string) string { return labCLI(t, n, tok) }
	cli := cliFor(t)
	tmpl := filepath.Join(t.TempDir(), "lab-install")
	os.WriteFile(tmpl, []byte(installTemplate), 0o644)
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "labinst", "--kernel", kernel, "--initrd", initrd)
	cli("template", "add", "lab-install", "--kind", "script", "--file", tmpl)
	for _, mode := range []string{lab.ModeOK, lab.ModeFail, lab.ModeHang} {
		args := []string{"profile", "add", "lab-" + mode, "--image", "labinst", "--kickstart", "lab-install",
			"--kernel-args", "console=ttyS0 panic=5 provision.labmode=" + mode, "--set", "disk=vda"}
		if mode == lab.ModeHang {
			args = append(args, "--install-timeout", hangTimeout)
		}
		cli(args...)
	}
	return n, tok, cliFor
}

func statusOf(t *testing.T, cli func(...string) string, name string) registry.System {
	t.Helper()
	var sys registry.System
	if err := json.Unmarshal([]byte(cli("system", "show", name, "--json")), &sys); err != nil {
		t.Fatal(err)
	}
	return sys
}

// timelineKinds lists the kinds of the events `system status` shows.
func timelineKinds(t *testing.T, cli func(...string) string, name string) []string {
	var evs []registry.Event
	json.Unmarshal([]byte(cli("system", "status", name, "--json")), &evs)
	var kinds []string
	for _, e := range evs {
		if len(kinds) == 0 || kinds[len(kinds)-1] != e.Kind {
			kinds = append(kinds, e.Kind)
		}
	}
	return kinds
}

// Three VMs side by side, one per installer mode, on one appliance:
//   - ok: the machine installs itself (pending -> installing ->
//     installed), reboots, and its second boot gets the local-boot script
//     and boots its disk, which holds the template the appliance rendered.
//   - fail: the installer reports failure with a log: failed, and the
//     next boots get the local-boot script.
//   - hang: the deadline passes: failed, the token is revoked (the
//     installer's done is refused), and the next boots boot the disk.
func TestVMInstallLifecycle(t *testing.T) {
	defer parallel(t)()
	n, cliFor := installLab(t, "50s")
	type vmCase struct {
		mode, name, mac string
		ip              uint8
		report          vmStage
		state, cause    string
	}
	cases := []vmCase{
		{lab.ModeOK, "inst-ok", "52:54:00:12:35:01", 71, vmStage{"the installer called done", lab.DoneMarker + ` status=200`}, "installed", "installing -> installed (callback)"},
		{lab.ModeFail, "inst-fail", "52:54:00:12:35:02", 72, vmStage{"the installer reported failure", lab.FailedReportedMarker + ` status=200`}, "failed", "installing -> failed (callback)"},
		{lab.ModeHang, "inst-hang", "52:54:00:12:35:03", 73, vmStage{"done is refused after the deadline", lab.DoneRefusedMarker + ` status=404`}, "failed", "installing -> failed (deadline)"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			defer parallel(t)()
			cli := cliFor(t)
			// Added now, when the VM is about to start: the deadline of
			// the hang case counts from here.
			cli("system", "add", c.name, "--mac", c.mac, "--ip", n.Addr(c.ip).String(), "--profile", "lab-"+c.mode, "--set", "role="+c.mode)
			if s := statusOf(t, cli, c.name); s.Status != "pending" {
				t.Fatalf("%s after add: %+v", c.name, s)
			}
			disk := lab.NewDisk(t, 8)
			opts := lab.VMOptions{Disk: disk, Reboot: true, DebugExit: true}
			vm := lab.BootVMWith(t, n, c.mac, 5*time.Minute, opts)
			waitVM(t, vm, 4*time.Minute, []vmStage{
				{"the installer runs with its template URL", lab.InstallerMarker + ` url=http://` + regexp.QuoteMeta(n.ServerIP.String()) + `(:80)?/ks/[0-9a-f]{32} mode=` + c.mode},
				{"the installer fetched the template", lab.FetchedMarker + ` bytes=[0-9]+`},
				c.report,
				{"the installer reboots", lab.RebootMarker},
				{"SeaBIOS boots the disk", `Booting from Hard Disk`},
				{"the disk's boot sector runs", lab.DiskBootedMarker},
			})
			if err := vm.WaitDiskBooted(time.Minute); err != nil {
				t.Fatal(err)
			}
			booted := time.Since(vm.Started)
			sys := statusOf(t, cli, c.name)
			if sys.Status != c.state || sys.Deadline != "" {
				t.Fatalf("after the VM: %+v", sys)
			}
			t.Logf("power-on to %s: %.1fs; to the disk booted: %.1fs", c.state, untilEvent(t, cli, c.name, vm.Started).Seconds(), booted.Seconds())
			if h := cli("history", c.name); !strings.Contains(h, c.cause) || !strings.Contains(h, "pending -> installing (callback)") {
				t.Errorf("history of %s:\n%s", c.name, h)
			}
			kinds := strings.Join(timelineKinds(t, cli, c.name), ",")
			if !strings.HasPrefix(kinds, "dhcp,script,kernel,initrd,dhcp,template") || !strings.HasSuffix(kinds, "dhcp,script") {
				t.Errorf("timeline of %s: %s", c.name, kinds)
			}
			t.Logf("status:\n%s", cli("system", "status", c.name))
			// The disk holds what the appliance rendered for this system
			// (the render shows the token as a placeholder).
			host, got, err := lab.ReadInstalled(disk)
			if err != nil || host != c.name {
				t.Fatalf("ReadInstalled: %q %v", host, err)
			}
			want := cli("template", "render", "lab-install", "--system", c.name)
			if tok := regexp.MustCompile(`/ks/([0-9a-f]{32})/done`).FindSubmatch(got); tok == nil ||
				strings.ReplaceAll(string(got), string(tok[1]), "BUILD-TOKEN") != want {
				t.Errorf("the disk holds:\n%s\nthe appliance renders:\n%s", got, want)
			}
			if c.mode == lab.ModeOK {
				return
			}
			if c.mode == lab.ModeFail && !strings.Contains(cli("system", "show", c.name), "status: failed") {
				t.Errorf("show:\n%s", cli("system", "show", c.name))
			}
			// Power it on again: a failed build never reinstalls it.
			again := lab.BootVMWith(t, n, c.mac, 3*time.Minute, opts)
			waitVM(t, again, 3*time.Minute, []vmStage{
				{"the local-boot script", `the system is failed: hand back to the firmware|Booting from Hard Disk`},
				{"the disk's boot sector runs", lab.DiskBootedMarker},
			})
			if strings.Contains(again.String(), lab.InstallerMarker) {
				t.Fatal("a failed build ran the installer again")
			}
		})
	}
	t.Cleanup(func() {
		if !t.Failed() {
			t.Logf("events:\n%s", cliFor(t)("events", "--limit", "200"))
		}
	})
}

// untilEvent is how long after start the system's build ended (its done
// or failed event).
func untilEvent(t *testing.T, cli func(...string) string, name string, start time.Time) time.Duration {
	var evs []registry.Event
	json.Unmarshal([]byte(cli("system", "status", name, "--all", "--json")), &evs)
	for _, e := range evs {
		if e.Kind == "done" || e.Kind == "failed" {
			return e.At.Sub(start)
		}
	}
	return -1
}

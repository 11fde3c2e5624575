package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"

	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/mirror"
	"github.com/provision/provision/registry"
)

// debianLab is an appliance in a lab network whose only way out is a
// relay to the real Debian archives of this machine's apt sources: the
// appliance caches them (--mirror, the relay's URLs) for the real Debian
// installer (image d-i, profile debian12 on the built-in preseed, with a
// serial console).
type debianLab struct {
	n   *lab.Net
	cli func(...string) string
	up  *lab.Upstream
	tok string
}

func newDebianLab(t *testing.T) *debianLab {
	kernel, initrd := lab.DebianInstaller(t)
	d := newMirrorLab(t)
	// A gateway, as every real subnet has: without one d-i asks whether
	// to go on without a default route before it fetches the preseed.
	d.cli("subnet", "add", "lab", "--cidr", d.n.Prefix.String(), "--gateway", d.n.Addr(254).String())
	d.cli("image", "add", "d-i", "--kernel", kernel, "--initrd", initrd)
	d.cli("profile", "add", "debian12", "--image", "d-i", "--kickstart", "debian12-preseed",
		"--kernel-args", "console=ttyS0,115200n8 DEBIAN_FRONTEND=text", "--set", "install.disk=/dev/vda")
	return d
}

// newMirrorLab is the appliance in a lab network whose only way out is
// the relay to the real archives: this machine's apt sources' debian and
// debian-security, or E2E_INSTALL_DEBIAN and E2E_INSTALL_SECURITY.
func newMirrorLab(t *testing.T) *debianLab {
	upstreams := aptUpstreams(t)
	for name, env := range map[string]string{"debian": "E2E_INSTALL_DEBIAN", "debian-security": "E2E_INSTALL_SECURITY"} {
		if v := os.Getenv(env); v != "" {
			u, err := url.Parse(v)
			if err != nil {
				t.Fatalf("%s: %v", env, err)
			}
			upstreams[name] = u
		}
	}
	n := lab.NewNet(t, "deb")
	up := n.StartUpstream(t, upstreams)
	// Index files are fetched again after 6 h: this machine's upstream
	// sends no validators (see docs/mirror.md), and a second run must
	// find what the first fetched.
	tok, _ := labApplianceIn(t, n, "--mirror", "debian="+up.URL+"/debian", "--mirror", "debian-security="+up.URL+"/debian-security",
		"--mirror-index-ttl", "6h")
	return &debianLab{n: n, cli: labCLI(t, n, tok), up: up, tok: tok}
}

// aptUpstreams are the debian and debian-security archives of this
// machine's apt sources, as the appliance finds them by default.
func aptUpstreams(t *testing.T) map[string]*url.URL {
	archives, err := mirror.AptSources("/")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]*url.URL{}
	for _, a := range archives {
		if a.Name == "debian" || a.Name == "debian-security" {
			found[a.Name] = a.Upstream
		}
	}
	if len(found) != 2 {
		t.Fatalf("this machine's apt sources name no debian and debian-security archives: %v", archives)
	}
	return found
}

// metric reads one of the appliance's metrics for an archive.
func (d *debianLab) metric(t *testing.T, name, archive string) float64 {
	t.Helper()
	out, err := d.n.Command("curl", "-sf", "-H", "Authorization: Bearer "+d.tok, "http://"+d.n.ServerIP.String()+"/metrics").Output()
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	prefix := name + `{archive="` + archive + `"} `
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	t.Fatalf("/metrics has no %s", prefix)
	return 0
}

// counters is the cache's account of one archive, for the log.
func (d *debianLab) counters(t *testing.T, archive string) string {
	var parts []string
	for _, m := range []string{"hits_total", "misses_total", "upstream_bytes_total", "served_bytes_total", "cached_files"} {
		parts = append(parts, m+"="+strconv.FormatFloat(d.metric(t, "provision_mirror_"+m, archive), 'f', -1, 64))
	}
	return archive + ": " + strings.Join(parts, " ")
}

// debs are the .deb files (not the installer's .udeb) among fetches.
func debs(fs []lab.Fetch) []lab.Fetch {
	var out []lab.Fetch
	for _, f := range fs {
		if strings.HasSuffix(f.Path, ".deb") && f.Status == 200 {
			out = append(out, f)
		}
	}
	return out
}

// The real Debian installer boots from the appliance with the built-in
// preseed's URL on its command line, fetches the preseed (a template
// event from the VM's address) and runs it, then takes its archive from
// the appliance's package cache, whose only upstream is the lab's relay
// to the real archive: it checks the mirror (the Release files, whose
// signature it verifies) and asks the cache for its first component
// (a .udeb), which the cache fetches from upstream. The test ends there:
// this machine's upstream has no udebs (see docs/mirror.md), and the
// whole install runs in scripts/e2e-install (TestVMDebianInstall). The
// base system's retrieval is TestMirrorDebootstrapThroughCache.
func TestVMDebianInstallerThroughCache(t *testing.T) {
	defer parallel(t)()
	d := newDebianLab(t)
	const mac, name = "52:54:00:12:36:01", "deb01"
	ip := d.n.Addr(81).String()
	d.cli("system", "add", name, "--mac", mac, "--ip", ip, "--profile", "debian12")
	vm := lab.BootVMWith(t, d.n, mac, 10*time.Minute, lab.VMOptions{MemoryMiB: 1024})
	// The console proves what only the VM sees (d-i running the preseed);
	// the appliance's records prove the fetches. (Once, in CI, the serial
	// console lost iPXE's and the kernel's lines of the first 40 s while
	// both files were served: they are not asked of the console.)
	waitVM(t, vm, 8*time.Minute, []vmStage{
		{"d-i ran the preseed's early command", `provision: preseed of ` + name + ` loaded`},
	})
	t.Logf("power-on to the preseed loaded: %.1fs", time.Since(vm.Started).Seconds())
	waitSteps(t, d.cli, name, []timelineStep{
		{"kernel", `^GET /images/d-i/kernel 200 [0-9]+B$`},
		{"initrd", `^GET /images/d-i/initrd 200 [0-9]+B$`},
		{"template", `debian12-preseed`},
	})
	if s := statusOf(t, d.cli, name); s.Status != "installing" {
		t.Fatalf("after d-i fetched its preseed: %+v", s)
	}
	deadline := time.Now().Add(6 * time.Minute)
	for !slices.ContainsFunc(d.up.Fetches(), func(f lab.Fetch) bool { return strings.HasSuffix(f.Path, ".udeb") }) {
		if time.Now().After(deadline) {
			t.Fatalf("after %.0fs, d-i asked the cache for no component: upstream %s\nconsole:\n%s",
				time.Since(vm.Started).Seconds(), lab.Summary(d.up.Fetches()), vm.Timed())
		}
		time.Sleep(time.Second)
	}
	t.Logf("power-on to the first component asked of the cache: %.1fs", time.Since(vm.Started).Seconds())
	fs := d.up.Fetches()
	release := slices.ContainsFunc(fs, func(f lab.Fetch) bool {
		return f.Status == 200 && regexp.MustCompile(`/dists/bookworm/(In)?Release$`).MatchString(f.Path)
	})
	if !release {
		t.Errorf("d-i's mirror check fetched no bookworm Release through the cache: %+v", fs)
	}
	if misses := d.metric(t, "provision_mirror_misses_total", "debian"); misses < float64(len(fs)) {
		t.Errorf("cache misses %v < %d upstream fetches", misses, len(fs))
	}
	t.Logf("upstream: %s\n%s", lab.Summary(fs), d.counters(t, "debian"))
	if *showDI {
		t.Logf("console:\n%s", vm.Timed())
	}
}

// TestVMDebianInstall is scripts/e2e-install: the real Debian installer
// installs Debian 12 from the built-in preseed through the appliance's
// package cache only, the installed system boots its disk and reports
// booted; then a second machine does the same, and the cache fetches
// from upstream nothing that the first install fetched. It takes most of
// an hour under TCG, so it runs only when PROVISION_E2E_INSTALL=1.
func TestVMDebianInstall(t *testing.T) {
	defer parallel(t)()
	if os.Getenv("PROVISION_E2E_INSTALL") != "1" {
		t.Skip("the whole Debian install runs in scripts/e2e-install (PROVISION_E2E_INSTALL=1)")
	}
	d := newDebianLab(t)
	d.needInstallerComponents(t)
	hash, err := exec.Command(testenv.NeedCommand(t, "openssl"), "passwd", "-6", "provision-e2e").Output()
	if err != nil {
		t.Fatal(err)
	}
	secret := d.n.Command(cli, "setting", "set", "--secret", "root.password-hash", "-")
	secret.Env = append(os.Environ(), "PROVISION_SERVER=http://"+d.n.ServerIP.String(), "PROVISION_TOKEN="+d.tok)
	secret.Stdin = strings.NewReader(string(hash))
	if out, err := secret.CombinedOutput(); err != nil {
		t.Fatalf("setting set --secret: %v\n%s", err, out)
	}
	d.cli("setting", "set", "ssh.authorized-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlL9sN2p1dI5C0Wk2N3a0m8q7oFjvW1zG0x3Yb4c5d6 e2e@provision")
	first := d.install(t, "deb01", "52:54:00:12:36:01", 81)
	t.Logf("first install: %s\n%s\n%s", lab.Summary(first), d.counters(t, "debian"), d.counters(t, "debian-security"))
	second := d.install(t, "deb02", "52:54:00:12:36:02", 82)
	t.Logf("second install: %s\n%s\n%s", lab.Summary(second), d.counters(t, "debian"), d.counters(t, "debian-security"))
	fetched := map[string]bool{}
	for _, f := range first {
		fetched[f.Path] = f.Status == 200
	}
	for _, f := range second {
		if fetched[f.Path] {
			t.Errorf("the second install fetched %s from upstream again (%d, %d bytes)", f.Path, f.Status, f.Bytes)
		}
	}
}

// install registers a system, boots a new VM with a new 4 GiB disk, and
// waits for the installer's done, the disk's boot and the installed
// system's booted report; it returns what the cache fetched upstream
// meanwhile.
func (d *debianLab) install(t *testing.T, name, mac string, ip uint8) []lab.Fetch {
	before := len(d.up.Fetches())
	d.cli("system", "add", name, "--mac", mac, "--ip", d.n.Addr(ip).String(), "--profile", "debian12")
	vm := lab.BootVMWith(t, d.n, mac, 90*time.Minute, lab.VMOptions{MemoryMiB: 1024, Disk: lab.NewDisk(t, 4096), Reboot: true})
	waitVM(t, vm, 10*time.Minute, []vmStage{{"d-i ran the preseed's early command", `provision: preseed of ` + name + ` loaded`}})
	t.Logf("%s: power-on to the preseed loaded: %.1fs", name, time.Since(vm.Started).Seconds())
	for deadline := time.Now().Add(80 * time.Minute); statusOf(t, d.cli, name).Status != "installed"; time.Sleep(10 * time.Second) {
		if time.Now().After(deadline) || statusOf(t, d.cli, name).Status == "failed" {
			t.Fatalf("%s: %+v after %.0fs\nconsole:\n%s", name, statusOf(t, d.cli, name), time.Since(vm.Started).Seconds(), vm.Timed())
		}
	}
	installed := time.Since(vm.Started)
	t.Logf("%s: power-on to installed: %.1fs", name, installed.Seconds())
	ev := d.waitBooted(t, name, vm)
	t.Logf("%s: power-on to booted: %.1fs (%s)", name, time.Since(vm.Started).Seconds(), ev.Detail)
	if !strings.Contains(ev.Detail, "kernel 6.1.0-") || !strings.Contains(ev.Detail, d.n.Addr(ip).String()) {
		t.Errorf("%s: booted report %q", name, ev.Detail)
	}
	if *showDI {
		t.Logf("console:\n%s", vm.Timed())
	}
	return d.up.Fetches()[before:]
}

// waitBooted waits for the installed system's booted report.
func (d *debianLab) waitBooted(t *testing.T, name string, vm *lab.VM) registry.Event {
	for deadline := time.Now().Add(15 * time.Minute); ; time.Sleep(5 * time.Second) {
		var evs []registry.Event
		json.Unmarshal([]byte(d.cli("system", "status", name, "--all", "--json")), &evs)
		for _, e := range evs {
			if e.Kind == "booted" {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no booted report after %.0fs\nconsole:\n%s", name, time.Since(vm.Started).Seconds(), vm.Timed())
		}
	}
}

// needInstallerComponents fails the test at once, with the reason, when
// the upstream has no installer components (udebs): the netboot
// installer downloads them first, and would stop at "Downloading a file
// failed" after minutes.
func (d *debianLab) needInstallerComponents(t *testing.T) {
	index := d.up.URL + "/debian/dists/bookworm/main/debian-installer/binary-amd64/Packages.xz"
	script := `f=$(curl -sf "$1" | xz -dc | sed -n 's/^Filename: //p' | head -n 1) && [ -n "$f" ] && curl -sf -o /dev/null -w "%{http_code} $f" "$2/$f"`
	out, err := d.n.Command("sh", "-c", script, "sh", index, d.up.URL+"/debian").CombinedOutput()
	if err != nil {
		t.Fatalf("the upstream archive has no installer components: the first udeb of %s does not download (%v %s): "+
			"give an upstream that has the debian-installer section with E2E_INSTALL_DEBIAN=URL (see docs/mirror.md)", index, err, out)
	}
	t.Logf("the upstream has the installer's components: %s", out)
}

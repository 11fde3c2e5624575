package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/roles"
)

// disklessLab is an appliance in a lab network with the busybox LVS role
// as diskless image "lvs", built by the appliance from the Debian kernel
// package, the global settings lvs.vrid=50 and net.private, and a
// test HTTP server in the server namespace (faults) for rootfs fetches.
func disklessLab(t *testing.T) (n *lab.Net, cli func(...string) string, faults string) {
	deb := lab.KernelPackage(t)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	root, err := roles.BusyboxRootfs(bb, roles.LVS())
	if err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(t.TempDir(), "lvs.tar.gz")
	os.WriteFile(rootfs, root, 0o644)
	n, tok, _ := labAppliance(t)
	cli = labCLI(t, n, tok)
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	// --kernel takes the kernel package too (the Debian test gives --kernel-package).
	cli("image", "add", "lvs", "--kind", "diskless", "--kernel", deb, "--rootfs", rootfs)
	cli("setting", "set", "lvs.vrid", "50")
	cli("setting", "set", "net.private", "192.168.0.0/20")
	faults = faultServer(t, n, root)
	return n, cli, faults
}

// faultServer serves, in the lab's server namespace:
//
//	/cut/rootfs  the rootfs the appliance serves, but the first request is
//	             cut after half of it; later ones honour Range
//	/bad/rootfs  the rootfs with one byte changed
func faultServer(t *testing.T, n *lab.Net, root []byte) string {
	l := n.Listen(t, "tcp", n.ServerIP.String()+":0")
	cut := make(chan struct{}, 1)
	cut <- struct{}{}
	bad := slices.Clone(root)
	bad[len(bad)/2] ^= 0xff
	mux := http.NewServeMux()
	mux.HandleFunc("/bad/rootfs", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "rootfs", time.Time{}, bytes.NewReader(bad))
	})
	mux.HandleFunc("/cut/rootfs", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-cut:
			w.Header().Set("Content-Length", fmt.Sprint(len(root)))
			w.WriteHeader(http.StatusOK)
			w.Write(root[:len(root)/2])
			w.(http.Flusher).Flush()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close() // dropped mid-body, once
			}
		default:
			http.ServeContent(w, r, "rootfs", time.Time{}, bytes.NewReader(root))
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().(*net.TCPAddr).String()
}

// A diskless VM boots the busybox LVS role from the appliance: DHCP, iPXE,
// the kernel and boot environment built from the Debian kernel package,
// data.cdb, the rootfs into tmpfs, switch_root. Its hook writes
// keepalived.conf from data.cdb offline (its own lvs.vrid, the global
// net.private, its profile's role), then reads lvs.vrid over live DNS,
// and data.cdb is gone at the end. The faults boot side by side: a cut
// download resumes, a wrong sha256 is refused, and without data.cdb the
// hook fails with zonecfg's exit code 3.
func TestVMDisklessRole(t *testing.T) {
	n, cli, faults := disklessLab(t)
	cases := []struct {
		name, args string
		stages     []vmStage
		events     []string // kinds that must appear in this order
		never      string   // an event kind that must not appear
	}{
		{"ok", "", []vmStage{
			{"boot environment", `provision: boot environment of lvs-ok`},
			{"rootfs fetched", `provision: rootfs fetched`},
			{"switched", `provision: switching to /sbin/init`},
			{"role init", roles.InitMarker + ` host=lvs-ok`},
			{"own lvs.vrid offline", `keepalived.conf: +virtual_router_id 100`},
			{"global net.private", `keepalived.conf: +# 192\.168\.0\.0/20`},
			{"profile role", `keepalived.conf: .*role lvs\.`},
			{"lvs.vrid over DNS", `lvs.vrid over DNS: 100`},
			{"data.cdb gone", roles.CDBMarker + ` absent`},
			{"up", roles.UpMarker},
		}, []string{"rootfs fetched", "switched", "hooks", "booted"}, "hook failed"},
		{"cut", "provision.rootfs.url=" + faults + "/cut/rootfs", []vmStage{
			{"download cut", `fetch of .*/cut/rootfs stopped at [0-9]+ bytes`},
			{"rootfs fetched", `provision: rootfs fetched`},
			{"lvs.vrid over DNS", `lvs.vrid over DNS: 100`},
			{"up", roles.UpMarker},
		}, []string{"rootfs fetched", "switched", "booted"}, "rootfs refused"},
		{"badsum", "provision.rootfs.url=" + faults + "/bad/rootfs", []vmStage{
			{"refused", `provision: rootfs refused: its sha256 is [0-9a-f]{64}, the image's is [0-9a-f]{64}`},
			{"gave up", `provision: boot failed: rootfs: sha256 mismatch 3 times`},
		}, []string{"rootfs refused"}, "switched"},
		{"nocdb", "provision.cdb.url=http://" + n.ServerIP.String() + "/zone/missing.cdb", []vmStage{
			{"no data.cdb", `provision: data.cdb not fetched from`},
			{"zonecfg exit 3", `hook /etc/provision/boot.d/10-keepalived failed with exit 3`},
			{"up", roles.UpMarker},
		}, []string{"cdb failed", "switched", "hook failed", "booted"}, ""},
	}
	for i, tc := range cases {
		name := "lvs-" + tc.name
		cli("profile", "add", name, "--image", "lvs", "--set", "role=lvs",
			"--kernel-args", strings.TrimSpace("console=ttyS0 panic=10 "+tc.args))
		mac := fmt.Sprintf("52:54:00:d1:00:%02x", i+1)
		cli("system", "add", name, "--mac", mac, "--ip", n.Addr(byte(60+i)).String(), "--profile", name, "--set", "lvs.vrid=100")
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer parallel(t)()
			name := "lvs-" + tc.name
			vm := lab.BootVMWith(t, n, fmt.Sprintf("52:54:00:d1:00:%02x", i+1), 6*time.Minute, lab.VMOptions{MemoryMiB: 384})
			waitVM(t, vm, 5*time.Minute, tc.stages)
			t.Logf("power-on to %s: %.1fs", tc.stages[len(tc.stages)-1].name, time.Since(vm.Started).Seconds())
			kinds := waitTimeline(t, cli, name, tc.events)
			if tc.never != "" && slices.Contains(kinds, tc.never) {
				t.Errorf("timeline %v has %q", kinds, tc.never)
			}
			if tc.name == "ok" {
				t.Logf("status:\n%s", cli("system", "status", name))
			}
		})
	}
}

// waitTimeline waits up to 15 s for the event kinds of want to appear in
// system name's timeline in that order, and returns the timeline's kinds.
func waitTimeline(t *testing.T, cli func(...string) string, name string, want []string) []string {
	t.Helper()
	var kinds []string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var evs []registry.Event
		json.Unmarshal([]byte(cli("system", "status", name, "--json")), &evs)
		kinds = kinds[:0]
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
		}
		if inOrder(kinds, want) {
			return kinds
		}
		if time.Now().After(deadline) {
			t.Errorf("timeline of %s %v lacks %v in that order", name, kinds, want)
			return kinds
		}
	}
}

// inOrder reports whether want appear in kinds in that order.
func inOrder(kinds, want []string) bool {
	i := 0
	for _, k := range kinds {
		if i < len(want) && k == want[i] {
			i++
		}
	}
	return i == len(want)
}

// debianRole is TestVMDisklessDebianRole's image: the LVS role's Debian
// root (keepalived, ipvsadm, the LVS overlay) with the Debian package and
// its test in the overlay (packageOverlay), and lintian's verdict on the
// package.
type debianRole struct {
	rootfs string        // lvs-debian.tar.zst
	lint   error         // lintian's errors and warnings, nil if clean or not run
	took   time.Duration // scripts/package, lintian and image build
}

// debianRoleOnce builds debianRole once per test binary; TestMain starts
// it at once, as diskImageOnce, so that its minutes of mmdebstrap pass
// beside the tests before the parallel ones instead of holding one of
// their places.
var debianRoleOnce = sync.OnceValues(func() (debianRole, error) {
	start := time.Now()
	suite, err := osCodename()
	if err != nil {
		return debianRole{}, err
	}
	dir, err := os.MkdirTemp(e2eDir, "lvsdeb-")
	if err != nil {
		return debianRole{}, err
	}
	// The same VM installs the Debian package and tests it (one Debian
	// boot for both: CI's cores are few).
	overlay, lint, err := packageOverlay(dir, "../../roles/lvs/overlay")
	if err != nil {
		return debianRole{}, err
	}
	rootfs := filepath.Join(dir, "lvs-debian.tar.zst")
	build := exec.Command(cli, "image", "build", "lvsdeb", "--debian", suite, "--packages", "keepalived,ipvsadm,adduser,curl,dnsutils,procps",
		"--overlay", overlay, "--output", rootfs, "--no-add")
	build.Env = startEnv
	if out, err := build.CombinedOutput(); err != nil {
		return debianRole{}, fmt.Errorf("image build lvsdeb: %v\n%s", err, out)
	}
	return debianRole{rootfs: rootfs, lint: lint, took: time.Since(start)}, nil
})

// A Debian role built by image build (mmdebstrap, keepalived and ipvsadm,
// the LVS overlay) boots diskless under systemd: its units run the same
// hooks, and the timeline ends at booted. The same VM is the Debian with
// systemd that the Debian package is tested in (packageOverlay,
// checkPackageTest), and lintian checks the package.
func TestVMDisklessDebianRole(t *testing.T) {
	defer parallelAfter(t, func() { debianRoleOnce() })()
	testenv.NeedCommand(t, "mmdebstrap")
	testenv.NeedCommand(t, "dpkg-deb")
	debianSuite(t)
	if testenv.InCI() {
		testenv.NeedCommand(t, "lintian")
	}
	deb := lab.KernelPackage(t)
	start := time.Now()
	role, err := debianRoleOnce()
	if err != nil {
		t.Fatal(err)
	}
	if role.lint != nil {
		t.Error(role.lint)
	}
	t.Logf("image build: %.1fs, waited for %.1fs", role.took.Seconds(), time.Since(start).Seconds())
	rootfs := role.rootfs
	n, tok, _ := labAppliance(t)
	cli := labCLI(t, n, tok)
	cli("subnet", "add", "lab", "--cidr", n.Prefix.String())
	cli("image", "add", "lvsdeb", "--kind", "diskless", "--kernel-package", deb, "--rootfs", rootfs)
	var img registry.Image
	json.Unmarshal([]byte(cli("image", "show", "lvsdeb", "--json")), &img)
	if img.Files["rootfs"].Size < 30<<20 {
		t.Fatalf("the Debian role is only %d bytes", img.Files["rootfs"].Size)
	}
	t.Logf("rootfs %.1f MiB, unpacked %.1f MiB; %s", float64(img.Files["rootfs"].Size)/(1<<20), float64(img.Unpacked)/(1<<20), img.Bootenv)
	cli("setting", "set", "net.private", "192.168.0.0/20")
	cli("profile", "add", "lvsdeb", "--image", "lvsdeb", "--set", "role=lvs", "--kernel-args", "console=ttyS0 panic=10")
	const mac = "52:54:00:d2:00:01"
	cli("system", "add", "lvs-deb", "--mac", mac, "--ip", n.Addr(70).String(), "--profile", "lvsdeb", "--set", "lvs.vrid=100")
	vm := lab.BootVMWith(t, n, mac, 10*time.Minute, lab.VMOptions{MemoryMiB: 1024})
	waitVM(t, vm, 9*time.Minute, []vmStage{
		{"rootfs fetched", `provision: rootfs fetched`},
		{"switched", `provision: switching to /sbin/init`},
		{"systemd", `Welcome to Debian`},
		{"own lvs.vrid offline", `keepalived.conf: +virtual_router_id 100`},
		{"global net.private", `keepalived.conf: +# 192\.168\.0\.0/20`},
		{"lvs.vrid over DNS", `lvs.vrid over DNS: 100`},
		{"data.cdb gone", `data.cdb: absent`},
		{"package tested", `pkgtest: done`},
		{"booted", `provision: booted: lvs-deb`},
	})
	t.Logf("power-on to booted: %.1fs", time.Since(vm.Started).Seconds())
	if testing.Verbose() {
		var systemd []string // what systemd waited for, with the times
		for _, l := range strings.Split(vm.Timed(), "\n") {
			if strings.Contains(l, "Timed out") || strings.Contains(l, "start job") || strings.Contains(l, "Reached target") || strings.Contains(l, "FAILED") {
				systemd = append(systemd, l)
			}
		}
		t.Logf("systemd:\n%s", strings.Join(systemd, "\n"))
	}
	checkPackageTest(t, vm)
	waitTimeline(t, cli, "lvs-deb", []string{"rootfs fetched", "switched", "hooks", "booted"})
	t.Logf("status:\n%s", cli("system", "status", "lvs-deb"))
}

// debianSuite is this machine's Debian codename, which image build builds.
func debianSuite(t *testing.T) string {
	suite, err := osCodename()
	if err != nil {
		testenv.Missing(t, err.Error())
	}
	return suite
}

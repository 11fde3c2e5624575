package labtest_test

import (
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
)

var showConsole = flag.Bool("console", false, "log the VM's serial console")

// bootTimeout bounds one network boot; by hand it takes ~40 s under TCG.
const bootTimeout = 4 * time.Minute

// TestLabBootsWithDnsmasq proves the harness with dnsmasq standing in for
// the appliance's DHCP: the e1000 ROM (iPXE) gets its reserved lease, is
// handed the script's URL because its user class is iPXE, fetches script,
// kernel and initramfs from a Go HTTP server listening in the server
// namespace, and the kernel prints the marker.
func TestLabBootsWithDnsmasq(t *testing.T) {
	testenv.NeedRoot(t)
	dnsmasq := testenv.NeedCommand(t, "dnsmasq")
	kernel, initrd := lab.Assets(t)
	n := lab.NewNet(t, "dnsmasq")
	const host, mac = "labvm1", "52:54:00:4c:41:42"
	vmIP := n.Addr(50)

	l := n.Listen(t, "tcp4", netip.AddrPortFrom(n.ServerIP, 0).String())
	base := "http://" + l.Addr().String()
	log := &requestLog{}
	srv := &http.Server{Handler: bootFiles(log, base, host, kernel, initrd), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	d := startDnsmasq(t, dnsmasq, n, mac, vmIP, host, base+"/boot.ipxe")

	vm := lab.BootVM(t, n, mac, bootTimeout)
	waitStages(t, vm, []stage{
		{"iPXE has its reserved lease", `net0: ` + regexp.QuoteMeta(vmIP.String()) + `/`},
		{"iPXE fetched the script", regexp.QuoteMeta(base+"/boot.ipxe") + `\.\.\. ok`},
		{"iPXE fetched the kernel", regexp.QuoteMeta(base+"/vmlinuz") + `\.\.\. ok`},
		{"iPXE fetched the initramfs", regexp.QuoteMeta(base+"/initrd.gz") + `\.\.\. ok`},
		{"Linux runs /init", `Run /init as init process`},
		{"the marker", lab.BootedPattern().String()},
		{"udhcpc has the lease", lab.DHCPMarker + ` ip=` + regexp.QuoteMeta(vmIP.String()) + `$`},
		{"powering off", lab.PoweroffMarker},
	})
	if got, err := vm.WaitBooted(time.Second); err != nil || got != host {
		t.Errorf("WaitBooted = %q, %v; want host %q", got, err, host)
	}
	if *showConsole {
		t.Logf("console:\n%s", vm.Timed())
		t.Logf("dnsmasq:\n%s", d.Timed())
	}
	if err := vm.Wait(time.Minute); err != nil {
		t.Errorf("QEMU did not power off: %v", err)
	}
	if got, want := log.from(vmIP), []string{"/boot.ipxe", "/vmlinuz", "/initrd.gz"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests from %s = %v, want %v", vmIP, got, want)
	}
	if _, err := d.WaitFor(regexp.MustCompile(`user class: iPXE`), time.Second); err != nil {
		t.Errorf("dnsmasq saw no iPXE user class: %v", err)
	}
}

// startDnsmasq runs dnsmasq in n's server namespace as the DHCP server:
// it reserves vmIP for mac and hands iPXE the script's URL.
func startDnsmasq(t *testing.T, dnsmasq string, n *lab.Net, mac string, vmIP netip.Addr, host, script string) *lab.Proc {
	t.Helper()
	dir := t.TempDir()
	d := n.Exec(t, dnsmasq, "-d", "-C", "/dev/null", "--port=0", "--log-dhcp",
		"--user=root", "--pid-file="+filepath.Join(dir, "pid"),
		"--dhcp-leasefile="+filepath.Join(dir, "leases"),
		"--interface="+lab.ServerIface, "--bind-interfaces",
		fmt.Sprintf("--dhcp-range=%s,%s,255.255.255.0,10m", n.Addr(100), n.Addr(150)),
		fmt.Sprintf("--dhcp-host=%s,%s,%s", mac, vmIP, host),
		// iPXE sends user class (option 77) "iPXE": hand it the script.
		"--dhcp-userclass=set:ipxe,iPXE",
		"--dhcp-boot=tag:ipxe,"+script,
		// Option 175.176 (iPXE no-pxedhcp) = 1: iPXE takes the offer at
		// once instead of waiting several seconds for ProxyDHCP offers.
		"--dhcp-option=tag:ipxe,encap:175,176,1b")
	if _, err := d.WaitFor(regexp.MustCompile(`DHCP, IP range`), 30*time.Second); err != nil {
		t.Fatalf("dnsmasq did not start: %v", err)
	}
	return d
}

// stage is one step of a network boot and the console line that shows it.
type stage struct{ name, pattern string }

// waitStages waits for each stage in turn and logs how long after QEMU's
// start it was reached.
func waitStages(t *testing.T, vm *lab.VM, stages []stage) {
	t.Helper()
	for _, s := range stages {
		if _, err := vm.WaitFor(regexp.MustCompile(s.pattern), bootTimeout-time.Since(vm.Started)); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		t.Logf("%5.1fs %s (accel %s)", time.Since(vm.Started).Seconds(), s.name, vm.Accel)
	}
}

// bootFiles serves the iPXE script, the kernel and the initramfs, and
// records each request.
func bootFiles(log *requestLog, base, host, kernel, initrd string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boot.ipxe", func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		fmt.Fprintf(w, "#!ipxe\nkernel %s/vmlinuz console=ttyS0 panic=5 provision.host=%s\ninitrd %s/initrd.gz\nboot\n", base, host, base)
	})
	for path, file := range map[string]string{"/vmlinuz": kernel, "/initrd.gz": initrd} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			log.add(r)
			http.ServeFile(w, r, file)
		})
	}
	return mux
}

// requestLog records the paths requested, by client address.
type requestLog struct {
	mu    sync.Mutex
	paths map[netip.Addr][]string
}

func (l *requestLog) add(r *http.Request) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.paths == nil {
		l.paths = map[netip.Addr][]string{}
	}
	l.paths[ap.Addr()] = append(l.paths[ap.Addr()], r.URL.Path)
}

func (l *requestLog) from(a netip.Addr) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.paths[a]
}

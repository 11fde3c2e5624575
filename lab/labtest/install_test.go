package labtest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
)

// localBootMarker is what the stand-in's second boot script echoes
// before it exits to the next boot device.
const localBootMarker = "PROVISION-LAB-LOCALBOOT"

// TestLabInstallerLifecycle boots the lab installer from dnsmasq and a Go
// stand-in for the appliance, once per installer mode: iPXE boots it with
// provision.ks=BASE/ks/tok1; it fetches the template, writes the disk,
// reports (done, failed, or done refused once the token is revoked) and
// reboots; iPXE runs again, gets a script that exits, SeaBIOS boots the
// disk, and the boot sector makes QEMU exit with lab.DiskBootedExit.
func TestLabInstallerLifecycle(t *testing.T) {
	testenv.NeedRoot(t)
	dnsmasq := testenv.NeedCommand(t, "dnsmasq")
	kernel, initrd := lab.InstallerAssets(t)
	for i, tc := range []struct {
		mode        string
		revokeAfter int // the template's GETs answered before the token is revoked; 0: never
		report      []stage
		requests    []string // after the first boot's script, kernel, initramfs and template
	}{
		{mode: lab.ModeOK, report: []stage{{"the installer called done", lab.DoneMarker + ` status=200$`}},
			requests: []string{"/ks/tok1/done"}},
		{mode: lab.ModeFail, report: []stage{
			{"the installer says why it failed", regexp.QuoteMeta(lab.FailedOnPurpose) + `$`},
			{"the installer reported its failure", lab.FailedReportedMarker + ` status=200$`},
		},
			requests: []string{"/ks/tok1/failed"}},
		{mode: lab.ModeHang, revokeAfter: 3, report: []stage{
			{"the installer hangs", lab.HangingMarker},
			{"done is refused after the token is revoked", lab.DoneRefusedMarker + ` status=404$`},
		}, requests: []string{"/ks/tok1", "/ks/tok1", "/ks/tok1", "/ks/tok1/done"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel() // each mode has a network, dnsmasq and stand-in of its own
			n := lab.NewNet(t, "install-"+tc.mode)
			host, mac := fmt.Sprintf("labinst%d", i), fmt.Sprintf("52:54:00:4c:49:%02x", i)
			vmIP := n.Addr(60 + uint8(i))
			l := n.Listen(t, "tcp4", netip.AddrPortFrom(n.ServerIP, 0).String())
			s := &installServer{
				base: "http://" + l.Addr().String(), kernel: kernel, initrd: initrd, host: host, mode: tc.mode,
				template:    fmt.Sprintf("# rendered for %s\n", host) + strings.Repeat("d-i partman-auto/method string regular\n", 30),
				revokeAfter: tc.revokeAfter,
			}
			srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
			go srv.Serve(l)
			t.Cleanup(func() { srv.Close() })
			startDnsmasq(t, dnsmasq, n, mac, vmIP, host, s.base+"/boot.ipxe")

			disk := lab.NewDisk(t, 8)
			vm := lab.BootVMWith(t, n, mac, bootTimeout, lab.VMOptions{Disk: disk, Reboot: true, DebugExit: true})
			size := fmt.Sprint(len(s.template))
			stages := []stage{
				{"iPXE fetched the installer", regexp.QuoteMeta(s.base+"/initrd.gz") + `\.\.\. ok`},
				{"the installer runs", lab.InstallerMarker + ` url=` + regexp.QuoteMeta(s.base+"/ks/tok1") + ` mode=` + tc.mode + `$`},
				{"udhcpc has the lease", lab.DHCPMarker + ` ip=` + regexp.QuoteMeta(vmIP.String()) + `$`},
				{"the installer fetched the template", lab.FetchedMarker + ` bytes=` + size + `$`},
				{"the installer wrote the disk", lab.DiskMarker + ` host=` + host + ` bytes=` + size + `$`},
			}
			stages = append(stages, tc.report...)
			stages = append(stages, []stage{
				{"the installer reboots", lab.RebootMarker + `$`},
				{"iPXE runs again and gets the local boot script", localBootMarker},
				{"SeaBIOS boots the disk", `Booting from Hard Disk`},
				{"the boot sector runs", lab.DiskBootedMarker},
			}...)
			waitStages(t, vm, stages)
			if err := vm.WaitDiskBooted(time.Minute); err != nil {
				t.Fatal(err)
			}
			t.Logf("power-on to disk booted: %.1fs (accel %s)", time.Since(vm.Started).Seconds(), vm.Accel)
			if strings.Contains(strings.ReplaceAll(vm.String(), lab.FailedOnPurpose, ""), lab.ErrorMarker) {
				t.Errorf("the installer printed an error:\n%s", vm.Timed())
			}
			if *showConsole {
				t.Logf("console:\n%s", vm.Timed())
			}

			want := append([]string{"/boot.ipxe", "/vmlinuz", "/initrd.gz", "/ks/tok1"}, tc.requests...)
			want = append(want, "/boot.ipxe")
			if got := s.log.from(vmIP); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("requests from %s = %v, want %v", vmIP, got, want)
			}
			s.check(t, tc.mode)
			if got := lab.ReadDisk(t, disk, lab.DiskTemplateOffset, len(s.template)); string(got) != s.template {
				t.Errorf("disk at 1 MiB = %q, want the template", got)
			}
			if gotHost, tmpl, err := lab.ReadInstalled(disk); err != nil || gotHost != host || string(tmpl) != s.template {
				t.Errorf("ReadInstalled = %q, %d bytes, %v; want %s and the template", gotHost, len(tmpl), err, host)
			}
			if got := lab.ReadDisk(t, disk, 0, 512); !bytes.Equal(got, lab.BootSector()) {
				t.Error("sector 0 is not the boot sector")
			}
		})
	}
}

// installServer stands in for the appliance: until the install has ended
// (done called, failure reported, or token revoked) its boot script boots
// the lab installer with provision.ks=BASE/ks/tok1; after, a script that
// echoes localBootMarker and exits, so that SeaBIOS boots the disk.
type installServer struct {
	base, kernel, initrd, host, mode string
	template                         string
	revokeAfter                      int
	log                              requestLog

	mu      sync.Mutex
	gets    int      // GETs of the template answered
	revoked bool     // the token is revoked: every /ks/tok1 URL is 404
	done    []string // methods of the accepted /done calls
	failed  []byte   // the body of POST /failed
	ended   bool
}

func (s *installServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boot.ipxe", s.script)
	for path, file := range map[string]string{"/vmlinuz": s.kernel, "/initrd.gz": s.initrd} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			s.log.add(r)
			http.ServeFile(w, r, file)
		})
	}
	mux.HandleFunc("GET /ks/tok1", s.ks)
	mux.HandleFunc("/ks/tok1/done", s.report)
	mux.HandleFunc("POST /ks/tok1/failed", s.report)
	return mux
}

func (s *installServer) script(w http.ResponseWriter, r *http.Request) {
	s.log.add(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		fmt.Fprintf(w, "#!ipxe\necho %s\nexit\n", localBootMarker)
		return
	}
	fmt.Fprintf(w, "#!ipxe\nkernel %s/vmlinuz provision.ks=%s/ks/tok1 console=ttyS0 panic=5 provision.host=%s provision.labmode=%s\ninitrd %s/initrd.gz\nboot\n",
		s.base, s.base, s.host, s.mode, s.base)
}

func (s *installServer) ks(w http.ResponseWriter, r *http.Request) {
	s.log.add(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked {
		http.NotFound(w, r)
		return
	}
	s.gets++
	if s.revokeAfter > 0 && s.gets >= s.revokeAfter {
		s.revoked, s.ended = true, true // the deadline: this is the last answer
	}
	io.WriteString(w, s.template)
}

func (s *installServer) report(w http.ResponseWriter, r *http.Request) {
	s.log.add(r)
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked {
		http.NotFound(w, r)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/done") {
		s.done = append(s.done, r.Method)
	} else {
		s.failed = body
	}
	s.ended = true
	io.WriteString(w, "ok\n")
}

// check compares what the installer reported with what its mode says.
func (s *installServer) check(t *testing.T, mode string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	wantDone := map[string]string{lab.ModeOK: "[POST]", lab.ModeFail: "[]", lab.ModeHang: "[]"}[mode]
	if got := fmt.Sprint(s.done); got != wantDone {
		t.Errorf("accepted /done calls %s, want %s", got, wantDone)
	}
	wantLog := mode == lab.ModeFail
	if got := bytes.Contains(s.failed, []byte("lab installer failed on purpose\n")); got != wantLog {
		t.Errorf("failure log reported: %v, want %v; body %q", got, wantLog, s.failed)
	}
}

// TestDebianInstaller checks that the real installer's files are what
// their names say: a bzImage kernel and a gzip initrd.
func TestDebianInstaller(t *testing.T) {
	kernel, initrd := lab.DebianInstaller(t)
	for _, tc := range []struct {
		file  string
		off   int64
		magic string
	}{
		{kernel, 0x202, "HdrS"}, // the x86 boot protocol's header signature
		{initrd, 0, "\x1f\x8b"},
	} {
		if got := lab.ReadDisk(t, tc.file, tc.off, len(tc.magic)); string(got) != tc.magic {
			t.Errorf("%s: %q at %#x, want %q", tc.file, got, tc.off, tc.magic)
		}
	}
}

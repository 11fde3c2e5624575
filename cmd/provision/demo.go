package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/internal/lab"
	"github.com/provision/provision/registry"
	"github.com/provision/provision/roles"
)

func newDemo() *cobra.Command {
	c := &cobra.Command{
		Use:   "demo [--once] [--accel auto|kvm|tcg]",
		Short: "Run the demo lab: a diskless LVS host and an installed host boot as VMs from the appliance",
		Long: `Run the demo lab (as root): a private network namespace with a bridge, the
appliance in it (DHCP, TFTP, HTTP, DNS on the bridge), and two QEMU VMs that
network-boot from it:
  lvs01  diskless: the busybox LVS role, booted into tmpfs; its boot hook
         writes keepalived.conf from its settings (read offline from
         data.cdb), then reads lvs.vrid again over the appliance's DNS
  web01  installed: the lab installer fetches its template, writes the
         disk and reports done; the next boot is from the disk
The live view prints every boot event as it happens, then the keepalived.conf
lines that lvs01 wrote, read back from its console, and web01 reaching
"installed". Ctrl-C, or the end with --once, removes every namespace, tap,
process and file the demo made.

It uses KVM when a short probe boot under KVM works (it does not on every
machine with /dev/kvm), TCG otherwise, and says which. It needs the Debian
packages qemu-system-x86, ipxe-qemu, busybox-static, iproute2, and apt (it
downloads the current Debian kernel package once, into
/var/cache/provision-lab), and a static zonecfg next to this program
(CGO_ENABLED=0 go build). scripts/demo installs them, builds, and runs it.`,
		Args: args(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			once, _ := c.Flags().GetBool("once")
			accel, _ := c.Flags().GetString("accel")
			timeout, _ := c.Flags().GetDuration("timeout")
			verbose, _ := c.Flags().GetBool("verbose")
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, c.OutOrStdout(), demoOptions{once: once, accel: accel, timeout: timeout, verbose: verbose})
		},
	}
	c.Flags().Bool("once", false, "boot both VMs, check what they did, clean up and exit (0: all went as expected)")
	c.Flags().String("accel", "auto", "auto (KVM if a probe boot works), kvm or tcg")
	c.Flags().Duration("timeout", 10*time.Minute, "how long the VMs have to get there")
	c.Flags().Bool("verbose", false, "also print the lab's own log")
	return c
}

type demoOptions struct {
	once    bool
	accel   string
	timeout time.Duration
	verbose bool
}

// errDemo is what a failed demo returns: what failed is printed already.
var errDemo = errors.New("the demo did not complete")

// demoAbort is the panic a demoT's Fatalf raises; runDemo recovers it.
type demoAbort struct{}

// demoT gives internal/lab, written for tests, what it calls on its
// testing.TB: logging, failure and cleanups, outside a test. The embedded
// TB is nil; lab calls none of its other methods.
type demoT struct {
	testing.TB
	ctx      context.Context
	out      io.Writer
	verbose  bool
	root     string
	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

func (d *demoT) Helper()                  {}
func (d *demoT) Name() string             { return "demo" }
func (d *demoT) Context() context.Context { return d.ctx }
func (d *demoT) Logf(f string, a ...any) {
	if d.verbose {
		fmt.Fprintf(d.out, "  lab: "+f+"\n", a...)
	}
}
func (d *demoT) Log(a ...any) { d.Logf("%s", fmt.Sprint(a...)) }
func (d *demoT) Errorf(f string, a ...any) {
	d.mu.Lock()
	d.failed = true
	d.mu.Unlock()
	fmt.Fprintf(d.out, "demo: "+f+"\n", a...)
}
func (d *demoT) Error(a ...any)            { d.Errorf("%s", fmt.Sprint(a...)) }
func (d *demoT) Fatalf(f string, a ...any) { d.Errorf(f, a...); panic(demoAbort{}) }
func (d *demoT) Fatal(a ...any)            { d.Fatalf("%s", fmt.Sprint(a...)) }
func (d *demoT) FailNow()                  { panic(demoAbort{}) }
func (d *demoT) Skipf(f string, a ...any)  { d.Fatalf(f, a...) } // a missing prerequisite ends the demo
func (d *demoT) Skip(a ...any)             { d.Fatal(a...) }
func (d *demoT) SkipNow()                  { d.FailNow() }
func (d *demoT) Failed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failed
}
func (d *demoT) Cleanup(f func()) {
	d.mu.Lock()
	d.cleanups = append(d.cleanups, f)
	d.mu.Unlock()
}
func (d *demoT) TempDir() string {
	dir, err := os.MkdirTemp(d.root, "")
	if err != nil {
		d.Fatalf("%v", err)
	}
	return dir
}

// cleanup runs the cleanups, last first, as a test's end does.
func (d *demoT) cleanup() {
	d.mu.Lock()
	fs := d.cleanups
	d.cleanups = nil
	d.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	os.RemoveAll(d.root)
}

// The demo's machines.
const (
	demoLVSMAC  = "52:54:00:de:00:01"
	demoWebMAC  = "52:54:00:de:00:02"
	demoProbeMC = "52:54:00:de:00:0f"
)

const demoTemplate = `# provision demo: what the lab installer writes to {{.System.Name}}'s disk
host={{.System.Name}} ip={{.System.IP}}/{{.System.Prefix}} mac={{.System.MAC}}
role={{index .Settings "role" | default "none"}} disk={{.Settings.disk}}
`

func runDemo(ctx context.Context, out io.Writer, o demoOptions) (err error) {
	if os.Geteuid() != 0 {
		return fmt.Errorf("provision demo needs root: it creates network namespaces, a bridge and taps")
	}
	root, err := os.MkdirTemp("", "provision-demo-")
	if err != nil {
		return err
	}
	d := &demoT{ctx: ctx, out: out, verbose: o.verbose, root: root}
	defer func() {
		fmt.Fprintln(out, "demo: cleaning up (VMs, namespaces, taps, files)")
		d.cleanup()
	}()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(demoAbort); !ok {
				panic(r)
			}
			err = errDemo
		}
	}()
	start := time.Now()
	say := func(f string, a ...any) {
		fmt.Fprintf(out, "[%5.1fs] "+f+"\n", append([]any{time.Since(start).Seconds()}, a...)...)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	// The appliance the demo starts takes this zonecfg (no --zonecfg).
	z, err := zonecfgPath("")
	if err == nil {
		err = bootenv.Static(z)
	}
	if err != nil {
		return fmt.Errorf("the boot environment needs a static zonecfg next to %s or on PATH (CGO_ENABLED=0 go build -o %s ./cmd/zonecfg): %w",
			exe, filepath.Join(filepath.Dir(exe), "zonecfg"), err)
	}

	say("building the boot files (the Debian kernel package is downloaded once, into /var/cache/provision-lab)")
	deb := lab.KernelPackage(d)
	instKernel, instInitrd := lab.InstallerAssets(d)
	probeKernel, probeInitrd := lab.Assets(d)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox-static: %w", err)
	}
	rootfs, err := roles.BusyboxRootfs(bb, roles.LVS())
	if err != nil {
		return err
	}
	work := d.TempDir()
	for name, data := range map[string][]byte{"lvs.tar.gz": rootfs, "demo-install": []byte(demoTemplate)} {
		if err := os.WriteFile(filepath.Join(work, name), data, 0o644); err != nil {
			return err
		}
	}

	n := lab.NewNet(d, "demo")
	server := n.ServerIP.String()
	data := d.TempDir()
	app := n.Exec(d, exe, "serve", "--data", data, "--zone", "demo", "--address", server,
		"--http", server+":80", "--dns", server+":53", "--tftp", server+":69", "--dhcp-interface", lab.ServerIface)
	if _, err := app.WaitFor(regexp.MustCompile(`msg=ready`), time.Minute); err != nil {
		return fmt.Errorf("the appliance did not start: %w", err)
	}
	tok, err := os.ReadFile(filepath.Join(data, "token"))
	if err != nil {
		return err
	}
	// query runs the CLI against the appliance; cli ends the demo on an
	// error, and is only for the main goroutine.
	query := func(args ...string) (string, error) {
		cmd := n.Command(append([]string{exe}, args...)...)
		cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+server, "PROVISION_TOKEN="+strings.TrimSpace(string(tok)))
		b, err := cmd.CombinedOutput()
		if err != nil {
			return string(b), fmt.Errorf("provision %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b), nil
	}
	cli := func(args ...string) string {
		out, err := query(args...)
		if err != nil {
			d.Fatalf("%v", err)
		}
		return out
	}
	say("appliance up at %s in namespace %s (bridge in %s)", server, n.ServerNS, n.BridgeNS)

	cli("subnet", "add", "demo", "--cidr", n.Prefix.String())
	cli("setting", "set", "net.private", "192.168.0.0/20")
	cli("setting", "set", "lvs.vrid", "50")
	cli("image", "add", "lvs", "--kind", "diskless", "--kernel-package", deb, "--rootfs", filepath.Join(work, "lvs.tar.gz"))
	cli("image", "add", "installer", "--kernel", instKernel, "--initrd", instInitrd)
	cli("template", "add", "demo-install", "--kind", "script", "--file", filepath.Join(work, "demo-install"))
	cli("profile", "add", "lvs", "--image", "lvs", "--set", "role=lvs", "--kernel-args", "console=ttyS0 panic=10")
	cli("profile", "add", "web", "--image", "installer", "--kickstart", "demo-install", "--set", "role=web", "--set", "disk=vda",
		"--kernel-args", "console=ttyS0 panic=5")
	cli("system", "add", "lvs01", "--mac", demoLVSMAC, "--ip", n.Addr(10).String(), "--profile", "lvs", "--set", "lvs.vrid=100")
	cli("system", "add", "web01", "--mac", demoWebMAC, "--ip", n.Addr(11).String(), "--profile", "web")
	say("registered lvs01 (diskless, role lvs, its own lvs.vrid=100) and web01 (installs from template demo-install)")

	accel := chooseAccel(d, n, cli, o.accel, probeKernel, probeInitrd, say)

	follow := n.Command(exe, "events", "--follow")
	follow.Env = append(os.Environ(), "PROVISION_SERVER=http://"+server, "PROVISION_TOKEN="+strings.TrimSpace(string(tok)))
	pipe, err := follow.StdoutPipe()
	if err != nil {
		return err
	}
	if err := follow.Start(); err != nil {
		return err
	}
	d.Cleanup(func() { follow.Process.Kill(); follow.Wait() })
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			say("  %s", sc.Text())
		}
	}()

	vmLife := o.timeout
	if !o.once {
		vmLife = 24 * time.Hour
	}
	lvs := lab.BootVMWith(d, n, demoLVSMAC, vmLife, lab.VMOptions{MemoryMiB: 384, Accel: accel})
	disk := lab.NewDisk(d, 64)
	web := lab.BootVMWith(d, n, demoWebMAC, vmLife, lab.VMOptions{Disk: disk, Reboot: true, DebugExit: true, Accel: accel})
	say("lvs01 and web01 powered on (QEMU, %s)", accel)

	deadline := time.Now().Add(o.timeout)
	var wg sync.WaitGroup
	var lvsErr, webErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		lvsErr = watchLVS(lvs, deadline, say)
	}()
	go func() {
		defer wg.Done()
		webErr = watchWeb(ctx, web, query, deadline, say)
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		say("interrupted")
		return nil
	}
	if lvsErr != nil || webErr != nil {
		for _, e := range []error{lvsErr, webErr} {
			if e != nil {
				say("FAILED: %v", e)
			}
		}
		return errDemo
	}
	say("lvs01 booted diskless and web01 is installed: the demo went as expected")
	fmt.Fprint(out, cli("system", "list"))
	if o.once {
		return nil
	}
	say("the lab stays up (lvs01 keeps running) until Ctrl-C")
	<-ctx.Done()
	return nil
}

// chooseAccel picks KVM when asked, or (auto) when a short network boot of
// the lab's marker initramfs under KVM works: /dev/kvm can exist and still
// fail in iPXE's real-mode code.
func chooseAccel(d *demoT, n *lab.Net, cli func(...string) string, want, kernel, initrd string, say func(string, ...any)) string {
	switch want {
	case "kvm", "tcg":
		say("accelerator: %s (--accel)", want)
		return want
	case "auto":
	default:
		d.Fatalf("--accel %q: want auto, kvm or tcg", want)
	}
	if _, err := os.Stat("/dev/kvm"); err != nil {
		say("accelerator: TCG (no /dev/kvm)")
		return "tcg"
	}
	cli("image", "add", "kvm-probe", "--kernel", kernel, "--initrd", initrd)
	cli("profile", "add", "kvm-probe", "--image", "kvm-probe", "--kernel-args", "console=ttyS0 panic=5")
	cli("system", "add", "kvm-probe", "--mac", demoProbeMC, "--ip", n.Addr(250).String(), "--profile", "kvm-probe")
	defer func() {
		cli("system", "remove", "kvm-probe")
		cli("profile", "remove", "kvm-probe")
		cli("image", "remove", "kvm-probe")
	}()
	vm := lab.BootVMWith(d, n, demoProbeMC, 40*time.Second, lab.VMOptions{Accel: "kvm"})
	host, err := vm.WaitBooted(30 * time.Second)
	vm.Stop()
	if err == nil && host == "kvm-probe" {
		say("accelerator: KVM (a probe boot under KVM took %.1fs)", time.Since(vm.Started).Seconds())
		return "kvm"
	}
	say("accelerator: TCG (a probe boot under KVM did not finish: %v)", err)
	return "tcg"
}

// watchLVS waits for lvs01's role to come up and prints the
// keepalived.conf lines its hook wrote.
func watchLVS(vm *lab.VM, deadline time.Time, say func(string, ...any)) error {
	conf := regexp.MustCompile(`keepalived\.conf: .*`)
	for _, want := range []struct{ what, re string }{
		{"keepalived.conf with its own virtual_router_id", `keepalived\.conf: +virtual_router_id 100`},
		{"lvs.vrid over live DNS", `lvs\.vrid over DNS: 100`},
		{"data.cdb deleted", roles.CDBMarker + ` absent`},
		{"the role up", roles.UpMarker},
	} {
		if _, err := vm.WaitFor(regexp.MustCompile(want.re), time.Until(deadline)); err != nil {
			return fmt.Errorf("lvs01: %s: %w", want.what, err)
		}
	}
	say("lvs01 wrote, at boot, from its settings (read back from its console):")
	for _, l := range vm.Lines() {
		if m := conf.FindString(l); m != "" {
			say("  lvs01 | %s", m)
		}
	}
	say("lvs01 read lvs.vrid=100 again over DNS, deleted data.cdb and is up")
	return nil
}

// watchWeb waits for web01 to be installed and to boot its disk.
func watchWeb(ctx context.Context, vm *lab.VM, query func(...string) (string, error), deadline time.Time, say func(string, ...any)) error {
	for time.Now().Before(deadline) {
		out, err := query("system", "show", "web01", "--json")
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		var sys registry.System
		json.Unmarshal([]byte(out), &sys)
		if sys.Status == registry.StateInstalled {
			say("web01 is %s", sys.Status)
			break
		}
		if sys.Status == registry.StateFailed {
			return fmt.Errorf("web01: its build failed")
		}
		time.Sleep(time.Second)
	}
	if err := vm.WaitDiskBooted(time.Until(deadline)); err != nil {
		return fmt.Errorf("web01: %w", err)
	}
	say("web01 booted from its disk")
	return nil
}

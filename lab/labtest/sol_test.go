package labtest_test

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/provision/provision/console"
	"github.com/provision/provision/internal/testenv"
	lab "github.com/provision/provision/lab/labtest"
)

// solTimeout bounds one boot seen through SOL (the kernel and the
// installer's /init up to its shell; ~20 s under TCG on an idle machine).
const solTimeout = 4 * time.Minute

// TestSOLConsole proves a PoweredVM's serial-over-LAN with the real
// parts. The VM's only console is its serial port, carried by its BMC
// (ipmi_sim's SOL); it boots the lab installer directly (no network boot)
// with provision.labshell=1, so it ends in the installer's shell. The BMC
// powers it on through ipmitool, and package console's Manager, running
// the real ipmitool's sol activate, records the kernel's and the
// installer's lines. After a power cycle the second boot's lines arrive
// on the same session (the relay joined the new QEMU), and Attach types a
// line into the shell and reads the answer.
func TestSOLConsole(t *testing.T) {
	testenv.NeedRoot(t)
	kernel, initrd := lab.InstallerAssets(t)
	n := lab.NewNet(t, "sol")
	const system, mac, password = "solvm", "52:54:00:50:4f:4c", "sol-secret"
	vm := lab.NewPoweredVMWith(t, n, mac, password, lab.VMOptions{
		Kernel: kernel, Initrd: initrd, Append: "console=ttyS0 panic=5 provision.host=" + system + " " + lab.LabShellArg,
	}, lab.BMCOptions{SOL: true})

	m := console.NewManager(console.ManagerConfig{Dir: t.TempDir(), Ipmitool: n.ToolIn(t, "ipmitool"),
		MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second})
	t.Cleanup(func() { m.Close() })
	bmc := console.BMC{Address: vm.BMC.Address, Port: vm.BMC.Port, User: vm.BMC.User, Password: vm.BMC.Password}
	if err := m.Capture(system, bmc); err != nil {
		t.Fatal(err)
	}
	waitState(t, m, system, console.StateOpen, 30*time.Second)

	boot := func(name string, power ...string) {
		t.Helper()
		start := time.Now()
		if out, err := vm.BMC.IPMItool(append([]string{"chassis", "power"}, power...)...); err != nil {
			t.Fatalf("ipmitool chassis power %v: %v: %s", power, err, out)
		}
		for _, s := range []stage{
			{"the kernel", `Linux version \d`},
			{"/init runs", regexp.QuoteMeta(lab.BootedMarker) + ` host=` + system + `$`},
			{"the installer", regexp.QuoteMeta(lab.InstallerMarker) + ` url= mode=ok$`},
			{"no template to fetch", regexp.QuoteMeta(lab.FetchFailedMarker) + ` status=none`},
			{"the installer's shell", regexp.QuoteMeta(lab.ShellMarker) + `$`},
		} {
			at := waitConsoleLine(t, m, system, start, regexp.MustCompile(s.pattern), solTimeout-time.Since(start))
			t.Logf("%s: %5.1fs %s (through SOL)", name, at.Sub(start).Seconds(), s.name)
		}
	}
	boot("power on", "on")
	boot("power cycle", "cycle")
	if got := vm.String(); got != "" {
		t.Errorf("a SOL VM's Transcript = %q, want it empty", got)
	}

	// An operator types into the shell and reads the answer; it is
	// recorded too.
	typed := time.Now()
	in, typing := io.Pipe()
	out := &testenv.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var attachErr error
	wg.Go(func() { attachErr = m.Attach(ctx, system, in, out) })
	answer := regexp.MustCompile(`(?m)^provision-42\r?$`)
	io.WriteString(typing, "echo provision-$((6*7))\n")
	for !answer.MatchString(out.String()) {
		if ctx.Err() != nil {
			t.Fatalf("attach: no answer within a minute; it printed %q", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("attach: the answer in %.2fs", time.Since(typed).Seconds())
	typing.Close()
	wg.Wait()
	if attachErr != nil {
		t.Errorf("Attach = %v, want nil when its input ends", attachErr)
	}
	waitConsoleLine(t, m, system, typed, regexp.MustCompile(`^provision-42$`), 10*time.Second)
}

// waitState waits for system's session to reach state.
func waitState(t *testing.T, m *console.Manager, system string, state console.State, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(100 * time.Millisecond) {
		st, err := m.Status(system)
		if err == nil && st.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("session of %s: %+v, %v; want state %s", system, st, err, state)
		}
	}
}

// waitConsoleLine waits for a line of system's recorded console, since
// a time, that matches re once cleaned (console.Clean), and returns when
// it arrived.
func waitConsoleLine(t *testing.T, m *console.Manager, system string, since time.Time, re *regexp.Regexp, timeout time.Duration) time.Time {
	t.Helper()
	var lines []console.Line
	for deadline := time.Now().Add(timeout); ; time.Sleep(200 * time.Millisecond) {
		var err error
		if lines, err = m.Lines(system, since); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if re.MatchString(console.Clean(l.Text)) {
				return l.At
			}
		}
		if time.Now().After(deadline) {
			break
		}
	}
	var all bytes.Buffer
	for _, l := range lines {
		all.WriteString(console.Clean(l.Text) + "\n")
	}
	st, _ := m.Status(system)
	t.Fatalf("no console line matching %q within %s (session %+v); recorded:\n%s", re, timeout, st, all.String())
	return time.Time{}
}

// TestPoweredVMTranscript is TestSOLConsole's boot without SOL: the
// serial port goes to a file that the PoweredVM's Transcript tails, as
// before SOL existed, and the installer's shell marker arrives there.
func TestPoweredVMTranscript(t *testing.T) {
	testenv.NeedRoot(t)
	kernel, initrd := lab.InstallerAssets(t)
	n := lab.NewNet(t, "tscript")
	vm := lab.NewPoweredVM(t, n, "52:54:00:50:4f:4d", "pw", lab.VMOptions{
		Kernel: kernel, Initrd: initrd, Append: "console=ttyS0 panic=5 " + lab.LabShellArg,
	})
	start := time.Now()
	if out, err := vm.BMC.IPMItool("chassis", "power", "on"); err != nil {
		t.Fatalf("power on: %v: %s", err, out)
	}
	for _, re := range []string{`Linux version \d`, regexp.QuoteMeta(lab.ShellMarker) + `$`} {
		if _, err := vm.WaitFor(regexp.MustCompile(re), solTimeout-time.Since(start)); err != nil {
			t.Fatalf("Transcript: %v", err)
		}
	}
	t.Logf("power on to the installer's shell: %.1fs", time.Since(start).Seconds())
}

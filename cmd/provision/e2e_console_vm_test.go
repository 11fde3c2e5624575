package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	lab "github.com/provision/provision/lab/labtest"
)

// The console of a remote reinstall, as an operator sees it when a build
// fails. The VM's only console is its serial port, carried by its BMC's
// serial-over-LAN (OpenIPMI's ipmi_sim, whose power on starts QEMU): no
// test reads the VM's screen, everything below comes through the
// appliance.
//   - `provision console vm --follow`, started before the reinstall, prints
//     the kernel's and the installer's lines as the VM boots;
//   - the dashboard's host page shows them live, in Chromium (the delay
//     from the VM's serial port to the page is logged: the lab's probe on
//     the serial wire, lab.PoweredVM.Wire, gives when each line was sent);
//   - the installer fails on purpose: its error line is in `system status`
//     and in history, beside the failure;
//   - `provision console vm --attach` types a line into the installer's
//     shell and reads the answer; a viewer may follow but not attach.
func TestVMConsole(t *testing.T) {
	defer parallel(t)()
	os.Setenv("LAB_BMC_PW", labBMCPassword) // the same for every test that reads it
	n, tok, cliFor := installLabToken(t, "10m")
	cli := cliFor(t)
	const name, mac = "console-vm", "52:54:00:12:38:01"
	cli("profile", "add", "lab-console", "--image", "labinst", "--kickstart", "lab-install", "--on-failure", "keep",
		"--kernel-args", "console=ttyS0 panic=5 provision.labmode="+lab.ModeFail+" provision.labshell=1", "--set", "disk=vda")
	vm := lab.NewPoweredVMWith(t, n, mac, labBMCPassword, lab.VMOptions{Disk: lab.NewDisk(t, 8), Reboot: true}, lab.BMCOptions{SOL: true})
	cli("system", "add", name, "--mac", mac, "--ip", n.Addr(95).String(), "--profile", "lab-console",
		"--bmc-address", vm.BMC.Address, "--bmc-port", fmt.Sprint(vm.BMC.Port), "--bmc-user", "admin", "--bmc-password-env", "LAB_BMC_PW")

	follow := startConsole(t, n, tok, name, "--follow")
	page := dashboardConsole(t, "http://"+n.Forward(t, n.ServerIP.String()+":80"), tok, name)
	start := time.Now()
	cli("system", "reinstall", name)
	for _, s := range []vmStage{
		{"the kernel", `Linux version`},
		{"the installer", regexp.QuoteMeta(lab.InstallerMarker) + ` url=http://`},
		{"the installer's error", `PROVISION-LAB-ERROR installer failed on purpose`},
		{"the failure reported", regexp.QuoteMeta(lab.FailedReportedMarker) + ` status=200`},
		{"the installer's shell", `PROVISION-LAB-SHELL`},
	} {
		if _, err := follow.WaitLine(regexp.MustCompile(s.pattern), 4*time.Minute-time.Since(start)); err != nil {
			t.Fatalf("console --follow: %s: %v\nprinted:\n%s", s.name, err, follow)
		}
		t.Logf("%5.1fs %s", time.Since(start).Seconds(), s.name)
	}
	// The same lines on the dashboard's host page, live.
	for _, s := range []vmStage{
		{"the kernel", `Linux version`},
		{"the installer", regexp.QuoteMeta(lab.InstallerMarker) + ` url=http://\S+/ks/BUILD-TOKEN`},
		{"the installer's error", `PROVISION-LAB-ERROR installer failed on purpose`},
	} {
		shown, err := page.WaitLine(regexp.MustCompile(s.pattern), time.Minute)
		if err != nil {
			t.Fatalf("dashboard: %s: %v", s.name, err)
		}
		// The wire carries the token the page does not show.
		if sent, ok := vm.Wire.When(regexp.MustCompile(strings.ReplaceAll(s.pattern, "BUILD-TOKEN", "[0-9a-f]{32}"))); ok {
			t.Logf("dashboard: %s, %.0f ms after the VM's serial port", s.name, float64(shown.Sub(sent).Microseconds())/1000)
		}
	}

	// The failure carries the console's last lines: on the timeline
	// (system status) and in history.
	waitFor(t, 30*time.Second, func() bool { return statusOf(t, cli, name).Status == "failed" })
	var status string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if status = cli("system", "status", name); strings.Contains(status, "installer failed on purpose") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("system status shows no console line of the failure:\n%s", status)
		}
	}
	t.Logf("system status:\n%s", status)
	if h := cli("history", name); !strings.Contains(h, "PROVISION-LAB-ERROR installer failed on purpose") {
		t.Fatalf("history has no console line of the failure:\n%s", h)
	}

	// A viewer reads the console but may not type into it.
	cli("user", "add", "vera", "--role", "viewer")
	viewer := apiTokenIn(t, cli("token", "create", "--user", "vera"))
	// The build's token, which the kernel and the installer print, is not
	// shown to anyone reading the console.
	r := consoleCLI(t, n, viewer, "", "console", name, "--lines", "200")
	if r.err != nil || !strings.Contains(r.out, "PROVISION-LAB-ERROR") || !strings.Contains(r.out, "/ks/BUILD-TOKEN") {
		t.Fatalf("a viewer's console: %v\n%s", r.err, r.out)
	}
	if tok := regexp.MustCompile(`/ks/[0-9a-f]{32}`); tok.MatchString(r.out) || tok.MatchString(cli("history", name)) {
		t.Fatalf("a build token is shown:\n%s\n%s", r.out, cli("history", name))
	}
	if r := consoleCLI(t, n, viewer, "", "console", name, "--attach"); r.err == nil || !strings.Contains(r.out, "console right") {
		t.Fatalf("a viewer attached: %v\n%s", r.err, r.out)
	}

	// The operator's attach: a line typed into the shell, its answer read.
	at := startConsole(t, n, tok, name, "--attach")
	at.Type("echo provision-$((6*7))\n")
	if _, err := at.WaitLine(regexp.MustCompile(`^provision-42\s*$`), time.Minute); err != nil {
		t.Fatalf("attach: %v\nprinted:\n%s", err, at)
	}
	// The delay from the VM's serial port to the dashboard, line by line:
	// ten lines a third of a second apart.
	at.Type("for i in 1 2 3 4 5 6 7 8 9 10; do echo tick-$i; sleep 0.3; done\n")
	var delays []time.Duration
	for i := 1; i <= 10; i++ {
		re := regexp.MustCompile(fmt.Sprintf(`^tick-%d\s*$`, i))
		shown, err := page.WaitLine(re, time.Minute)
		if err != nil {
			t.Fatalf("dashboard: tick-%d: %v", i, err)
		}
		sent, ok := vm.Wire.When(re)
		if !ok {
			t.Fatalf("tick-%d shown on the dashboard, never sent by the VM", i)
		}
		delays = append(delays, shown.Sub(sent))
	}
	slices.Sort(delays)
	t.Logf("serial port to dashboard, 10 lines: min %v, median %v, max %v", delays[0].Round(time.Millisecond),
		delays[len(delays)/2].Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond))
	at.Type("\x1d.") // Ctrl-] then '.': detach
	if err := at.Wait(10 * time.Second); err != nil {
		t.Fatalf("detaching: %v\nprinted:\n%s", err, at)
	}
	// The follower prints each line after its time ("08:35:16.233  text").
	if _, err := follow.WaitLine(regexp.MustCompile(`^[0-9:.]+\s+provision-42\s*$`), 10*time.Second); err != nil {
		t.Fatalf("the follower did not see the attached operator's answer: %v", err)
	}
	if h := cli("history", name); !strings.Contains(h, "attached") {
		t.Fatalf("history does not say who attached:\n%s", h)
	}
	follow.Stop()
}

// apiTokenIn finds the API token in token create's output.
func apiTokenIn(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`prv_[A-Za-z0-9_-]+`).FindString(out)
	if m == "" {
		t.Fatalf("no token in:\n%s", out)
	}
	return m
}

// waitFor polls cond every half second until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s", timeout)
		}
	}
}

type cliResult struct {
	out string
	err error
}

// consoleCLI runs the CLI once in the lab's server namespace with token
// and stdin, and returns what it printed and how it ended.
func consoleCLI(t *testing.T, n *lab.Net, token, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := n.CommandContext(ctx, append([]string{cli}, args...)...)
	cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+n.ServerIP.String(), "PROVISION_TOKEN="+token)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return cliResult{string(out), err}
}

// consoleProc is a running `provision console` (follow or attach): its
// output lines with the time each was read.
type consoleProc struct {
	t      *testing.T
	cmd    interface{ Wait() error }
	stdin  io.WriteCloser
	cancel context.CancelFunc
	done   chan error

	mu    sync.Mutex
	lines []string
	times []time.Time
	more  chan struct{}
}

func startConsole(t *testing.T, n *lab.Net, token, system string, args ...string) *consoleProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := n.CommandContext(ctx, append([]string{cli, "console", system}, args...)...)
	cmd.Env = append(os.Environ(), "PROVISION_SERVER=http://"+n.ServerIP.String(), "PROVISION_TOKEN="+token)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	p := &consoleProc{t: t, cmd: cmd, stdin: stdin, cancel: cancel, done: make(chan error, 1), more: make(chan struct{}, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sc.Split(scanConsoleLines)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.times = append(p.times, time.Now())
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(p.Stop)
	return p
}

// scanConsoleLines splits on \n, \r\n and a lone \r, as the console does.
func scanConsoleLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, c := range data {
		if c == '\n' {
			return i + 1, []byte(strings.TrimSuffix(string(data[:i]), "\r")), nil
		}
		if c == '\r' && i+1 < len(data) && data[i+1] != '\n' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// WaitLine waits for a line matching re (any line printed so far counts)
// and returns when it was read.
func (p *consoleProc) WaitLine(re *regexp.Regexp, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		for i, l := range p.lines {
			if re.MatchString(l) {
				at := p.times[i]
				p.mu.Unlock()
				return at, nil
			}
		}
		p.mu.Unlock()
		select {
		case <-p.more:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			return time.Time{}, fmt.Errorf("no line matching %q in %s", re, timeout)
		}
	}
}

// Type writes s to the CLI's standard input.
func (p *consoleProc) Type(s string) {
	if _, err := io.WriteString(p.stdin, s); err != nil {
		p.t.Fatalf("typing %q: %v", s, err)
	}
}

// Wait waits up to timeout for the CLI to exit by itself.
func (p *consoleProc) Wait(timeout time.Duration) error {
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		return fmt.Errorf("still running after %s", timeout)
	}
}

// Stop ends the CLI.
func (p *consoleProc) Stop() { p.cancel() }

func (p *consoleProc) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

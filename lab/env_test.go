package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// testEnv returns an Env that t's end closes, its files in t.TempDir().
func testEnv(t testing.TB) *Env {
	t.Helper()
	e, err := New(context.Background(), Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// check fails t on err; a missing prerequisite skips it instead, or
// fails it under CI (testenv.Missing), as lab/labtest does.
func check(t testing.TB, err error) {
	t.Helper()
	var m *MissingError
	switch {
	case errors.As(err, &m):
		testenv.Missing(t, m.Error())
	case err != nil:
		t.Fatal(err)
	}
}

func TestEnvClose(t *testing.T) {
	e, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	for i := range 3 {
		e.Defer(func() { order = append(order, i) })
	}
	dir, err := e.TempDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[2 1 0]" {
		t.Errorf("cleanups ran in order %v, want last first", order)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the Env's own temporary directory is still there: %v", err)
	}
	e.Defer(func() { order = append(order, 3) })
	if fmt.Sprint(order) != "[2 1 0 3]" {
		t.Errorf("a cleanup deferred after Close did not run at once: %v", order)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestEnvKeepsCallersDir: a TempDir given in Options is the caller's.
func TestEnvKeepsCallersDir(t *testing.T) {
	root := t.TempDir()
	e, err := New(context.Background(), Options{TempDir: root})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if _, err := os.Stat(root); err != nil {
		t.Errorf("Close removed the caller's directory: %v", err)
	}
}

// TestEnvStopsProcs: cancelling an Env's context stops what it started,
// and so does Close.
func TestEnvStopsProcs(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		testenv.Missing(t, "sleep is not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := New(ctx, Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, err := e.start("a", 0, sleep, "600")
	check(t, err)
	cancel()
	if err := a.Wait(2 * stopGrace); err == nil {
		t.Error("sleep 600 exited with status 0 after its context ended")
	}
	e = testEnv(t)
	b, err := e.start("b", 0, sleep, "600")
	check(t, err)
	e.Close()
	if err := b.Wait(time.Second); err == nil {
		t.Error("sleep 600 exited with status 0 after Close")
	}
	if got := e.Procs(); len(got) != 1 || got[0] != b {
		t.Errorf("Procs = %v, want [b]", got)
	}
}

// TestProcRestart: a Proc with a restart runs again, into the same
// transcript, each time it exits with status 0 and restart says so;
// rebooted (a UEFI VM's restart) stops at the kernel's "Power down".
func TestProcRestart(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		testenv.Missing(t, "sh is not installed")
	}
	runs := 0
	p, err := testEnv(t).startWith("sh", time.Minute, func(p *Proc) bool { runs++; return runs < 3 }, sh, "-c", "echo run")
	check(t, err)
	if err := p.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Lines(), " "); got != "run run run" || runs != 3 {
		t.Errorf("transcript %q after %d restart questions, want 3 runs", got, runs)
	}
	// A failure is not restarted.
	p, err = testEnv(t).startWith("sh", time.Minute, func(*Proc) bool { return true }, sh, "-c", "echo failed; exit 3")
	check(t, err)
	if err := p.Wait(30 * time.Second); err == nil || len(p.Lines()) != 1 {
		t.Errorf("exit 3: %v, transcript %q", err, p.Lines())
	}
	for text, want := range map[string]bool{
		"[  344.694108] reboot: Restarting system\n[  344.694296] reboot: machine restart\n": true,
		"provision: halted\n[   12.5] reboot: Power down\n":                                  false,
		"BdsDxe: loading Boot0001\n":                                                         true,
	} {
		p, err := testEnv(t).start("sh", time.Minute, sh, "-c", "printf '"+text+"'")
		check(t, err)
		p.Wait(30 * time.Second)
		if got := rebooted(p); got != want {
			t.Errorf("rebooted after %q = %v, want %v", text, got, want)
		}
	}
}

func TestMissingError(t *testing.T) {
	_, err := needCommand("provision-lab-no-such-program", "provision-lab-pkg")
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("needCommand: %v, not ErrMissing", err)
	}
	var m *MissingError
	if !errors.As(fmt.Errorf("booting: %w", err), &m) || m.Fix != "apt-get install provision-lab-pkg" {
		t.Fatalf("errors.As: %v", err)
	}
	qemu := &MissingError{Reason: "qemu-system-x86_64 is not installed", Fix: "apt-get install qemu-system-x86"}
	if got, want := qemu.Error(), "lab: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if errors.Is(errors.New("other"), ErrMissing) {
		t.Error("any error is ErrMissing")
	}
}
